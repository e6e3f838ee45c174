"""Two-step downstream prediction: (N, D) -> task loss -> accuracy, with the direct baseline beside it.

The recipe of Bhagia et al. 2024 ("Establishing Task Scaling Laws via Compute-Efficient
Model Ladders", arXiv:2412.04403):

* step 1 fits a loss law in (N, D) to the task loss (bits per byte of the correct answer,
  or log-perplexity) on the ladder's **final** checkpoints (Chinchilla form by default,
  Huber on log values);
* step 2 fits a link from task loss to accuracy on **every intermediate checkpoint** of the
  ladder runs, whose accuracies span a much wider range than the final points, so that the
  link is interpolated rather than extrapolated at the target.  As in the paper, the first
  ``skip_first`` (10 %) of each run's checkpoints are dropped, the loss can be smoothed by a
  trailing moving average over checkpoints (``smooth``), and two "ideal" points anchor the
  ends: accuracy ``ceiling`` (1) at zero loss and ``chance`` at the largest loss seen.

Links (linear space, squared loss):

* ``"sigmoid"``: ``acc = a / (1 + exp(-k (L - L0))) + b`` (Bhagia et al. 2024);
* ``"exponential"``: ``err = eps - k exp(-gamma L)``, ``acc = 1 - err`` (Gadre et al. 2024).

The interval chains both steps by Monte Carlo, draw by draw: a run-bootstrap refit of
step 1, plus step 1's run-to-run scatter and (``step1_drift``) its extrapolation drift
measured by nested hold-outs of the largest ladder sizes, gives a task loss for a new model
at the target;
it goes through a run-bootstrap refit of step 2 (all checkpoints of a run move together,
the anchors stay) plus step 2's residual scatter for a new model.  The interval is the
quantiles of the accuracy draws.  Each prediction says whether its predicted loss lies
inside the range of losses the link was fitted on.

The direct baseline fits the error ``1 - acc`` itself with the same (N, D) law on the
same final checkpoints (a power law in the metric; Krajewski et al. 2025 argue for it)
with its bootstrap interval for a new run.

:func:`two_step` predicts given targets; :func:`backtest_downstream` holds out the largest
models, predicts them both ways and scores the absolute accuracy error.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.analyze._base import AnalysisResult
from scalinglab.analyze._json import json_value as _num
from scalinglab.data import RunsTable, read_runs
from scalinglab.errors import DataError, FitError, InvalidParameterError
from scalinglab.fit import fit
from scalinglab.fit._calibration import (
    MIN_DECADES,
    ExtrapolationPrior,
    _size_groups,
    calibrated_sigma,
    extrapolation_error,
    input_decades,
)
from scalinglab.fit._solver import refine
from scalinglab.fit._uncertainty import _residual_draws, resample_weights
from scalinglab.laws import DEFAULT_LAW
from scalinglab.laws._downstream import LINKS
from scalinglab.render import FigureRenderer, Section, figure_context, new_figure, table_html

__all__ = [
    "two_step",
    "backtest_downstream",
    "link_points",
    "nested_holdouts",
    "fit_link",
    "link_draws",
    "link_value",
    "DownstreamResult",
    "LINKS",
    "EXTRAPOLATION",
]

_ANCHOR = "__anchor__"
#: How two_step widens its intervals for extrapolation (see :func:`two_step`).
EXTRAPOLATION = ("chained", "step1", "none")
#: Normalised accuracies are kept this far from 0 and 1 before the logit.
_Z_EPS = 0.01


@dataclass(frozen=True)
class DownstreamResult(AnalysisResult):
    """Two-step and direct predictions of one task's accuracy at the targets.

    Attributes
    ----------
    predictions : DataFrame
        One row per target: inputs, ``actual`` (when known), ``loss_pred`` (step 1) and
        ``loss_actual``, ``in_link_range`` (the predicted loss lies inside the losses step 2
        was fitted on), ``two_step``/``lower``/``upper``, ``step2_at_actual_loss`` (step 2
        alone, fed the true loss), ``direct``/``direct_lower``/``direct_upper``, the absolute
        errors ``err_two_step``, ``err_direct`` and whether each interval covers the truth.
    step1, step2, direct : Fit
    link_range : (float, float)
        Smallest and largest task loss among the step-2 points (anchors excluded).
    extrapolation : str
        How the intervals carry extrapolation error (see :func:`two_step`).
    extrapolation_sigma, direct_extrapolation_sigma : float or None
        The calibrated extrapolation error per decade (logit of the normalised accuracy) of
        the chain and of the direct baseline (``extrapolation="chained"``; None otherwise or
        when too little information).
    holdouts : DataFrame, optional
        This task's :func:`nested_holdouts` rows behind them.
    """

    name = "downstream"
    title = "Two-step downstream prediction"

    task: str
    predictions: pd.DataFrame
    step1: Any = field(repr=False)
    step2: Any = field(repr=False)
    direct: Any = field(repr=False)
    link: str = "sigmoid"
    interval: float = 0.9
    chance: float | None = None
    loss: str = "loss"
    metric: str = "acc"
    step2_points: pd.DataFrame = field(default=None, repr=False)
    link_range: tuple = (math.nan, math.nan)
    anchors: bool = True
    skip_first: float = 0.0
    smooth: int = 1
    n_draws: int = 0
    notes: tuple = ()
    extrapolation: str = "none"
    extrapolation_sigma: float | None = None
    direct_extrapolation_sigma: float | None = None
    holdouts: pd.DataFrame | None = field(default=None, repr=False)

    def summary(self) -> str:
        p = self.predictions
        lo, hi = self.link_range
        lines = [
            f"{self.task}: step 1 {self.step1.law.name} on '{self.loss}' ({self.step1.n_points} final "
            f"checkpoints); step 2 {self.link} link to '{self.metric}' on {len(self.step2_points)} checkpoints "
            f"(first {self.skip_first:.0%} of each run dropped, loss smoothed over {self.smooth}"
            + (", anchored at chance and at the ceiling" if self.anchors else "")
            + f"), fitted on task losses {lo:.4g}-{hi:.4g}; {self.interval:.0%} intervals carry both steps "
            f"({self.n_draws} run-bootstrap draws each) and extrapolation error ({self.extrapolation})"
        ]
        cols = [
            c
            for c in (
                "target",
                "decades",
                "actual",
                "loss_actual",
                "loss_pred",
                "in_link_range",
                "two_step",
                "lower",
                "upper",
                "step2_at_actual_loss",
                "direct",
                "direct_lower",
                "direct_upper",
                "err_two_step",
                "err_direct",
            )
            if c in p
        ]
        lines.append(p[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": self.name,
            "task": self.task,
            "link": self.link,
            "interval": self.interval,
            "chance": self.chance,
            "loss": self.loss,
            "metric": self.metric,
            "step1": {
                "law": self.step1.law.name,
                "params": _clean(self.step1.params),
                "n_points": int(self.step1.n_points),
            },
            "step2": {
                "law": self.step2.law.name,
                "params": _clean(self.step2.params),
                "n_points": int(len(self.step2_points)),
                "loss_range": [_num(v) for v in self.link_range],
                "anchors": self.anchors,
                "skip_first": self.skip_first,
                "smooth": self.smooth,
            },
            "direct": {"law": self.direct.law.name, "params": _clean(self.direct.params)},
            "n_draws": self.n_draws,
            "extrapolation": {
                "method": self.extrapolation,
                "sigma_per_decade": _num(self.extrapolation_sigma),
                "direct_sigma_per_decade": _num(self.direct_extrapolation_sigma),
                "n_holdout_points": 0 if self.holdouts is None else int(len(self.holdouts)),
            },
            "predictions": [{k: _num(v) for k, v in row.items()} for row in self.predictions.to_dict("records")],
            "notes": list(self.notes),
        }

    def figure(self):
        """Step 2: accuracy against task loss (ladder checkpoints, fitted link) and the targets predicted."""
        with figure_context():
            fig, ax = new_figure()
            ax = np.atleast_1d(ax).ravel()[0]
            pts = self.step2_points
            p = self.predictions
            if pts is not None and len(pts):
                ax.scatter(pts["L"], pts["acc"], s=4, color="0.65", label="ladder checkpoints (step 2)")
                lo = min(pts["L"].min(), np.nanmin(p["loss_pred"])) * 0.95
                grid = np.linspace(lo, pts["L"].max() * 1.02, 200)
                ax.plot(grid, _link_eval(self.step2, self.link, grid), color="C0", label=f"{self.link} link")
                ax.axvspan(*self.link_range, color="C0", alpha=0.06, lw=0)
            yerr = np.vstack([p["two_step"] - p["lower"], p["upper"] - p["two_step"]])
            ax.errorbar(
                p["loss_pred"],
                p["two_step"],
                yerr=np.maximum(yerr, 0),
                fmt="s",
                color="C3",
                ms=4,
                capsize=2,
                label=f"two-step ({self.interval:.0%})",
            )
            if "actual" in p and p["actual"].notna().any():
                lx = p["loss_actual"] if "loss_actual" in p and p["loss_actual"].notna().all() else p["loss_pred"]
                ax.scatter(lx, p["actual"], marker="*", s=60, color="k", zorder=5, label="actual")
            if self.chance is not None:
                ax.axhline(self.chance, color="0.5", ls=":", lw=1, label="chance")
            ax.set_xlabel(f"task loss ({self.loss})")
            ax.set_ylabel(self.metric)
            ax.set_title(self.task, fontsize=9)
            ax.legend(fontsize=7)
        return fig

    def section(self, render: FigureRenderer | None = None) -> Section:
        render = render or FigureRenderer()
        fid = f"fig-downstream-{abs(hash(self.task)) % 10**6}"
        body = table_html(self.predictions.round(4), caption=f"{self.task}: two-step vs direct") + render(
            self.figure(), fid, f"{self.task}: the step-2 link and the predicted targets."
        )
        return Section("downstream", self.title, body, figures=(fid,))


def _clean(params: Mapping[str, float]) -> dict:
    return {k: _num(v) for k, v in params.items()}


def _link_eval(step2, link: str, L, params: Mapping | None = None) -> np.ndarray:
    out = step2.law.evaluate({"L": np.asarray(L, dtype=float)}, step2.params if params is None else params)
    return 1.0 - out if link == "exponential" else out


def _frame(data) -> pd.DataFrame:
    if data is None:
        return None
    if isinstance(data, RunsTable):
        return data.frame
    if isinstance(data, pd.DataFrame):
        return data
    return read_runs(data, required=()).frame


def link_points(
    checkpoints: RunsTable | pd.DataFrame | str,
    *,
    loss: str,
    metric: str,
    skip_first: float = 0.1,
    smooth: int = 1,
    order: str | None = None,
) -> pd.DataFrame:
    """The (task loss, accuracy) points step 2 is fitted on, one row per kept checkpoint.

    Within each run (``run`` column; one run when absent), checkpoints are ordered by
    ``order`` (default ``tokens``, else ``step``, else the given order); the first
    ``ceil(skip_first * n)`` are dropped and the loss is replaced by its trailing moving
    average over ``smooth`` checkpoints (Bhagia et al. 2024 drop the first 10 % and smooth
    the loss; the accuracy is left as measured).

    Returns
    -------
    DataFrame with columns ``run``, ``L``, ``acc``.

    Examples
    --------
    >>> import pandas as pd
    >>> ck = pd.DataFrame({"run": ["a"] * 10, "tokens": range(1, 11), "bpb": [2.0 - 0.1 * i for i in range(10)],
    ...                    "acc": [0.3 + 0.02 * i for i in range(10)]})
    >>> pts = link_points(ck, loss="bpb", metric="acc", skip_first=0.2, smooth=2)
    >>> len(pts), round(float(pts["L"].iloc[0]), 3), round(float(pts["L"].iloc[1]), 3)
    (8, 1.8, 1.75)
    """
    frame = _frame(checkpoints)
    for col in (loss, metric):
        if col not in frame:
            raise DataError(
                f"column '{col}' is not in the step-2 table",
                column=col,
                kind="missing-column",
                hint=f"choose it with loss=/metric= (CLI: --loss/--y); columns: {list(frame.columns)[:20]}",
            )
    if not 0 <= skip_first < 1:
        raise InvalidParameterError(f"skip_first must be in [0, 1); got {skip_first!r}", hint="e.g. skip_first=0.1")
    if int(smooth) != smooth or smooth < 1:
        raise InvalidParameterError(f"smooth must be a whole number >= 1; got {smooth!r}", hint="e.g. smooth=1 or 20")
    order = order or next((c for c in ("tokens", "step") if c in frame), None)
    runs = frame["run"].astype(str) if "run" in frame else pd.Series("all", index=frame.index)
    d = pd.DataFrame(
        {
            "run": runs.to_numpy(),
            "L": pd.to_numeric(frame[loss], errors="coerce").to_numpy(float),
            "acc": pd.to_numeric(frame[metric], errors="coerce").to_numpy(float),
            "_o": pd.to_numeric(frame[order], errors="coerce").to_numpy(float)
            if order
            else np.arange(len(frame), dtype=float),
        }
    )
    d = d[np.isfinite(d["L"]) & np.isfinite(d["acc"]) & (d["L"] > 0)]
    parts = []
    for _, g in d.sort_values(["run", "_o"], kind="stable").groupby("run", sort=False):
        g = g.iloc[int(math.ceil(skip_first * len(g))) :].copy()
        g["L"] = g["L"].rolling(int(smooth), min_periods=1).mean()
        parts.append(g)
    out = pd.concat(parts, ignore_index=True) if parts else d.iloc[:0]
    return out[["run", "L", "acc"]].reset_index(drop=True)


def _to_z(acc, lo: float, hi: float) -> np.ndarray:
    """``logit((acc - lo) / (hi - lo))``, the normalised accuracy kept ``_Z_EPS`` away from 0 and 1."""
    p = np.clip((np.asarray(acc, dtype=float) - lo) / (hi - lo), _Z_EPS, 1 - _Z_EPS)
    return np.log(p / (1 - p))


def _from_z(z, lo: float, hi: float) -> np.ndarray:
    return lo + (hi - lo) / (1 + np.exp(-np.asarray(z, dtype=float)))


def _z_sd(acc, sd, lo: float, hi: float) -> np.ndarray:
    """An accuracy scatter ``sd`` at ``acc`` on the logit scale (half the logit width of ``acc +- sd``)."""
    acc, sd = np.asarray(acc, dtype=float), np.asarray(sd, dtype=float)
    return np.abs(_to_z(acc + sd, lo, hi) - _to_z(acc - sd, lo, hi)) / 2


def _point_fits(
    frame, s2, *, loss, metric, x, step1_law, link, chance, ceiling, anchors, skip_first, smooth, order, direct_law
):
    """Both steps and the direct baseline at their optima (no bootstrap): ``(pts, f1, f2, rows, fd)``."""
    pts = link_points(s2, loss=loss, metric=metric, skip_first=skip_first, smooth=smooth, order=order)
    if len(pts) < 5:
        raise DataError(
            f"only {len(pts)} (loss, {metric}) points for step 2",
            column=loss,
            kind="too-few",
            hint="give every checkpoint of the ladder runs (CLI: --step2 FILE) or lower skip_first",
        )
    f1 = fit(frame, step1_law, x=x, y=loss)
    f2, rows = _fit_link(pts, link, chance, ceiling, anchors)
    err_col = "__error"
    direct_frame = frame.assign(**{err_col: 1.0 - pd.to_numeric(frame[metric], errors="coerce")})
    fd = fit(direct_frame, direct_law or step1_law, x=x, y=err_col)
    return pts, f1, f2, rows, fd


def _size_column(f1, frame: pd.DataFrame) -> str:
    if "params" in frame:
        return "params"
    from scalinglab.fit._calibration import size_axis

    return f1.columns[size_axis(f1)]


#: The arguments of :func:`two_step` and :func:`nested_holdouts` that define the chain (both steps and the
#: direct baseline).
_CHAIN_KEYS = (
    "loss",
    "metric",
    "x",
    "step1_law",
    "link",
    "chance",
    "ceiling",
    "anchors",
    "skip_first",
    "smooth",
    "order",
    "direct_law",
)


def _chain_options(args: Mapping, *, own_step2: bool) -> dict:
    """The chain's options from a caller's arguments (its ``locals()``); ``skip_first`` and ``smooth`` apply
    only to a separate step-2 table of checkpoints."""
    opts = {k: args[k] for k in _CHAIN_KEYS}
    if not own_step2:
        opts.update(skip_first=0.0, smooth=1)
    return opts


def _nested(frame, s2, f1, opts: dict, *, max_holdouts: int, group: str) -> pd.DataFrame:
    """Chained nested hold-outs: refit both steps (and the direct baseline) without the k largest sizes
    (k = 1..max_holdouts, at least 3 sizes kept) and predict the held-out final checkpoints."""
    column = _size_column(f1, frame)
    size = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
    cols = ["group", "method", "held_out_sizes", "target", "decades", "log_error", "base_sd", "actual", "predicted"]
    if s2 is not None and column not in s2:
        return pd.DataFrame(columns=cols)
    lo, hi = opts["chance"] or 0.0, opts["ceiling"]
    labels = _size_groups(size)
    out = []
    for k in range(1, max_holdouts + 1):
        cut = labels.max() - k
        if cut < 2:
            break
        train, test = frame[labels <= cut], frame[labels > cut]
        s2k = train if s2 is None else s2[pd.to_numeric(s2[column], errors="coerce") <= train[column].max()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                _, n1, n2, rows, nd = _point_fits(train, s2k, **opts)
            except Exception:  # a nested fit that fails says nothing about the error scale
                continue
            X = {s_: test[c_].to_numpy(float) for s_, c_ in f1.columns.items()}
            Xd = {s_: test[c_].to_numpy(float) for s_, c_ in nd.columns.items()}
            with np.errstate(all="ignore"):
                L = n1.law.evaluate(X, n1.params)
                acc2 = _link_eval(n2, opts["link"], L)
                err = nd.law.evaluate(Xd, nd.params)
        actual = pd.to_numeric(test[opts["metric"]], errors="coerce").to_numpy(float)
        d = input_decades(train, f1.columns, X)
        # base sd of each point, as the interval builds it: in accuracy, step 2's residual scatter and step 1's
        # run scatter through the link's slope (two-step), the direct fit's run scatter (direct); carried to the
        # logit scale by its local slope at the prediction
        real = (rows["run"] != _ANCHOR).to_numpy()
        r2 = rows["acc"].to_numpy()[real] - _link_eval(n2, opts["link"], rows["L"].to_numpy()[real])
        h = 1e-3 * L
        with np.errstate(all="ignore"):
            dacc = (_link_eval(n2, opts["link"], L + h) - _link_eval(n2, opts["link"], L - h)) / (2 * h)
            sd2 = np.sqrt(np.var(r2) + (dacc * n1.rmse_log * L) ** 2)
            sdd = err * nd.rmse_log
            b2, bd = _z_sd(acc2, sd2, lo, hi), _z_sd(1 - err, sdd, lo, hi)
        names = test["run"].astype(str).to_numpy() if "run" in test else np.arange(len(test)).astype(str)
        for method, pred, base in (("two_step", acc2, b2), ("direct", 1 - err, bd)):
            e = _to_z(actual, lo, hi) - _to_z(pred, lo, hi)
            keep = np.isfinite(e) & np.isfinite(base) & (d >= MIN_DECADES)
            out.append(
                pd.DataFrame(
                    {
                        "group": group,
                        "method": method,
                        "held_out_sizes": k,
                        "target": names[keep],
                        "decades": d[keep],
                        "log_error": e[keep],
                        "base_sd": base[keep],
                        "actual": actual[keep],
                        "predicted": pred[keep],
                    }
                )
            )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def nested_holdouts(
    runs: RunsTable | pd.DataFrame | str,
    *,
    loss: str,
    metric: str,
    step2_runs: RunsTable | pd.DataFrame | str | None = None,
    x: Mapping[str, str] | str | None = None,
    step1_law: str = DEFAULT_LAW,
    link: str = "sigmoid",
    chance: float | None = None,
    ceiling: float = 1.0,
    anchors: bool = True,
    skip_first: float = 0.1,
    smooth: int = 1,
    order: str | None = None,
    direct_law: str | None = None,
    max_holdouts: int = 2,
    task: str | None = None,
) -> pd.DataFrame:
    """Errors of the chained prediction (and of the direct baseline) on the ladder's own largest sizes.

    For k = 1 .. ``max_holdouts`` (while at least 3 sizes remain), both steps and the
    direct baseline are refitted on the sizes below the k largest (step 2 on the
    checkpoints of those runs only) and predict the held-out final checkpoints.  Errors
    are on the logit of the normalised accuracy, ``z = logit((acc - chance) / (ceiling -
    chance))`` (on which the sigmoid link is linear in the task loss), against the
    distance ``decades`` beyond the nested fit's inputs (every input in quadrature,
    :func:`scalinglab.fit._calibration.input_decades`).  ``base_sd`` is the point's
    scatter without extrapolation (step 2's residual sd on ``z`` and step 1's run
    scatter through the link's slope; the direct fit's run scatter).  The rows feed
    :func:`scalinglab.fit._calibration.calibrated_sigma`, directly or, from other tasks,
    as ``extrapolation_prior`` of :func:`two_step`.  Points nearer than 0.05 decades are
    left out (they say nothing about drift).

    Returns
    -------
    DataFrame with columns ``group`` (``task``), ``method`` (``two_step``/``direct``),
    ``held_out_sizes``, ``target``, ``decades``, ``log_error`` (z actual - z predicted),
    ``base_sd``, ``actual``, ``predicted``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> N = np.repeat(np.geomspace(1e8, 1e9, 5), 3); D = np.tile([2e9, 4e9, 8e9], 5) * N / 1e8
    >>> L = 0.5 + 300 / N**0.3 + 400 / D**0.3
    >>> runs = pd.DataFrame({"run": [f"r{i}" for i in range(15)], "params": N, "tokens": D, "bpb": L,
    ...                      "acc": 0.25 + 0.75 / (1 + np.exp(8 * (L - 1.2)))})
    >>> h = nested_holdouts(runs, loss="bpb", metric="acc", chance=0.25, skip_first=0, task="toy")
    >>> sorted(h["held_out_sizes"].unique().tolist()), sorted(h["method"].unique().tolist())
    ([1, 2], ['direct', 'two_step'])
    """
    frame = _frame(runs)
    s2 = _frame(step2_runs) if step2_runs is not None else None
    opts = _chain_options(locals(), own_step2=s2 is not None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f1 = fit(frame, step1_law, x=x, y=loss)
    return _nested(frame, s2, f1, opts, max_holdouts=max_holdouts, group=task or metric)


def _fit_link(pts: pd.DataFrame, link: str, chance: float | None, ceiling: float, anchors: bool):
    """Step 2 on ``pts`` (+ the two ideal points when ``anchors``); returns the Fit and the frame fitted."""
    rows = pts.copy()
    if anchors:
        extra = [{"run": _ANCHOR, "L": float(rows["L"].min()) * 1e-6, "acc": ceiling}]
        if chance is not None:
            extra.append({"run": _ANCHOR, "L": float(rows["L"].max()), "acc": float(chance)})
        rows = pd.concat([rows, pd.DataFrame(extra)], ignore_index=True)
    if link == "sigmoid":
        fixed = {"b": float(chance)} if (chance is not None and not anchors) else None
        bounds = {"a": (0.0, ceiling)} if fixed else {"a": (0.0, ceiling), "b": (0.0, ceiling)}
        f2 = fit(
            rows.rename(columns={"L": "task_loss", "acc": "accuracy"}),
            LINKS["sigmoid"],
            y="accuracy",
            space="linear",
            loss="squared",
            fixed=fixed,
            bounds=bounds,
        )
    else:
        f2 = fit(
            rows.assign(error=1 - rows["acc"]).rename(columns={"L": "loss"}),
            LINKS["exponential"],
            y="error",
            space="linear",
            loss="squared",
        )
    return f2, rows


def fit_link(
    points: pd.DataFrame,
    link: str = "sigmoid",
    *,
    chance: float | None = None,
    ceiling: float = 1.0,
    anchors: bool = True,
):
    """Step 2 alone: fit ``link`` to (loss ``L``, metric ``acc``) points (columns ``run``, ``L``, ``acc``).

    The link two-step prediction uses (see :func:`two_step`), for other analyses that relate a
    loss to a score (e.g. cross-entropy to BLEU).  Returns the :class:`~scalinglab.fit.Fit` and
    the rows fitted (with the anchors when ``anchors``); draws of it come from :func:`link_draws`,
    values from :func:`link_value`.

    Examples
    --------
    >>> pts = pd.DataFrame({"run": list("abcdef"), "L": [1.0, 1.2, 1.4, 1.6, 1.8, 2.0]})
    >>> pts["acc"] = 1 - (1.0 - 2.0 * np.exp(-1.0 * pts["L"]))
    >>> f, rows = fit_link(pts, "exponential", anchors=False)
    >>> round(f.params["gamma"], 3)
    1.0
    """
    if link not in LINKS:
        raise InvalidParameterError(f"fit_link(): link must be one of {list(LINKS)}; got {link!r}")
    return _fit_link(points, link, chance, ceiling, anchors)


def link_draws(f, rows: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` run-bootstrap refits of a link from :func:`fit_link` (the anchors stay in every resample)."""
    return _refits(f, n, seed, runs=rows["run"].astype(str).to_numpy(), max_iter=50)


