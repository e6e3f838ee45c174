"""Families compared: one law fitted to each family (dataset, architecture, recipe) on its own.

Do the families scale alike?  The same law is fitted to every family's runs
separately (one batch through :func:`scalinglab.fit.fit_many`) and the fits are
set side by side: their parameters, their fit quality, and their curves with
prediction bands on one figure.  Differing exponents mean the families do not
share one scaling law (as in Hoffmann et al. 2022 vs Kaplan et al. 2020, where
the recipe changed the fitted exponents).

With ``hold_out_largest=True`` each family's own largest model size is held out
of its fit and the figure extrapolates each law to it.

The report shows this analysis as the "Families compared" section when the data
has 2 to 8 families (registered below with :func:`scalinglab.render.register_section`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from scalinglab.analyze._base import AnalysisResult
from scalinglab.data import RunsTable, read_runs
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.fit import FitJob, fit_many
from scalinglab.laws import DEFAULT_LAW
from scalinglab.render import FigureRenderer, Section, plot_compare, register_section, table_html

__all__ = ["compare_families", "FamiliesResult"]

#: The report shows families when there are this many (more do not fit one figure).
REPORT_FAMILIES = (2, 8)


@dataclass(frozen=True)
class FamiliesResult(AnalysisResult):
    """One fit per family (:func:`compare_families`).

    Attributes
    ----------
    fits : dict
        ``family -> Fit`` for the families that could be fitted.
    failed : dict
        ``family -> reason`` for those that could not (too few runs, ...).
    law : str
    runs : DataFrame
        Every row of the data (drawn in :meth:`figure`).
    hold_out_largest : bool
        Whether each family's largest size was held out of its fit.
    interval : float
    method : str
        Band level and method of :meth:`figure`.
    """

    name = "families"
    title = "Families compared"

    fits: dict
    failed: dict
    law: str
    runs: pd.DataFrame = field(repr=False)
    hold_out_largest: bool = False
    interval: float = 0.9
    method: str = "delta"

    def table(self) -> pd.DataFrame:
        """One row per fitted family: its parameters, points fitted and RMSE of log residuals."""
        return pd.DataFrame(
            [{"family": fam, **f.params, "points": f.n_points, "RMSE(log)": f.rmse_log} for fam, f in self.fits.items()]
        )

    def summary(self) -> str:
        lines = [
            f"{self.law} fitted to each of {len(self.fits)} families"
            + (" (each family's largest size held out)" if self.hold_out_largest else "")
        ]
        if self.fits:
            lines.append(self.table().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        lines += [f"not fitted: {fam} ({why})" for fam, why in self.failed.items()]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": self.name,
            "law": self.law,
            "hold_out_largest": self.hold_out_largest,
            "interval": self.interval,
            "method": self.method,
            "families": [
                {
                    "family": fam,
                    "params": {p: _num(v) for p, v in f.params.items()},
                    "points": int(f.n_points),
                    "rmse_log": _num(f.rmse_log),
                }
                for fam, f in self.fits.items()
            ],
            "failed": dict(self.failed),
        }

    def figure(self):
        """Every family's fit against compute (or N, D) with its prediction band, on one figure."""
        if not self.fits:
            raise InvalidParameterError(
                "FamiliesResult.figure(): no family could be fitted, nothing to draw",
                hint="give each family at least as many runs as the law has parameters",
            )
        x = next(c for c in ("flops", "params", "tokens") if c in self.runs)
        return plot_compare(
            list(self.fits.values()),
            self.runs,
            x=x,
            target="largest" if self.hold_out_largest else None,
            interval=self.interval,
            method=self.method,
            labels=[f"{f.law.name} ({fam})" for fam, f in self.fits.items()],
        )

    def section(self, render: FigureRenderer | None = None) -> Section:
        """The report's "Families compared": the parameter table and the figure (or why it is left out)."""
        if len(self.fits) < 2:
            return Section(
                "families",
                "Families compared",
                "",
                status="error",
                note="Left out: fewer than two families have enough runs to fit on their own.",
            )
        render = render or FigureRenderer()
        fams, fits = list(self.fits), list(self.fits.values())
        keys = {(i, p): f"family-param:{fam}:{p}" for i, fam in enumerate(fams) for p in fits[i].law.params}
        body = table_html(
            self.table(),
            keys=keys,
            caption=f"{fits[0].law.name} fitted to each family separately (the target's runs held out)",
        ) + render(
            self.figure(),
            "fig-families",
            f"{fits[0].law.name} fitted to each of the {len(fams)} families, each with its "
            f"{self.interval:.0%} prediction band"
            + (" to its own largest size" if self.hold_out_largest else "")
            + ".",
        )
        return Section("families", "Families compared", body, figures=("fig-families",))


