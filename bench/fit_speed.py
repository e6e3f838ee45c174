"""Benchmark: scalinglab's default Chinchilla fit vs the common scipy per-start recipe, same process.

The recipe (Hoffmann et al. 2022; Besiroglu et al. 2024): log L = LSE(a - alpha log N, b - beta log D, e),
summed Huber(delta=1e-3) on log residuals, scipy L-BFGS-B (analytic gradient) started from each point
of the 4,500-point grid alpha, beta in {0, .5, ..., 2}, e in {-1, -.5, ..., 1}, a, b in {0, 5, ..., 25}.
Running all 4,500 starts takes minutes, so a random sample of starts is timed and the per-start time is
scaled to the full grid ("per equivalent grid").  Both objectives are printed.

Run:  python bench/fit_speed.py [--starts 60] [--repeats 5]
Data: ../shared/data/epoch-chinchilla/svg_extracted_data.csv (5 highest-loss points dropped, 240 kept).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import logsumexp

import scalinglab as sl

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SCALINGLAB_SHARED", ROOT.parent / "shared")) / "data" / "epoch-chinchilla" / "svg_extracted_data.csv"
DELTA = 1e-3


def load():
    df = pd.read_csv(DATA).sort_values("loss").iloc[:-5]
    return sl.read_runs(df, params="Model Size", flops="Training FLOP")


def recipe_objective(theta, logN, logD, logL):
    a, b, e, alpha, beta = theta
    terms = np.stack([a - alpha * logN, b - beta * logD, np.full_like(logN, e)])
    pred = logsumexp(terms, axis=0)
    r = logL - pred
    absr = np.abs(r)
    f = np.where(absr <= DELTA, 0.5 * r * r, DELTA * (absr - 0.5 * DELTA)).sum()
    psi = np.clip(r, -DELTA, DELTA)
    soft = np.exp(terms - pred)  # d pred / d term
    g = np.array([
        -(psi * soft[0]).sum(), -(psi * soft[1]).sum(), -(psi * soft[2]).sum(),
        (psi * soft[0] * logN).sum(), (psi * soft[1] * logD).sum(),
    ])
    return f, g


def recipe_grid():
    return np.array([(a, b, e, al, be) for al, be, e, a, b in itertools.product(
        np.arange(0, 2.01, 0.5), np.arange(0, 2.01, 0.5), np.arange(-1, 1.01, 0.5),
        np.arange(0, 25.1, 5), np.arange(0, 25.1, 5))])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--starts", type=int, default=60, help="sampled starts of the 4,500-point grid")
    ap.add_argument("--repeats", type=int, default=5, help="repeats of the scalinglab fit (median taken)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fit_speed.json")
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"data not found: {DATA}")
    runs = load()
    f = runs.frame
    logN, logD, logL = np.log(f["params"].to_numpy()), np.log(f["tokens"].to_numpy()), np.log(f["loss"].to_numpy())

    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sl.fit(runs, "chinchilla")  # warm-up (imports, caches)
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fitted = sl.fit(runs, "chinchilla")
            times.append(time.perf_counter() - t0)
    t_ours = float(np.median(times))

    grid = recipe_grid()
    rng = np.random.default_rng(0)
    sample = grid[rng.choice(len(grid), size=min(args.starts, len(grid)), replace=False)]
    t0 = time.perf_counter()
    best = (np.inf, None)
    for x0 in sample:
        res = minimize(recipe_objective, x0, args=(logN, logD, logL), jac=True, method="L-BFGS-B")
        if res.fun < best[0]:
            best = (float(res.fun), res.x)
    t_sample = time.perf_counter() - t0
    per_start = t_sample / len(sample)
    t_grid = per_start * len(grid)
    a, b, e, alpha, beta = best[1]
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "n_points": len(f),
        "scalinglab": {"seconds_median": t_ours, "objective": fitted.objective, "params": fitted.params,
                       "n_grid": fitted.n_grid, "n_starts_refined": fitted.n_starts},
        "scipy_recipe": {"sampled_starts": len(sample), "seconds_sampled": t_sample, "seconds_per_start": per_start,
                         "seconds_full_grid_equivalent": t_grid, "best_objective_in_sample": best[0],
                         "best_params_in_sample": {"E": float(np.exp(e)), "A": float(np.exp(a)), "alpha": float(alpha),
                                                   "B": float(np.exp(b)), "beta": float(beta)}},
        "speed_ratio_per_equivalent_grid": t_grid / t_ours,
    }
    print(f"Epoch Chinchilla data: {len(f)} points; {result['machine']}")
    print(f"{'method':<44} {'seconds':>10} {'objective':>14}")
    print(f"{'scalinglab fit (VarPro grid + batched LM)':<44} {t_ours:>10.3f} {fitted.objective:>14.7e}")
    print(f"{f'scipy L-BFGS-B, {len(sample)} sampled starts':<44} {t_sample:>10.3f} {best[0]:>14.7e}")
    print(f"{'scipy L-BFGS-B, 4,500-start grid (scaled)':<44} {t_grid:>10.1f} {'':>14}")
    print(f"speed ratio (scipy full grid / scalinglab): {result['speed_ratio_per_equivalent_grid']:.0f}x")
    print("scalinglab params:", {k: round(v, 5) for k, v in fitted.params.items()})
    print("scipy best-in-sample params:", {k: round(v, 5) for k, v in result["scipy_recipe"]["best_params_in_sample"].items()})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    from scalinglab._io import write_atomic

    write_atomic(args.out, json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