def link_value(f, link: str, L, params: Mapping | None = None) -> np.ndarray:
    """The metric a link from :func:`fit_link` gives at loss ``L`` (``params``: arrays of draws broadcast with L)."""
    return _link_eval(f, link, L, params)


def _refits(
    f, n: int, seed: int, *, runs: np.ndarray | None = None, max_iter: int = 300, chunk: int = 100
) -> pd.DataFrame:
    """``n`` refits of ``f`` on resamples of its runs (all rows of a run move together; rows whose run is
    the anchor label stay in every resample), started at the full-data optimum.

    The objective is minimised from a good start, so a refit stopped by ``max_iter`` (Huber with a small
    threshold behaves like L1 and converges slowly) is kept when its objective is finite.
    """
    problem = f.problem()
    theta = np.array([f.params[p] for p in problem.names])
    u0 = problem.to_u(theta[None, :])
    if runs is None:
        runs = f.data["run"].astype(str).to_numpy() if "run" in f.data else np.arange(problem.n).astype(str)
    anchor = runs == _ANCHOR
    groups = runs[~anchor]
    if pd.unique(groups).size == groups.size or pd.unique(groups).size < 2:
        groups = np.arange(groups.size)  # one row per run (final checkpoints), or one run: resample rows
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, n, chunk):
        b = min(chunk, n - start)
        W = np.ones((b, problem.n))
        W[:, ~anchor] = resample_weights(groups, b, rng)
        if problem.weights is not None:
            W = W * problem.weights[None, :]
        res = refine(problem, np.repeat(u0, b, axis=0), weights=W, max_iter=max_iter)
        ok = np.isfinite(res.objective) & np.all(np.isfinite(res.u), axis=1)
        out.append(problem.to_theta(res.u[ok]))
    draws = pd.DataFrame(np.vstack(out), columns=problem.names)
    if draws.empty:
        raise FitError(f"two_step(): every bootstrap refit of {f.law.name} failed", hint="check the fitted points")
    for p, v in problem.fixed.items():
        draws[p] = v
    draws = draws[list(f.law.params)]
    idx = np.random.default_rng(seed + 7).integers(0, len(draws), n) if len(draws) < n else np.arange(n)
    return draws.iloc[idx].reset_index(drop=True)


