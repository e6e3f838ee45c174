"""Two-step downstream prediction: (N, D) -> task loss -> accuracy, with the direct baseline beside it.

Step 1 fits a loss law in (N, D) to the task loss (bits per byte of the correct answer,
or log-perplexity; Chinchilla form by default, Huber on log values).  Step 2 fits a link
from task loss to accuracy on the ladder's (loss, accuracy) pairs, in linear space:

* ``"sigmoid"``: ``acc = a / (1 + exp(-k (L - L0))) + b`` (Bhagia et al. 2024), the floor
  ``b`` fixed at chance when ``chance`` is given;
* ``"exponential"``: ``err = eps - k exp(-gamma L)``, ``acc = 1 - err`` (Gadre et al. 2024).

The chained prediction carries both steps' uncertainty by Monte Carlo: parameter draws
of step 1 (delta method) plus its run-to-run scatter give task-loss draws at the target;
each goes through a parameter draw of step 2 plus its scatter.  The interval is the
quantiles of the accuracy draws.  The direct baseline fits the error ``1 - acc`` itself
with the same (N, D) law (a power law in the metric; Krajewski et al. 2025 argue for it)
and takes its prediction interval for a new run.

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
from scalinglab.data import RunsTable, read_runs
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.fit import fit
from scalinglab.fit._uncertainty import sample_params
from scalinglab.laws import DEFAULT_LAW
from scalinglab.laws._downstream import LINKS
from scalinglab.render import FigureRenderer, Section, figure_context, new_figure, table_html

__all__ = ["two_step", "backtest_downstream", "DownstreamResult", "LINKS"]



@dataclass(frozen=True)
class DownstreamResult(AnalysisResult):
    """Two-step and direct predictions of one task's accuracy at the targets.

    Attributes
    ----------
    predictions : DataFrame
        One row per target: inputs, ``actual`` (when known), ``loss_pred`` (step 1),
        ``two_step``/``lower``/``upper``, ``direct``/``direct_lower``/``direct_upper``,
        and the absolute errors ``err_two_step``, ``err_direct``.
    step1, step2, direct : Fit
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
    notes: tuple = ()

    def summary(self) -> str:
        p = self.predictions
        lines = [f"{self.task}: step 1 {self.step1.law.name} on '{self.loss}' ({self.step1.n_points} runs), step 2 "
                 f"{self.link} link to '{self.metric}' ({self.step2.n_points} points"
                 + (f", floor at chance {self.chance:g}" if self.chance is not None and self.link == "sigmoid" else "")
                 + f"); {self.interval:.0%} intervals carry both steps"]
        cols = [c for c in ("target", "actual", "loss_actual", "loss_pred", "two_step", "lower", "upper", "direct",
                            "direct_lower", "direct_upper", "err_two_step", "err_direct") if c in p]
        lines.append(p[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"analysis": self.name, "task": self.task, "link": self.link, "interval": self.interval,
                "chance": self.chance, "loss": self.loss, "metric": self.metric,
                "step1": {"law": self.step1.law.name, "params": _clean(self.step1.params),
                          "n_points": int(self.step1.n_points)},
                "step2": {"law": self.step2.law.name, "params": _clean(self.step2.params),
                          "n_points": int(self.step2.n_points)},
                "direct": {"law": self.direct.law.name, "params": _clean(self.direct.params)},
                "predictions": [{k: _num(v) for k, v in row.items()} for row in self.predictions.to_dict("records")],
                "notes": list(self.notes)}

    def figure(self):
        """Step 2: accuracy against task loss (ladder points, fitted link) and the targets predicted."""
        with figure_context():
            fig, ax = new_figure()
            ax = np.atleast_1d(ax).ravel()[0]
            pts = self.step2_points
            if pts is not None and len(pts):
                ax.scatter(pts["L"], pts["acc"], s=6, color="0.6", label="ladder points (step 2)")
                grid = np.linspace(pts["L"].min() * 0.9, pts["L"].max() * 1.05, 200)
                ax.plot(grid, _link_eval(self.step2, self.link, grid), color="C0", label=f"{self.link} link")
            p = self.predictions
            yerr = np.vstack([p["two_step"] - p["lower"], p["upper"] - p["two_step"]])
            ax.errorbar(p["loss_pred"], p["two_step"], yerr=np.maximum(yerr, 0), fmt="s", color="C3", ms=4,
                        capsize=2, label=f"two-step ({self.interval:.0%})")
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
            self.figure(), fid, f"{self.task}: the step-2 link and the predicted targets.")
        return Section("downstream", self.title, body, figures=(fid,))


def _clean(params: Mapping[str, float]) -> dict:
    return {k: _num(v) for k, v in params.items()}


def _num(v):
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool):
        v = float(v)
        return v if math.isfinite(v) else None
    return v


