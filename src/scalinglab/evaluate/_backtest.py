"""``backtest(data, law)``: fit on small models, predict the held-out large ones, score the extrapolation."""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from scalinglab._validation import check_fraction, check_int, check_options
from scalinglab.batch import Backend, run_batch
from scalinglab.data import CheckpointRule, RunsTable, read_runs
from scalinglab.errors import InvalidParameterError, ScalingLabError
from scalinglab.evaluate._metrics import best_seen, score
from scalinglab.evaluate._policies import DEFAULT_POLICY, Policy, legacy_checkpoints, split
from scalinglab.fit import fit as fit_law
from scalinglab.fit._uncertainty import prediction_interval, resolve_method
from scalinglab.laws import DEFAULT_LAW, Law, get_law

__all__ = ["backtest", "Backtest", "DEFAULT_POLICY"]

_SCORE_COLS = ["are", "signed_error", "rmse_log", "coverage"]


@dataclass(frozen=True)
class Backtest:
    """Result of :func:`backtest` (immutable).

    Attributes
    ----------
    scores : DataFrame
        One row per (family, law): sizes of the fit and target sets, ``are``,
        ``signed_error`` ((yhat - y) / y, > 0 = over-predicted loss), ``rmse_log``,
        ``coverage`` (share of targets inside the ``interval`` prediction interval
        for a new run), the same scores of the best-seen baseline (``baseline_*``),
        ``beats_baseline``, ``converged`` and ``error`` (message if the fit failed).
    predictions : DataFrame
        One row per scored checkpoint: family, law, run, inputs, ``y``, ``y_hat``,
        ``lower``, ``upper``, ``baseline``.
    policy : Policy
    laws : tuple of str
    options : dict
        Fit and interval options used.
    fits : dict
        ``(family, law) -> Fit``.
    """

    scores: pd.DataFrame
    predictions: pd.DataFrame = field(repr=False)
    policy: Policy
    laws: tuple[str, ...]
    options: dict[str, Any]
    fits: dict = field(default_factory=dict, repr=False)
    seconds: float = 0.0

    # -------------------------------------------------------------- views
    def leaderboard(self) -> pd.DataFrame:
        """Scores per law, macro-averaged over families, best (lowest ARE) first."""
        s = self.scores
        agg = s.groupby("law", sort=False).agg(
            families=("family", "nunique"), failed=("error", lambda e: int(e.notna().sum())),
            are=("are", "mean"), signed_error=("signed_error", "mean"), rmse_log=("rmse_log", "mean"),
            coverage=("coverage", "mean"), baseline_are=("baseline_are", "mean"),
            wins_vs_baseline=("beats_baseline", "sum"))
        agg["wins_vs_baseline"] = agg["wins_vs_baseline"].astype(int)
        return agg.sort_values("are", na_position="last", kind="stable")

    @property
    def best(self) -> str:
        """The law with the lowest mean ARE."""
        return str(self.leaderboard().index[0])

    def to_frame(self) -> pd.DataFrame:
        """The per-(family, law) score table (a copy)."""
        return self.scores.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form; top-level scores are those of the best law (macro mean over families)."""
        lb = self.leaderboard()
        top = lb.iloc[0]
        out: dict[str, Any] = {
            "law": self.best,
            **{k: _num(top[k]) for k in _SCORE_COLS},
            "baseline_are": _num(top["baseline_are"]),
            "beats_baseline": bool(top["wins_vs_baseline"] == top["families"] - top["failed"]
                                   and top["failed"] == 0),
            "interval": self.options.get("interval"), "interval_kind": "new run",
            "policy": self.policy.to_dict(), "policy_text": self.policy.describe(),
            "leaderboard": [{k: _num(v) for k, v in row.items()}
                            for row in lb.reset_index().to_dict(orient="records")],
            "scores": [{k: _num(v) for k, v in row.items()} for row in self.scores.to_dict(orient="records")],
            "options": self.options, "seconds": self.seconds,
        }
        return out

    def summary(self) -> str:
        """A readable table per family and law, then the leaderboard."""
        lvl = self.options.get("interval")
        cov = f"cov{int(round(100 * lvl))}" if lvl else "cov"
        lines = [f"Backtest: {self.policy.describe()}",
                 f"scores: ARE = mean |y - yhat| / y; signed = mean (yhat - y) / y; rmse_log = RMSE of log-loss; "
                 f"{cov} = share of targets inside the {lvl:.0%} interval for a new run "
                 f"({self.options.get('method')}); baseline = best loss seen in the fit set" if lvl else "",
                 ""]
        head = (f"{'family':<16} {'law':<12} {'runs':>4} {'points':>6} {'targets':>7} {'ARE':>8} {'signed':>8} "
                f"{'rmse_log':>8} {cov:>6} {'base ARE':>8}")
        lines += [head, "-" * len(head)]
        for r in self.scores.itertuples():
            if isinstance(r.error, str):
                lines.append(f"{str(r.family) or '(all)':<16} {r.law:<12} FAILED: {r.error}")
                continue
            lines.append(f"{str(r.family) or '(all)':<16} {r.law:<12} {r.fit_runs:>4} {r.fit_points:>6} {r.targets:>7} "
                         f"{_pct(r.are)} {_pct(r.signed_error)} {r.rmse_log:8.4f} {_pct(r.coverage, 6)} "
                         f"{_pct(r.baseline_are)}")
        lb = self.leaderboard()
        if len(lb) > 1 or self.scores["family"].nunique() > 1:
            lines += ["", "Leaderboard (mean over families, best first)",
                      f"{'law':<12} {'ARE':>8} {'signed':>8} {'rmse_log':>8} {cov:>6} {'base ARE':>8} {'wins':>5}"]
            for r in lb.reset_index().itertuples():
                lines.append(f"{r.law:<12} {_pct(r.are)} {_pct(r.signed_error)} {r.rmse_log:8.4f} "
                             f"{_pct(r.coverage, 6)} {_pct(r.baseline_are)} {r.wins_vs_baseline:>2}/{r.families}")
        return "\n".join(lines)

    __str__ = summary

    def __repr__(self) -> str:
        return f"Backtest(laws={self.laws}, families={self.scores['family'].nunique()}, best={self.best!r})"


def _num(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _pct(v, width: int = 8) -> str:
    return f"{'-':>{width}}" if v is None or not np.isfinite(v) else f"{100 * v:{width - 1}.2f}%"


def _run_weights(frame: pd.DataFrame) -> np.ndarray:
    """Each run's checkpoints share one unit of weight (scaled so weights average 1)."""
    counts = frame.groupby("run")["run"].transform("size").to_numpy(dtype=float)
    w = 1.0 / counts
    return w * (len(w) / w.sum())