def two_step(
    runs: RunsTable | pd.DataFrame | str,
    targets: pd.DataFrame,
    *,
    loss: str,
    metric: str,
    step2_runs: RunsTable | pd.DataFrame | str | None = None,
    x: Mapping[str, str] | str | None = None,
    step1_law: str = DEFAULT_LAW,
    link: str = "sigmoid",
    chance: float | None = None,
    ceiling: float = 1.0,
    anchors: bool = True,
    skip_first: float = 0.1,
    smooth: int = 1,
    order: str | None = None,
    extrapolation: str = "chained",
    extrapolation_prior: ExtrapolationPrior | pd.DataFrame | None = None,
    max_holdouts: int = 2,
    holdouts: pd.DataFrame | None = None,
    step1_drift: bool | None = None,
    direct_law: str | None = None,
    interval: float = 0.9,
    n_draws: int = 400,
    seed: int = 0,
    task: str | None = None,
) -> DownstreamResult:
    """Predict ``metric`` at ``targets`` through the task loss (two steps) and directly.

    Step 1: ``loss = step1_law(N, D)`` on ``runs`` (final checkpoints).  Step 2:
    ``metric = link(loss)`` on the checkpoints of ``step2_runs`` (see :func:`link_points`),
    e.g. ``a / (1 + exp(-k (L - L0))) + b`` (Bhagia et al. 2024, arXiv:2412.04403).

    Parameters
    ----------
    runs : RunsTable, DataFrame or path
        The ladder's final checkpoints: inputs of ``step1_law`` (``params``, ``tokens``),
        ``loss`` and ``metric``.
    targets : DataFrame
        Rows to predict (inputs; ``metric``/``loss`` columns, when present, are the truth).
    loss, metric : str
        Task-loss and accuracy columns.
    step2_runs : optional
        Every logged checkpoint of the ladder runs (``run`` column); default ``runs``.
    x : optional
        Inputs of the step-1 law, as in :func:`scalinglab.fit`.
    step1_law : str
        Law of step 1 (and of the direct baseline unless ``direct_law``).
    link : {"sigmoid", "exponential"}
    chance : float, optional
        Chance accuracy: the lower anchor (or, with ``anchors=False``, the sigmoid's fixed floor).
    ceiling : float
        Accuracy at zero task loss (the upper anchor and the bound on the sigmoid's height).
    anchors : bool
        Add the two ideal points ``(0, ceiling)`` and ``(max loss, chance)`` to step 2.
    skip_first, smooth, order
        Which checkpoints step 2 uses, see :func:`link_points`.
    extrapolation : {"chained", "step1", "none"}
        How the intervals carry extrapolation error, beyond the bootstrap and the scatter
        (which assume both steps' forms hold at the target).  ``"chained"`` (default):
        :func:`nested_holdouts` predicts the ladder's own largest sizes from the smaller
        ones through both steps; a normal term of sd ``sigma * d`` on the logit of the
        normalised accuracy is added to the draws at ``d`` decades beyond the ladder's
        inputs, ``sigma`` the smallest value at which ``interval`` of the held-out errors
        fall inside (:func:`scalinglab.fit._calibration.calibrated_sigma`: own hold-outs,
        and the other tasks of ``extrapolation_prior`` each weighted equally).  The direct
        baseline gets the same treatment from its own hold-outs.  ``"step1"``: only step
        1's drift in log task loss, by nested hold-outs of step 1 alone
        (:func:`scalinglab.fit._calibration.extrapolation_error`).  ``"none"``.  Nothing is
        added inside the ladder (``d = 0``).
    extrapolation_prior : ExtrapolationPrior or DataFrame, optional
        :func:`nested_holdouts` rows of other tasks (``group`` = task, ``method``); rows of
        this ``task`` are left out (leave-one-task-out).
    max_holdouts : int
        Nested hold-outs of the ``"chained"`` term (the 1, 2, ... largest sizes).
    holdouts : DataFrame, optional
        This task's :func:`nested_holdouts` rows, when already computed with the same
        options (otherwise computed here).
    step1_drift : bool, optional
        Deprecated: ``True`` is ``extrapolation="step1"``, ``False`` ``"none"``.
    interval : float
        Level of the intervals.
    n_draws : int
        Run-bootstrap refits of each step (and direct-baseline refits) chained by Monte Carlo.

    Returns
    -------
    DownstreamResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> N = np.repeat(np.geomspace(1e8, 1e9, 5), 3); D = np.tile([2e9, 4e9, 8e9], 5) * N / 1e8
    >>> L = 0.5 + 300 / N**0.3 + 400 / D**0.3
    >>> acc = 0.25 + 0.75 / (1 + np.exp(8 * (L - 1.2)))
    >>> runs = pd.DataFrame({"run": [f"r{i}" for i in range(15)], "params": N, "tokens": D, "bpb": L, "acc": acc})
    >>> target = pd.DataFrame({"params": [7e9], "tokens": [1.4e11]})
    >>> r = two_step(runs, target, loss="bpb", metric="acc", chance=0.25, skip_first=0, n_draws=100)
    >>> truth = 0.25 + 0.75 / (1 + np.exp(8 * (0.5 + 300 / 7e9**0.3 + 400 / 1.4e11**0.3 - 1.2)))
    >>> bool(abs(float(r.predictions["two_step"][0]) - truth) < 0.01)
    True
    """
    if link not in LINKS:
        raise InvalidParameterError(
            f"two_step(): link must be one of {list(LINKS)}; got {link!r}",
            hint="link='sigmoid' (Bhagia et al. 2024) or 'exponential' (Gadre et al. 2024)",
        )
    if not 0 < interval < 1:
        raise InvalidParameterError(f"two_step(): interval must be in (0, 1); got {interval!r}", hint="e.g. 0.9")
    if int(n_draws) != n_draws or n_draws < 20:
        raise InvalidParameterError(
            f"two_step(): n_draws must be a whole number >= 20; got {n_draws!r}",
            hint="e.g. n_draws=400 (CLI: --n-resamples 400)",
        )
    if step1_drift is not None:
        warnings.warn(
            "two_step(step1_drift=...) is deprecated; use extrapolation='step1' or 'none'",
            DeprecationWarning,
            stacklevel=2,
        )
        extrapolation = "step1" if step1_drift else "none"
    if extrapolation not in EXTRAPOLATION:
        raise InvalidParameterError(
            f"two_step(): extrapolation must be one of {list(EXTRAPOLATION)}; got {extrapolation!r}",
            hint="extrapolation='chained' (nested hold-outs through both steps; CLI: --extrapolation chained)",
        )
    if not 0 < ceiling <= 1 or (chance is not None and not 0 <= chance < ceiling):
        raise InvalidParameterError(
            f"two_step(): need 0 <= chance < ceiling <= 1; got chance={chance!r}, ceiling={ceiling!r}",
            hint="accuracies are fractions, e.g. chance=0.25",
        )
    frame = _frame(runs)
    s2 = _frame(step2_runs) if step2_runs is not None else frame
    for col in (loss, metric):
        if col not in frame:
            raise DataError(
                f"column '{col}' is not in the runs table",
                column=col,
                kind="missing-column",
                hint=f"choose it with loss=/metric= (CLI: --loss/--y); columns: {list(frame.columns)[:20]}",
            )
    opts = _chain_options(locals(), own_step2=step2_runs is not None)
    notes = []
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pts, f1, f2, rows, fd = _point_fits(frame, s2, **opts)
        X = {sym: targets[col].to_numpy(dtype=float) for sym, col in f1.columns.items()}
        # step 1: run-bootstrap refits, plus the run-to-run scatter of a new model (log space)
        p1 = _refits(f1, n_draws, seed)
        p2 = _refits(f2, n_draws, seed + 1, runs=rows["run"].astype(str).to_numpy(), max_iter=50)
        Xd = {s: v[None, :] for s, v in X.items()}
        with np.errstate(all="ignore"):  # a draw with a non-positive loss becomes NaN (ignored by the quantiles)
            logL = np.log(f1.law.evaluate(Xd, {k: p1[k].to_numpy()[:, None] for k in p1.columns}))
        logL = logL + _residual_draws(f1, logL.size, rng).reshape(logL.shape)
        drift = extrapolation_error(f1) if extrapolation == "step1" else None
        if drift is not None:
            size = frame[drift.column].to_numpy(float)
            d = np.log10(targets[drift.column].to_numpy(float) / np.nanmax(size))
            logL = logL + rng.normal(size=logL.shape) * drift.sd_at(d)[None, :]
            if np.any(d > 0):
                notes.append(
                    f"step 1 draws include its extrapolation drift: {drift.sigma_per_decade:.3g} (log loss) "
                    f"per decade of {drift.column} beyond the ladder, from {drift.n_holdouts} nested "
                    "hold-outs of the largest sizes"
                )
        acc_d = _link_eval(f2, link, np.exp(logL), {k: p2[k].to_numpy()[:, None] for k in p2.columns})
        # step 2: the scatter of a new model's accuracy around the link (residuals of the checkpoints)
        real = (rows["run"] != _ANCHOR).to_numpy()
        r2 = (rows["acc"].to_numpy() - _link_eval(f2, link, rows["L"].to_numpy()))[real]
        r2 = (r2 - r2.mean()) * math.sqrt(r2.size / max(r2.size - f2.n_params, 1))
        acc_d = np.clip(acc_d + rng.choice(r2, size=acc_d.shape), 0.0, 1.0)
        decades = input_decades(f1.data, f1.columns, X)
        sig2, sigd = None, None
        if extrapolation != "chained":
            holdouts = None
        else:
            group = task or metric
            if holdouts is None:
                holdouts = _nested(
                    frame, s2 if step2_runs is not None else None, f1, opts, max_holdouts=max_holdouts, group=group
                )
            prior = extrapolation_prior
            if isinstance(prior, ExtrapolationPrior):
                prior = prior.points
            sig2, sigd = (
                calibrated_sigma(
                    holdouts[holdouts["method"] == m],
                    None
                    if prior is None
                    else ExtrapolationPrior(prior[prior["method"] == m] if "method" in prior else prior).without(group),
                    interval,
                )
                for m in ("two_step", "direct")
            )
            lo_z, hi_z = chance or 0.0, ceiling
            if sig2.sigma_per_decade and np.any(decades > 0):
                extra = rng.normal(size=acc_d.shape) * (sig2.sigma_per_decade * decades)[None, :]
                acc_d = np.where(decades[None, :] > 0, _from_z(_to_z(acc_d, lo_z, hi_z) + extra, lo_z, hi_z), acc_d)
            notes.append(
                f"extrapolation error of the chain: {_fmt_sigma(sig2)} (logit of the normalised accuracy) per "
                f"decade beyond the ladder, {sig2.note}; direct baseline: {_fmt_sigma(sigd)}, {sigd.note}"
            )
        # direct baseline: the same run bootstrap and run-to-run scatter, on the error 1 - acc
        pd_ = _refits(fd, n_draws, seed + 2)
        with np.errstate(all="ignore"):
            log_e = np.log(
                fd.law.evaluate(
                    {s: targets[c].to_numpy(float)[None, :] for s, c in fd.columns.items()},
                    {k: pd_[k].to_numpy()[:, None] for k in pd_.columns},
                )
            )
        err_d = np.exp(log_e + _residual_draws(fd, log_e.size, rng).reshape(log_e.shape))
        if sigd is not None and sigd.sigma_per_decade and np.any(decades > 0):
            extra = rng.normal(size=err_d.shape) * (sigd.sigma_per_decade * decades)[None, :]
            err_d = np.where(
                decades[None, :] > 0, 1.0 - _from_z(_to_z(1.0 - err_d, lo_z, hi_z) + extra, lo_z, hi_z), err_d
            )
        direct_hat = 1.0 - fd.law.evaluate({s: targets[c].to_numpy(float) for s, c in fd.columns.items()}, fd.params)
    a = (1 - interval) / 2
    L_hat = f1.law.evaluate(X, f1.params)
    lo, hi = np.nanquantile(acc_d, [a, 1 - a], axis=0)
    link_range = (float(pts["L"].min()), float(pts["L"].max()))
    pred = pd.DataFrame(
        {
            "target": targets["run"].astype(str).to_numpy()
            if "run" in targets
            else [f"target{i + 1}" for i in range(len(targets))]
        }
    )
    for col in f1.columns.values():
        pred[col] = targets[col].to_numpy(float)
    if metric in targets:
        pred["actual"] = pd.to_numeric(targets[metric], errors="coerce").to_numpy(float)
    if loss in targets:
        pred["loss_actual"] = pd.to_numeric(targets[loss], errors="coerce").to_numpy(float)
    pred["decades"] = decades
    pred["loss_pred"] = L_hat
    pred["in_link_range"] = (L_hat >= link_range[0]) & (L_hat <= link_range[1])
    pred["two_step"], pred["lower"], pred["upper"] = _link_eval(f2, link, L_hat), lo, hi
    if "loss_actual" in pred:
        pred["step2_at_actual_loss"] = _link_eval(f2, link, pred["loss_actual"].to_numpy(float))
    pred["direct"] = direct_hat
    pred["direct_lower"], pred["direct_upper"] = 1.0 - np.nanquantile(err_d, [1 - a, a], axis=0)
    if "actual" in pred:
        pred["err_two_step"] = (pred["two_step"] - pred["actual"]).abs()
        pred["err_direct"] = (pred["direct"] - pred["actual"]).abs()
        pred["covered"] = (pred["lower"] <= pred["actual"]) & (pred["actual"] <= pred["upper"])
        pred["direct_covered"] = (pred["direct_lower"] <= pred["actual"]) & (pred["actual"] <= pred["direct_upper"])
    far = f1.extrapolation(X)
    if far and max(far.values()) > 0:
        notes.append(
            "step 1 extrapolates " + ", ".join(f"{f1.columns[s]} by {v:.2f} decade(s)" for s, v in far.items() if v > 0)
        )
    for t, Lp in zip(pred["target"], L_hat):
        if not link_range[0] <= Lp <= link_range[1]:
            side = "below the smallest" if Lp < link_range[0] else "above the largest"
            notes.append(
                f"{t}: predicted task loss {Lp:.4g} lies {side} loss the link was fitted on "
                f"({link_range[0]:.4g}-{link_range[1]:.4g}); step 2 extrapolates there"
            )
    return DownstreamResult(
        task=task or metric,
        predictions=pred,
        step1=f1,
        step2=f2,
        direct=fd,
        link=link,
        interval=interval,
        chance=chance,
        loss=loss,
        metric=metric,
        step2_points=pts,
        link_range=link_range,
        anchors=anchors,
        skip_first=skip_first if step2_runs is not None else 0.0,
        smooth=int(smooth) if step2_runs is not None else 1,
        n_draws=int(n_draws),
        notes=tuple(notes),
        extrapolation=extrapolation,
        extrapolation_sigma=None if sig2 is None else sig2.sigma_per_decade,
        direct_extrapolation_sigma=None if sigd is None else sigd.sigma_per_decade,
        holdouts=holdouts,
    )


