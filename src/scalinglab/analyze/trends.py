"""Downstream trends: is a task positive, inverse, U-shaped, inverted-U, emergent or flat in scale?

For every curve (one task of one model family over model size, compute or tokens),
:func:`trends` gives one label from :data:`LABELS` with the evidence behind it:

* **noise model**: each point has variance ``se_i^2 + tau^2`` -- its binomial or reported
  error plus the between-model scatter ``tau`` (seeds, data order, prompt sensitivity),
  which binomial errors leave out.  ``tau`` comes from replicates when the data have them
  (a ``replicates=`` column such as seeds, or twin families such as Pythia and
  Pythia-deduped, ``twins=``), else from the residuals of the curve's most flexible
  plausible fit (quadratic or logistic in log-scale; Paule & Mandel 1982), with a
  Q-profile interval (Viechtbauer 2007).  A label that changes anywhere in that
  plausible range of ``tau`` is reported as *fragile*, not asserted.
* **slope test**: weighted least squares of the metric on log10 scale (Michaelov &
  Bergen 2023 without the z-scoring); "positive" / "inverse" also need the better
  isotonic fit to run the same way.
* **shape test**: unimodal vs monotone weighted least squares (Frisen 1986), a
  likelihood-ratio statistic with a parametric bootstrap under the monotone fit; a
  shape is called only when a second opinion agrees (Lind & Mehlum 2010 on a
  quadratic, or Simonsohn 2018's two lines), the turning point is interior with at
  least two models on each side and each arm moves by at least two noise SDs.  The
  turning point comes with its Fieller interval.
* **multiple tasks**: slope and shape p-values are Benjamini-Hochberg adjusted across
  the curves of one call.
* **chance**: a curve whose every point lies within ``max(2 SD, chance_band)`` of the
  chance level is flat, whatever the tests say.
* **emergence** (Wei et al. 2022): a logistic in log-scale with its floor at chance
  beats a line by BIC, its midpoint lies inside the data, at least two models sit at
  chance below it and two clearly above beyond it.  With a continuous metric beside
  the accuracy (``continuous=``, e.g. log-perplexity or Brier score), the check of
  Schaeffer et al. 2023: a smooth continuous metric beside a jumping accuracy means
  the jump comes from the metric, and the result says so.

The metric's direction is explicit (``higher_is_better``; guessed from the name:
loss, perplexity, Brier, bits per byte and error fall as models improve), and every
label is in that orientation: "inverse" means the metric gets *worse* with scale.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.analyze import _shape_tests as st
from scalinglab.analyze._base import AnalysisResult
from scalinglab.data import RunsTable
from scalinglab.data.readers import read_table
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.render import FigureRenderer, Section, escape, figure_context, new_figure, register_section, table_html

__all__ = ["trends", "TrendsResult", "CurveTrend", "LABELS", "guess_higher_is_better"]

#: The labels, in the order the summary lists them.
LABELS = ("positive", "inverse", "U", "inverted-U", "emergent", "flat", "insufficient")

_LOWER_IS_BETTER = ("loss", "ppl", "perplexity", "brier", "bpb", "error", "err", "nll", "cross_entropy", "ce_")
_MIN_SLOPE_POINTS = 3
_MIN_SHAPE_POINTS = 5


def guess_higher_is_better(metric: str) -> bool:
    """``False`` for loss-like metric names (loss, perplexity, Brier, bits per byte, error), else ``True``.

    Examples
    --------
    >>> guess_higher_is_better("acc"), guess_higher_is_better("tc_brier_conditional"), guess_higher_is_better("ppl")
    (True, False, False)
    """
    name = metric.lower()
    return not any(tok in name for tok in _LOWER_IS_BETTER)


# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class CurveTrend:
    """The verdict on one curve.

    Attributes
    ----------
    key : dict
        The curve's group (``{"task": ..., "family": ...}``).
    label : str
        One of :data:`LABELS` (at the estimated ``tau``).
    fragile : bool
        Whether the label changes within the plausible range of ``tau``.
    labels_over_tau : dict
        The label at ``tau_lo``, ``tau`` and ``tau_hi``.
    x, y, se : tuple of float
        Scale (sorted), metric as given and its standard error (0 when unknown).
    evidence : dict
        Plain-JSON evidence: noise model, slope test, shape test, second opinions,
        turning point, emergence, chance, metric check.
    """

    key: dict
    label: str
    fragile: bool
    labels_over_tau: dict
    x: tuple
    y: tuple
    se: tuple
    evidence: dict
    continuous: tuple | None = None
    fits: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return " / ".join(str(v) for v in self.key.values()) or "curve"

    @property
    def n(self) -> int:
        return len(self.x)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": {k: _plain(v) for k, v in self.key.items()},
            "label": self.label,
            "fragile": self.fragile,
            "labels_over_tau": dict(self.labels_over_tau),
            "n": self.n,
            "x": [float(v) for v in self.x],
            "y": [float(v) for v in self.y],
            "se": [float(v) for v in self.se],
            "evidence": _jsonable(self.evidence),
        }


@dataclass(frozen=True)
class TrendsResult(AnalysisResult):
    """Labels of every curve of one :func:`trends` call.

    Attributes
    ----------
    curves : list of CurveTrend
    metric, x : str
        Metric column and scale column.
    higher_is_better : bool
    alpha : float
        Level of the tests (after the Benjamini-Hochberg adjustment).
    notes : tuple of str
        What was dropped or selected on the way.
    """

    name = "trends"
    title = "Downstream trends"

    curves: list
    metric: str
    x: str
    higher_is_better: bool
    alpha: float
    by: tuple = ()
    notes: tuple = ()
    options: dict = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per curve: group, label, fragile, n and the headline evidence."""
        rows = []
        for c in self.curves:
            e = c.evidence
            tp = e.get("turning_point") or {}
            rows.append(
                {
                    **{k: _plain(v) for k, v in c.key.items()},
                    "label": c.label,
                    "fragile": "yes" if c.fragile else "",
                    "n": c.n,
                    "slope": _get(e, "slope", "slope"),
                    "p_slope(BH)": _get(e, "slope", "p_adj"),
                    "p_shape(BH)": _get(e, "shape", "p_adj"),
                    "p_LM": _get(e, "lind_mehlum", "p"),
                    "turning": tp.get("x"),
                    "tau": _get(e, "noise", "tau"),
                    "tau range": _fmt_range(_get(e, "noise", "tau_lo"), _get(e, "noise", "tau_hi")),
                }
            )
        return pd.DataFrame(rows)

    def counts(self) -> dict[str, int]:
        out = {lab: 0 for lab in LABELS}
        for c in self.curves:
            out[c.label] += 1
        return {k: v for k, v in out.items() if v}

    def __getitem__(self, name: str) -> CurveTrend:
        for c in self.curves:
            if c.name == name or str(next(iter(c.key.values()), "")) == name:
                return c
        raise KeyError(f"no curve {name!r}; curves: {[c.name for c in self.curves]}")

    def summary(self) -> str:
        d = "higher is better" if self.higher_is_better else "lower is better"
        lines = [
            f"Trends of '{self.metric}' ({d}) over log10 '{self.x}': {len(self.curves)} curve(s); "
            f"alpha = {self.alpha:g} after Benjamini-Hochberg across curves"
        ]
        lines.append("labels: " + ", ".join(f"{k} {v}" for k, v in self.counts().items()))
        for c in self.curves:
            lines.append(
                f"- {c.name}: {c.label}"
                + (
                    " (fragile: " + ", ".join(f"{k}={v}" for k, v in c.labels_over_tau.items()) + ")"
                    if c.fragile
                    else ""
                )
                + f" -- {c.evidence.get('reason', '')}"
            )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": self.name,
            "metric": self.metric,
            "x": self.x,
            "by": list(self.by),
            "higher_is_better": self.higher_is_better,
            "alpha": self.alpha,
            "counts": self.counts(),
            "options": _jsonable(self.options),
            "notes": list(self.notes),
            "curves": [c.to_dict() for c in self.curves],
        }

    def figure(self, curves: Sequence[str] | None = None, *, max_panels: int = 24):
        """One panel per curve: points with their SD, the monotone and unimodal fits (or the logistic),
        chance, and the turning point with its interval."""
        chosen = [c for c in self.curves if curves is None or c.name in curves][:max_panels]
        if not chosen:
            raise InvalidParameterError(
                "TrendsResult.figure(): no curve to draw", hint=f"choose among {[c.name for c in self.curves]}"
            )
        ncols = min(4, len(chosen))
        nrows = math.ceil(len(chosen) / ncols)
        with figure_context():
            fig, axes = new_figure(ncols, nrows, width=3.2 * ncols, height=2.6)
            axes = np.atleast_1d(axes).ravel()
            for ax, c in zip(axes, chosen):
                _draw_curve(ax, c, self.x, self.metric)
            for ax in axes[len(chosen) :]:
                ax.set_visible(False)
        return fig

    def section(self, render: FigureRenderer | None = None) -> Section:
        """Report section: the table of labels and evidence, then the figure."""
        render = render or FigureRenderer()
        body = (
            f"<p>{escape(self.summary().splitlines()[0])}. Labels: "
            f"{escape(', '.join(f'{k} {v}' for k, v in self.counts().items()))}.</p>"
            + table_html(
                self.table(),
                caption="One row per curve: label, whether it is fragile in tau, "
                "BH-adjusted p-values, turning point (log10) and tau",
            )
            + render(
                self.figure(),
                "fig-trends",
                f"'{self.metric}' against {self.x} per curve, with the fitted shapes and turning points.",
            )
        )
        return Section("trends", self.title, body, figures=("fig-trends",))


