"""Growing power law y = k x^p, for compute-optimal allocations such as N_opt(C)."""

from __future__ import annotations

import numpy as np

from scalinglab.laws._registry import Param, law

__all__ = ["scaled_power"]


@law(
    name="scaled_power",
    inputs={"x": "flops"},
    params={
        "k": Param(0, np.inf, description="value at x = 1 (in the units of x)"),
        "p": Param(
            -5,
            5,
            grid=(-1.0, -0.3, -0.1, 0.03, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0),
            description="exponent (positive: y grows with x)",
        ),
    },
    linear=("k",),
    formula="y = k * x^p",
    reference="Kaplan et al. 2020, arXiv:2001.08361 (compute-efficient frontier N_opt = 1.3e9 C^0.73)",
    target="value",
)
def scaled_power(x, k, p):
    """Power law with a free-signed exponent: y = k x^p.

    The shape of compute-optimal allocations, e.g. Kaplan's frontier
    N_opt = 1.3e9 C^0.73 (C in PF-days) or Henighan's N_opt = (C/C0)^beta
    (k = C0^-beta, p = beta), and of Approach-2 fits of IsoFLOP minima
    (``fit(minima, "scaled_power", x="flops", y="params")``).  For decreasing
    losses use ``power_law`` (L = A x^-alpha).

    Examples
    --------
    >>> float(scaled_power(x=1.0, k=1.3e9, p=0.73))
    1300000000.0
    """
    return k * x**p
