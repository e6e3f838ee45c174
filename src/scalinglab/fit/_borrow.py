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
from dataclasses import dataclass, field
from typing import Any

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
    "Loan",
    "borrow_size_term",
    "widen_by_lenders",
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
    symbol: str | None = None,
) -> tuple[str, ...]:
    """Parameters that change ``f(ratio * N, ...) - f(N, ...)`` (the loss gap between two sizes).

    Evaluated by central differences at ``params`` over the points ``inputs``;
    a parameter counts when it moves the gap by more than 1e-6 of its size.
    ``symbol`` names another input to take the place of model size ``N``.

    Examples
    --------
    >>> from scalinglab.laws import get_law
    >>> law = get_law("chinchilla")
    >>> p = dict(E=1.8, A=400.0, alpha=0.34, B=410.0, beta=0.28)
    >>> size_coupled(law, p, {"N": np.array([1e8, 1e8]), "D": np.array([1e9, 2e9])})
    ('A', 'alpha')
    """
    sym = symbol or size_symbol(law, columns)
    if sym is None:
        return ()
    X1 = {k: np.asarray(v, dtype=float) for k, v in inputs.items()}
    X2 = {**X1, sym: X1[sym] * ratio}

    def gap(p):
        with np.errstate(all="ignore"):
            return np.asarray(law.evaluate(X2, p), dtype=float) - np.asarray(law.evaluate(X1, p), dtype=float)

    base = gap(params)
    with np.errstate(all="ignore"):
        level = float(np.nanmax(np.abs(np.asarray(law.evaluate(X1, params), dtype=float))))
    # a gap below the rounding of the law's value (e.g. A ~ 0) is no gap: compare with both
    scale = max(float(np.nanmax(np.abs(base))), 1e-9 * level if np.isfinite(level) else 0.0, 1e-12)
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


