"""How often read_runs catches a unit mistake, and how often it flags a clean ladder.

Simulated ladders (Chinchilla-shaped loss E + A/N^alpha + B/D^beta with 1% noise):
4-10 model sizes over 0.7-3.5 decades starting anywhere from 2e4 (the bundled
tinylm starts at 2.5e4) to 2e9 parameters; either a fixed tokens-per-parameter
ratio (log-uniform in 0.5-500), a grid of 2-3 token budgets per size, or an
isoFLOP design (2-3 budgets, sizes spread around the optimum); final checkpoints
only or 5-8 checkpoints per run (from 2% of training); columns (params, tokens),
(params, tokens, flops), (params, flops) or (tokens, flops), with a ``step``
column half the time (batch of 2^9-2^21 tokens) and flops = 6ND x U(1, 1.3).

A corrupted table is a clean one where all runs, or a random non-empty proper
subset of them, give one column in another unit: params or tokens in thousands
or millions, flops in PF-days or GFLOPs; in half of them the converted values are
rounded to 3 significant figures, as a person writes "124 (thousand)".
"Caught" means read_runs raised DataError(kind="unit-mismatch"); any other
outcome is a miss.

Undecidable: a corrupted table where every run was converted and every run's
last checkpoint still lies where real runs lie (at least 100 parameters; at least
1e-3 tokens per parameter, at most 1e5 below 1e6 parameters; at least 32 tokens
per step; flops = 6ND within [0.05, 20] where all three are given).  Such a table
is an ordinary-looking ladder of other sizes (a 1e8 ladder in thousands reads as
a 1e5 ladder trained longer); flagging it would flag real ladders of that size.
Rates are reported over all corrupted tables and over the decidable rest.

Public compilations (Hitchhiker loss curves, the isoFLOP compilation, the OLMo
ladder, Epoch's Chinchilla points, the bundled tinylm sets, the observational-scaling
model families, Pythia's checkpoints with non-embedding parameters) must never be
flagged: ``real_tables()`` lists them; they are read in every run of the bench.

Run: ``python bench/unit_checks.py --tables 2000`` (prints the rates; writes
bench/results/unit_checks.json, or unit_checks_seed<N>.json with ``--seed N``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scalinglab.data import read_runs
from scalinglab.errors import DataError

UNITS = {
    "params": [("thousands", 1e3), ("millions", 1e6)],
    "tokens": [("thousands", 1e3), ("millions", 1e6)],
    "flops": [("PF-days", 8.64e19), ("GFLOPs", 1e9)],
}
LAYOUTS = [("params", "tokens"), ("params", "tokens", "flops"), ("params", "flops"), ("tokens", "flops")]


def clean_ladder(rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """One clean runs table and how it was made."""
    n_sizes = int(rng.integers(4, 11))
    n_min = 10 ** rng.uniform(np.log10(2e4), np.log10(2e9))
    span = rng.uniform(0.7, 3.5)
    sizes = np.geomspace(n_min, n_min * 10**span, n_sizes) * np.exp(rng.normal(0, 0.05, n_sizes))
    design = rng.choice(["ratio", "grid", "isoflop"])
    runs = []  # (N, D_final)
    if design == "ratio":
        r = 10 ** rng.uniform(np.log10(0.5), np.log10(500))
        runs = [(n, n * r) for n in sizes]
    elif design == "grid":
        r0 = 10 ** rng.uniform(np.log10(0.5), np.log10(100))
        mults = np.geomspace(1, 10 ** rng.uniform(0.5, 1.3), int(rng.integers(2, 4)))
        runs = [(n, n * r0 * m) for n in sizes for m in mults]
    else:
        for c_opt in np.geomspace(1, 10 ** rng.uniform(1, 2), int(rng.integers(2, 4))):
            n_opt = n_min * 10 ** (span / 2) * np.sqrt(c_opt)
            for n in n_opt * np.geomspace(10**-0.75, 10**0.75, int(rng.integers(4, 8))):
                runs.append((n, 20 * n_opt**2 / n))
    runs = [(float(n), float(d)) for n, d in runs]
    n_ckpt = 1 if rng.random() < 0.4 else int(rng.integers(5, 9))
    E, A, B = rng.uniform(0.5, 2.0), rng.uniform(100, 800), rng.uniform(100, 800)
    alpha, beta = rng.uniform(0.25, 0.4), rng.uniform(0.25, 0.4)
    batch = 2 ** int(rng.integers(9, 22))
    rows = []
    for i, (n, d_final) in enumerate(runs):
        fracs = [1.0] if n_ckpt == 1 else np.geomspace(0.02, 1.0, n_ckpt)
        for f in fracs:
            d = d_final * f
            loss = (E + A / n**alpha + B / d**beta) * np.exp(rng.normal(0, 0.01))
            rows.append(
                {
                    "run": f"r{i}",
                    "params": round(n),
                    "tokens": round(d),
                    "loss": loss,
                    "step": max(1, round(d / batch)),
                    "flops": 6 * n * d * rng.uniform(1.0, 1.3),
                }
            )
    frame = pd.DataFrame(rows)
    layout = LAYOUTS[int(rng.integers(len(LAYOUTS)))]
    keep = ["run", *layout, "loss"] + (["step"] if "tokens" in layout and rng.random() < 0.5 else [])
    info = {
        "design": str(design),
        "n_runs": len(runs),
        "n_min": n_min,
        "checkpoints": n_ckpt,
        "layout": "+".join(layout),
    }
    return frame[keep], info


def _round3(x: np.ndarray) -> np.ndarray:
    """Round to 3 significant figures."""
    x = np.asarray(x, dtype=float)
    e = np.floor(np.log10(np.abs(x))) - 2
    return np.round(x / 10**e) * 10**e


def corrupt(frame: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """The same table with one column of all runs, or of a random proper subset, in another unit."""
    cols = [c for c in ("params", "tokens", "flops") if c in frame]
    col = cols[int(rng.integers(len(cols)))]
    unit, factor = UNITS[col][int(rng.integers(len(UNITS[col])))]
    runs = frame["run"].unique()
    if rng.random() < 0.5:
        chosen = runs
    else:
        k = int(rng.integers(1, len(runs)))
        chosen = rng.choice(runs, size=k, replace=False)
    out = frame.copy()
    mask = out["run"].isin(chosen)
    out[col] = out[col].astype(float)
    rounded = bool(rng.random() < 0.5)
    values = out.loc[mask, col].to_numpy() / factor
    out.loc[mask, col] = _round3(values) if rounded else values
    return out, {
        "column": col,
        "unit": unit,
        "subset": "all" if len(chosen) == len(runs) else "some",
        "rounded": rounded,
        "undecidable": bool(len(chosen) == len(runs) and looks_real(out)),
    }


def looks_real(frame: pd.DataFrame) -> bool:
    """Every run's last checkpoint where real runs lie (see the module docstring)."""
    f = frame.astype({c: float for c in ("params", "tokens", "flops") if c in frame})
    if {"params", "tokens", "flops"} <= set(f):
        r = f["flops"] / (6 * f["params"] * f["tokens"])
        if ((r < 0.05) | (r > 20)).any():
            return False
    if "flops" in f and f["flops"].max() < 1e9:
        return False
    if "tokens" not in f:
        f["tokens"] = f["flops"] / (6 * f["params"])
    if "params" not in f:
        f["params"] = f["flops"] / (6 * f["tokens"])
    if f["params"].max() < 1e3 or f["tokens"].max() < 1e3 or f["params"].min() < 100:
        return False
    if "step" in f and np.median(f["tokens"] / f["step"]) < 32:
        return False
    last = f.loc[f.groupby("run")["tokens"].idxmax()]
    tpp = last["tokens"] / last["params"]
    cap = np.where(last["params"] < 1e6, 1e5, np.inf)
    return bool(((tpp >= 1e-3) & (tpp <= cap)).all())


