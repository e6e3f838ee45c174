"""``build_report``: fit, backtest and plan from one runs table, and write one self-contained HTML file.

Each section is produced by a small ``section_*`` function that takes the relevant
result object (runs, fits, backtests, allocation) and returns a :class:`Section`.
A section whose API is missing from this build is left out with a visible note;
it is never approximated.
"""

from __future__ import annotations

import datetime as _dt
import html
import importlib.util
import platform
import shlex
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from scalinglab._io import write_atomic
from scalinglab._validation import check_fraction, check_options
from scalinglab.errors import InvalidParameterError, ScalingLabError
from scalinglab.report._common import Target, final_rows, resolve_target
from scalinglab.report._html import Section, figure_html, fmt, kv_html, note_html, render_page, table_html
from scalinglab.report._style import figure_to_svg

__all__ = ["Report", "build_report", "prepare_runs", "make_figure", "FIGURE_KINDS", "command_line", "section_data", "section_fits", "section_predictions", "section_figures",
           "section_compare", "section_backtest", "section_plan", "section_reproduce"]

e = html.escape


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
    """

    html: str
    sections: tuple[Section, ...]
    fits: tuple = ()
    target: Target | None = None
    backtests: tuple = ()
    allocation: Any = None
    isoflop: Any = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def left_out(self) -> list[str]:
        """Titles of the sections left out (API not available or not applicable)."""
        return [s.title for s in self.sections if s.status != "ok"]

    def save(self, path: str | Path) -> Path:
        """Write the HTML atomically and return the path."""
        return write_atomic(path, self.html)

    def to_dict(self) -> dict[str, Any]:
        return {"sections": [s.to_dict() for s in self.sections], "left_out": self.left_out,
                "laws": [f.law.name for f in self.fits], "target": self.target.to_dict() if self.target else None,
                "figures": sum(len(s.figures) for s in self.sections), "meta": dict(self.meta),
                "bytes": len(self.html.encode())}


# ----------------------------------------------------------------------------- figures


class _Figures:
    """Renders figures to inline SVG with unique ids (and remembers them per section)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, fig, fig_id: str, caption: str) -> str:
        self.count += 1
        svg = figure_to_svg(fig, prefix=f"f{self.count}")
        return figure_html(svg, fig_id, caption)


# ----------------------------------------------------------------------------- sections


def section_data(all_runs: pd.DataFrame, fitted: pd.DataFrame, *, source: str, notes: Sequence[str],
                 target: Target | None, max_rows: int = 60) -> Section:
    """Runs, ranges and every selection applied (what the fits saw and what was held out)."""
    fit_ids = set(fitted["run"].astype(str))
    target_ids = set(target.runs) if target is not None else set()
    last = final_rows(all_runs)
    counts = all_runs.groupby("run")["run"].size()
    rows = pd.DataFrame({"run": last["run"].astype(str).to_numpy()})
    for col in ("family", "params", "tokens", "flops", "loss"):
        if col in last:
            rows[col if col != "tokens" else "final tokens"] = last[col].to_numpy()
    rows["checkpoints"] = [int(counts.loc[r]) for r in last["run"]]
    rows["used for"] = ["target (held out)" if r in target_ids else ("fit" if r in fit_ids else "not used")
                        for r in rows["run"]]
    if "params" in rows:
        rows = rows.sort_values(["params", "run"], kind="stable")
    ranges = []
    for col in ("params", "tokens", "flops", "loss"):
        if col in all_runs:
            ranges.append((col, f"{fmt(float(all_runs[col].min()))} – {fmt(float(all_runs[col].max()))} "
                                f"({all_runs[col].nunique()} distinct)"))
    pairs = [("source", source), ("rows", len(all_runs)), ("runs", all_runs["run"].nunique()),
             ("rows fitted", len(fitted)), ("runs fitted", len(fit_ids))] + ranges
    notes_html = "".join(f"<li>{e(n)}</li>" for n in notes) or "<li>none (every row used)</li>"
    body = (kv_html(pairs) + f"<h3>Selection applied</h3><ul>{notes_html}</ul>"
            + "<h3>Runs</h3>" + table_html(rows.reset_index(drop=True), max_rows=max_rows,
                                           keys={(0, "run"): "first-run"}))
    return Section("data", "Data", body, data={"n_rows": len(all_runs), "n_fitted": len(fitted)})


