"""`suggest` vs a naive log-spaced ladder of the same compute, by simulation from a known law.

True law: Hoffmann et al. 2022's L = 1.69 + 406.4/N^0.34 + 410.7/D^0.28; every run's
final loss is the law times exp(eps), eps ~ N(0, sigma) independently per run.
Existing runs: 4 sizes 2e7-2e8 x 3 tokens-per-parameter ratios (10, 20, 40): 12 runs,
2.1e19 FLOPs.  Target: N = 7e9, D = 1.4e11 (5.9e21 FLOPs, ~2.4 decades beyond).
Budget for new runs: 1e20 FLOPs (6ND each).

Each replicate draws the existing runs, asks ``plan.suggest`` (defaults) for the next
runs (greedy c-optimal designs on a grid of 12 sizes from 2e7 to 7e9 x ratios 5-320 and
budget ladders, chosen by simulated refits; at most 8 runs), and builds
the naive ladder: 4 sizes log-spaced over a factor 8 at 20 tokens/parameter, scaled
so that it costs exactly what the suggestion costs.  Both designs' new runs are
simulated, the Chinchilla law is refitted on existing + new runs, and the 90%
interval for the mean law at the target (bootstrap over runs, 200 resamples) is
compared: width (upper/lower - 1), realised error of the point prediction, coverage.

Run:  python bench/planning_suggest.py [--reps 60] [--sigma 0.01]
Writes bench/results/planning_suggest.{csv,json,md}.
"""

from __future__ import annotations

import argparse
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
OUT = ROOT / "bench" / "results"
H = dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28)
TARGET = {"params": 7e9, "tokens": 1.4e11}
BUDGET = 1e20


def law(N, D):
    return H["E"] + H["A"] * np.asarray(N) ** -H["alpha"] + H["B"] * np.asarray(D) ** -H["beta"]


def simulate(design: pd.DataFrame, rng, sigma, prefix):
    L = law(design["params"], design["tokens"]) * np.exp(rng.normal(0, sigma, len(design)))
    return pd.DataFrame({"run": [f"{prefix}{i}" for i in range(len(design))], "params": design["params"].to_numpy(),
                         "tokens": design["tokens"].to_numpy(), "loss": L})


def ladder(budget, k=4, ratio=20.0, span=8.0):
    q = np.geomspace(1.0, span, k)
    n_top = np.sqrt(budget / (6 * ratio * np.sum(q ** 2)))
    N = n_top * q
    return pd.DataFrame({"params": N, "tokens": ratio * N})


