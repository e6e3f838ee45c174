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

Report
------
build_report     fit, backtest and plan; one offline HTML file (``scalinglab report``)

Example
-------
>>> # from scalinglab.report import build_report, plot_loss, save_figure
>>> # build_report("runs.csv", ["chinchilla", "kaplan"], target="largest", path="report.html")
>>> # save_figure(plot_loss(fit, runs, x="flops", target="largest"), "loss.svg")
"""

from scalinglab.report._backtest import backtest_curve, backtest_sweep, plot_backtest
from scalinglab.report._build import FIGURE_KINDS, Report, build_report, make_figure
from scalinglab.report._common import Target, law_path, resolve_target
from scalinglab.report._curves import plot_compare, plot_loss
from scalinglab.report._diagnostics import plot_parity, plot_residuals
from scalinglab.report._frontier import plot_frontier, plot_isoflop
from scalinglab.report._style import FORMATS, figure_to_svg, save_figure

__all__ = ["plot_loss", "plot_compare", "plot_parity", "plot_residuals", "plot_backtest", "plot_frontier",
           "plot_isoflop", "backtest_sweep", "backtest_curve", "save_figure", "figure_to_svg", "FORMATS",
           "build_report", "Report", "make_figure", "FIGURE_KINDS", "Target", "resolve_target", "law_path"]
