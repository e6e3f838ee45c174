"""Batched run bootstrap vs per-resample scipy refits: 1,000 resamples of the Chinchilla fit.

Data: Epoch AI's digitisation of Hoffmann et al. 2022 fig. 4 (Besiroglu et al. 2024,
arXiv:2404.10102), the 5 highest-loss points dropped as Epoch did; N = ``Model Size``,
C = ``Training FLOP``, D = C / (6 N).  Every row is its own run, so the bootstrap
is over points, as in Epoch's replication (their bootstrap standard errors are
printed next to ours).

Baselines (``bench/_baselines.py``), on the same resample weights, each resample started from
the full-data optimum, objective = the summed Huber(1e-3) of log residuals in the
(log A, log B, log E, alpha, beta) parametrisation (scalinglab's objective):

* strongest: L-BFGS-B with the analytic gradient and ``ftol=1e-15, gtol=1e-12`` (the
  tolerances that reach the same optima), all resamples;
* weak: the same with scipy's default tolerances (faster, stops at worse optima) and with
  numerical gradients (default tolerances), timed on the first ``--weak`` resamples and scaled.

Timing: ``time.process_time`` (CPU), one BLAS/OpenMP thread (set before numpy is imported),
median of ``--repeats`` interleaved repeats.  Optima: per resample, the relative gap of each
baseline's objective to scalinglab's.

Run:  python bench/bootstrap_speed.py [--resamples 1000] [--repeats 5] [--weak 100]
Writes bench/results/bootstrap_speed.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread, before numpy loads
    os.environ[_var] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import _baselines as Bl  # noqa: E402
import scalinglab as sl  # noqa: E402
from scalinglab.fit._uncertainty import bootstrap, resample_weights  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCALINGLAB_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data" / "epoch-chinchilla" / "svg_extracted_data.csv"
OUT = ROOT / "bench" / "results"
EPOCH_SE = {"E": 0.0257, "A": 124.5, "alpha": 0.0154, "B": 1293.0, "beta": 0.0206}
EPOCH_EST = {"E": 1.82, "A": 482.0, "alpha": 0.3478, "B": 2085.0, "beta": 0.3658}


def load_runs():
    df = pd.read_csv(DATA)
    df = df.sort_values("loss").iloc[:-5]
    return sl.read_runs(df, params="Model Size", flops="Training FLOP")


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--weak", type=int, default=100, help="resamples timed for the weak baselines (scaled)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    runs = load_runs()
    f = sl.fit(runs, "chinchilla")
    d = f.data
    logN, logD, logL = (np.log(d[c].to_numpy()) for c in ("params", "tokens", "loss"))
    x0 = Bl.to_recipe(f.params)
    W = resample_weights(d["run"].to_numpy(), args.resamples, np.random.default_rng(args.seed))
    Ww = W[: args.weak]
    scale = args.resamples / len(Ww)
    fns = {
        "scalinglab bootstrap (one batched call)": lambda: bootstrap(f, args.resamples, seed=args.seed),
        "scipy L-BFGS-B, analytic gradient, ftol=1e-15 gtol=1e-12": lambda: Bl.scipy_bootstrap(x0, W, logN, logD, logL),
        "scipy L-BFGS-B, analytic gradient, default tolerances": lambda: Bl.scipy_bootstrap(
            x0, Ww, logN, logD, logL, tight=False
        ),
        "scipy L-BFGS-B, numerical gradient, default tolerances": lambda: Bl.scipy_bootstrap(
            x0, Ww, logN, logD, logL, jac=False, tight=False
        ),
    }
    times, last = Bl.cpu_median(fns, args.repeats)
    ours_key = "scalinglab bootstrap (one batched call)"
    boot = last[ours_key]
    for k in list(times)[2:]:
        times[k] *= scale  # weak baselines: timed on the first --weak resamples
    # scalinglab's objective per resample (the draws are the optima of the same weights, in order)
    problem = f.problem()
    ours_obj = problem.objective(boot.u, W[: len(boot.u)]) if boot.n_failed == 0 else None
    rows, gaps = [], {}
    for k, v in last.items():
        if k == ours_key or ours_obj is None:
            continue
        F = v[0]
        gaps[k] = (F - ours_obj[: len(F)]) / ours_obj[: len(F)]
    se = boot.stderr
    for p in ["E", "A", "alpha", "B", "beta"]:
        rows.append(
            {
                "param": p,
                "estimate": f.params[p],
                "epoch_estimate": EPOCH_EST[p],
                "se_bootstrap_ours": se[p],
                "se_bootstrap_epoch": EPOCH_SE[p],
                "se_ratio": se[p] / EPOCH_SE[p],
                "se_delta": f.stderr[p],
            }
        )
    result = {
        "n_points": int(f.n_points),
        "resamples": args.resamples,
        "by": boot.by,
        "failed": boot.n_failed,
        "timing": f"time.process_time, median of {args.repeats} interleaved repeats, OMP/OPENBLAS/MKL_NUM_THREADS=1",
        "cpu_seconds_per_resamples": times,
        "weak_timed_on": len(Ww),
        "ratio_vs": {k: v / times[ours_key] for k, v in times.items() if k != ours_key},
        "objective_gap_vs_ours": {
            k: {
                "median": float(np.median(g)),
                "min": float(g.min()),
                "max": float(g.max()),
                "share_worse_1e-9": float(np.mean(g > 1e-9)),
                "share_better_1e-9": float(np.mean(g < -1e-9)),
            }
            for k, g in gaps.items()
        },
        "n_iter_max": boot.n_iter_max,
        "params": rows,
        "machine": machine(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bootstrap_speed.json").write_text(json.dumps(result, indent=2))
    lines = [
        "# Bootstrap speed: batched run bootstrap vs per-resample scipy refits",
        "",
        f"Chinchilla law on Epoch's digitised Hoffmann et al. data ({f.n_points} points, 5 highest-loss dropped);"
        " every row is its own run, so the bootstrap is over points (as Epoch's). "
        f"CPU seconds per {args.resamples} resamples ({result['timing']}); weak baselines timed on "
        f"{len(Ww)} resamples and scaled.",
        "",
        "| method | CPU s | scalinglab faster by | objective vs scalinglab: median rel. gap | worse on |",
        "|---|---:|---:|---:|---:|",
    ]
    for k, v in times.items():
        if k == ours_key:
            lines.append(f"| {k} | {v:.2f} | | | |")
            continue
        g = result["objective_gap_vs_ours"].get(k)
        lines.append(
            f"| {k} | {v:.2f} | {v / times[ours_key]:.1f}x | "
            + (f"{g['median']:.2e} | {100 * g['share_worse_1e-9']:.0f}% |" if g else "| |")
        )
    lines += [
        "",
        f"{boot.n_failed} of {args.resamples} batched resamples failed; largest iteration count {boot.n_iter_max}.",
        "",
        "| param | estimate | Epoch estimate | bootstrap SE (ours) | bootstrap SE (Epoch) | ratio | delta-method SE |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['param']} | {r['estimate']:.4g} | {r['epoch_estimate']:.4g} | {r['se_bootstrap_ours']:.4g}"
            f" | {r['se_bootstrap_epoch']:.4g} | {r['se_ratio']:.2f} | {r['se_delta']:.4g} |"
        )
    lines += [
        "",
        f"Command: `python bench/bootstrap_speed.py --resamples {args.resamples} --repeats {args.repeats} "
        f"--weak {args.weak}`",
        "",
        f"Machine: {machine()}.",
    ]
    (OUT / "bootstrap_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
