"""Backtest sweeps: one backtest per setting of one policy knob, and the tidy ARE curve they trace.

``backtest_sweep(data, law, over="fraction")`` refits on a growing fraction of every
fit run's training; ``over="scale"`` on a growing number of model sizes, so the
held-out largest model is a shrinking multiple of the largest fitted one.
``backtest_curve`` turns the results into the table behind the report's backtest
figures (``scalinglab.report.plot_backtest``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._validation import check_options
from scalinglab.data import CheckpointRule, read_runs
from scalinglab.errors import InvalidParameterError, ScalingLabError
from scalinglab.evaluate._backtest import DEFAULT_POLICY, backtest
from scalinglab.evaluate._policies import Policy
from scalinglab.laws import DEFAULT_LAW

__all__ = ["backtest_sweep", "backtest_curve"]


def backtest_sweep(
    data: Any,
    law: Any = DEFAULT_LAW,
    *,
    over: str = "fraction",
    values: Sequence[float] | None = None,
    max_settings: int = 5,
    progress=None,
    **options: Any,
) -> list:
    """Run :func:`scalinglab.evaluate.backtest` once per setting of one policy knob.

    ``over="fraction"``: fit on the first ``v`` of every fit run's training, for
    each ``v`` in ``values`` (default 0.25, 0.5, 0.75, 1).  ``over="scale"``: fit
    the ``k`` smallest sizes for up to ``max_settings`` values of k from 2 to all
    other sizes, so the held-out largest model is a growing multiple of the largest
    fitted one.  Settings the data
    cannot support (an empty fit set) are skipped.

    Returns
    -------
    list of Backtest

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> N = np.repeat([1e6, 3e6, 1e7, 3e7, 1e8], 3); D = np.tile([0.3, 0.6, 1.0], 5) * 20 * N
    >>> runs = pd.DataFrame({"run": [f"n{n:.0e}" for n in N], "params": N, "tokens": D,
    ...                      "loss": 1.8 + 400 / N ** 0.34 + 410 / D ** 0.28})
    >>> sweep = backtest_sweep(runs, "power_floor", over="scale", x="params", interval=None)
    >>> backtest_curve(sweep, "scale")["x"].round(2).tolist()   # held-out size / largest fitted size
    [3.33, 10.0, 33.33]
    """
    check_options(over, "over", ("fraction", "scale"), "backtest_sweep")
    runs = read_runs(data)
    policy = options.pop("policy", None) or DEFAULT_POLICY
    if not isinstance(policy, Policy):
        raise InvalidParameterError(f"backtest_sweep(): 'policy' must be a Policy; got {type(policy).__name__}")
    if over == "fraction":
        lo = (policy.checkpoints.window or (0.0, 1.0))[0]
        settings = [
            {"checkpoints": CheckpointRule.coerce(policy.checkpoints, window=(lo, float(v)))}
            for v in (values or (0.25, 0.5, 0.75, 1.0))
            if float(v) > lo
        ]
    else:
        n_sizes = int(runs.frame["params"].nunique()) - (policy.holdout_k or 1)
        if values is not None:
            ks = [int(v) for v in values]
        else:  # at most ``max_settings`` fit-set sizes, spread evenly from 2 to all
            ks = sorted({int(round(k)) for k in np.linspace(2, n_sizes, min(max_settings, max(n_sizes - 1, 0)))})
        settings = [{"fit_models": f"smallest:{k}"} for k in ks if 1 <= k <= n_sizes]
    out = []
    for change in settings:
        try:  # settings the data (or the other policy rules) cannot support are skipped
            out.append(backtest(runs, law, policy=policy.replace(**change), **options))
        except ScalingLabError:
            pass
        if progress is not None:
            progress()
    return out


def backtest_curve(results: Any, x: str = "fraction") -> pd.DataFrame:
    """Tidy table behind :func:`plot_backtest`: one row per (setting, law) with ``x``, ARE and baseline ARE.

    ``x="scale"``: held-out model size / largest fitted size; ``x="fraction"``: the
    policy's fraction of training used.  Scores are averaged over families.
    """
    check_options(x, "x", ("fraction", "scale"), "plot_backtest")
    results = [results] if hasattr(results, "scores") else list(results)
    if not results:
        raise InvalidParameterError("plot_backtest(): no backtest results to draw")
    rows = []
    for bt in results:
        s = bt.scores
        for law, g in s.groupby("law", sort=False):
            if x == "scale":
                xv = (g["target_params"] / g["fit_max_params"]).mean()
            else:
                xv = (bt.policy.checkpoints.window or (0.0, 1.0))[1]
            rows.append(
                {
                    "x": float(xv),
                    "law": str(law),
                    "are": float(g["are"].mean()),
                    "baseline_are": float(g["baseline_are"].mean()),
                    "coverage": float(g["coverage"].mean()) if "coverage" in g else np.nan,
                    "targets": int(g["targets"].sum()),
                    "policy": bt.policy.describe(),
                }
            )
    return pd.DataFrame(rows).sort_values(["law", "x"], kind="stable").reset_index(drop=True)
