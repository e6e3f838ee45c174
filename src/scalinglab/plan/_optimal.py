"""Planning verbs on one law: compute-optimal allocation, budgets, losses, inference-aware and over-trained runs."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._validation import check_fraction, check_int, check_options
from scalinglab.errors import ExtrapolationWarning, InvalidParameterError, PlanError
from scalinglab.plan._cost import CostModel, resolve_cost
from scalinglab.plan._deprecated import renamed
from scalinglab.plan._model import PlanModel, resolve_model
from scalinglab.plan._report import PlanSummary, fmt, jsonable
from scalinglab.plan._solve import budget_for, closed_form_label, has_closed_form, optimum, tokens_for_loss

__all__ = ["Allocation", "compute_optimal", "budget_for_loss", "loss_at", "inference_optimal", "overtrain"]

#: requests this many decades below the fitted compute range are refused
MAX_DECADES_BELOW = 2.0
#: requests this many decades above the fitted compute range raise an ExtrapolationWarning
WARN_DECADES_ABOVE = 3.0
_METHODS = ("bootstrap", "delta")


@dataclass(frozen=True)
class Allocation:
    """Result of a planning verb: one row per budget (or request), with intervals.

    Attributes
    ----------
    kind : str
        ``"compute-optimal"``, ``"budget"``, ``"inference-optimal"`` or ``"overtrain"``.
    table : DataFrame
        One row per request.  Quantities ``q`` come with ``q_lower``/``q_upper`` when an
        interval was asked for and the model carries uncertainty: ``flops``, ``params``
        (N), ``tokens`` (D), ``tokens_per_param``, ``loss``, and per kind ``a``/``b``
        (local exponents d log N*/d log C, d log D*/d log C), ``total_flops``...
    level : float or None
        Interval level (e.g. 0.9).
    method : str or None
        How parameter uncertainty was sampled (``"bootstrap"``, ``"delta"``, ``"given draws"``),
        or None when the model has no uncertainty (published constants).
    n_draws : int
        Parameter draws behind the intervals (``n_resamples`` of the call, or the given draws).
    law, source, cost : str
    solver : str
        ``"closed form (source)"`` (a law with its own allocation, C = kND) or ``"numeric"``.
    warnings : tuple of str
    """

    kind: str
    table: pd.DataFrame
    level: float | None
    method: str | None
    n_draws: int
    law: str
    source: str
    cost: str
    solver: str
    warnings: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def _col(self, name: str) -> np.ndarray:
        return self.table[name].to_numpy(dtype=float)

    @property
    def params(self) -> np.ndarray:
        """N per row."""
        return self._col("params")

    @property
    def tokens(self) -> np.ndarray:
        """D per row."""
        return self._col("tokens")

    @property
    def flops(self) -> np.ndarray:
        return self._col("flops")

    @property
    def loss(self) -> np.ndarray:
        return self._col("loss")

    @property
    def tokens_per_param(self) -> np.ndarray:
        return self._col("tokens_per_param")

    def interval(self, quantity: str) -> pd.DataFrame:
        """``estimate``/``lower``/``upper`` of one quantity, one row per request."""
        if quantity not in self.table:
            raise InvalidParameterError(f"interval(): no quantity '{quantity}' (have {list(self.table.columns)})")
        lo, hi = f"{quantity}_lower", f"{quantity}_upper"
        return pd.DataFrame(
            {
                "estimate": self.table[quantity],
                "lower": self.table[lo] if lo in self.table else np.nan,
                "upper": self.table[hi] if hi in self.table else np.nan,
            }
        )

    def summary(self) -> PlanSummary:
        quantities = [
            q
            for q in (
                "target_loss",
                "served_tokens",
                "ratio",
                "flops",
                "total_flops",
                "params",
                "tokens",
                "tokens_per_param",
                "loss",
                "loss_optimal",
                "excess_loss",
                "compute_overhead",
                "a",
                "b",
            )
            if q in self.table
        ]
        known = set(quantities)
        quantities[1:1] = [  # other quantities of a verb (e.g. the parts of a parameter split), after the request
            q
            for q in self.table.columns
            if q not in known and not q.endswith(("_lower", "_upper")) and q not in ("params", "tokens", "flops")
        ]
        has_iv = any(f"{q}_lower" in self.table for q in quantities)
        columns, rows = [], []
        for q in quantities:
            columns.append(q)
            if has_iv and f"{q}_lower" in self.table:
                columns.append(f"[{q} {int(round((self.level or 0) * 100))}%]")
        for _, r in self.table.iterrows():
            row = []
            for q in quantities:
                row.append(r[q])
                if has_iv and f"{q}_lower" in self.table:
                    row.append(f"{fmt(r[f'{q}_lower'])}..{fmt(r[f'{q}_upper'])}")
            rows.append(row)
        header = [
            ("law", self.law),
            ("source", self.source),
            ("cost", self.cost),
            ("solver", self.solver),
            (
                "uncertainty",
                f"{self.method}, {self.n_draws} draws, {int(round(self.level * 100))}% percentile intervals"
                if self.method and self.level
                else "none (point values; pass a Fit or draws= for intervals)",
            ),
        ]
        header += [("note", n) for n in self.notes]
        title = {
            "compute-optimal": "Compute-optimal allocation",
            "budget": "Compute needed to reach a loss",
            "inference-optimal": "Inference-aware allocation",
            "overtrain": "Over-training at fixed tokens per parameter",
            "parameter-split": "Best split of a parameter total",
        }.get(self.kind, self.kind)
        return PlanSummary(title=title, header=header, columns=columns, rows=rows, warnings=self.warnings)

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "kind": self.kind,
                "law": self.law,
                "source": self.source,
                "cost": self.cost,
                "solver": self.solver,
                "level": self.level,
                "method": self.method,
                "n_draws": self.n_draws,
                "rows": self.table.to_dict(orient="records"),
                "warnings": list(self.warnings),
                "notes": list(self.notes),
            }
        )


# ------------------------------------------------------------------------------ shared helpers


def _prepare(model, *, interval, method, n_resamples, seed, cost, roles, draws, verb, n_draws=None) -> tuple:
    n_resamples = renamed(verb, "n_draws", "n_resamples", n_draws, n_resamples, stacklevel=4)
    if interval is not None:
        check_fraction(interval, "interval", verb)
    check_options(method, "method", _METHODS, verb)
    check_int(n_resamples, "n_resamples", verb, minimum=10)
    pm = resolve_model(model, roles=roles, draws=draws)
    cm = resolve_cost(cost)
    samples, used = (None, None)
    if interval is not None:
        samples, used = pm.sample(n_resamples, method, seed)
    P = pm.stacked(samples)
    return pm, cm, P, used


def _positive_array(value, name: str, verb: str) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{verb}(): '{name}' must be a number or array of numbers; got {value!r}") from None
    if arr.size == 0 or np.any(~np.isfinite(arr)) or np.any(arr <= 0):
        raise InvalidParameterError(f"{verb}(): '{name}' must be finite and > 0; got {value!r}")
    return arr


def _summarise(x: np.ndarray, level: float | None) -> tuple[float, float, float]:
    """Point value (row 0) and percentile interval over the draws (rows 1:)."""
    est = float(x[0])
    if level is None or x.size < 2:
        return est, math.nan, math.nan
    d = x[1:]
    d = d[~np.isnan(d)]
    if d.size == 0:
        return est, math.nan, math.nan
    q = 100.0 * np.array([(1 - level) / 2, (1 + level) / 2])
    lo, hi = np.percentile(d, q)
    return est, float(lo), float(hi)


def _add(row: dict, name: str, x: np.ndarray, level: float | None, with_iv: bool) -> None:
    est, lo, hi = _summarise(x, level)
    row[name] = est
    fixed = x.size > 1 and bool(np.all(x[1:] == x[0]))  # an input of the request, not an estimate
    if with_iv and not fixed:
        row[f"{name}_lower"], row[f"{name}_upper"] = lo, hi


def _check_range(pm: PlanModel, C: np.ndarray, verb: str, warns: list[str]) -> None:
    if pm.fitted_compute is None:
        return
    cmin, cmax = pm.fitted_compute
    below = math.log10(cmin) - np.log10(C)
    if np.any(below > MAX_DECADES_BELOW):
        c = float(C[np.argmax(below)])
        raise PlanError(
            f"{verb}: compute {c:.3g} FLOPs is {float(below.max()):.1f} orders of magnitude below the smallest "
            f"fitted run ({cmin:.3g} FLOPs, 6ND); the law says nothing reliable there",
            hint=f"ask about budgets within ~{MAX_DECADES_BELOW:g} decades of the fitted range "
            f"[{cmin:.3g}, {cmax:.3g}] or fit runs at that scale",
        )
    above = np.log10(C) - math.log10(cmax)
    if np.any(above > WARN_DECADES_ABOVE):
        msg = (
            f"{verb}: extrapolating {float(above.max()):.1f} decades of compute beyond the largest fitted run "
            f"({cmax:.3g} FLOPs); intervals assume the law holds that far"
        )
        warns.append(msg)
        warnings.warn(msg, ExtrapolationWarning, stacklevel=3)


def _draw_note(ok: np.ndarray, what: str) -> tuple[str, ...]:
    bad = int(np.sum(~ok[1:]))
    if bad == 0 or ok.size < 2:
        return ()
    return (f"{bad} of {ok.size - 1} parameter draws have {what}; they are left out of the intervals",)


def _source(pm: PlanModel) -> str:
    return pm.label + (f" ({pm.notes[0]})" if pm.notes else "")


# ------------------------------------------------------------------------------ compute-optimal


def compute_optimal(
    model,
    flops,
    *,
    interval: float | None = 0.9,
    method: str = "bootstrap",
    n_resamples: int = 1000,
    seed: int = 0,
    cost=None,
    roles: Mapping[str, str] | None = None,
    draws: pd.DataFrame | None = None,
    n_draws: int | None = None,
) -> Allocation:
    """Compute-optimal model size N*, tokens D* and loss at given training budgets.

    Minimises ``L(N, D)`` along the iso-cost curve ``cost(N, D) = C`` (``6ND`` by
    default).  For the Chinchilla law ``L = E + A/N^alpha + B/D^beta`` with
    ``C = kND`` its closed form is used (any law can carry one: ``define_law(...,
    allocation=...)``; for Chinchilla it is Hoffmann et al. 2022, App. D.2,
    :func:`scalinglab.laws._chinchilla.chinchilla_allocation`); any other law or cost
    is minimised numerically (grid over log(D/N) plus golden
    section), batched over parameter draws.  ``a`` and ``b`` in the result are the
    local exponents d log N*/d log C and d log D*/d log C.

    Parameters
    ----------
    model : Fit, (law, params), mapping or published entry
        What to plan with.  Published constants have no uncertainty unless
        ``draws=`` is given.
    flops : float or array
        Training budgets C in FLOPs.
    interval : float or None
        Interval level (percentiles of the parameter draws); None for point values.
    method : {"bootstrap", "delta"}
        How parameter draws are made from a fit (:func:`scalinglab.fit._uncertainty.sample_params`).
    n_resamples : int
        Parameter draws: bootstrap resamples of the fit's runs, or normal draws with
        ``method="delta"`` (``n_draws`` is its deprecated alias).
    seed : int
    cost : None, float, callable or CostModel
        Training cost; None is ``6ND``, a number k is ``kND``, see :func:`cost_model`, :func:`fit_cost`.
    roles : mapping, optional
        Which law input is which, e.g. ``{"N": "params", "D": "tokens"}`` (defaults: the fit's columns).
    draws : DataFrame, optional
        Parameter draws to use instead of sampling (one column per parameter).

    Returns
    -------
    Allocation

    Raises
    ------
    PlanError
        The law has no N or D input, no interior optimum exists, or the budget is
        more than 2 decades below the fitted compute range.

    Examples
    --------
    >>> hoffmann = ("chinchilla", dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28))
    >>> a = compute_optimal(hoffmann, 1e21)
    >>> print(f"{a.params[0]:.4g} {a.tokens[0]:.4g} {a.loss[0]:.5g}")
    1.824e+09 9.136e+10 2.3289
    """
    verb = "compute_optimal"
    C = _positive_array(flops, "flops", verb)
    frontier = _as_frontier(model)
    if frontier is not None:
        return _frontier_allocation(frontier, C, interval)
    pm, cm, P, used = _prepare(
        model,
        interval=interval,
        method=method,
        n_resamples=n_resamples,
        seed=seed,
        cost=cost,
        roles=roles,
        draws=draws,
        verb=verb,
        n_draws=n_draws,
    )
    pm.require_allocation(verb)
    warns: list[str] = []
    _check_range(pm, C, verb, warns)
    closed = has_closed_form(pm, cm)
    level = interval if used else None
    with_iv = used is not None
    rows, notes = [], []
    h = 0.05
    for c in C:
        N, D, L, ok = optimum(pm, P, c, cm, closed_form=closed)
        if not ok[0]:
            raise PlanError(
                f"{verb}: law '{pm.law.name}' has no loss minimum along the iso-compute curve at C = {c:.3g} FLOPs "
                "(the loss keeps falling towards one end, tokens per parameter beyond 1e-5..1e9)",
                hint="check the fitted exponents (a law must penalise both too few parameters and too few tokens)",
            )
        if closed:  # N* ~ C^a and D* = C/(kN*): b = 1 - a
            a = pm.law.compute_optimum(P, np.full(ok.shape, c), cm.coef).exponent
            b = 1.0 - a
        else:
            N1, D1, _, _ = optimum(pm, P, c * math.exp(-h), cm, closed_form=False)
            N2, D2, _, _ = optimum(pm, P, c * math.exp(h), cm, closed_form=False)
            a = (np.log(N2) - np.log(N1)) / (2 * h)
            b = (np.log(D2) - np.log(D1)) / (2 * h)
        row = {"flops": float(c)}
        for name, x in (("params", N), ("tokens", D), ("tokens_per_param", D / N), ("loss", L), ("a", a), ("b", b)):
            _add(row, name, x, level, with_iv)
        rows.append(row)
        notes += _draw_note(ok, "no interior optimum")
    return Allocation(
        kind="compute-optimal",
        table=pd.DataFrame(rows),
        level=level,
        method=used,
        n_draws=next(iter(P.values())).size - 1 if used else 0,
        law=f"{pm.law.name}: {pm.law.formula}",
        source=_source(pm),
        cost=cm.label,
        solver=closed_form_label(pm) if closed else "numeric",
        warnings=tuple(warns),
        notes=tuple(dict.fromkeys(notes)),
    )


def _as_frontier(model):
    from scalinglab.plan._frontier import Frontier, IsoFLOPResult, frontier_from_published

    if isinstance(model, Frontier):
        return model
    if isinstance(model, IsoFLOPResult):
        raise InvalidParameterError(
            "compute_optimal(): pick one estimator of the isoFLOP result, e.g. result['vpnls'] or result['parabola']"
        )
    if getattr(model, "target", None) == "n_opt" and hasattr(model, "params"):
        return frontier_from_published(model)
    return None


def _frontier_allocation(fr, C: np.ndarray, interval: float | None) -> Allocation:
    level = interval if (interval is not None and fr.draws is not None) else None
    pred = fr.predict(C, interval=level) if level else fr.predict(C)
    pred["tokens_per_param"] = pred["tokens"] / pred["params"]
    pred["a"], pred["b"] = fr.a, fr.b
    if level:
        for name in ("a", "b"):
            pred[f"{name}_lower"], pred[f"{name}_upper"] = fr.interval(name)
    return Allocation(
        kind="compute-optimal",
        table=pred,
        level=level,
        method=fr.method if level else None,
        n_draws=len(fr.draws) if level else 0,
        law=f"frontier N* = k C^a ({fr.approach})",
        source=fr.source,
        cost="as fitted (D* from its own power law)",
        solver="power-law frontier",
        warnings=tuple(fr.warnings),
        notes=tuple(fr.notes),
    )


# ------------------------------------------------------------------------------ budget for a target loss


def _floor_message(pm: PlanModel, target: float, cm: CostModel, P) -> str:
    if "E" in pm.params:
        return (
            f"target loss {target:g} is at or below the law's irreducible loss E = {pm.params['E']:.4g}; "
            "no amount of compute reaches it"
        )
    _, _, L, _ = optimum(pm, {k: v[:1] for k, v in P.items()}, 1e45, cm)
    return (
        f"target loss {target:g} is not reached by law '{pm.law.name}' even at 1e45 FLOPs "
        f"(loss there {float(L[0]):.4g})"
    )


def budget_for_loss(
    model,
    loss,
    *,
    interval: float | None = 0.9,
    method: str = "bootstrap",
    n_resamples: int = 1000,
    seed: int = 0,
    cost=None,
    roles: Mapping[str, str] | None = None,
    draws: pd.DataFrame | None = None,
    n_draws: int | None = None,
) -> Allocation:
    """Smallest training compute whose compute-optimal run reaches a target loss.

    Solves ``L*(C) = target`` for C by bisection in log C, where ``L*(C)`` is the
    compute-optimal loss (see :func:`compute_optimal`), batched over parameter draws.
    Draws for which the target lies below their floor count as infinite compute.

    Parameters
    ----------
    model, interval, method, n_resamples, seed, cost, roles, draws
        As in :func:`compute_optimal`.
    loss : float or array
        Target loss(es), in the units of the fitted target.

    Returns
    -------
    Allocation
        ``flops`` is the budget; ``params``/``tokens`` the allocation at that budget.

    Raises
    ------
    PlanError
        The target is at or below the irreducible loss E (or otherwise unreachable).

    Examples
    --------
    >>> hoffmann = ("chinchilla", dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28))
    >>> f"{budget_for_loss(hoffmann, 2.3289).flops[0]:.3g}"
    '1e+21'
    """
    verb = "budget_for_loss"
    targets = _positive_array(loss, "loss", verb)
    pm, cm, P, used = _prepare(
        model,
        interval=interval,
        method=method,
        n_resamples=n_resamples,
        seed=seed,
        cost=cost,
        roles=roles,
        draws=draws,
        verb=verb,
        n_draws=n_draws,
    )
    pm.require_allocation(verb)
    level = interval if used else None
    with_iv = used is not None
    rows, notes, warns = [], [], []
    for t in targets:
        C, reachable = budget_for(pm, P, float(t), cm)
        if not reachable[0]:
            raise PlanError(
                f"{verb}: " + _floor_message(pm, float(t), cm, P),
                hint="ask for a loss above the floor, or check the units of the target",
            )
        N, D, L, _ = optimum(pm, P, np.where(reachable, C, 1.0), cm)
        N, D = np.where(reachable, N, np.inf), np.where(reachable, D, np.inf)
        row = {"target_loss": float(t)}
        for name, x in (("flops", C), ("params", N), ("tokens", D), ("tokens_per_param", D / N)):
            _add(row, name, x, level, with_iv)
        row["loss"] = float(L[0])
        rows.append(row)
        notes += _draw_note(reachable, "a floor above the target (counted as infinite compute)")
        _check_range(pm, np.array([C[0]]), verb, warns)
    return Allocation(
        kind="budget",
        table=pd.DataFrame(rows),
        level=level,
        method=used,
        n_draws=P[pm.law.param_names[0]].size - 1 if used else 0,
        law=f"{pm.law.name}: {pm.law.formula}",
        source=_source(pm),
        cost=cm.label,
        solver="bisection in log C over " + ("the closed form" if has_closed_form(pm, cm) else "the numeric optimum"),
        warnings=tuple(warns),
        notes=tuple(dict.fromkeys(notes)),
    )


# ------------------------------------------------------------------------------ loss at (N, D)


def loss_at(
    model,
    params,
    tokens,
    *,
    interval: float | None = 0.9,
    method: str = "bootstrap",
    n_resamples: int = 1000,
    seed: int = 0,
    cost=None,
    roles: Mapping[str, str] | None = None,
    draws: pd.DataFrame | None = None,
    n_draws: int | None = None,
) -> pd.DataFrame:
    """Predicted loss of a run with N parameters trained on D tokens, with an interval for the mean law.

    Laws of compute alone get ``C = cost(N, D)``; laws of N alone ignore D and vice versa.

    Returns
    -------
    DataFrame
        ``params``, ``tokens``, ``flops``, ``loss`` (+ ``loss_lower``/``loss_upper``).

    Examples
    --------
    >>> hoffmann = ("chinchilla", dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28))
    >>> round(float(loss_at(hoffmann, 70e9, 1.4e12)["loss"][0]), 4)
    1.9366
    """
    verb = "loss_at"
    N = _positive_array(params, "params", verb)
    D = _positive_array(tokens, "tokens", verb)
    try:
        N, D = np.broadcast_arrays(N, D)
    except ValueError:
        raise InvalidParameterError(f"{verb}(): 'params' ({N.size}) and 'tokens' ({D.size}) must broadcast") from None
    pm, cm, P, used = _prepare(
        model,
        interval=interval,
        method=method,
        n_resamples=n_resamples,
        seed=seed,
        cost=cost,
        roles=roles,
        draws=draws,
        verb=verb,
        n_draws=n_draws,
    )
    if not pm.roles:
        raise PlanError(f"{verb}: law '{pm.law.name}' has no N, D or C input")
    C = cm(N, D)
    _check_range(pm, C, verb, [])
    Lm = pm.evaluate(N[None, :], D[None, :], {p: v[:, None] for p, v in P.items()}, cm)
    out = pd.DataFrame({"params": N, "tokens": D, "flops": C, "loss": Lm[0]})
    if used is not None:
        q = 100.0 * np.array([(1 - interval) / 2, (1 + interval) / 2])
        lo, hi = np.nanpercentile(Lm[1:], q, axis=0)
        out["loss_lower"], out["loss_upper"] = lo, hi
    return out


# ------------------------------------------------------------------------------ inference-aware optimum


def inference_optimal(
    model,
    served_tokens,
    *,
    flops=None,
    loss=None,
    interval: float | None = 0.9,
    method: str = "bootstrap",
    n_resamples: int = 1000,
    seed: int = 0,
    cost=None,
    roles: Mapping[str, str] | None = None,
    draws: pd.DataFrame | None = None,
    flops_per_served_token: float = 2.0,
    n_draws: int | None = None,
) -> Allocation:
    """Allocation that accounts for serving the model: training plus ``2N`` FLOPs per served token.

    Two questions (give exactly one of ``flops`` and ``loss``):

    * ``flops=C``: the lowest loss for a lifetime budget ``cost(N, D) + 2 N T = C``;
    * ``loss=l``: the smallest lifetime compute reaching loss ``l``
      (Sardana et al. 2023, "Beyond Chinchilla-Optimal", arXiv:2401.00448), i.e.
      minimise ``cost(N, D) + 2 N T`` subject to ``L(N, D) = l``.

    The row also reports the compute-optimal (``T = 0``) allocation for the same
    question (``params_train_optimal``...), so the shift to smaller, longer-trained
    models is visible.

    Parameters
    ----------
    served_tokens : float
        T, tokens the model will process at inference over its lifetime.
    flops_per_served_token : float
        Inference FLOPs per parameter per token (2 for a forward pass).

    Returns
    -------
    Allocation
        ``params``, ``tokens``, ``loss``, ``train_flops``, ``inference_flops``, ``total_flops``.

    Examples
    --------
    >>> hoffmann = ("chinchilla", dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28))
    >>> r = inference_optimal(hoffmann, 2e12, loss=2.3289)
    >>> bool(r.params[0] < 1.824e9 < r.table["params_train_optimal"][0])
    True
    """
    verb = "inference_optimal"
    T = float(_positive_array(served_tokens, "served_tokens", verb)[0])
    if (flops is None) == (loss is None):
        raise InvalidParameterError(f"{verb}(): give exactly one of flops= (lifetime budget) or loss= (target)")
    pm, cm, P, used = _prepare(
        model,
        interval=interval,
        method=method,
        n_resamples=n_resamples,
        seed=seed,
        cost=cost,
        roles=roles,
        draws=draws,
        verb=verb,
        n_draws=n_draws,
    )
    pm.require_allocation(verb)
    k = float(flops_per_served_token)
    level = interval if used else None
    with_iv = used is not None
    K = P[pm.law.param_names[0]].size
    warns: list[str] = []
    from scalinglab.plan._cost import cost_model

    total = cost_model(func=lambda N, D: cm(N, D) + k * N * T, label=f"{cm.label} + {k:g}*N*{T:.3g} served tokens")
    if flops is not None:
        C = float(_positive_array(flops, "flops", verb)[0])
        _check_range(pm, np.array([C]), verb, warns)
        N, D, L, ok = optimum(pm, P, C, total, closed_form=False)
        if not ok[0]:
            raise PlanError(
                f"{verb}: no loss minimum within the lifetime budget {C:.3g} FLOPs",
                hint="the budget may be too small to serve T tokens with any model; raise it",
            )
        N0, D0, L0, _ = optimum(pm, P, C, cm)
        Ctot = np.full(K, C)
    else:
        target = float(_positive_array(loss, "loss", verb)[0])
        N, D, ok = _min_lifetime_cost(pm, P, target, total, cm)
        if not ok[0]:
            raise PlanError(f"{verb}: " + _floor_message(pm, target, cm, P), hint="ask for a loss above the floor")
        L = np.where(ok, target, np.nan)
        C0, reach0 = budget_for(pm, P, target, cm)
        N0, D0, L0, _ = optimum(pm, P, np.where(reach0, C0, 1.0), cm)
        Ctot = total(N, D)
    row = {"served_tokens": T}
    for name, x in (
        ("params", N),
        ("tokens", D),
        ("tokens_per_param", D / N),
        ("loss", L),
        ("train_flops", cm(N, D)),
        ("inference_flops", k * N * T),
        ("total_flops", Ctot),
        ("params_train_optimal", N0),
        ("tokens_train_optimal", D0),
        ("total_flops_train_optimal", cm(N0, D0) + k * N0 * T),
    ):
        _add(row, name, x, level, with_iv)
    row["flops"] = row["train_flops"]
    notes = list(_draw_note(ok, "no feasible optimum"))
    return Allocation(
        kind="inference-optimal",
        table=pd.DataFrame([row]),
        level=level,
        method=used,
        n_draws=K - 1 if used else 0,
        law=f"{pm.law.name}: {pm.law.formula}",
        source=_source(pm),
        cost=total.label,
        solver="numeric",
        warnings=tuple(warns),
        notes=tuple(notes),
    )


def _min_lifetime_cost(pm: PlanModel, P, target: float, total: CostModel, cm: CostModel, n_grid: int = 241):
    """argmin_N total(N, D(N)) with L(N, D(N)) = target; grid in log N then golden section."""
    K = P[pm.law.param_names[0]].size
    logN = np.linspace(np.log(1e3), np.log(1e16), n_grid)
    Pc = {p: v[:, None] for p, v in P.items()}
    Ng = np.broadcast_to(np.exp(logN)[None, :], (K, n_grid))
    Dg = tokens_for_loss(pm, Pc, Ng, target, cm)
    cg = np.where(np.isfinite(Dg), total(Ng, Dg), np.inf)
    j = np.argmin(cg, axis=1)
    ok = np.isfinite(cg[np.arange(K), j]) & (j > 0) & (j < n_grid - 1)
    lo, hi = logN[np.clip(j - 1, 0, n_grid - 1)], logN[np.clip(j + 1, 0, n_grid - 1)]

    def f(x):
        n = np.exp(x)
        d = tokens_for_loss(pm, P, n, target, cm)
        return np.where(np.isfinite(d), total(n, d), np.inf)

    g = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(50):
        x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
        left = f(x1) < f(x2)
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
    N = np.exp(0.5 * (lo + hi))
    D = tokens_for_loss(pm, P, N, target, cm)
    ok = ok & np.isfinite(D)
    return np.where(ok, N, np.nan), np.where(ok, D, np.nan), ok


# ------------------------------------------------------------------------------ over-training


def overtrain(
    model,
    ratio,
    *,
    flops=None,
    params=None,
    interval: float | None = 0.9,
    method: str = "bootstrap",
    n_resamples: int = 1000,
    seed: int = 0,
    cost=None,
    roles: Mapping[str, str] | None = None,
    draws: pd.DataFrame | None = None,
    n_draws: int | None = None,
) -> Allocation:
    """Loss when training at a fixed tokens-per-parameter ratio instead of the compute-optimal one.

    Give the budget as ``flops=C`` (then ``cost(N, ratio*N) = C`` sets N) or the model
    size as ``params=N`` (then ``D = ratio*N``).  The row compares with the
    compute-optimal run of the same compute: ``loss_optimal``, ``excess_loss`` and
    ``compute_overhead`` = C / (compute the optimal allocation needs for the same
    loss), the price of over-training (Gadre et al. 2024, arXiv:2403.08540; Sardana
    et al. 2023).

    Parameters
    ----------
    ratio : float or array
        Tokens per parameter D/N (e.g. 20, 200, 2000).

    Returns
    -------
    Allocation

    Examples
    --------
    >>> hoffmann = ("chinchilla", dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28))
    >>> r = overtrain(hoffmann, [50.1, 500], flops=1e21)
    >>> [round(x, 2) for x in r.table["compute_overhead"]]
    [1.0, 1.51]
    """
    verb = "overtrain"
    ratios = _positive_array(ratio, "ratio", verb)
    if (flops is None) == (params is None):
        raise InvalidParameterError(f"{verb}(): give exactly one of flops= (budget) or params= (model size)")
    pm, cm, P, used = _prepare(
        model,
        interval=interval,
        method=method,
        n_resamples=n_resamples,
        seed=seed,
        cost=cost,
        roles=roles,
        draws=draws,
        verb=verb,
        n_draws=n_draws,
    )
    pm.require_allocation(verb)
    from scalinglab.plan._solve import _params_for_ratio

    level = interval if used else None
    with_iv = used is not None
    K = P[pm.law.param_names[0]].size
    rows, warns = [], []
    for r in ratios:
        if flops is not None:
            C = float(_positive_array(flops, "flops", verb)[0])
            N = np.full(K, float(_params_for_ratio(cm, np.array([C]), np.array([r]))[0]))
        else:
            N = np.full(K, float(_positive_array(params, "params", verb)[0]))
            C = float(cm(N[:1], r * N[:1])[0])
        D = r * N
        _check_range(pm, np.array([C]), verb, warns)
        L = pm.evaluate(N, D, P, cm)
        _, _, Lopt, _ = optimum(pm, P, C, cm)
        row = {"ratio": float(r), "flops": C}
        for name, x in (
            ("params", N),
            ("tokens", D),
            ("tokens_per_param", D / N),
            ("loss", L),
            ("loss_optimal", Lopt),
            ("excess_loss", L - Lopt),
        ):
            _add(row, name, x, level, with_iv)
        Cneed = _budget_per_draw(pm, P, L, cm)
        _add(row, "compute_overhead", C / Cneed, level, with_iv)
        rows.append(row)
    return Allocation(
        kind="overtrain",
        table=pd.DataFrame(rows),
        level=level,
        method=used,
        n_draws=K - 1 if used else 0,
        law=f"{pm.law.name}: {pm.law.formula}",
        source=_source(pm),
        cost=cm.label,
        solver="closed form" if has_closed_form(pm, cm) else "numeric",
        warnings=tuple(dict.fromkeys(warns)),
    )


def _budget_per_draw(pm: PlanModel, P, targets: np.ndarray, cm: CostModel, iters: int = 70) -> np.ndarray:
    """Compute-optimal budget reaching ``targets[k]`` under draw k (bisection in log C, batched)."""
    K = targets.size
    lo, hi = np.zeros(K), np.full(K, 45.0)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        _, _, L, _ = optimum(pm, P, 10.0**mid, cm)
        above = ~(L <= targets)
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return 10.0**hi
