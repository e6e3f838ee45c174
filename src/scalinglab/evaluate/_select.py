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

__all__ = ["select_law", "Selection", "DEFAULT_CANDIDATES"]

#: Laws tried by :func:`select_law` for one-input curves.
DEFAULT_CANDIDATES = ONE_CURVE_CANDIDATES


@dataclass(frozen=True)
class Selection:
    """Result of :func:`select_law`: the chosen law, its refit on all data, the validation table."""

    law: str
    fit: Any = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    validation_fraction: float = 0.3

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
    if not laws:
        raise InvalidParameterError("select_law(): give at least one candidate law")
    frame = read_runs(data, required=()).frame
    opts = dict(fit_options or {})
    rows, first_col = [], None
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
            rows.append({"law": lw.name, "rmse_log": rmse_log(valid[y].to_numpy(dtype=float), pred), "error": None})
        except ScalingLabError as exc:
            rows.append({"law": lw.name, "rmse_log": np.inf, "error": str(exc).splitlines()[0]})
    scores = pd.DataFrame(rows).set_index("law")
    scores.attrs["column"] = first_col
    order = scores["rmse_log"].replace(np.nan, np.inf).sort_values(kind="stable").index
    for name in order:
        if not np.isfinite(scores.loc[name, "rmse_log"]):
            break
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                final = fit_law(frame, get_law(name), x=x, y=y, **opts)
            return Selection(law=name, fit=final, scores=scores, validation_fraction=validation_fraction)
        except ScalingLabError as exc:
            scores.loc[name, "error"] = f"refit failed: {str(exc).splitlines()[0]}"
    raise DataError(
        "select_law(): every candidate law failed",
        kind="no-law",
        hint="; ".join(f"{k}: {e}" for k, e in scores["error"].items() if e),
    )


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
