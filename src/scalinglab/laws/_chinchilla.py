"""The Chinchilla law L(N, D) = E + A/N^alpha + B/D^beta, its compute-optimal closed form and published fits."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scalinglab.laws._published import PublishedLaw, fmt_constant
from scalinglab.laws._registry import ComputeOptimum, Param, law

__all__ = ["chinchilla", "chinchilla_allocation", "chinchilla_jacobian", "PUBLISHED"]

_EXP_GRID = tuple(np.round(np.linspace(0.02, 1.5, 38), 4))


def chinchilla_allocation(params: Mapping[str, np.ndarray], flops, k: float) -> ComputeOptimum:
    """Closed-form compute-optimal allocation of the Chinchilla law under C = k N D.

    Minimising E + A/N^alpha + B/D^beta subject to k N D = C (Hoffmann et al. 2022,
    App. D.2):

        N* = G (C/k)^a,  D* = (C/k)/N*,  G = (alpha A/(beta B))^(1/(alpha+beta)),
        a = beta/(alpha+beta).

    Valid where alpha, beta, A, B > 0 (else the loss does not trade N against D).

    Examples
    --------
    >>> opt = chinchilla_allocation(dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28), 1e21, 6.0)
    >>> print(f"{float(opt.params):.4g} {float(opt.tokens):.4g} {float(opt.exponent):.4f}")
    1.824e+09 9.136e+10 0.4516
    """
    A, B, al, be = (np.asarray(params[p], dtype=float) for p in ("A", "B", "alpha", "beta"))
    C = np.asarray(flops, dtype=float)
    with np.errstate(all="ignore"):
        s = al + be
        G = (al * A / (be * B)) ** (1.0 / s)
        S = C / k
        a = be / s
        N = G * S**a
        D = S / N
    ok = np.isfinite(N) & np.isfinite(D) & (N > 0) & (D > 0) & (al > 0) & (be > 0) & (A > 0) & (B > 0)
    return ComputeOptimum(np.where(ok, N, np.nan), np.where(ok, D, np.nan), ok, a)


def chinchilla_jacobian(N, D, E, A, alpha, B, beta, log_N=None, log_D=None):
    """Value and parameter derivatives of E + A N^-alpha + B D^-beta (powers as exp(-alpha ln N)).

    ``log_N``, ``log_D``: the inputs' logarithms when the caller has them (the fitter computes
    them once per fit instead of at every step).

    Examples
    --------
    >>> f, d = chinchilla_jacobian(np.e, 1.0, E=1.0, A=2.0, alpha=1.0, B=3.0, beta=0.5)
    >>> round(float(f), 4), round(float(d["alpha"]), 4)
    (4.7358, -0.7358)
    """
    lnN = np.log(N) if log_N is None else log_N
    lnD = np.log(D) if log_D is None else log_D
    pN = np.exp(-alpha * lnN)
    pD = np.exp(-beta * lnD)
    aN, bD = A * pN, B * pD
    return E + aN + bD, {"E": 1.0, "A": pN, "alpha": -lnN * aN, "B": pD, "beta": -lnD * bD}


@law(
    name="chinchilla",
    inputs={"N": "params", "D": "tokens"},
    params={
        "E": Param(0, np.inf, description="irreducible loss"),
        "A": Param(0, np.inf, description="model-size scale"),
        "alpha": Param(0, 3, grid=_EXP_GRID, description="model-size exponent"),
        "B": Param(0, np.inf, description="data scale"),
        "beta": Param(0, 3, grid=_EXP_GRID, description="data exponent"),
    },
    linear=("E", "A", "B"),
    floor="E",
    formula="L = E + A/N^alpha + B/D^beta",
    reference="Hoffmann et al. 2022, arXiv:2203.15556 (eq. 2, approach 3)",
    allocation=chinchilla_allocation,
    allocation_reference="Hoffmann et al. 2022, App. D.2",
    params_convention="total",
    derived={
        "params_exponent": lambda p: p["beta"] / (p["alpha"] + p["beta"]),
        "tokens_exponent": lambda p: p["alpha"] / (p["alpha"] + p["beta"]),
    },
    jacobian=chinchilla_jacobian,
)
def chinchilla(N, D, E, A, alpha, B, beta):
    """Chinchilla parametric loss: L = E + A / N**alpha + B / D**beta.

    N is total parameters, D training tokens, L nats/token.  E, A and B enter
    linearly and are solved exactly for each (alpha, beta) during the search.
    Derived: ``params_exponent`` a = beta/(alpha+beta) and ``tokens_exponent``
    b = alpha/(alpha+beta), the exponents of N*(C) and D*(C).
    """
    return E + A * N ** (-alpha) + B * D ** (-beta)


# ------------------------------------------------------------------------------ published constants

_HOFFMANN = "Hoffmann et al. 2022, arXiv:2203.15556"
_L_CHIN = "nats/token (MassiveText, SentencePiece)"


def _entry(key, E, A, alpha, B, beta, source, confidence, notes) -> PublishedLaw:
    g = fmt_constant
    return PublishedLaw(
        key=key,
        law="chinchilla",
        params={"E": E, "A": A, "alpha": alpha, "B": B, "beta": beta},
        constants={"E": E, "A": A, "alpha": alpha, "B": B, "beta": beta},
        inputs={"N": "params", "D": "tokens"},
        units={"N": "total parameters", "D": "tokens", "loss": _L_CHIN},
        target="loss",
        source=source,
        confidence=confidence,
        formula=f"L(N, D) = {g(E)} + {g(A)}/N^{g(alpha)} + {g(B)}/D^{g(beta)}",
        notes=notes,
    )


#: Hoffmann et al. (2022) Approach 3 and the Besiroglu et al. (2024) refit.
PUBLISHED: tuple[PublishedLaw, ...] = (
    _entry(
        "hoffmann2022",
        1.69,
        406.4,
        0.34,
        410.7,
        0.28,
        f"{_HOFFMANN}, eq. 10 (Approach 3)",
        "C2",
        "Rounded constants as printed. C = 6 N D FLOPs; Huber (delta=1e-3) fit on log loss. "
        "Compute-optimal exponent a = beta/(alpha+beta) = 0.4516.",
    ),
    _entry(
        "hoffmann2022_unrounded",
        1.6934,
        406.4,
        0.3392,
        410.7,
        0.2849,
        f"{_HOFFMANN}, Approach 3 unrounded (as quoted by Besiroglu et al. 2024)",
        "C1",
        "One source only. Implied a = 0.4565, matching the paper's Table 2 a = 0.46.",
    ),
    _entry(
        "besiroglu2024",
        1.8172,
        482.01,
        0.3478,
        2085.43,
        0.3658,
        "Besiroglu et al. 2024, arXiv:2404.10102 (refit of Hoffmann Approach 3)",
        "C2",
        "Standard errors [S1]: E 0.03, A 124.58, B 1293.23, alpha 0.02, beta 0.02. "
        "Implies about 20 tokens per parameter at the optimum (a = 0.5126).",
    ),
)
