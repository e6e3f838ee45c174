"""Broken neural scaling laws (Caballero et al. 2022, arXiv:2210.14891)."""

from __future__ import annotations

import itertools

import numpy as np

from scalinglab.laws._registry import Law, Param, define_law, register


def _break_grid(position: int, n_breaks: int):
    def grid(inputs, y):
        x = np.ravel(inputs["x"])
        qs = np.linspace(0.15, 0.85, 5 if n_breaks == 1 else 3)
        return 10.0 ** np.quantile(np.log10(x), qs)

    return grid


def bnsl_law(n_breaks: int = 1) -> Law:
    """Build the smoothly broken power law with ``n_breaks`` breaks.

    y = a + b x^-c0 * prod_i (1 + (x/d_i)^(1/f_i))^(-c_i f_i)

    ``a`` is the limit, ``c0`` the initial log-log slope, and break ``i`` sits at
    ``d_i`` with sharpness ``f_i`` (smaller is sharper) and changes the slope by
    ``c_i``.  ``a`` and ``b`` enter linearly.

    Examples
    --------
    >>> lw = bnsl_law(1)
    >>> lw.param_names
    ('a', 'b', 'c0', 'c1', 'd1', 'f1')
    """
    if not isinstance(n_breaks, int) or n_breaks < 1:
        raise ValueError("n_breaks must be an int >= 1")
    small = n_breaks > 1
    params = {
        "a": Param(0, np.inf, description="limit value"),
        "b": Param(0, np.inf, description="offset"),
        "c0": Param(
            -2, 5, grid=(0.0, 0.3, 1.0) if small else (0.0, 0.1, 0.3, 0.7), description="initial log-log slope"
        ),
    }
    for i in range(1, n_breaks + 1):
        params[f"c{i}"] = Param(
            -10,
            10,
            grid=(-0.5, 0.5, 2.0) if small else (-0.5, 0.3, 1.0, 3.0, 6.0),
            description=f"slope change at break {i}",
        )
        params[f"d{i}"] = Param(
            0, np.inf, grid=_break_grid(i, n_breaks), log=True, description=f"location of break {i}"
        )
        params[f"f{i}"] = Param(
            1e-3,
            100,
            grid=(0.1, 1.0) if small else (0.05, 0.3, 1.0, 3.0),
            log=True,
            description=f"sharpness of break {i} (smaller = sharper)",
        )

    def bnsl(x, a, b, c0, **breaks):
        # In log space, log(1 + (x/d)^(1/f)) = logaddexp(0, log(x/d)/f): sharp breaks (small f)
        # would otherwise overflow (x/d)^(1/f) to inf far beyond the break.
        log_x = np.log(x)
        log_y = -c0 * log_x
        for i in range(1, n_breaks + 1):
            c, d, f = breaks[f"c{i}"], breaks[f"d{i}"], breaks[f"f{i}"]
            log_y = log_y - c * f * np.logaddexp(0.0, (log_x - np.log(d)) / f)
        return a + b * np.exp(log_y)

    bnsl.__doc__ = bnsl_law.__doc__
    return define_law(
        bnsl,
        name=f"bnsl{n_breaks}" if n_breaks > 1 else "bnsl",
        inputs={"x": "params"},
        params=params,
        linear=("a", "b"),
        formula="y = a + b x^-c0 prod_i (1 + (x/d_i)^(1/f_i))^(-c_i f_i)" + f"  [{n_breaks} break(s)]",
        reference="Caballero et al. 2022, arXiv:2210.14891 (eq. 1)",
        aliases=("bnsl1",) if n_breaks == 1 else (),
    )


for _k in (1, 2, 3):
    register(bnsl_law(_k))
del _k, itertools
