"""Over-training law: loss in compute and token multiplier (Gadre et al. 2024)."""

from __future__ import annotations

import numpy as np

from scalinglab.laws._registry import Param, law

__all__ = ["overtraining"]


@law(
    name="overtraining",
    inputs={"C": "flops", "M": "token_multiplier"},
    params={
        "E": Param(0, np.inf, description="irreducible loss"),
        "a": Param(0, np.inf, description="model-size term scale (A 6^eta from Chinchilla)"),
        "b": Param(0, np.inf, description="data term scale (B 6^eta from Chinchilla)"),
        "eta": Param(
            0,
            2,
            grid=tuple(np.round(np.linspace(0.01, 0.6, 40), 4)),
            description="compute and token-multiplier exponent",
        ),
    },
    linear=("E", "a", "b"),
    formula="L = E + (a M^eta + b M^-eta) C^-eta",
    reference="Gadre et al. 2024, arXiv:2403.08540 (loss in compute C and token multiplier M = D/N)",
    min_distinct={"M": 2},  # eta is shared with C, so two multipliers identify it
)
def overtraining(C, M, E, a, b, eta):
    """Over-training law of Gadre et al. (2024): L(C, M) = E + (a M^eta + b M^-eta) C^-eta.

    C is training compute in FLOPs (C = 6 N D) and M = D / N the token
    multiplier (about 20 is compute-optimal; larger is over-training).

    Derivation (matches the released code, mlfoundations/scaling
    ``powlaw_ours``): take the Chinchilla law with equal exponents,
    L = E + A N^-alpha + B D^-alpha, and substitute N = sqrt(C / (6 M)),
    D = sqrt(C M / 6).  Then A N^-alpha = A 6^eta M^eta C^-eta and
    B D^-alpha = B 6^eta M^-eta C^-eta with eta = alpha / 2, so
    a = A 6^eta and b = B 6^eta.  At fixed M the reducible loss is a pure power
    law in compute with the same exponent for every M; M only moves the
    prefactor, minimised at M* = (b / a)^(1 / (2 eta)).

    The runs table needs a ``token_multiplier`` column, e.g.
    ``frame.assign(token_multiplier=frame.tokens / frame.params)``, or map the
    input with ``x={"M": "<column>"}``.  Several distinct M values are needed to
    separate ``a`` from ``b``.

    Examples
    --------
    >>> round(float(overtraining(C=1e21, M=20.0, E=1.7, a=60.0, b=300.0, eta=0.15)), 4)
    1.9021
    """
    return E + (a * M**eta + b * M ** (-eta)) * C ** (-eta)
