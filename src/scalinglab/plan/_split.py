"""Split a total parameter budget among the parts of a model (encoder/decoder, towers...).

A law whose inputs are parts of the parameter count (runs-table columns ``*_params``, such
as ``encoder_params`` and ``decoder_params``) is planned by the question "given B
parameters in all, how many go to each part?".  Where the law has a closed-form
allocation hook (:meth:`~scalinglab.laws.Law.compute_optimum`, which for such a law
receives the parameter total in place of compute and returns the first part in
``params``, the second in ``tokens``), it is used; otherwise a vectorised search over the
share of the first part (two parts).  Nothing here names a law.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from scalinglab.errors import PlanError
from scalinglab.plan._model import PlanModel
from scalinglab.plan._optimal import Allocation, _add, _draw_note, _positive_array, _prepare, _source
from scalinglab.plan._solve import closed_form_label

__all__ = ["split_params", "split_optimum"]

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
#: log-odds range of the first part's share searched numerically (shares 1e-6 .. 1 - 1e-6)
_LOGIT_RANGE = 13.8


def _loss(pm: PlanModel, P, parts: dict[str, np.ndarray]) -> np.ndarray:
    return pm.law.evaluate(parts, P)


def split_optimum(pm: PlanModel, P: dict[str, np.ndarray], budget: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Loss-minimising parts for a total ``budget``, for every parameter draw in ``P`` ((K,) arrays).

    Returns ``({symbol: (K,) part sizes}, interior)``; ``interior`` is False where the loss
    keeps falling towards giving one part everything (NaN parts there).
    """
    if len(pm.parts) != 2:
        raise PlanError(
            f"split_params: law '{pm.law.name}' has {len(pm.parts)} parameter parts {list(pm.parts)}; "
            "splitting is solved for two",
            hint="fix the other parts with (law, params) and plan the remaining two",
        )
    a, b = pm.parts
    K = len(next(iter(P.values())))
    B = np.full(K, float(budget))
    if pm.law.has_allocation:
        opt = pm.law.compute_optimum(P, B, 1.0, with_exponent=False)
        return {a: opt.params, b: opt.tokens}, np.asarray(opt.valid, bool)
    grid = np.linspace(-_LOGIT_RANGE, _LOGIT_RANGE, 221)
    share = 1.0 / (1.0 + np.exp(-grid))
    Pg = {k: np.asarray(v, float)[:, None] for k, v in P.items()}
    L = _loss(pm, Pg, {a: B[:, None] * share[None, :], b: B[:, None] * (1 - share[None, :])})
    L = np.where(np.isfinite(L), L, np.inf)
    i = np.argmin(L, axis=1)
    interior = (i > 0) & (i < grid.size - 1) & np.isfinite(L[np.arange(K), i])
    step = grid[1] - grid[0]
    lo, hi = grid[np.clip(i - 1, 0, None)], grid[np.clip(i + 1, None, grid.size - 1)]
    Pk = {k: np.asarray(v, float) for k, v in P.items()}

    def f(z):
        s = 1.0 / (1.0 + np.exp(-z))
        return _loss(pm, Pk, {a: B * s, b: B * (1 - s)})

    x1, x2 = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    f1, f2 = f(x1), f(x2)
    for _ in range(int(math.log(step / 1e-10) / -math.log(_GOLDEN)) + 1):
        left = f1 < f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x2n = np.where(left, x1, lo + _GOLDEN * (hi - lo))
        x1n = np.where(left, hi - _GOLDEN * (hi - lo), x2)
        x1, x2 = x1n, x2n
        f1, f2 = f(x1), f(x2)
    s = 1.0 / (1.0 + np.exp(-0.5 * (lo + hi)))
    na = np.where(interior, B * s, np.nan)
    return {a: na, b: np.where(interior, B - na, np.nan)}, interior


