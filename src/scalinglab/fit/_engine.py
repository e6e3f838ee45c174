"""The solving core: one global fit of a :class:`~scalinglab.fit._solver.Problem`, and refits with a fit's options.

:func:`solve` is what every fit runs: the variable-projection grid search over the
law's starting grid, the ``n_starts`` best distinct points, and a joint batched
Levenberg-Marquardt refinement of them (:mod:`scalinglab.fit._solver`); the best
refined start wins.  :func:`refit` repeats a fit on other rows or weights with the
same law, columns and options (nested backtests, calibration).  :func:`solve_many`
solves many independent problems at once: a grid stage per problem, then one stacked
refinement of all their starts (what ``fit_many`` runs on the serial backend).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import SimpleNamespace

import numpy as np
import pandas as pd

from scalinglab.data import read_runs
from scalinglab.errors import FitError, InvalidParameterError
from scalinglab.fit._problem import fit_problem, require_enough_points
from scalinglab.fit._solver import (
    Problem,
    StackedBatch,
    grid_search,
    refine,
    select_starts,
    stack_key,
    stack_problems,
)

__all__ = ["Solution", "solve", "solve_many", "refit", "SOLVER_DEFAULTS"]

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


def solve(
    problem: Problem, *, n_starts: int = 8, max_grid: int = 20000, seed: int = 0, max_iter: int = MAX_ITER
) -> Solution:
    """Global fit: grid search with exact linear parameters, ``n_starts`` starts, batched refinement.

    Above :data:`SUBSAMPLE_AT` points the search (grid and a first refinement) runs on a
    random subsample and its best distinct optima are refined on all points.

    Raises
    ------
    FitError
        No admissible starting point (every start gave non-finite predictions).
    """
    search = _subsample(problem, seed) if problem.n > SUBSAMPLE_AT and not problem.stacked else problem
    grid = grid_search(search, max_points=max_grid, seed=seed)
    starts = select_starts(grid.u, grid.objective, n_starts, search)
    if len(starts) == 0:
        raise FitError(
            f"every starting point of law '{problem.law.name}' gives non-finite or non-positive "
            "predictions on this data",
            hint="check the units of the inputs and target, or give bounds=/fixed=",
        )
    if search is not problem:  # many points: the starts' optima on the subsample start the full refinement
        pre = refine(search, starts, max_iter=max_iter, group=np.zeros(len(starts), int))
        order = np.argsort(pre.objective, kind="stable")
        starts = select_starts(pre.u[order], pre.objective[order], FULL_STARTS, search)
    result = refine(problem, starts, max_iter=max_iter, group=np.zeros(len(starts), int))
    sol = _solution(
        problem, result.u, result.objective, result.converged, result.n_iter, int(result.nfev), grid.n_admissible
    )
    return _revive(problem, sol, max_iter)


def _revive(problem: Problem, sol: Solution, max_iter: int) -> Solution:
    """:func:`_revive_starts` refined; the best replaces ``sol`` if its objective is lower."""
    starts = _revive_starts(problem, sol)
    if starts is None:
        return sol
    res = refine(problem, starts, max_iter=max_iter, group=np.zeros(len(starts), int))
    return _better(problem, sol, res.u, res.objective, res.converged, res.n_iter, int(res.nfev))


#: Extra starts refined where a coefficient ended at 0 (see :func:`_revive_starts`).
REVIVE_STARTS = 4


def _revive_starts(problem: Problem, sol: Solution) -> np.ndarray | None:
    """Starts for another try where a coefficient's term ended without shape, or None.

    A coefficient at 0 (or so small that its term is flat: A = 1e-21 at alpha = 3) leaves its
    exponent free, and a term that is a constant (alpha = 0) only duplicates the floor: at
    such points the refinement cannot tell that the term would help at another exponent.  The
    starts put each of the term's exponents at :data:`REVIVE_STARTS` values spread over its
    grid and the coefficient's term at 1% of the prediction.
    """
    law, names, u = problem.law, problem.names, sol.u
    if problem.stacked:
        return None
    if problem.n > SUBSAMPLE_AT:  # the checks and starts need the term's shape, not every point
        problem = _subsample(problem, 0)
    f0 = problem.predict_theta(problem.to_theta(u[None, :]))[0]
    level = float(np.mean(np.abs(f0)))
    nonlinear = [q for q, p in enumerate(names) if p not in law.linear]
    stuck: dict[int, list[int]] = {}
    for i, p in enumerate(names):
        if p not in law.linear or problem.is_log[i] or problem.lower[i] != 0 or not np.isfinite(level):
            continue
        col = _column(problem, u, i)
        if not np.all(np.isfinite(col)) or np.ptp(u[i] * col) > 1e-6 * level:
            continue  # the term shapes the fit
        partners = []
        for q in nonlinear:  # the exponents the term depends on
            probe = u.copy()
            probe[q] = u[q] + (0.1 if u[q] + 0.1 <= problem.upper[q] else -0.1)
            if not np.allclose(_column(problem, probe, i), col, rtol=1e-9, atol=0.0):
                partners.append(q)
        if partners:
            stuck[i] = partners
    starts = []
    for i, partners in stuck.items():
        for q in partners:
            grid = law.params[names[q]].start_values(problem.inputs, problem.y)
            for value in grid[np.unique(np.linspace(0, len(grid) - 1, REVIVE_STARTS).round().astype(int))]:
                c = u.copy()
                c[q] = np.log(value) if problem.is_log[q] else value
                c = np.clip(c, problem.lower, problem.upper)
                with np.errstate(all="ignore"):  # the coefficient's term at 1% of the prediction
                    c[i] = 0.01 * level / np.mean(_column(problem, c, i))
                if np.all(np.isfinite(c)) and c[i] > 0:
                    starts.append(c)
    return np.array(starts) if starts else None


def _column(problem: Problem, u: np.ndarray, i: int) -> np.ndarray:
    """The term of linear parameter ``i`` per unit of it, at ``u``: f(theta_i = 1) - f(theta_i = 0)."""
    one, zero = u.copy(), u.copy()
    one[i], zero[i] = 1.0, 0.0
    with np.errstate(all="ignore"):
        f = problem.predict_theta(problem.to_theta(np.stack([one, zero])))
    return f[0] - f[1]


def _better(problem: Problem, sol: Solution, u, objective, converged, n_iter, nfev: int) -> Solution:
    """``sol``, or the best of the extra refined starts if its objective is lower."""
    extra = _solution(problem, u, objective, converged, n_iter, nfev, sol.n_grid)
    if not extra.objective < sol.objective * (1 - 1e-12):
        return sol
    return replace(
        extra,
        nfev=sol.nfev + nfev,
        n_starts=sol.n_starts + len(u),
        start_objectives=np.sort(np.concatenate([sol.start_objectives, objective])),
    )


def _solution(
    problem: Problem,
    u: np.ndarray,
    objective: np.ndarray,
    converged: np.ndarray,
    n_iter: np.ndarray,
    nfev: int,
    n_grid: int,
) -> Solution:
    """The best refined start of one problem."""
    best = int(np.argmin(objective))
    u_best = u[best]
    theta = problem.to_theta(u_best[None, :])[0]
    params = {p: float(theta[i]) for i, p in enumerate(problem.names)}
    params.update({k: float(v) for k, v in problem.fixed.items()})
    return Solution(
        u=u_best,
        params={p: params[p] for p in problem.law.params},
        objective=float(objective[best]),
        converged=bool(converged[best]),
        n_iter=int(n_iter[best]),
        nfev=nfev,
        n_starts=len(u),
        n_grid=n_grid,
        start_objectives=np.sort(objective),
    )


#: Points above which the grid stage and the first refinement run on a random subsample of
#: :data:`SUBSAMPLE` points; the :data:`FULL_STARTS` best distinct optima found there are then
#: refined on all points (time and memory stay linear in the points, whatever the grid).
SUBSAMPLE_AT = 50_000
SUBSAMPLE = 20_000
FULL_STARTS = 2


def _subsample(problem: Problem, seed: int) -> Problem:
    rows = np.sort(np.random.default_rng(seed).choice(problem.n, SUBSAMPLE, replace=False))
    return Problem(
        law=problem.law,
        inputs={k: np.broadcast_to(v, (problem.n,))[rows] for k, v in problem.inputs.items()},
        y=problem.y[rows],
        loss=problem.loss,
        space=problem.space,
        weights=None if problem.weights is None else problem.weights[rows],
        fixed=dict(problem.fixed),
        bounds=dict(problem.bounds),
    )


#: Largest padded size over smallest data size within one stacked refinement (bounds padding waste).
_PAD_RATIO = 1.5
#: ... or at most this many padding points (small data sets).
_PAD_EXTRA = 64


def solve_many(
    problems: list[Problem], *, n_starts: int = 8, max_grid: int = 20000, seed: int = 0, max_iter: int = MAX_ITER
) -> list[Solution | None]:
    """:func:`solve` for many independent problems, their refinements stacked into few batched calls.

    Each problem gets its own grid stage and starts; then the starts of all problems that
    share a law, loss, space, bounds and fixed parameters (and similar sizes) are refined by
    one :func:`~scalinglab.fit._solver.refine` call on a stacked problem (smaller data sets
    padded with zero-weight points).  Rows are independent, so every problem ends where
    :func:`solve` would.  ``None`` for a problem without an admissible start (:func:`solve`
    raises the error).
    """
    out: list[Solution | None] = [None] * len(problems)
    prepared: dict[tuple, list[tuple[int, np.ndarray, int]]] = {}
    for i, problem in enumerate(problems):
        grid = grid_search(problem, max_points=max_grid, seed=seed)
        starts = select_starts(grid.u, grid.objective, n_starts, problem)
        if len(starts):
            prepared.setdefault(stack_key(problem), []).append((i, starts, grid.n_admissible))
    for members in prepared.values():
        for (i, _starts, n_grid), r, nfev in _refine_members(members, problems, max_iter):
            out[i] = _solution(problems[i], r.u, r.objective, r.converged, r.n_iter, nfev, n_grid)
    _revive_many(problems, out, max_iter)
    return out


def _refine_members(members: list[tuple], problems: list[Problem], max_iter: int):
    """Refine the starts of every member ``(index, starts, ...)`` in one call (:func:`_batch`); yield each
    member with its rows of the result (``u``, ``objective``, ``converged``, ``n_iter``) and its nfev."""
    batch, order = _batch(members, problems)
    group = np.repeat(np.arange(len(order)), [len(m[1]) for m in order])
    result = refine(batch, np.concatenate([m[1] for m in order]), max_iter=max_iter, group=group)
    b = 0
    for m in order:
        rows = slice(b, b + len(m[1]))
        b += len(m[1])
        part = SimpleNamespace(
            u=result.u[rows],
            objective=result.objective[rows],
            converged=result.converged[rows],
            n_iter=result.n_iter[rows],
        )
        yield m, part, int((part.n_iter.max() + 1) * problems[m[0]].nfev_per_jacobian)


def _batch(members: list[tuple], problems: list[Problem]) -> tuple[StackedBatch, list[tuple]]:
    """One :class:`StackedBatch` of the problems of ``members`` ``(index, starts, ...)``, and the members in its order.

    Problems are sorted by size and stacked in parts of similar sizes (padding at most
    :data:`_PAD_RATIO`), every data set held once; all parts are refined in one call.
    """
    members = sorted(members, key=lambda m: problems[m[0]].n)
    stacks, repeats, order = [], [], []
    while members:
        n0 = problems[members[0][0]].n
        take = [m for m in members if problems[m[0]].n <= max(n0 * _PAD_RATIO, n0 + _PAD_EXTRA)]
        members = members[len(take) :]
        stacks.append(stack_problems([problems[m[0]] for m in take], [1] * len(take)))
        repeats.append([len(m[1]) for m in take])
        order += take
    return StackedBatch(stacks, repeats), order


def _revive_many(problems: list[Problem], out: list[Solution | None], max_iter: int) -> None:
    """:func:`_revive` for every solution of a batch, the extra starts refined in stacked calls."""
    extra: dict[tuple, list[tuple[int, np.ndarray]]] = {}
    for i, sol in enumerate(out):
        starts = None if sol is None else _revive_starts(problems[i], sol)
        if starts is not None:
            extra.setdefault(stack_key(problems[i]), []).append((i, starts))
    for members in extra.values():
        for (i, _starts), r, nfev in _refine_members(members, problems, max_iter):
            out[i] = _better(problems[i], out[i], r.u, r.objective, r.converged, r.n_iter, nfev)


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
        raise InvalidParameterError(
            "refit(): with data=, give weights as a column name of data",
            hint="or reweight the fitted rows with refit(fit, weights=array)",
        )
    if data is not None:
        runs = read_runs(data, required=())
        data, source = runs.frame, runs.source
    problem = fit_problem(fit, data, weights, source=source)
    require_enough_points(problem, source)
    o = fit.options
    return solve(
        problem,
        n_starts=o.get("n_starts", SOLVER_DEFAULTS["n_starts"]),
        max_grid=o.get("max_grid", SOLVER_DEFAULTS["max_grid"]),
        seed=o.get("seed", SOLVER_DEFAULTS["seed"]),
    )