def backtest(
    data: RunsTable | pd.DataFrame | str,
    law: str | Law | Sequence[str | Law] = DEFAULT_LAW,
    policy: Policy | None = None,
    *,
    y: str = "loss",
    x: str | Mapping[str, str] | None = None,
    weighting: str = "run",
    interval: float | None = 0.9,
    method: str = "auto",
    n_resamples: int = 200,
    by: str | None = "family",
    fit_options: Mapping[str, Any] | None = None,
    seed: int = 0,
    backend: str | Backend | None = None,
    workers: int | None = None,
    progress=None,
    **deprecated: Any,
) -> Backtest:
    """Backtest a scaling law: fit the small models, predict the held-out large ones, score it.

    For each family (``by="family"``) and each law, the runs are split by a
    :class:`~scalinglab.evaluate.Policy` (held-out runs, fit runs, fit
    checkpoints, target checkpoints), the law is fitted with
    :func:`scalinglab.fit` on the fit set, and its predictions at the target
    checkpoints are scored:

    * ARE = mean_i |y_i - yhat_i| / y_i  (Choshen et al. 2024, arXiv:2410.11840);
    * signed error = mean_i (yhat_i - y_i) / y_i;
    * RMSE of log-loss = sqrt(mean_i (log yhat_i - log y_i)^2)  (Alabdulmohsin et al. 2022);
    * coverage of the ``interval`` prediction interval *for a new run* (``kind="new"``);

    next to the same scores of the best-loss-seen baseline (min y over the fit set).

    Parameters
    ----------
    data : RunsTable, DataFrame or path
        Runs with ``run``, ``params``, ``tokens`` and the target column.
    law : str, Law or list of them
        Several laws are compared on the same splits (see :meth:`Backtest.leaderboard`).
    policy : Policy, optional
        Which runs are held out, which checkpoints are fitted and which are scored
        (:class:`~scalinglab.evaluate.Policy`); default ``DEFAULT_POLICY``.  The former
        keywords ``holdout``, ``fit_models``, ``fraction``, ``skip_fraction``,
        ``min_tokens``, ``final_only`` and ``target`` are deprecated aliases.
    y : str
        Target column.
    x : str or mapping, optional
        Law inputs to columns, as in :func:`scalinglab.fit`.
    weighting : {"run", "point"}
        ``"run"`` (default) gives each fit run the same total weight whatever its number of
        checkpoints; ``"point"`` weights every checkpoint equally.
    interval : float or None
        Level of the prediction interval scored by ``coverage`` (None: skip).
    method : {"delta", "bootstrap", "calibrated", "auto"}
        Interval method (formerly ``interval_method``). ``"auto"`` = ``"calibrated"``: the run-bootstrap interval (delta method with
        fewer than 5 fit runs) widened by the law's own extrapolation error measured
        by nested backtests on the fit set (see :mod:`scalinglab.fit._calibration`).
    n_resamples : int
        Bootstrap resamples.
    by : "family" or None
        Backtest each family separately (when the table has a ``family`` column).
    fit_options : mapping, optional
        Extra arguments for :func:`scalinglab.fit` (``loss``, ``delta``, ``n_starts``...).
    backend, workers : optional
        Where the (family, law) cells run (:mod:`scalinglab.batch`): ``"serial"``, ``"process"`` or ``"ray"``
        (None: :func:`scalinglab.batch.default_backend`, ``"serial"`` unless set).
    progress : callable, optional
        ``progress(done, total)`` after each cell.

    Returns
    -------
    Backtest

    Raises
    ------
    DataError
        A policy that cannot be applied (k larger than the family, empty fit set).

    Examples
    --------
    Five sizes trained to 20 tokens per parameter, ten checkpoints each, on an exact
    Chinchilla law: the largest size is held out and predicted from the other four.

    >>> import numpy as np, pandas as pd
    >>> rows = [(f"m{N:g}", N, 20 * N * f) for N in (1e7, 3e7, 1e8, 3e8, 1e9) for f in np.linspace(0.1, 1, 10)]
    >>> runs = pd.DataFrame(rows, columns=["run", "params", "tokens"])
    >>> runs["loss"] = 1.8 + 400 / runs.params ** 0.34 + 410 / runs.tokens ** 0.28
    >>> bt = backtest(runs, ["chinchilla", "power_law"], interval=None)
    >>> bt.best
    'chinchilla'
    >>> print(bt.leaderboard()[["are", "baseline_are"]].round(3))
                  are  baseline_are
    law
    chinchilla  0.000         0.134
    power_law   0.051         0.134
    """
    start = time.perf_counter()
    method = _deprecated_method(deprecated, method)
    pol = _policy_from(policy, deprecated)
    check_options(weighting, "weighting", ("point", "run"), "backtest")
    check_options(method, "method", ("delta", "bootstrap", "calibrated", "auto"), "backtest")
    check_int(n_resamples, "n_resamples", "backtest", minimum=2)
    if interval is not None:
        check_fraction(interval, "interval", "backtest")
    if by not in ("family", None):
        raise InvalidParameterError(f"backtest(): 'by' must be 'family' or None; got {by!r}")
    laws = [law] if isinstance(law, (str, Law)) else list(law)
    if not laws:
        raise InvalidParameterError("backtest(): give at least one law")
    laws = [get_law(lw) for lw in laws]
    runs = read_runs(data)
    frame = runs.frame
    if y not in frame:
        raise InvalidParameterError(f"backtest(): target column '{y}' not found (columns: {list(frame.columns)})")
    groups = ([(str(f), g) for f, g in frame.groupby("family", sort=False)]
              if by == "family" and "family" in frame and frame["family"].nunique() > 1
              else [(str(frame["family"].iloc[0]) if "family" in frame else "", frame)])
    fit_opts = dict(fit_options or {})
    cells = []
    for fam, g in groups:
        fit_rows, target_rows = split(g, pol, family=fam)
        fit_rows = fit_rows.copy()
        if weighting == "run":
            fit_rows["_bt_weight"] = _run_weights(fit_rows)
        base = best_seen(fit_rows[y])
        for lw in laws:
            cells.append(_Cell(fam, lw, fit_rows, target_rows, y, x, weighting, interval, method, n_resamples,
                               fit_opts, seed, base))
    rows, preds, fits = [], [], {}
    for cell, outcome in zip(cells, run_batch(_score_cell, cells, backend=backend, workers=workers,
                                              progress=progress)):
        if outcome.ok:
            row, pred, f = outcome.value
        else:  # an unexpected failure inside the cell: recorded, the batch goes on
            row, pred, f = _failed_cell(cell, outcome.error)
        rows.append({"family": cell.family, "law": cell.law.name, **row})
        pred.insert(0, "law", cell.law.name)
        pred.insert(0, "family", cell.family)
        preds.append(pred)
        fits[(cell.family, cell.law.name)] = f
    scores = pd.DataFrame(rows)
    options = {"y": y, "weighting": weighting, "interval": interval, "method": method,
               "n_resamples": n_resamples, "fit_options": fit_opts, "seed": seed}
    return Backtest(scores=scores, predictions=pd.concat(preds, ignore_index=True), policy=pol,
                    laws=tuple(lw.name for lw in laws), options=options, fits=fits,
                    seconds=time.perf_counter() - start)


