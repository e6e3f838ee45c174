"""Single-model transfer: do 90% intervals that carry the lenders' disagreement cover the target?

``backtest(..., borrow_from=...)`` holds the size term (A, alpha) of a one-model fit at the median of
the other families' fits.  The fit's own interval knows nothing of how far apart those families are;
since session 10 the cell is refitted with each lending family's own values and the interval's
half-width in log grows by ``t_{k-1} * s * sqrt(1 + 1/k)`` (``s`` the sd of the ``k`` lenders' log
predictions at each target; ``widen_by_lenders`` in ``fit/_borrow.py``).  This script measures
both, on every single-model transfer of the Hitchhiker dev sets and OLMo: each model size ``i`` of a
set (``Policy(fit_models="range:i-i")``, last 80% of its run) predicting the set's largest model,
default calibration (prior from the other groups), 90% new-run intervals.  "before" switches the
spread off (``mock.patch``).

    python bench/lender_spread.py | tee bench/results/lender_spread.txt     # about 1 minute CPU

Reads ``shared/data/hitchhiker`` (skips with a message when absent).

``--simulate R``: the construction checked where its assumption holds by design.  Each of ``R``
simulated tables holds five families of ``E + A/N^alpha + B/D^beta`` whose size terms are draws from
one population (alpha ~ N(0.34, 0.03), log A ~ N(log 400, 0.3), E ~ U(1.6, 2.0), 0.3% noise): four
ladders of five sizes (1e7-1e9, eight checkpoints each) and a target family with its 3e8 model only.
``fit(..., by="family", borrow_from="others")`` borrows the target's size term and
``FitSet.predict`` gives the 90% interval of its mean loss at 3e9 parameters, 6e10 tokens (10x the
fitted size), with and without the lenders' spread; the share of tables whose interval holds the true
value is the coverage (nominal 90%).  The families share loss units here, so ``borrow_scale="absolute"``
is the one whose assumption holds; the default ``"relative"`` is run beside it.

    python bench/lender_spread.py --simulate 300 | tee bench/results/lender_spread_sim.txt   # about 10 minutes CPU
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hitchhiker as hh
from scalinglab.data import CheckpointRule
from scalinglab.evaluate import Policy, backtest
from scalinglab.fit import fit


def cells(runs, spread: bool) -> pd.DataFrame:
    parts = []
    for i in range(1, 9):
        pol = Policy(fit_models=f"range:{i}-{i}", checkpoints=CheckpointRule(window=(0.2, 1.0)))
        kw = dict(borrow_from=hh.SETS, prior_by="group", interval=0.9, n_resamples=50)
        if spread:
            bt = backtest(runs, "chinchilla", pol, **kw)
        else:
            with mock.patch("scalinglab.evaluate._backtest._lender_spread", lambda *a: None):
                bt = backtest(runs, "chinchilla", pol, **kw)
        pe = bt.predictions
        width = np.log(pe["upper"] / pe["lower"]).groupby(pe["family"]).median().rename("width")
        parts.append(bt.scores.merge(width, left_on="family", right_index=True, how="left").assign(size_index=i))
    d = pd.concat(parts, ignore_index=True)
    d = d[d["error"].isna()].copy()
    d["group"] = d["family"].map(lambda f: "GPT2-c4" if f.startswith("GPT2") else f)
    return d


def simulated_table(rng: np.random.Generator) -> tuple[pd.DataFrame, float]:
    """Five families whose size terms come from one population; the target ('new') has one model size.
    Returns the table and the target's true mean loss at N = 3e9, D = 6e10."""
    rows, truth = [], None
    for name in ("a", "b", "c", "d", "new"):
        alpha, A, E = rng.normal(0.34, 0.03), 400 * np.exp(rng.normal(0, 0.3)), rng.uniform(1.6, 2.0)
        sizes = (3e8,) if name == "new" else (1e7, 3e7, 1e8, 3e8, 1e9)
        for N in sizes:
            for f in np.linspace(0.125, 1.0, 8):
                D = 20 * N * f
                loss = (E + A / N**alpha + 410 / D**0.28) * np.exp(rng.normal(0, 0.003))
                rows.append({"family": name, "run": f"{name}-{N:g}", "params": N, "tokens": D, "loss": loss})
        if name == "new":
            truth = E + A / 3e9**alpha + 410 / 6e10**0.28
    return pd.DataFrame(rows), float(truth)


