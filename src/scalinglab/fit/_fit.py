"""The fitting front door: ``fit(data, law) -> Fit``."""

from __future__ import annotations

import warnings
from collections.abc import Generator, Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from scalinglab._validation import check_int, check_options, check_positive_float
from scalinglab.data import RunsTable, read_runs
from scalinglab.errors import (
    ConvergenceWarning,
    IdentifiabilityWarning,
    InvalidParameterError,
    ParameterAtBoundWarning,
)
from scalinglab.fit._engine import Solution, solve
from scalinglab.fit._problem import build_problem, require_enough_points, resolve_columns
from scalinglab.fit._result import Diagnostic, Fit
from scalinglab.fit._solver import Problem
from scalinglab.laws import Law, get_law

__all__ = ["fit", "resolve_columns", "build_problem"]


def fit(
    data: RunsTable | pd.DataFrame | str,
    law: str | Law = "chinchilla",
    *,
    x: str | Mapping[str, str] | None = None,
    y: str = "loss",
    loss: str = "huber",
    delta: float = 1e-3,
    space: str = "log",
    weights: str | np.ndarray | None = None,
    fixed: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    n_starts: int = 8,
    max_grid: int = 20000,
    seed: int = 0,
    by: str | None = None,
    borrow_from: str | Sequence[str] | None = None,
    borrow_when: str = "undetermined",
    borrow_scale: str = "relative",
) -> Fit:
    """Fit a scaling law to runs, robustly and globally.

    Objective: ``sum_i w_i rho(r_i)`` with ``r_i = log y_i - log f(x_i)`` (``space="log"``)
    and ``rho`` the Huber loss (``delta=1e-3``, Hoffmann et al. 2022) or squared loss.
    Search: every point of the law's starting grid is evaluated with the linear
    parameters solved exactly (variable projection); the ``n_starts`` best distinct
    points are refined jointly by a batched, bounded Levenberg-Marquardt.

    Parameters
    ----------
    data : RunsTable, DataFrame or path
        Runs (see :func:`scalinglab.read_runs`); every row given is fitted, so select
        checkpoints first (:func:`scalinglab.select_checkpoints`).
    law : str or Law
        A registered law name (``scalinglab laws``) or a :class:`~scalinglab.laws.Law`.
    x : str or mapping, optional
        Columns feeding the law's inputs: ``x="flops"`` for one-input laws, or
        ``{"N": "params", "D": "tokens"}``.  Defaults come from the law.
    y : str
        Target column.
    loss : {"huber", "squared"}
    delta : float
        Huber threshold on the residual scale (log-loss units by default).
    space : {"log", "linear"}
        Residuals on log(y) (default) or on y.
    weights : column name or array, optional
        Per-row weights (e.g. to down-weight checkpoints of one run).
    fixed : mapping, optional
        Parameters held at given values (e.g. ``{"E": 1.69}``).
    bounds : mapping, optional
        Override a parameter's bounds, ``{"alpha": (0.1, 1.0)}``.
    n_starts : int
        Grid points refined by the local optimiser.
    max_grid : int
        Cap on the starting grid; larger grids are subsampled with ``seed``.
    by : str, optional
        Fit each group of rows sharing a value of this column separately (e.g.
        ``by="family"``) through :func:`~scalinglab.fit.fit_many`; returns a
        :class:`~scalinglab.fit.FitSet` with one summary table.  Without it, a table
        holding several families warns (:class:`~scalinglab.fit.PooledFamiliesWarning`).
    borrow_from : "others" or group names, optional
        With ``by=``: a group whose own runs cannot set the size term (one model size,
        or ``A``/``alpha`` at a bound) is refitted with it borrowed from these groups'
        fits (single-model transfer, Choshen et al. 2024); ``FitSet.borrowed`` says what
        and from whom, and ``FitSet.predict`` widens its intervals by the lenders'
        disagreement.  ``borrow_when="always"`` refits every group so;
        ``borrow_scale`` as in :func:`~scalinglab.evaluate.backtest`.

    Returns
    -------
    Fit (FitSet with ``by=``)

    Raises
    ------
    DataError
        Missing/invalid columns or fewer points than free parameters.
    FitError
        No admissible starting point (every start gave non-finite predictions).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> N = np.repeat([1e7, 3e7, 1e8, 3e8, 1e9], 4); D = np.tile([1e9, 3e9, 1e10, 3e10], 5)
    >>> L = 1.7 + 400 / N**0.34 + 410 / D**0.28
    >>> f = fit(pd.DataFrame({"params": N, "tokens": D, "loss": L}), "chinchilla")
    >>> round(f.params["E"], 3), round(f.params["alpha"], 3), round(f.params["beta"], 3)
    (1.7, 0.34, 0.28)
    """
    return drive(
        fit_steps(
            data,
            law,
            x=x,
            y=y,
            loss=loss,
            delta=delta,
            space=space,
            weights=weights,
            fixed=fixed,
            bounds=bounds,
            n_starts=n_starts,
            max_grid=max_grid,
            seed=seed,
            by=by,
            borrow_from=borrow_from,
            borrow_when=borrow_when,
            borrow_scale=borrow_scale,
        )
    )


