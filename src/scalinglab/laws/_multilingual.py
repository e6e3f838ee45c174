"""Multilingual mixture law: the mixture weight rescales the effective parameters (Fernandes et al. 2023)."""

from __future__ import annotations

import numpy as np

from scalinglab.laws._registry import Param, law

__all__ = ["multilingual_mixture"]


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