def simulate(replicates: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    keys = [(scale, how) for scale in ("absolute", "relative") for how in ("fit alone", "with the lenders' spread")]
    inside: dict = {k: [] for k in keys}
    width: dict = {k: [] for k in keys}
    err: dict = {scale: [] for scale in ("absolute", "relative")}
    t = time.process_time()
    for r in range(replicates):
        table, truth = simulated_table(rng)
        for scale in ("absolute", "relative"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fs = fit(table, "chinchilla", by="family", borrow_from="others", borrow_scale=scale)
                if "new" not in fs.borrowed:
                    continue
                alone = fs["new"].predict(params=3e9, tokens=6e10, interval=0.9)
                wide = fs.predict("new", params=3e9, tokens=6e10, interval=0.9)
            err[scale].append(abs(float(wide["estimate"].iloc[0]) / truth - 1))
            for how, p in (("fit alone", alone), ("with the lenders' spread", wide)):
                lo, hi = float(p["lower"].iloc[0]), float(p["upper"].iloc[0])
                inside[(scale, how)].append(lo <= truth <= hi)
                width[(scale, how)].append(np.log(hi / lo))
        if (r + 1) % 50 == 0:
            print(f"  {r + 1}/{replicates} tables", flush=True)
    print(f"\nSimulated single-model transfer, {replicates} tables ({time.process_time() - t:.0f} s CPU)")
    print("90% interval of the target family's mean loss at 10x its one model size (nominal 90%):")
    for scale, how in keys:
        n = len(inside[(scale, how)])
        cov = float(np.mean(inside[(scale, how)]))
        se = np.sqrt(cov * (1 - cov) / max(n, 1))
        print(
            f"  borrow_scale={scale:<9} {how:<26} coverage {100 * cov:.1f}% (+/- {100 * se:.1f}, {n} tables), "
            f"median width {np.median(width[(scale, how)]):.3f} in log"
        )
    for scale, e in err.items():
        print(f"  borrow_scale={scale:<9} mean |relative error| of the prediction {100 * np.mean(e):.2f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simulate", type=int, metavar="R", help="coverage on R simulated tables instead of the data")
    args = ap.parse_args()
    if args.simulate:
        simulate(args.simulate)
        return
    if not hh.DATA.exists():
        print(f"skipped: {hh.DATA} not found (set SCALINGLAB_SHARED)")
        return
    runs = hh.load_runs(sets=hh.SETS + ["olmo"])
    out = {}
    for name, spread in (("before", False), ("after", True)):
        t = time.process_time()
        out[name] = cells(runs, spread)
        print(f"{name}: {len(out[name])} cells, {time.process_time() - t:.0f} s CPU", flush=True)
    rows = []
    for g, b in out["before"].groupby("group"):
        a = out["after"][out["after"]["group"] == g]
        rows.append(
            {
                "group": g,
                "cells": len(b),
                "mean ARE %": 100 * b["are"].mean(),
                "coverage before %": 100 * b["coverage"].mean(),
                "width before": b["width"].median(),
                "coverage after %": 100 * a["coverage"].mean(),
                "width after": a["width"].median(),
                "lender sd (median)": a["lender_sd"].median(),
            }
        )
    table = pd.DataFrame(rows).set_index("group")
    print()
    print("Single-model transfer, every fit size -> the set's largest model; 90% new-run intervals")
    print("(coverage: mean over cells of the share of target checkpoints inside; width: median log(upper/lower))")
    print(table.round(3).to_string())
    inside = {
        k: int(((v.groupby("group")["coverage"].mean() >= 0.8) & (v.groupby("group")["coverage"].mean() <= 0.97)).sum())
        for k, v in out.items()
    }
    for k, v in out.items():
        print(
            f"{k}: pooled coverage {100 * v['coverage'].mean():.1f}% over {len(v)} cells, median width "
            f"{v['width'].median():.3f}; groups inside 80-97%: {inside[k]}/{v['group'].nunique()}"
        )


if __name__ == "__main__":
    main()