def _deprecated_method(deprecated: dict, method: str) -> str:
    if "interval_method" in deprecated:
        warnings.warn("backtest(): 'interval_method' is deprecated; use method=", DeprecationWarning, stacklevel=3)
        method = deprecated.pop("interval_method")
    return method


_LEGACY_POLICY = ("holdout", "fit_models", "fraction", "skip_fraction", "min_tokens", "final_only", "target")


def _policy_from(policy: Policy | None, deprecated: dict) -> Policy:
    """The policy, or one built from the deprecated policy keywords (over the old defaults)."""
    unknown = set(deprecated) - set(_LEGACY_POLICY)
    if unknown:
        raise InvalidParameterError(f"backtest(): unexpected argument(s) {sorted(unknown)}",
                                    hint="see help(scalinglab.backtest); policy fields go in policy=Policy(...)")
    if policy is not None and not isinstance(policy, Policy):
        raise InvalidParameterError(f"backtest(): 'policy' must be a Policy; got {type(policy).__name__}",
                                    hint="e.g. policy=Policy(holdout='largest:2')")
    if not deprecated:
        return policy if policy is not None else DEFAULT_POLICY
    if policy is not None:
        raise InvalidParameterError("backtest(): give policy= or the deprecated policy keywords, not both")
    warnings.warn(f"backtest(): {', '.join(sorted(deprecated))} are deprecated; pass policy=Policy(...)",
                  DeprecationWarning, stacklevel=3)
    fields = {k: deprecated[k] for k in ("holdout", "fit_models", "target") if k in deprecated}
    checkpoint_keys = {k: deprecated[k] for k in ("fraction", "skip_fraction", "min_tokens", "final_only")
                       if k in deprecated}
    if checkpoint_keys:
        old = {"skip_fraction": 0.2, **checkpoint_keys}  # the former default cut, unless overridden
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            fields["checkpoints"] = legacy_checkpoints(old, "backtest") or CheckpointRule()
    return DEFAULT_POLICY.replace(**fields)