def section_fits(fits: Sequence, *, interval: float, method: str) -> Section:
    """Each fit: law, data, objective and quality, parameters with intervals, diagnostics."""
    from scalinglab.fit._summary import Summary

    parts = []
    for f in fits:
        s = Summary.from_fit(f, interval=interval, method=method)  # the core's summary: one bootstrap, cached
        rows = {r["param"]: r for r in s.table}
        table = pd.DataFrame({
            "param": list(f.law.params),
            "value": [f.params[p] for p in f.law.params],
            "stderr": [rows[p]["stderr"] for p in f.law.params],
            f"lower {interval:.0%}": [np.nan if rows[p]["lower"] is None else rows[p]["lower"] for p in f.law.params],
            f"upper {interval:.0%}": [np.nan if rows[p]["upper"] is None else rows[p]["upper"] for p in f.law.params],
            "note": [rows[p]["note"] for p in f.law.params],
        })
        how = s.title[s.title.find("(") + 1:s.title.rfind(")")] if "(" in s.title else method
        keys = {(i, "value"): f"param:{f.law.name}:{p}" for i, p in enumerate(f.law.params)}
        keys.update({(i, f"lower {interval:.0%}"): f"param-lower:{f.law.name}:{p}" for i, p in enumerate(f.law.params)})
        keys.update({(i, f"upper {interval:.0%}"): f"param-upper:{f.law.name}:{p}" for i, p in enumerate(f.law.params)})
        quality = pd.DataFrame([{"points": f.n_points, "free params": f.n_params, "RMSE(log)": f.rmse_log,
                                 "R²": f.r2, "residual scale": f.residual_scale, "converged": f.converged}])
        qkeys = {(0, "RMSE(log)"): f"rmse_log:{f.law.name}", (0, "R²"): f"r2:{f.law.name}",
                 (0, "points"): f"n_points:{f.law.name}"}
        diags = "".join(f"<li>{e(w)}</li>" for w in s.warnings)
        parts.append(
            f"<h3 id='fit-{e(f.law.name)}'>{e(f.law.name)}: <code>{e(f.law.formula)}</code></h3>"
            + kv_html([(k, v) for k, v in s.header if k not in ("law",)])
            + table_html(quality, keys=qkeys)
            + table_html(table, keys=keys, caption=f"Parameters with {how}")
            + (f"<ul class='diag callout warning'>{diags}</ul>" if diags else
               "<p class='muted'>Diagnostics: no problems found (no parameter at a bound, curvature well "
               "conditioned).</p>"))
    return Section("fits", "Fits", "".join(parts))


def section_predictions(fits: Sequence, target: Target | None, *, interval: float, method: str,
                        kind: str = "new") -> Section:
    """Each law's prediction at the target, its interval and (when known) the actual value and error."""
    if target is None:
        return Section("predictions", "Predictions", note_html(
            "No target given: pass --target RUN, --target largest or --target params=...,tokens=... to "
            "extrapolate (the largest runs are then held out from the fits)."), status="missing",
            note="Left out: no extrapolation target was given.")
    point = pd.DataFrame({c: [v] for c, v in target.point.items()})
    rows, keys = [], {}
    for f in fits:
        if any(c not in point for c in f.columns.values()):
            continue
        try:
            p = f.predict(point, interval=interval, kind=kind, method=method, warn=False)
            how = method
        except ScalingLabError:
            p, how = f.predict(point, interval=interval, kind=kind, method="delta", warn=False), "delta"
        est, lo, hi = float(p["estimate"][0]), float(p["lower"][0]), float(p["upper"][0])
        ext = max(f.extrapolation({s: np.array([target.point[c]]) for s, c in f.columns.items()}).values())
        row = {"law": f.law.name, "estimate": est, f"lower {interval:.0%}": lo, f"upper {interval:.0%}": hi,
               "interval": how, "decades beyond data": ext}
        if target.actual is not None:
            row["actual"] = target.actual
            row["error %"] = 100 * (est - target.actual) / target.actual
            row["inside interval"] = bool(lo <= target.actual <= hi)
        r = len(rows)
        keys.update({(r, "estimate"): f"pred:{f.law.name}:estimate", (r, f"lower {interval:.0%}"):
                     f"pred:{f.law.name}:lower", (r, f"upper {interval:.0%}"): f"pred:{f.law.name}:upper"})
        if target.actual is not None:
            keys[(r, "actual")] = "actual"
        rows.append(row)
    point_txt = ", ".join(f"{c} = {fmt(v)}" for c, v in target.point.items())
    body = (kv_html([("target", target.label), ("inputs", point_txt),
                     ("interval", f"{interval:.0%} for {'a new run' if kind == 'new' else 'the mean law'}")])
            + table_html(pd.DataFrame(rows), keys=keys))
    return Section("predictions", "Predictions", body)


