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
or millions, flops in PF-days or GFLOPs.  "Caught" means read_runs raised
DataError(kind="unit-mismatch"); any other outcome is a miss.

Run: ``python bench/unit_checks.py --tables 2000`` (prints the rates; writes
bench/results/unit_checks.json).
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
    out.loc[mask, col] = out.loc[mask, col] / factor
    return out, {"column": col, "unit": unit, "subset": "all" if len(chosen) == len(runs) else "some"}


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
    clean_flags, caught, rows = 0, 0, []
    for _ in range(n_tables):
        frame, info = clean_ladder(rng)
        clean_flags += flagged(frame)
        bad, how = corrupt(frame, rng)
        hit = flagged(bad)
        caught += hit
        rows.append({**info, **how, "caught": hit})
    by = pd.DataFrame(rows)
    classes = by.groupby(["column", "unit", "subset"])["caught"].agg(["mean", "size"]).reset_index()
    return {
        "n_tables": n_tables,
        "seed": seed,
        "clean_flag_rate": clean_flags / n_tables,
        "catch_rate": caught / n_tables,
        "by_class": [
            {"column": r.column, "unit": r.unit, "subset": r.subset, "catch_rate": float(r.mean), "n": int(r.size)}
            for r in classes.itertuples()
        ],
        "missed": by[~by["caught"]].head(20).to_dict(orient="records"),
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
    print(f"unit mistakes caught:  {res['catch_rate']:.2%}")
    for c in res["by_class"]:
        print(f"  {c['column']:7s} in {c['unit']:9s} ({c['subset']:4s} runs): {c['catch_rate']:.1%} of {c['n']}")
    out = Path(__file__).parent / "results" / "unit_checks.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1, default=str) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
