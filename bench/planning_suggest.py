"""`suggest` vs naive log-spaced ladders of the same compute, by simulation from a known law.

True law: Hoffmann et al. 2022's L = 1.69 + 406.4/N^0.34 + 410.7/D^0.28; every run's
final loss is the law times exp(eps), eps ~ N(0, sigma) independently per run.
Existing runs: 4 sizes 2e7-2e8 x 3 tokens-per-parameter ratios (10, 20, 40): 12 runs,
2.1e19 FLOPs.  Budget for new runs: 1e20 FLOPs (6ND each).  Two targets:

- ``optimal``: N = 7e9, D = 1.4e11 (20 tokens per parameter, 5.9e21 FLOPs);
- ``overtrained``: N = 2e9, D = 4e11 (200 tokens per parameter, 4.8e21 FLOPs), as for a
  model trained far past compute-optimal to be cheap to serve.

Each replicate draws the existing runs and asks ``plan.suggest`` (defaults) for the next
runs.  The baselines are naive ladders: 4 sizes log-spaced over a factor 8, scaled so that
they cost exactly what the suggestion costs, at 20 tokens per parameter (the Chinchilla
rule of thumb) and, for the over-trained target, also at the target's own 200.  Every
design's new runs are simulated (baseline noise is independent of what `suggest` chose),
the Chinchilla law is refitted on existing + new runs with `scalinglab.fit`, and the 90%
interval for the mean law at the target (bootstrap over runs, 200 resamples, the interval
scalinglab reports) is scored: width (upper/lower - 1), realised error of the point
prediction, coverage, and the interval score (Gneiting & Raftery 2007; log width + 20 x
miss in log units, lower is better).  Paired differences (suggest minus ladder) are
reported with their standard errors over replicates.

Run:  python bench/planning_suggest.py [--reps 100] [--sigma 0.01] [--boot 200] [--workers 2]
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
H = {"E": 1.69, "A": 406.4, "alpha": 0.34, "B": 410.7, "beta": 0.28}
SCENARIOS = {"optimal": {"params": 7e9, "tokens": 1.4e11}, "overtrained": {"params": 2e9, "tokens": 4e11}}
BUDGET = 1e20
LEVEL = 0.9


def law(N, D):
    return H["E"] + H["A"] * np.asarray(N) ** -H["alpha"] + H["B"] * np.asarray(D) ** -H["beta"]


def simulate(design: pd.DataFrame, rng, sigma, prefix):
    L = law(design["params"], design["tokens"]) * np.exp(rng.normal(0, sigma, len(design)))
    return pd.DataFrame(
        {
            "run": [f"{prefix}{i}" for i in range(len(design))],
            "params": design["params"].to_numpy(),
            "tokens": design["tokens"].to_numpy(),
            "loss": L,
        }
    )


def ladder(budget, k=4, ratio=20.0, span=8.0):
    """``k`` sizes log-spaced over ``span`` at ``ratio`` tokens per parameter, costing ``budget`` at 6ND."""
    q = np.geomspace(1.0, span, k)
    n_top = np.sqrt(budget / (6 * ratio * np.sum(q**2)))
    N = n_top * q
    return pd.DataFrame({"params": N, "tokens": ratio * N})


def evaluate(runs, target, truth, n_boot, seed):
    from scalinglab.errors import FitError
    from scalinglab.fit._uncertainty import prediction_interval

    f = sl.fit(runs, "chinchilla")
    X = {"N": np.array([target["params"]]), "D": np.array([target["tokens"]])}
    try:
        p = prediction_interval(f, X, level=LEVEL, kind="mean", method="bootstrap", n_resamples=n_boot, seed=seed)
    except FitError:  # every bootstrap refit failed: no interval for this replicate
        est = float(f.predict(warn=False, **target))
        return {"width": np.nan, "error": abs(np.log(est / truth)), "covered": np.nan, "score": np.nan}
    est, lo, hi = float(p["estimate"][0]), float(p["lower"][0]), float(p["upper"][0])
    miss = max(np.log(lo / truth), 0.0) + max(np.log(truth / hi), 0.0)
    return {
        "width": hi / lo - 1,
        "error": abs(np.log(est / truth)),
        "covered": float(lo <= truth <= hi),
        "score": np.log(hi / lo) + 2 / (1 - LEVEL) * miss,
    }


def replicate(job: tuple[str, int, float, int]) -> tuple[list[dict], float]:
    """One replicate: existing runs, `suggest`'s proposal, the same-compute ladders, and their refits."""
    scenario, r, sigma, n_boot = job
    target = SCENARIOS[scenario]
    ratio = target["tokens"] / target["params"]
    N0 = np.repeat(np.geomspace(2e7, 2e8, 4), 3)
    base = pd.DataFrame({"params": N0, "tokens": N0 * np.tile([10.0, 20.0, 40.0], 4)})
    truth = float(law(target["params"], target["tokens"]))
    existing = simulate(base, np.random.default_rng(1000 + r), sigma, "e")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        s = plan.suggest(existing, "chinchilla", target=target, budget=BUDGET, seed=r)
        seconds = time.perf_counter() - t
        chosen = s.notes[0].removeprefix("chosen: ").split(", the ")[0]
        designs = {
            "existing only": existing,
            "suggest": pd.concat([existing, simulate(s.runs, np.random.default_rng(5000 + r), sigma, "s")]),
        }
        ratios = (20.0,) if ratio == 20.0 else (20.0, ratio)
        for q in ratios:
            lad = simulate(ladder(s.spent, ratio=q), np.random.default_rng(7000 + r), sigma, "l")
            designs[f"ladder {q:g} tok/param"] = pd.concat([existing, lad])
        rows = []
        for name, runs in designs.items():
            res = evaluate(runs, target, truth, n_boot, r)
            rows.append(
                {
                    "scenario": scenario,
                    "rep": r,
                    "design": name,
                    "new_runs": len(runs) - len(existing),
                    "flops_new": 0.0 if name == "existing only" else s.spent,
                    "chosen": chosen if name == "suggest" else "",
                    **res,
                }
            )
    return rows, seconds