def split_params(
    model,
    params,
    *,
    interval: float | None = 0.9,
    method: str = "bootstrap",
    n_resamples: int = 1000,
    seed: int = 0,
    roles=None,
    draws: pd.DataFrame | None = None,
) -> Allocation:
    """Best split of a total of ``params`` parameters among the law's parts, with intervals.

    For each total B: the part sizes, their ratio, the first part's share, the loss there and
    ``exponent`` = -d log(L - floor)/d log B along the optimal split (the law's ``floor``
    parameter; absent when it has none).  For the encoder/decoder law of Ghorbani et al.
    (2021) the ratio is pe/pd and the exponent pe + pd.

    Parameters
    ----------
    model : Fit, (law, params) pair, mapping or published entry
        A law with two inputs whose columns end in ``_params``.
    params : float or array
        Total parameter budget(s) B.
    interval, method, n_resamples, seed, roles, draws
        As for :func:`~scalinglab.plan.compute_optimal`.

    Returns
    -------
    Allocation
        ``kind="parameter-split"``; table columns ``params`` (B), one per part (its column
        name), ``split_ratio``, ``first_share``, ``loss``, ``exponent`` (+ ``_lower``/``_upper``).

    Examples
    --------
    >>> a = split_params(("nmt_encdec", dict(L_inf=1.5, A=40.0, pe=0.3, pd=0.2)), 1e9)
    >>> print(f"{a.table['encoder_params'][0]:.4g} {a.table['split_ratio'][0]:.4g} {a.table['exponent'][0]:.4g}")
    6e+08 1.5 0.5
    """
    verb = "split_params"
    Bs = _positive_array(params, "params", verb)
    pm, _, P, used = _prepare(
        model,
        interval=interval,
        method=method,
        n_resamples=n_resamples,
        seed=seed,
        cost=None,
        roles=roles,
        draws=draws,
        verb=verb,
    )
    if len(pm.parts) < 2:
        raise PlanError(
            f"{verb}: law '{pm.law.name}' has no inputs that split the parameter count "
            f"(inputs {dict(pm.law.inputs)}; parts are columns ending in '_params')",
            hint="for an (N, D) law plan compute instead: compute_optimal(fit, flops) (CLI: --flops C)",
        )
    if pm.roles:
        raise PlanError(
            f"{verb}: law '{pm.law.name}' also has inputs {list(pm.roles.values())} besides its parameter parts",
            hint="fix them with a (law, params) pair of a law of the parts alone",
        )
    level = interval if used else None
    with_iv = used is not None
    cols = pm.fit.columns if pm.fit is not None else pm.law.inputs
    floor = pm.law.floor
    h = 0.05
    rows, notes, warns = [], [], []
    if pm.fitted_params is not None:
        lo_fit, hi_fit = pm.fitted_params
        far = [b for b in Bs if b > 10 * hi_fit or b < lo_fit / 10]
        if far:
            warns.append(
                f"total(s) {', '.join(f'{b:.3g}' for b in far)} lie over a decade outside the fitted totals "
                f"{lo_fit:.3g}..{hi_fit:.3g}"
            )
    for B in Bs:
        parts, ok = split_optimum(pm, P, B)
        if not ok[0]:
            raise PlanError(
                f"{verb}: law '{pm.law.name}' has no interior best split at {B:.3g} parameters "
                "(the loss keeps falling as one part gets everything)",
                hint="check the fitted exponents: each part must lower the loss",
            )
        a, b = pm.parts
        L = _loss(pm, P, parts)
        row = {"params": float(B)}
        x = [(cols[a], parts[a]), (cols[b], parts[b]), ("split_ratio", parts[a] / parts[b])]
        x += [("first_share", parts[a] / B), ("loss", L)]
        if floor is not None:
            lo_p, _ = split_optimum(pm, P, B * math.exp(-h))
            hi_p, _ = split_optimum(pm, P, B * math.exp(h))
            with np.errstate(all="ignore"):
                r_lo = np.log(_loss(pm, P, lo_p) - P[floor])
                r_hi = np.log(_loss(pm, P, hi_p) - P[floor])
            x.append(("exponent", -(r_hi - r_lo) / (2 * h)))
        for name, v in x:
            _add(row, name, np.asarray(v, dtype=float), level, with_iv)
        rows.append(row)
        notes += _draw_note(ok, "no interior best split")
    notes.append(
        f"first_share = {cols[pm.parts[0]]} / total; split_ratio = {cols[pm.parts[0]]} / {cols[pm.parts[1]]}"
        + ("; exponent = -d log(loss - floor) / d log total along the best split" if floor else "")
    )
    return Allocation(
        kind="parameter-split",
        table=pd.DataFrame(rows),
        level=level,
        method=used,
        n_draws=next(iter(P.values())).size - 1 if used else 0,
        law=f"{pm.law.name}: {pm.law.formula}",
        source=_source(pm),
        cost="total parameters = " + " + ".join(cols[s] for s in pm.parts),
        solver=closed_form_label(pm) if pm.law.has_allocation else "numeric (search over the first part's share)",
        warnings=tuple(warns),
        notes=tuple(dict.fromkeys(notes)),
    )
