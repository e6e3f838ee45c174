"""Borrowing the size term only where a free fit could not set it: where it helps, where it does not.

``backtest(..., borrow_from="others", borrow_when="undetermined")`` fits every cell freely and refits
with the size term (A, alpha) borrowed from the other groups only when the free fit could not set it
(one model size, or A or alpha at a bound).  This script measures that rule, and the wider rule
measured before it (borrow whenever a diagnostic says a size parameter is not determined: at a
bound, an unbounded interval, fewer than three sizes, almost perfectly correlated), on

* the Hitchhiker track-B grid (k smallest models x fraction p of training, 700 cells), per group and
  per diagnostic that triggered the refit;
* track A's candidate settings that have fits at a bound (`bench/hitchhiker.py`'s CANDIDATES).

    python bench/borrow_when.py            # about 6 minutes CPU

Reads ``shared/data/hitchhiker`` (skips with a message when absent).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path
from unittest import mock

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hitchhiker as hh
from scalinglab.evaluate import backtest, backtest_grid
from scalinglab.fit._borrow import size_symbol

#: The wider rule: any diagnostic naming a size parameter or the size input.
WIDER = ("at-bound", "not-identified", "few-distinct-values", "correlated-parameters")


def wider_rule(fit, names):
    size = size_symbol(fit.law, fit.columns)
    wanted = set(names) | ({size} if size else set())
    for d in fit.diagnostics:
        if d.kind in WIDER and wanted.intersection(d.params):
            return f"{d.kind} ({', '.join(d.params)})"
    return None


def grid(runs, rule: str | None) -> pd.DataFrame:
    kw = {} if rule is None else dict(borrow_from="others", borrow_when="undetermined")
    t = time.process_time()
    if rule == "wider":
        with mock.patch("scalinglab.evaluate._backtest.undetermined_size_term", wider_rule):
            bt = backtest_grid(runs, "chinchilla", interval=None, prior_by="group", **kw)
    else:
        bt = backtest_grid(runs, "chinchilla", interval=None, prior_by="group", **kw)
    print(f"track B, {rule or 'free fits'}: {time.process_time() - t:.0f} s CPU", flush=True)
    return bt.scores


def main() -> None:
    if not hh.DATA.exists():
        print(f"skipped: {hh.DATA} not found (set SCALINGLAB_SHARED)")
        return
    warnings.simplefilter("ignore")
    runs = hh.load_runs()
    keys = ["family", "k", "p"]
    free = grid(runs, None)
    print("\n## Track B: mean ARE % per group")
    table = {"free fits": hh._by_group(free)}
    for rule in ("undetermined", "wider"):
        s = grid(runs, rule)
        table[rule] = hh._by_group(s)
        both = free[keys + ["are"]].merge(s[keys + ["are", "borrow_reason"]], on=keys, suffixes=("", "_borrowed"))
        both = both[both["borrow_reason"].notna()]
        both["trigger"] = both["borrow_reason"].str.split(" ").str[0]
        print(f"\n{rule}: {len(both)} cells refitted; mean ARE % of those cells, free fit -> borrowed, by trigger:")
        print(
            (100 * both.groupby("trigger")[["are", "are_borrowed"]].mean())
            .round(1)
            .assign(cells=both.groupby("trigger").size())
            .to_string()
        )
    t = pd.DataFrame(table)
    t.loc["mean"] = t.mean()
    print()
    print((100 * t).round(2).to_string())

    print('\n## Track A candidates: mean ARE % per group, free fits vs borrow_when="undetermined"')
    for name in ("skip20-run", "nearest3-skip0-run", "skip80-run"):
        kw = hh.CANDIDATES[name]
        a = backtest(runs, "chinchilla", interval=None, **kw).scores
        b = backtest(
            runs, "chinchilla", interval=None, borrow_from="others", borrow_when="undetermined", prior_by="group", **kw
        ).scores
        t = pd.DataFrame({"free": hh.per_group(a)["are"], "undetermined": hh.per_group(b)["are"]}).T
        t["macro"] = t.mean(axis=1)
        hit = b["borrow_reason"].notna().sum() if "borrow_reason" in b else 0
        print(f"\n{name}: {hit} set(s) refitted")
        print((100 * t).round(2).to_string())


if __name__ == "__main__":
    main()
