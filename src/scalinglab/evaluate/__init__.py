"""Backtesting scaling laws: hold out the large models, predict them, score the extrapolation.

``backtest(data, law)`` splits each family by a :class:`Policy`, fits the law on
the small models and scores its predictions of the held-out ones (ARE, signed
error, RMSE of log-loss, interval coverage) against the best-loss-seen baseline.
"""

from scalinglab.evaluate._backtest import DEFAULT_POLICY, Backtest, backtest
from scalinglab.evaluate._metrics import are, best_seen, coverage, rmse_log, score, signed_error
from scalinglab.evaluate._policies import Policy, split
from scalinglab.evaluate._select import DEFAULT_CANDIDATES, MedianFit, Selection, select_law

__all__ = [
    "backtest",
    "Backtest",
    "Policy",
    "DEFAULT_POLICY",
    "split",
    "are",
    "signed_error",
    "rmse_log",
    "coverage",
    "best_seen",
    "score",
    "select_law",
    "Selection",
    "DEFAULT_CANDIDATES",
    "MedianFit",
]

# backtest sweeps (one backtest per setting of one policy knob) and the ARE curve they trace
from scalinglab.evaluate._sweep import backtest_curve, backtest_sweep

__all__ += ["backtest_sweep", "backtest_curve"]

# group-wise work: the Hitchhiker's Guide tracks B-D as grids of cells, borrowing across groups, seeds
from scalinglab.evaluate._grid import (  # noqa: E402
    FRACTIONS,
    backtest_grid,
    backtest_trajectory,
    backtest_windows,
    grid_table,
    plot_backtest_grid,
)
from scalinglab.evaluate._seeds import average_seeds, pair_spread, seed_spread  # noqa: E402
from scalinglab.fit._borrow import (  # noqa: E402
    combine_params,
    combine_pivoted,
    lending_problem,
    rescaled,
    size_coupled,
    size_terms,
    undetermined_size_term,
)

__all__ += [
    "backtest_grid",
    "backtest_windows",
    "backtest_trajectory",
    "grid_table",
    "plot_backtest_grid",
    "FRACTIONS",
    "size_coupled",
    "combine_params",
    "combine_pivoted",
    "lending_problem",
    "rescaled",
    "undetermined_size_term",
    "size_terms",
    "average_seeds",
    "seed_spread",
    "pair_spread",
]
