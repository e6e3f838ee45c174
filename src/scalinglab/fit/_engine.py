"""The solving core: one global fit of a :class:`~scalinglab.fit._solver.Problem`, and refits with a fit's options.

:func:`solve` is what every fit runs: the variable-projection grid search over the
law's starting grid, the ``n_starts`` best distinct points, and a joint batched
Levenberg-Marquardt refinement of them (:mod:`scalinglab.fit._solver`); the best
refined start wins.  :func:`refit` repeats a fit on other rows or weights with the
same law, columns and options (nested backtests, calibration).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalinglab.data import read_runs
from scalinglab.errors import FitError, InvalidParameterError
from scalinglab.fit._problem import fit_problem, require_enough_points
from scalinglab.fit._solver import Problem, grid_search, refine, select_starts

__all__ = ["Solution", "solve", "refit", "SOLVER_DEFAULTS"]

#: Search settings of :func:`solve` (``fit()``'s defaults).
SOLVER_DEFAULTS = {"n_starts": 8, "max_grid": 20000, "seed": 0}
#: Levenberg-Marquardt iteration cap of a fit's refinement.
MAX_ITER = 1000


@dataclass(frozen=True)
class Solution:
    """The optimum of one problem: internal coordinates ``u`` and named ``params`` (fixed ones included)."""

    u: np.ndarray
    params: dict[str, float]
    objective: float
    converged: bool
    n_iter: int
    nfev: int
    n_starts: int
    n_grid: int
    start_objectives: np.ndarray


def solve(problem: Problem, *, n_starts: int = 8, max_grid: int = 20000, seed: int = 0,
          max_iter: int = MAX_ITER) -> Solution:
    """Global fit: grid search with exact linear parameters, ``n_starts`` starts, batched refinement.

    Raises
    ------
    FitError
        No admissible starting point (every start gave non-finite predictions).
    """
    grid = grid_search(problem, max_points=max_grid, seed=seed)
    starts = select_starts(grid.u, grid.objective, n_starts, problem)
    if len(starts) == 0:
        raise FitError(f"every starting point of law '{problem.law.name}' gives non-finite or non-positive "
                       "predictions on this data", hint="check the units of the inputs and target, or give "
                                                        "bounds=/fixed=")
    result = refine(problem, starts, max_iter=max_iter)
    best = int(np.argmin(result.objective))
    u_best = result.u[best]
    theta = problem.to_theta(u_best[None, :])[0]
    params = {p: float(theta[i]) for i, p in enumerate(problem.names)}
    params.update({k: float(v) for k, v in problem.fixed.items()})
    return Solution(u=u_best, params={p: params[p] for p in problem.law.params},
                    objective=float(result.objective[best]), converged=bool(result.converged[best]),
                    n_iter=int(result.n_iter[best]), nfev=int(result.nfev), n_starts=len(starts),
                    n_grid=grid.n_admissible, start_objectives=np.sort(result.objective))


def refit(fit, data: pd.DataFrame | None = None, *, weights: np.ndarray | str | None = None) -> Solution:
    """Fit ``fit``'s law again, with its columns, target and options, to ``data`` (or reweighted rows).

    The one definition of "refit with the same options": loss, delta, space, fixed
    parameters, bounds, ``n_starts``, ``max_grid`` and ``seed`` all come from
    ``fit.options``; rows go through :func:`~scalinglab.read_runs` as in ``fit()``.

    Parameters
    ----------
    fit : Fit
    data : DataFrame, optional
        Rows with the fit's columns (default: the fitted rows).
    weights : array or column name, optional
        Per-row weights (e.g. 0 to hold rows out): an array over the fitted rows (without
        ``data``), or a column of ``data``.

    Raises
    ------
    DataError
        Fewer points than free parameters.
    FitError
        No admissible starting point.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglab.fit import fit
    >>> N = np.repeat([1e7, 3e7, 1e8, 3e8, 1e9], 4); D = np.tile([1e9, 3e9, 1e10, 3e10], 5)
    >>> f = fit(pd.DataFrame({"params": N, "tokens": D, "loss": 1.7 + 400 / N**0.34 + 410 / D**0.28}))
    >>> small = f.data[f.data["params"] < 1e9]
    >>> round(refit(f, small).params["alpha"], 3)
    0.34
    """
    source = "<data>"
    if data is not None and weights is not None and not isinstance(weights, str):
        raise InvalidParameterError("refit(): with data=, give weights as a column name of data",
                                    hint="or reweight the fitted rows with refit(fit, weights=array)")
    if data is not None:
        runs = read_runs(data, required=())
        data, source = runs.frame, runs.source
    problem = fit_problem(fit, data, weights, source=source)
    require_enough_points(problem, source)
    o = fit.options
    return solve(problem, n_starts=o.get("n_starts", SOLVER_DEFAULTS["n_starts"]),
                 max_grid=o.get("max_grid", SOLVER_DEFAULTS["max_grid"]), seed=o.get("seed", SOLVER_DEFAULTS["seed"]))
