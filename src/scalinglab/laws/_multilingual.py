"""Multilingual mixture law: the mixture weight rescales the effective parameters (Fernandes et al. 2023)."""

from __future__ import annotations

import numpy as np

from scalinglab.laws._registry import Law, Param, define_law, get_law, law

__all__ = [
    "multilingual_mixture",
    "multilingual_hyperbolic",
    "FORMS",
    "effective_fraction",
    "factor_law",
    "joint_mixture_law",
]


@law(
    name="multilingual_mixture",
    inputs={"N": "params", "w": "mixture_weight"},
    params={
        "L_inf": Param(0, np.inf, description="irreducible loss of the language pair"),
        "beta": Param(0, np.inf, description="scale: loss above L_inf at N = 1 when w = 1"),
        "alpha": Param(
            0,
            3,
            grid=(0.05, 0.1, 0.2, 0.3, 0.45, 0.65, 0.9, 1.3),
            description="model-size exponent (shared by every mixture)",
        ),
        "gamma": Param(
            0,
            3,
            grid=(0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0),
            description="how the effective parameter fraction f(w) = w^gamma grows with w",
        ),
    },
    linear=("L_inf", "beta"),
    formula="L = beta * (w^gamma * N)^-alpha + L_inf",
    reference="Fernandes et al. 2023, arXiv:2302.09650 (per-pair law; f(w) = w^gamma is scalinglab's choice)",
)
def multilingual_mixture(N, w, L_inf, beta, alpha, gamma):
    """Per-language-pair loss in a multilingual mixture: L = beta (f(w) N)^-alpha + L_inf.

    Fernandes et al. (2023) find that the mixture weight ``w`` of a language pair
    changes only the multiplicative factor of its scaling law (the exponent
    ``alpha`` is shared by all mixtures), and read the factor as an *effective
    fraction of parameters* f(w) allocated to the pair: L = beta (f(w) N)^-alpha
    + L_inf.  The paper's exact form of f(w) is **unconfirmed**; scalinglab uses
    f(w) = w^gamma, so f(1) = 1 (a dedicated bilingual model gets all N
    parameters), gamma = 1 means parameters split in proportion to the weight,
    and gamma < 1 means pairs share capacity (transfer).  The multiplicative
    factor is then beta * w^(-alpha gamma), as the paper requires.

    ``w`` is the pair's sampling weight in (0, 1]; fit one law per pair on runs
    at several N and at least two weights (gamma is not identifiable from a
    single weight).

    Examples
    --------
    >>> round(float(multilingual_mixture(N=1e8, w=0.25, L_inf=1.2, beta=30.0, alpha=0.25, gamma=0.7)), 4)
    1.5824
    """
    return L_inf + beta * (w**gamma * N) ** (-alpha)


@law(
    name="multilingual_hyperbolic",
    inputs={"N": "params", "w": "mixture_weight"},
    params={
        "L_inf": Param(0, np.inf, description="irreducible loss of the language pair"),
        "beta": Param(0, np.inf, description="scale: loss above L_inf at N = 1 when w = 1"),
        "alpha": Param(
            0,
            3,
            grid=(0.05, 0.1, 0.2, 0.3, 0.45, 0.65, 0.9, 1.3),
            description="model-size exponent (shared by every mixture)",
        ),
        "kappa": Param(
            0,
            1e3,
            grid=(0.05, 0.15, 0.4, 1.0, 2.5, 6.0),
            description="cost of sharing: f(w) = w / (w + kappa (1 - w)); 1 = proportional, < 1 = transfer",
        ),
    },
    linear=("L_inf", "beta"),
    formula="L = beta * (f(w) N)^-alpha + L_inf, f(w) = w / (w + kappa (1 - w))",
    reference="Fernandes et al. 2023, arXiv:2302.09650 (per-pair law; the hyperbolic f(w) is scalinglab's alternative)",
)
def multilingual_hyperbolic(N, w, L_inf, beta, alpha, kappa):
    """Per-pair mixture law with a saturating effective fraction: f(w) = w / (w + kappa (1 - w)).

    An alternative to :func:`multilingual_mixture`'s f(w) = w^gamma (the paper's form is
    unconfirmed): f(0) = 0, f(1) = 1, f(w) = w when kappa = 1, and a pair gets more than its
    share of the parameters when kappa < 1 (transfer from the other pairs) and less when
    kappa > 1 (interference).  Unlike the power form it stays finite in its slope at w -> 0.

    Examples
    --------
    >>> round(float(multilingual_hyperbolic(N=1e8, w=0.5, L_inf=1.2, beta=30.0, alpha=0.25, kappa=1.0)), 4)
    1.5568
    """
    return L_inf + beta * (w / (w + kappa * (1.0 - w)) * N) ** (-alpha)


def _power(w, g):
    return w**g


def _hyperbolic(w, g):
    return w / (w + g * (1.0 - w))


#: effective-fraction forms f(w; g) of the mixture analysis: name -> (law, form parameter, f, description)
FORMS = {
    "power": ("multilingual_mixture", "gamma", _power, "f(w) = w^gamma"),
    "hyperbolic": ("multilingual_hyperbolic", "kappa", _hyperbolic, "f(w) = w / (w + kappa (1 - w))"),
    "proportional": ("multilingual_mixture", "gamma", _power, "f(w) = w (gamma fixed at 1)"),
}


def effective_fraction(form: str, w, g) -> np.ndarray:
    """f(w) of a named form (:data:`FORMS`) with form parameter ``g`` (ignored by ``"proportional"``).

    Examples
    --------
    >>> float(effective_fraction("power", 0.25, 0.5)), float(effective_fraction("hyperbolic", 0.5, 1.0))
    (0.5, 0.5)
    """
    _, _, f, _ = FORMS[form]
    return f(np.asarray(w, dtype=float), 1.0 if form == "proportional" else np.asarray(g, dtype=float))