def fit_steps(
    data: RunsTable | pd.DataFrame | str,
    law: str | Law = "chinchilla",
    *,
    x: str | Mapping[str, str] | None = None,
    y: str = "loss",
    loss: str = "huber",
    delta: float = 1e-3,
    space: str = "log",
    weights: str | np.ndarray | None = None,
    fixed: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    n_starts: int = 8,
    max_grid: int = 20000,
    seed: int = 0,
    by: str | None = None,
    borrow_from: str | Sequence[str] | None = None,
    borrow_when: str = "undetermined",
    borrow_scale: str = "relative",
) -> Generator[SolveRequest, Solution, Fit]:
    """:func:`fit` as a generator: it yields one :class:`SolveRequest` and is sent its :class:`Solution`.

    Everything before the solve (reading and checking the runs, building the problem) and
    after it (diagnostics, the :class:`Fit`) happens here, once; :func:`drive` answers the
    request with :func:`~scalinglab.fit._engine.solve`, while
    :func:`~scalinglab.fit.fit_many` gathers the requests of many fits and answers them
    all with one stacked solve.  With ``by=`` it returns the groups' fits without yielding.
    """
    check_options(loss, "loss", ("huber", "squared"), "fit")
    check_options(space, "space", ("log", "linear"), "fit")
    check_positive_float(delta, "delta", "fit")
    check_int(n_starts, "n_starts", "fit", minimum=1)
    check_int(max_grid, "max_grid", "fit", minimum=1)
    lw = get_law(law)
    runs = read_runs(data, required=())
    frame = runs.frame
    if by is not None:  # one fit per group, through fit_many (fit/_groups.py)
        from scalinglab.fit._groups import fit_groups

        options = dict(
            x=x,
            y=y,
            loss=loss,
            delta=delta,
            space=space,
            weights=weights,
            fixed=fixed,
            bounds=bounds,
            n_starts=n_starts,
            max_grid=max_grid,
            seed=seed,
        )
        return fit_groups(
            frame,
            law,
            by,
            options,
            fit_fn=fit,
            borrow_from=borrow_from,
            borrow_when=borrow_when,
            borrow_scale=borrow_scale,
        )
    if borrow_from is not None:
        raise InvalidParameterError(
            "fit(): borrow_from= borrows from other groups of the table and needs by=",
            hint="name the group column, e.g. fit(runs, law, by='family', borrow_from='others')",
            cli_hint="name the group column, e.g. --by family --borrow-from others",
        )
    from scalinglab.fit._groups import PooledFamiliesWarning, pooled_warning

    pooled = pooled_warning(frame)
    if pooled:
        warnings.warn(pooled, PooledFamiliesWarning, stacklevel=4)  # the caller of fit()
    columns = resolve_columns(lw, x)
    _refuse_bookkeeping(columns, y, runs.source)
    problem = build_problem(
        lw,
        frame,
        columns,
        y,
        loss=loss,
        delta=delta,
        space=space,
        weights=weights,
        fixed=fixed,
        bounds=bounds,
        source=runs.source,
    )
    if not problem.names:
        raise InvalidParameterError(
            f"fit(): every parameter of law '{lw.name}' is fixed; there is nothing to fit",
            hint="leave at least one parameter out of fixed=, or use law.evaluate()",
            cli_hint="give --fix for fewer parameters than the law has",
        )
    require_enough_points(problem, runs.source)
    sol = yield SolveRequest(problem, n_starts, max_grid, seed)
    diagnostics = _diagnose(problem, sol.u, sol.converged, frame, columns, runs.source)
    fitted = Fit.from_solution(
        law=lw,
        problem=problem,
        u=sol.u,
        objective=sol.objective,
        converged=sol.converged,
        n_iter=sol.n_iter,
        nfev=sol.nfev,
        n_starts=sol.n_starts,
        n_grid=sol.n_grid,
        columns=columns,
        target=y,
        options={
            "loss": loss,
            "delta": delta,
            "space": space,
            "fixed": dict(problem.fixed),
            "bounds": {k: list(v) for k, v in (bounds or {}).items()},
            "n_starts": n_starts,
            "max_grid": max_grid,
            "seed": seed,
            **({"law_spec": law} if isinstance(law, str) and ":" in law else {}),
        },
        frame=frame,
        notes=runs.notes,
        fingerprint=runs.fingerprint(),
        diagnostics=diagnostics,
        start_objectives=sol.start_objectives,
    )
    extra = _diagnose_intervals(fitted)
    if extra:
        fitted = replace(fitted, diagnostics=tuple(diagnostics) + tuple(extra))
    for d in fitted.diagnostics:
        warnings.warn(d.message, _WARNING_CLASS.get(d.kind, IdentifiabilityWarning), stacklevel=4)
    return fitted