def section_figures(fit, runs: pd.DataFrame, target: Target | None, *, interval: float, method: str,
                    render: _Figures, max_loss_figures: int = 3) -> Section:
    """Loss curves with the fitted law and extrapolation band, parity and residuals for one fit.

    Loss is drawn against D and C for runs with checkpoints (N and C otherwise), and
    against N too when there is a target, up to ``max_loss_figures``.
    """
    from scalinglab.report._curves import plot_loss
    from scalinglab.report._diagnostics import plot_parity, plot_residuals

    figs, ids = [], []
    multi = runs.groupby("run").size().max() > 1
    axes = [x for x in (("tokens", "flops") if multi else ("params", "flops")) if x in runs]
    if target is not None and "params" in runs and "params" not in axes:
        axes.append("params")
    for x in axes[:max_loss_figures]:
        fig = plot_loss(fit, runs, x=x, target=target, interval=interval, method=method)
        fid = f"fig-loss-{fit.law.name}-{x}"
        per_run = bool(fit.data.groupby("run").size().max() > 1)  # dashed law curves need >= 2 fitted checkpoints
        what = ("each run in its own colour (checkpoints joined; hollow = not used in the fit)"
                + (f", the fitted {fit.law.name} law dashed per run over its fitted checkpoints" if per_run else "")
                if multi else "each point a run, coloured by model size")
        if target is not None:
            what += (f"; the law's extrapolation to the target with its {interval:.0%} prediction band"
                     + (" and the actual target (gold)" if target.actual is not None else
                        " (the actual value there is not known)"))
        figs.append(render(fig, fid, f"Loss against {_axis_name(x)}: {what}."))
        ids.append(fid)
    fig = plot_parity(fit, runs, target=target if target is not None and len(target.frame) else None)
    figs.append(render(fig, f"fig-parity-{fit.law.name}", "Predicted against observed loss; the grey band is "
                       "±2 robust residual scales; gold stars are held-out target checkpoints."))
    ids.append(f"fig-parity-{fit.law.name}")
    fig = plot_residuals(fit)
    figs.append(render(fig, f"fig-residuals-{fit.law.name}", "Log residuals against each input with a running "
                       "median: a trend means the law's shape is off along that input."))
    ids.append(f"fig-residuals-{fit.law.name}")
    return Section(f"figures-{fit.law.name}", f"Figures: {fit.law.name}", "".join(figs), figures=tuple(ids))


def _axis_name(x: str) -> str:
    return {"params": "parameters N", "tokens": "training tokens D", "flops": "training compute C"}[x]


def section_compare(fits: Sequence, runs: pd.DataFrame, target: Target | None, *, interval: float, method: str,
                    render: _Figures) -> Section:
    """All laws on one figure with their bands along the path to the target."""
    from scalinglab.report._curves import plot_compare

    x = next(c for c in ("flops", "params", "tokens") if c in runs)
    fig = plot_compare(fits, runs, x=x, target=target, interval=interval, method=method)
    fid = "fig-compare"
    body = render(fig, fid, f"The {len(fits)} laws against {_axis_name(x)}, each with its {interval:.0%} "
                            "prediction band; legend: RMSE of log residuals and prediction at the target.")
    return Section("compare", "Laws compared", body, figures=(fid,))


def section_families(family_fits: Mapping[str, Any], runs: pd.DataFrame, target: Any, *, interval: float,
                     method: str, render: _Figures) -> Section:
    """The main law fitted to each family separately, on one figure, with a table of their parameters."""
    from scalinglab.report._curves import plot_compare

    fams, fits = list(family_fits), list(family_fits.values())
    x = next(c for c in ("flops", "params", "tokens") if c in runs)
    fig = plot_compare(fits, runs, x=x, target="largest" if target == "largest" else None, interval=interval,
                       method=method, labels=[f"{f.law.name} ({fam})" for fam, f in family_fits.items()])
    table = pd.DataFrame([{"family": fam, **f.params, "points": f.n_points, "RMSE(log)": f.rmse_log}
                          for fam, f in family_fits.items()])
    keys = {(i, p): f"family-param:{fam}:{p}" for i, fam in enumerate(fams) for p in fits[i].law.params}
    body = (table_html(table, keys=keys, caption=f"{fits[0].law.name} fitted to each family separately "
                                                 "(the target's runs held out)")
            + render(fig, "fig-families", f"{fits[0].law.name} fitted to each of the {len(fams)} families, each "
                     f"with its {interval:.0%} prediction band" + (" to its own largest size" if target == "largest"
                                                                   else "") + "."))
    return Section("families", "Families compared", body, figures=("fig-families",))