# ------------------------------------------------------------------------------------ public function


def trends(
    data: RunsTable | pd.DataFrame | str | os.PathLike,
    metric: str = "acc",
    *,
    x: str = "params",
    by: Sequence[str] | str | None = None,
    higher_is_better: bool | None = None,
    chance: float | Mapping[str, float] | str | None = None,
    chance_band: float = 0.02,
    se: str | None = None,
    n_items: str | None = None,
    tau: float | str = "auto",
    replicates: str | None = None,
    twins: Mapping[str, str] | None = None,
    continuous: str | None = None,
    checkpoint: str = "final",
    covariate: str | None = None,
    alpha: float = 0.05,
    n_boot: int = 999,
    seed: int = 0,
) -> TrendsResult:
    """Label the trend of ``metric`` over log10 ``x`` for every curve (one per group of ``by``).

    Parameters
    ----------
    data : path, DataFrame or RunsTable
        Wide (a ``metric`` column) or long (columns ``metric`` and ``value``, optionally
        ``stderr``; rows whose ``metric`` equals the name are used).
    metric : str
        The metric (column, or value of the long table's ``metric`` column).
    x : str
        Scale column (``params``, ``flops``, ``tokens`` or any positive column); rows with
        ``x <= 0`` or missing are dropped (noted).
    by : str or sequence, optional
        Grouping columns; default those of ``task``, ``subtask`` and ``family`` (or
        ``model_family``) present.
    higher_is_better : bool, optional
        Metric direction (default from the name, :func:`guess_higher_is_better`, or a
        ``higher_is_better`` column).
    chance : float, mapping or column, optional
        Chance level (``0.5``, ``{"memo-trap": 0.5}`` keyed by the first ``by`` column,
        or a column name).  Needed for "flat at chance" and fixes the emergence floor.
    chance_band : float
        A point within ``max(2 SD, chance_band)`` of chance counts as at chance.
    se, n_items : str, optional
        Standard-error column (default ``<metric>_stderr``, ``stderr`` or ``se`` when
        present) or number-of-items column (binomial SE ``sqrt(p(1-p)/n)``).  Without
        either, the noise is ``tau`` alone.
    tau : "auto" or float
        Between-model scatter; ``"auto"``: from replicates or twins when given, else
        estimated per curve (see the module docstring).
    replicates : str, optional
        Column telling replicates apart (e.g. ``seed``): rows sharing a group and ``x``.
    twins : mapping, optional
        ``{family: twin_family}``: the scatter between the two at equal ``x`` estimates ``tau``
        for both (e.g. ``{"pythia": "pythia-deduped"}``).
    continuous : str, optional
        A continuous metric of the same models (column or long-table metric name) for the
        Schaeffer et al. 2023 check; log is taken of perplexities.
    checkpoint : {"final", "all"}
        With a ``step`` column and ``x`` not ``step``/``tokens``: keep each model's last
        checkpoint (default) or every row.
    covariate : str, optional
        A second scale whose checkpoints all enter the slope test (e.g. ``tokens``, as in
        Michaelov & Bergen 2023): ``y ~ log x + log z + log x * log z`` by weighted least
        squares, the size effect taken at the last checkpoint.  Shapes, emergence and the
        figure use each model's last checkpoint.
    alpha : float
        Test level after the Benjamini-Hochberg adjustment.
    n_boot : int
        Parametric-bootstrap draws of the shape test.
    seed : int

    Returns
    -------
    TrendsResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> N = np.geomspace(1e8, 1e11, 8)
    >>> df = pd.DataFrame({"task": np.repeat(["up", "down", "peak"], 8), "params": np.tile(N, 3),
    ...                    "acc": np.r_[np.linspace(0.3, 0.8, 8), np.linspace(0.8, 0.3, 8),
    ...                                [0.3, 0.5, 0.7, 0.8, 0.8, 0.7, 0.5, 0.3]], "stderr": 0.01})
    >>> r = trends(df, "acc", chance=0.25, n_boot=199)
    >>> [(c.name, c.label) for c in r.curves]
    [('down', 'inverse'), ('peak', 'inverted-U'), ('up', 'positive')]
    """
    if not 0 < alpha < 1:
        raise InvalidParameterError(f"trends(): alpha must be in (0, 1); got {alpha!r}", hint="e.g. alpha=0.05")
    if checkpoint not in ("final", "all"):
        raise InvalidParameterError(
            f"trends(): checkpoint must be 'final' or 'all'; got {checkpoint!r}",
            hint="checkpoint='final' keeps each model's last checkpoint",
        )
    if not (tau == "auto" or (isinstance(tau, (int, float)) and tau >= 0)):
        raise InvalidParameterError(
            f"trends(): tau must be 'auto' or a number >= 0; got {tau!r}", hint="tau='auto' estimates it"
        )
    frame, source = _load(data)
    notes: list[str] = []
    frame, value_col, se_col, cont_col = _select_metric(frame, metric, se, continuous, source, notes)
    if x not in frame:
        raise DataError(
            f"scale column '{x}' is not in the table",
            source=source,
            column=x,
            kind="missing-column",
            hint=f"{_close(x, frame.columns)}; choose it with x= (CLI: --x)",
        )
    by_cols = _resolve_by(frame, by, source)
    if higher_is_better is None:
        higher_is_better = _direction_from_table(frame, metric)
    frame = _clean(frame, x, value_col, source, notes)
    if covariate is not None:
        if covariate not in frame:
            raise DataError(
                f"covariate column '{covariate}' is not in the table",
                source=source,
                column=covariate,
                kind="missing-column",
                hint=_close(covariate, frame.columns) + " (CLI: --covariate)",
            )
        cz = pd.to_numeric(frame[covariate], errors="coerce")
        ok = cz.notna() & (cz > 0)
        if (~ok).any():
            notes.append(f"{int((~ok).sum())} row(s) with missing or non-positive '{covariate}' dropped")
        frame = frame[ok].assign(**{covariate: cz[ok]}).reset_index(drop=True)
    elif checkpoint == "final":
        frame = _final_checkpoints(frame, x, by_cols, notes)
    chance_of = _chance_lookup(chance, frame, by_cols, source)
    n_col = n_items
    if n_col is not None and n_col not in frame:
        raise DataError(
            f"n_items column '{n_col}' is not in the table",
            source=source,
            column=n_col,
            kind="missing-column",
            hint=_close(n_col, frame.columns),
        )
    if replicates is not None and replicates not in frame:
        raise DataError(
            f"replicates column '{replicates}' is not in the table",
            source=source,
            column=replicates,
            kind="missing-column",
            hint=_close(replicates, frame.columns),
        )
    sign = 1.0 if higher_is_better else -1.0
    bounded = frame[value_col].between(0, 1).all()

    curves_in = []
    groups = frame.groupby(by_cols, sort=True, dropna=False) if by_cols else [((), frame)]
    for key, rows in groups:
        key = key if isinstance(key, tuple) else (key,)
        keyd = dict(zip(by_cols, key))
        panel = None
        if covariate is not None:
            rows, panel = _split_panel(rows, x, covariate, value_col, se_col, sign, bounded)
        curves_in.append(
            _prepare_curve(keyd, rows, x, value_col, se_col, n_col, replicates, cont_col, sign, bounded, source)
        )
        curves_in[-1]["panel"] = panel
    if twins:
        _twin_tau(curves_in, twins, by_cols, notes)

    rng = np.random.default_rng(seed)
    for c in curves_in:
        c["chance_g"] = None
        ch = chance_of(c["key"])
        if ch is not None:
            c["chance"] = float(ch)
            c["chance_g"] = sign * float(ch)
        _estimate_tau(c, tau)
        c["raw"] = {s: _tests(c, s, n_boot, rng) for s in ("tau_lo", "tau", "tau_hi")}
    results = []
    labels_by_scenario = {}
    for s in ("tau_lo", "tau", "tau_hi"):
        p_slope = st.benjamini_hochberg(
            [c["raw"][s]["slope"]["p"] if c["raw"][s]["slope"] else np.nan for c in curves_in]
        )
        p_shape = st.benjamini_hochberg(
            [c["raw"][s]["shape"]["p"] if c["raw"][s]["shape"] else np.nan for c in curves_in]
        )
        labels_by_scenario[s] = [
            _label(c, c["raw"][s], ps, ph, alpha, chance_band) for c, ps, ph in zip(curves_in, p_slope, p_shape)
        ]
        for c, ps, ph in zip(curves_in, p_slope, p_shape):
            c["raw"][s]["p_slope_adj"], c["raw"][s]["p_shape_adj"] = ps, ph
    for i, c in enumerate(curves_in):
        label, reason = labels_by_scenario["tau"][i]
        over = {s: labels_by_scenario[s][i][0] for s in ("tau_lo", "tau", "tau_hi")}
        fragile = len(set(over.values())) > 1
        evidence = _evidence(c, c["raw"]["tau"], reason, higher_is_better)
        if cont_col is not None:
            evidence["metric_check"] = _metric_check(c, label, cont_col)
        results.append(
            CurveTrend(
                key=c["key"],
                label=label,
                fragile=fragile,
                labels_over_tau=over,
                x=tuple(float(v) for v in c["xraw"]),
                y=tuple(float(v) for v in c["y"]),
                se=tuple(float(v) for v in c["se"]),
                evidence=evidence,
                continuous=None if c["cont"] is None else tuple(float(v) for v in c["cont"]),
                fits=_fitted_curves(c["raw"]["tau"], label),
            )
        )
    opts = {
        "chance_band": chance_band,
        "tau": tau,
        "n_boot": n_boot,
        "seed": seed,
        "checkpoint": checkpoint,
        "replicates": replicates,
        "twins": dict(twins or {}),
        "continuous": continuous,
        "source": source,
        "covariate": covariate,
    }
    return TrendsResult(
        curves=results,
        metric=metric,
        x=x,
        higher_is_better=bool(higher_is_better),
        alpha=alpha,
        by=tuple(by_cols),
        notes=tuple(notes),
        options=opts,
    )


