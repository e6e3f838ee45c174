"""Borrowing across families: fix the parameters one model cannot identify from other families' fits.

Single-model transfer (Choshen et al. 2024, "A Hitchhiker's Guide to Scaling Law
Estimation", App. A): with one model of the target family the size term of a
law is a constant, so the parameters that set how loss changes with model size
(for ``E + A/N^alpha + B/D^beta``: ``A`` and ``alpha``) cannot be fitted.  They
are taken from fits of *other* families -- the median over those fits of the
size term at the target's inputs and of the exponent (:func:`combine_pivoted`;
:func:`size_terms` gives the lenders' spread) -- and held fixed while the rest
is fitted on the one model's curve.  Which parameters are borrowed is read off
the law itself (:func:`size_coupled`): those that change the loss *difference*
between two model sizes at equal tokens.  Fits of several sizes borrow only when
their own data could not set the size term (:func:`undetermined_size_term`: one
size, or a size parameter at its bound).

Two safeguards make the borrowed values mean something:

* a source fit lends nothing when it could not determine its own parameters
  (:func:`lending_problem`: a parameter at a bound, not identified, a flat
  direction, too few sizes, no convergence) -- its size parameters then trade
  off against the stuck ones and say nothing about model size;
* ``scale="relative"`` (default) puts each source on the target family's loss
  scale first (:func:`rescaled`): families measured with other tokenizers or
  evaluation sets differ in loss by a factor, and so does every linear
  coefficient of their law.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from scalinglab._validation import check_options

__all__ = [
    "size_coupled",
    "combine_params",
    "combine_pivoted",
    "size_terms",
    "size_symbol",
    "lending_problem",
    "undetermined_size_term",
    "rescaled",
    "BORROW_SCALES",
    "BORROW_WHEN",
]

#: How a source fit's borrowed coefficients are put on the target's scale (see :func:`rescaled`).
BORROW_SCALES = ("relative", "absolute")

#: When a backtest cell borrows: always (single-model transfer), or only when its own fit could not
#: set the size term (one model size, or a size parameter at a bound; :func:`undetermined_size_term`).
BORROW_WHEN = ("always", "undetermined")

#: Fit diagnostics after which a fit lends no parameters (its size parameters are not its own).
_NOT_LENDING = (
    "not-converged",
    "at-bound",
    "not-identified",
    "singular-curvature",
    "few-distinct-values",
    "correlated-parameters",
)


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


def combine_pivoted(
    law, values: Sequence[Mapping[str, float]], names: Sequence[str], at: Mapping[str, float]
) -> dict[str, float]:
    """Median of several fits' parameters ``names``, each linear coefficient taken as its term's value at ``at``.

    Across fits of ``E + A/N^alpha + B/D^beta`` the coefficient and its exponent
    move together (``A`` from 7e2 to 5e5 while ``alpha`` goes from 0.36 to 0.63),
    so separate medians of ``A`` and ``alpha`` pair values no fit holds and a size
    term none of them predicts.  Here each linear coefficient ``c`` of ``names`` is
    replaced by its term at the point ``at`` (the target's inputs),
    ``t = c * phi_c(at)``, ``phi_c`` being what ``c`` multiplies (:func:`size_terms`); the medians of ``t``
    (geometric) and of the other parameters are taken, and ``c`` is read back from
    the median ``t`` at the median exponents.  Each value in ``values`` holds a
    fit's full parameter set.

    Examples
    --------
    >>> from scalinglab.laws import get_law
    >>> law = get_law("chinchilla")
    >>> fits = [dict(E=1.8, A=a, alpha=al, B=410.0, beta=0.28) for a, al in ((700, 0.36), (2000, 0.39), (5e5, 0.63))]
    >>> v = combine_pivoted(law, fits, ["A", "alpha"], {"N": 1e9, "D": 2e10})
    >>> round(v["alpha"], 2), round(v["A"] / 1e9 ** v["alpha"], 3)  # the middle fit's size term at N = 1e9
    (0.39, 0.618)
    """
    linear = [k for k in names if k in law.linear]
    out = combine_params(values, [k for k in names if k not in linear])
    middle = {**combine_params(values, list(law.params)), **out}
    for c, terms in size_terms(law, values, linear, at).items():
        t = combine_params([{c: v} for v in terms], [c]).get(c)
        phi = _basis(law, middle, c, at)
        if t is not None and np.isfinite(phi) and phi != 0:
            out[c] = t / phi
    return {k: out[k] for k in names if k in out}


def _basis(law, params: Mapping[str, float], c: str, at: Mapping[str, float]) -> float:
    """The term that the linear coefficient ``c`` multiplies, at the point ``at``.

    Taken as ``(f(c) - f(c=0)) / c`` at the fitted ``c``, where the term has its real size
    (with ``c = 1`` a term such as ``N^-2.4`` falls below the rounding of ``E``)."""
    X = {k: np.asarray([float(v)]) for k, v in at.items()}
    scale = float(params[c]) if np.isfinite(params[c]) and params[c] != 0 else 1.0
    with np.errstate(all="ignore"):
        full = float(np.asarray(law.evaluate(X, {**params, c: scale}), dtype=float)[0])
        zero = float(np.asarray(law.evaluate(X, {**params, c: 0.0}), dtype=float)[0])
    return (full - zero) / scale


def size_terms(
    law, values: Sequence[Mapping[str, float]], names: Sequence[str], at: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """Each fit's term ``c * phi_c(at)`` for every linear coefficient ``c`` among ``names``.

    How far apart several families' fits put the size term at the target's inputs:
    the spread of what single-model transfer borrows.

    Examples
    --------
    >>> from scalinglab.laws import get_law
    >>> fits = [dict(E=1.8, A=a, alpha=al, B=410.0, beta=0.28) for a, al in ((700, 0.36), (2000, 0.39))]
    >>> size_terms(get_law("chinchilla"), fits, ["A", "alpha"], {"N": 1e9, "D": 2e10})["A"].round(3)
    array([0.403, 0.618])
    """
    return {
        c: np.array([float(p[c]) * _basis(law, p, c, at) for p in values], dtype=float)
        for c in names
        if c in law.linear
    }


def lending_problem(fit) -> str | None:
    """Why ``fit`` cannot lend its parameters to another family (``None`` when it can).

    A fit with a parameter at a bound, a parameter it cannot identify, a flat
    direction, too few distinct sizes or no convergence has size parameters that
    compensate for the stuck ones (e.g. ``alpha`` at its upper bound 3 with
    ``A = 1e27``); borrowing them transfers that compensation, not a size effect.

    Examples
    --------
    >>> import pandas as pd, numpy as np
    >>> from scalinglab.fit import fit
    >>> N = np.repeat([1e7, 3e7, 1e8, 3e8], 4); D = 20 * N * np.tile([0.25, 0.5, 0.75, 1.0], 4)
    >>> runs = pd.DataFrame({"params": N, "tokens": D, "loss": 1.8 + 400 / N**0.34 + 410 / D**0.28})
    >>> lending_problem(fit(runs, "chinchilla")) is None
    True
    """
    bad = [d for d in fit.diagnostics if d.kind in _NOT_LENDING]
    if not bad:
        return None
    d = bad[0]
    what = f" ({', '.join(d.params)})" if d.params else ""
    return f"{d.kind}{what}"


def undetermined_size_term(fit, names: Sequence[str]) -> str | None:
    """Why ``fit`` could not set the size parameters ``names`` (``None``: its data set them).

    * **one model size**: the size term is a constant, and no value of ``A`` or
      ``alpha`` is preferred by the data (the prediction at another size is arbitrary);
    * **at a bound**: the size term of ``E + A/N^alpha + B/D^beta`` fitted on two or
      three sizes lies on a ridge, and the optimiser may follow it to its end
      (``alpha`` at its upper bound 3 with ``A = 1e25``): the bound, not the data,
      then sets the extrapolation to a larger model.

    With ``backtest(..., borrow_when="undetermined")`` such a cell is refitted with
    ``names`` borrowed from other families.  (A wider rule -- also any size parameter
    whose interval is unbounded, or two sizes -- was measured on the Hitchhiker
    track-B grid and made those cells' predictions worse: the free fits on those
    ridges extrapolated better than the borrowed values; ``bench/borrow_when.py``.)

    Examples
    --------
    >>> import pandas as pd, numpy as np
    >>> from scalinglab.fit import fit
    >>> N = np.repeat([1e7, 3e7, 1e8], 6); D = 20 * N * np.tile(np.linspace(0.2, 1, 6), 3)
    >>> runs = pd.DataFrame({"params": N, "tokens": D, "loss": 1.8 + 400 / N**0.34 + 410 / D**0.28})
    >>> undetermined_size_term(fit(runs, "chinchilla"), ["A", "alpha"]) is None
    True
    >>> undetermined_size_term(fit(runs, "chinchilla", bounds={"alpha": (0.1, 0.3)}), ["A", "alpha"])
    'alpha at a bound'
    """
    if not names:
        return None
    size = size_symbol(fit.law, fit.columns)
    if size is not None and fit.data[fit.columns[size]].nunique() < 2:
        return "one model size"
    hit = [p for d in fit.diagnostics if d.kind == "at-bound" for p in d.params if p in names]
    return f"{', '.join(dict.fromkeys(hit))} at a bound" if hit else None


def rescaled(fit, names: Sequence[str], data, scale: str = "relative") -> dict[str, float]:
    """``fit``'s parameters ``names``, put on the loss scale of another family's runs ``data``.

    ``scale="relative"``: the linear coefficients among ``names`` (``A`` of
    ``E + A/N^alpha + B/D^beta``) are multiplied by
    ``c = exp(median(log y - log f(x)))``, the factor between the other family's
    observed losses and this fit's law at the same inputs; exponents are kept.  A
    family whose losses are ``c`` times another's (another tokenizer or evaluation
    set) then borrows the size term ``c A / N^alpha`` instead of ``A / N^alpha``.
    ``scale="absolute"``: the values as fitted.

    Examples
    --------
    >>> import pandas as pd, numpy as np
    >>> from scalinglab.fit import fit
    >>> N = np.repeat([1e7, 3e7, 1e8, 3e8], 4); D = 20 * N * np.tile([0.25, 0.5, 0.75, 1.0], 4)
    >>> law = lambda c: c * (1.8 + 400 / N**0.34 + 410 / D**0.28)
    >>> src = fit(pd.DataFrame({"params": N, "tokens": D, "loss": law(1.0)}), "chinchilla")
    >>> other = pd.DataFrame({"params": N, "tokens": D, "loss": law(3.0)})
    >>> {k: round(v, 2) for k, v in rescaled(src, ["A", "alpha"], other).items()}
    {'A': 1200.0, 'alpha': 0.34}
    """
    check_options(scale, "scale", BORROW_SCALES, "rescaled")
    out = {k: float(fit.params[k]) for k in names if k in fit.params}
    linear = [k for k in out if k in fit.law.linear]
    if scale == "absolute" or not linear:
        return out
    X = {sym: np.asarray(data[col], dtype=float) for sym, col in fit.columns.items()}
    y = np.asarray(data[fit.target], dtype=float)
    with np.errstate(all="ignore"):
        f = np.asarray(fit.law.evaluate(X, fit.params), dtype=float)
        r = np.log(y) - np.log(f)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return out
    c = float(np.exp(np.median(r)))
    return {k: (v * c if k in linear else v) for k, v in out.items()}