def section_backtest(backtests: Sequence, sweeps: Mapping[str, Sequence], *, render: _Figures) -> Section:
    """Backtest leaderboard (default policy) and ARE against training used / scale-up."""
    from scalinglab.report._backtest import backtest_curve, plot_backtest

    main = backtests[0]
    lb = main.leaderboard().reset_index()
    keys = {(i, "are"): f"backtest-are:{law}" for i, law in enumerate(lb["law"])}
    pct = {c: (lambda v: "–" if v is None or not np.isfinite(v) else f"{100 * v:.2f}%")
           for c in ("are", "signed_error", "coverage", "baseline_are")}
    body = (kv_html([("policy", main.policy.describe()), ("interval", f"{main.options.get('interval'):.0%} for a "
                     f"new run ({main.options.get('method')})" if main.options.get("interval") else "none"),
                     ("best law", main.best)])
            + table_html(lb, keys=keys, formats=pct, caption="Leaderboard (mean over families, lowest ARE first)"))
    ids = []
    for over, results in sweeps.items():
        if len(results) < 2:
            continue
        fig = plot_backtest(results, x=over)
        fid = f"fig-backtest-{over}"
        ids.append(fid)
        what = "fraction of each fitted run's training used" if over == "fraction" else \
            "scale-up factor (held-out size / largest fitted size)"
        body += render(fig, fid, f"ARE of each law on the held-out checkpoints against the {what}; dashed: the "
                                 "best-loss-seen baseline.")
        tab = backtest_curve(results, over).drop(columns=["policy"])
        if tab["coverage"].isna().all():
            tab = tab.drop(columns=["coverage"])
        body += table_html(tab, formats={c: pct["are"] for c in ("are", "baseline_are",
                                                                                          "coverage")},
                           caption=f"Backtest sweep over {over}")
    return Section("backtest", "Backtest", body, figures=tuple(ids))


def section_plan(fit, allocation, isoflop_result, runs: pd.DataFrame, *, render: _Figures) -> Section:
    """Compute-optimal allocation with intervals and the frontier figure (plus isoFLOP valleys if available)."""
    from scalinglab.report._frontier import plot_frontier

    tab = allocation.table
    cols = [c for c in ("flops", "params", "params_lower", "params_upper", "tokens", "tokens_lower",
                        "tokens_upper", "tokens_per_param", "loss", "loss_lower", "loss_upper") if c in tab]
    keys = {(i, "params"): f"plan-params:{i}" for i in range(len(tab))}
    s = allocation.summary()
    body = kv_html(list(s.header)) + table_html(tab[cols], keys=keys, caption="Compute-optimal N*, D* and loss "
                                                "per budget (lower/upper: interval)")
    if allocation.warnings:
        body += "".join(note_html(w, "warning") for w in allocation.warnings)
    fig = plot_frontier(fit, allocation, runs=runs, isoflop=isoflop_result)
    fid = "fig-frontier"
    body += render(fig, fid, "Iso-loss contours of the fitted law in (N, D), iso-FLOP lines of the budgets, the "
                             "compute-optimal allocation with its interval band" +
                   (", and isoFLOP valleys with their minima (approach 2)." if isoflop_result is not None else "."))
    if isoflop_result is not None:
        body += table_html(isoflop_result.estimates(), caption="IsoFLOP frontier exponents (approach 2): "
                           "N* ∝ C^a, D* ∝ C^b")
        body += "".join(note_html(w, "warning") for w in isoflop_result.warnings)
    return Section("plan", "Compute-optimal planning", body, figures=(fid,))


def section_reproduce(meta: Mapping[str, Any]) -> Section:
    """The exact command, package versions and data fingerprint."""
    body = (f"<pre class='cmd' data-key='command'>{e(meta['command'])}</pre>"
            + kv_html([("scalinglab", meta["version"]), ("python", meta["python"]),
                       ("numpy / scipy / pandas / matplotlib", meta["libs"]), ("data fingerprint", meta["fingerprint"]),
                       ("built", meta["built"]), ("build time", f"{meta['seconds']:.1f} s")]))
    return Section("reproduce", "Reproduce", body)


def _missing(sid: str, title: str, module: str, what: str) -> Section:
    msg = (f"Left out: {what} needs {module}, which is not available in this build of scalinglab "
           f"({_version()}). Nothing in this section was estimated.")
    return Section(sid, title, "", status="missing", note=msg)


