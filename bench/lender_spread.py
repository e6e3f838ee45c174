"""Single-model transfer: do 90% intervals that carry the lenders' disagreement cover the target?

``backtest(..., borrow_from=...)`` holds the size term (A, alpha) of a one-model fit at the median of
the other families' fits.  The fit's own interval knows nothing of how far apart those families are;
since session 10 the cell is refitted with each lending family's own values and the interval's
half-width in log grows by ``t_{k-1} * s * sqrt(1 + 1/k)`` (``s`` the sd of the ``k`` lenders' log
predictions at each target; ``_lender_spread`` in ``evaluate/_backtest.py``).  This script measures
both, on every single-model transfer of the Hitchhiker dev sets and OLMo: each model size ``i`` of a
set (``Policy(fit_models="range:i-i")``, last 80% of its run) predicting the set's largest model,
default calibration (prior from the other groups), 90% new-run intervals.  "before" switches the
spread off (``mock.patch``).

    python bench/lender_spread.py | tee bench/results/lender_spread.txt     # about 1 minute CPU

Reads ``shared/data/hitchhiker`` (skips with a message when absent).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hitchhiker as hh
from scalinglab.data import CheckpointRule
from scalinglab.evaluate import Policy, backtest


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


def main() -> None:
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