def real_tables(shared: Path | None = None):
    """(name, DataFrame, read_runs kwargs) for the public compilations that must read without a unit error."""
    import os

    from scalinglab import datasets

    root = Path(shared or os.environ.get("SCALINGLAB_SHARED", Path(__file__).parents[2] / "shared")) / "data"
    for name in ("tinylm", "tinylm-transfer", "tinylm-mixed", "tinylm-shallow"):
        t = datasets.load(name)
        yield name, t, {}
        yield f"{name} (total params)", t.drop(columns=["params"]).rename(columns={"params_total": "params"}), {}
    path = root / "hitchhiker" / "derived" / "loss_curves_unified.csv"
    if path.exists():
        d = pd.read_csv(path).rename(
            columns={"model_name": "run", "num_params": "params", "tokens_seen": "tokens", "loss_colpret": "loss"}
        )
        d = d.dropna(subset=["loss", "tokens"])
        yield "hitchhiker loss curves (families)", d[["family", "run", "params", "tokens", "step", "loss"]], {}
        yield "hitchhiker loss curves (no family)", d[["run", "params", "tokens", "loss"]], {}
    path = root / "isoflops-compilation" / "isoflops.csv"
    if path.exists():
        q = pd.read_csv(path)
        for e, g in q.groupby("experiment"):
            g = g.assign(run=[f"r{i}" for i in range(len(g))], flops=g["budget"])
            yield f"isoflops {e}", g[["run", "params", "tokens", "loss"]], {}
            yield f"isoflops {e} with C", g[["run", "params", "tokens", "flops", "loss"]], {}
    for file in ("final_checkpoints.csv", "trajectories_main.csv"):
        path = root / "olmo-ladder" / file
        if path.exists():
            o = pd.read_csv(path).rename(columns={"n_params": "params", "c4_en-validation/CrossEntropyLoss": "loss"})
            yield f"olmo ladder {file}", o[["run", "params", "tokens", "loss"]].dropna(), {}
    # public model families (no loss column: benchmark scores), some over-trained at every size (SmolLM,
    # H2O-Danube, Gemma, the small Qwen1.5 models: 480-860 tokens per parameter at the least)
    for file in ("base_llm_benchmark_eval.csv", "base_llm_benchmark_eval_sub_10b.csv"):
        path = root / "obs-scaling" / file
        if path.exists():
            b = pd.read_csv(path).dropna(subset=["Pretraining Data Size (T)"])
            b = pd.DataFrame(
                {
                    "family": b["Model Family"],
                    "run": b["Model"],
                    "params": b["Model Size (B)"] * 1e9,
                    "tokens": b["Pretraining Data Size (T)"] * 1e12,
                }
            )
            yield f"observational scaling {file}", b, {"required": ()}
    # Pythia's checkpoints with non-embedding parameters (Kaplan et al.'s count): 70M is 1.9e7, 1.6e4 tokens
    # per parameter at the end
    path = root / "pythia-evals" / "pythia_opt_bloom_evals_wide_summary.csv"
    if path.exists():
        p = pd.read_csv(path).dropna(subset=["tokens", "params_nonembedding"]).query("tokens > 0")
        p = p.rename(columns={"model_family": "family", "model": "run"}).assign(params=p["params_nonembedding"])
        yield (
            "pythia checkpoints (non-embedding params)",
            p[["family", "run", "params", "tokens", "step"]],
            {"required": ()},
        )
    path = root / "epoch-chinchilla" / "svg_extracted_data.csv"
    if path.exists():
        e = pd.read_csv(path)
        yield (
            "epoch chinchilla",
            e[["Model Size", "Training FLOP", "loss"]],
            {
                "params": "Model Size",
                "flops": "Training FLOP",
            },
        )