@dataclass(frozen=True)
class _Cell:
    """One (family, law) cell of a backtest: everything its worker needs."""

    family: str
    law: Law
    fit_rows: pd.DataFrame
    target_rows: pd.DataFrame
    y: str
    x: Any
    weighting: str
    interval: float | None
    method: str
    n_resamples: int
    fit_opts: dict
    seed: int
    base: float


def _score_cell(c: _Cell):
    return _one(c.law, c.fit_rows, c.target_rows, c.y, c.x, c.weighting, c.interval, c.method, c.n_resamples,
                c.fit_opts, c.seed, c.base)


def _failed_cell(c: _Cell, error: str):
    yt = c.target_rows[c.y].to_numpy(dtype=float)
    row: dict[str, Any] = {"fit_runs": int(c.fit_rows["run"].nunique()), "fit_points": len(c.fit_rows),
                           "targets": len(c.target_rows), "fit_max_params": float(c.fit_rows["params"].max()),
                           "target_params": float(c.target_rows["params"].max())}
    row.update({k: float("nan") for k in _SCORE_COLS})
    row.update({"interval_method": None, "converged": False, "error": error})
    row.update({f"baseline_{k}": v for k, v in score(yt, np.full_like(yt, c.base)).items() if k != "coverage"})
    row["beats_baseline"] = False
    keep_cols = [col for col in ("run", "params", "tokens", "flops") if col in c.target_rows]
    pred = c.target_rows[keep_cols].reset_index(drop=True).copy()
    pred["y"], pred["baseline"] = yt, c.base
    pred["y_hat"] = pred["lower"] = pred["upper"] = np.nan
    return row, pred, None