# ------------------------------------------------------------------------------------ input


def _load(data) -> tuple[pd.DataFrame, str]:
    if isinstance(data, RunsTable):
        return data.frame.copy(), data.source
    if isinstance(data, pd.DataFrame):
        return data.copy(), "<DataFrame>"
    if isinstance(data, (str, os.PathLike)):
        frame = read_table(Path(data))
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame, str(data)
    raise InvalidParameterError(
        f"trends(): data must be a path, DataFrame or RunsTable; got {type(data).__name__}",
        hint="pass the path of a CSV/JSONL/Parquet table or a DataFrame",
    )


def _close(name: str, columns) -> str:
    close = difflib.get_close_matches(name, [str(c) for c in columns], n=3, cutoff=0.5)
    return (
        f"did you mean {', '.join(repr(c) for c in close)}?" if close else "check the name"
    ) + f" (columns: {list(columns)[:30]})"


def _select_metric(frame, metric, se, continuous, source, notes):
    cont_col = None
    if metric in frame:
        value_col = metric
        se_col = (
            se
            if se is not None
            else next((c for c in (f"{metric}_stderr", f"{metric}_se", "stderr", "se") if c in frame), None)
        )
        if continuous is not None:
            if continuous not in frame:
                raise DataError(
                    f"continuous metric '{continuous}' is not a column",
                    source=source,
                    column=continuous,
                    kind="missing-column",
                    hint=_close(continuous, frame.columns) + "; choose it with continuous= (CLI: --continuous)",
                )
            cont_col = continuous
    elif "metric" in frame and "value" in frame:
        names = frame["metric"].astype(str)
        if not (names == metric).any():
            raise DataError(
                f"metric '{metric}' is neither a column nor a value of the 'metric' column",
                source=source,
                column="metric",
                kind="missing-column",
                hint=f"metrics in this table: {sorted(names.unique())[:20]}; choose one with metric= (CLI: --metric)",
            )
        keys = [c for c in frame.columns if c not in ("metric", "value", "stderr")]
        main = frame[names == metric].copy()
        if continuous is not None:
            if not (names == continuous).any():
                raise DataError(
                    f"continuous metric '{continuous}' is not a value of the 'metric' column",
                    source=source,
                    column="metric",
                    kind="missing-column",
                    hint=f"metrics in this table: {sorted(names.unique())[:20]}",
                )
            cont = frame[names == continuous][keys + ["value"]].rename(columns={"value": "__continuous"})
            main = main.merge(cont, on=keys, how="left")
            cont_col = "__continuous"
        frame = main.rename(columns={"value": metric})
        value_col = metric
        se_col = se if se is not None else ("stderr" if "stderr" in frame else None)
        notes.append(f"long table: rows with metric == '{metric}'")
    else:
        raise DataError(
            f"metric '{metric}' is not a column",
            source=source,
            column=metric,
            kind="missing-column",
            hint=_close(metric, frame.columns) + "; choose it with metric= (CLI: --metric)",
        )
    if se_col is not None and se_col not in frame:
        raise DataError(
            f"standard-error column '{se_col}' is not in the table",
            source=source,
            column=se_col,
            kind="missing-column",
            hint=_close(se_col, frame.columns) + " (CLI: --se)",
        )
    return frame, value_col, se_col, cont_col


