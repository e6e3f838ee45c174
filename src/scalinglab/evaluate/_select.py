"""Choose a law by how well it extrapolates *within* the data (an internal backtest)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._validation import check_fraction
from scalinglab.errors import DataError, InvalidParameterError, ScalingLabError
from scalinglab.evaluate._metrics import rmse_log
from scalinglab.laws import ONE_CURVE_CANDIDATES, Law, get_law

__all__ = ["select_law", "Selection", "MedianFit", "DEFAULT_CANDIDATES", "COMBINE"]

#: Laws tried by :func:`select_law` for one-input curves.
DEFAULT_CANDIDATES = ONE_CURVE_CANDIDATES
#: How :func:`select_law` turns the candidates into one prediction: the validation winner, or the
#: median of the candidates that can level off (more than two parameters: not a pure power law).
COMBINE = ("best", "median")


@dataclass(frozen=True)
class MedianFit:
    """Median of several fits' predictions at each point (a one-curve ensemble).

    Each member is a law fitted to the same data; the prediction is the pointwise
    median of the members' predictions, an interval the pointwise median of their
    bounds (widened to contain the estimate).  The median of laws with different
    asymptotics hedges the choice of law when the data cannot decide it
    (Alabdulmohsin et al. 2022, arXiv:2209.06640, compare M1-M4 on the same curves).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglab.fit import fit
    >>> x = np.geomspace(1e6, 1e10, 20)
    >>> curve = pd.DataFrame({"params": x, "loss": 1.5 + 30 * x ** -0.25})
    >>> m = MedianFit({k: fit(curve, k) for k in ("M2", "power_floor", "M4")})
    >>> round(float(m.predict(params=1e11, warn=False)), 3)
    1.553
    """

    fits: dict

    def __post_init__(self) -> None:
        if not self.fits:
            raise InvalidParameterError("MedianFit: give at least one fit")

    @property
    def law_names(self) -> tuple[str, ...]:
        return tuple(self.fits)

    @property
    def _first(self):
        return next(iter(self.fits.values()))

    @property
    def columns(self) -> dict:
        return self._first.columns

    @property
    def data(self) -> pd.DataFrame:
        return self._first.data

    @property
    def target(self) -> str:
        return self._first.target

    @property
    def rmse_log(self) -> float:
        """Largest RMS log residual among the members."""
        return float(max(f.rmse_log for f in self.fits.values()))

    def members(self, data=None, **inputs: Any) -> pd.DataFrame:
        """Each member's prediction, one column per law."""
        return pd.DataFrame(
            {
                k: np.atleast_1d(np.asarray(f.predict(data, warn=False, **inputs), dtype=float))
                for k, f in self.fits.items()
            }
        )

    def predict(
        self,
        data=None,
        *,
        interval: float | None = None,
        kind: str = "mean",
        method: str = "delta",
        warn: bool = True,
        **inputs: Any,
    ):
        """Pointwise median of the members' predictions (and of their interval bounds)."""
        first = self._first
        if warn:
            first.predict(data, warn=True, **inputs)  # the extrapolation warning, once
        est = np.median(self.members(data, **inputs).to_numpy(), axis=1)
        if interval is None:
            return est.reshape(np.shape(first.predict(data, warn=False, **inputs)))
        ivs = [
            f.predict(data, interval=interval, kind=kind, method=method, warn=False, **inputs)
            for f in self.fits.values()
        ]
        lo = np.minimum(np.median(np.vstack([iv["lower"].to_numpy(dtype=float) for iv in ivs]), axis=0), est)
        hi = np.maximum(np.median(np.vstack([iv["upper"].to_numpy(dtype=float) for iv in ivs]), axis=0), est)
        return pd.DataFrame(
            {
                "estimate": est,
                "lower": lo,
                "upper": hi,
                "level": interval,
                "kind": kind,
                "method": f"median of {method}",
            }
        )


