"""Training-cost models C(N, D): the constraint along which compute is allocated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalinglab.errors import DataError, InvalidParameterError

__all__ = ["CostModel", "cost_model", "fit_cost", "resolve_cost"]


@dataclass(frozen=True)
class CostModel:
    """Training compute as a function of parameters N and tokens D.

    The power form ``C = coef * N**p * D**q`` covers the usual ``6ND`` (Kaplan et al.
    2020, eq. 2.1) and cost laws fitted to logged compute; ``func`` holds any other
    vectorised ``func(N, D) -> FLOPs`` that increases with D.

    Examples
    --------
    >>> float(CostModel()(1e9, 2e10))
    1.2e+20
    """

    coef: float = 6.0
    p: float = 1.0
    q: float = 1.0
    func: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    label: str = "C = 6*N*D"

    @property
    def is_product(self) -> bool:
        """True for ``C = k N D`` (where the Chinchilla closed form applies)."""
        return self.func is None and self.p == 1.0 and self.q == 1.0

    def __call__(self, N, D) -> np.ndarray:
        N, D = np.asarray(N, dtype=float), np.asarray(D, dtype=float)
        if self.func is not None:
            return np.asarray(self.func(N, D), dtype=float)
        return self.coef * N**self.p * D**self.q

    def tokens_for(self, N, C) -> np.ndarray:
        """D such that cost(N, D) = C (NaN where no D > 0 reaches C)."""
        N, C = np.broadcast_arrays(np.asarray(N, dtype=float), np.asarray(C, dtype=float))
        if self.func is None:
            with np.errstate(all="ignore"):
                return (C / (self.coef * N**self.p)) ** (1.0 / self.q)
        return _solve_increasing(lambda logd: np.log(self(N, np.exp(logd))), np.log(C), N.shape)

    def params_range(self, C: float, ratio=(1e-4, 1e8)) -> tuple[float, float]:
        """Parameter counts spanning tokens-per-parameter ``ratio`` at compute C."""
        out = []
        for r in ratio[::-1]:
            if self.func is None:
                out.append((C / (self.coef * r**self.q)) ** (1.0 / (self.p + self.q)))
            else:  # use 6ND as the guide for a user cost function
                out.append(np.sqrt(C / (6.0 * r)))
        return float(out[0]), float(out[1])

    def to_dict(self) -> dict:
        if self.func is not None:
            return {"kind": "function", "label": self.label}
        return {"kind": "power", "coef": self.coef, "p": self.p, "q": self.q, "label": self.label}


def _solve_increasing(
    g: Callable[[np.ndarray], np.ndarray],
    target: np.ndarray,
    shape,
    lo: float = -20.0,
    hi: float = 120.0,
    iters: int = 90,
) -> np.ndarray:
    """Vectorised bisection for x with g(x) = target, g increasing; NaN where the bracket misses."""
    lo_a = np.full(shape, lo)
    hi_a = np.full(shape, hi)
    with np.errstate(all="ignore"):
        glo, ghi = g(lo_a), g(hi_a)
        ok = (glo <= target) & (ghi >= target)
        for _ in range(iters):
            mid = 0.5 * (lo_a + hi_a)
            below = g(mid) < target
            lo_a = np.where(below, mid, lo_a)
            hi_a = np.where(below, hi_a, mid)
    return np.where(ok, np.exp(0.5 * (lo_a + hi_a)), np.nan)


def cost_model(coef: float = 6.0, p: float = 1.0, q: float = 1.0, *, func=None, label: str | None = None) -> CostModel:
    """A cost model ``C = coef * N^p * D^q`` or a user function ``func(N, D)``.

    Examples
    --------
    >>> serve = cost_model(func=lambda N, D: 6 * N * D + 2 * N * 1e12, label="train + serve 1e12 tokens")
    >>> float(serve(1e9, 1e10))
    2.06e+21
    """
    if func is not None:
        if not callable(func):
            raise InvalidParameterError("cost_model(): 'func' must be callable as func(N, D) -> FLOPs")
        return CostModel(func=func, label=label or getattr(func, "__name__", "user cost"))
    for name, v in (("coef", coef), ("p", p), ("q", q)):
        if not np.isfinite(v) or v <= 0:
            raise InvalidParameterError(f"cost_model(): '{name}' must be a finite number > 0; got {v!r}")
    return CostModel(
        coef=float(coef),
        p=float(p),
        q=float(q),
        label=label or (f"C = {coef:g}*N*D" if p == q == 1 else f"C = {coef:.4g}*N^{p:.4g}*D^{q:.4g}"),
    )


def fit_cost(runs, *, flops: str = "flops", params: str = "params", tokens: str = "tokens") -> CostModel:
    """Fit ``log C = log k + p log N + q log D`` to logged compute by least squares.

    Use it when the runs log their real training FLOPs (embedding and attention
    costs make them differ from 6ND).

    Parameters
    ----------
    runs : RunsTable or DataFrame
        Rows with positive ``flops``, ``params`` and ``tokens`` columns.

    Returns
    -------
    CostModel
    """
    frame = getattr(runs, "frame", runs)
    if not isinstance(frame, pd.DataFrame):
        raise InvalidParameterError("fit_cost(): 'runs' must be a RunsTable or DataFrame")
    for col in (flops, params, tokens):
        if col not in frame:
            raise DataError(
                f"fit_cost() needs column '{col}'",
                column=col,
                kind="missing-column",
                hint=f"columns present: {list(frame.columns)}",
            )
    C, N, D = (frame[c].to_numpy(dtype=float) for c in (flops, params, tokens))
    ok = (C > 0) & (N > 0) & (D > 0) & np.isfinite(C + N + D)
    if ok.sum() < 4:
        raise DataError(
            "fit_cost() needs at least 4 rows with positive flops, params and tokens", kind="too-few-points"
        )
    X = np.column_stack([np.ones(ok.sum()), np.log(N[ok]), np.log(D[ok])])
    coef, *_ = np.linalg.lstsq(X, np.log(C[ok]), rcond=None)
    k, p, q = float(np.exp(coef[0])), float(coef[1]), float(coef[2])
    if p <= 0 or q <= 0:
        raise DataError(
            f"the fitted cost law has a non-positive exponent (p={p:.3g}, q={q:.3g}); "
            "params and tokens do not vary independently enough",
            kind="degenerate-cost",
            hint="use the default 6ND cost or pass cost_model(coef, p, q)",
        )
    return CostModel(coef=k, p=p, q=q, label=f"C = {k:.4g}*N^{p:.4g}*D^{q:.4g} (fitted to {int(ok.sum())} rows)")


def resolve_cost(cost) -> CostModel:
    """``None`` -> 6ND; a number k -> k*N*D; a callable -> user function; a CostModel as is."""
    if cost is None:
        return CostModel()
    if isinstance(cost, CostModel):
        return cost
    if isinstance(cost, (int, float)) and not isinstance(cost, bool):
        return cost_model(float(cost))
    if callable(cost):
        return cost_model(func=cost)
    raise InvalidParameterError(
        f"'cost' must be None, a number k (C = k*N*D), a callable cost(N, D) or a CostModel; got {type(cost).__name__}"
    )