def _resolve_by(frame, by, source) -> list[str]:
    if by is None:
        cols = [c for c in ("task", "subtask", "dataset") if c in frame and frame[c].notna().any()]
        fam = "family" if "family" in frame else ("model_family" if "model_family" in frame else None)
        return cols + ([fam] if fam else [])
    cols = [by] if isinstance(by, str) else list(by)
    out = []
    for c in cols:
        c = c.strip()
        if not c:
            continue
        if c not in frame:
            if c == "family" and "model_family" in frame:
                c = "model_family"
            else:
                raise DataError(
                    f"grouping column '{c}' is not in the table",
                    source=source,
                    column=c,
                    kind="missing-column",
                    hint=_close(c, frame.columns) + "; choose with by= (CLI: --by)",
                )
        out.append(c)
    return out


def _direction_from_table(frame, metric) -> bool:
    if "higher_is_better" in frame:
        vals = frame["higher_is_better"].dropna().astype(str).str.lower().unique()
        if len(vals) == 1 and vals[0] in ("true", "false", "1", "0"):
            return vals[0] in ("true", "1")
    return guess_higher_is_better(metric)


def _clean(frame, x, value_col, source, notes):
    for col in (x, value_col):
        conv = pd.to_numeric(frame[col], errors="coerce")
        bad = conv.isna() & frame[col].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"cannot parse {frame[col].iloc[i]!r} as a number",
                source=source,
                row=i + 1,
                column=col,
                kind="unparseable-number",
                hint="write plain numbers such as 1.2e9",
            )
        frame[col] = conv
    keep = frame[value_col].notna() & np.isfinite(frame[value_col])
    if (~keep).any():
        notes.append(f"{int((~keep).sum())} row(s) without a value of '{value_col}' dropped")
    frame = frame[keep]
    ok = frame[x].notna() & (frame[x] > 0) & np.isfinite(frame[x])
    if (~ok).any():
        notes.append(f"{int((~ok).sum())} row(s) with missing or non-positive '{x}' dropped (log scale)")
    frame = frame[ok]
    if frame.empty:
        raise DataError(
            f"no row has both a value of '{value_col}' and a positive '{x}'",
            source=source,
            column=x,
            kind="empty",
            hint="check the metric and scale columns",
        )
    return frame.reset_index(drop=True)


def _final_checkpoints(frame, x, by_cols, notes):
    if "step" not in frame or x in ("step", "tokens"):
        return frame
    step = pd.to_numeric(frame["step"], errors="coerce")
    model = next((c for c in ("model", "run") if c in frame), None)
    keys = list(by_cols) + [model or x]
    frame = frame.assign(__step=step.fillna(np.inf))
    last = frame.groupby(keys, dropna=False)["__step"].transform("max")
    kept = frame[frame["__step"] == last].drop(columns="__step")
    if len(kept) < len(frame):
        notes.append(
            f"final checkpoint of each model kept ({len(frame) - len(kept)} earlier rows dropped; "
            "checkpoint='all' keeps them)"
        )
    return kept


def _chance_lookup(chance, frame, by_cols, source):
    if chance is None:
        return lambda key: None
    if isinstance(chance, (int, float)):
        return lambda key: float(chance)
    if isinstance(chance, str):
        if chance not in frame:
            raise DataError(
                f"chance column '{chance}' is not in the table",
                source=source,
                column=chance,
                kind="missing-column",
                hint=_close(chance, frame.columns) + "; or give a number",
            )
        table = {}
        for keyv, rows in frame.groupby(by_cols, dropna=False) if by_cols else [((), frame)]:
            keyv = keyv if isinstance(keyv, tuple) else (keyv,)
            table[keyv] = float(pd.to_numeric(rows[chance], errors="coerce").median())
        return lambda key: table.get(tuple(key.values()))
    mapping = {str(k): float(v) for k, v in dict(chance).items()}

    def look(key):
        for v in key.values():
            if str(v) in mapping:
                return mapping[str(v)]
        return mapping.get("*")

    return look