class SolveRequest(NamedTuple):
    """What :func:`fit_steps` asks to have solved: a problem and the search settings."""

    problem: Problem
    n_starts: int
    max_grid: int
    seed: int

    def solve(self) -> Solution:
        return solve(self.problem, n_starts=self.n_starts, max_grid=self.max_grid, seed=self.seed)


def drive(steps: Generator[SolveRequest, Solution, Fit]) -> Fit:
    """Run :func:`fit_steps` to its Fit, answering its request with :func:`~scalinglab.fit._engine.solve`."""
    try:
        request = next(steps)
    except StopIteration as done:
        return done.value
    try:
        steps.send(request.solve())
    except StopIteration as done:
        return done.value
    raise RuntimeError("fit_steps() asked for more than one solve")  # pragma: no cover


def _diagnose_intervals(fitted: Fit) -> list[Diagnostic]:
    """Parameters the (delta-method) intervals show the data cannot pin down."""
    from scalinglab.fit._summary import identifiability
    from scalinglab.fit._uncertainty import delta_intervals

    try:  # fitted.conf_int(0.9, method="delta"), without building its table
        ci = {r["param"]: r for r in delta_intervals(fitted, 0.9)}
    except Exception:  # a curvature that cannot be inverted is reported by _diagnose
        return []
    table = [
        {
            "param": p,
            "value": fitted.params[p],
            "stderr": fitted.stderr.get(p, float("nan")),
            "lower": float(ci[p]["lower"]),
            "upper": float(ci[p]["upper"]),
            "note": "",
        }
        for p in fitted.free_params
        if p in ci
    ]
    return [
        Diagnostic("not-identified" if "not identified" in msg else "zero-width-interval", msg, params=(p,))
        for p, msg in identifiability(table)
    ]


_BOOKKEEPING = ("run", "family", "step", "seed")


def _refuse_bookkeeping(columns: Mapping[str, str], y: str, source: str) -> None:
    """A target or input that is a bookkeeping column (step, seed, run ids), or an input that is the target."""
    from scalinglab.errors import DataError

    if y in _BOOKKEEPING:
        raise DataError(
            f"the target '{y}' is a bookkeeping column, not a measured quantity",
            source=source,
            column=y,
            kind="bookkeeping-column",
            hint="fit a loss or metric column, e.g. y='loss'",
            cli_hint="fit a loss or metric column, e.g. --y loss",
        )
    for sym, col in columns.items():
        if col in _BOOKKEEPING or col == y:
            what = "the target itself" if col == y else "a bookkeeping column"
            raise DataError(
                f"input {sym} reads column '{col}', which is {what}",
                source=source,
                column=col,
                kind="bookkeeping-column",
                hint="feed the law with params, tokens or flops, e.g. x='flops'",
                cli_hint="feed the law with params, tokens or flops, e.g. --x flops",
            )


