"""Vectorised optimisers behind the planning verbs (batched over parameter draws).

Every routine takes parameters as ``{name: (K,) array}`` (the point estimate and
K-1 draws) and returns (K,) arrays; no Python loop runs over draws.
"""

from __future__ import annotations

import numpy as np

from scalinglab.plan._cost import CostModel, _solve_increasing
from scalinglab.plan._model import PlanModel

__all__ = ["has_closed_form", "closed_form_label", "optimum", "budget_for", "tokens_for_loss"]

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
#: tokens-per-parameter range searched along an iso-cost curve (log10)
RATIO_RANGE = (-5.0, 9.0)
_N_GRID = 281


def has_closed_form(pm: PlanModel, cost: CostModel) -> bool:
    """Whether the law's own closed-form allocation applies: the law has one
    (:attr:`~scalinglab.laws.Law.allocation`), the cost is ``C = k N D`` and the plan's N
    and D are the law's ``params`` and ``tokens`` inputs."""
    if not (pm.law.has_allocation and cost.is_product and set(pm.roles) == {"params", "tokens"}):
        return False
    return all(pm.law.inputs.get(pm.roles[role]) == role for role in ("params", "tokens"))


def closed_form_label(pm: PlanModel) -> str:
    """``"closed form (source)"`` for the solver line of a result."""
    ref = pm.law.allocation_reference
    return f"closed form ({ref})" if ref else "closed form"


def _params_for_ratio(cost: CostModel, C: np.ndarray, r: np.ndarray) -> np.ndarray:
    """N with cost(N, r N) = C (C and r broadcast)."""
    C, r = np.broadcast_arrays(np.asarray(C, float), np.asarray(r, float))
    if cost.func is None:
        return (C / (cost.coef * r**cost.q)) ** (1.0 / (cost.p + cost.q))
    return _solve_increasing(
        lambda logn: np.log(cost(np.exp(logn), r * np.exp(logn))), np.log(C), C.shape, lo=-10.0, hi=80.0, iters=70
    )


def optimum(pm: PlanModel, P: dict[str, np.ndarray], C, cost: CostModel, *, closed_form: bool | None = None):
    """Loss-minimising (N, D) on the curve cost(N, D) = C, for every parameter draw.

    The search runs over log(D/N): a grid of ``_N_GRID`` ratios spanning 1e-5..1e9
    tokens per parameter, then a golden-section refinement around the best grid
    point.  Returns ``N, D, L, interior`` as (K,) arrays; ``interior`` is False where
    the loss keeps falling to the edge of the range (no optimum: the law does not
    trade N against D), and N, D, L are NaN there.  With ``closed_form`` (default: when
    :func:`has_closed_form`) the law's own allocation (:meth:`~scalinglab.laws.Law.compute_optimum`)
    replaces the search.
    """
    K = len(next(iter(P.values())))
    C = np.broadcast_to(np.asarray(C, dtype=float), (K,))
    if closed_form is None:
        closed_form = has_closed_form(pm, cost)
    if closed_form:
        N, D, ok, _ = pm.law.compute_optimum(P, C, cost.coef, with_exponent=False)
        L = pm.evaluate(N, D, P, cost)
        return N, D, np.where(ok, L, np.nan), ok
    logr = np.linspace(*(np.log(10.0) * np.array(RATIO_RANGE)), _N_GRID)
    Pc = {p: v[:, None] for p, v in P.items()}
    if np.all(C == C[0]):  # one budget for every draw: the iso-cost grid is shared
        N = np.broadcast_to(_params_for_ratio(cost, C[:1, None], np.exp(logr)[None, :]), (K, _N_GRID))
    else:
        N = _params_for_ratio(cost, C[:, None], np.exp(logr)[None, :])
    D = np.exp(logr)[None, :] * N
    L = pm.evaluate(N, D, Pc, cost)
    L = np.where(np.isfinite(L), L, np.inf)
    j = np.argmin(L, axis=1)
    interior = (j > 0) & (j < _N_GRID - 1) & np.isfinite(L[np.arange(K), j])
    lo = logr[np.clip(j - 1, 0, _N_GRID - 1)]
    hi = logr[np.clip(j + 1, 0, _N_GRID - 1)]

    def f(x):
        n = _params_for_ratio(cost, C, np.exp(x))
        val = pm.evaluate(n, np.exp(x) * n, P, cost)
        return np.where(np.isfinite(val), val, np.inf)

    x1 = hi - _GOLDEN * (hi - lo)
    x2 = lo + _GOLDEN * (hi - lo)
    f1, f2 = f(x1), f(x2)
    for _ in range(60):
        left = f1 < f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x2n = np.where(left, x1, lo + _GOLDEN * (hi - lo))
        x1n = np.where(left, hi - _GOLDEN * (hi - lo), x2)
        fn = f(np.where(left, x1n, x2n))
        f1, f2 = np.where(left, fn, f2), np.where(left, f1, fn)
        x1, x2 = x1n, x2n
    x = 0.5 * (lo + hi)
    Nopt = _params_for_ratio(cost, C, np.exp(x))
    Dopt = np.exp(x) * Nopt
    Lopt = pm.evaluate(Nopt, Dopt, P, cost)
    ok = interior & np.isfinite(Lopt)
    return np.where(ok, Nopt, np.nan), np.where(ok, Dopt, np.nan), np.where(ok, Lopt, np.nan), ok


def budget_for(
    pm: PlanModel, P: dict[str, np.ndarray], target: float, cost: CostModel, log10_range=(0.0, 45.0), iters: int = 70
):
    """Smallest compute whose compute-optimal loss equals ``target`` (bisection in log C).

    Returns ``C, reachable`` (K,): C is +inf where even 1e45 FLOPs cannot reach the target.
    """
    K = len(next(iter(P.values())))
    lo = np.full(K, log10_range[0])
    hi = np.full(K, log10_range[1])
    _, _, L_hi, _ = optimum(pm, P, 10.0**hi, cost)
    reachable = np.isfinite(L_hi) & (L_hi < target)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        _, _, L, _ = optimum(pm, P, 10.0**mid, cost)
        above = ~(L <= target)  # NaN (no optimum) counts as not reached
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return np.where(reachable, 10.0**hi, np.inf), reachable


def tokens_for_loss(
    pm: PlanModel, P: dict[str, np.ndarray], N: np.ndarray, target: float, cost: CostModel | None = None
) -> np.ndarray:
    """D with L(N, D) = target (loss falls with D); NaN where no D reaches it."""
    N = np.asarray(N, dtype=float)

    def g(logd):
        return -np.log(pm.evaluate(N, np.exp(logd), P, cost))

    return _solve_increasing(g, np.full(N.shape, -np.log(target)), N.shape, lo=0.0, hi=115.0, iters=80)