def _prepare_curve(key, rows, x, value_col, se_col, n_col, replicates, cont_col, sign, bounded, source) -> dict:
    rows = rows.sort_values(x)
    xv = rows[x].to_numpy(dtype=float)
    y = rows[value_col].to_numpy(dtype=float)
    se = rows[se_col].to_numpy(dtype=float) if se_col else np.zeros_like(y)
    se = np.where(np.isfinite(se), se, 0.0)
    if n_col is not None:
        n = pd.to_numeric(rows[n_col], errors="coerce").to_numpy(dtype=float)
        p = np.clip(y, 0, 1)
        se = np.where(n > 0, np.sqrt(p * (1 - p) / np.maximum(n, 1)), se)
    has_se = bool(se_col or n_col)
    if has_se and bounded:  # a proportion of 0 or 1 with SE 0: floor at the binomial SE of half an item
        se = _floor_binomial_se(y, se, rows[n_col].to_numpy(dtype=float) if n_col else None)
    cont = rows[cont_col].to_numpy(dtype=float) if cont_col else None
    rep_tau = None
    ux = np.unique(xv)
    if ux.size < xv.size:
        if replicates is None:
            dup = pd.Series(xv).duplicated(keep=False).to_numpy()
            raise DataError(
                f"curve {key or '(all rows)'} has {int(dup.sum())} rows sharing a value of '{x}' "
                f"(e.g. {x}={xv[dup][0]:g})",
                source=source,
                column=x,
                kind="duplicate-rows",
                hint="add the column that tells them apart to by= (CLI: --by), name the replicate "
                "column with replicates= (CLI: --replicates seed), or keep one checkpoint per "
                "model (checkpoint='final')",
            )
        xv, y, se, cont, rep_tau = _pool_replicates(xv, y, se, cont)
    return {
        "key": key,
        "xraw": xv,
        "x": np.log10(xv),
        "y": y,
        "g": sign * y,
        "se": se,
        "has_se": has_se,
        "cont": cont,
        "rep_tau": rep_tau,
        "twin_tau": None,
        "sign": sign,
    }


def _floor_binomial_se(y, se, n):
    ok = (se > 0) & (y > 0.05) & (y < 0.95)
    if n is None:
        if not ok.any():
            return np.where(se > 0, se, 1e-3)
        n_est = float(np.median(y[ok] * (1 - y[ok]) / se[ok] ** 2))
        n = np.full(y.shape, n_est)
    pt = (np.clip(y, 0, 1) * n + 0.5) / (n + 1)
    return np.maximum(se, np.sqrt(pt * (1 - pt) / np.maximum(n, 1)))


def _pool_replicates(xv, y, se, cont):
    """Means per x; tau^2 from the within-x scatter minus the mean se^2 (method of moments)."""
    ux = np.unique(xv)
    my, mse, mc, ss, df, se2 = [], [], [], 0.0, 0, []
    for u in ux:
        m = xv == u
        k = int(m.sum())
        my.append(float(y[m].mean()))
        mse.append(float(math.sqrt(np.mean(se[m] ** 2) / k)))
        mc.append(float(cont[m].mean()) if cont is not None else np.nan)
        if k > 1:
            ss += float(np.sum((y[m] - y[m].mean()) ** 2))
            df += k - 1
            se2.extend((se[m] ** 2).tolist())
    rep = None
    if df > 0:
        s2 = ss / df
        mean_se2 = float(np.mean(se2))
        rep = _chi2_tau(s2, mean_se2, df, factor=1.0)
        # the per-x mean carries tau^2 / k as well: fold it into the point's se (tau handled as 0 below)
    return ux, np.array(my), np.array(mse), (np.array(mc) if cont is not None else None), rep


def _chi2_tau(s2, mean_se2, df, factor, level=0.9):
    from scipy import stats

    a = (1 - level) / 2
    lo_s2, hi_s2 = df * s2 / stats.chi2.ppf(1 - a, df), df * s2 / stats.chi2.ppf(a, df)
    t = lambda v: math.sqrt(max(v / factor - mean_se2, 0.0))  # noqa: E731
    return {"tau": t(s2), "tau_lo": t(lo_s2), "tau_hi": t(hi_s2), "df": df}


def _twin_tau(curves, twins, by_cols, notes):
    fam_col = next((c for c in by_cols if c in ("family", "model_family")), None)
    if fam_col is None:
        raise InvalidParameterError(
            "trends(): twins= needs a family column among by=",
            hint="add family (or model_family) to by= (CLI: --by task,family)",
        )
    index = {tuple((k, v) for k, v in c["key"].items()): c for c in curves}
    pairs = {**{str(a): str(b) for a, b in twins.items()}, **{str(b): str(a) for a, b in twins.items()}}
    used = 0
    for c in curves:
        twin_fam = pairs.get(str(c["key"][fam_col]))
        if twin_fam is None:
            continue
        other = index.get(tuple((k, (twin_fam if k == fam_col else v)) for k, v in c["key"].items()))
        if other is None:
            continue
        common, ia, ib = np.intersect1d(c["xraw"], other["xraw"], return_indices=True)
        if common.size < 3:
            continue
        d = c["y"][ia] - other["y"][ib]
        mean_se2 = float(np.mean(c["se"][ia] ** 2 + other["se"][ib] ** 2))
        df = common.size - 1  # a constant offset between the twins is allowed (deduplication can shift a task)
        s2 = float(np.sum((d - d.mean()) ** 2) / df)
        c["twin_tau"] = _chi2_tau(s2, mean_se2, df, factor=2.0)
        c["twin_tau"]["twin"] = twin_fam
        used += 1
    notes.append(f"tau from twin families for {used} curve(s) ({', '.join(f'{a}~{b}' for a, b in twins.items())})")


# ------------------------------------------------------------------------------------ per-curve work


