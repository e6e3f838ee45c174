"""The report's shared context: what every section provider reads (runs, fit table, fits, target, options).

:func:`prepare_runs` holds out the target's runs and applies the checkpoint rule;
:class:`ReportContext` carries the result, fits every law once (through
:func:`scalinglab.fit.fit_many`, on first use) and drives the progress bar.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._version import __version__
from scalinglab.data import CheckpointRule, RunsTable, read_runs
from scalinglab.errors import InvalidParameterError
from scalinglab.fit import FitJob, fit, fit_many
from scalinglab.render import FigureRenderer, Section, Target, final_rows, resolve_target

__all__ = [
    "ReportContext",
    "fit_laws",
    "prepare_runs",
    "default_budgets",
    "looks_isoflop",
    "checkpoint_rule",
    "missing_section",
    "skipped_section",
    "axis_name",
    "analysis_options",
]


def fit_laws(
    table: Any,
    laws: Sequence,
    *,
    x: Any = None,
    y: str = "loss",
    fit_options: Mapping[str, Any] | None = None,
    progress=None,
) -> list:
    """Fit every law to ``table`` as one :func:`~scalinglab.fit.fit_many` batch; one Fit per law, in order.

    A fit that fails raises its own error (with its hint), as :func:`scalinglab.fit` would.
    """
    options = {"x": x, "y": y, **dict(fit_options or {})}
    jobs = [FitJob(table, law, options, label=str(getattr(law, "name", law))) for law in laws]
    fits = []
    for job, outcome in zip(jobs, fit_many(jobs, progress=progress)):
        # a failed fit is re-run here so that its own error (with its hint) reaches the caller
        fits.append(outcome.value if outcome.ok else fit(job.data, job.law, **dict(job.options)))
    return fits


def checkpoint_rule(
    checkpoints: CheckpointRule | Mapping[str, Any] | None = None,
    *,
    min_tokens: float | None = None,
    window: tuple[float, float] | None = None,
    final_only: bool = False,
) -> CheckpointRule:
    """One :class:`~scalinglab.data.CheckpointRule` from a rule and/or the ``min_tokens``/``window``/``final_only``
    keywords (the keywords add to the rule).

    Examples
    --------
    >>> checkpoint_rule(CheckpointRule(min_tokens=1e9), window=(0.2, 1.0)).describe()
    'drop checkpoints < 1e+09 tokens; drop the first 20% of each run'
    """
    return CheckpointRule.coerce(checkpoints, min_tokens=min_tokens, window=window, final_only=final_only or None)


def prepare_runs(
    runs: Any,
    target: Any = None,
    *,
    y: str = "loss",
    min_tokens: float | None = None,
    window: tuple[float, float] | None = None,
    final_only: bool = False,
    checkpoints: CheckpointRule | None = None,
) -> tuple[RunsTable, Target | None, list[str]]:
    """Hold out the target's runs and apply the checkpoint rule: ``(fit_table, target, notes)``.

    ``checkpoints`` is a :class:`~scalinglab.data.CheckpointRule`; ``min_tokens``,
    ``window`` and ``final_only`` add to it.  ``notes`` lists every selection applied.
    """
    runs = read_runs(runs)
    tgt = resolve_target(target, runs.frame, y=y)
    notes = list(runs.notes)
    fit_table = runs
    if tgt is not None and tgt.runs:
        keep = ~runs.frame["run"].astype(str).isin(tgt.runs)
        if not keep.any():
            raise InvalidParameterError(
                f"target {target!r} names every run; nothing is left to fit",
                hint="choose a smaller target (--target RUN) or add runs below it",
            )
        fit_table = runs.with_frame(runs.frame[keep], f"held out as the extrapolation target: {', '.join(tgt.runs)}")
        notes.append(fit_table.notes[-1])
    rule = checkpoint_rule(checkpoints, min_tokens=min_tokens, window=window, final_only=final_only)
    if rule != CheckpointRule():
        fit_table = rule.apply(fit_table)
        notes.append(fit_table.notes[-1])
    return fit_table, tgt, notes


def analysis_options(analyses: Mapping[str, Any] | None, known: Sequence[str], reserved: Sequence[str] = ()) -> dict:
    """Check the report's ``analyses`` mapping (section name -> options) and normalise it.

    A value ``True`` (or ``{}``) turns the section on with its defaults, ``False``/``None``
    leaves it off, a mapping is passed to the section as its options.  Each name must be a
    registered section (``known``) and not one of the report's own options (``reserved``,
    which have keywords of their own).

    Examples
    --------
    >>> analysis_options({"trends": {"metric": "acc"}, "other": True, "off": False}, ["trends", "other", "off"])
    {'trends': {'metric': 'acc'}, 'other': {}}
    """
    out: dict[str, dict] = {}
    for name, value in dict(analyses or {}).items():
        if name in reserved:
            raise InvalidParameterError(
                f"build_report(): '{name}' is one of the report's own options, not an analysis",
                hint=f"use build_report({name}=...) (CLI: its own flag); analyses: {sorted(set(known) - set(reserved))}",
            )
        if name not in known:
            raise InvalidParameterError(
                f"build_report(): no report section named '{name}'",
                hint=f"analyses={{NAME: options}} with NAME one of {sorted(set(known) - set(reserved))} "
                "(CLI: --analysis NAME)",
            )
        if value is None or value is False:
            continue
        if value is True:
            value = {}
        if not isinstance(value, Mapping):
            raise InvalidParameterError(
                f"build_report(): the options of analysis '{name}' must be a mapping or True; got {value!r}",
                hint=f"e.g. analyses={{'{name}': {{}}}} (CLI: --analysis {name} --analysis-option {name}.KEY=VALUE)",
            )
        out[name] = dict(value)
    return out


def default_budgets(fit_frame: pd.DataFrame, target: Target | None = None, n: int = 8) -> np.ndarray:
    """Planning budgets: from the smallest fitted run's compute (final checkpoint) to 100x the largest's
    (or 3x the target's compute if that is larger), ``n`` points evenly spaced in log.

    Examples
    --------
    >>> frame = pd.DataFrame({"run": ["a", "b"], "params": [1e6, 1e7], "tokens": [2e7, 2e8]})
    >>> default_budgets(frame, n=3)
    array([1.2e+14, 1.2e+16, 1.2e+18])
    """
    ends = final_rows(fit_frame)
    C = ends["flops"] if "flops" in ends else 6.0 * ends["params"] * ends["tokens"]
    top = max(float(C.max()) * 100, target.point.get("flops", 0) * 3 if target is not None else 0)
    return np.geomspace(float(C.min()), top, n)


def looks_isoflop(points: pd.DataFrame) -> bool:
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


def axis_name(x: str) -> str:
    """``"tokens"`` -> ``"training tokens D"`` (figure captions)."""
    return {"params": "parameters N", "tokens": "training tokens D", "flops": "training compute C"}[x]


def missing_section(sid: str, title: str, module: str, what: str) -> Section:
    """A section left out because ``module`` is not available in this build (nothing estimated)."""
    msg = (
        f"Left out: {what} needs {module}, which is not available in this build of scalinglab "
        f"({__version__}). Nothing in this section was estimated."
    )
    return Section(sid, title, "", status="missing", note=msg)


def skipped_section(sid: str, title: str, how: str) -> Section:
    """A section turned off on request (``how`` names the switch)."""
    return Section(sid, title, "", status="skipped", note=f"Left out on request ({how}).")


class Progress:
    """A rich progress bar on stderr (or nothing): ``step`` advances by one, ``advance_to`` to a step count."""

    def __init__(self, enabled: bool, total: int):
        self._p = None
        self.done = 0
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as _Rich

            self._p = _Rich(
                SpinnerColumn(),
                TextColumn("{task.description:<34}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._task = self._p.add_task("report", total=total)

    def __enter__(self) -> Progress:
        if self._p is not None:
            self._p.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._p is not None:
            self._p.__exit__(*exc)

    def step(self, text: str, advance: int = 1) -> None:
        self.done += advance
        if self._p is not None:
            self._p.update(self._task, description=text, advance=advance)

    def advance_to(self, done: int) -> None:
        """Move to ``done`` steps (a section that took fewer steps than it declared)."""
        if done > self.done:
            if self._p is not None:
                self._p.update(self._task, advance=done - self.done)
            self.done = done


@dataclass
class ReportContext:
    """Everything a section provider reads (see :class:`scalinglab.render.SectionContext`).

    ``results`` is where providers leave what they computed for later sections and
    for the :class:`~scalinglab.report.Report` (``"backtests"``, ``"allocation"``,
    ``"isoflop"``, or an analysis' own result under its name).
    """

    runs: RunsTable
    fit_table: RunsTable
    target: Target | None
    target_spec: Any
    notes: list[str]
    laws: list
    x: Any = None
    y: str = "loss"
    interval: float = 0.9
    method: str = "delta"
    fit_options: Mapping[str, Any] = field(default_factory=dict)
    checkpoints: CheckpointRule = field(default_factory=CheckpointRule)
    options: Mapping[str, Any] = field(default_factory=dict)
    command: str | None = None
    render: FigureRenderer = field(default_factory=FigureRenderer)
    have: Callable[[str], bool] = lambda module: True
    progress: Progress = field(default_factory=lambda: Progress(False, 0))
    results: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    _fits: list | None = field(default=None, repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        """Every row of the runs table (the target's runs included)."""
        return self.runs.frame

    @property
    def fits(self) -> list:
        """One :class:`~scalinglab.fit.Fit` per law on :attr:`fit_table`, fitted once as one batch."""
        if self._fits is None:
            names = [str(getattr(law, "name", law)) for law in self.laws]
            self.step(f"fitting {names[0]}", advance=0)
            self._fits = fit_laws(
                self.fit_table,
                self.laws,
                x=self.x,
                y=self.y,
                fit_options=self.fit_options,
                progress=lambda done, total: self.step(
                    f"fitting {names[done]}" if done < total else f"fitted {', '.join(names)}"
                ),
            )
        return self._fits

    def step(self, text: str, advance: int = 1) -> None:
        """Advance the progress bar by ``advance`` steps and show ``text``."""
        self.progress.step(text, advance)

    def policy_checkpoints(self, base: CheckpointRule) -> CheckpointRule:
        """``base`` (a policy's rule) overridden by every field of the report's own checkpoint rule."""
        fields = asdict(self.checkpoints)
        fields["final_only"] = fields["final_only"] or None
        return CheckpointRule.coerce(base, **fields)
