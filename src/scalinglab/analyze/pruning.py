"""Does a pruning metric beat power-law scaling?  Error vs kept data under power, exponential, broken laws.

Sorscher et al. 2022 ("Beyond neural scaling laws: beating power law scaling via data pruning",
arXiv:2206.14486) show that keeping the right examples can turn the power law of test error in
data size, ``err ~ x^-nu``, into an exponential, ``err ~ exp(-x / x0)``, where x is the size of the
pruned (kept) data set; with an imperfect metric the gain stops and the curve bends back to a
power law (a *broken* curve).  :func:`pruning` fits each candidate form to every group of runs
(one group per metric, keep rule or fraction) and compares them two ways:

* **extrapolation** -- a backtest (:func:`scalinglab.evaluate.backtest`) that fits the smaller kept
  sizes and predicts the ``holdout`` largest, scored by RMSE of log-error (and ARE);
* **information criterion** -- AICc of the fit on every point, ``n ln(RSS/n) + 2k + 2k(k+1)/(n-k-1)``
  with RSS the sum of squared log residuals and k the parameters plus the noise variance
  (Burnham & Anderson 2002), with Akaike weights.

A group's verdict compares the best exponential form with the best power form: "exponential"
when both criteria prefer it, "power" when both prefer the power law, "undecided" otherwise.
The candidate laws and their families come from :data:`scalinglab.laws.PRUNING_FORMS`.

Self-supervised prototype scores and keep-masks for a data loader are in
:mod:`scalinglab.analyze._prototypes` (re-exported here: :func:`prototype_scores`,
:func:`keep_mask`, :func:`write_mask`).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._validation import check_int
from scalinglab.analyze._base import AnalysisResult
from scalinglab.analyze._prototypes import (
    PrototypeScores,
    keep_mask,
    load_embeddings,
    load_labels,
    prototype_scores,
    write_mask,
)
from scalinglab.data import CheckpointRule, RunsTable, read_runs
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.evaluate import Policy, backtest
from scalinglab.fit import FitJob, fit_many
from scalinglab.laws import PRUNING_CANDIDATES, PRUNING_FORMS, get_law
from scalinglab.render import FigureRenderer, Section, escape, fmt, note_html, register_section, table_html

_KEY = "pruning"
_FORM_STYLE = {"power": "--", "exponential": "-", "broken": ":"}
#: runs-table columns that mark a pruning table in the report (kept data size, test error)
REPORT_COLUMNS = ("kept", "error")
_GROUP_COLUMNS = ("metric", "keep", "strategy")


def aicc(rss: float, n: int, k: int) -> float:
    """Corrected Akaike information criterion of a Gaussian fit with ``k`` parameters (variance included).

    AICc = n ln(RSS / n) + 2k + 2k(k + 1) / (n - k - 1); NaN when n <= k + 1 (too few points).

    >>> round(aicc(0.5, 20, 3), 3)
    -66.278
    >>> math.isnan(aicc(0.5, 4, 3))
    True
    """
    if n <= k + 1 or not rss > 0:
        return float("nan")
    return n * math.log(rss / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


# ------------------------------------------------------------------------------------------- result


@dataclass
class PruningResult(AnalysisResult):
    """Result of :func:`pruning`.

    Attributes
    ----------
    table : DataFrame
        One row per (group, law): ``form``, ``k`` (parameters incl. the noise variance), ``rmse_log``
        and ``are`` of the backtest on the held-out largest sizes, ``aicc``, ``delta_aicc`` (to the
        group's best), ``weight`` (Akaike weight), ``params`` (the full fit), ``error`` (failure).
    groups : DataFrame
        One row per group: ``points``, ``best_extrapolation``, ``best_ic``, the best power and
        exponential laws, their hold-out RMSEs, ``delta_aicc_power_minus_exp`` and ``verdict``.
    points : DataFrame
        ``group``, ``x``, ``y``, ``held_out`` (scored by the backtest).
    options : dict
        ``x``, ``y``, ``by``, ``holdout``, ``laws``.
    notes : list of str
        Groups left out and why.
    """

    table: pd.DataFrame
    groups: pd.DataFrame
    points: pd.DataFrame = field(repr=False)
    options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    name = _KEY
    title = "Data pruning: does the metric beat power-law scaling?"

    # ---------------------------------------------------------------- views
    def verdict(self, group: str | None = None) -> str:
        """The verdict of one group ("exponential", "power" or "undecided"); the only group by default."""
        g = self._group_row(group)
        return str(g["verdict"])

    def _group_row(self, group: str | None) -> pd.Series:
        if group is None:
            if len(self.groups) != 1:
                raise InvalidParameterError(
                    f"verdict(): {len(self.groups)} groups; name one", hint=f"one of {list(self.groups['group'])}"
                )
            return self.groups.iloc[0]
        hit = self.groups[self.groups["group"] == str(group)]
        if hit.empty:
            raise InvalidParameterError(f"unknown group {group!r}", hint=f"one of {list(self.groups['group'])}")
        return hit.iloc[0]

    def summary(self) -> str:
        o = self.options
        lines = [
            f"Pruning-law comparison: {o['y']} vs {o['x']} (kept data size); "
            f"extrapolation = fit all but the {o['holdout']} largest kept sizes, RMSE of log-{o['y']} on them; "
            "IC = AICc of the fit on every point (lower is better)",
        ]
        for g in self.groups.itertuples():
            lines += ["", f"[{g.group}]  {g.points} points; verdict: {g.verdict}  ({g.reason})"]
            head = (
                f"  {'law':<12} {'form':<12} {'k':>2} {'rmse_log':>9} {'ARE':>8} {'AICc':>9} {'dAICc':>7} {'weight':>7}"
            )
            lines.append(head)
            for r in self.table[self.table["group"] == g.group].itertuples():
                if isinstance(r.error, str) and not np.isfinite(r.rmse_log) and not np.isfinite(r.aicc):
                    lines.append(f"  {r.law:<12} {r.form:<12} FAILED: {r.error}")
                    continue
                lines.append(
                    f"  {r.law:<12} {r.form:<12} {r.k:>2d} {_f(r.rmse_log, 9, '.4f')} {_f(r.are, 8, '.2%')} "
                    f"{_f(r.aicc, 9, '.2f')} {_f(r.delta_aicc, 7, '.2f')} {_f(r.weight, 7, '.3f')}"
                )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": _KEY,
            "options": _clean(self.options),
            "groups": _records(self.groups),
            "table": _records(self.table),
            "points": _records(self.points),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> PruningResult:
        """Rebuild a result from :meth:`to_dict` (e.g. after ``json.load``)."""
        if not isinstance(payload, Mapping) or payload.get("analysis") != _KEY:
            raise InvalidParameterError(
                "PruningResult.from_dict(): not a pruning result", hint="pass the output of PruningResult.to_dict()"
            )

        def frame(key):
            df = pd.DataFrame(list(payload.get(key, [])))
            for col in ("rmse_log", "are", "aicc", "delta_aicc", "weight", "x", "y"):
                if col in df:
                    df[col] = pd.to_numeric(df[col].astype(object).where(df[col].notna(), np.nan), errors="coerce")
            return df

        return cls(frame("table"), frame("groups"), frame("points"), dict(payload["options"]), list(payload["notes"]))

    def figure(self):
        from scalinglab.render import figure_context, new_figure, set_scale

        groups = list(self.groups["group"])
        ncols = min(3, max(1, len(groups)))
        nrows = int(math.ceil(len(groups) / ncols))
        with figure_context():
            fig, axes = new_figure(ncols, nrows, height=3.4, width=None if ncols > 1 else 5.8)
            laws = list(dict.fromkeys(self.table["law"]))
            colors = {lw: f"C{i}" for i, lw in enumerate(laws)}
            for ax, g in zip(axes.flat, groups, strict=False):
                pts = self.points[self.points["group"] == g]
                xs, ys = pts["x"].to_numpy(float), pts["y"].to_numpy(float)
                held = pts["held_out"].to_numpy(bool)
                scale = set_scale(ax, "x", xs)
                grid = np.geomspace(xs.min(), xs.max(), 200) if scale == "log" else np.linspace(xs.min(), xs.max(), 200)
                ax.set_yscale("log")
                ax.plot(xs[~held], ys[~held], "o", color="k", ms=4, label="fitted", zorder=3)
                ax.plot(xs[held], ys[held], "o", mfc="none", mec="k", ms=6, label="held out", zorder=3)
                for r in self.table[self.table["group"] == g].itertuples():
                    if not isinstance(r.params, Mapping) or not r.params:
                        continue
                    lw = get_law(r.law)
                    sym = lw.input_names[0]
                    with np.errstate(all="ignore"):
                        yy = lw.evaluate({sym: grid}, {k: float(v) for k, v in r.params.items()})
                    ok = np.isfinite(yy) & (yy > 0)
                    ax.plot(
                        grid[ok],
                        yy[ok],
                        _FORM_STYLE.get(r.form, "-."),
                        color=colors[r.law],
                        lw=1.3,
                        label=f"{r.law} ({r.form})",
                    )
                row = self.groups[self.groups["group"] == g].iloc[0]
                ax.set_title(f"{g}: {row['verdict']}", fontsize=9)
                xl = str(self.options["x"])
                ax.set_xlabel(xl if "kept" in xl else f"{xl} (kept data size)")
                ax.set_ylabel(str(self.options["y"]))
                lo, hi = np.nanmin(ys), np.nanmax(ys)
                ax.set_ylim(lo / 2.0, hi * 2.0)
            for ax in list(axes.flat)[len(groups) :]:
                ax.set_visible(False)
            axes.flat[0].legend(fontsize=7, loc="best")
            fig.suptitle(
                "lines: each law fitted to every point; open circles: the sizes the backtest held out", fontsize=8
            )
        return fig

    def section(self, render: FigureRenderer | None = None) -> Section:
        render = render or FigureRenderer()
        fid = f"fig-{self.name}"
        g = self.groups[
            [
                "group",
                "points",
                "verdict",
                "best_extrapolation",
                "best_ic",
                "rmse_power",
                "rmse_exponential",
                "delta_aicc_power_minus_exp",
            ]
        ]
        t = self.table[["group", "law", "form", "k", "rmse_log", "are", "aicc", "delta_aicc", "weight"]]
        body = (
            f"<p>{escape(self.summary().splitlines()[0])}</p>"
            + table_html(g, caption="Verdict per group (exponential vs power: both criteria must agree)")
            + table_html(t, caption="Every law: hold-out RMSE of log-error, AICc and Akaike weight")
            + "".join(note_html(n) for n in self.notes)
            + render(self.figure(), fid, self.title)
        )
        return Section(self.name, self.title, body, figures=(fid,))


def _f(v, width: int, spec: str) -> str:
    return f"{v:>{width}{spec}}" if v is not None and np.isfinite(v) else f"{'-':>{width}}"


def _clean(v):
    if isinstance(v, Mapping):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None
    return v


def _records(df: pd.DataFrame) -> list[dict]:
    return [_clean(r) for r in df.to_dict(orient="records")]


# ------------------------------------------------------------------------------------------ analysis


def _read(data, x: str, y: str, by: Sequence[str]) -> pd.DataFrame:
    if isinstance(data, RunsTable):
        frame = data.frame
    elif isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, (str, os.PathLike)):
        frame = read_runs(data, required=()).frame
    else:
        raise InvalidParameterError(
            f"pruning(): 'data' must be a DataFrame, RunsTable or path; got {type(data).__name__}",
            hint="pass a table with a kept-size and an error column",
        )
    for col, what, flag in ((x, "x", "--x"), (y, "y", "--y")):
        if col not in frame:
            raise DataError(
                f"pruning(): no column '{col}' ({'kept data size' if what == 'x' else 'test error'}); "
                f"columns: {list(frame.columns)}",
                column=col,
                kind="missing-column",
                hint=f"name it with {what}='<column>'",
                cli_hint=f"name it with {flag} <column>",
            )
    for col in by:
        if col not in frame:
            raise DataError(
                f"pruning(): by='{col}' is not a column; columns: {list(frame.columns)}",
                column=col,
                kind="missing-column",
                hint="give by= a column that names the metric / keep rule, or by=None",
                cli_hint="give --by a column that names the metric / keep rule, or leave it out",
            )
    for col, what, flag in ((x, "x", "--x"), (y, "y", "--y")):
        v = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(v) | (v <= 0))
        if bad.size:
            i = int(bad[0])
            raise DataError(
                f"pruning(): {bad.size} value(s) of '{col}' are not positive numbers (first: {frame[col].iloc[i]!r}); "
                "sizes and errors are fitted in log space",
                row=i + 1,
                column=col,
                value=frame[col].iloc[i],
                kind="bad-value",
                hint=f"drop those rows (an error of exactly 0 cannot be fitted in log space) or fix {what}=",
                cli_hint=f"drop those rows (an error of exactly 0 cannot be fitted in log space) or name another {flag}",
            )
    out = pd.DataFrame(
        {
            "group": _labels(frame, by),
            "x": pd.to_numeric(frame[x]).to_numpy(dtype=float),
            "y": pd.to_numeric(frame[y]).to_numpy(dtype=float),
        }
    )
    return out


def _labels(frame: pd.DataFrame, by: Sequence[str]) -> list[str]:
    if not by:
        return ["all"] * len(frame)
    if len(by) == 1:
        return [str(v) for v in frame[by[0]]]
    return [
        ", ".join(f"{c}={v}" for c, v in zip(by, row, strict=True)) for row in frame[list(by)].itertuples(index=False)
    ]


def pruning(
    data: RunsTable | pd.DataFrame | str | os.PathLike,
    *,
    x: str = "kept",
    y: str = "error",
    by: str | Sequence[str] | None = None,
    laws: Sequence[str] | None = None,
    holdout: int = 2,
    fit_options: Mapping[str, Any] | None = None,
    backend: str | None = None,
) -> PruningResult:
    """Compare power-law, exponential and broken fits of error vs kept data, per group.

    Parameters
    ----------
    data : DataFrame, RunsTable or path
        One row per training run on a pruned data set: its kept size (``x``) and test error (``y``),
        plus any grouping columns (metric, keep rule, fraction).  Rows with the same x are replicates.
    x, y : str
        Columns of the kept data size and the error (both > 0; fitted in log space).
    by : str or sequence of str, optional
        Columns whose values are compared separately (e.g. ``"metric"``); None: one curve.
    laws : sequence of str, optional
        Candidate laws with one input (default :data:`scalinglab.laws.PRUNING_CANDIDATES`); each is
        reported under its family in :data:`scalinglab.laws.PRUNING_FORMS` ("other" if absent).
    holdout : int
        How many of the largest distinct kept sizes the backtest predicts (>= 1); a group needs at
        least ``holdout + 3`` distinct sizes.
    fit_options : mapping, optional
        Extra arguments for :func:`scalinglab.fit` (default ``loss="squared"``: the AICc assumes
        Gaussian log residuals).
    backend : str, optional
        Batch backend of the fits (:mod:`scalinglab.batch`).

    Returns
    -------
    PruningResult

    Examples
    --------
    An exponential curve is told from a power law on both criteria:

    >>> import numpy as np, pandas as pd
    >>> x = np.linspace(50, 600, 10)
    >>> curve = pd.DataFrame({"kept": x, "error": 0.4 * np.exp(-x / 120) * (1 + 0.02 * np.sin(x))})
    >>> res = pruning(curve, laws=["power_law", "exp_decay"])
    >>> res.verdict()
    'exponential'
    """
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    holdout = check_int(holdout, "holdout", "pruning", minimum=1)
    names = list(laws) if laws is not None else list(PRUNING_CANDIDATES)
    if not names:
        raise InvalidParameterError("pruning(): give at least one law", hint="e.g. laws=['power_law', 'exp_decay']")
    law_objs = [get_law(n) for n in names]
    for lw in law_objs:
        if len(lw.inputs) != 1:
            raise InvalidParameterError(
                f"pruning(): law '{lw.name}' takes {len(lw.inputs)} inputs; the comparison needs one (kept size)",
                hint=f"use one-input laws such as {', '.join(PRUNING_CANDIDATES)}",
            )
    pts = _read(data, x, y, by_cols)
    opts = {"loss": "squared", **dict(fit_options or {})}

    ok_groups, notes = [], []
    for g, sub in pts.groupby("group", sort=False):
        n_sizes = sub["x"].nunique()
        if n_sizes < holdout + 3:
            notes.append(
                f"group '{g}' left out: {n_sizes} distinct kept sizes; the comparison needs at least "
                f"{holdout + 3} (fit 3, hold out {holdout})"
            )
            continue
        ok_groups.append(g)
    if not ok_groups:
        raise DataError(
            f"pruning(): no group has enough distinct kept sizes ({'; '.join(notes)})",
            column=x,
            kind="too-few-points",
            hint=f"add runs at more kept sizes, or hold out fewer with holdout= (now {holdout})",
            cli_hint=f"add runs at more kept sizes, or hold out fewer with --holdout (now {holdout})",
        )
    pts = pts[pts["group"].isin(ok_groups)].reset_index(drop=True)
    pts["held_out"] = False
    for g in ok_groups:
        m = pts["group"] == g
        held = np.sort(pts.loc[m, "x"].unique())[-holdout:]
        pts.loc[m & pts["x"].isin(held), "held_out"] = True

    # The backtest splits on the size column 'params': the kept size stands in for it, times a power of
    # ten that lifts it above the runs table's "looks like millions" guard (every candidate law is
    # covariant under x -> c x, so the hold-out scores do not change).  The full fits use 'kept' itself.
    low = float(pts["x"].min())
    lift = 10.0 ** math.ceil(math.log10(1e3 / low)) if low < 1e3 else 1.0
    runs_frame = pd.DataFrame(
        {
            "run": [f"{g}#{i}" for i, g in enumerate(pts["group"])],
            "family": pts["group"].to_numpy(),
            "params": pts["x"].to_numpy() * lift,
            "kept": pts["x"].to_numpy(),
            "loss": pts["y"].to_numpy(),
        }
    )
    runs = read_runs(runs_frame)
    policy = Policy(holdout=f"largest:{holdout}", fit_models="all", checkpoints=CheckpointRule(), target="final")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        bt = backtest(
            runs,
            law_objs,
            policy,
            x="params",
            interval=None,
            method="delta",
            by="family",
            prior=None,
            fit_options=opts,
            backend=backend,
        )
    scores = {(str(r.family), str(r.law)): r for r in bt.scores.itertuples()}

    jobs = [
        FitJob(
            data=runs_frame.loc[runs_frame["family"] == g, ["run", "kept", "loss"]],
            law=lw,
            options={"x": "kept", "y": "loss", **opts},
            label=f"{g}|{lw.name}",
        )
        for g in ok_groups
        for lw in law_objs
    ]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        outcomes = fit_many(jobs, backend=backend)

    rows = []
    for job, out in zip(jobs, outcomes, strict=True):
        g, name = job.label.split("|", 1)
        lw = job.law
        k = len(lw.params) + 1
        n = len(job.data)
        fit_err, params, ic = None, {}, float("nan")
        if out.ok:
            f = out.value
            params = {p: float(v) for p, v in f.params.items()}
            res = f.residuals()
            ic = aicc(float(np.sum(res**2)), n, k) if np.all(np.isfinite(res)) else float("nan")
            if not np.isfinite(ic) and n <= k + 1:
                fit_err = f"AICc needs more than {k + 1} points (has {n})"
        else:
            fit_err = out.error
        s = scores.get((g, name))
        bt_err = None if s is None or not isinstance(s.error, str) else s.error
        rows.append(
            {
                "group": g,
                "law": name,
                "form": PRUNING_FORMS.get(name, "other"),
                "k": k,
                "points": n,
                "rmse_log": float(s.rmse_log) if s is not None and bt_err is None else float("nan"),
                "are": float(s.are) if s is not None and bt_err is None else float("nan"),
                "aicc": ic,
                "params": params,
                "error": fit_err or bt_err,
            }
        )
    table = pd.DataFrame(rows)
    table["delta_aicc"] = np.nan
    table["weight"] = np.nan
    for g in ok_groups:
        m = (table["group"] == g) & np.isfinite(table["aicc"])
        if m.any():
            d = table.loc[m, "aicc"] - table.loc[m, "aicc"].min()
            w = np.exp(-0.5 * d)
            table.loc[m, "delta_aicc"] = d
            table.loc[m, "weight"] = w / w.sum()
    table = table[
        ["group", "law", "form", "k", "points", "rmse_log", "are", "aicc", "delta_aicc", "weight", "params", "error"]
    ]
    groups = pd.DataFrame([_verdict(g, table[table["group"] == g], int((pts["group"] == g).sum())) for g in ok_groups])
    options = {"x": x, "y": y, "by": by_cols or None, "holdout": holdout, "laws": [lw.name for lw in law_objs]}
    return PruningResult(table.reset_index(drop=True), groups, pts, options, notes)


def _best(t: pd.DataFrame, col: str) -> pd.Series | None:
    t = t[np.isfinite(t[col])]
    return None if t.empty else t.loc[t[col].idxmin()]


def _verdict(group: str, t: pd.DataFrame, n_points: int) -> dict[str, Any]:
    be, bi = _best(t, "rmse_log"), _best(t, "aicc")
    pw, ex = t[t["form"] == "power"], t[t["form"] == "exponential"]
    pw_bt, ex_bt = _best(pw, "rmse_log"), _best(ex, "rmse_log")
    pw_ic, ex_ic = _best(pw, "aicc"), _best(ex, "aicc")
    r_pw = float(pw_bt["rmse_log"]) if pw_bt is not None else float("nan")
    r_ex = float(ex_bt["rmse_log"]) if ex_bt is not None else float("nan")
    d_ic = float(pw_ic["aicc"] - ex_ic["aicc"]) if pw_ic is not None and ex_ic is not None else float("nan")
    by_bt = "exponential" if r_ex < r_pw else ("power" if r_pw < r_ex else None)
    by_ic = "exponential" if d_ic > 0 else ("power" if d_ic < 0 else None)
    if by_bt is not None and by_bt == by_ic:
        verdict = by_bt
    else:
        verdict = "undecided"
    reason = (
        f"hold-out RMSE of log-error: exponential {fmt(r_ex)}, power {fmt(r_pw)}; "
        f"AICc(power) - AICc(exponential) = {fmt(d_ic)}"
    )
    if be is not None and be["form"] == "broken" and verdict != "undecided":
        reason += "; the broken law extrapolates best"
    return {
        "group": group,
        "points": n_points,
        "verdict": verdict,
        "best_extrapolation": None if be is None else str(be["law"]),
        "best_ic": None if bi is None else str(bi["law"]),
        "best_power": None if pw_bt is None else str(pw_bt["law"]),
        "best_exponential": None if ex_bt is None else str(ex_bt["law"]),
        "rmse_power": r_pw,
        "rmse_exponential": r_ex,
        "delta_aicc_power_minus_exp": d_ic,
        "reason": reason,
    }


# ------------------------------------------------------------------------------------------ report


def _shown(ctx) -> bool:
    fr = getattr(ctx, "frame", None)
    return fr is not None and all(c in fr for c in REPORT_COLUMNS)


@register_section(_KEY, title=PruningResult.title, order=75, weight=lambda ctx: int(_shown(ctx)))
def _report_section(ctx) -> Section | None:
    """The pruning-law comparison, when the report's runs have kept-size and error columns."""
    if not _shown(ctx):
        return None
    ctx.step(_KEY)
    fr = ctx.frame
    by = next((c for c in _GROUP_COLUMNS if c in fr), None)
    result = pruning(fr, x=REPORT_COLUMNS[0], y=REPORT_COLUMNS[1], by=by)
    ctx.results[_KEY] = result
    return result.section(render=ctx.render)


__all__ = [
    pruning.__name__,
    "PruningResult",
    "aicc",
    "prototype_scores",
    "PrototypeScores",
    "keep_mask",
    "write_mask",
    "load_embeddings",
    "load_labels",
]
