"""Choose a law by how well it extrapolates *within* the data (an internal backtest)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from scalinglab._validation import check_fraction
from scalinglab.errors import DataError, InvalidParameterError, ScalingLabError
from scalinglab.evaluate._metrics import rmse_log
from scalinglab.laws import Law, get_law

__all__ = ["select_law", "Selection", "DEFAULT_CANDIDATES"]

#: Laws tried by :func:`select_law` for one-input curves.
DEFAULT_CANDIDATES = ("M1", "M2", "M3", "M4", "bnsl")


@dataclass(frozen=True)
class Selection:
    """Result of :func:`select_law`: the chosen law, its refit on all data, the validation table."""

    law: str
    fit: Any = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    holdout: float = 0.3

    def summary(self) -> str:
        lines = [f"selected '{self.law}' by RMSE of log-loss on the last {self.holdout:.0%} of the range "
                 f"of '{self.scores.attrs.get('column', 'x')}' (fitted on the rest)"]
        for law, r in self.scores.iterrows():
            err = f"  ({r['error']})" if isinstance(r["error"], str) else ""
            lines.append(f"  {law:<10} {r['rmse_log']:.5f}{err}")
        return "\n".join(lines)

    __str__ = summary


def select_law(data, laws: Sequence[str | Law] = DEFAULT_CANDIDATES, *, x: str | Mapping[str, str] | None = None,
               y: str = "loss", holdout: float = 0.3, fit_options: Mapping[str, Any] | None = None) -> Selection:
    """Pick the law that best extrapolates the data's own largest inputs, then refit it on everything.

    The rows whose first input (in log scale) lies in the top ``holdout`` share of its
    range are held out; each candidate is fitted on the rest and scored by RMSE of
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
    holdout : float
        Share of the (log) input range held out for validation.

    Returns
    -------
    Selection

    Raises
    ------
    DataError
        If fewer than 2 points fall in either part, or every candidate failed.
    """
    from scalinglab.data import read_runs
    from scalinglab.fit import fit as fit_law
    from scalinglab.fit._fit import resolve_columns

    check_fraction(holdout, "holdout", "select_law")
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
        cut = v.max() - holdout * (v.max() - v.min())
        train, valid = frame[v < cut], frame[v >= cut]
        if len(valid) < 1 or len(train) < 2:
            raise DataError(f"select_law(): holding out the top {holdout:.0%} of '{col}' leaves {len(train)} "
                            f"fitting and {len(valid)} validation rows", kind="bad-policy",
                            hint="use a smaller holdout or more data")
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
            return Selection(law=name, fit=final, scores=scores, holdout=holdout)
        except ScalingLabError as exc:
            scores.loc[name, "error"] = f"refit failed: {str(exc).splitlines()[0]}"
    raise DataError("select_law(): every candidate law failed", kind="no-law",
                    hint="; ".join(f"{k}: {e}" for k, e in scores["error"].items() if e))
