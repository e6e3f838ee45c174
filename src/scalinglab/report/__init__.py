"""Figures and a self-contained HTML report for scaling-law fits.

Figures (matplotlib ``Figure`` objects; save as PNG, SVG or PDF with :func:`save_figure`)
-------------------------------------------------------------------------------------------
plot_loss        loss against N, D or C: runs, fitted law, extrapolation band, actual target
plot_compare     several laws (or families) on one figure
plot_parity      predicted against observed
plot_residuals   log residuals against each input
plot_backtest    ARE against scale-up factor or fraction of training used, with the baseline
plot_frontier    iso-loss contours in (N, D), compute-optimal allocation with its band
plot_isoflop     isoFLOP valleys with their minima

make_figure      fit a runs table and draw one of the above (``scalinglab plot KIND``)

The figures of runs and fits and the style they share live in :mod:`scalinglab.render`
(re-exported here); the backtest sweeps are :func:`scalinglab.evaluate.backtest_sweep`
and :func:`scalinglab.evaluate.backtest_curve` (the names here are deprecated aliases).

Report
------
build_report     fit, backtest and plan; one offline HTML file (``scalinglab report``)

The report is a list of registered sections (:func:`scalinglab.render.register_section`);
an analysis in :mod:`scalinglab.analyze` adds its own section from its module.

Example
-------
>>> import numpy as np, pandas as pd
>>> N = np.geomspace(1e6, 1e9, 7)
>>> runs = pd.DataFrame({"run": [f"n{i}" for i in range(7)], "params": N, "loss": 2 + 50 * N ** -0.3})
>>> fig = make_figure("loss", runs, ["power_floor"], inputs="params", target="n6")
>>> fig.axes[0].get_xscale(), fig.axes[0].get_ylabel()
('log', 'Loss (nats/token)')

``build_report("runs.csv", ["chinchilla", "kaplan"], target="largest", path="report.html")``
writes the whole report (about a minute for a ladder of a dozen runs).
"""

from scalinglab.render import (
    FORMATS,
    Target,
    figure_to_svg,
    law_path,
    plot_compare,
    plot_loss,
    plot_parity,
    plot_residuals,
    resolve_target,
    save_figure,
)
from scalinglab.report._backtest import backtest_curve, backtest_sweep, plot_backtest
from scalinglab.report._build import Report, build_report
from scalinglab.report._context import ReportContext
from scalinglab.report._figures import FIGURE_KINDS, make_figure
from scalinglab.report._frontier import plot_frontier, plot_isoflop

__all__ = [
    "plot_loss",
    "plot_compare",
    "plot_parity",
    "plot_residuals",
    "plot_backtest",
    "plot_frontier",
    "plot_isoflop",
    "backtest_sweep",
    "backtest_curve",
    "save_figure",
    "figure_to_svg",
    "FORMATS",
    "build_report",
    "Report",
    "ReportContext",
    "make_figure",
    "FIGURE_KINDS",
    "Target",
    "resolve_target",
    "law_path",
]
