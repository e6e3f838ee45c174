"""``backtest(data, law)``: fit on small models, predict the held-out large ones, score the extrapolation."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._validation import check_fraction, check_int, check_options
from scalinglab.batch import Backend, run_batch
from scalinglab.data import CheckpointRule, RunsTable, read_runs
from scalinglab.errors import DataError, InvalidParameterError, ScalingLabError
from scalinglab.evaluate._metrics import best_seen, score
from scalinglab.evaluate._policies import DEFAULT_POLICY, Policy, legacy_checkpoints, split
from scalinglab.evaluate._seeds import average_seeds
from scalinglab.fit import FitJob, fit_many
from scalinglab.fit import fit as fit_law
from scalinglab.fit._borrow import (
    BORROW_SCALES,
    BORROW_WHEN,
    borrow_size_term,
    size_coupled,
    undetermined_size_term,
    widen_by_lenders,
)
from scalinglab.fit._calibration import (
    ExtrapolationPrior,
    calibrated_sigma,
    extrapolation_error,
    input_decades,
    own_sigma,
    widen,
)
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
    extrapolation_points : DataFrame, optional
        With calibrated intervals: one row per held-out point of every cell, ``family``,
        ``law``, ``group`` (the ``prior_by`` label), ``source`` (``"targets"``: the
        cell's scored checkpoints; ``"nested"``: its own nested hold-outs), ``decades``,
        ``log_error`` and ``base_sd`` -- the raw material of an
        :class:`~scalinglab.fit.ExtrapolationPrior` for another backtest.
    """

    scores: pd.DataFrame
    predictions: pd.DataFrame = field(repr=False)
    policy: Policy
    laws: tuple[str, ...]
    options: dict[str, Any]
    fits: dict = field(default_factory=dict, repr=False)
    seconds: float = 0.0
    extrapolation_points: pd.DataFrame | None = field(default=None, repr=False)

    # -------------------------------------------------------------- views
    def leaderboard(self) -> pd.DataFrame:
        """Scores per law, macro-averaged over families, best (lowest ARE) first."""
        s = self.scores
        agg = s.groupby("law", sort=False).agg(
            families=("family", "nunique"),
            failed=("error", lambda e: int(e.notna().sum())),
            are=("are", "mean"),
            signed_error=("signed_error", "mean"),
            rmse_log=("rmse_log", "mean"),
            coverage=("coverage", "mean"),
            baseline_are=("baseline_are", "mean"),
            wins_vs_baseline=("beats_baseline", "sum"),
        )
        agg["wins_vs_baseline"] = agg["wins_vs_baseline"].astype(int)
        agg.index = pd.Index([str(v) for v in agg.index], dtype=object, name="law")
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
            "beats_baseline": bool(top["wins_vs_baseline"] == top["families"] - top["failed"] and top["failed"] == 0),
            "interval": self.options.get("interval"),
            "interval_kind": "new run",
            "policy": self.policy.to_dict(),
            "policy_text": self.policy.describe(),
            "leaderboard": [{k: _num(v) for k, v in row.items()} for row in lb.reset_index().to_dict(orient="records")],
            "scores": [{k: _num(v) for k, v in row.items()} for row in self.scores.to_dict(orient="records")],
            "options": self.options,
            "seconds": self.seconds,
        }
        return out

    def _borrow_lines(self) -> list[str]:
        """The borrowed parameters of a single-model transfer, per group, and who could not lend."""
        sc = self.scores
        if "borrowed" not in sc and "borrow_reason" not in sc:
            return []
        has = _borrowed_rows(sc)
        rows = sc[has]
        unlent = []
        if "borrow_reason" in sc:
            for r in sc[~has & sc["borrow_reason"].notna()].itertuples():
                unlent.append(f"  {str(r.family) or '(all)'} {r.law}: {r.borrow_reason}")
        if not len(rows):
            return ["", "Kept their own fits (nothing to borrow):", *unlent] if unlent else []
        scale = self.options.get("borrow_scale")
        lines = ["", "Borrowed size parameters" + (f" ({scale} scale)" if scale else "") + ":"]
        for r in rows.itertuples():
            values = ", ".join(f"{k}={v:.4g}" for k, v in r.borrowed.items())
            why = getattr(r, "borrow_reason", None)
            why = f" (own fit: {why})" if isinstance(why, str) else ""
            terms = getattr(r, "lender_terms", None)
            if isinstance(terms, dict) and terms:
                why += "; " + ", ".join(f"lenders' {c}-term here {lo:.3g} to {hi:.3g}" for c, (lo, hi) in terms.items())
            sd = getattr(r, "lender_sd", None)
            if isinstance(sd, float) and np.isfinite(sd):
                why += f"; lenders' predictions differ by sd {sd:.3g} in log (carried by the interval)"
            note = getattr(r, "lender_note", None)
            if isinstance(note, str):
                why += f"; {note}"
            lines.append(f"  {str(r.family) or '(all)'} {r.law}: {values}{why}")
        for col, text in (
            ("lenders", "Lent by (the median over these groups' fits, each group's own left out): "),
            ("not_lending", "Could not lend (their fits did not determine their own parameters): "),
        ):
            if col in rows:
                names = dict.fromkeys(x for v in rows[col] if isinstance(v, list) for x in v)
                if names:
                    lines.append(text + "; ".join(names))
        if unlent:
            lines += ["Kept their own fits (nothing to borrow):", *unlent]
        return lines

    def _one_size_lines(self) -> list[str]:
        """Groups fitted on one model size without a borrowed size term: their predictions of a larger
        model rest on nothing the data say about size."""
        sc = self.scores
        if "fit_sizes" not in sc or self.options.get("borrow_from") is not None:
            return []
        one = sc[(sc["fit_sizes"] == 1) & ~_borrowed_rows(sc) & sc["error"].isna()]
        if not len(one):
            return []
        names = ", ".join(dict.fromkeys(str(f) or "(all)" for f in one["family"]))
        return [
            f"Fitted on one model size: {names}. One size says nothing about how loss changes with size, so "
            "the prediction of a larger model is arbitrary; borrow the size term from the other groups "
            "(borrow_from='others', borrow_when='undetermined'; CLI: --borrow-from others --borrow-when "
            "undetermined)."
        ]

    def summary(self) -> str:
        """A readable table per family and law, then the leaderboard."""
        lvl = self.options.get("interval")
        cov = f"cov{int(round(100 * lvl))}" if lvl else "cov"
        lines = [
            f"Backtest: {self.policy.describe()}",
            f"scores: ARE = mean |y - yhat| / y; signed = mean (yhat - y) / y; rmse_log = RMSE of log-loss; "
            f"{cov} = share of targets inside the {lvl:.0%} interval for a new run "
            f"({self.options.get('method')}); baseline = best loss seen in the fit set"
            if lvl
            else "",
            "",
        ]
        head = (
            f"{str(self.options.get('by') or 'family'):<16} {'law':<12} {'runs':>4} {'points':>6} {'targets':>7} {'ARE':>8} {'signed':>8} "
            f"{'rmse_log':>8} {cov:>6} {'base ARE':>8}"
        )
        lines += [head, "-" * len(head)]
        for r in self.scores.itertuples():
            if isinstance(r.error, str):
                lines.append(f"{str(r.family) or '(all)':<16} {r.law:<12} FAILED: {r.error}")
                continue
            lines.append(
                f"{str(r.family) or '(all)':<16} {r.law:<12} {int(r.fit_runs):>4} {int(r.fit_points):>6} "
                f"{int(r.targets):>7} "
                f"{_pct(r.are)} {_pct(r.signed_error)} {r.rmse_log:8.4f} {_pct(r.coverage, 6)} "
                f"{_pct(r.baseline_are)}"
            )
        failed = self.scores[self.scores["error"].notna()]
        if self.scores["family"].nunique() > 1:
            lines += [
                "",
                f"{self.scores['family'].nunique() - failed['family'].nunique()} group(s) scored, "
                f"{failed['family'].nunique()} failed"
                + (
                    ": " + "; ".join(f"{r.family} ({r.error})" for r in failed.drop_duplicates("family").itertuples())
                    if len(failed)
                    else ""
                ),
            ]
        lines += self._borrow_lines()
        lines += self._one_size_lines()
        if "interval_note" in self.scores:
            thin = self.scores[self.scores["interval_method"].astype(str).str.contains("uncalibrated")]
            if len(thin):
                lines += [
                    f"Intervals not calibrated for {', '.join(map(str, thin['family'].unique()))}: "
                    + str(thin["interval_note"].iloc[0])
                ]
            if self.options.get("prior"):
                lines += [f"Calibration prior: {self.options['prior']}."]
        lb = self.leaderboard()
        if len(lb) > 1 or self.scores["family"].nunique() > 1:
            lines += [
                "",
                "Leaderboard (mean over families, best first)",
                f"{'law':<12} {'ARE':>8} {'signed':>8} {'rmse_log':>8} {cov:>6} {'base ARE':>8} {'wins':>5}",
            ]
            for r in lb.reset_index().itertuples():
                lines.append(
                    f"{r.law:<12} {_pct(r.are)} {_pct(r.signed_error)} {r.rmse_log:8.4f} "
                    f"{_pct(r.coverage, 6)} {_pct(r.baseline_are)} {r.wins_vs_baseline:>2}/{r.families}"
                )
        return "\n".join(lines)

    __str__ = summary

    def __repr__(self) -> str:
        return f"Backtest(laws={self.laws}, families={self.scores['family'].nunique()}, best={self.best!r})"