def check_real_tables(shared: Path | None = None) -> list[tuple[str, str]]:
    """(name, outcome) for every public compilation; outcome "ok" or the unit error."""
    out = []
    for name, t, kw in real_tables(shared):
        try:
            read_runs(t, duplicates="mean", **kw)
            out.append((name, "ok"))
        except DataError as exc:
            out.append((name, "ok" if exc.kind != "unit-mismatch" else f"FLAGGED: {exc}"))
    return out


def flagged(frame: pd.DataFrame) -> bool:
    try:
        read_runs(frame)
    except DataError as exc:
        if exc.kind == "unit-mismatch":
            return True
        raise
    return False


def simulate(n_tables: int, seed: int = 0) -> dict:
    """Rates over ``n_tables`` clean and ``n_tables`` corrupted tables."""
    rng = np.random.default_rng(seed)
    clean_flags, caught, rows, clean_list = 0, 0, [], []
    for _ in range(n_tables):
        frame, info = clean_ladder(rng)
        f = flagged(frame)
        clean_flags += f
        clean_list.append(f)
        bad, how = corrupt(frame, rng)
        hit = flagged(bad)
        caught += hit
        rows.append({**info, **how, "caught": hit})
    by = pd.DataFrame(rows)
    by["clean_flagged"] = clean_list
    dec = by[~by["undecidable"]]

    def rate(frame):
        return float(frame["caught"].mean()) if len(frame) else float("nan")

    by_class = []
    for (col, unit, subset), g in by.groupby(["column", "unit", "subset"]):
        d = g[~g["undecidable"]]
        by_class.append(
            {
                "column": col,
                "unit": unit,
                "subset": subset,
                "n": len(g),
                "catch_rate": rate(g),
                "catch_rate_rounded": rate(g[g["rounded"]]),
                "catch_rate_unrounded": rate(g[~g["rounded"]]),
                "undecidable": int(g["undecidable"].sum()),
                "catch_rate_decidable": rate(d),
                # clean tables of the same layout as this class's column appears in
                "clean_flag_rate": float(by.loc[by["layout"].str.contains(col), "clean_flagged"].mean()),
            }
        )
    return {
        "n_tables": n_tables,
        "seed": seed,
        "clean_flag_rate": clean_flags / n_tables,
        "catch_rate": caught / n_tables,
        "catch_rate_rounded": rate(by[by["rounded"]]),
        "catch_rate_unrounded": rate(by[~by["rounded"]]),
        "undecidable": int(by["undecidable"].sum()),
        "catch_rate_decidable": rate(dec),
        "catch_rate_by_subset": {k: rate(g) for k, g in by.groupby("subset")},
        "catch_rate_decidable_by_subset": {k: rate(g) for k, g in dec.groupby("subset")},
        "by_class": by_class,
        "missed": by[~by["caught"]].head(30).to_dict(orient="records"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tables", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = simulate(args.tables, args.seed)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"{args.tables} clean + {args.tables} corrupted tables (seed {args.seed}), {res['seconds']} s")
    print(f"clean ladders flagged: {res['clean_flag_rate']:.2%}")
    print(
        f"unit mistakes caught:  {res['catch_rate']:.2%} (rounded to 3 figures {res['catch_rate_rounded']:.2%}, "
        f"unrounded {res['catch_rate_unrounded']:.2%}); by subset "
        + ", ".join(f"{k} {v:.2%}" for k, v in res["catch_rate_by_subset"].items())
    )
    print(
        f"undecidable (all runs converted, still looks like a real ladder): {res['undecidable']}; "
        f"caught on the rest {res['catch_rate_decidable']:.2%} ("
        + ", ".join(f"{k} {v:.2%}" for k, v in res["catch_rate_decidable_by_subset"].items())
        + ")"
    )
    for c in res["by_class"]:
        print(
            f"  {c['column']:7s} in {c['unit']:9s} ({c['subset']:4s} runs): caught {c['catch_rate']:.1%} of {c['n']} "
            f"(rounded {c['catch_rate_rounded']:.1%}, unrounded {c['catch_rate_unrounded']:.1%}); "
            f"undecidable {c['undecidable']}, caught on the rest {c['catch_rate_decidable']:.1%}; "
            f"clean tables with {c['column']} flagged {c['clean_flag_rate']:.2%}"
        )
    real = check_real_tables()
    res["real_tables"] = real
    bad = [r for r in real if r[1] != "ok"]
    print(f"public compilations flagged: {len(bad)} of {len(real)}")
    for name, outcome in bad:
        print(f"  {name}: {outcome}")
    out = (
        Path(__file__).parent
        / "results"
        / ("unit_checks.json" if args.seed == 0 else f"unit_checks_seed{args.seed}.json")
    )
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1, default=str) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