def _estimate_tau(c, tau):
    n = len(c["x"])
    se2 = c["se"] ** 2
    c["tau_estimated"] = False
    if not isinstance(tau, str):
        c["tau_info"] = {"tau": float(tau), "tau_lo": float(tau), "tau_hi": float(tau), "source": "given"}
    elif c["twin_tau"] is not None:
        c["tau_info"] = {**c["twin_tau"], "source": f"twin family {c['twin_tau']['twin']}"}
    elif c["rep_tau"] is not None:
        c["tau_info"] = {**c["rep_tau"], "source": "replicates"}
    elif n >= 4:
        x = c["x"] - c["x"].mean()
        g = c["g"]
        cands = [("quadratic", paule := st.paule_mandel(np.c_[np.ones(n), x, x * x], g, se2))]
        if n >= 6 and c.get("chance_g") is not None:
            cands.append(("logistic", _tau_logistic(c, se2)))
        name, (t, lo, hi) = min(cands, key=lambda kv: kv[1][0] if np.isfinite(kv[1][0]) else np.inf)
        if not np.isfinite(t):
            name, (t, lo, hi) = "quadratic", paule
        c["tau_info"] = {
            "tau": t,
            "tau_lo": lo,
            "tau_hi": hi,
            "source": f"residuals of a {name} fit",
            "df": n - (3 if name == "quadratic" else 3),
        }
        c["tau_estimated"] = True
    else:  # 3 points: a line's residual
        x = c["x"] - c["x"].mean()
        t, lo, hi = st.paule_mandel(np.c_[np.ones(n), x], c["g"], se2) if n >= 3 else (0.0, 0.0, 0.0)
        c["tau_info"] = {"tau": t, "tau_lo": lo, "tau_hi": hi, "source": "residuals of a line", "df": n - 2}
        c["tau_estimated"] = True
    for k in ("tau", "tau_lo", "tau_hi"):
        v = c["tau_info"][k]
        c["tau_info"][k] = float(v) if np.isfinite(v) else 0.0
    if not c["has_se"] and c["tau_info"]["tau"] == 0.0:  # no error at all: a tiny floor keeps weights finite
        c["tau_info"]["tau"] = c["tau_info"]["tau_hi"] = max(c["tau_info"]["tau_hi"], 1e-9)


def _tau_logistic(c, se2):
    """Paule-Mandel tau from the residuals of the logistic (floor at chance) fit, refitted once."""
    from scipy import optimize, stats

    x, g = c["x"], c["g"]
    var = se2 + max(float(np.var(g)) * 1e-3, 1e-12)
    t = 0.0
    lo = hi = 0.0
    for _ in range(2):
        fit = st.fit_logistic(x, g, var, c["chance_g"])
        r = g - fit["fitted"]
        df = len(g) - fit["n_params"]
        if df < 1:
            return float("nan"), float("nan"), float("nan")
        r2 = r**2
        se2f = np.maximum(se2, 1e-12)

        def solve(target, r2=r2, se2f=se2f):
            def q(v):
                return float(np.sum(r2 / (se2f + v)))

            if q(0.0) <= target:
                return 0.0
            top = float(np.sum(r2)) / max(target, 1e-9) * 10 + 1e-12
            return optimize.brentq(lambda v: q(v) - target, 0.0, top)

        t2 = solve(df)
        t, lo, hi = (
            math.sqrt(t2),
            math.sqrt(solve(stats.chi2.ppf(0.95, df))),
            math.sqrt(solve(stats.chi2.ppf(0.05, df))),
        )
        var = se2 + t2 + 1e-12
    return t, lo, hi


def _tests(c, scenario, n_boot, rng) -> dict:
    n = len(c["x"])
    out: dict[str, Any] = {
        "slope": None,
        "shape": None,
        "lind_mehlum": None,
        "two_lines": None,
        "emergence": None,
        "n": n,
    }
    tau = c["tau_info"][scenario]
    var = c["se"] ** 2 + tau**2
    var = np.maximum(var, 1e-18)
    out["var"] = var
    out["tau"] = tau
    if n < _MIN_SLOPE_POINTS:
        return out
    x, g = c["x"], c["g"]
    est = c["tau_estimated"]
    from scipy import stats

    xc = x - x.mean()
    line = st.wls(np.c_[np.ones(n), xc], g, var)
    use_t = est and tau > 0  # with tau estimated at 0 the variance is the known SE: normal tails
    if c.get("panel") is not None:
        b, se_b, dfp, tp = _panel_slope(c["panel"], scenario)
        use_t, df_slope = tp > 0, dfp
        what = (
            f"size effect at the last checkpoint of y ~ log x * log {c['panel']['name']} ({len(c['panel']['g'])} rows)"
        )
    else:
        b, se_b = float(line.coef[1]), float(math.sqrt(max(line.cov[1, 1], 1e-300)))
        df_slope = n - 2
        what = "WLS slope of the last checkpoints"
    z = b / se_b
    p = float(2 * (stats.t.sf(abs(z), df_slope) if use_t else stats.norm.sf(abs(z))))
    w = 1.0 / var
    _, direction, rss_up, rss_down = st.monotone_fit(g, w)
    out["slope"] = {
        "slope": b,
        "se": se_b,
        "z": z,
        "p": p,
        "isotonic": direction,
        "chi2_line": line.chi2,
        "test": what,
        "tails": f"t({df_slope})" if use_t else "normal",
    }
    out["line_fitted"] = line.fitted
    if n >= _MIN_SHAPE_POINTS:
        lrt = st.shape_lrt(g, var, n_boot=n_boot, rng=rng)
        out["shape"] = {"T": lrt["T"], "p": lrt["p"], "kind": lrt["kind"]}
        out["unimodal"], out["monotone"] = lrt["unimodal"], lrt["monotone"]
        est_t = est and tau > 0
        lm = st.lind_mehlum(x, g, var, df=(n - 3) if est_t else None)
        out["lind_mehlum"] = lm
        out["two_lines"] = st.two_lines(x, g, var, lrt["unimodal"], lrt["kind"], df=max(n - 4, 1) if est_t else None)
        out["emergence"] = _emergence(c, var, line.chi2)
    return out


def _split_panel(rows, x, covariate, value_col, se_col, sign, bounded):
    """Every checkpoint (the panel of the slope test) and each model's last one (the curve)."""
    last = rows.groupby(x)[covariate].transform("max")
    final = rows[rows[covariate] == last]
    se = rows[se_col].to_numpy(dtype=float) if se_col else np.zeros(len(rows))
    se = np.where(np.isfinite(se), se, 0.0)
    if se_col and bounded:
        se = _floor_binomial_se(rows[value_col].to_numpy(dtype=float), se, None)
    panel = {
        "name": covariate,
        "x": np.log10(rows[x].to_numpy(dtype=float)),
        "z": np.log10(rows[covariate].to_numpy(dtype=float)),
        "g": sign * rows[value_col].to_numpy(dtype=float),
        "se2": np.where(np.isfinite(se), se, 0.0) ** 2,
    }
    return final, panel