def _link_eval(step2, link: str, L) -> np.ndarray:
    out = step2.law.evaluate({"L": np.asarray(L, dtype=float)}, step2.params)
    return 1.0 - out if link == "exponential" else out


def _frame(data) -> pd.DataFrame:
    if data is None:
        return None
    if isinstance(data, RunsTable):
        return data.frame
    if isinstance(data, pd.DataFrame):
        return data
    return read_runs(data, required=()).frame


def two_step(runs: RunsTable | pd.DataFrame | str, targets: pd.DataFrame, *, loss: str, metric: str,
             step2_runs: RunsTable | pd.DataFrame | str | None = None, x: Mapping[str, str] | str | None = None,
             step1_law: str = DEFAULT_LAW, link: str = "sigmoid", chance: float | None = None,
             direct_law: str | None = None, interval: float = 0.9, n_draws: int = 4000, seed: int = 0,
             task: str | None = None) -> DownstreamResult:
    """Predict ``metric`` at ``targets`` through the task loss (two steps) and directly.

    Parameters
    ----------
    runs : RunsTable, DataFrame or path
        The ladder: inputs of ``step1_law`` (``params``, ``tokens``), ``loss`` and ``metric``.
    targets : DataFrame
        Rows to predict (inputs; ``metric``/``loss`` columns, when present, are the truth).
    loss, metric : str
        Task-loss and accuracy columns.
    step2_runs : optional
        The (loss, metric) pairs step 2 is fitted on (e.g. every ladder checkpoint); default ``runs``.
    x : optional
        Inputs of the step-1 law, as in :func:`scalinglab.fit`.
    step1_law : str
        Law of step 1 (and of the direct baseline unless ``direct_law``).
    link : {"sigmoid", "exponential"}
    chance : float, optional
        Chance accuracy: the sigmoid's floor is fixed there.
    interval : float
        Level of the intervals.
    n_draws : int
        Monte Carlo draws that chain the two steps.

    Returns
    -------
    DownstreamResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> N = np.repeat(np.geomspace(1e8, 1e9, 5), 3); D = np.tile([2e9, 4e9, 8e9], 5) * N / 1e8
    >>> L = 0.5 + 300 / N**0.3 + 400 / D**0.3
    >>> acc = 0.25 + 0.6 / (1 + np.exp(8 * (L - 1.2)))
    >>> runs = pd.DataFrame({"run": [f"r{i}" for i in range(15)], "params": N, "tokens": D, "bpb": L, "acc": acc})
    >>> target = pd.DataFrame({"params": [7e9], "tokens": [1.4e11]})
    >>> r = two_step(runs, target, loss="bpb", metric="acc", chance=0.25, n_draws=500)
    >>> truth = 0.25 + 0.6 / (1 + np.exp(8 * (0.5 + 300 / 7e9**0.3 + 400 / 1.4e11**0.3 - 1.2)))
    >>> bool(abs(float(r.predictions["two_step"][0]) - truth) < 0.01)
    True
    """
    if link not in LINKS:
        raise InvalidParameterError(f"two_step(): link must be one of {list(LINKS)}; got {link!r}",
                                    hint="link='sigmoid' (Bhagia et al. 2024) or 'exponential' (Gadre et al. 2024)")
    if not 0 < interval < 1:
        raise InvalidParameterError(f"two_step(): interval must be in (0, 1); got {interval!r}", hint="e.g. 0.9")
    frame = _frame(runs)
    s2 = _frame(step2_runs) if step2_runs is not None else frame
    for col, where in ((loss, "runs"), (metric, "runs")):
        if col not in frame:
            raise DataError(f"column '{col}' is not in the {where} table", column=col, kind="missing-column",
                            hint=f"choose it with loss=/metric= (CLI: --loss/--y); columns: {list(frame.columns)[:20]}")
    notes = []
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f1 = fit(frame, step1_law, x=x, y=loss)
        pairs = s2[[loss, metric]].apply(pd.to_numeric, errors="coerce").dropna()
        pairs = pairs[pairs[loss] > 0]
        pts = pd.DataFrame({"L": pairs[loss].to_numpy(float), "acc": pairs[metric].to_numpy(float)})
        if link == "sigmoid":
            fixed = {"b": float(chance)} if chance is not None else None
            f2 = fit(pts.rename(columns={"L": "task_loss", "acc": "accuracy"}), LINKS["sigmoid"],
                     y="accuracy", space="linear", loss="squared", fixed=fixed)
        else:
            f2 = fit(pts.assign(error=1 - pts["acc"]).rename(columns={"L": "loss"}), LINKS["exponential"],
                     y="error", space="linear", loss="squared")
        err_col = "__error"
        direct_frame = frame.assign(**{err_col: 1.0 - pd.to_numeric(frame[metric], errors="coerce")})
        fd = fit(direct_frame, direct_law or step1_law, x=x, y=err_col)
    X = {sym: targets[col].to_numpy(dtype=float) for sym, col in f1.columns.items()}
    # step 1 draws: parameters (delta method) and the run-to-run scatter in log space
    p1 = sample_params(f1, n_draws, seed=seed)
    with np.errstate(all="ignore"):  # a draw with a non-positive loss becomes NaN (ignored by the quantiles)
        logL = np.log(f1.law.evaluate(X, {k: p1[k].to_numpy()[:, None] for k in p1.columns}))
    logL = logL + rng.normal(0, f1.residual_scale, logL.shape)
    Ld = np.exp(logL)
    p2 = sample_params(f2, n_draws, seed=seed + 1)
    out2 = f2.law.evaluate({"L": Ld}, {k: p2[k].to_numpy()[:, None] for k in p2.columns})
    acc_d = (1.0 - out2 if link == "exponential" else out2) + rng.normal(0, f2.residual_scale, Ld.shape)
    acc_d = np.clip(acc_d, 0.0, 1.0)
    a = (1 - interval) / 2
    L_hat = f1.law.evaluate(X, f1.params)
    two = _link_eval(f2, link, L_hat)
    lo, hi = np.nanquantile(acc_d, [a, 1 - a], axis=0)
    dpi = fd.predict({col: targets[col].to_numpy(float) for col in fd.columns.values()}, interval=interval,
                     kind="new", method="delta", warn=False)
    pred = pd.DataFrame({"target": targets["run"].astype(str).to_numpy() if "run" in targets
                         else [f"target{i + 1}" for i in range(len(targets))]})
    for col in f1.columns.values():
        pred[col] = targets[col].to_numpy(float)
    if metric in targets:
        pred["actual"] = pd.to_numeric(targets[metric], errors="coerce").to_numpy(float)
    if loss in targets:
        pred["loss_actual"] = pd.to_numeric(targets[loss], errors="coerce").to_numpy(float)
    pred["loss_pred"] = L_hat
    pred["two_step"], pred["lower"], pred["upper"] = two, lo, hi
    pred["direct"] = 1.0 - dpi["estimate"].to_numpy()
    pred["direct_lower"] = 1.0 - dpi["upper"].to_numpy()
    pred["direct_upper"] = 1.0 - dpi["lower"].to_numpy()
    if "actual" in pred:
        pred["err_two_step"] = (pred["two_step"] - pred["actual"]).abs()
        pred["err_direct"] = (pred["direct"] - pred["actual"]).abs()
        pred["covered"] = (pred["lower"] <= pred["actual"]) & (pred["actual"] <= pred["upper"])
        pred["direct_covered"] = (pred["direct_lower"] <= pred["actual"]) & (pred["actual"] <= pred["direct_upper"])
    far = f1.extrapolation(X)
    if far and max(far.values()) > 0:
        notes.append("step 1 extrapolates " + ", ".join(f"{f1.columns[s]} by {v:.2f} decade(s)"
                                                         for s, v in far.items() if v > 0))
    return DownstreamResult(task=task or metric, predictions=pred, step1=f1, step2=f2, direct=fd, link=link,
                            interval=interval, chance=chance, loss=loss, metric=metric, step2_points=pts,
                            notes=tuple(notes))


