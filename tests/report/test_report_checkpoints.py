"""build_report takes the one checkpoint rule (checkpoints=CheckpointRule(...)) besides its keywords."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab.data import CheckpointRule
from scalinglab.report import build_report


def runs_with_checkpoints() -> pd.DataFrame:
    """Seven runs, four checkpoints each (at 10%, 22%, 46% and 100% of training), on a power law in N and D."""
    rows = []
    for N in np.geomspace(1e6, 1e8, 7):
        for D in np.geomspace(2 * N, 20 * N, 4):
            rows.append({"run": f"n{N:.0e}", "params": N, "tokens": D, "loss": 1.8 + 400 / N**0.34 + 410 / D**0.28})
    return pd.DataFrame(rows)


def quick(**kw):
    return build_report(
        runs_with_checkpoints(), "chinchilla", method="delta", backtest=False, plan=False, progress=False, **kw
    )


@pytest.mark.slow
def test_checkpoint_rule_selects_what_the_fits_see():
    by_rule = quick(checkpoints=CheckpointRule(window=(0.4, 1.0)))
    by_keyword = quick(window=(0.4, 1.0))
    for report in (by_rule, by_keyword):
        assert report.fits[0].n_points == 14  # the last two of each run's four checkpoints
        assert "drop the first 40% of each run" in report.html  # the data section records the rule
    assert by_rule.fits[0].params == by_keyword.fits[0].params
    # the keywords add to the rule
    both = quick(checkpoints=CheckpointRule(window=(0.4, 1.0)), final_only=True)
    assert both.fits[0].n_points == 7 and "final checkpoint of each run only" in both.html
