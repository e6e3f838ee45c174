"""Estimators M2-M4 of Alabdulmohsin, Neyshabur & Zhai 2022 (arXiv:2209.06640).

M1 (``beta x^c``) is :func:`scalinglab.laws.power_law` registered under the alias ``M1``.
"""

from __future__ import annotations

import numpy as np

from scalinglab.laws._registry import Param, law

_C_GRID = (-1.0, -0.6, -0.3, -0.15, -0.05)


def _inv_x_grid(inputs, y):
    x = np.ravel(inputs["x"])
    inv = 1.0 / np.quantile(x, [0.0, 0.5, 1.0])
    return np.concatenate([inv * 1e-3, inv * 0.1, inv * 10])


@law(
    name="M2",
    inputs={"x": "params"},
    params={
        "eps_inf": Param(0, np.inf, description="irreducible loss"),
        "beta": Param(0, np.inf, description="scale"),
        "c": Param(-5, 0, grid=_C_GRID, description="exponent (negative)"),
    },
    linear=("eps_inf", "beta"),
    formula="eps = eps_inf + beta x^c",
    reference="Alabdulmohsin et al. 2022, arXiv:2209.06640 (M2)",
)
def m2(x, eps_inf, beta, c):
    """M2: eps_x = eps_inf + beta x^c (c < 0)."""
    return eps_inf + beta * x**c


@law(
    name="M3",
    inputs={"x": "params"},
    params={
        "beta": Param(0, np.inf, description="scale"),
        "gamma": Param(0, np.inf, grid=_inv_x_grid, log=True, description="saturation offset"),
        "c": Param(0, 5, grid=(0.05, 0.15, 0.3, 0.6, 1.0), description="exponent"),
    },
    linear=("beta",),
    formula="eps = beta (x^-1 + gamma)^c",
    reference="Alabdulmohsin et al. 2022, arXiv:2209.06640 (M3)",
)
def m3(x, beta, gamma, c):
    """M3: eps_x = beta (1/x + gamma)^c (c >= 0)."""
    return beta * (1.0 / x + gamma) ** c


def _eps_inf_grid(inputs, y):
    return np.array([0.0, 0.5, 0.8, 0.95]) * np.min(y)


def _eps0_grid(inputs, y):
    return np.array([1.02, 1.2, 2.0, 4.0]) * np.max(y)


def _m4_feasible(params):
    return np.asarray(params["eps0"]) > np.asarray(params["eps_inf"])


def _solve_m4(f, b, alpha, bisections: int = 20, newton_steps: int = 8):
    """Solve w = f (b - w)^alpha for w in (0, b), vectorised.

    g(w) = log w - log f - alpha log(b - w) increases on (0, b), so the root is
    unique: a few bisection steps bracket it, then safeguarded Newton steps
    (kept inside the bracket) converge quadratically to machine precision.
    """
    f, b, alpha = np.broadcast_arrays(np.asarray(f, float), np.asarray(b, float), np.asarray(alpha, float))
    lo = np.zeros(f.shape)
    hi = np.where(b > 0, b, np.nan)
    log_f = np.log(f)

    def g(w):
        return np.log(w) - log_f - alpha * np.log(b - w)

    for _ in range(bisections):
        mid = 0.5 * (lo + hi)
        up = g(mid) > 0
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    w = 0.5 * (lo + hi)
    for _ in range(newton_steps):
        step = g(w) / (1.0 / w + alpha / (b - w))
        candidate = w - step
        inside = (candidate > lo) & (candidate < hi)
        w = np.where(inside, candidate, 0.5 * (lo + hi))
        up = g(w) > 0
        hi = np.where(up, w, hi)
        lo = np.where(up, lo, w)
    return w


@law(
    name="M4",
    inputs={"x": "params"},
    params={
        "eps_inf": Param(0, np.inf, grid=_eps_inf_grid, description="irreducible loss"),
        "eps0": Param(0, np.inf, grid=_eps0_grid, description="initial (random-guess) loss"),
        "beta": Param(0, np.inf, grid=(0.3, 3.0, 30.0, 300.0, 3000.0), log=True, description="scale"),
        "c": Param(-5, 0, grid=(-0.6, -0.3, -0.1), description="exponent (negative)"),
        "alpha": Param(0, 20, grid=(0.0, 0.5, 1.0, 2.0), description="transition exponent"),
    },
    formula="(eps - eps_inf) / (eps0 - eps)^alpha = beta x^c",
    reference="Alabdulmohsin et al. 2022, arXiv:2209.06640 (M4)",
    constraint=_m4_feasible,
)
def m4(x, eps_inf, eps0, beta, c, alpha):
    """M4: (eps_x - eps_inf)/(eps0 - eps_x)^alpha = beta x^c, solved for eps_x.

    The left side increases in eps_x on (eps_inf, eps0) and the right side is
    fixed, so the root is unique; it is found by vectorised bisection.
    """
    b = eps0 - eps_inf
    w = _solve_m4(beta * x**c, b, alpha)
    return eps_inf + w