def _skipped(sid: str, title: str, how: str) -> Section:
    return Section(sid, title, "", status="skipped", note=f"Left out on request ({how}).")


def _version() -> str:
    from scalinglab import __version__

    return __version__


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


# ----------------------------------------------------------------------------- progress


class _Progress:
    def __init__(self, enabled: bool, total: int):
        self._p = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._p = Progress(SpinnerColumn(), TextColumn("{task.description:<34}"), BarColumn(),
                               TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                               console=Console(stderr=True), transient=False)
            self._task = self._p.add_task("report", total=total)

    def __enter__(self):
        if self._p is not None:
            self._p.__enter__()
        return self

    def __exit__(self, *exc):
        if self._p is not None:
            self._p.__exit__(*exc)

    def step(self, text: str, advance: int = 1) -> None:
        if self._p is not None:
            self._p.update(self._task, description=text, advance=advance)

    def grow(self, n: int) -> None:
        if self._p is not None:
            self._p.update(self._task, total=self._p.tasks[0].total + n)


# ----------------------------------------------------------------------------- build


def build_report(
    data: Any,
    law: Any = "chinchilla",
    *,
    target: Any = None,
    x: Mapping[str, str] | str | None = None,
    y: str = "loss",
    min_tokens: float | None = None,
    window: tuple[float, float] | None = None,
    final_only: bool = False,
    interval: float = 0.9,
    method: str = "auto",
    backtest: bool = True,
    backtest_over: Sequence[str] = ("fraction", "scale"),
    plan: bool = True,
    flops: Sequence[float] | None = None,
    fit_options: Mapping[str, Any] | None = None,
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
    min_tokens, window, final_only :
        Checkpoint selection (:func:`scalinglab.select_checkpoints`) applied before fitting.
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
    >>> # r = build_report("runs.csv", ["chinchilla", "kaplan"], target="largest", path="report.html")
    >>> # r.left_out   # sections that could not be produced, if any
    """
    import time

    from scalinglab.data import read_runs
    from scalinglab.fit import fit as fit_law

    t0 = time.perf_counter()
    check_fraction(interval, "interval", "build_report")
    check_options(method, "method", ("auto", "delta", "bootstrap"), "build_report")
    for o in backtest_over:
        check_options(o, "backtest_over", ("fraction", "scale"), "build_report")
    laws = [law] if not isinstance(law, (list, tuple)) else list(law)
    if not laws:
        raise InvalidParameterError("build_report(): give at least one law")
    runs = read_runs(data)
    all_frame = runs.frame
    fit_table, tgt, notes = prepare_runs(runs, target, y=y, min_tokens=min_tokens, window=window,
                                         final_only=final_only)
    if method == "auto":
        from scalinglab.fit._summary import MIN_RUNS_FOR_BOOTSTRAP

        method = "bootstrap" if fit_table.frame["run"].nunique() >= MIN_RUNS_FOR_BOOTSTRAP else "delta"
    render = _Figures()
    n_fam = all_frame["family"].nunique() if "family" in all_frame else 0
    n_steps = (3 + 2 * len(laws) + (1 if len(laws) > 1 else 0) + (1 if 1 < n_fam <= 8 else 0)
               + (2 if backtest else 0) + (1 if plan else 0))
    sections: list[Section] = []
    fits: list = []
    backtests: list = []
    allocation = iso = None
    with _Progress(progress, n_steps) as bar, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bar.step("data summary")
        for lw in laws:
            bar.step(f"fitting {getattr(lw, 'name', lw)}")
            fits.append(fit_law(fit_table, lw, x=x, y=y, **dict(fit_options or {})))
        sections.append(section_data(all_frame, fit_table.frame, source=runs.source, notes=notes, target=tgt))
        sections.append(section_fits(fits, interval=interval, method=method))
        bar.step("predictions")
        sections.append(section_predictions(fits, tgt, interval=interval, method=method))
        for i, f in enumerate(fits):  # the main law against every axis; the others against one (see compare)
            bar.step(f"figures for {f.law.name}")
            sections.append(section_figures(f, all_frame, tgt, interval=interval, method=method, render=render,
                                            max_loss_figures=3 if i == 0 else 1))
        if len(fits) > 1:
            bar.step("comparison figure")
            sections.append(section_compare(fits, all_frame, tgt, interval=interval, method=method, render=render))
        fams = sorted(map(str, all_frame["family"].unique())) if "family" in all_frame else []
        if 1 < len(fams) <= 8:
            bar.step("families")
            sections.append(_families_section(fit_table.frame, all_frame, laws[0], fams, target, x, y, fit_options,
                                              interval, method, render))
        if backtest:
            from scalinglab.data import CheckpointRule
            from scalinglab.evaluate import DEFAULT_POLICY

            # the same checkpoint rule as the fits (the default policy's 20% cut when no window is given)
            rule = CheckpointRule.coerce(DEFAULT_POLICY.checkpoints, window=window, min_tokens=min_tokens,
                                         final_only=final_only or None)
            sections.append(_backtest_section(runs, laws, x, y, interval, method, backtest_over, fit_options, bar,
                                              render, backtests, DEFAULT_POLICY.replace(checkpoints=rule)))
        else:
            sections.append(_skipped("backtest", "Backtest", "backtest=False / --no-backtest"))
        if plan:
            bar.step("compute-optimal planning")
            sec, allocation, iso = _plan_section(fits[0], all_frame, fit_table.frame, tgt, flops, interval, method,
                                                 render)
            sections.append(sec)
        else:
            sections.append(_skipped("plan", "Compute-optimal planning", "plan=False / --no-plan"))
        bar.step("writing HTML")
    seconds = time.perf_counter() - t0
    meta = {"command": command or _python_command(data, laws, target, interval, method),
            "version": _version(), "python": platform.python_version(),
            "libs": _libs(), "fingerprint": runs.fingerprint(), "seconds": seconds,
            "built": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    sections.append(section_reproduce(meta))
    laws_txt = ", ".join(f.law.name for f in fits)
    page = render_page(title=title or f"Scaling-law report: {laws_txt}",
                       subtitle=f"{runs.source} · {all_frame['run'].nunique()} runs · "
                                f"{tgt.label if tgt is not None else 'no target'} · scalinglab {_version()}",
                       sections=sections,
                       footer=f"Generated by <code>{e(meta['command'])}</code> with scalinglab {e(_version())}. "
                              "Self-contained: figures are inline SVG; no network access is needed.")
    report = Report(html=page, sections=tuple(sections), fits=tuple(fits), target=tgt,
                    backtests=tuple(backtests), allocation=allocation, isoflop=iso, meta=meta)
    if path is not None:
        report.save(path)
    return report


def _families_section(fit_frame, all_frame, law, fams, target, x, y, fit_options, interval, method, render):
    from scalinglab.fit import fit as fit_law

    family_fits = {}
    for fam in fams:
        rows = fit_frame[fit_frame["family"].astype(str) == fam]
        if target == "largest":  # each family's own largest size is held out
            top = all_frame.loc[all_frame["family"].astype(str) == fam, "params"].max()
            rows = rows[rows["params"] < top]
        try:
            family_fits[fam] = fit_law(rows, law, x=x, y=y, **dict(fit_options or {}))
        except ScalingLabError:
            continue
    if len(family_fits) < 2:
        return Section("families", "Families compared", "", status="error",
                       note="Left out: fewer than two families have enough runs to fit on their own.")
    return section_families(family_fits, all_frame, target, interval=interval, method=method, render=render)


def prepare_runs(runs, target: Any = None, *, y: str = "loss", min_tokens: float | None = None,
                 window: tuple[float, float] | None = None, final_only: bool = False):
    """Hold out the target's runs and apply the checkpoint selection: ``(fit_table, target, notes)``."""
    from scalinglab.data import read_runs, select_checkpoints

    runs = read_runs(runs)
    tgt = resolve_target(target, runs.frame, y=y)
    notes = list(runs.notes)
    fit_table = runs
    if tgt is not None and tgt.runs:
        keep = ~runs.frame["run"].astype(str).isin(tgt.runs)
        if not keep.any():
            raise InvalidParameterError(f"target {target!r} names every run; nothing is left to fit")
        fit_table = runs.with_frame(runs.frame[keep], f"held out as the extrapolation target: {', '.join(tgt.runs)}")
        notes.append(fit_table.notes[-1])
    if min_tokens is not None or window is not None or final_only:
        fit_table = select_checkpoints(fit_table, min_tokens=min_tokens, window=window, final_only=final_only)
        notes.append(fit_table.notes[-1])
    return fit_table, tgt, notes


def make_figure(kind: str, runs: Any, laws: Sequence = ("chinchilla",), *, target: Any = None, x: str | None = None,
                inputs: Any = None, y: str = "loss", min_tokens: float | None = None,
                window: tuple[float, float] | None = None, final_only: bool = False, interval: float = 0.9,
                method: str = "delta", fits: Sequence | None = None, fit_options: Mapping[str, Any] | None = None):
    """One figure from a runs table (what ``scalinglab plot KIND`` draws): fit, then plot.

    ``kind`` is ``loss``, ``compare``, ``parity``, ``residuals``, ``frontier`` or
    ``backtest``; ``x`` is the loss axis (``tokens``, ``params``, ``flops``) or, for
    ``backtest``, ``fraction`` / ``scale``.  ``fits`` skips fitting (e.g. loaded fits).
    """
    from scalinglab.data import read_runs
    from scalinglab.fit import fit as fit_law
    from scalinglab.report import _backtest, _curves, _diagnostics, _frontier

    check_options(kind, "kind", FIGURE_KINDS, "plot")
    if x is not None:
        check_options(x, "axis", ("fraction", "scale") if kind == "backtest" else ("tokens", "params", "flops"),
                      "plot")
    runs = read_runs(runs)
    if kind == "backtest":
        sweep = _backtest.backtest_sweep(runs, list(laws), over=x or "fraction", x=inputs, y=y, interval=None,
                                         fit_options=fit_options)
        if not sweep:
            raise InvalidParameterError("plot backtest: no backtest setting could run on this data "
                                        "(it needs at least 3 model sizes)")
        return _backtest.plot_backtest(sweep, x=x or "fraction")
    fit_table, tgt, _ = prepare_runs(runs, target, y=y, min_tokens=min_tokens, window=window, final_only=final_only)
    if fits is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits = [fit_law(fit_table, lw, x=inputs, y=y, **dict(fit_options or {})) for lw in laws]
    fits = list(fits)
    frame = runs.frame
    if kind == "loss":
        default_x = "tokens" if frame.groupby("run").size().max() > 1 else "params"
        return _curves.plot_loss(fits[0], frame, x=x or default_x, target=tgt, interval=interval, method=method)
    if kind == "compare":
        return _curves.plot_compare(fits, frame, x=x or "flops", target=tgt, interval=interval, method=method)
    if kind == "parity":
        return _diagnostics.plot_parity(fits[0], frame, target=tgt if tgt is not None and tgt.runs else None)
    if kind == "residuals":
        return _diagnostics.plot_residuals(fits[0])
    from scalinglab.plan import compute_optimal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alloc = compute_optimal(fits[0], default_budgets(fit_table.frame, tgt), interval=interval, method=method)
    points = final_rows(frame)
    iso = None
    if _looks_isoflop(points):
        from scalinglab.plan import isoflop

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its flags are drawn: off-centre and shallow valleys
            iso = isoflop(points, estimator="parabola", interval=interval, n_boot=200)
    return _frontier.plot_frontier(fits[0], alloc, runs=points, isoflop=iso)


#: Figures ``scalinglab plot`` can draw.
FIGURE_KINDS = ("loss", "compare", "parity", "residuals", "frontier", "backtest")


def _backtest_section(runs, laws, x, y, interval, method, over, fit_options, bar, render, out: list,
                      policy) -> Section:
    bar.step("backtest (default policy)")
    if not _have("scalinglab.evaluate"):
        bar.step("backtest sweeps")
        return _missing("backtest", "Backtest", "scalinglab.evaluate", "the backtest leaderboard")
    from scalinglab.evaluate import backtest
    from scalinglab.report._backtest import backtest_sweep

    try:
        main = backtest(runs, laws, policy, x=x, y=y, interval=interval, method=method, fit_options=fit_options)
    except ScalingLabError as exc:
        bar.step("backtest sweeps")
        return Section("backtest", "Backtest", "", status="error",
                       note=f"Left out: the backtest could not run on this data ({str(exc).splitlines()[0]}).")
    out.append(main)
    sweeps = {}
    n = {"fraction": 4, "scale": min(5, max(int(runs.frame["params"].nunique()) - 2, 0))}
    bar.grow(sum(n[o] for o in over))
    for o in over:
        # the sweeps only draw ARE: no intervals needed
        sweeps[o] = backtest_sweep(runs, laws, over=o, x=x, y=y, interval=None, fit_options=fit_options, policy=policy,
                                   progress=lambda: bar.step(f"backtest sweep over {o}"))
        out.extend(sweeps[o])
    bar.step("backtest sweeps")
    return section_backtest([main], sweeps, render=render)


def _plan_section(fit, all_frame, fit_frame, tgt, flops, interval, method, render):
    if not _have("scalinglab.plan"):
        return _missing("plan", "Compute-optimal planning", "scalinglab.plan", "compute-optimal planning"), None, None
    from scalinglab import plan as P

    if not {"params", "tokens"} <= set(fit.columns.values()):
        return (Section("plan", "Compute-optimal planning", "", status="error",
                        note=f"Left out: law '{fit.law.name}' is not a function of both N (params) and D (tokens), so "
                             "it cannot split compute between them; put a two-input law such as chinchilla first."),
                None, None)
    if flops is None:
        flops = default_budgets(fit_frame, tgt)
    try:
        allocation = P.compute_optimal(fit, np.asarray(flops, dtype=float), interval=interval, method=method)
    except ScalingLabError as exc:
        return (Section("plan", "Compute-optimal planning", "", status="error",
                        note=f"Left out: compute_optimal failed ({str(exc).splitlines()[0]})."), None, None)
    iso, points = None, final_rows(all_frame)
    if hasattr(P, "isoflop") and _looks_isoflop(points):
        try:
            iso = P.isoflop(points, estimator="parabola", interval=interval, n_boot=200)
        except ScalingLabError:
            iso = None
    return section_plan(fit, allocation, iso, all_frame, render=render), allocation, iso


def default_budgets(fit_frame: pd.DataFrame, target: Target | None = None, n: int = 8) -> np.ndarray:
    """Planning budgets: from the smallest fitted run's compute (final checkpoint) to 100x the largest's
    (or 3x the target's compute if that is larger), ``n`` points evenly spaced in log."""
    ends = final_rows(fit_frame)
    C = ends["flops"] if "flops" in ends else 6.0 * ends["params"] * ends["tokens"]
    top = max(float(C.max()) * 100, target.point.get("flops", 0) * 3 if target is not None else 0)
    return np.geomspace(float(C.min()), top, n)


def _looks_isoflop(points: pd.DataFrame) -> bool:
    """True when the points form isoFLOP profiles: >= 3 budgets of >= 4 sizes each, holding >= 75% of the points.

    Budgets are the ``budget`` column, or compute snapped into groups within a factor 1.3
    (as :func:`scalinglab.plan.isoflop` does).
    """
    if "budget" in points:
        labels = points["budget"].to_numpy()
    elif {"flops", "params"} <= set(points):
        C = points["flops"].to_numpy(float)
        labels = np.empty(C.size)
        start = None
        for i in np.argsort(C):
            if start is None or C[i] > start * 1.3:
                start = C[i]
            labels[i] = start
    else:
        return False
    sizes = points.assign(_g=labels).groupby("_g")["params"].agg(["nunique", "size"])
    good = sizes[sizes["nunique"] >= 4]
    return len(good) >= 3 and good["size"].sum() >= 0.75 * len(points)


def _python_command(data, laws, target, interval, method) -> str:
    src = str(data) if isinstance(data, (str, Path)) else f"<{type(data).__name__}>"
    names = [getattr(lw, "name", lw) for lw in laws]
    return (f"python: scalinglab.report.build_report({src!r}, {names!r}, target={target!r}, "
            f"interval={interval}, method={method!r})")


def _libs() -> str:
    import matplotlib
    import scipy

    return f"{np.__version__} / {scipy.__version__} / {pd.__version__} / {matplotlib.__version__}"


def command_line(ctx: Any = None, argv: Sequence[str] | None = None) -> str:
    """The command that produced the report, shell-quoted (for the Reproduce section).

    The process's own argv when it is the scalinglab CLI; otherwise (e.g. the command
    invoked in-process) it is rebuilt from the click context's parsed parameters.
    """
    argv = list(sys.argv if argv is None else argv)
    name = getattr(ctx, "info_name", None)
    prog = Path(argv[0]).name if argv else ""
    if argv and (prog in ("scalinglab", "__main__.py") or prog.startswith("scalinglab")) and (
            name is None or name in argv[1:]):
        return " ".join(["scalinglab"] + [shlex.quote(str(a)) for a in argv[1:]])
    if ctx is None:
        return " ".join(shlex.quote(str(a)) for a in argv)
    words = ["scalinglab", name or ""]
    for p in ctx.command.params:
        value = ctx.params.get(p.name)
        if p.param_type_name == "argument":
            words += [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
            continue
        if value == p.default or value is None or (isinstance(value, (list, tuple)) and not value):
            continue
        if p.is_flag:
            opts = p.opts if value else (p.secondary_opts or p.opts)
            words.append(opts[0])
            continue
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            words += [p.opts[0], str(v)]
    return " ".join(shlex.quote(w) for w in words if w != "")
