"""The law's own extrapolation error, measured by nested backtests on the fitted runs.

Parameter uncertainty (delta method, bootstrap) assumes the law is right.  When
it is only approximately right, predictions drift as they move away from the
data, and intervals built from parameter uncertainty alone under-cover (on the
Hitchhiker benchmark, bootstrap "new run" intervals held 74% of targets averaged
over groups, 52% pooled, at a nominal 90%).  This module measures that drift on the user's own runs: each of
the largest fitted model sizes is held out in turn, the law is refitted on the
smaller sizes with the same options, and the log error on the held-out sizes is
recorded against the decades extrapolated d.  Modelling

    E[e^2] = s^2 + sigma_ext^2 d^2,   sigma_ext^2 = max(sum_i (e_i^2 - s^2), 0) / sum_i d_i^2,

pooled over the held-out points of nested fits that hold out the 1, 2, 3
largest sizes (s = the fit's RMS log residual: run scatter, already part of a
"new run" interval).  The estimate
widens a prediction at distance d (decades beyond the fitted range of the size
axis) by an independent log-normal term of standard deviation sigma_ext * d.
Inside the fitted range (d = 0) nothing is added.  This is the idea of the
Hitchhiker's Guide (Choshen et al. 2024) -- judge a law by how it extrapolates
on the smaller models -- turned into an interval.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalinglab.fit._engine import refit

__all__ = [
    "ExtrapolationError",
    "extrapolation_error",
    "size_axis",
    "input_decades",
    "ExtrapolationPrior",
    "CalibratedSigma",
    "calibrated_sigma",
    "widen",
    "OWN_STRENGTH",
    "MIN_PRIOR_GROUPS",
    "PRIOR_MODES",
    "own_sigma",
]


@dataclass(frozen=True)
class ExtrapolationError:
    """Measured extrapolation error of a fit's law on its own data.

    Attributes
    ----------
    axis : str
        Input symbol along which distance is measured (model size when the law has one).
    column : str
        Runs-table column of that input.
    sigma_per_decade : float
        Standard deviation of the log error per decade of extrapolation, beyond run scatter.
    holdouts : DataFrame
        One row per nested fit: ``held_out_sizes``, ``train_max_size``, ``max_decades``,
        ``rms_log_error``, ``n_points``.
    points : DataFrame, optional
        One row per held-out point: ``decades`` (beyond the nested fit's range, every
        input in quadrature: :func:`input_decades`), ``log_error`` and ``base_sd``
        (the nested fit's RMS log residual) -- the raw material of
        :class:`ExtrapolationPrior` and :func:`calibrated_sigma`.
    """

    axis: str
    column: str
    sigma_per_decade: float
    holdouts: pd.DataFrame
    points: pd.DataFrame | None = None

    @property
    def n_holdouts(self) -> int:
        return len(self.holdouts)

    def sd_at(self, decades: np.ndarray) -> np.ndarray:
        """Extra log-scale standard deviation at ``decades`` beyond the fitted range."""
        return self.sigma_per_decade * np.maximum(np.asarray(decades, dtype=float), 0.0)

    def to_dict(self) -> dict:
        return {
            "axis": self.axis,
            "column": self.column,
            "sigma_per_decade": self.sigma_per_decade,
            "holdouts": self.holdouts.to_dict(orient="records"),
        }


#: Sizes closer than this ratio are one model size (digitised or rounded counts).
SAME_SIZE_RATIO = 1.05
#: Hold-outs nearer than this to the rest (decades) say nothing about drift with distance.
MIN_DECADES = 0.05


def _size_groups(size: np.ndarray) -> np.ndarray:
    """Group labels (0 = smallest) merging sizes within SAME_SIZE_RATIO of their neighbour."""
    order = np.argsort(size)
    jumps = np.concatenate([[0], np.diff(np.log(size[order])) > np.log(SAME_SIZE_RATIO)])
    labels = np.empty(size.size, dtype=int)
    labels[order] = np.cumsum(jumps)
    return labels


def size_axis(fit) -> str:
    """The input symbol that plays the role of scale: the one fed by ``params``, else by
    ``flops``, else the first input."""
    for preferred in ("params", "flops", "tokens"):
        for sym, col in fit.columns.items():
            if col == preferred:
                return sym
    return next(iter(fit.columns))


def extrapolation_error(fit, *, max_holdouts: int = 3) -> ExtrapolationError | None:
    """Nested backtests on ``fit``'s data; ``None`` when too few sizes remain to refit.

    Each hold-out keeps only the sizes strictly smaller than the held-out one and
    refits with the fit's own options (loss, delta, space, fixed parameters, bounds):
    :func:`~scalinglab.fit._engine.refit`.
    """
    axis = size_axis(fit)
    column = fit.columns[axis]
    data = fit.data
    if "_weight" in data:
        data = data[data["_weight"] > 0].drop(columns="_weight")
    size = data[column].to_numpy(dtype=float)
    group = _size_groups(size)
    rows, errors, distances, point_rows = [], [], [], []
    for k in range(1, max_holdouts + 1):
        cut = group.max() - k  # hold out the k largest sizes together
        train, test = data[group <= cut], data[group > cut]
        if cut < 2 or len(train) <= fit.n_params + 1:
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                nested = refit(fit, train)
            except Exception:  # a nested refit that fails says nothing about the error scale
                continue
        X = {sym: test[col].to_numpy(dtype=float) for sym, col in fit.columns.items()}
        with np.errstate(all="ignore"):
            err = np.log(test[fit.target].to_numpy(dtype=float)) - np.log(fit.law.evaluate(X, nested.params))
        d = np.log10(test[column].to_numpy(dtype=float) / train[column].max())
        keep = np.isfinite(err) & (d >= MIN_DECADES)
        if not keep.any():
            continue
        errors.append(err[keep])
        distances.append(d[keep])
        Xtrain = {s_: train[c_].to_numpy(dtype=float) for s_, c_ in fit.columns.items()}
        with np.errstate(all="ignore"):
            r_train = np.log(train[fit.target].to_numpy(dtype=float)) - np.log(fit.law.evaluate(Xtrain, nested.params))
        nested_rmse = float(np.sqrt(np.nanmean(r_train**2)))
        point_rows.append(
            pd.DataFrame(
                {
                    "decades": input_decades(
                        train, fit.columns, {s_: test[c_].to_numpy(dtype=float) for s_, c_ in fit.columns.items()}
                    )[keep],
                    "log_error": err[keep],
                    "base_sd": nested_rmse,
                }
            )
        )
        rows.append(
            {
                "held_out_sizes": int(k),
                "train_max_size": float(train[column].max()),
                "max_decades": float(d[keep].max()),
                "rms_log_error": float(np.sqrt(np.mean(err[keep] ** 2))),
                "n_points": int(keep.sum()),
            }
        )
    if not rows:
        return None
    table = pd.DataFrame(rows)
    e, d = np.concatenate(errors), np.concatenate(distances)
    # Held-out error = run scatter (already in a "new run" interval) + drift growing with distance:
    # E[e^2] = s^2 + sigma^2 d^2; pooled moment estimate of sigma^2, floored at 0.
    scatter = fit.rmse_log**2
    sigma = float(np.sqrt(max(np.sum(e**2 - scatter), 0.0) / np.sum(d**2)))
    points = pd.concat(point_rows, ignore_index=True) if point_rows else None
    return ExtrapolationError(axis=axis, column=column, sigma_per_decade=sigma, holdouts=table, points=points)


# ------------------------------------------------------------------------------------------------------
# Borrowing the error scale from other groups: a prior learned from their backtests


#: Own nested hold-out points count like this many prior points (the prior's weight is
#: ``OWN_STRENGTH / (n_own + OWN_STRENGTH)``).
OWN_STRENGTH = 10.0
#: Fewer other groups than this, and fewer own hold-out points than :data:`MIN_OWN_POINTS`:
#: too little information to calibrate (said so in the output).
MIN_PRIOR_GROUPS = 2
MIN_OWN_POINTS = 3
#: Largest extrapolation error per decade the calibration will report (log units).
MAX_SIGMA = 3.0


def input_decades(train: pd.DataFrame, columns: dict, X: dict) -> np.ndarray:
    """Decades each point of ``X`` lies beyond the range of ``train``, every input in quadrature.

    ``d = sqrt(sum_k max(0, log10(x_k / max_k), log10(min_k / x_k))^2)`` over the law's
    inputs k (model size, tokens, ...), so extrapolating to a larger model *and*
    further in training both count.

    Examples
    --------
    >>> train = pd.DataFrame({"params": [1e7, 1e8], "tokens": [1e9, 1e10]})
    >>> input_decades(train, {"N": "params", "D": "tokens"}, {"N": np.array([1e9]), "D": np.array([1e11])}).round(3)
    array([1.414])
    """
    total = None
    for sym, col in columns.items():
        fitted = train[col].to_numpy(dtype=float)
        x = np.asarray(X[sym], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.maximum(0.0, np.maximum(np.log10(x / fitted.max()), np.log10(fitted.min() / x)))
        total = d**2 if total is None else total + d**2
    return np.sqrt(total) if total is not None else np.zeros(0)


@dataclass(frozen=True)
class ExtrapolationPrior:
    """Extrapolation errors seen on other groups' backtests: the prior of :func:`calibrated_sigma`.

    Attributes
    ----------
    points : DataFrame
        One row per held-out point of another group: ``group``, ``decades``,
        ``log_error`` (log y - log yhat) and ``base_sd`` (log-scale sd of that
        point's uncalibrated interval: run scatter and parameter uncertainty).
    """

    points: pd.DataFrame

    def __post_init__(self) -> None:
        missing = {"group", "decades", "log_error", "base_sd"} - set(self.points.columns)
        if missing:
            raise ValueError(f"ExtrapolationPrior: points need columns {sorted(missing)}")

    @property
    def groups(self) -> list[str]:
        return [str(g) for g in pd.unique(self.points["group"])]

    def without(self, group: str | None) -> ExtrapolationPrior:
        """The prior with one group left out (the target's own group)."""
        if group is None:
            return self
        return ExtrapolationPrior(self.points[self.points["group"].astype(str) != str(group)])

    def to_dict(self) -> dict:
        return {"groups": self.groups, "n_points": int(len(self.points))}


@dataclass(frozen=True)
class CalibratedSigma:
    """The extrapolation error per decade used to widen one interval, and where it came from."""

    sigma_per_decade: float | None
    n_own: int
    prior_groups: int
    note: str
    #: multiplier on the uncalibrated interval's log half-widths (``mode="relative"``; 1 otherwise)
    base_scale: float = 1.0

    @property
    def thin(self) -> bool:
        """True when too little information was available (the interval is not calibrated)."""
        return self.sigma_per_decade is None


def _weighted_cover_sigma(e, d, b, w, level: float) -> float:
    """Smallest sigma with weighted share of ``|e| <= z sqrt(b^2 + sigma^2 d^2)`` >= level (bisection)."""
    from scipy.special import ndtri

    z = float(ndtri(0.5 + level / 2))
    w = w / w.sum()

    def share(sig):
        return float(np.sum(w * (np.abs(e) <= z * np.sqrt(b**2 + (sig * d) ** 2))))

    if share(0.0) >= level:
        return 0.0
    if share(MAX_SIGMA) < level:
        return MAX_SIGMA
    lo, hi = 0.0, MAX_SIGMA
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if share(mid) >= level:
            hi = mid
        else:
            lo = mid
    return hi


#: How the other groups' held-out errors make the prior.  ``"pooled"`` (default): one weighted quantile
#: over the own points and every other group's points, each group weighted equally.  ``"typical"``: the
#: own sigma shrunk towards the median over other groups of each group's own sigma.  ``"relative"``: the
#: other groups teach how far their targets fell outside *their own* nested-hold-out error (a
#: scale-free multiplier) applied to this group's own error (``"typical"`` without own hold-outs).
#: On the Hitchhiker cells (issue #11) "pooled" keeps 4 of 6 dev groups in 80-97% coverage, the
#: others 3 with narrower intervals; on Revisiting all three reach 87-90% (bench/README.md).
PRIOR_MODES = ("pooled", "typical", "relative")


def own_sigma(own: pd.DataFrame | None) -> float:
    """Moment estimate of a group's own extrapolation error per decade, ``sqrt(mean e^2 / mean d^2)``
    over its nested hold-out points (NaN with fewer than :data:`MIN_OWN_POINTS`).

    Examples
    --------
    >>> round(own_sigma(pd.DataFrame({"decades": [0.5, 1.0, 1.0], "log_error": [0.05, -0.1, 0.1]})), 6)
    0.1
    """
    if own is None or len(own) < MIN_OWN_POINTS:
        return float("nan")
    e, d = own["log_error"].to_numpy(dtype=float), own["decades"].to_numpy(dtype=float)
    ok = np.isfinite(e) & np.isfinite(d)
    if ok.sum() < MIN_OWN_POINTS or np.mean(d[ok] ** 2) <= 0:
        return float("nan")
    return float(np.sqrt(np.mean(e[ok] ** 2) / np.mean(d[ok] ** 2)))


def _relative(own, n_own: int, prior, n_groups: int, level: float) -> CalibratedSigma | None:
    """``k`` = the level-quantile (each other group weighted equally) of the other groups' target errors in
    units of their own predicted sd ``sqrt(b^2 + own_sigma^2 d^2)``; this interval: ``k`` times the same sd
    built from its own hold-outs.  ``None`` when either side lacks what it needs."""
    from scipy.special import ndtri

    s_own = own_sigma(own)
    if not np.isfinite(s_own) or prior is None or "own_sigma" not in prior.points:
        return None
    pts = prior.points
    if "source" in pts:
        pts = pts[pts["source"] == "targets"]
    pts = pts[np.isfinite(pts["own_sigma"].to_numpy(dtype=float))]
    groups = pd.unique(pts["group"])
    if len(groups) < MIN_PRIOR_GROUPS:
        return None
    e, d, b, s = (pts[c].to_numpy(dtype=float) for c in ("log_error", "decades", "base_sd", "own_sigma"))
    u = np.abs(e) / np.sqrt(b**2 + (s * d) ** 2 + 1e-300)
    ok = np.isfinite(u)
    size = pts.groupby("group")["group"].transform("size").to_numpy(dtype=float)
    w = (1.0 / size)[ok]
    u = u[ok]
    order = np.argsort(u)
    cum = np.cumsum(w[order]) / w.sum()
    k = float(u[order][min(np.searchsorted(cum, level), u.size - 1)])
    z = float(ndtri(0.5 + level / 2))
    return CalibratedSigma(
        min(k / z * s_own, MAX_SIGMA),
        n_own,
        len(groups),
        f"calibrated on {n_own} own hold-out point(s), scaled by the misses of {len(groups)} other group(s) "
        f"relative to their own hold-outs (x{k / z:.2f})",
        base_scale=max(1.0, k / z),
    )


def _group_sigmas(prior: ExtrapolationPrior, level: float) -> np.ndarray:
    """Each prior group's own calibrating sigma (the smallest covering ``level`` of its points)."""
    out = []
    for _g, pts in prior.points.groupby("group"):
        e, d, b = (pts[c].to_numpy(dtype=float) for c in ("log_error", "decades", "base_sd"))
        ok = np.isfinite(e) & np.isfinite(d) & np.isfinite(b)
        if ok.sum() >= MIN_OWN_POINTS:
            out.append(_weighted_cover_sigma(e[ok], d[ok], b[ok], np.ones(int(ok.sum())), level))
    return np.asarray(out, dtype=float)


def calibrated_sigma(
    own: pd.DataFrame | None, prior: ExtrapolationPrior | None, level: float, *, mode: str = "pooled"
) -> CalibratedSigma:
    """Extrapolation error per decade from a group's own nested hold-outs and a prior from other groups.

    The error of a prediction ``d`` decades beyond the fitted range is modelled as
    normal in log space with sd ``sqrt(b^2 + sigma^2 d^2)`` (``b``: the uncalibrated
    interval's sd).  ``mode`` says how the other groups inform ``sigma``:

    * ``"relative"``: with ``s`` = the own moment estimate (:func:`own_sigma`),
      the other groups' *target* errors are put in units of their own predicted sd,
      ``u = |e| / sqrt(b^2 + s_g^2 d^2)`` (prior points need ``own_sigma`` and ``source``
      columns); ``k`` = their ``level`` quantile (each group weighted equally), and this
      interval is ``k sqrt(b^2 + s^2 d^2)`` (``sigma = k s / z``, ``base_scale = k / z``).
      Scale-free: a group whose own hold-outs err little gets a narrow interval.  Without
      own hold-outs it falls back to ``"typical"``.
    * ``"typical"``: the smallest sigma covering ``level`` of the own points, shrunk with
      weight ``n_own / (n_own + OWN_STRENGTH)`` towards the median over other groups of
      each group's covering sigma.
    * ``"pooled"`` (default): the smallest sigma covering a ``level`` share of
      the pooled points, each prior group weighted equally, the own points together
      ``n_own / (n_own + OWN_STRENGTH)``.

    With fewer than :data:`MIN_PRIOR_GROUPS` prior groups and fewer than
    :data:`MIN_OWN_POINTS` own points there is too little information:
    ``sigma_per_decade`` is ``None`` and ``note`` says so.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = rng.uniform(0.2, 1.0, 400)
    >>> pts = pd.DataFrame({"group": np.repeat(list("abcd"), 100), "decades": d,
    ...                     "log_error": rng.normal(0, 0.05 * d), "base_sd": 0.0})
    >>> round(calibrated_sigma(None, ExtrapolationPrior(pts), 0.9).sigma_per_decade, 2)
    0.05
    """
    if mode not in PRIOR_MODES:
        raise ValueError(f"calibrated_sigma(): mode must be one of {PRIOR_MODES}; got {mode!r}")
    own = own if own is not None and len(own) else None
    n_own = 0 if own is None else int(len(own))
    n_groups = 0 if prior is None else len(prior.groups)
    if mode == "relative":
        rel = _relative(own, n_own, prior, n_groups, level)
        if rel is not None:
            return rel
        mode = "typical"
    if mode == "typical":
        return _typical(own, n_own, prior, n_groups, level)
    if n_groups < MIN_PRIOR_GROUPS and n_own < MIN_OWN_POINTS:
        return CalibratedSigma(
            None,
            n_own,
            n_groups,
            f"too little information to calibrate ({n_own} own hold-out point(s), "
            f"{n_groups} other group(s)): the interval holds run scatter and parameter "
            "uncertainty only, not extrapolation error",
        )
    parts, weights = [], []
    lam = 1.0 if n_groups < MIN_PRIOR_GROUPS else (0.0 if n_own < MIN_OWN_POINTS else n_own / (n_own + OWN_STRENGTH))
    if lam > 0:
        parts.append(own)
        weights.append(np.full(n_own, lam / n_own))
    if lam < 1:
        pts = prior.points
        per_group = pts.groupby("group")["group"].transform("size").to_numpy(dtype=float)
        parts.append(pts)
        weights.append((1 - lam) / n_groups / per_group)
    allp = pd.concat([p[["decades", "log_error", "base_sd"]] for p in parts], ignore_index=True)
    w = np.concatenate(weights)
    e, d, b = (allp[c].to_numpy(dtype=float) for c in ("log_error", "decades", "base_sd"))
    ok = np.isfinite(e) & np.isfinite(d) & np.isfinite(b)
    sigma = _weighted_cover_sigma(e[ok], d[ok], b[ok], w[ok], level)
    src = []
    if lam > 0:
        src.append(f"{n_own} own hold-out point(s)")
    if lam < 1:
        src.append(f"{len(prior.points)} point(s) of {n_groups} other group(s)")
    return CalibratedSigma(sigma, n_own, n_groups, "calibrated on " + " and ".join(src))


def _typical(own, n_own: int, prior, n_groups: int, level: float) -> CalibratedSigma:
    """Shrink the group's own calibrating sigma towards the median of the other groups' sigmas."""
    sig = _group_sigmas(prior, level) if prior is not None and n_groups else np.zeros(0)
    has_prior = sig.size >= MIN_PRIOR_GROUPS
    has_own = n_own >= MIN_OWN_POINTS
    if not has_prior and not has_own:
        return CalibratedSigma(
            None,
            n_own,
            n_groups,
            f"too little information to calibrate ({n_own} own hold-out point(s), "
            f"{sig.size} other group(s) with enough points): the interval holds run scatter and parameter "
            "uncertainty only, not extrapolation error",
        )
    s_own = None
    if has_own:
        e, d, b = (own[c].to_numpy(dtype=float) for c in ("log_error", "decades", "base_sd"))
        ok = np.isfinite(e) & np.isfinite(d) & np.isfinite(b)
        s_own = _weighted_cover_sigma(e[ok], d[ok], b[ok], np.ones(int(ok.sum())), level) if ok.sum() else None
    s_prior = float(np.median(sig)) if has_prior else None
    if s_own is None:
        return CalibratedSigma(
            s_prior, n_own, n_groups, f"calibrated on the median of {sig.size} other group(s) (no own hold-outs)"
        )
    if s_prior is None:
        return CalibratedSigma(s_own, n_own, n_groups, f"calibrated on {n_own} own hold-out point(s)")
    lam = n_own / (n_own + OWN_STRENGTH)
    return CalibratedSigma(
        lam * s_own + (1 - lam) * s_prior,
        n_own,
        n_groups,
        f"calibrated on {n_own} own hold-out point(s) and the median of {sig.size} other group(s)",
    )


def widen(
    estimate: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    decades: np.ndarray,
    sigma: float,
    level: float,
    base_scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``[lower, upper]`` widened in log space by an independent term of sd ``sigma * decades``.

    Examples
    --------
    >>> lo, hi = widen(np.array([2.0]), np.array([2.0]), np.array([2.0]), np.array([1.0]), 0.1, 0.9)
    >>> round(float(np.log(hi[0] / 2.0)), 4)
    0.1645
    """
    from scipy.special import ndtri

    extra = float(ndtri(0.5 + level / 2)) * sigma * np.maximum(np.asarray(decades, dtype=float), 0.0)
    est = np.asarray(estimate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = base_scale * (np.log(est) - np.log(np.asarray(lower, dtype=float)))
        hi = base_scale * (np.log(np.asarray(upper, dtype=float)) - np.log(est))
    return est * np.exp(-np.sqrt(lo**2 + extra**2)), est * np.exp(np.sqrt(hi**2 + extra**2))