def backtest_downstream(runs: RunsTable | pd.DataFrame | str, *, loss: str, metric: str, hold_out: str = "largest",
                        step2_runs: RunsTable | pd.DataFrame | str | None = None, **kwargs) -> DownstreamResult:
    """Hold out the largest model size (``hold_out="largest"``), fit both steps on the rest, predict it.

    ``step2_runs`` (e.g. every checkpoint of the ladder) is filtered to the same smaller
    models (by ``params``).  Other arguments go to :func:`two_step`.
    """
    frame = _frame(runs)
    if hold_out != "largest":
        raise InvalidParameterError(f"backtest_downstream(): hold_out must be 'largest'; got {hold_out!r}",
                                    hint="hold out the largest model size")
    if "params" not in frame:
        raise DataError("backtest_downstream() needs a 'params' column to find the largest models", column="params",
                        kind="missing-column", hint="map your size column (CLI: --map params=<col>)")
    top = frame["params"].max()
    fit_rows, targets = frame[frame["params"] < top], frame[frame["params"] == top]
    if len(fit_rows) < 4:
        raise DataError(f"only {len(fit_rows)} runs below the largest size", column="params", kind="too-few",
                        hint="give the ladder at least 4 smaller runs")
    s2 = _frame(step2_runs)
    if s2 is not None and "params" in s2:
        s2 = s2[s2["params"] < top]
    return two_step(fit_rows, targets, loss=loss, metric=metric, step2_runs=s2, **kwargs)
