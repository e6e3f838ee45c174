"""``make_figure``: fit a runs table and draw one figure (what ``scalinglab plot KIND`` draws)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from scalinglab._validation import check_options
from scalinglab.data import CheckpointRule, read_runs
from scalinglab.errors import InvalidParameterError
from scalinglab.laws import DEFAULT_LAW
from scalinglab.render import final_rows, plot_compare, plot_loss, plot_parity, plot_residuals
from scalinglab.report._context import default_budgets, fit_laws, looks_isoflop, prepare_runs

__all__ = ["make_figure", "FIGURE_KINDS"]

#: Figures ``scalinglab plot`` can draw.
FIGURE_KINDS = ("loss", "compare", "parity", "residuals", "frontier", "backtest")


def make_figure(
    kind: str,
    runs: Any,
    laws: Sequence = (DEFAULT_LAW,),
    *,
    target: Any = None,
    x: str | None = None,
    inputs: Any = None,
    y: str = "loss",
    min_tokens: float | None = None,
    window: tuple[float, float] | None = None,
    final_only: bool = False,
    checkpoints: CheckpointRule | None = None,
    interval: float = 0.9,
    method: str = "delta",
    fits: Sequence | None = None,
    fit_options: Mapping[str, Any] | None = None,
):
    """One figure from a runs table (what ``scalinglab plot KIND`` draws): fit, then plot.

    ``kind`` is ``loss``, ``compare``, ``parity``, ``residuals``, ``frontier`` or
    ``backtest``; ``x`` is the loss axis (``tokens``, ``params``, ``flops``) or, for
    ``backtest``, ``fraction`` / ``scale``.  ``checkpoints`` (a
    :class:`~scalinglab.data.CheckpointRule`, to which ``min_tokens``, ``window`` and
    ``final_only`` add) selects what the fits see.  ``fits`` skips fitting (e.g. loaded fits).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> N = np.geomspace(1e6, 1e9, 7)
    >>> runs = pd.DataFrame({"run": [f"n{i}" for i in range(7)], "params": N, "loss": 2 + 50 * N ** -0.3})
    >>> fig = make_figure("residuals", runs, ["power_floor"], inputs="params")
    >>> [ax.get_xlabel() for ax in fig.axes][:1]
    ['Parameters N']
    """
    from scalinglab.report import _backtest, _frontier

    check_options(kind, "kind", FIGURE_KINDS, "plot")
    if x is not None:
        check_options(x, "axis", ("fraction", "scale") if kind == "backtest" else ("tokens", "params", "flops"), "plot")
    runs = read_runs(runs)
    if kind == "backtest":
        from scalinglab.evaluate import backtest_sweep

        sweep = backtest_sweep(
            runs, list(laws), over=x or "fraction", x=inputs, y=y, interval=None, fit_options=fit_options
        )
        if not sweep:
            raise InvalidParameterError(
                "plot backtest: no backtest setting could run on this data (it needs at least 3 model sizes)"
            )
        return _backtest.plot_backtest(sweep, x=x or "fraction")
    fit_table, tgt, _ = prepare_runs(
        runs, target, y=y, min_tokens=min_tokens, window=window, final_only=final_only, checkpoints=checkpoints
    )
    fits = list(fits) if fits is not None else fit_laws(fit_table, laws, x=inputs, y=y, fit_options=fit_options)
    frame = runs.frame
    if kind == "loss":
        default_x = "tokens" if frame.groupby("run").size().max() > 1 else "params"
        return plot_loss(fits[0], frame, x=x or default_x, target=tgt, interval=interval, method=method)
    if kind == "compare":
        return plot_compare(fits, frame, x=x or "flops", target=tgt, interval=interval, method=method)
    if kind == "parity":
        return plot_parity(fits[0], frame, target=tgt if tgt is not None and tgt.runs else None)
    if kind == "residuals":
        return plot_residuals(fits[0])
    from scalinglab.plan import compute_optimal, isoflop

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alloc = compute_optimal(fits[0], default_budgets(fit_table.frame, tgt), interval=interval, method=method)
    points = final_rows(frame)
    iso = None
    if looks_isoflop(points):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its flags are drawn: off-centre and shallow valleys
            iso = isoflop(points, estimator="parabola", interval=interval, n_boot=200)
    return _frontier.plot_frontier(fits[0], alloc, runs=points, isoflop=iso)