def _panel_design(panel):
    xc = panel["x"] - panel["x"].mean()
    zc = panel["z"] - panel["z"].mean()
    return np.c_[np.ones_like(xc), xc, zc, xc * zc], float(panel["z"].max() - panel["z"].mean())


def _panel_slope(panel, scenario):
    """Size effect at the last checkpoint: b_x + b_xz (z_max - mean z), tau from the panel's residuals."""
    X, zlast = _panel_design(panel)
    if "tau" not in panel:
        t, lo, hi = st.paule_mandel(X, panel["g"], panel["se2"])
        panel["tau"] = {"tau": t, "tau_lo": lo, "tau_hi": hi}
    tau = panel["tau"][scenario]
    tau = float(tau) if np.isfinite(tau) else 0.0
    fit = st.wls(X, panel["g"], panel["se2"] + tau**2 + 1e-18)
    grad = np.array([0.0, 1.0, 0.0, zlast])
    b = float(grad @ fit.coef)
    se = float(math.sqrt(max(grad @ fit.cov @ grad, 1e-300)))
    return b, se, len(panel["g"]) - 4, tau


def _emergence(c, var, chi2_line) -> dict:
    x, g = c["x"], c["g"]
    n = len(x)
    fit = st.fit_logistic(x, g, var, c.get("chance_g"))
    bic_line = chi2_line + 2 * math.log(n)
    bic_log = fit["chi2"] + fit["n_params"] * math.log(n)
    return {
        "x0": fit["x0"],
        "k": fit["k"],
        "floor": fit["floor"],
        "height": fit["height"],
        "delta_bic": bic_line - bic_log,
        "fitted": fit["fitted"],
        "width": 2 * math.log(9) / fit["k"],
        "score": st.emergence_score(g),
    }


def _label(c, raw, p_slope, p_shape, alpha, band) -> tuple[str, str]:
    n = raw["n"]
    if n < _MIN_SLOPE_POINTS:
        return "insufficient", f"{n} size(s): at least {_MIN_SLOPE_POINTS} are needed for a trend"
    sd = np.sqrt(raw["var"])
    g = c["g"]
    if c.get("chance_g") is not None:
        dev = np.abs(g - c["chance_g"])
        if np.all(dev <= 2 * c["se"] + band):
            return "flat", (
                f"sits at chance: every point within 2 SE + {band:g} of chance {c['chance']:g} "
                f"(largest gap {dev.max():.3g})"
            )
    shape = raw["shape"]
    if shape is not None and np.isfinite(p_shape) and p_shape < alpha:
        kind = shape["kind"]
        f = raw["unimodal"]
        ext = f.max() if kind == "peak" else f.min()
        at = np.flatnonzero(np.isclose(f, ext, rtol=0, atol=1e-12))
        left, right = int(at[0]), n - 1 - int(at[-1])
        s = float(np.median(sd))
        arm_l, arm_r = abs(ext - f[0]), abs(ext - f[-1])
        lm, tl = raw["lind_mehlum"], raw["two_lines"]
        second = [
            name
            for name, r in (("Lind-Mehlum", lm), ("two lines", tl))
            if r is not None and r["p"] < alpha and (name != "Lind-Mehlum" or r["kind"] == kind)
        ]
        lab = "inverted-U" if kind == "peak" else "U"
        if not second:
            why = f"{lab} by the shape test (p={p_shape:.2g}) but no second opinion agrees"
        elif min(left, right) < 2:
            why = f"{lab} by the shape test but its turning point has {min(left, right)} model(s) on one side"
        elif min(arm_l, arm_r) < 2 * s:
            why = f"{lab} by the shape test but an arm moves by {min(arm_l, arm_r):.3g} < 2 SD ({2 * s:.3g})"
        else:
            return lab, (
                f"unimodal beats monotone (BH p={p_shape:.2g}), confirmed by {' and '.join(second)}; "
                f"arms {arm_l:.3g} and {arm_r:.3g}"
            )
    else:
        why = None
    em = raw["emergence"]
    if em is not None and em["delta_bic"] >= 2 and em["height"] > 0:
        xs = c["x"]
        inside = xs.min() < em["x0"] < xs.max()
        floor = em["floor"]
        low = (xs < em["x0"]) & (np.abs(g - floor) <= np.maximum(2 * sd, band))
        high = (xs > em["x0"]) & (g - floor > np.maximum(2 * sd, band))
        if inside and low.sum() >= 2 and high.sum() >= 2:
            return "emergent", (
                f"logistic in log-scale beats a line (delta BIC {em['delta_bic']:.1f}), midpoint "
                f"10^{em['x0']:.2f} inside the data, {int(low.sum())} model(s) at the floor and "
                f"{int(high.sum())} above"
            )
    slope = raw["slope"]
    if np.isfinite(p_slope) and p_slope < alpha:
        want = "up" if slope["slope"] > 0 else "down"
        if slope["isotonic"] == want:
            return ("positive" if want == "up" else "inverse"), (
                f"slope {slope['slope']:+.3g} per decade (BH p={p_slope:.2g}), isotonic fit {want}"
                + (f"; not a shape: {why}" if why else "")
            )
        return "flat", f"slope test (p={p_slope:.2g}) and isotonic direction disagree"
    return "flat", (
        f"no significant slope (BH p={p_slope:.2g})"
        + (f"; {why}" if why else "")
        + ("" if raw["shape"] is not None else f"; too few sizes for a shape test (n={n})")
    )


def _evidence(c, raw, reason, hib) -> dict:
    ti = c["tau_info"]
    se_kind = "binomial/reported SE" if c["has_se"] else "no SE given"
    ev: dict[str, Any] = {
        "reason": reason,
        "noise": {
            "model": f"var_i = se_i^2 + tau^2 ({se_kind}; tau {ti['source']})",
            "tau": ti["tau"],
            "tau_lo": ti["tau_lo"],
            "tau_hi": ti["tau_hi"],
            "tau_source": ti["source"],
            "median_se": float(np.median(c["se"])) if len(c["se"]) else None,
        },
        "direction": "higher is better" if hib else "lower is better",
        "chance": c.get("chance"),
    }
    if raw["slope"]:
        ev["slope"] = {
            **raw["slope"],
            "p_adj": raw["p_slope_adj"],
            "orientation": "per decade, oriented so that positive = better",
        }
    if raw["shape"]:
        ev["shape"] = {
            **raw["shape"],
            "p_adj": raw["p_shape_adj"],
            "test": "unimodal vs monotone WLS, parametric bootstrap",
        }
    if raw["lind_mehlum"]:
        lm = raw["lind_mehlum"]
        ev["lind_mehlum"] = {k: lm[k] for k in ("kind", "p", "t_lo", "t_hi")}
        lo, hi = lm["turning_ci"]
        tp = lm["turning_point"]
        inside = c["x"].min() <= tp <= c["x"].max() if np.isfinite(tp) else False
        ev["turning_point"] = {
            "x": _finite(tp),
            "log10_ci90": [_finite(lo), _finite(hi)],
            "value": _finite(10**tp) if np.isfinite(tp) and abs(tp) < 300 else None,
            "inside_data": bool(inside),
            "method": "quadratic vertex, Fieller interval",
        }
    if raw["two_lines"]:
        ev["two_lines"] = raw["two_lines"]
    if raw["emergence"]:
        em = raw["emergence"]
        ev["emergence"] = {k: em[k] for k in ("x0", "k", "floor", "height", "delta_bic", "width", "score")}
    return ev


