"""Small helpers the analyses share for plain-JSON output and bootstrap intervals.

>>> json_value(float("nan")) is None, json_value(3), json_value("a")
(True, 3.0, 'a')
>>> quantile_interval([1.0, 2.0, 3.0, float("inf")], 0.5)
(1.5, 2.5)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["json_value", "records", "quantile_interval"]


def json_value(v):
    """A number as a JSON-safe float (None for NaN/inf), a numpy bool as bool; anything else unchanged."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.floating, np.integer)):
        v = float(v)
        return v if math.isfinite(v) else None
    return v


def records(frame: pd.DataFrame | None) -> list[dict]:
    """A table as a list of JSON-safe row dicts ([] for None)."""
    if frame is None:
        return []
    return [{str(k): json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def quantile_interval(x, level: float) -> tuple[float, float]:
    """The central ``level`` interval of the finite values of ``x`` (NaNs when none is finite)."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)
