"""``build_report``: fit, backtest and plan from one runs table, and write one self-contained HTML file.

The report is assembled from registered sections (:func:`scalinglab.render.register_section`):
``build_report`` prepares one shared :class:`~scalinglab.report._context.ReportContext`
(runs, fit table, target, options; the fits on first use) and calls every provider in
page order.  The built-in sections live in :mod:`scalinglab.report._sections`, the
analyses' in :mod:`scalinglab.analyze`; adding a section edits neither this module nor
the progress count (each provider declares its progress weight).  A section whose API
is missing from this build is left out with a visible note; it is never approximated.
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import scalinglab.analyze as _analyses  # noqa: F401  (registers the analyses' report sections)
from scalinglab._io import write_atomic
from scalinglab._validation import check_fraction, check_options
from scalinglab._version import __version__
from scalinglab.data import CheckpointRule, read_runs
from scalinglab.errors import InvalidParameterError, ScalingLabError
from scalinglab.laws import DEFAULT_LAW
from scalinglab.render import FigureRenderer, Section, Target, escape, section_providers
from scalinglab.report import _sections  # noqa: F401  (registers the built-in sections)
from scalinglab.report._context import Progress, ReportContext, analysis_options, checkpoint_rule, prepare_runs
from scalinglab.report._html import render_page
from scalinglab.report._sections import (
    section_backtest,
    section_compare,
    section_data,
    section_figures,
    section_fits,
    section_plan,
    section_predictions,
    section_reproduce,
)
from scalinglab.report._sections.reproduce import report_meta

__all__ = [
    "Report",
    "build_report",
    "section_data",
    "section_fits",
    "section_predictions",
    "section_figures",
    "section_compare",
    "section_backtest",
    "section_plan",
    "section_reproduce",
]


@dataclass(frozen=True)
class Report:
    """A built report (immutable): the HTML text and the results it shows.

    Attributes
    ----------
    html : str
        The complete, self-contained document.
    sections : tuple of Section
        In page order; ``status`` is ``"ok"``, ``"missing"`` (API not in this build), ``"skipped"``
        (turned off) or ``"error"`` (the data could not support it).
    fits : tuple of Fit
    target : Target or None
    backtests : tuple
        :class:`scalinglab.evaluate.Backtest` results (empty when left out).
    allocation : Allocation or None
        Compute-optimal allocation (``scalinglab.plan.compute_optimal``).
    meta : dict
        Command, versions, timing.
    results : dict
        What the sections computed, by name (e.g. ``"families"``: a
        :class:`~scalinglab.analyze.FamiliesResult`).
    """

    html: str
    sections: tuple[Section, ...]
    fits: tuple = ()
    target: Target | None = None
    backtests: tuple = ()
    allocation: Any = None
    isoflop: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def left_out(self) -> list[str]:
        """Titles of the sections left out (API not available or not applicable)."""
        return [s.title for s in self.sections if s.status != "ok"]

    def save(self, path: str | Path) -> Path:
        """Write the HTML atomically and return the path."""
        return write_atomic(path, self.html)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sections": [s.to_dict() for s in self.sections],
            "left_out": self.left_out,
            "laws": [f.law.name for f in self.fits],
            "target": self.target.to_dict() if self.target else None,
            "figures": sum(len(s.figures) for s in self.sections),
            "meta": dict(self.meta),
            "bytes": len(self.html.encode()),
        }


def build_report(
    data: Any,
    law: Any = DEFAULT_LAW,
    *,
    target: Any = None,
    x: Mapping[str, str] | str | None = None,
    y: str = "loss",
    min_tokens: float | None = None,
    window: tuple[float, float] | None = None,
    final_only: bool = False,
    checkpoints: CheckpointRule | None = None,
    interval: float = 0.9,
    method: str = "auto",
    backtest: bool = True,
    backtest_over: Sequence[str] = ("fraction", "scale"),
    plan: bool = True,
    flops: Sequence[float] | None = None,
    fit_options: Mapping[str, Any] | None = None,
    analyses: Mapping[str, Mapping[str, Any] | bool] | None = None,
    title: str | None = None,
    command: str | None = None,
    progress: bool = True,
    path: str | Path | None = None,
) -> Report:
    """Fit, backtest and plan from one runs table; return (and optionally write) a self-contained HTML report.

    The page holds the data summary (runs, ranges, selection applied), each fit's
    summary with intervals and diagnostics, predictions at the target, the
    backtest leaderboard, compute-optimal planning, the figures (inline SVG) and the
    exact command and package version.  It opens offline: no external scripts,
    styles or fonts (a Content-Security-Policy forbids any fetch).

    Parameters
    ----------
    data : RunsTable, DataFrame or path
    law : str, Law or list of them
        Laws to fit and compare; the first is the main one (figures, planning).
    target : run id, "largest" or mapping, optional
        Extrapolation target.  Runs it names are held out of the fits and shown as
        the actual target; a mapping ``{"params": ..., "tokens": ...}`` is a point.
    x, y : optional
        Law inputs and target column, as in :func:`scalinglab.fit`.
    checkpoints : CheckpointRule, optional
        Checkpoint selection applied before fitting (and by the backtest's policy);
        ``min_tokens``, ``window`` and ``final_only`` add to it (see
        :class:`scalinglab.data.CheckpointRule`).
    interval : float
        Interval level everywhere (0.9 = 90%).
    method : {"auto", "delta", "bootstrap"}
        Uncertainty method for parameter and prediction intervals and planning:
        ``"auto"`` is the run bootstrap when the fits have at least 5 runs (the delta
        method understates uncertainty), else the delta method, as in ``Fit.summary``.
    backtest, plan : bool
        Include the backtest and planning sections (left out with a note when the
        needed API is not available or the data cannot support them).
    backtest_over : sequence of {"fraction", "scale"}
        Backtest sweeps drawn as figures.
    flops : sequence of float, optional
        Compute budgets for planning (default: 8 budgets from the smallest fitted run's
        compute to 100x the largest's, or 3x the target's if that is larger).
    fit_options : mapping, optional
        Extra arguments for :func:`scalinglab.fit`.
    analyses : mapping, optional
        Sections to switch on, by registered name, with their options: ``{"trends":
        {"metric": "acc", "by": "task"}}`` passes those keywords to that section's
        analysis; ``True`` turns it on with its defaults.  The names are the registered
        section providers (:func:`scalinglab.render.section_providers`).
    command : str, optional
        The command shown under "Reproduce" (the CLI passes its argv).
    progress : bool
        Show a progress bar on stderr while building.
    path : path, optional
        Also write the HTML there (atomically).

    Returns
    -------
    Report

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> N = np.geomspace(1e6, 1e9, 7)
    >>> runs = pd.DataFrame({"run": [f"n{i}" for i in range(7)], "params": N, "loss": 2 + 50 * N ** -0.3})
    >>> r = build_report(runs, "power_floor", x="params", method="delta", backtest=False, plan=False, progress=False)
    >>> [s.id for s in r.sections], r.left_out
    (['data', 'fits', 'predictions', 'figures-power_floor', 'backtest', 'plan', 'reproduce'], \
['Predictions', 'Backtest', 'Compute-optimal planning'])

    A full report from a file: ``build_report("runs.csv", ["chinchilla", "kaplan"],
    target="largest", path="report.html")`` (about a minute on a ladder of a dozen runs).
    """
    started = time.perf_counter()
    check_fraction(interval, "interval", "build_report")
    check_options(method, "method", ("auto", "delta", "bootstrap"), "build_report")
    for o in backtest_over:
        check_options(o, "backtest_over", ("fraction", "scale"), "build_report")
    laws = [law] if not isinstance(law, (list, tuple)) else list(law)
    if not laws:
        raise InvalidParameterError(
            "build_report(): give at least one law", hint="e.g. build_report(runs, ['chinchilla', 'kaplan'])"
        )
    options = {"data": data, "backtest": backtest, "backtest_over": tuple(backtest_over), "plan": plan, "flops": flops}
    extra = analysis_options(analyses, [p.name for p in section_providers()], reserved=list(options))
    runs = read_runs(data)
    rule = checkpoint_rule(checkpoints, min_tokens=min_tokens, window=window, final_only=final_only)
    fit_table, tgt, notes = prepare_runs(runs, target, y=y, checkpoints=rule)
    if method == "auto":
        from scalinglab.fit._summary import MIN_RUNS_FOR_BOOTSTRAP

        method = "bootstrap" if fit_table.frame["run"].nunique() >= MIN_RUNS_FOR_BOOTSTRAP else "delta"
    ctx = ReportContext(
        runs=runs,
        fit_table=fit_table,
        target=tgt,
        target_spec=target,
        notes=notes,
        laws=laws,
        x=x,
        y=y,
        interval=interval,
        method=method,
        fit_options=dict(fit_options or {}),
        checkpoints=rule,
        command=command,
        render=FigureRenderer(),
        have=lambda m: _have(m),
        options={**options, **extra},
        started=started,
    )
    providers = section_providers()
    weights = [p.steps(ctx) for p in providers]
    sections: list[Section] = []
    with Progress(progress, sum(weights)) as bar, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx.progress = bar
        done = 0
        for provider, weight in zip(providers, weights):
            sections.extend(_run_provider(provider, ctx))
            done += weight
            bar.advance_to(done)  # a section that took fewer steps than it declared
    meta = ctx.results.get("meta") or report_meta(ctx)
    fits = ctx.fits
    laws_txt = ", ".join(f.law.name for f in fits)
    page = render_page(
        title=title or f"Scaling-law report: {laws_txt}",
        subtitle=f"{runs.source} · {runs.frame['run'].nunique()} runs · "
        f"{tgt.label if tgt is not None else 'no target'} · scalinglab {__version__}",
        sections=sections,
        footer=f"Generated by <code>{escape(meta['command'])}</code> with scalinglab "
        f"{escape(__version__)}. Self-contained: figures are inline SVG; no network access is "
        "needed.",
    )
    report = Report(
        html=page,
        sections=tuple(sections),
        fits=tuple(fits),
        target=tgt,
        backtests=tuple(ctx.results.get("backtests", ())),
        allocation=ctx.results.get("allocation"),
        isoflop=ctx.results.get("isoflop"),
        meta=meta,
        results=dict(ctx.results),
    )
    if path is not None:
        report.save(path)
    return report


def _run_provider(provider, ctx: ReportContext) -> list[Section]:
    """The provider's sections (none when it returns None); a data error becomes a visible "left out" note."""
    try:
        out = provider.func(ctx)
    except ScalingLabError as exc:
        if provider.name in _CORE:  # the fits themselves failed: nothing else can be reported
            raise
        return [
            Section(
                provider.name,
                provider.title,
                "",
                status="error",
                note=f"Left out: {provider.title} could not run on this data ({str(exc).splitlines()[0]}).",
            )
        ]
    if out is None:
        return []
    return [out] if isinstance(out, Section) else list(out)


#: Sections whose failure is the report's failure (the data or the fits are unusable).
_CORE = frozenset({"data", "fits", "predictions", "figures", "compare", "reproduce"})


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
