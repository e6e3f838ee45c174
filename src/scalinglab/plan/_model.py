"""What a planning verb plans with: a fitted law, or a law and parameter values (published constants).

:func:`resolve_model` turns a :class:`~scalinglab.Fit`, a ``(law, params)`` pair, a
mapping of parameters or a published entry into one :class:`PlanModel`, which
knows which law input is the parameter count N, the token count D (or the
compute C), evaluates the law, and draws parameter samples for intervals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.errors import InvalidParameterError, PlanError
from scalinglab.laws import DEFAULT_LAW, Law, get_law

__all__ = ["PlanModel", "resolve_model", "ROLES", "DEFAULT_LAW"]

#: runs-table columns that have a meaning for planning, by role
ROLES = ("params", "tokens", "flops")
#: a column named ``<part>_params`` counts one part of the parameters (encoder, decoder...)
PART_SUFFIX = "_params"


@dataclass(frozen=True)
class PlanModel:
    """A law, its parameters, and which inputs are N, D and C.

    Attributes
    ----------
    law : Law
    params : dict
    roles : dict
        Role (``"params"``, ``"tokens"``, ``"flops"``) -> input symbol of the law.
    fit : Fit or None
        Present when planning from a fit (intervals come from it).
    draws : DataFrame or None
        Explicit parameter draws (one row per draw) given by the caller.
    label : str
        Where the parameters came from, for summaries.
    fitted_compute : (float, float) or None
        Compute range (6ND) of the fitted runs.
    """

    law: Law
    params: dict[str, float]
    roles: dict[str, str]
    fit: Any = None
    draws: pd.DataFrame | None = None
    label: str = ""
    fitted_compute: tuple[float, float] | None = None
    fitted_params: tuple[float, float] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: input symbols that are parts of the parameter count (columns ``*_params``), in input order
    parts: tuple[str, ...] = ()

    @property
    def has_allocation(self) -> bool:
        return "params" in self.roles and "tokens" in self.roles

    def require_allocation(self, verb: str) -> None:
        """Raise PlanError unless the law has both an N and a D input."""
        if self.has_allocation:
            return
        inputs = dict(self.law.inputs) if self.fit is None else dict(self.fit.columns)
        missing = [r for r in ("params", "tokens") if r not in self.roles]
        if len(self.parts) >= 2:
            raise PlanError(
                f"{verb}: law '{self.law.name}' splits the parameter count into the inputs "
                f"{[inputs[s] for s in self.parts]}; it has no token count to trade against compute",
                hint="split a parameter total with split_params(fit, B) (CLI: scalinglab plan FIT --params B)",
            )
        raise PlanError(
            f"{verb}: law '{self.law.name}' has inputs {inputs}; it needs one input for the parameter count N "
            f"('params') and one for the training tokens D ('tokens') to split compute between them "
            f"(missing: {', '.join(missing)})",
            hint=f"fit a two-input law such as '{DEFAULT_LAW}' (L = E + A/N^alpha + B/D^beta), or say which input "
            "is which with roles={'N': 'params', 'D': 'tokens'}",
        )

    def evaluate(self, N, D, params: Mapping[str, Any] | None = None, cost=None) -> np.ndarray:
        """Loss at (N, D); ``params`` may hold arrays that broadcast with N and D."""
        inputs = {}
        for role, sym in self.roles.items():
            if role == "params":
                inputs[sym] = np.asarray(N, dtype=float)
            elif role == "tokens":
                inputs[sym] = np.asarray(D, dtype=float)
            else:
                if cost is None:
                    from scalinglab.plan._cost import CostModel

                    cost = CostModel()
                inputs[sym] = cost(N, D)
        return self.law.evaluate(inputs, self.params if params is None else params)

    # ------------------------------------------------------------------ uncertainty
    def sample(self, n: int, method: str, seed: int) -> tuple[dict[str, np.ndarray] | None, str | None]:
        """Parameter draws as ``{name: (n,) array}`` and the method used (``None``: no uncertainty)."""
        if self.draws is not None:
            return {p: self.draws[p].to_numpy(dtype=float) for p in self.law.params}, "given draws"
        if self.fit is None:
            return None, None
        from scalinglab.fit._uncertainty import _get_bootstrap, sample_params

        if method == "bootstrap":  # reuse the memoised bootstrap of this fit across planning calls
            boot = _get_bootstrap(self.fit, n, seed, "run", None)
            frame = sample_params(self.fit, n, method="bootstrap", seed=seed, bootstrap=boot)
        else:
            frame = sample_params(self.fit, n, method=method, seed=seed)
        return {p: frame[p].to_numpy(dtype=float) for p in self.law.params}, method

    def stacked(self, draws: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        """Point estimate first, then the draws, as (1 + B,) arrays per parameter."""
        out = {}
        for p in self.law.params:
            point = np.array([self.params[p]], dtype=float)
            out[p] = point if draws is None else np.concatenate([point, np.asarray(draws[p], dtype=float)])
        return out


def _roles_from_columns(
    columns: Mapping[str, str], override: Mapping[str, str] | None, law: Law, parts: list[str] | None = None
) -> dict[str, str]:
    roles: dict[str, str] = {}
    override = dict(override or {})
    for key in override:
        if key not in columns:
            raise InvalidParameterError(f"roles: law '{law.name}' has no input '{key}' (inputs: {list(columns)})")
        if override[key] not in ROLES:
            raise InvalidParameterError(f"roles: '{override[key]}' is not one of {ROLES}")
    for sym, col in columns.items():
        role = override.get(sym, col)
        if role in ROLES:
            if role in roles:
                raise PlanError(f"law '{law.name}' has two inputs playing '{role}' ({roles[role]}, {sym})")
            roles[role] = sym
        elif parts is not None and str(col).endswith(PART_SUFFIX) and sym not in override:
            parts.append(sym)
        else:
            raise PlanError(
                f"law '{law.name}' has an input {sym} ('{col}') that is not the parameter count, token count or "
                f"compute, so planning cannot set it",
                hint="planning needs laws of N ('params'), D ('tokens') and/or C ('flops'); map inputs with "
                "roles={'symbol': 'params' | 'tokens' | 'flops'}",
            )
    return roles


def _check_params(law: Law, params: Mapping[str, Any]) -> dict[str, float]:
    missing = [p for p in law.params if p not in params]
    if missing:
        raise InvalidParameterError(f"law '{law.name}' needs values for parameters {missing} (got {sorted(params)})")
    extra = [p for p in params if p not in law.params]
    if extra:
        raise InvalidParameterError(f"law '{law.name}' has no parameters {extra} (parameters: {list(law.params)})")
    out = {}
    for p in law.params:
        try:
            v = float(params[p])
        except (TypeError, ValueError):
            raise InvalidParameterError(f"parameter '{p}' must be a number; got {params[p]!r}") from None
        if not np.isfinite(v):
            raise InvalidParameterError(f"parameter '{p}' must be finite; got {v}")
        out[p] = v
    return out


def resolve_model(
    model: Any,
    *,
    roles: Mapping[str, str] | None = None,
    draws: pd.DataFrame | None = None,
    law: str | Law | None = None,
) -> PlanModel:
    """Build a :class:`PlanModel` from what a user passes to a planning verb.

    Accepted: a :class:`~scalinglab.Fit`; a ``(law, params)`` pair; a mapping of
    parameter values (with ``law=`` or a ``"law"`` key, defaulting to :data:`DEFAULT_LAW`);
    any object with ``.law`` and ``.params`` (published entries); a :class:`PlanModel`.
    """
    from scalinglab.fit import Fit

    if isinstance(model, PlanModel):
        pm = model
        if draws is not None:
            pm = PlanModel(**{**pm.__dict__, "draws": draws})
        return pm
    fit = None
    notes: tuple[str, ...] = ()
    if isinstance(model, Fit):
        fit = model
        lw, params, columns = fit.law, dict(fit.params), dict(fit.columns)
        label = f"fit of '{lw.name}' to {fit.n_points} points"
    elif isinstance(model, tuple) and len(model) == 2:
        lw = get_law(model[0])
        params, columns = dict(model[1]), dict(lw.inputs)
        label = f"'{lw.name}' with given parameters"
    elif isinstance(model, Mapping):
        params = dict(model)
        lw = get_law(params.pop("law", None) or law or DEFAULT_LAW)
        columns = dict(lw.inputs)
        label = f"'{lw.name}' with given parameters"
    elif hasattr(model, "law") and hasattr(model, "params"):
        lw = get_law(model.law)
        params = dict(model.params)
        if isinstance(getattr(model, "inputs", None), Mapping):  # PublishedLaw: own symbols -> law symbols
            law_inputs = dict(getattr(model, "law_inputs", None) or {})
            columns = {law_inputs.get(sym, sym): col for sym, col in model.inputs.items()}
        else:
            columns = dict(getattr(model, "columns", None) or lw.inputs)
        target = getattr(model, "target", "loss")
        if target != "loss":
            raise PlanError(
                f"'{getattr(model, 'key', lw.name)}' predicts {target!r}, not a loss, so it cannot be minimised",
                hint="plan with a loss law (e.g. published.get('hoffmann2022')); "
                "N_opt(C) frontiers work with compute_optimal()",
            )
        label = str(getattr(model, "key", None) or getattr(model, "name", None) or f"'{lw.name}'")
        ref = getattr(model, "reference", None) or getattr(model, "source", None)
        if isinstance(ref, str) and ref:
            notes = (ref,)
        if draws is None and isinstance(getattr(model, "draws", None), pd.DataFrame):
            draws = model.draws
    else:
        raise InvalidParameterError(
            f"cannot plan with a {type(model).__name__}: pass a Fit, a (law, params) pair, a mapping of parameter "
            "values, or a published entry (scalinglab.published)"
        )
    params = _check_params(lw, params)
    parts: list[str] = []
    rl = _roles_from_columns(columns, roles, lw, parts)
    if len(parts) == 1:
        raise PlanError(
            f"law '{lw.name}' has an input {parts[0]} ('{columns[parts[0]]}') that is one part of the parameter "
            "count with no other part beside it, so planning cannot set it",
            hint="map it to the parameter count with roles={'" + parts[0] + "': 'params'}",
        )
    if draws is not None:
        if not isinstance(draws, pd.DataFrame):
            draws = pd.DataFrame(draws)
        missing = [p for p in lw.params if p not in draws]
        if missing:
            raise InvalidParameterError(f"draws: missing parameter columns {missing}")
    fitted_compute = fitted_params = None
    if fit is not None:
        data = fit.data
        c_sym = rl.get("flops")
        if c_sym is not None:
            C = data[fit.columns[c_sym]].to_numpy(dtype=float)
        elif "params" in rl and "tokens" in rl:
            C = (
                6.0
                * data[fit.columns[rl["params"]]].to_numpy(dtype=float)
                * data[fit.columns[rl["tokens"]]].to_numpy(dtype=float)
            )
        else:
            C = None
        if C is not None and C.size:
            fitted_compute = (float(C.min()), float(C.max()))
        if "params" in rl:
            Nv = data[fit.columns[rl["params"]]].to_numpy(dtype=float)
            fitted_params = (float(Nv.min()), float(Nv.max()))
        elif parts:
            Nv = sum(data[fit.columns[s]].to_numpy(dtype=float) for s in parts)
            fitted_params = (float(Nv.min()), float(Nv.max()))
    return PlanModel(
        law=lw,
        params=params,
        roles=rl,
        fit=fit,
        draws=draws,
        label=label,
        fitted_compute=fitted_compute,
        fitted_params=fitted_params,
        notes=notes,
        parts=tuple(parts),
    )