@dataclass(frozen=True)
class Selection:
    """Result of :func:`select_law`: the chosen law, its refit on all data, the validation table."""

    law: str
    fit: Any = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    validation_fraction: float = 0.3
    #: the held-out rows (input column, ``y``, ``decades`` beyond the fitted part) and one
    #: column of predictions per candidate that could be fitted
    validation: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def holdout(self) -> float:
        """Deprecated name of :attr:`validation_fraction`."""
        warnings.warn(
            "Selection.holdout is deprecated; use Selection.validation_fraction", DeprecationWarning, stacklevel=2
        )
        return self.validation_fraction

    def summary(self) -> str:
        """The chosen law and each candidate's validation RMSE of log-loss."""
        lines = [
            f"selected '{self.law}' by RMSE of log-loss on the last {self.validation_fraction:.0%} of the range "
            f"of '{self.scores.attrs.get('column', 'x')}' (fitted on the rest)"
        ]
        for law, r in self.scores.iterrows():
            err = f"  ({r['error']})" if isinstance(r["error"], str) else ""
            lines.append(f"  {law:<10} {r['rmse_log']:.5f}{err}")
        return "\n".join(lines)

    __str__ = summary


def select_law(
    data,
    laws: Sequence[str | Law] = DEFAULT_CANDIDATES,
    *,
    x: str | Mapping[str, str] | None = None,
    y: str = "loss",
    validation_fraction: float = 0.3,
    fit_options: Mapping[str, Any] | None = None,
    combine: str = "best",
    **deprecated: Any,
) -> Selection:
    """Pick the law that best extrapolates the data's own largest inputs, then refit it on everything.

    The rows whose first input (in log scale) lies in the top ``validation_fraction``
    share of its range are held out; each candidate is fitted on the rest and scored by RMSE of
    log-loss on them.  The winner is refitted on all rows.  This is the validation
    a user would run by hand (extrapolation, not interpolation, error decides), as
    recommended by Alabdulmohsin et al. 2022 (arXiv:2209.06640, sec. 3) for choosing
    among M1-M4.

    Parameters
    ----------
    data : RunsTable, DataFrame or path
    laws : sequence of law names or Law
    x : str or mapping, optional
        Input columns, as in :func:`scalinglab.fit`.
    y : str
    validation_fraction : float
        Share of the (log) input range held out for validation.  Formerly ``holdout``
        (deprecated: in :func:`~scalinglab.evaluate.backtest` ``holdout`` names the
        held-out models of a :class:`~scalinglab.evaluate.Policy`).
    fit_options : mapping, optional
        Extra arguments for :func:`scalinglab.fit`.
    combine : {"best", "median"}
        ``"best"``: the validation winner, refitted on all rows.  ``"median"``: every
        candidate with a floor (all but a pure power law) that could be fitted, refitted on
        all rows, combined by the pointwise median of their predictions (:class:`MedianFit`;
        ``law`` reads ``"median(M2,M3,...)"``; ``scores`` gains a ``median`` row with the
        same validation).

    Returns
    -------
    Selection

    Raises
    ------
    DataError
        If fewer than 2 points fall in either part, or every candidate failed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> x = np.geomspace(1e6, 1e10, 20)
    >>> curve = pd.DataFrame({"params": x, "loss": 1.5 + 30 * x ** -0.25})
    >>> sel = select_law(curve, ["power_law", "power_floor"])
    >>> sel.law, sel.validation_fraction
    ('power_floor', 0.3)
    """
    from scalinglab.data import read_runs
    from scalinglab.fit import fit as fit_law
    from scalinglab.fit._fit import resolve_columns

    validation_fraction = _deprecated_holdout(deprecated, validation_fraction)
    check_fraction(validation_fraction, "validation_fraction", "select_law")
    if combine not in COMBINE:
        raise InvalidParameterError(
            f"select_law(): combine must be one of {list(COMBINE)}; got {combine!r}", hint='combine="best"'
        )
    if not laws:
        raise InvalidParameterError("select_law(): give at least one candidate law")
    frame = read_runs(data, required=()).frame
    opts = dict(fit_options or {})
    rows, first_col, held = [], None, None
    for cand in laws:
        lw = get_law(cand)
        col = next(iter(resolve_columns(lw, x).values()))
        first_col = first_col or col
        if col not in frame:
            rows.append({"law": lw.name, "rmse_log": np.inf, "error": f"no column '{col}'"})
            continue
        v = np.log(frame[col].to_numpy(dtype=float))
        cut = v.max() - validation_fraction * (v.max() - v.min())
        train, valid = frame[v < cut], frame[v >= cut]
        if len(valid) < 1 or len(train) < 2:
            raise DataError(
                f"select_law(): holding out the top {validation_fraction:.0%} of '{col}' leaves "
                f"{len(train)} fitting and {len(valid)} validation rows",
                kind="bad-policy",
                hint="use a smaller validation_fraction or more data",
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = fit_law(train, lw, x=x, y=y, **opts)
                pred = f.predict(valid, warn=False)
            if held is None and col == first_col:
                held = pd.DataFrame(
                    {col: valid[col].to_numpy(dtype=float), y: valid[y].to_numpy(dtype=float)}, index=valid.index
                )
                held["decades"] = np.log10(held[col] / train[col].max())
            if held is not None and col == first_col:
                held[lw.name] = np.asarray(pred, dtype=float)
            rows.append({"law": lw.name, "rmse_log": rmse_log(valid[y].to_numpy(dtype=float), pred), "error": None})
        except ScalingLabError as exc:
            rows.append({"law": lw.name, "rmse_log": np.inf, "error": str(exc).splitlines()[0]})
    scores = pd.DataFrame(rows).set_index("law")
    scores.attrs["column"] = first_col
    if combine == "median":
        return _median_selection(frame, laws, scores, held, x, y, opts, validation_fraction)
    order = scores["rmse_log"].replace(np.nan, np.inf).sort_values(kind="stable").index
    for name in order:
        if not np.isfinite(scores.loc[name, "rmse_log"]):
            break
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                final = fit_law(frame, get_law(name), x=x, y=y, **opts)
            return Selection(
                law=name, fit=final, scores=scores, validation_fraction=validation_fraction, validation=held
            )
        except ScalingLabError as exc:
            scores.loc[name, "error"] = f"refit failed: {str(exc).splitlines()[0]}"
    raise DataError(
        "select_law(): every candidate law failed",
        kind="no-law",
        hint="; ".join(f"{k}: {e}" for k, e in scores["error"].items() if e),
    )


def _has_floor(lw: Law) -> bool:
    """Whether the one-curve law can level off (an irreducible term or a saturation): a two-parameter law
    (scale and exponent, a pure power law) cannot."""
    return len(lw.params) > 2


def _median_selection(frame, laws, scores, held, x, y, opts, validation_fraction) -> Selection:
    members = [get_law(c) for c in laws]
    members = [lw for lw in members if _has_floor(lw)] or members
    fits = {}
    for lw in members:
        if not np.isfinite(scores.loc[lw.name, "rmse_log"]):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fits[lw.name] = fit_law_(frame, lw, x=x, y=y, **opts)
        except ScalingLabError as exc:
            scores.loc[lw.name, "error"] = f"refit failed: {str(exc).splitlines()[0]}"
    if not fits:
        raise DataError(
            "select_law(): every candidate law failed",
            kind="no-law",
            hint="; ".join(f"{k}: {e}" for k, e in scores["error"].items() if e),
        )
    name = "median(" + ",".join(fits) + ")"
    cols = [k for k in fits if held is not None and k in held]
    v = rmse_log(held[y].to_numpy(dtype=float), np.median(held[cols].to_numpy(dtype=float), axis=1)) if cols else np.nan
    scores = pd.concat(
        [scores, pd.DataFrame({"rmse_log": [v], "error": [None]}, index=pd.Index(["median"], name="law"))]
    )
    scores.attrs["column"] = held.columns[0] if held is not None else None
    if held is not None and cols:
        held = held.assign(median=np.median(held[cols].to_numpy(dtype=float), axis=1))
    return Selection(
        law=name, fit=MedianFit(fits), scores=scores, validation_fraction=validation_fraction, validation=held
    )


def fit_law_(frame, lw, **kw):
    from scalinglab.fit import fit as fit_law

    return fit_law(frame, lw, **kw)


def _deprecated_holdout(deprecated: dict, validation_fraction: float) -> float:
    """``holdout=`` (a share of the input range) is the former name of ``validation_fraction=``."""
    unknown = set(deprecated) - {"holdout"}
    if unknown:
        raise InvalidParameterError(
            f"select_law(): unexpected argument(s) {sorted(unknown)}", hint="see help(scalinglab.select_law)"
        )
    if "holdout" not in deprecated:
        return validation_fraction
    warnings.warn("select_law(): 'holdout' is deprecated; use validation_fraction=", DeprecationWarning, stacklevel=3)
    return deprecated["holdout"]