_WARNING_CLASS = {"not-converged": ConvergenceWarning, "at-bound": ParameterAtBoundWarning}


def _diagnose(
    problem: Problem, u: np.ndarray, converged: bool, frame: pd.DataFrame, columns: Mapping[str, str], source: str
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if not converged:
        out.append(
            Diagnostic(
                "not-converged",
                "the optimiser stopped before its convergence test was met; "
                "the parameters may not be at the optimum (try more n_starts or bounds)",
            )
        )
    for i, name in enumerate(problem.names):
        for side, bound in (("lower", problem.lower[i]), ("upper", problem.upper[i])):
            if np.isfinite(bound) and abs(u[i] - bound) <= 1e-6 * max(1.0, abs(bound)):
                value = float(np.exp(bound)) if problem.is_log[i] else float(bound)
                out.append(
                    Diagnostic(
                        "at-bound",
                        f"parameter '{name}' is at its {side} bound ({value:g}): the bound, not the data, set it",
                        params=(name,),
                    )
                )
    law = problem.law
    distinct_y = np.unique(problem.y).size
    if distinct_y < 2:
        out.append(
            Diagnostic(
                "constant-target",
                f"the target has a single value ({problem.y[0]:g}) in every row: "
                "there is no trend to fit, and the parameters and intervals mean nothing",
            )
        )
    for sym, values in problem.inputs.items():
        distinct = np.unique(values).size
        if distinct < law.min_distinct.get(sym, 3) and len(law.params) > 1:
            if problem.fixed and _exponents_given(problem, u, sym):
                continue  # what sets how the target changes with this input is held fixed, not fitted
            out.append(
                Diagnostic(
                    "few-distinct-values",
                    f"input {sym} ('{columns[sym]}') has only {distinct} distinct value(s); "
                    f"exponents of {sym} cannot be identified",
                    params=(sym,),
                )
            )
    out += _diagnose_rows(problem, u, frame, columns)
    J = problem.jacobian(u[None, :])[0]
    w = problem.weights if problem.weights is not None else np.ones(problem.n)
    if not np.all(np.isfinite(J)):
        out.append(
            Diagnostic(
                "singular-curvature",
                "the curvature of the objective is not finite at the optimum "
                "(inputs or parameters overflow): the intervals and standard errors are meaningless",
            )
        )
        return out
    JtJ = J.T @ (J * w[:, None])
    scale = np.sqrt(np.maximum(np.diag(JtJ), 1e-300))
    Hs = JtJ / np.outer(scale, scale)
    cond = np.linalg.cond(Hs) if Hs.size else 1.0
    if not np.isfinite(cond) or cond > 1e12:
        out.append(
            Diagnostic(
                "singular-curvature",
                f"the objective is flat in some direction (condition number "
                f"{cond:.2g}): some parameters cannot be separated by this data",
            )
        )
    else:
        # Correlations between the nonlinear parameters (exponents, break points): the linear
        # scales always correlate with their exponents when x is far from 1, which is harmless.
        cov = np.linalg.pinv(Hs)
        d = np.sqrt(np.maximum(np.diag(cov), 1e-300))
        corr = cov / np.outer(d, d)
        nonlinear = [i for i, p in enumerate(problem.names) if p not in law.linear]
        for a_i, i in enumerate(nonlinear):
            for j in nonlinear[a_i + 1 :]:
                if abs(corr[i, j]) > 0.99:
                    a, b = problem.names[i], problem.names[j]
                    out.append(
                        Diagnostic(
                            "correlated-parameters",
                            f"parameters '{a}' and '{b}' are almost perfectly correlated "
                            f"(r = {corr[i, j]:+.4f}): the data cannot separate them; widen the "
                            "range of the inputs or fix one of them",
                            params=(a, b),
                        )
                    )
    return out


def _exponents_given(problem: Problem, u: np.ndarray, sym: str) -> bool:
    """Whether every parameter that changes the target's gap between two values of input ``sym`` is fixed
    (e.g. ``A`` and ``alpha`` borrowed for a fit of one model size)."""
    from scalinglab.fit._borrow import size_coupled

    params = {k: float(v[0, 0]) for k, v in problem.param_dict(problem.to_theta(u[None, :])).items()}
    X = {k: np.asarray(v, dtype=float) for k, v in problem.inputs.items()}
    coupled = size_coupled(problem.law, params, X, symbol=sym)
    return bool(coupled) and all(p in problem.fixed for p in coupled)


def _row_name(frame: pd.DataFrame, i: int, columns: Mapping[str, str]) -> str:
    run = f"run '{frame['run'].iloc[i]}'" if "run" in frame else f"row {i + 1}"
    vals = ", ".join(f"{c}={frame[c].iloc[i]:.3g}" for c in dict.fromkeys(columns.values()) if c in frame)
    return f"{run} ({vals})"


def _diagnose_rows(
    problem: Problem, u: np.ndarray, frame: pd.DataFrame, columns: Mapping[str, str]
) -> list[Diagnostic]:
    """Rows that alone set the fit: inputs decades away from all others, high leverage, outliers."""
    out: list[Diagnostic] = []
    n, P = problem.n, len(problem.names)
    if n < 3:
        return out
    # an input value far beyond every other one (e.g. params = 1e300 among 1e7..1e9)
    for sym, values in problem.inputs.items():
        lv = np.log10(values)
        order = np.sort(np.unique(lv))
        if order.size < 3:
            continue
        for side, gap, edge in (("above", order[-1] - order[-2], order[-1]), ("below", order[1] - order[0], order[0])):
            span = order[-2] - order[1] if order.size > 3 else 0.0
            if gap > max(2.0, 2.0 * span):
                rows = np.flatnonzero(lv == edge)
                names = "; ".join(_row_name(frame, int(i), columns) for i in rows[:3])
                out.append(
                    Diagnostic(
                        "isolated-row",
                        f"{columns[sym]} of {names} lies {gap:.1f} decades {side} "
                        "every other row: this row alone sets the fit's extrapolation; check its value "
                        "(units?) or drop it",
                        params=(sym,),
                    )
                )
    if n <= P:
        return out
    r = problem.residuals(u[None, :])[0]
    w = problem.weights if problem.weights is not None else np.ones(n)
    J = problem.jacobian(u[None, :])[0]
    if np.all(np.isfinite(J)) and np.all(np.isfinite(r)):
        Jw = J * np.sqrt(w)[:, None]
        try:
            h = np.einsum("ij,jk,ik->i", Jw, np.linalg.pinv(Jw.T @ Jw), Jw)
        except np.linalg.LinAlgError:
            h = np.zeros(n)
        if n >= 2 * P + 2:
            high = np.flatnonzero(h > 0.95)
            if high.size:
                names = "; ".join(_row_name(frame, int(i), columns) for i in high[:3])
                out.append(
                    Diagnostic(
                        "high-leverage",
                        f"{high.size} row(s) alone pin a direction of the fit "
                        f"(leverage > 0.95): {names}; a change in their loss moves the parameters "
                        "freely",
                    )
                )
        used = w > 0
        med = np.median(r[used])
        mad = 1.4826 * np.median(np.abs(r[used] - med))
        if mad > 0:
            z = np.abs(r - med) / mad
            bad = np.flatnonzero(used & (z > 6) & (np.abs(r - med) > 0.02))
            if bad.size:
                names = "; ".join(_row_name(frame, int(i), columns) for i in bad[np.argsort(-z[bad])][:3])
                out.append(
                    Diagnostic(
                        "outlier-rows",
                        f"{bad.size} row(s) lie more than 6 robust standard "
                        f"deviations from the law: {names}; check them (the Huber loss limits "
                        "their pull, but they may be errors)",
                    )
                )
    return out