def _fmt_sigma(c) -> str:
    return "not calibrated" if c.sigma_per_decade is None else f"{c.sigma_per_decade:.3g}"


def backtest_downstream(
    runs: RunsTable | pd.DataFrame | str,
    *,
    loss: str,
    metric: str,
    hold_out: str = "largest",
    step2_runs: RunsTable | pd.DataFrame | str | None = None,
    **kwargs,
) -> DownstreamResult:
    """Hold out the largest model size (``hold_out="largest"``), fit both steps on the rest, predict it.

    ``step2_runs`` (e.g. every checkpoint of the ladder) is filtered to the same smaller
    models (by ``params``).  Other arguments go to :func:`two_step`.
    """
    frame = _frame(runs)
    if hold_out != "largest":
        raise InvalidParameterError(
            f"backtest_downstream(): hold_out must be 'largest'; got {hold_out!r}",
            hint="hold out the largest model size",
        )
    if "params" not in frame:
        raise DataError(
            "backtest_downstream() needs a 'params' column to find the largest models",
            column="params",
            kind="missing-column",
            hint="map your size column (CLI: --map params=<col>)",
        )
    top = frame["params"].max()
    fit_rows, targets = frame[frame["params"] < top], frame[frame["params"] == top]
    if len(fit_rows) < 4:
        raise DataError(
            f"only {len(fit_rows)} runs below the largest size",
            column="params",
            kind="too-few",
            hint="give the ladder at least 4 smaller runs",
        )
    s2 = _frame(step2_runs)
    if s2 is not None and "params" in s2:
        s2 = s2[s2["params"] < top]
    return two_step(fit_rows, targets, loss=loss, metric=metric, step2_runs=s2, **kwargs)
