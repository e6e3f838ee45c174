"""Backtest figure: extrapolation error (ARE) against scale-up factor or fraction of training used.

The sweeps it draws are evaluation: :func:`scalinglab.evaluate.backtest_sweep` and
:func:`scalinglab.evaluate.backtest_curve` (``scalinglab.report.backtest_sweep`` and
``backtest_curve`` are deprecated aliases).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from scalinglab.evaluate import _sweep
from scalinglab.render import figure_context, new_figure, set_scale

__all__ = ["plot_backtest", "backtest_sweep", "backtest_curve"]

_LAW_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def backtest_sweep(*args: Any, **kwargs: Any) -> list:
    """Deprecated alias of :func:`scalinglab.evaluate.backtest_sweep` (the sweep is evaluation, not report)."""
    warnings.warn(
        "scalinglab.report.backtest_sweep is deprecated; use scalinglab.evaluate.backtest_sweep",
        DeprecationWarning,
        stacklevel=2,
    )
    return _sweep.backtest_sweep(*args, **kwargs)


def backtest_curve(*args: Any, **kwargs: Any):
    """Deprecated alias of :func:`scalinglab.evaluate.backtest_curve`."""
    warnings.warn(
        "scalinglab.report.backtest_curve is deprecated; use scalinglab.evaluate.backtest_curve",
        DeprecationWarning,
        stacklevel=2,
    )
    return _sweep.backtest_curve(*args, **kwargs)


def plot_backtest(results: Any, *, x: str = "fraction", title: str | None = None):
    """ARE of each law's extrapolation against scale-up factor or fraction of training used.

    Each line is one law (ARE = mean |y - yhat| / y over the held-out checkpoints,
    averaged over families); the dashed grey line is the best-seen baseline
    (predict the lowest loss in the fit set): a law is only useful where it is
    below that line.

    Parameters
    ----------
    results : Backtest or sequence of Backtest
        E.g. from :func:`backtest_sweep`.
    x : {"fraction", "scale"}

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> N = np.repeat([1e6, 3e6, 1e7, 3e7, 1e8], 3); D = np.tile([0.3, 0.6, 1.0], 5) * 20 * N
    >>> runs = pd.DataFrame({"run": [f"n{n:.0e}" for n in N], "params": N, "tokens": D,
    ...                      "loss": 1.8 + 400 / N ** 0.34 + 410 / D ** 0.28})
    >>> from scalinglab.evaluate import backtest_sweep
    >>> sweep = backtest_sweep(runs, "power_floor", over="scale", x="params", interval=None)
    >>> plot_backtest(sweep, x="scale").axes[0].get_xlabel()
    'Scale-up factor (held-out N / largest fitted N)'
    """
    table = _sweep.backtest_curve(results, x)
    from matplotlib.ticker import PercentFormatter

    with figure_context():
        fig, axes = new_figure(width=6.2, height=3.9)
        ax = axes[0, 0]
        base = table.groupby("x", as_index=False)["baseline_are"].mean()
        ax.plot(base["x"], base["baseline_are"], "--s", color="0.45", ms=4, lw=1.2, label="best loss seen (baseline)")
        for i, (law, g) in enumerate(table.groupby("law", sort=False)):
            ax.plot(g["x"], g["are"], "-o", color=_LAW_COLORS[i % len(_LAW_COLORS)], ms=4.5, lw=1.5, label=law)
        yv = np.concatenate([table["are"].to_numpy(float), table["baseline_are"].to_numpy(float)])
        yv = yv[np.isfinite(yv) & (yv > 0)]
        if x == "scale":
            scale = set_scale(ax, "x", table["x"].to_numpy(float), force_log=table["x"].max() / table["x"].min() > 3)
            if scale == "log":
                from matplotlib.ticker import FuncFormatter, LogLocator

                ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=12))
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
            ax.set_xlabel("Scale-up factor (held-out N / largest fitted N)")
        else:
            ax.set_xlim(0, 1.05)
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_xlabel("Fraction of each fitted run's training used")
        set_scale(ax, "y", yv if yv.size else [1e-3, 1e-1])
        from matplotlib.ticker import FuncFormatter

        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.3g}%"))
        ax.set_ylabel("ARE on held-out checkpoints")
        ax.set_title(
            title or "Backtest: extrapolation error " + ("vs scale-up" if x == "scale" else "vs training used")
        )
        ax.legend(loc="best", fontsize=7.5)
    return fig
