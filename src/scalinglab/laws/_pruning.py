"""Exponential laws of error in (pruned) data set size, and the forms a pruning comparison weighs.

Sorscher et al. 2022 ("Beyond neural scaling laws: beating power law scaling via data pruning",
arXiv:2206.14486) show that a good pruning metric with a kept share chosen per data set size can
turn the power law ``error ~ x^-nu`` into an exponential ``error ~ exp(-x / x0)`` in the kept data
size x, and that an imperfect metric bends it back to a power law (a broken curve).  The laws here
are the exponential forms; the power forms (``power_law``, ``power_floor``) and the broken power law
(``bnsl``) are the registry's own.  :data:`PRUNING_FORMS` says which family each candidate belongs
to, for :func:`scalinglab.analyze.pruning`.
"""

from __future__ import annotations

import numpy as np

from scalinglab.laws._registry import Param, law

__all__ = ["exp_decay", "exp_floor", "PRUNING_FORMS", "PRUNING_CANDIDATES"]

_SORSCHER = "Sorscher et al. 2022, arXiv:2206.14486 (sec. 2: exponential scaling of error in pruned data size)"


def _scale_grid(inputs, y):
    x = np.ravel(inputs["x"])
    return np.geomspace(x.min() / 3.0, x.max() * 3.0, 9)


@law(
    name="exp_decay",
    inputs={"x": "kept"},
    params={
        "A": Param(0, np.inf, description="error at x = 0"),
        "x0": Param(0, np.inf, grid=_scale_grid, log=True, description="e-folding data size"),
    },
    linear=("A",),
    formula="err = A * exp(-x / x0)",
    reference=_SORSCHER,
)
def exp_decay(x, A, x0):
    """Exponential decay in data size: err = A * exp(-x / x0) (Sorscher et al. 2022).

    >>> round(float(exp_decay(x=2.0, A=1.0, x0=1.0)), 4)
    0.1353
    """
    return A * np.exp(-x / x0)


@law(
    name="exp_floor",
    inputs={"x": "kept"},
    params={
        "E": Param(0, np.inf, description="irreducible error"),
        "A": Param(0, np.inf, description="reducible error at x = 0"),
        "x0": Param(0, np.inf, grid=_scale_grid, log=True, description="e-folding data size"),
    },
    linear=("E", "A"),
    floor="E",
    formula="err = E + A * exp(-x / x0)",
    reference=_SORSCHER,
)
def exp_floor(x, E, A, x0):
    """Exponential decay to a floor: err = E + A * exp(-x / x0).

    >>> round(float(exp_floor(x=1e9, E=0.05, A=1.0, x0=1.0)), 4)
    0.05
    """
    return E + A * np.exp(-x / x0)


#: Candidate law -> the family a pruning comparison reports it under.
PRUNING_FORMS: dict[str, str] = {
    "power_law": "power",
    "power_floor": "power",
    "exp_decay": "exponential",
    "exp_floor": "exponential",
    "bnsl": "broken",
}
#: Laws :func:`scalinglab.analyze.pruning` compares by default (power, exponential, broken power law).
PRUNING_CANDIDATES: tuple[str, ...] = tuple(PRUNING_FORMS)