def evaluate(runs, truth, n_boot, seed):
    from scalinglab.fit._uncertainty import prediction_interval

    from scalinglab.errors import FitError

    f = sl.fit(runs, "chinchilla")
    X = {"N": np.array([TARGET["params"]]), "D": np.array([TARGET["tokens"]])}
    try:
        p = prediction_interval(f, X, level=0.9, kind="mean", method="bootstrap", n_resamples=n_boot, seed=seed)
    except FitError:  # every bootstrap refit failed: no interval for this replicate
        est = float(f.predict(warn=False, **TARGET)[0])
        return {"width": np.nan, "error": abs(np.log(est / truth)), "covered": np.nan}
    est, lo, hi = float(p["estimate"][0]), float(p["lower"][0]), float(p["upper"][0])
    return {"width": hi / lo - 1, "error": abs(np.log(est / truth)), "covered": float(lo <= truth <= hi)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--sigma", type=float, default=0.01)
    ap.add_argument("--boot", type=int, default=200)
    args = ap.parse_args()
    N0 = np.repeat(np.geomspace(2e7, 2e8, 4), 3)
    base = pd.DataFrame({"params": N0, "tokens": N0 * np.tile([10.0, 20.0, 40.0], 4)})
    truth = float(law(TARGET["params"], TARGET["tokens"]))
    rows = []
    t0 = time.perf_counter()
    t_suggest = 0.0
    for r in range(args.reps):
        rng = np.random.default_rng(1000 + r)
        existing = simulate(base, rng, args.sigma, "e")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            s = plan.suggest(existing, "chinchilla", target=TARGET, budget=BUDGET, seed=r)
            t_suggest += time.perf_counter() - t
            lad = ladder(s.spent)
            new_rng = np.random.default_rng(5000 + r)
            noise_s = simulate(s.runs, new_rng, args.sigma, "s")
            noise_l = simulate(lad, new_rng, args.sigma, "l")
            for name, runs in (("existing only", existing), ("suggest", pd.concat([existing, noise_s])),
                               ("log-spaced ladder", pd.concat([existing, noise_l]))):
                res = evaluate(runs, truth, args.boot, r)
                rows.append({"rep": r, "design": name, "new_runs": len(runs) - len(existing),
                             "flops_new": 0.0 if name == "existing only" else s.spent, **res})
    elapsed = time.perf_counter() - t0
    table = pd.DataFrame(rows)
    table.to_csv(OUT / "planning_suggest.csv", index=False)
    summ = table.groupby("design", sort=False).agg(
        runs=("new_runs", "median"), flops=("flops_new", "median"), median_width=("width", "median"),
        mean_width=("width", "mean"), no_interval=("width", lambda w: int(w.isna().sum())), median_error=("error", "median"),
        rmse_log=("error", lambda e: float(np.sqrt(np.mean(np.square(e))))), coverage=("covered", "mean"))
    wide = table.pivot(index="rep", columns="design", values="width")
    err = table.pivot(index="rep", columns="design", values="error")
    both = wide[["suggest", "log-spaced ladder"]].dropna()
    wins_width = float(np.mean(both["suggest"] < both["log-spaced ladder"]))
    wins_error = float(np.mean(err["suggest"] < err["log-spaced ladder"]))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"
    out = {"reps": args.reps, "sigma": args.sigma, "truth": truth, "summary": summ.reset_index().to_dict("records"),
           "suggest_narrower_fraction": wins_width, "suggest_more_accurate_fraction": wins_error,
           "seconds": elapsed, "suggest_seconds_per_call": t_suggest / args.reps, "machine": machine}
    (OUT / "planning_suggest.json").write_text(json.dumps(out, indent=1))
    lines = ["# Which runs to train next: `suggest` vs a log-spaced ladder of the same compute", "",
             f"Simulation: true law Hoffmann et al. 2022, log-normal run noise sigma = {args.sigma}; 12 existing runs "
             "(2e7–2e8 params, 2.1e19 FLOPs); target N = 7e9, D = 1.4e11 (true loss "
             f"{truth:.4f}); budget for new runs 1e20 FLOPs; {args.reps} replicates; 90% interval for the mean law "
             f"at the target from a run bootstrap ({args.boot} resamples) of the refitted Chinchilla law.", "",
             "| design | new runs (median) | new FLOPs (median) | median width | mean width | median abs log error | "
             "RMSE log error | coverage of 90% | replicates without interval |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for d, r in summ.iterrows():
        lines.append(f"| {d} | {r['runs']:.0f} | {r['flops']:.3g} | {100 * r['median_width']:.2f}% | "
                     f"{100 * r['mean_width']:.2f}% | {100 * r['median_error']:.2f}% | {100 * r['rmse_log']:.2f}% | "
                     f"{100 * r['coverage']:.0f}% | {r['no_interval']} |")
    better = {"median width": "median_width", "mean width": "mean_width", "median abs log error": "median_error",
              "RMSE log error": "rmse_log"}
    su, la = summ.loc["suggest"], summ.loc["log-spaced ladder"]
    wins = [k for k, c in better.items() if su[c] < la[c]]
    losses = [k for k, c in better.items() if su[c] > la[c]]
    cov = "closer to 90%" if abs(su["coverage"] - 0.9) < abs(la["coverage"] - 0.9) else "not closer to 90%"
    lines += ["", f"Reading: `suggest` is better on {', '.join(wins) or 'nothing'}; the ladder on "
              f"{', '.join(losses) or 'nothing'}; `suggest`'s coverage is {cov}."]
    lines += ["", f"Paired over replicates: `suggest` gave the narrower interval in {100 * wins_width:.0f}% and the "
              f"smaller realised error in {100 * wins_error:.0f}% of replicates.", "",
              f"`suggest` took {t_suggest / args.reps:.2f} s per call with its defaults (fit, 31 bootstrap draws, greedy "
              "c-optimal designs + budget ladders, 64 simulated refits per design in one batched solve); whole "
              f"benchmark {elapsed:.0f} s.", "",
              f"Command: `python bench/planning_suggest.py --reps {args.reps} --sigma {args.sigma} --boot {args.boot}`", "",
              f"Machine: {machine} (shared; one core busy with other work)."]
    (OUT / "planning_suggest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