@dataclass(frozen=True)
class Loan:
    """What one group borrows from other groups' fits (:func:`borrow_size_term`)."""

    #: The borrowed parameters: the median over the lending families (:func:`combine_pivoted`).
    values: dict[str, float]
    #: Groups whose fits lent, and ``"group: reason"`` for those that could not.
    lenders: tuple[str, ...] = ()
    not_lending: tuple[str, ...] = ()
    #: Linear coefficient -> (smallest, largest) lending family's term at the target's inputs.
    terms: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Each lending family's own values of the borrowed parameters (one per family label).
    lender_values: tuple[dict[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": dict(self.values),
            "lenders": list(self.lenders),
            "not_lending": list(self.not_lending),
            "terms": {k: list(v) for k, v in self.terms.items()},
            "lender_values": [dict(v) for v in self.lender_values],
        }


def _centre(v: np.ndarray) -> float:
    """Geometric mean of positive values (sizes, tokens), else the median."""
    v = v[np.isfinite(v)]
    return float(np.exp(np.mean(np.log(v)))) if v.size and np.all(v > 0) else float(np.median(v))


def borrow_size_term(
    law,
    sources: Mapping[str, Any],
    data,
    *,
    names: Sequence[str] | None = None,
    scale: str = "relative",
    labels: Mapping[str, str] | None = None,
) -> Loan | str:
    """The size term one group borrows from other groups' fits, or the one-line reason it cannot.

    ``sources`` maps each other group to its fit of ``law`` (or to the one-line
    reason it has none).  Fits that could not determine their own parameters lend
    nothing (:func:`lending_problem`); each lender is put on the loss scale of the
    borrowing group's runs ``data`` (:func:`rescaled`), the groups of one family
    (``labels``: group -> family) get one vote, and the median is taken over whole
    size terms at the centre of ``data``'s inputs (:func:`combine_pivoted`).
    ``names`` (default: the law's size-coupled parameters, :func:`size_coupled`)
    are what is borrowed.

    Examples
    --------
    >>> import pandas as pd
    >>> from scalinglab.fit import fit
    >>> N = np.repeat([1e7, 3e7, 1e8, 3e8], 4); D = 20 * N * np.tile([0.25, 0.5, 0.75, 1.0], 4)
    >>> runs = lambda E: pd.DataFrame({"params": N, "tokens": D, "loss": E + 400 / N**0.34 + 410 / D**0.28})
    >>> loan = borrow_size_term(fit(runs(1.8), "chinchilla").law, {"a": fit(runs(1.8), "chinchilla"),
    ...                         "b": fit(runs(2.0), "chinchilla")}, runs(1.9).iloc[:4], scale="absolute")
    >>> {k: round(v, 3) for k, v in loan.values.items()}, loan.lenders
    ({'A': 400.0, 'alpha': 0.34}, ('a', 'b'))
    """
    labels = dict(labels or {})
    usable = {s: f for s, f in sources.items() if not isinstance(f, str)}
    skipped = [f"{s}: {f}" for s, f in sources.items() if isinstance(f, str)]
    for s, f in list(usable.items()):
        problem = lending_problem(f)
        if problem:
            skipped.append(f"{s}: {problem}")
            del usable[s]
    if not usable:
        why = f" (not usable: {'; '.join(skipped)})" if skipped else ""
        return f"no other group's fit could lend its parameters{why}"
    cols = next(iter(usable.values())).columns
    X = {sym: np.asarray(data[col], dtype=float) for sym, col in cols.items() if col in data}
    if names:
        names = list(names)
    else:
        pooled = combine_params([f.params for f in usable.values()], list(law.params))
        names = list(size_coupled(law, pooled, X, cols)) if len(X) == len(cols) else []
    if not names:
        return "the law has no parameter tied to model size to borrow"
    at = {sym: _centre(v) for sym, v in X.items()}
    by_label: dict = {}
    for s, f in usable.items():
        by_label.setdefault(labels.get(s, s), []).append({**f.params, **rescaled(f, names, data, scale)})
    per_label = [
        {**combine_params(v, list(law.params)), **combine_pivoted(law, v, names, at)} for v in by_label.values()
    ]
    values = combine_pivoted(law, per_label, names, at)
    terms = {c: (float(t.min()), float(t.max())) for c, t in size_terms(law, per_label, names, at).items() if t.size}
    return Loan(
        values=values,
        lenders=tuple(sorted(usable)),
        not_lending=tuple(skipped),
        terms=terms,
        lender_values=tuple({k: float(v[k]) for k in names if k in v} for v in per_label),
    )


def widen_by_lenders(y_hat, lower, upper, lender_logs, level: float):
    """A borrowed fit's interval, widened by how far apart the lending families put the prediction.

    The fit holds the borrowed parameters at the lenders' median, so its own interval knows
    nothing of their disagreement.  Taking the target family's size term as one more draw
    from the ``k`` families that lend (a random-effects view, as in a meta-analysis), with
    ``s`` the sd over the lenders of ``log yhat`` (``lender_logs``: ``k`` rows, one per
    lender's refit), the half-widths in log grow to
    ``sqrt(h^2 + (t_{k-1} s sqrt(1 + 1/k))^2)``, ``t_{k-1}`` the Student quantile of
    ``level``: the prediction interval of a new draw from ``k`` observed ones.  Returns
    ``(lower, upper, s)``; with fewer than two lenders the interval is returned as given.

    Examples
    --------
    >>> lo, hi, s = widen_by_lenders([2.0], [1.9], [2.1], np.log([[1.8], [2.0], [2.2]]), 0.9)
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3), round(float(s[0]), 3)
    (1.42, 2.815, 0.1)
    """
    from scipy.stats import t as student_t

    y_hat, lower, upper = (np.asarray(v, dtype=float) for v in (y_hat, lower, upper))
    logs = np.atleast_2d(np.asarray(lender_logs, dtype=float))
    k = logs.shape[0]
    if k < 2:
        return lower, upper, np.full_like(y_hat, np.nan)
    with np.errstate(all="ignore"):
        s = np.std(logs, axis=0, ddof=1)
        w = float(student_t.ppf((1 + level) / 2, k - 1)) * np.sqrt(1 + 1 / k) * s
        lo = np.log(y_hat / lower)
        hi = np.log(upper / y_hat)
        new_lo, new_hi = y_hat * np.exp(-np.hypot(lo, w)), y_hat * np.exp(np.hypot(hi, w))
    ok = np.isfinite(new_lo) & np.isfinite(new_hi)
    return np.where(ok, new_lo, lower), np.where(ok, new_hi, upper), s