def factor_law(n_weights: int, *, free_exponents: bool) -> Law:
    """Law for the exponent test of one pair: a free factor per mixture weight, shared or free exponents.

    L = L_inf + b_j N^-alpha (``free_exponents=False``: the weight changes only the factor,
    Fernandes et al. 2023) or L = L_inf + b_j N^-alpha_j (free), with j = ``wi`` the index
    (1..n_weights) of the run's mixture weight.  Not registered.

    Examples
    --------
    >>> lw = factor_law(2, free_exponents=True)
    >>> lw.param_names
    ('L_inf', 'b1', 'b2', 'alpha1', 'alpha2')
    """
    m = int(n_weights)
    alphas = [f"alpha{j + 1}" for j in range(m)] if free_exponents else ["alpha"]
    grid = (0.05, 0.1, 0.2, 0.3, 0.45, 0.65, 0.9, 1.3) if m <= 3 or not free_exponents else (0.1, 0.25, 0.5, 0.9)
    params = {"L_inf": Param(0, np.inf, description="irreducible loss")}
    params.update({f"b{j + 1}": Param(0, np.inf, description=f"factor at weight {j + 1}") for j in range(m)})
    params.update({a: Param(0, 3, grid=grid, description="exponent") for a in alphas})

    def func(N, wi, **p):
        idx = np.rint(np.asarray(wi, dtype=float)).astype(int) - 1
        out = np.asarray(p["L_inf"], dtype=float) + 0.0 * N
        for j in range(m):
            a = p[alphas[j] if free_exponents else "alpha"]
            out = out + np.where(idx == j, 1.0, 0.0) * p[f"b{j + 1}"] * N ** (-np.asarray(a, dtype=float))
        return out

    def jacobian(N, wi, **p):
        idx = np.rint(np.asarray(wi, dtype=float)).astype(int) - 1
        N = np.asarray(N, dtype=float)
        value = np.asarray(p["L_inf"], dtype=float) + 0.0 * N
        grads = {"L_inf": np.ones_like(value)}
        if not free_exponents:
            grads["alpha"] = np.zeros_like(value)
        for j in range(m):
            a = alphas[j] if free_exponents else "alpha"
            term = np.where(idx == j, 1.0, 0.0) * N ** (-np.asarray(p[a], dtype=float))
            bterm = p[f"b{j + 1}"] * term
            value = value + bterm
            grads[f"b{j + 1}"] = term
            d_alpha = -bterm * np.log(N)
            grads[a] = d_alpha if free_exponents else grads[a] + d_alpha
        return value, grads

    return define_law(
        func,
        jacobian=jacobian,
        name=f"mixture_factor_{'free' if free_exponents else 'shared'}_{m}",
        inputs={"N": "params", "wi": "weight_index"},
        params=params,
        linear=("L_inf", *[f"b{j + 1}" for j in range(m)]),
        formula="L = L_inf + b_j N^-alpha" + ("_j" if free_exponents else ""),
        reference="Fernandes et al. 2023, arXiv:2302.09650 (the weight changes only the factor)",
        min_distinct={"wi": 1},
    )


def joint_mixture_law(n_pairs: int, form: str = "power") -> Law:
    """One law for K language pairs with one exponent shared by all: L = L_inf,i + beta_i (f(w; g_i) N)^-alpha.

    Input ``pair`` is the pair's index 1..K.  Parameters ``L_inf_i``, ``beta_i`` (linear),
    ``g_i`` (the form parameter of :data:`FORMS`; absent for ``"proportional"``) and ``alpha``.
    Not registered.

    Examples
    --------
    >>> joint_mixture_law(2).param_names
    ('alpha', 'L_inf_1', 'beta_1', 'g_1', 'L_inf_2', 'beta_2', 'g_2')
    """
    K = int(n_pairs)
    lname, gname, _, _ = FORMS[form]
    gparam = get_law(lname).params[gname]
    params = {"alpha": Param(0, 3, grid=(0.05, 0.1, 0.2, 0.3, 0.45, 0.65, 0.9, 1.3), description="shared exponent")}
    for i in range(1, K + 1):
        params[f"L_inf_{i}"] = Param(0, np.inf, description=f"irreducible loss of pair {i}")
        params[f"beta_{i}"] = Param(0, np.inf, description=f"scale of pair {i}")
        if form != "proportional":
            params[f"g_{i}"] = Param(gparam.lower, gparam.upper, grid=gparam.grid, description=f"{gname} of pair {i}")

    def func(N, w, pair, **p):
        idx = np.rint(np.asarray(pair, dtype=float)).astype(int)
        out = 0.0 * N * w
        for i in range(1, K + 1):
            g = p.get(f"g_{i}", 1.0)
            f = effective_fraction(form, w, g)
            out = out + np.where(idx == i, 1.0, 0.0) * (p[f"L_inf_{i}"] + p[f"beta_{i}"] * (f * N) ** (-p["alpha"]))
        return out

    return define_law(
        func,
        name=f"multilingual_joint_{form}_{K}",
        inputs={"N": "params", "w": "mixture_weight", "pair": "pair_index"},
        params=params,
        linear=tuple(p for i in range(1, K + 1) for p in (f"L_inf_{i}", f"beta_{i}")),
        formula=f"L_i = L_inf_i + beta_i (f_i(w) N)^-alpha, {FORMS[form][3]}",
        reference="Fernandes et al. 2023, arXiv:2302.09650 (shared exponent; the f(w) form is scalinglab's choice)",
        min_distinct={"pair": 1},
    )