def _borrowed_rows(scores: pd.DataFrame) -> pd.Series:
    """True for the score rows fitted with borrowed values."""
    if "borrowed" not in scores:
        return pd.Series(False, index=scores.index)
    return scores["borrowed"].map(lambda b: isinstance(b, dict))


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
    borrow_from: str | Sequence[str] | Mapping[str, float] | None = None,
    borrow: Sequence[str] | None = None,
    borrow_scale: str = "relative",
    borrow_when: str = "always",
    prior: str | ExtrapolationPrior | None = "others",
    prior_by: str | None = None,
    seeds: str = "separate",
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
    by : str or None
        Column whose values are scored as separate groups (default ``"family"``, when
        the table has one; any column, e.g. ``"scaled_set"``).  A group the policy
        cannot split (one model size, an empty fit set) is a recorded failure in
        ``scores`` (``error``), not an abort.
    borrow_from : "others", group names or {param: value}, optional
        Single-model transfer (Choshen et al. 2024, App. A): hold fixed the
        parameters one model size cannot identify (those tied to model size, see
        :func:`~scalinglab.evaluate.size_coupled`; or ``borrow``), at the median of
        fits of the law on the named groups (``"others"``: every other group of the
        table; the target's own group is always left out), or at given values.
        A source fit that cannot determine its own parameters (at a bound, not
        identified; :func:`~scalinglab.evaluate.lending_problem`) lends nothing
        (``scores.lenders`` and ``scores.not_lending`` say who lent and why the others could not).
        With ``interval``, a borrowed fit's interval also carries how far apart the
        lenders put the prediction (``scores.lender_sd``; see :func:`~scalinglab.fit._borrow.widen_by_lenders`).
        Use with ``Policy(fit_models="window:1")``.
    borrow : sequence of str, optional
        Which parameters to borrow (default: the size-coupled ones).
    borrow_scale : {"relative", "absolute"}
        ``"relative"`` (default): each source's borrowed linear coefficients are put on
        the target family's loss scale (:func:`~scalinglab.evaluate.rescaled`), for
        families whose losses differ by a factor (tokenizer, evaluation set);
        ``"absolute"``: borrowed as fitted (families that share loss units).
    borrow_when : {"always", "undetermined"}
        ``"always"`` (default): every cell is fitted with the borrowed values (single-model
        transfer).  ``"undetermined"``: every cell is fitted freely first, and only a cell
        whose fit could not set the size term (one model size, or a size parameter at its
        bound, e.g. ``alpha = 3`` at the end of the ridge of a two- or three-size fit;
        :func:`~scalinglab.evaluate.undetermined_size_term`) is refitted with the borrowed
        values; ``scores.borrow_reason`` says why.  A cell that nothing can be lent to keeps
        its free fit and says so.
    prior : "others", ExtrapolationPrior or None
        With ``method="auto"``/``"calibrated"``: widen intervals by an extrapolation
        error calibrated on the target's own nested hold-outs *and* on the held-out
        errors of the other groups of this backtest (the target's group left out;
        ``prior_by`` names a coarser column to leave out, e.g. all sets of one
        family), or on a given :class:`~scalinglab.fit.ExtrapolationPrior`.  When
        neither source has enough points the interval is reported uncalibrated with a
        note (``scores.interval_note``).  ``None``: the fit's own calibration only.
    prior_by : str, optional
        Column naming the family of each group, for leaving the target out of the prior.
    seeds : {"separate", "mean"}
        With a ``seed`` column: keep replicate runs as separate runs, or average the
        fit runs' losses over seeds at each (size, tokens).
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
    laws, runs = _check(law, data, y, weighting, method, n_resamples, interval, seeds)
    frame = runs.frame
    groups = _groups(frame, by)
    jobs = [(name, _prior_label(g, name, prior_by), g, pol) for name, g in groups]
    return _execute(
        jobs,
        laws,
        pol,
        y=y,
        x=x,
        weighting=weighting,
        interval=interval,
        method=method,
        n_resamples=n_resamples,
        fit_options=fit_options,
        seed=seed,
        backend=backend,
        workers=workers,
        progress=progress,
        borrow_from=borrow_from,
        borrow=borrow,
        borrow_scale=borrow_scale,
        borrow_when=borrow_when,
        prior=prior,
        seeds=seeds,
        by=by,
        start=start,
    )


def _check(law, data, y, weighting, method, n_resamples, interval, seeds):
    check_options(weighting, "weighting", ("point", "run"), "backtest")
    check_options(method, "method", ("delta", "bootstrap", "calibrated", "auto"), "backtest")
    check_options(seeds, "seeds", ("separate", "mean"), "backtest")
    check_int(n_resamples, "n_resamples", "backtest", minimum=2)
    if interval is not None:
        check_fraction(interval, "interval", "backtest")
    laws = [law] if isinstance(law, (str, Law)) else list(law)
    if not laws:
        raise InvalidParameterError("backtest(): give at least one law")
    laws = [get_law(lw) for lw in laws]
    runs = read_runs(data)
    if y not in runs.frame:
        raise InvalidParameterError(f"backtest(): target column '{y}' not found (columns: {list(runs.frame.columns)})")
    return laws, runs


def _groups(frame: pd.DataFrame, by: str | None) -> list[tuple[str, pd.DataFrame]]:
    """The groups a backtest scores separately (``by`` column), or the whole table as one."""
    if by is None or (by == "family" and "family" not in frame):
        return [(str(frame["family"].iloc[0]) if "family" in frame and frame["family"].nunique() == 1 else "", frame)]
    if not isinstance(by, str):
        raise InvalidParameterError(f"backtest(): 'by' must be a column name or None; got {by!r}")
    if by not in frame:
        raise DataError(
            f"backtest(): by='{by}' is not a column of the runs table",
            column=by,
            kind="missing-column",
            hint=f"use one of {[c for c in frame.columns]}, or map yours with --map {by}=<column>",
        )
    if frame[by].isna().any():
        raise DataError(
            f"backtest(): column '{by}' is empty in {int(frame[by].isna().sum())} row(s)",
            column=by,
            kind="missing-value",
            hint=f"fill or drop those rows before grouping by '{by}'",
        )
    return [(str(k), g) for k, g in frame.groupby(by, sort=False)]


def _prior_label(g: pd.DataFrame, name: str, prior_by: str | None) -> str:
    """The group a cell counts as when the prior leaves the target's group out."""
    if prior_by is None:
        return name
    if prior_by not in g:
        raise DataError(
            f"backtest(): prior_by='{prior_by}' is not a column of the runs table",
            column=prior_by,
            kind="missing-column",
            hint="give a column that names the family of each group",
        )
    return str(g[prior_by].iloc[0])


def _execute(
    jobs,
    laws,
    pol,
    *,
    y,
    x,
    weighting,
    interval,
    method,
    n_resamples,
    fit_options,
    seed,
    backend,
    workers,
    progress,
    borrow_from,
    borrow,
    prior,
    seeds,
    by,
    start,
    borrow_scale="relative",
    borrow_when="always",
    extra_cols=None,
) -> Backtest:
    """Split, fit and score every (group, policy) job for every law; failures are recorded, never abort."""
    fit_opts = dict(fit_options or {})
    calibrate = interval is not None and method in ("auto", "calibrated") and prior is not None
    check_options(borrow_scale, "borrow_scale", BORROW_SCALES, "backtest")
    check_options(borrow_when, "borrow_when", BORROW_WHEN, "backtest")
    fallback_mode = borrow_from is not None and borrow_when == "undetermined"
    lenders = (
        _lenders(jobs, laws, borrow_from, pol, y, x, fit_opts, backend, workers)
        if borrow_from is not None and not isinstance(borrow_from, Mapping)
        else {}
    )
    notes: dict = {}
    cells, failed, first_error = [], [], None
    for j, (name, label, g, p) in enumerate(jobs):
        try:
            fit_rows, target_rows = split(g, p, family=name)
        except ScalingLabError as exc:  # a group that cannot be split is a recorded failure
            first_error = first_error or exc
            for lw in laws:
                failed.append((j, name, label, lw, str(exc).splitlines()[0]))
            continue
        if seeds == "mean":
            fit_rows = average_seeds(fit_rows, y)
        fit_rows = fit_rows.copy()
        if weighting == "run":
            fit_rows["_bt_weight"] = _run_weights(fit_rows)
        base = best_seen(fit_rows[y])
        for lw in laws:
            opts = dict(fit_opts)
            b, own = None, ()
            if borrow_from is not None:
                b, used, skipped, spread, own = _borrowed(
                    lenders, name, label, lw, fit_rows, borrow_from, borrow, borrow_scale
                )
                notes[(j, lw.name)] = (used, skipped, spread)
            fallback = b if fallback_mode else None
            if isinstance(b, str) and not fallback_mode:
                failed.append((j, name, label, lw, b))
                continue
            if b and not fallback_mode:
                opts["fixed"] = {**dict(opts.get("fixed") or {}), **b}
            cells.append(
                _Cell(
                    name,
                    lw,
                    fit_rows,
                    target_rows,
                    y,
                    x,
                    weighting,
                    interval,
                    method,
                    n_resamples,
                    opts,
                    seed,
                    base,
                    calibrate,
                    j,
                    label,
                    fallback,
                    own,
                )
            )
    if not cells and first_error is not None and len(jobs) == 1:
        raise first_error  # nothing could be scored at all: the one clear error, as before
    rows, preds, fits, extras = [], [], {}, []
    outcomes = run_batch(_score_cell, cells, backend=backend, workers=workers, progress=progress)
    for cell, outcome in zip(cells, outcomes):
        if outcome.ok:
            row, pred, f, extra = outcome.value
        else:  # an unexpected failure inside the cell: recorded, the batch goes on
            (row, pred, f), extra = _failed_cell(cell, outcome.error), None
        if cell.fit_opts.get("fixed") and borrow_from is not None and not fallback_mode:
            row["borrowed"] = {k: v for k, v in cell.fit_opts["fixed"].items()}
        if isinstance(row.get("borrowed"), dict):
            if (cell.job, cell.law.name) in notes:
                row["lenders"], row["not_lending"], spread = notes[(cell.job, cell.law.name)]
                if spread:
                    row["lender_terms"] = {c: list(v) for c, v in spread.items()}
        rows.append({"family": cell.family, "law": cell.law.name, "_job": cell.job, "_label": cell.label, **row})
        pred.insert(0, "law", cell.law.name)
        pred.insert(0, "family", cell.family)
        pred["_job"] = cell.job
        preds.append(pred)
        fits[
            (cell.family, cell.law.name)
            if len(jobs) == len({jb[0] for jb in jobs})
            else (cell.family, cell.law.name, cell.job)
        ] = f
        extras.append(extra)
    for j, name, label, lw, msg in failed:
        rows.append(
            {
                "family": name,
                "law": lw.name,
                "_job": j,
                "_label": label,
                "fit_runs": np.nan,
                "fit_sizes": np.nan,
                "fit_points": np.nan,
                "targets": np.nan,
                **{k: float("nan") for k in _SCORE_COLS},
                "interval_method": None,
                "converged": False,
                "error": msg,
                "baseline_are": np.nan,
                "baseline_signed_error": np.nan,
                "baseline_rmse_log": np.nan,
                "beats_baseline": False,
            }
        )
    scores = pd.DataFrame(rows)
    predictions = (
        pd.concat(preds, ignore_index=True)
        if preds
        else pd.DataFrame(columns=["family", "law", "y", "y_hat", "lower", "upper", "baseline", "_job"])
    )
    points = None
    if calibrate:
        scores, predictions = _calibrate(scores, predictions, cells, extras, prior, interval)
        points = _points_frame(cells, extras)
    if len(scores):
        scores = scores.sort_values("_job", kind="stable").reset_index(drop=True)
    if extra_cols is not None:
        for col, values in extra_cols.items():
            scores[col] = scores["_job"].map(values)
    options = {
        "y": y,
        "weighting": weighting,
        "interval": interval,
        "method": method,
        "n_resamples": n_resamples,
        "fit_options": fit_opts,
        "seed": seed,
        "by": by,
        "seeds": seeds,
        "prior": _prior_text(prior) if calibrate else None,
        "borrow_from": _borrow_text(borrow_from),
        "borrow": list(borrow) if borrow else None,
        "borrow_scale": borrow_scale if borrow_from is not None and not isinstance(borrow_from, Mapping) else None,
        "borrow_when": borrow_when if borrow_from is not None else None,
    }
    return Backtest(
        scores=scores.drop(columns=["_label"]),
        predictions=predictions,
        policy=pol,
        laws=tuple(lw.name for lw in laws),
        options=options,
        fits=fits,
        seconds=time.perf_counter() - start,
        extrapolation_points=points,
    )


def _points_frame(cells, extras) -> pd.DataFrame | None:
    """Every cell's held-out points (targets and nested hold-outs) in one table."""
    parts = []
    for cell, extra in zip(cells, extras):
        for key in ("targets", "nested"):
            pts = None if extra is None else extra.get(key)
            if pts is not None and len(pts):
                parts.append(
                    pts.assign(job=cell.job, family=cell.family, law=cell.law.name, group=cell.label, source=key)
                )
    return pd.concat(parts, ignore_index=True) if parts else None


def _prior_text(prior) -> str | None:
    if prior is None:
        return None
    if isinstance(prior, ExtrapolationPrior):
        return f"given: {len(prior.points)} points of {len(prior.groups)} group(s)"
    return "other groups of this backtest (each target's own group left out)"


def _borrow_text(borrow_from):
    if borrow_from is None:
        return None
    if isinstance(borrow_from, str):
        return borrow_from
    if isinstance(borrow_from, Mapping):
        return {str(k): float(v) for k, v in borrow_from.items()}
    return [str(v) for v in borrow_from]


def _lenders(jobs, laws, borrow_from, pol, y, x, fit_opts, backend, workers) -> dict:
    """``law name -> {source group: (prior label, Fit or the one-line reason it lends nothing)}``:
    the law fitted on every source group (``borrow_from``) that may lend its parameters."""
    frames = {}
    for name, label, g, _p in jobs:
        frames.setdefault(name, (label, g))
    if isinstance(borrow_from, str) and borrow_from != "others":
        borrow_from = [borrow_from]
    sources = list(frames) if borrow_from == "others" else [str(s) for s in borrow_from]
    unknown = [s for s in sources if s not in frames]
    if unknown:
        raise InvalidParameterError(
            f"backtest(): borrow_from names group(s) {unknown} that the table does not have",
            hint=f"groups: {list(frames)}",
        )
    source_jobs = [
        FitJob(
            data=pol.checkpoints.apply_frame(frames[s][1]).reset_index(drop=True),
            law=lw,
            options={**fit_opts, "x": x, "y": y},
            label=f"{s}\t{lw.name}",
        )
        for s in sources
        for lw in laws
    ]
    out: dict = {lw.name: {} for lw in laws}
    for job, o in zip(source_jobs, fit_many(source_jobs, backend=backend, workers=workers)):
        s, law_name = job.label.split("\t")
        if not o.ok:
            out[law_name][s] = (frames[s][0], str(o.error).splitlines()[0])
        else:
            out[law_name][s] = (frames[s][0], o.value)
    return out


def _borrowed(lenders, name, label, law, fit_rows, borrow_from, borrow, scale):
    """``({param: value} or the one-line reason nothing can be borrowed, lenders used, lenders skipped,
    {linear coefficient: (smallest, largest) lender's term at this cell's inputs}, each lending family's own values)``
    for one cell: :func:`~scalinglab.fit._borrow.borrow_size_term` over the other families' fits (one vote per
    ``prior_by`` label)."""
    if isinstance(borrow_from, Mapping):  # values given (e.g. a published fit)
        return {str(k): float(v) for k, v in borrow_from.items()}, [], [], {}, ()
    others = {s: v for s, v in lenders[law.name].items() if s != name and v[0] != label}
    loan = borrow_size_term(
        law,
        {s: f for s, (_l, f) in others.items()},
        fit_rows,
        names=list(borrow) if borrow else None,
        scale=scale,
        labels={s: lab for s, (lab, _f) in others.items()},
    )
    if isinstance(loan, str):
        skipped = [f"{s}: {f}" for s, (_l, f) in others.items() if isinstance(f, str)]
        return loan, [], skipped, {}, ()
    return loan.values, list(loan.lenders), list(loan.not_lending), dict(loan.terms), loan.lender_values


def _calibrate(scores, predictions, cells, extras, prior, level):
    """Widen every cell's interval by the extrapolation error of its own nested hold-outs and a prior
    learned from the *other* groups (leave the target's group out)."""
    pool = []
    for cell, extra in zip(cells, extras):
        if extra is None:
            continue
        scale = own_sigma(extra.get("nested"))
        for key in ("targets", "nested"):
            pts = extra.get(key)
            if pts is not None and len(pts):
                pool.append(pts.assign(group=cell.label, source=key, own_sigma=scale))
    learned = ExtrapolationPrior(pd.concat(pool, ignore_index=True)) if pool else None
    if isinstance(prior, ExtrapolationPrior):
        learned = prior
    scores = scores.set_index(["_job", "law"])
    for cell, extra in zip(cells, extras):
        key = (cell.job, cell.law.name)
        mask = (predictions["_job"] == cell.job) & (predictions["law"] == cell.law.name)
        if extra is None or extra.get("targets") is None:
            continue
        own = extra.get("nested")
        pr = learned.without(cell.label) if learned is not None else None
        if pr is not None and not len(pr.points):
            pr = None
        cal = calibrated_sigma(own, pr, level)
        t = extra["targets"]
        p = predictions.loc[mask]
        if cal.thin:
            scores.loc[key, "interval_method"] = f"{scores.loc[key, 'interval_method']} (uncalibrated)"
            scores.loc[key, "interval_note"] = cal.note
            continue
        lo, hi = widen(
            p["y_hat"].to_numpy(),
            p["lower"].to_numpy(),
            p["upper"].to_numpy(),
            t["decades"].to_numpy(),
            cal.sigma_per_decade,
            level,
            cal.base_scale,
        )
        predictions.loc[mask, "lower"], predictions.loc[mask, "upper"] = lo, hi
        yv = p["y"].to_numpy()
        scores.loc[key, "coverage_base"] = scores.loc[key, "coverage"]
        scores.loc[key, "coverage"] = float(np.mean((yv >= lo) & (yv <= hi)))
        scores.loc[key, "interval_method"] = "calibrated"
        scores.loc[key, "interval_note"] = cal.note
        scores.loc[key, "sigma_per_decade"] = cal.sigma_per_decade
        scores.loc[key, "median_width"] = float(np.median(np.log(hi / lo)))
    return scores.reset_index(), predictions


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
        raise InvalidParameterError(
            f"backtest(): unexpected argument(s) {sorted(unknown)}",
            hint="see help(scalinglab.backtest); policy fields go in policy=Policy(...)",
        )
    if policy is not None and not isinstance(policy, Policy):
        raise InvalidParameterError(
            f"backtest(): 'policy' must be a Policy; got {type(policy).__name__}",
            hint="e.g. policy=Policy(holdout='largest:2')",
        )
    if not deprecated:
        return policy if policy is not None else DEFAULT_POLICY
    if policy is not None:
        raise InvalidParameterError("backtest(): give policy= or the deprecated policy keywords, not both")
    warnings.warn(
        f"backtest(): {', '.join(sorted(deprecated))} are deprecated; pass policy=Policy(...)",
        DeprecationWarning,
        stacklevel=3,
    )
    fields = {k: deprecated[k] for k in ("holdout", "fit_models", "target") if k in deprecated}
    checkpoint_keys = {
        k: deprecated[k] for k in ("fraction", "skip_fraction", "min_tokens", "final_only") if k in deprecated
    }
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
    calibrate: bool = False
    job: int = 0
    label: str = ""
    #: ``borrow_when="undetermined"``: the values to refit with when the free fit could not set the
    #: size term, or the one-line reason nothing could be borrowed; None: no fallback.
    fallback: dict | str | None = None
    #: Each lending family's own values of the borrowed parameters (their spread widens the interval).
    lender_values: tuple = ()


def _score_cell(c: _Cell):
    """Fit and score one cell; with a fallback, refit with the borrowed values when the free fit
    could not set the size term."""
    out = _score_with(c, c.fit_opts, c.lender_values if c.fallback is None else ())
    f = out[2]
    if c.fallback is None or f is None:
        return out
    if isinstance(c.fallback, dict):
        names = list(c.fallback)
    else:
        X = {sym: f.data[col].to_numpy(dtype=float) for sym, col in f.columns.items()}
        names = list(size_coupled(f.law, f.params, X, f.columns))
    why = undetermined_size_term(f, names)
    if why is None:
        return out
    if isinstance(c.fallback, str):
        out[0]["borrow_reason"] = f"{why}; nothing borrowed: {c.fallback}"
        return out
    fixed = {**dict(c.fit_opts.get("fixed") or {}), **c.fallback}
    refit = _score_with(c, {**c.fit_opts, "fixed": fixed}, c.lender_values)
    if refit[2] is None:  # e.g. every parameter borrowed: the free fit stands, and says why
        out[0]["borrow_reason"] = f"{why}; the refit with borrowed values failed: {refit[0]['error']}"
        return out
    refit[0]["borrowed"] = dict(c.fallback)
    refit[0]["borrow_reason"] = why
    return refit


def _score_with(c: _Cell, fit_opts: dict, lender_values: tuple = ()):
    row, pred, f = _one(
        c.law,
        c.fit_rows,
        c.target_rows,
        c.y,
        c.x,
        c.weighting,
        c.interval,
        "base" if c.calibrate else c.method,
        c.n_resamples,
        fit_opts,
        c.seed,
        c.base,
    )
    if f is not None and c.interval is not None and lender_values:
        _lender_spread(c, fit_opts, lender_values, row, pred)
    return row, pred, f, (_errors(f, c.target_rows, c.y, pred) if c.calibrate and f is not None else None)


def _lender_spread(c: _Cell, fit_opts: dict, lender_values: tuple, row: dict, pred: pd.DataFrame) -> None:
    """Widen a borrowed fit's interval (in place) by how far apart the lending families put its prediction
    (:func:`~scalinglab.fit._borrow.widen_by_lenders`): the cell refitted with each lender's own values.
    ``row`` gains ``lender_sd`` (median over the targets) and its scores are recomputed."""
    logs = []
    for v in lender_values:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                g = fit_law(
                    c.fit_rows,
                    c.law,
                    x=c.x,
                    y=c.y,
                    weights="_bt_weight" if c.weighting == "run" else None,
                    seed=c.seed,
                    **{**fit_opts, "fixed": {**dict(fit_opts.get("fixed") or {}), **v}},
                )
                logs.append(np.log(np.asarray(g.predict(c.target_rows, warn=False), dtype=float)))
        except ScalingLabError:
            continue  # a lender whose values this family cannot be fitted with adds no spread
    if len(logs) < 2:  # one family's values: how far families disagree is unknown, and the interval cannot say
        row["lender_sd"] = float("nan")
        row["lender_note"] = f"{len(logs)} lending family: the interval does not carry how far families disagree"
        return
    y_hat = pred["y_hat"].to_numpy(dtype=float)
    lower, upper, sd = widen_by_lenders(y_hat, pred["lower"], pred["upper"], np.vstack(logs), c.interval)
    pred["lower"], pred["upper"] = lower, upper
    row.update(score(pred["y"].to_numpy(dtype=float), y_hat, lower, upper))
    row["lender_sd"] = float(np.nanmedian(sd))


def _errors(f, target_rows: pd.DataFrame, y: str, pred: pd.DataFrame) -> dict:
    """Held-out log errors of this cell (targets and its own nested hold-outs), with distances."""
    from scipy.special import ndtri

    X = {sym: target_rows[col].to_numpy(dtype=float) for sym, col in f.columns.items()}
    d = input_decades(f.data[f.data["_weight"] > 0] if "_weight" in f.data else f.data, f.columns, X)
    with np.errstate(all="ignore"):
        e = np.log(pred["y"].to_numpy(dtype=float)) - np.log(pred["y_hat"].to_numpy(dtype=float))
        z = float(ndtri(0.95))
        b = np.log(pred["upper"].to_numpy(dtype=float) / pred["lower"].to_numpy(dtype=float)) / (2 * z)
    b = np.where(np.isfinite(b), b, f.rmse_log)
    ext = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ext = extrapolation_error(f)
    except ScalingLabError:
        ext = None
    return {
        "targets": pd.DataFrame({"decades": d, "log_error": e, "base_sd": b}),
        "nested": None if ext is None else ext.points,
    }


def _failed_cell(c: _Cell, error: str):
    yt = c.target_rows[c.y].to_numpy(dtype=float)
    row: dict[str, Any] = {
        "fit_runs": int(c.fit_rows["run"].nunique()),
        "fit_sizes": int(c.fit_rows["params"].nunique()),
        "fit_points": len(c.fit_rows),
        "targets": len(c.target_rows),
        "fit_max_params": float(c.fit_rows["params"].max()),
        "target_params": float(c.target_rows["params"].max()),
    }
    row.update({k: float("nan") for k in _SCORE_COLS})
    row.update({"interval_method": None, "converged": False, "error": error})
    row.update({f"baseline_{k}": v for k, v in score(yt, np.full_like(yt, c.base)).items() if k != "coverage"})
    row["beats_baseline"] = False
    keep_cols = [col for col in ("run", "params", "tokens", "flops") if col in c.target_rows]
    pred = c.target_rows[keep_cols].reset_index(drop=True).copy()
    pred["y"], pred["baseline"] = yt, c.base
    pred["y_hat"] = pred["lower"] = pred["upper"] = np.nan
    return row, pred, None


def _one(
    lw: Law,
    fit_rows: pd.DataFrame,
    target_rows: pd.DataFrame,
    y: str,
    x,
    weighting: str,
    interval,
    method: str,
    n_resamples: int,
    fit_opts: dict,
    seed: int,
    base: float,
):
    yt = target_rows[y].to_numpy(dtype=float)
    n_runs = int(fit_rows["run"].nunique())
    row: dict[str, Any] = {
        "fit_runs": n_runs,
        "fit_sizes": int(fit_rows["params"].nunique()),
        "fit_points": len(fit_rows),
        "targets": len(target_rows),
        "fit_max_params": float(fit_rows["params"].max()),
        "target_params": float(target_rows["params"].max()),
    }
    base_scores = score(yt, np.full_like(yt, base))
    keep_cols = [c for c in ("run", "params", "tokens", "flops") if c in target_rows]
    pred = target_rows[keep_cols].reset_index(drop=True).copy()
    pred["y"] = yt
    pred["baseline"] = base
    f = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = fit_law(
                fit_rows, lw, x=x, y=y, weights="_bt_weight" if weighting == "run" else None, seed=seed, **fit_opts
            )
            y_hat = np.asarray(f.predict(target_rows, warn=False), dtype=float)
            lower = upper = np.full_like(y_hat, np.nan)
            used = None
            if interval is not None:
                used = (
                    resolve_method("auto", f, "parameters")
                    if method == "base"
                    else resolve_method(method, f, "prediction")
                )
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