def _one(lw: Law, fit_rows: pd.DataFrame, target_rows: pd.DataFrame, y: str, x, weighting: str,
         interval, method: str, n_resamples: int, fit_opts: dict, seed: int, base: float):
    yt = target_rows[y].to_numpy(dtype=float)
    n_runs = int(fit_rows["run"].nunique())
    row: dict[str, Any] = {"fit_runs": n_runs, "fit_points": len(fit_rows), "targets": len(target_rows),
                           "fit_max_params": float(fit_rows["params"].max()),
                           "target_params": float(target_rows["params"].max())}
    base_scores = score(yt, np.full_like(yt, base))
    keep_cols = [c for c in ("run", "params", "tokens", "flops") if c in target_rows]
    pred = target_rows[keep_cols].reset_index(drop=True).copy()
    pred["y"] = yt
    pred["baseline"] = base
    f = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = fit_law(fit_rows, lw, x=x, y=y, weights="_bt_weight" if weighting == "run" else None,
                        seed=seed, **fit_opts)
            y_hat = np.asarray(f.predict(target_rows, warn=False), dtype=float)
            lower = upper = np.full_like(y_hat, np.nan)
            used = None
            if interval is not None:
                used = resolve_method(method, f, "prediction")
                try:
                    iv = _interval(f, target_rows, interval, used, n_resamples, seed)
                    lower, upper = iv["lower"].to_numpy(), iv["upper"].to_numpy()
                    used = str(iv["method"].iloc[0]) if len(iv) else used
                except ScalingLabError:
                    used = None
        s = score(yt, y_hat, lower, upper)
        row.update(s)
        row["interval_method"] = used
        row["converged"] = bool(f.converged)
        row["error"] = None
        pred["y_hat"], pred["lower"], pred["upper"] = y_hat, lower, upper
    except ScalingLabError as exc:
        row.update({k: float("nan") for k in _SCORE_COLS})
        row.update({"interval_method": None, "converged": False, "error": str(exc).splitlines()[0]})
        pred["y_hat"] = pred["lower"] = pred["upper"] = np.nan
    row.update({f"baseline_{k}": v for k, v in base_scores.items() if k != "coverage"})
    row["beats_baseline"] = bool(np.isfinite(row["are"]) and row["are"] < row["baseline_are"])
    return row, pred, f


def _interval(f, target_rows: pd.DataFrame, level: float, method: str, n_resamples: int, seed: int) -> pd.DataFrame:
    X = f._inputs(target_rows, {})
    return prediction_interval(f, X, level=level, kind="new", method=method, n_resamples=n_resamples, seed=seed)