def paired(table: pd.DataFrame, baseline: str, col: str) -> tuple[float, float]:
    """Mean and standard error over replicates of suggest minus ``baseline`` in ``col``."""
    wide = table.pivot(index="rep", columns="design", values=col)
    d = (wide["suggest"] - wide[baseline]).dropna()
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--sigma", type=float, default=0.01)
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--workers", type=int, default=1, help="processes (replicates are independent)")
    ap.add_argument("--scenario", choices=[*SCENARIOS, "both"], default="both")
    args = ap.parse_args()
    scenarios = list(SCENARIOS) if args.scenario == "both" else [args.scenario]
    jobs = [(sc, r, args.sigma, args.boot) for sc in scenarios for r in range(args.reps)]
    t0 = time.perf_counter()
    if args.workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.workers) as pool:
            results = list(pool.map(replicate, jobs))
    else:
        results = [replicate(j) for j in jobs]
    elapsed = time.perf_counter() - t0
    table = pd.DataFrame([row for rows, _ in results for row in rows])
    t_suggest = sum(sec for _, sec in results) / len(jobs)
    table.to_csv(OUT / "planning_suggest.csv", index=False)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"
    out = {
        "reps": args.reps,
        "sigma": args.sigma,
        "budget": BUDGET,
        "scenarios": {},
        "seconds": elapsed,
        "suggest_seconds_per_call": t_suggest,
        "machine": machine,
    }
    lines = [
        "# Which runs to train next: `suggest` vs log-spaced ladders of the same compute",
        "",
        (
            f"Simulation: true law Hoffmann et al. 2022, log-normal run noise sigma = {args.sigma}; 12 existing runs "
            "(2e7–2e8 params, 2.1e19 FLOPs); budget for new runs 1e20 FLOPs; "
            f"{args.reps} replicates per target; {int(100 * LEVEL)}% interval for the mean law at the target from a "
            f"run bootstrap ({args.boot} resamples) of the refitted Chinchilla law. Ladders: 4 sizes over 8x, "
            "same compute as the proposal. Lower is better everywhere except coverage (nominal 90%)."
        ),
    ]
    for sc in scenarios:
        t = table[table["scenario"] == sc]
        target = SCENARIOS[sc]
        summ = t.groupby("design", sort=False).agg(
            runs=("new_runs", "median"),
            median_width=("width", "median"),
            mean_width=("width", "mean"),
            median_error=("error", "median"),
            rmse_log=("error", lambda e: float(np.sqrt(np.mean(np.square(e))))),
            coverage=("covered", "mean"),
            interval_score=("score", "mean"),
            no_interval=("width", lambda w: int(w.isna().sum())),
        )
        lines += [
            "",
            f"## Target `{sc}`: N = {target['params']:.3g}, D = {target['tokens']:.3g} "
            f"({target['tokens'] / target['params']:g} tokens/param, true loss "
            f"{float(law(target['params'], target['tokens'])):.4f})",
            "",
            "| design | new runs | median width | mean width | median abs log error | RMSE log error | "
            "coverage | mean interval score | no interval |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for d, r in summ.iterrows():
            lines.append(
                f"| {d} | {r['runs']:.0f} | {100 * r['median_width']:.2f}% | {100 * r['mean_width']:.2f}% | "
                f"{100 * r['median_error']:.2f}% | {100 * r['rmse_log']:.2f}% | {100 * r['coverage']:.0f}% | "
                f"{r['interval_score']:.4f} | {r['no_interval']} |"
            )
        lines += [
            "",
            "Paired over replicates, suggest minus ladder (mean ± standard error; negative favours `suggest`):",
            "",
            "| ladder | width | abs log error | interval score | suggest narrower |",
            "|---|---:|---:|---:|---:|",
        ]
        comparisons = {}
        for base in [d for d in summ.index if d.startswith("ladder")]:
            cmp = {c: paired(t, base, c) for c in ("width", "error", "score")}
            wide = t.pivot(index="rep", columns="design", values="width").dropna()
            frac = float(np.mean(wide["suggest"] < wide[base]))
            comparisons[base] = {**{c: {"mean": m, "se": e} for c, (m, e) in cmp.items()}, "suggest_narrower": frac}
            lines.append(
                f"| {base} | {100 * cmp['width'][0]:+.2f} ± {100 * cmp['width'][1]:.2f} pts | "
                f"{100 * cmp['error'][0]:+.2f} ± {100 * cmp['error'][1]:.2f} pts | "
                f"{cmp['score'][0]:+.4f} ± {cmp['score'][1]:.4f} | {100 * frac:.0f}% |"
            )
        picked = t.loc[t["design"] == "suggest", "chosen"].value_counts()
        lines += ["", "Designs `suggest` chose (replicates): " + "; ".join(f"{k} ({v})" for k, v in picked.items())]
        out["scenarios"][sc] = {
            "target": target,
            "summary": summ.reset_index().to_dict("records"),
            "paired_suggest_minus_ladder": comparisons,
            "chosen": picked.to_dict(),
        }
    lines += [
        "",
        (
            f"`suggest` took {t_suggest:.2f} s per call with its defaults (fit, 31 bootstrap draws, greedy "
            "c-optimal designs + budget ladders, each scored on 128 simulated datasets x 200 run-bootstrap "
            f"resamples of the linearised refit); whole benchmark {elapsed:.0f} s."
        ),
        "",
        (
            f"Command: `python bench/planning_suggest.py --reps {args.reps} --sigma {args.sigma} --boot {args.boot} "
            f"--workers {args.workers}" + (f" --scenario {args.scenario}" if args.scenario != "both" else "") + "`"
        ),
        "",
        f"Machine: {machine}.",
    ]
    (OUT / "planning_suggest.json").write_text(json.dumps(out, indent=1))
    (OUT / "planning_suggest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
