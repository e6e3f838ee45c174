"""The objective a fit minimises, built from a runs table: columns, target, loss, weights, fixed/bounds.

:func:`build_problem` validates what a fit needs and builds the solver's
:class:`~scalinglab.fit._solver.Problem`; :func:`fit_problem` rebuilds it for an
existing fit with the same options (for refits, resampling and design).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.fit._losses import get_loss
from scalinglab.fit._solver import Problem
from scalinglab.laws import Law

__all__ = ["resolve_columns", "build_problem", "fit_problem", "require_enough_points"]


def resolve_columns(law: Law, x: str | Mapping[str, str] | None) -> dict[str, str]:
    """Map each input symbol of ``law`` to a runs-table column.

    ``x`` may be a column name (single-input laws) or a ``{symbol: column}`` mapping
    (which may also be given as ``{column_default: column}``).
    """
    columns = dict(law.inputs)
    if x is None:
        return columns
    if isinstance(x, str):
        if len(columns) != 1:
            raise InvalidParameterError(
                f"fit(): law '{law.name}' has inputs {list(columns)}; give x as a mapping such as "
                + ", ".join(f"{s}='{c}'" for s, c in columns.items()),
                hint="x={" + ", ".join(f"'{s}': '{c}'" for s, c in columns.items()) + "}",
                cli_hint=" ".join(f"--x {s}={c}" for s, c in columns.items()),
            )
        return {next(iter(columns)): x}
    by_default = {col: sym for sym, col in law.inputs.items()}
    for key, col in dict(x).items():
        sym = key if key in columns else by_default.get(key)
        if sym is None:
            raise InvalidParameterError(
                f"fit(): law '{law.name}' has no input '{key}' (inputs: {dict(law.inputs)})",
                hint=f"name one of its inputs {list(law.inputs)}",
                cli_hint=f"name one of its inputs with --x SYMBOL=COLUMN ({list(law.inputs)})",
            )
        columns[sym] = col
    return columns


def build_problem(
    law: Law,
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    y: str,
    *,
    loss: str,
    delta: float,
    space: str,
    weights=None,
    fixed=None,
    bounds=None,
    source: str = "<data>",
) -> Problem:
    """Validate the columns a fit needs and build the solver's :class:`Problem`."""
    needed = list(columns.values()) + [y]
    for col in needed:
        if col not in frame:
            raise DataError(
                f"law '{law.name}' needs column '{col}', which the runs table lacks (columns: {list(frame.columns)})",
                source=source,
                column=col,
                kind="missing-column",
                hint=f"map it with read_runs(..., {col}='...'), or point the law elsewhere with x=... / y=...",
                cli_hint=f"map it with --map {col}=YOUR_COLUMN, or point the law elsewhere with --x / --y",
            )
    inputs = {}
    for sym, col in columns.items():
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        _check_column(values, col, source, positive=True)
        inputs[sym] = values
    target = pd.to_numeric(frame[y], errors="coerce").to_numpy(dtype=float)
    _check_column(target, y, source, positive=(space == "log"))
    w = None
    if weights is not None:
        w = np.asarray(frame[weights] if isinstance(weights, str) else weights, dtype=float)
        if w.shape != target.shape or np.any(~np.isfinite(w)) or np.any(w < 0):
            raise InvalidParameterError(
                "fit(): 'weights' must be finite, non-negative and one per row",
                hint="pass one finite weight >= 0 per row",
            )
    fixed = {k: float(v) for k, v in (fixed or {}).items()}
    for name in list(fixed) + list(bounds or {}):
        if name not in law.params:
            raise InvalidParameterError(
                f"fit(): law '{law.name}' has no parameter '{name}' (parameters: {list(law.params)})",
                hint=f"use one of {list(law.params)} (scalinglab laws lists each law's)",
            )
    return Problem(
        law=law,
        inputs=inputs,
        y=target,
        loss=get_loss(loss, delta),
        space=space,
        weights=w,
        fixed=fixed,
        bounds=dict(bounds or {}),
    )


def _check_column(values: np.ndarray, col: str, source: str, positive: bool) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"value is missing or not a number ({int(bad.sum())} such row(s))",
            source=source,
            row=i + 1,
            column=col,
            kind="non-finite-value",
            hint="drop or fill those rows before fitting",
        )
    if positive and np.any(values <= 0):
        i = int(np.flatnonzero(values <= 0)[0])
        raise DataError(
            f"expected {col} > 0, got {values[i]:g}",
            source=source,
            row=i + 1,
            column=col,
            kind="non-positive-value",
            hint="fits in log space need positive values; drop the row or use space='linear'",
        )


def require_enough_points(problem: Problem, source: str = "<data>") -> None:
    """Raise DataError unless the problem has more (weighted-in) points than free parameters."""
    n_free = len(problem.names)
    n_eff = int(np.sum(problem.weights > 0)) if problem.weights is not None else problem.n
    if n_eff <= n_free:
        raise DataError(
            f"law '{problem.law.name}' has {n_free} free parameters but only {n_eff} data point(s) were given",
            source=source,
            kind="too-few-points",
            hint=f"give at least {n_free + 1} points (more than {2 * n_free} for a trustworthy fit), "
            "use a law with fewer parameters, or fix some with fixed={...}",
            cli_hint=f"give at least {n_free + 1} points (more than {2 * n_free} for a trustworthy fit), "
            "use a law with fewer parameters (--law), or fix some with --fix NAME=VALUE",
        )


def fit_problem(
    fit, frame: pd.DataFrame | None = None, weights: np.ndarray | None = None, source: str = "<data>"
) -> Problem:
    """The problem of ``fit`` (same law, columns, target, loss, space, fixed parameters, bounds)
    on ``frame`` (default: the fitted rows) with optional per-row ``weights``."""
    o = fit.options
    if frame is None:
        frame = fit.data
        if weights is None and "_weight" in frame:
            weights = frame["_weight"].to_numpy()
    return build_problem(
        fit.law,
        frame,
        fit.columns,
        fit.target,
        loss=o["loss"],
        delta=o["delta"],
        space=o["space"],
        weights=weights,
        fixed=o.get("fixed"),
        bounds={k: tuple(v) for k, v in o.get("bounds", {}).items()},
        source=source,
    )
