"""Declarative law definitions and the registry of named laws.

A law is a vectorised numpy function plus metadata: its input symbols and the
runs-table columns that feed them, its parameters with bounds and starting grid,
which parameters enter linearly (so the fitter solves them exactly for every
setting of the others: variable projection), the formula and the source paper.
Adding a law means writing one :func:`law`-decorated function; the fitter never
changes.
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from scalinglab.errors import LawDefinitionError, LawError

__all__ = ["Param", "Law", "ComputeOptimum", "law", "register", "get_law", "list_laws", "define_law"]

GridSpec = Sequence[float] | Callable[[Mapping[str, np.ndarray], np.ndarray], Sequence[float]]
#: ``allocation(params, flops, k) -> (N*, D*, valid)`` or a :class:`ComputeOptimum`
AllocationHook = Callable[[Mapping[str, np.ndarray], np.ndarray, float], object]
#: ``derived[name](params) -> value``: a quantity that follows from the parameters alone
DerivedHook = Callable[[Mapping[str, np.ndarray]], np.ndarray]
#: ``jacobian(**inputs, **params) -> (value, {param: d value / d param})``, vectorised like the law
JacobianHook = Callable[..., tuple]


class ComputeOptimum(NamedTuple):
    """Loss-minimising allocation at budgets C under the cost ``C = k N D``, per parameter draw.

    ``params`` and ``tokens`` are the values of the law's inputs whose default columns are
    ``"params"`` (N*) and ``"tokens"`` (D*); ``valid`` is False where no optimum exists
    (NaN there); ``exponent`` is the local exponent a = d log N*/d log C (``None``: the
    caller differentiates numerically).
    """

    params: np.ndarray
    tokens: np.ndarray
    valid: np.ndarray
    exponent: np.ndarray | None = None


@dataclass(frozen=True)
class Param:
    """A law parameter: bounds, starting grid and how the optimiser sees it.

    Parameters
    ----------
    lower, upper : float
        Bounds (``-inf``/``inf`` for none).  Honoured by the fitter.
    grid : sequence of float or callable
        Starting values for the multi-start search.  A callable receives the
        fitted inputs (``{"N": array, ...}``) and returns values, for starts that
        depend on the data's range (break locations, scales).
    log : bool
        Optimise ``log(value)`` instead of ``value`` (for positive scales such as
        ``A`` or ``x0`` that span decades).
    description : str
        One line for summaries.
    """

    lower: float = -math.inf
    upper: float = math.inf
    grid: GridSpec = (1.0,)
    log: bool = False
    description: str = ""

    def start_values(self, inputs: Mapping[str, np.ndarray], y: np.ndarray) -> np.ndarray:
        values = self.grid(inputs, y) if callable(self.grid) else self.grid
        values = np.asarray(list(values), dtype=float)
        lo = self.lower if np.isfinite(self.lower) else -np.inf
        hi = self.upper if np.isfinite(self.upper) else np.inf
        if self.log:
            lo = max(lo, 1e-300)
        return np.unique(np.clip(values, lo, hi))


@dataclass(frozen=True)
class Law:
    """A scaling law: ``target = func(**inputs, **params)``.

    Use :func:`law` to define one; see the attributes there.  ``predictor``
    replaces ``func`` for prediction when the law is implicit (M4).
    """

    name: str
    func: Callable[..., np.ndarray]
    inputs: Mapping[str, str]
    params: Mapping[str, Param]
    linear: tuple[str, ...] = ()
    formula: str = ""
    reference: str = ""
    description: str = ""
    target: str = "loss"
    version: int = 1
    aliases: tuple[str, ...] = ()
    # constraint(params: dict of arrays) -> bool array; False = inadmissible (e.g. M4's eps0 > eps_inf)
    constraint: Callable[[Mapping[str, np.ndarray]], np.ndarray] | None = field(default=None, repr=False)
    # distinct values an input needs before its exponents are identifiable (default 3)
    min_distinct: Mapping[str, int] = field(default_factory=dict)
    # closed-form compute-optimal allocation under C = k N D (see define_law), and its source
    allocation: AllocationHook | None = field(default=None, repr=False)
    allocation_reference: str = ""
    # name -> function of the parameters (derived quantities such as an optimal split)
    derived: Mapping[str, DerivedHook] = field(default_factory=dict, repr=False)
    # how the law's source counts N: "non-embedding", "total" or "" (not stated / no N input)
    params_convention: str = ""
    # analytic derivatives: jacobian(**inputs, **params) -> (value, {param: d value/d param})
    jacobian: JacobianHook | None = field(default=None, repr=False)
    # the parameter that is the irreducible loss (L -> floor as inputs -> inf), if any
    floor: str | None = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.params)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(self.inputs)

    @property
    def nonlinear(self) -> tuple[str, ...]:
        return tuple(p for p in self.params if p not in self.linear)

    @property
    def has_allocation(self) -> bool:
        """Whether the law knows its compute-optimal allocation in closed form."""
        return self.allocation is not None

    def compute_optimum(
        self, params: Mapping[str, object], flops, k: float = 6.0, *, with_exponent: bool = True
    ) -> ComputeOptimum:
        """Closed-form compute-optimal N*, D* at budgets ``flops`` under ``C = k N D``.

        Parameters may be arrays (one entry per draw) that broadcast with ``flops``.
        ``exponent`` is filled in by a central difference in log C when the hook
        does not give it (skipped with ``with_exponent=False``).

        Examples
        --------
        >>> opt = get_law("chinchilla").compute_optimum(
        ...     dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28), 1e21)
        >>> print(f"{float(opt.params):.4g} {float(opt.tokens):.4g} {float(opt.exponent):.4f}")
        1.824e+09 9.136e+10 0.4516
        """
        if self.allocation is None:
            raise LawError(
                f"law '{self.name}' has no closed-form compute-optimal allocation",
                hint="define one with define_law(..., allocation=func) or @law(..., allocation=func), "
                "or minimise numerically with scalinglab.plan.compute_optimal",
            )
        P = {p: np.asarray(v, dtype=float) for p, v in params.items()}
        C = np.asarray(flops, dtype=float)
        with np.errstate(all="ignore"):
            out = self.allocation(P, C, float(k))
        if not isinstance(out, ComputeOptimum):
            out = ComputeOptimum(*out)
        N, D, ok = (np.asarray(v) for v in out[:3])
        ok = ok.astype(bool) & np.isfinite(N) & np.isfinite(D) & (N > 0) & (D > 0)
        exponent = out.exponent
        if exponent is None and with_exponent:
            h = 0.05
            with np.errstate(all="ignore"):
                lo = ComputeOptimum(*self.allocation(P, C * np.exp(-h), float(k)))
                hi = ComputeOptimum(*self.allocation(P, C * np.exp(h), float(k)))
                exponent = (np.log(hi.params) - np.log(lo.params)) / (2 * h)
        return ComputeOptimum(
            np.where(ok, N, np.nan),
            np.where(ok, D, np.nan),
            ok,
            None if exponent is None else np.asarray(exponent, dtype=float),
        )

    def derive(self, name: str, params: Mapping[str, object] | None = None, **values: object) -> np.ndarray:
        """A derived quantity of the parameters (``law.derived[name]``), vectorised over them.

        Examples
        --------
        >>> float(get_law("nmt_encdec").derive("optimal_split", pe=0.5, pd=0.25))
        2.0
        """
        if name not in self.derived:
            raise LawError(
                f"law '{self.name}' has no derived quantity '{name}'",
                hint=f"available: {sorted(self.derived) or 'none'}; add one with "
                "define_law(..., derived={name: func})",
            )
        P = {p: np.asarray(v, dtype=float) for p, v in {**dict(params or {}), **values}.items()}
        with np.errstate(all="ignore"):
            return np.asarray(self.derived[name](P), dtype=float)

    def __call__(self, **kwargs: object) -> np.ndarray:
        """Evaluate the law; inputs by symbol (``N=``) or column name (``params=``)."""
        inputs, params = self.split_arguments(kwargs)
        return self.evaluate(inputs, params)

    def evaluate(self, inputs: Mapping[str, np.ndarray], params: Mapping[str, object]) -> np.ndarray:
        """Vectorised evaluation; parameters may be arrays that broadcast with the inputs."""
        with np.errstate(all="ignore"):
            return np.asarray(self.func(**inputs, **params), dtype=float)

    def split_arguments(self, kwargs: Mapping[str, object]) -> tuple[dict, dict]:
        column_to_symbol = {col: sym for sym, col in self.inputs.items()}
        inputs, params = {}, {}
        for key, value in kwargs.items():
            if key in self.params:
                params[key] = value
            elif key in self.inputs:
                inputs[key] = np.asarray(value, dtype=float)
            elif key in column_to_symbol:
                inputs[column_to_symbol[key]] = np.asarray(value, dtype=float)
            else:
                raise LawError(
                    f"law '{self.name}' has no input or parameter named '{key}'",
                    hint=f"inputs: {dict(self.inputs)}; parameters: {list(self.params)}",
                )
        missing = [p for p in self.params if p not in params]
        if missing:
            raise LawError(f"law '{self.name}' needs values for parameters {missing}")
        missing = [s for s in self.inputs if s not in inputs]
        if missing:
            raise LawError(
                f"law '{self.name}' needs inputs {missing}",
                hint=f"pass them as {', '.join(f'{s}=... or {self.inputs[s]}=...' for s in missing)}",
            )
        return inputs, params

    def __reduce_ex__(self, protocol):
        """Pickle a registered law by name (workers of a batch look it up in their own registry).

        A law's hooks may be lambdas, which do not pickle; an unregistered law
        pickles by value.
        """
        if _REGISTRY.get(self.name) is self:
            return (get_law, (self.name,))
        return super().__reduce_ex__(protocol)

    def describe(self) -> dict:
        """Plain-JSON description used by ``scalinglab laws``."""
        return {
            "name": self.name,
            "formula": self.formula,
            "inputs": dict(self.inputs),
            "params": {
                k: {"lower": p.lower, "upper": p.upper, "linear": k in self.linear, "description": p.description}
                for k, p in self.params.items()
            },
            "target": self.target,
            "reference": self.reference,
            "aliases": list(self.aliases),
            **({"allocation": self.allocation_reference or "closed form"} if self.allocation else {}),
            **({"derived": sorted(self.derived)} if self.derived else {}),
        }


_REGISTRY: dict[str, Law] = {}


def _check_definition(
    func: Callable, inputs: Mapping[str, str], params: Mapping[str, Param], linear: Sequence[str], name: str
) -> None:
    sig = inspect.signature(func)
    has_var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    declared = list(inputs) + list(params)
    if len(set(declared)) != len(declared):
        raise LawDefinitionError(f"law '{name}': an input and a parameter share a name ({declared})")
    if not has_var_kw:
        names = [p for p in sig.parameters]
        if set(names) != set(declared):
            raise LawDefinitionError(
                f"law '{name}': the function's arguments {names} must be exactly the inputs "
                f"{list(inputs)} plus the parameters {list(params)}"
            )
    for p in linear:
        if p not in params:
            raise LawDefinitionError(f"law '{name}': linear parameter '{p}' is not a parameter")
        if params[p].log:
            raise LawDefinitionError(f"law '{name}': linear parameter '{p}' cannot be log-scaled")
    for pname, spec in params.items():
        if not isinstance(spec, Param):
            raise LawDefinitionError(f"law '{name}': parameter '{pname}' must be a Param, got {type(spec).__name__}")
        if spec.lower >= spec.upper:
            raise LawDefinitionError(f"law '{name}': parameter '{pname}' has lower >= upper")
        if spec.log and spec.lower < 0:
            raise LawDefinitionError(f"law '{name}': log-scaled parameter '{pname}' needs lower >= 0")


def define_law(
    func: Callable[..., np.ndarray],
    *,
    name: str,
    inputs: Mapping[str, str],
    params: Mapping[str, Param],
    linear: Sequence[str] = (),
    formula: str = "",
    reference: str = "",
    target: str = "loss",
    aliases: Sequence[str] = (),
    constraint: Callable | None = None,
    version: int = 1,
    min_distinct: Mapping[str, int] | None = None,
    allocation: AllocationHook | None = None,
    allocation_reference: str = "",
    derived: Mapping[str, DerivedHook] | None = None,
    params_convention: str = "",
    jacobian: JacobianHook | None = None,
    floor: str | None = None,
) -> Law:
    """Build a :class:`Law` from a plain function (without registering it).

    Parameters
    ----------
    func : callable
        ``func(**inputs, **params) -> array``, vectorised (parameters may be arrays).
    name : str
    inputs : mapping
        Input symbol -> default runs-table column, e.g. ``{"N": "params", "D": "tokens"}``.
    params : mapping
        Parameter name -> :class:`Param`.
    linear : sequence of str
        Parameters the function is affine in; solved exactly by the fitter.
    formula, reference : str
        Shown by ``scalinglab laws`` and in summaries.
    min_distinct : mapping, optional
        Distinct values each input needs for its exponents to be identified
        (default 3); below it the fit raises an identifiability warning.
    allocation : callable, optional
        The law's compute-optimal allocation in closed form:
        ``allocation(params, flops, k) -> (N*, D*, valid)`` (or a :class:`ComputeOptimum`
        with the exponent a = d log N*/d log C), minimising the law along ``C = k N D``
        with ``params`` a mapping of arrays (one entry per draw).  N* and D* are the
        inputs whose default columns are ``"params"`` and ``"tokens"``.  Planning uses
        it instead of a numeric search (:meth:`Law.compute_optimum`).
    allocation_reference : str
        Where the closed form comes from (shown as the planning solver).
    derived : mapping, optional
        Name -> ``func(params) -> value`` for quantities that follow from the parameters
        (an optimal split, an exponent ratio); see :meth:`Law.derive`.
    params_convention : {"", "non-embedding", "total"}
        How the law's source counts the parameters N (Kaplan et al. 2020: non-embedding;
        Hoffmann et al. 2022: total); stated in every fit summary.
    jacobian : callable, optional
        Analytic derivatives: ``jacobian(**inputs, **params) -> (value, {param: d value / d param})``
        with the law's own signature and broadcasting (a constant derivative may be a scalar).
        The fitter uses it instead of central differences (one evaluation per step instead of
        ``2 P + 1``); it must agree with ``func``.  A hook that also takes ``log_<input>``
        keywords (e.g. ``log_N``) is given the inputs' logarithms, computed once per fit.
    floor : str, optional
        The parameter that is the irreducible loss (the limit as every input grows);
        :func:`scalinglab.fit.decompose` splits the loss into it and the reducible rest.

    Examples
    --------
    >>> import numpy as np
    >>> sq = define_law(lambda x, E, A, alpha: E + A * x ** -alpha, name="my_law",
    ...                 inputs={"x": "params"},
    ...                 params={"E": Param(0, 10, grid=(1.0,)), "A": Param(0, np.inf),
    ...                         "alpha": Param(0, 2, grid=(0.2, 0.5))},
    ...                 linear=("E", "A"), formula="E + A x^-alpha")
    >>> float(sq(x=100.0, E=1.0, A=10.0, alpha=0.5))
    2.0
    """
    params = dict(params)
    _check_definition(func, inputs, params, linear, name)
    if floor is not None and floor not in params:
        raise LawDefinitionError(f"law '{name}': floor '{floor}' is not one of its parameters {list(params)}")
    doc = inspect.getdoc(func) or ""
    return Law(
        name=name,
        func=func,
        inputs=dict(inputs),
        params=params,
        linear=tuple(linear),
        formula=formula or doc.split("\n")[0],
        reference=reference,
        description=doc,
        target=target,
        aliases=tuple(aliases),
        constraint=constraint,
        version=version,
        min_distinct=dict(min_distinct or {}),
        allocation=allocation,
        allocation_reference=allocation_reference,
        derived=dict(derived or {}),
        params_convention=params_convention,
        jacobian=jacobian,
        floor=floor,
    )


def law(**options) -> Callable[[Callable], Callable]:
    """Decorator: define a law from a function and register it under ``name``.

    Takes the keyword arguments of :func:`define_law`.  The decorated function
    is returned unchanged (it stays a plain vectorised numpy function).
    """

    def decorate(func: Callable) -> Callable:
        register(define_law(func, **options))
        return func

    return decorate


def register(definition: Law, *, overwrite: bool = False) -> Law:
    """Add a law to the registry so ``fit(data, "name")`` and the CLI can find it."""
    for key in (definition.name, *definition.aliases):
        if key in _REGISTRY and not overwrite and _REGISTRY[key] is not definition:
            raise LawDefinitionError(
                f"a law named '{key}' is already registered", hint="choose another name or pass overwrite=True"
            )
        _REGISTRY[key] = definition
    return definition


def get_law(name: str | Law) -> Law:
    """Look up a law by name (or return a :class:`Law` unchanged).

    Examples
    --------
    >>> get_law("chinchilla").formula
    'L = E + A/N^alpha + B/D^beta'
    """
    if isinstance(name, Law):
        return name
    if not isinstance(name, str):
        raise LawError(f"expected a law name or Law, got {type(name).__name__}")
    if name in _REGISTRY:
        return _REGISTRY[name]
    if ":" in name:  # "module.path:object" or "file.py:object"
        return _load_external(name)
    close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
    raise LawError(
        f"unknown law '{name}'",
        hint=(f"did you mean {', '.join(close)}? " if close else "")
        + "run `scalinglab laws` to list them, or pass 'module:law_object'",
    )


def list_laws() -> list[Law]:
    """Registered laws, each once, in registration order."""
    seen: dict[int, Law] = {}
    for lw in _REGISTRY.values():
        seen.setdefault(id(lw), lw)
    return list(seen.values())


def _load_external(spec: str) -> Law:
    import importlib
    import importlib.util
    from pathlib import Path

    target, _, attr = spec.rpartition(":")
    try:
        if target.endswith(".py"):
            path = Path(target)
            module_spec = importlib.util.spec_from_file_location(path.stem, path)
            if module_spec is None or not path.exists():
                raise FileNotFoundError(target)
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)  # type: ignore[union-attr]
        else:
            module = importlib.import_module(target)
    except Exception as exc:
        raise LawError(f"cannot import '{target}' for law '{spec}': {exc}") from None
    obj = getattr(module, attr, None)
    if isinstance(obj, Law):
        return obj
    if obj is not None and attr in _REGISTRY:  # module registered it with @law
        return _REGISTRY[attr]
    if isinstance(obj, Callable) and obj.__name__ in _REGISTRY:
        return _REGISTRY[obj.__name__]
    for lw in list_laws():
        if getattr(lw.func, "__name__", None) == attr:
            return lw
    raise LawError(f"'{spec}' is not a Law", hint="point at a Law object or an @law-decorated function")
