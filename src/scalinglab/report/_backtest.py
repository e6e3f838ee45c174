"""Backtest figure: extrapolation error (ARE) against scale-up factor or fraction of training used."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from scalinglab._validation import check_options
from scalinglab.errors import InvalidParameterError, ScalingLabError
from scalinglab.report._style import figure_context, new_figure, set_scale

__all__ = ["backtest_sweep", "backtest_curve", "plot_backtest"]

_LAW_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def backtest_sweep(data: Any, law: Any = "chinchilla", *, over: str = "fraction",
                   values: Sequence[float] | None = None, max_settings: int = 5, progress=None,
                   **options: Any) -> list:
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
    >>> # sweep = backtest_sweep(runs, ["chinchilla", "kaplan"], over="scale"); plot_backtest(sweep, x="scale")
    """
    from scalinglab.data import CheckpointRule, read_runs
    from scalinglab.evaluate import DEFAULT_POLICY, Policy, backtest

    check_options(over, "over", ("fraction", "scale"), "backtest_sweep")
    runs = read_runs(data)
    policy = options.pop("policy", None) or DEFAULT_POLICY
    if not isinstance(policy, Policy):
        raise InvalidParameterError(f"backtest_sweep(): 'policy' must be a Policy; got {type(policy).__name__}")
    if over == "fraction":
        lo = (policy.checkpoints.window or (0.0, 1.0))[0]
        settings = [{"checkpoints": CheckpointRule.coerce(policy.checkpoints, window=(lo, float(v)))}
                    for v in (values or (0.25, 0.5, 0.75, 1.0)) if float(v) > lo]
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
            xv = (g["target_params"] / g["fit_max_params"]).mean() if x == "scale" else (bt.policy.checkpoints.window or (0.0, 1.0))[1]
            rows.append({"x": float(xv), "law": str(law), "are": float(g["are"].mean()),
                         "baseline_are": float(g["baseline_are"].mean()),
                         "coverage": float(g["coverage"].mean()) if "coverage" in g else np.nan,
                         "targets": int(g["targets"].sum()), "policy": bt.policy.describe()})
    return pd.DataFrame(rows).sort_values(["law", "x"], kind="stable").reset_index(drop=True)


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
    >>> # plot_backtest(backtest_sweep(runs, ["chinchilla", "kaplan"], over="fraction"), x="fraction")
    """
    table = backtest_curve(results, x)
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
        ax.set_title(title or "Backtest: extrapolation error " + ("vs scale-up" if x == "scale" else
                                                                   "vs training used"))
        ax.legend(loc="best", fontsize=7.5)
    return fig
