"""Single-variable power laws (in N, D or C; the fitter's ``x=`` picks the column)."""

from __future__ import annotations

import numpy as np

from scalinglab.laws._registry import Param, law

_EXPONENTS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)


def _x0_grid(inputs, y):
    x = np.concatenate([np.ravel(v) for v in inputs.values()])
    lo, hi = np.log10(x.min()), np.log10(x.max())
    return 10.0 ** np.linspace(lo - 12, hi + 12, 13)


@law(
    name="power_law",
    inputs={"x": "params"},
    params={"A": Param(0, np.inf, description="scale"),
            "alpha": Param(0, 5, grid=_EXPONENTS, description="exponent")},
    linear=("A",),
    formula="L = A * x^-alpha",
    reference="Kaplan et al. 2020, arXiv:2001.08361 (eqs. 1.1-1.3)",
    aliases=("M1",),
)
def power_law(x, A, alpha):
    """Pure power law: L = A * x^-alpha.

    The single-variable laws of Kaplan et al. (2020) are L = (x_c/x)^alpha, i.e.
    ``A = x_c**alpha``.  Identical to estimator M1 of Alabdulmohsin et al. (2022).
    """
    return A * x ** (-alpha)


@law(
    name="power_floor",
    inputs={"x": "params"},
    params={"E": Param(0, np.inf, description="irreducible loss L_inf"),
            "x0": Param(0, np.inf, grid=_x0_grid, log=True, description="scale of x"),
            "alpha": Param(0, 5, grid=_EXPONENTS, description="exponent")},
    linear=("E",),
    formula="L = E + (x0/x)^alpha",
    reference="Henighan et al. 2020, arXiv:2010.14701 (eq. 1.1)",
)
def power_floor(x, E, x0, alpha):
    """Power law with an irreducible floor: L = E + (x0/x)^alpha (Henighan et al. 2020)."""
    return E + (x0 / x) ** alpha
