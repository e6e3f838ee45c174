"""Numbers for people: the one formatter behind every table, legend and caption of the figures and report."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["fmt", "si"]


def fmt(v: Any, digits: int = 4) -> str:
    """``digits`` significant digits (``%g``: scientific notation for very large or small values).

    Integers below 10^7 keep every digit with thousands separators; booleans read
    ``yes``/``no``; ``None``, NaN and infinities read ``–``; anything else is ``str(v)``.

    Examples
    --------
    >>> fmt(0.347312), fmt(1.4e12), fmt(120), fmt(float("nan"))
    ('0.3473', '1.4e+12', '120', '–')
    >>> fmt(1234567), fmt(True), fmt("chinchilla")
    ('1,234,567', 'yes', 'chinchilla')
    """
    if v is None:
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}" if abs(int(v)) < 10**7 else f"{float(v):.{digits}g}"
    if isinstance(v, (float, np.floating)):
        x = float(v)
        return f"{x:.{digits}g}" if math.isfinite(x) else "–"
    return str(v)


def si(v: float) -> str:
    """3 significant digits with a k/M/B/T suffix (model sizes and token counts in legends).

    Examples
    --------
    >>> si(1.24e6), si(4e9), si(2.5e13), si(512)
    ('1.24M', '4B', '25T', '512')
    """
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"
