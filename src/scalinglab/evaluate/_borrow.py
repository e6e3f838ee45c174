"""Borrowing across families: fix the parameters one model cannot identify from other families' fits.

Single-model transfer (Choshen et al. 2024, "A Hitchhiker's Guide to Scaling Law
Estimation", App. A): with one model of the target family the size term of a
law is a constant, so the parameters that set how loss changes with model size
(for ``E + A/N^alpha + B/D^beta``: ``A`` and ``alpha``) cannot be fitted.  They
are taken from fits of *other* families -- the median over those fits, in log
space for positive parameters -- and held fixed while the rest is fitted on the
one model's curve.  Which parameters are borrowed is read off the law itself
(:func:`size_coupled`): those that change the loss *difference* between two
model sizes at equal tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["size_coupled", "combine_params", "size_symbol"]


def size_symbol(law, columns: Mapping[str, str] | None = None) -> str | None:
    """The law input fed by model size (column ``params``), or ``None``."""
    cols = dict(columns or {}) or {s: c for s, c in law.inputs.items()}
    return next((s for s, c in cols.items() if c == "params"), None)


def size_coupled(
    law,
    params: Mapping[str, float],
    inputs: Mapping[str, np.ndarray],
    columns: Mapping[str, str] | None = None,
    *,
    ratio: float = 10.0,
) -> tuple[str, ...]:
    """Parameters that change ``f(ratio * N, ...) - f(N, ...)`` (the loss gap between two sizes).

    Evaluated by central differences at ``params`` over the points ``inputs``;
    a parameter counts when it moves the gap by more than 1e-6 of its size.

    Examples
    --------
    >>> from scalinglab.laws import get_law
    >>> law = get_law("chinchilla")
    >>> p = dict(E=1.8, A=400.0, alpha=0.34, B=410.0, beta=0.28)
    >>> size_coupled(law, p, {"N": np.array([1e8, 1e8]), "D": np.array([1e9, 2e9])})
    ('A', 'alpha')
    """
    sym = size_symbol(law, columns)
    if sym is None:
        return ()
    X1 = {k: np.asarray(v, dtype=float) for k, v in inputs.items()}
    X2 = {**X1, sym: X1[sym] * ratio}

    def gap(p):
        with np.errstate(all="ignore"):
            return np.asarray(law.evaluate(X2, p), dtype=float) - np.asarray(law.evaluate(X1, p), dtype=float)

    base = gap(params)
    scale = max(float(np.nanmax(np.abs(base))), 1e-12)
    out = []
    for name in law.params:
        v = float(params[name])
        h = 1e-4 * max(abs(v), 1e-8)
        moved = np.nanmax(np.abs(gap({**params, name: v + h}) - gap({**params, name: v - h}))) / 2
        if np.isfinite(moved) and moved > 1e-6 * scale:
            out.append(name)
    return tuple(out)


def combine_params(values: Sequence[Mapping[str, float]], names: Sequence[str]) -> dict[str, float]:
    """Median of each parameter over several fits (geometric median for positive ones).

    Examples
    --------
    >>> v = combine_params([{"A": 100.0, "alpha": 0.3}, {"A": 400.0, "alpha": 0.4}, {"A": 1600.0, "alpha": 0.5}],
    ...                    ["A", "alpha"])
    >>> {k: round(x, 6) for k, x in v.items()}
    {'A': 400.0, 'alpha': 0.4}
    """
    out = {}
    for name in names:
        v = np.array([float(p[name]) for p in values], dtype=float)
        v = v[np.isfinite(v)]
        if v.size == 0:
            continue
        out[name] = float(np.exp(np.median(np.log(v)))) if np.all(v > 0) else float(np.median(v))
    return out