def _metric_check(c, label, cont_col) -> dict:
    """Schaeffer et al. 2023: is the continuous metric smooth where the accuracy jumps?"""
    v = c["cont"]
    if v is None or np.sum(np.isfinite(v)) < _MIN_SHAPE_POINTS:
        return {"applies": False, "note": "too few values of the continuous metric"}
    ok = np.isfinite(v)
    x, val = c["x"][ok], v[ok]
    name = cont_col.lower()
    if "ppl" in name or "perplex" in name or cont_col == "__continuous":
        if np.all(val > 0) and val.max() / max(val.min(), 1e-300) > 20:
            val = np.log(val)
    hib = guess_higher_is_better(cont_col) if cont_col != "__continuous" else not (np.corrcoef(x, val)[0, 1] < 0)
    g = val if hib else -val
    n = len(g)
    xc = x - x.mean()
    t, _, _ = st.paule_mandel(np.c_[np.ones(n), xc, xc * xc], g, np.zeros(n))
    var = np.full(n, max(t, 1e-9) ** 2)
    line = st.wls(np.c_[np.ones(n), xc], g, var)
    fit = st.fit_logistic(x, g, var, None)
    dbic = (line.chi2 + 2 * math.log(n)) - (fit["chi2"] + 4 * math.log(n))
    width = 2 * math.log(9) / fit["k"]
    span = float(x.max() - x.min())
    _, direction, _, _ = st.monotone_fit(g, 1 / var)
    smooth = direction == "up" and (dbic < 2 or width >= 0.5 * span)
    out = {
        "applies": True,
        "continuous_smooth": bool(smooth),
        "delta_bic": dbic,
        "width_decades": width,
        "score": st.emergence_score(g),
    }
    if label == "emergent" and smooth:
        out["verdict"] = "metric-induced: the continuous metric improves smoothly while the accuracy jumps"
    elif label == "emergent":
        out["verdict"] = "the continuous metric jumps too: not explained by the metric alone"
    else:
        out["verdict"] = "no jump to explain"
    return out


# ------------------------------------------------------------------------------------ drawing


def _fitted_curves(raw, label) -> dict:
    out = {}
    if raw.get("monotone") is not None:
        out["monotone"] = tuple(float(v) for v in raw["monotone"])
    if raw.get("unimodal") is not None and label in ("U", "inverted-U"):
        out["unimodal"] = tuple(float(v) for v in raw["unimodal"])
    if raw.get("emergence") is not None and label == "emergent":
        out["logistic"] = tuple(float(v) for v in raw["emergence"]["fitted"])
    return out


def _draw_curve(ax, c: CurveTrend, xname: str, metric: str) -> None:
    from scalinglab.render import set_scale

    x = np.array(c.x)
    y = np.array(c.y)
    e = c.evidence
    tau = (e.get("noise") or {}).get("tau") or 0.0
    sd = np.sqrt(np.array(c.se) ** 2 + tau**2)
    ax.errorbar(x, y, yerr=sd, fmt="o", color="0.15", ms=3.5, lw=0.8, capsize=2, label="data (±SD)")
    sign = 1.0 if e.get("direction") == "higher is better" else -1.0
    if e.get("chance") is not None:
        ax.axhline(e["chance"], color="0.5", ls=":", lw=1, label="chance")
    fits = c.fits
    for name, style in (
        ("monotone", dict(color="C0", ls="--", lw=1.1, drawstyle="steps-mid")),
        ("unimodal", dict(color="C3", lw=1.3)),
        ("logistic", dict(color="C2", lw=1.3)),
    ):
        if name in fits:
            ax.plot(x, sign * np.asarray(fits[name]), label=name, **style)  # fits are oriented: back to y
    tp = e.get("turning_point")
    if tp and c.label in ("U", "inverted-U") and tp.get("x") is not None:
        lo, hi = tp["log10_ci90"]
        xl = np.log10(x)
        lo = max(lo if lo is not None else -np.inf, xl.min())
        hi = min(hi if hi is not None else np.inf, xl.max())
        ax.axvspan(10**lo, 10**hi, color="C3", alpha=0.12, lw=0)
        ax.axvline(10 ** tp["x"], color="C3", lw=0.8, ls="-.")
    set_scale(ax, "x", x, force_log=True)
    ax.set_title(f"{c.name}: {c.label}" + (" (fragile)" if c.fragile else ""), fontsize=8.5)
    ax.set_xlabel(xname)
    ax.set_ylabel(metric)
    ax.legend(fontsize=6.5, loc="best")


# ------------------------------------------------------------------------------------ helpers


def _plain(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v if isinstance(v, (str, int, bool)) or v is None else str(v)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items() if not str(k).startswith("__")}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    return _plain(obj)


def _finite(v):
    return float(v) if v is not None and np.isfinite(v) else None


def _get(e, a, b):
    v = (e.get(a) or {}).get(b)
    return float(v) if isinstance(v, (int, float, np.floating)) and np.isfinite(v) else None


def _fmt_range(lo, hi):
    return None if lo is None or hi is None else f"{lo:.3g}-{hi:.3g}"


# ------------------------------------------------------------------------------------ report


def _report_options(ctx):
    opts = ctx.options.get("trends") if hasattr(ctx, "options") else None
    return dict(opts) if isinstance(opts, Mapping) else None


@register_section(
    "trends", title="Downstream trends", order=65, weight=lambda ctx: int(_report_options(ctx) is not None)
)
def _report_section(ctx) -> Section | None:
    """Trend labels of the report's data, when the report is asked for them (``options["trends"]``)."""
    opts = _report_options(ctx)
    if opts is None:
        return None
    ctx.step("trends")
    result = trends(ctx.runs, **opts)
    ctx.results["trends"] = result
    return result.section(render=ctx.render)
