"""Approach 1 (envelope of training curves) on real loss curves: GPT-3, Pythia, and the bundled tiny-LM ladder.

Data: ``shared/data/hitchhiker/derived/loss_curves_unified.csv`` (IBM ColPret's
collection: GPT-3 validation curves digitised from the GPT-3 paper, 8 sizes,
300B tokens each; Pythia-deduped, 8 sizes, 26 checkpoints each) and ``scalinglab.datasets.load("tinylm")`` when it
is present in this build.  C = 6ND per checkpoint.

Method (``scalinglab.plan.envelope``): each run's curve interpolated in (log C, log L)
on 250 log-spaced compute values; the lowest loss at each compute gives N*(C) and
D*(C); power laws fitted over the points covered by >= 2 runs; 90% intervals from
1,000 bootstrap resamples of the runs.  Reference: Hoffmann et al. 2022, approach 1:
a = 0.50 (0.488-0.502); Kaplan et al. 2020: 0.73.

A synthetic control: curves drawn from Hoffmann's fitted surface (no schedule
effects), 13 sizes 1e7-1e10, where the true frontier exponent is 0.4516.

Speed baseline, same process: the bootstrap as one masked argmin over all resamples
vs one envelope + regression per resample in a Python loop.

Run:  python bench/planning_envelope.py
Writes bench/results/planning_envelope.{json,md}.
"""

from __future__ import annotations

import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scalinglab as sl
from scalinglab import plan

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCALINGLAB_SHARED", ROOT.parent / "shared"))
CURVES = SHARED / "data" / "hitchhiker" / "derived" / "loss_curves_unified.csv"
OUT = ROOT / "bench" / "results"
H = dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28)


def family(d, name, scaled_set=None):
    d = d[d["family"] == name]
    if scaled_set is not None:
        d = d[d["scaled_set"] == scaled_set]
    g = d[["model_name", "num_params", "tokens_seen", "loss_nats"]].dropna()
    return sl.read_runs(
        g, run="model_name", params="num_params", tokens="tokens_seen", loss="loss_nats", duplicates="mean"
    )


def tinylm():
    try:
        from scalinglab import datasets

        df = datasets.load("tinylm")
    except Exception as exc:  # not bundled in this build yet
        return None, f"not available ({type(exc).__name__}: {exc})"
    cols = [c for c in ("run", "params", "tokens", "flops", "loss", "step") if c in df]
    return sl.read_runs(df[cols]), f"{df['run'].nunique()} runs"


def synthetic():
    rows = []
    for N in np.geomspace(1e7, 1e10, 13):
        D = np.geomspace(1e8, 2e12, 60)
        rows.append(
            pd.DataFrame(
                {
                    "run": f"N{N:.3g}",
                    "params": N,
                    "tokens": D,
                    "loss": H["E"] + H["A"] * N ** -H["alpha"] + H["B"] * D ** -H["beta"],
                }
            )
        )
    return sl.read_runs(pd.concat(rows, ignore_index=True))


def loop_bootstrap(runs, n_boot, seed=0, grid=250):
    """Baseline: recompute the envelope and the regression once per resample (Python loop)."""
    frame = runs.frame
    groups = [g.sort_values("flops") for _, g in frame.groupby("run", sort=True)]
    lc = np.linspace(np.log(frame["flops"].min()), np.log(frame["flops"].max()), grid)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_boot):
        pick = np.unique(rng.integers(0, len(groups), len(groups)))
        best = np.full(grid, np.inf)
        bestN = np.full(grid, np.nan)
        cover = np.zeros(grid)
        for i in pick:
            g = groups[i]
            x = np.log(g["flops"].to_numpy())
            inside = (lc >= x[0]) & (lc <= x[-1])
            val = np.full(grid, np.inf)
            val[inside] = np.interp(lc[inside], x, np.log(g["loss"].to_numpy()))
            cover += inside
            better = val < best
            best[better] = val[better]
            bestN[better] = g["params"].iloc[0]
        use = (cover >= 2) & np.isfinite(bestN)
        if use.sum() >= 2:
            out.append(np.polyfit(lc[use] / np.log(10), np.log10(bestN[use]), 1)[0])
    return np.array(out)


def main() -> None:
    d = pd.read_csv(CURVES)
    sets = {
        "GPT-3 (8 sizes, 125M-175B)": family(d, "gpt3"),
        "Pythia deduped (8 sizes, 70M-12B)": family(d, "pythia", "pythia-deduped"),
        "synthetic (Hoffmann surface, true a = 0.4516)": synthetic(),
    }
    tl, tl_note = tinylm()
    if tl is not None:
        sets["tiny-LM ladder (scalinglab.datasets)"] = tl
    rows = []
    for name, runs in sets.items():
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fr = plan.envelope(runs, n_resamples=1000, seed=0)
        dt = time.perf_counter() - t
        (alo, ahi), (blo, bhi) = fr.interval("a"), fr.interval("b")
        used = fr.points[fr.points["used"]]
        rows.append(
            {
                "data": name,
                "runs": runs.frame["run"].nunique(),
                "checkpoints": len(runs.frame),
                "a": fr.a,
                "a_lower": alo,
                "a_upper": ahi,
                "b": fr.b,
                "b_lower": blo,
                "b_upper": bhi,
                "envelope_sizes": int(used["params"].nunique()),
                "compute_range": f"{used['flops'].min():.2g}–{used['flops'].max():.2g}",
                "N_at_1e22": float(fr.predict(1e22)["params"][0]),
                "warnings": [str(w.message) for w in caught],
                "seconds": dt,
            }
        )
    gpt3 = sets["GPT-3 (8 sizes, 125M-175B)"]
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan.envelope(gpt3, n_resamples=1000, seed=0)
    t_batched = time.perf_counter() - t
    t = time.perf_counter()
    loop_bootstrap(gpt3, 1000)
    t_loop = time.perf_counter() - t
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"
    (OUT / "planning_envelope.json").write_text(
        json.dumps(
            {
                "results": rows,
                "tinylm": tl_note,
                "speed": {"batched_s": t_batched, "loop_s": t_loop},
                "machine": machine,
            },
            indent=1,
        )
    )
    lines = [
        "# Approach 1: envelope of training curves",
        "",
        "| data | runs | checkpoints | sizes on the envelope | compute range fitted | a | a 90% | b | b 90% | "
        "N* at 1e22 | s |",
        "|---|---:|---:|---:|---|---:|---|---:|---|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['runs']} | {r['checkpoints']} | {r['envelope_sizes']} | {r['compute_range']} | "
            f"{r['a']:.3f} | {r['a_lower']:.3f}–{r['a_upper']:.3f} | {r['b']:.3f} | "
            f"{r['b_lower']:.3f}–{r['b_upper']:.3f} | {r['N_at_1e22']:.3g} | {r['seconds']:.2f} |"
        )
    lines += ["", "Hoffmann et al. 2022 approach 1: a = 0.50 (0.488–0.502); Kaplan et al. 2020: a = 0.73.", ""]
    for r in rows:
        for w in r["warnings"]:
            lines.append(f"- {r['data']}: ! {w}")
    if tl is None:
        lines.append(f"- tiny-LM ladder: {tl_note}")
    lines += [
        "",
        f"Speed (GPT-3, 1,000 bootstrap resamples of the runs): batched {t_batched:.2f} s vs per-resample "
        f"Python loop {t_loop:.2f} s: **{t_loop / t_batched:.1f}x**.",
        "",
        "Command: `python bench/planning_envelope.py`",
        "",
        f"Machine: {machine} (shared; one core busy with other work).",
    ]
    (OUT / "planning_envelope.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