def _no_family_column(source) -> DataError:
    return DataError(
        "compare_families() needs a 'family' column",
        source=source,
        column="family",
        kind="missing-column",
        hint="map your family column (--map family=<col>, read_runs(..., family='<col>'))",
    )


def compare_families(
    runs: RunsTable | pd.DataFrame | str,
    law: Any = DEFAULT_LAW,
    *,
    fit_runs: RunsTable | pd.DataFrame | None = None,
    hold_out_largest: bool = False,
    families: Sequence[str] | None = None,
    x: Any = None,
    y: str = "loss",
    interval: float = 0.9,
    method: str = "delta",
    fit_options: Mapping[str, Any] | None = None,
    backend: str = "serial",
    workers: int | None = None,
) -> FamiliesResult:
    """Fit ``law`` to each family of ``runs`` on its own (one :func:`~scalinglab.fit.fit_many` batch).

    Parameters
    ----------
    runs : RunsTable, DataFrame or path
        Runs with a ``family`` column (every row is drawn by :meth:`FamiliesResult.figure`).
    law : str or Law
    fit_runs : RunsTable or DataFrame, optional
        The rows the fits may use (e.g. after a checkpoint rule, or with a target held
        out); default ``runs``.
    hold_out_largest : bool
        Hold each family's own largest model size (in ``runs``) out of its fit.
    families : sequence of str, optional
        Which families, in this order (default: every family, sorted).
    x, y, fit_options :
        As in :func:`scalinglab.fit`.
    interval, method :
        Prediction band of the figure.
    backend, workers :
        Where the fits run (:mod:`scalinglab.batch`).

    Returns
    -------
    FamiliesResult
        A family that cannot be fitted is listed in ``failed``, not an error.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> C = np.geomspace(1e15, 1e19, 6)
    >>> runs = pd.DataFrame({"run": [f"{f}{i}" for f in "ab" for i in range(6)], "family": np.repeat(["a", "b"], 6),
    ...                      "flops": np.tile(C, 2), "loss": np.r_[2 + 900 * C ** -0.15, 1.5 + 900 * C ** -0.15]})
    >>> result = compare_families(runs, "power_floor", x="flops")
    >>> {fam: round(f.params["E"], 2) for fam, f in result.fits.items()}
    {'a': 2.0, 'b': 1.5}
    >>> result.to_dict()["families"][0]["family"], result.section().figures
    ('a', ('fig-families',))
    """
    if isinstance(runs, pd.DataFrame) and "family" not in runs.columns:  # before the checks that compare runs
        raise _no_family_column("<DataFrame>")
    table = read_runs(runs)
    frame = table.frame
    if "family" not in frame:
        raise _no_family_column(table.source)
    fit_frame = frame if fit_runs is None else read_runs(fit_runs).frame
    fams = [str(f) for f in families] if families is not None else sorted(map(str, frame["family"].unique()))
    jobs = []
    for fam in fams:
        rows = fit_frame[fit_frame["family"].astype(str) == fam]
        if hold_out_largest:  # each family's own largest size is held out
            top = frame.loc[frame["family"].astype(str) == fam, "params"].max()
            rows = rows[rows["params"] < top]
        jobs.append(FitJob(rows, law, {"x": x, "y": y, **dict(fit_options or {})}, label=fam))
    fits, failed = {}, {}
    for job, outcome in zip(jobs, fit_many(jobs, backend=backend, workers=workers)):
        if outcome.ok:
            fits[job.label] = outcome.value
        else:
            failed[job.label] = outcome.error
    law_name = str(getattr(law, "name", law))
    return FamiliesResult(
        fits=fits,
        failed=failed,
        law=law_name,
        runs=frame,
        hold_out_largest=hold_out_largest,
        interval=interval,
        method=method,
    )


def _num(v: Any) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _report_families(ctx) -> list[str]:
    return sorted(map(str, ctx.frame["family"].unique())) if "family" in ctx.frame else []


def _shown(ctx) -> bool:
    lo, hi = REPORT_FAMILIES
    return lo <= len(_report_families(ctx)) <= hi


@register_section("families", title="Families compared", order=60, weight=lambda ctx: int(_shown(ctx)))
def _report_section(ctx) -> Section | None:
    """The main law fitted to each family of the report's data (its target's runs held out)."""
    if not _shown(ctx):
        return None
    ctx.step("families")
    result = compare_families(
        ctx.runs,
        ctx.laws[0],
        fit_runs=ctx.fit_table,
        hold_out_largest=isinstance(ctx.target_spec, str) and ctx.target_spec == "largest",
        families=_report_families(ctx),
        x=ctx.x,
        y=ctx.y,
        interval=ctx.interval,
        method=ctx.method,
        fit_options=ctx.fit_options,
    )
    ctx.results["families"] = result
    return result.section(render=ctx.render)
