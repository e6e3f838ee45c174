"""Irreducible and reducible loss (Henighan et al. 2020, eqs. 1.1-1.2), with intervals.

For a law with a floor, L(x) = L_inf + (x0/x)^alpha, Henighan et al. read the floor
L_inf as the entropy of the data S(True) and the rest as the KL divergence between
the data and the model, D_KL(True || Model):

    irreducible = L_inf,        reducible(x) = L(x) - L_inf.

A law declares its floor parameter (``floor="E"`` in :func:`scalinglab.laws.define_law`);
:func:`decompose` gives both parts at any point with intervals from draws of the
fitted parameters, and :func:`needed_for_reducible` the input (N, C, D, or the
compute-optimal C of a two-input law) at which the reducible loss reaches a target,
as the paper forecasts for images at other resolutions.  Per-token losses can be
stated per example (``tokens_per_example``, e.g. 768 for 16x16 images): both parts
scale by it and the summary says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._validation import check_fraction
from scalinglab.errors import InvalidParameterError, LawError

__all__ = ["Decomposition", "ReducibleTarget", "decompose", "needed_for_reducible", "floor_of"]


def floor_of(law) -> str:
    """The name of ``law``'s floor parameter, or a :class:`LawError` naming laws that have one."""
    name = getattr(law, "floor", None)
    if not name:
        raise LawError(
            f"law '{law.name}' declares no floor (irreducible loss), so the loss cannot be split",
            hint="fit a law with a floor (power_floor, chinchilla), or define yours with floor='E'",
        )
    return name


def _q(v: np.ndarray, level: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    a = 100 * (1 - level) / 2
    with np.errstate(invalid="ignore"):
        lo, hi = np.nanpercentile(v, [a, 100 - a], axis=axis)
    return lo, hi


def _draws(fit, n: int, method: str, seed: int) -> tuple[pd.DataFrame, str]:
    from scalinglab.fit._uncertainty import resolve_method, sample_params

    used = resolve_method(method, fit, "parameters")
    return sample_params(fit, n, method=used, seed=seed), used


def _unit(tokens_per_example: float | None, example: str) -> str:
    if tokens_per_example is None:
        return "per token (the fitted loss's unit)"
    return f"per {example} (per-token loss x {tokens_per_example:g} tokens per {example})"


@dataclass(frozen=True)
class Decomposition:
    """Irreducible (floor) and reducible (L - floor) loss at points, with intervals.

    ``points`` has the law's inputs, ``loss``, ``irreducible``, ``reducible`` and
    ``reducible_fraction``, each with ``_lower``/``_upper`` at ``level``.
    """

    law: str
    floor: str
    irreducible: float
    irreducible_interval: tuple[float, float]
    points: pd.DataFrame
    level: float
    method: str
    n_draws: int
    unit: str
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        pct = f"{self.level:.0%}"
        lo, hi = self.irreducible_interval
        lines = [
            f"Loss decomposition (Henighan et al. 2020): law {self.law}, floor parameter '{self.floor}'",
            f"  losses {self.unit}; intervals {pct} from {self.n_draws} {self.method} draws",
            f"  irreducible (entropy estimate S(True)) = {self.irreducible:.5g}  [{lo:.5g}, {hi:.5g}]",
        ]
        ins = [c for c in self.points.columns if c not in _POINT_COLS and not c.endswith(("_lower", "_upper"))]
        head = (
            "  "
            + "  ".join(f"{c:>11}" for c in ins)
            + f"  {'loss':>10}  {'reducible (KL)':>14}  {pct + ' interval':>22}  {'share':>6}"
        )
        lines.append(head)
        for _, r in self.points.iterrows():
            vals = "  ".join(f"{r[c]:11.4g}" for c in ins)
            lines.append(
                f"  {vals}  {r['loss']:10.5g}  {r['reducible']:14.5g}  "
                f"[{r['reducible_lower']:9.4g}, {r['reducible_upper']:9.4g}]  {r['reducible_fraction']:6.1%}"
            )
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __str__ = summary

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": self.law,
            "floor": self.floor,
            "irreducible": self.irreducible,
            "irreducible_interval": list(self.irreducible_interval),
            "level": self.level,
            "method": self.method,
            "n_draws": self.n_draws,
            "unit": self.unit,
            "notes": list(self.notes),
            "points": [
                {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
                for row in self.points.to_dict(orient="records")
            ],
        }


_POINT_COLS = ("loss", "irreducible", "reducible", "reducible_fraction")


def decompose(
    fit,
    data: pd.DataFrame | Mapping | None = None,
    *,
    interval: float = 0.9,
    method: str = "auto",
    n_draws: int = 200,
    seed: int = 0,
    tokens_per_example: float | None = None,
    example: str = "image",
    **inputs,
) -> Decomposition:
    """Split the fitted loss into irreducible (the floor) and reducible (L - floor) parts.

    Parameters
    ----------
    fit : Fit
        A fit of a law that declares a floor (``power_floor``, ``chinchilla``, ...).
    data, **inputs
        Points to evaluate at, as for :meth:`Fit.predict` (input symbols or their columns);
        none: the fitted points' distinct input values.
    interval : float
        Interval level (from draws of the parameters; ``method`` as for
        :func:`scalinglab.fit.sample_params`: "auto" is the run bootstrap with >= 5 runs).
    tokens_per_example : float, optional
        State the losses per example (e.g. 768 tokens per 16x16 image) instead of per token.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglab.fit import fit
    >>> x = np.geomspace(1e5, 1e9, 9)
    >>> f = fit(pd.DataFrame({"params": x, "loss": 2.0 + (3e3 / x) ** 0.3}), "power_floor")
    >>> d = decompose(f, params=[1e9, 1e12], method="delta")
    >>> round(d.irreducible, 3), [round(v, 4) for v in d.points["reducible"]]
    (2.0, [0.022, 0.0028])
    """
    check_fraction(interval, "interval", "decompose")
    name = floor_of(fit.law)
    if data is None and not inputs:
        cols = [fit.columns[s] for s in fit.law.inputs]
        data = fit.data[cols].drop_duplicates().sort_values(cols).reset_index(drop=True)
    X = fit._inputs(data, inputs)
    n = len(next(iter(X.values())))
    P = {k: np.float64(v) for k, v in fit.params.items()}
    scale = float(tokens_per_example) if tokens_per_example is not None else 1.0
    if tokens_per_example is not None and not (math.isfinite(scale) and scale > 0):
        raise InvalidParameterError(f"decompose(): tokens_per_example must be > 0, got {tokens_per_example!r}")
    loss = np.asarray(fit.law(**X, **P), dtype=float) * np.ones(n)
    draws, used = _draws(fit, n_draws, method, seed)
    Pd = {k: draws[k].to_numpy()[:, None] for k in fit.law.params}
    Xd = {k: v[None, :] for k, v in X.items()}
    Ld = np.asarray(fit.law(**Xd, **Pd), dtype=float) * np.ones((len(draws), n))
    floor_d = draws[name].to_numpy()
    Rd = Ld - floor_d[:, None]
    E = float(fit.params[name])
    out = pd.DataFrame({fit.columns.get(s, s): v for s, v in X.items()})
    out["loss"] = loss * scale
    out["loss_lower"], out["loss_upper"] = (v * scale for v in _q(Ld, interval))
    out["irreducible"] = E * scale
    out["reducible"] = (loss - E) * scale
    out["reducible_lower"], out["reducible_upper"] = (v * scale for v in _q(Rd, interval))
    out["reducible_fraction"] = (loss - E) / loss
    lo, hi = _q(floor_d, interval)
    notes = []
    if E <= fit.law.params[name].lower + 1e-12:
        notes.append(
            f"the floor '{name}' sits at its lower bound {fit.law.params[name].lower:g}: the data do not "
            "identify an irreducible loss, so 'reducible' is the whole loss"
        )
    return Decomposition(
        law=fit.law.name,
        floor=name,
        irreducible=E * scale,
        irreducible_interval=(float(lo) * scale, float(hi) * scale),
        points=out,
        level=interval,
        method=used,
        n_draws=len(draws),
        unit=_unit(tokens_per_example, example),
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class ReducibleTarget:
    """The input value at which the reducible loss reaches ``target`` (estimate and interval)."""

    law: str
    target: float
    over: str
    value: float
    interval: tuple[float, float]
    level: float
    method: str
    n_draws: int
    unit: str
    reached_fraction: float
    tokens: float | None = None

    def summary(self) -> str:
        lo, hi = self.interval
        what = {"flops": "compute C (compute-optimal allocation)"}.get(self.over, self.over)
        s = (
            f"reducible loss {self.target:g} ({self.unit}) under law {self.law} needs {what} = {self.value:.4g} "
            f"[{lo:.4g}, {hi:.4g}] ({self.level:.0%}, {self.n_draws} {self.method} draws)"
        )
        if self.tokens is not None:
            s += f"; tokens there {self.tokens:.4g}"
        if self.reached_fraction < 1:
            s += f"; {1 - self.reached_fraction:.0%} of the draws never reach it (upper end infinite)"
        return s

    __str__ = summary

    def to_dict(self) -> dict[str, Any]:
        def f(v):
            return None if v is None or not math.isfinite(v) else v

        return {
            "law": self.law,
            "target": self.target,
            "over": self.over,
            "value": f(self.value),
            "interval": [f(self.interval[0]), f(self.interval[1])],
            "level": self.level,
            "method": self.method,
            "n_draws": self.n_draws,
            "unit": self.unit,
            "reached_fraction": self.reached_fraction,
            "tokens": f(self.tokens),
        }


def _bisect_log(fun, lo: float, hi: float, shape, iters: int = 90) -> np.ndarray:
    """Vectorised bisection in log10 x for a decreasing ``fun(x) - target`` (NaN where no root in range)."""
    a = np.full(shape, lo, dtype=float)
    b = np.full(shape, hi, dtype=float)
    fa, fb = fun(10.0**a), fun(10.0**b)
    ok = (fa >= 0) & (fb <= 0)
    for _ in range(iters):
        m = 0.5 * (a + b)
        fm = fun(10.0**m)
        right = fm > 0
        a = np.where(right, m, a)
        b = np.where(right, b, m)
    out = 10.0 ** (0.5 * (a + b))
    return np.where(ok, out, np.nan)


def needed_for_reducible(
    fit,
    reducible: float,
    *,
    over: str | None = None,
    interval: float = 0.9,
    method: str = "auto",
    n_draws: int = 200,
    seed: int = 0,
    k: float = 6.0,
    tokens_per_example: float | None = None,
) -> ReducibleTarget:
    """The N (or C, or D) at which the reducible loss L - floor falls to ``reducible``.

    A single-input law is solved in its input (``(x0/x)^alpha = R`` for ``power_floor``).
    A law in N and D is solved along its compute-optimal allocation under C = k N D
    (``over="flops"``, the default when the law has one) or in N with D -> infinity
    (``over="params"``).  Vectorised bisection over the parameter draws gives the interval;
    draws that never reach the target (reducible loss bounded below) make the upper end
    infinite.  ``tokens_per_example`` states ``reducible`` per example (e.g. nats/image).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglab.fit import fit
    >>> x = np.geomspace(1e5, 1e9, 9)
    >>> f = fit(pd.DataFrame({"params": x, "loss": 2.0 + (3e3 / x) ** 0.3}), "power_floor")
    >>> r = needed_for_reducible(f, 0.01, method="delta")
    >>> f"{r.value:.3g}"      # 3e3 * 0.01^(-1/0.3)
    '1.39e+10'
    """
    check_fraction(interval, "interval", "needed_for_reducible")
    name = floor_of(fit.law)
    R = float(reducible)
    scale = float(tokens_per_example) if tokens_per_example is not None else 1.0
    if not (math.isfinite(R) and R > 0):
        raise InvalidParameterError(
            f"the target reducible loss must be > 0, got {reducible!r}",
            hint="give the reducible loss (loss above the floor), e.g. 0.05",
        )
    R = R / scale
    syms = list(fit.law.inputs)
    cols = {s: fit.columns.get(s, fit.law.inputs[s]) for s in syms}
    if over is None:
        over = "flops" if (len(syms) > 1 and fit.law.has_allocation) else cols[syms[0]]
    draws, used = _draws(fit, n_draws, method, seed)
    P_all = {p: np.concatenate([[fit.params[p]], draws[p].to_numpy()]) for p in fit.law.params}
    floor = P_all[name]
    nD = floor.size
    tokens = None
    if over == "flops" and len(syms) > 1:
        if not fit.law.has_allocation:
            raise LawError(
                f"law '{fit.law.name}' has no compute-optimal allocation to solve along",
                hint="use over='params' (the other inputs -> infinity)",
            )

        def fun(C):
            opt = fit.law.compute_optimum(P_all, C, k, with_exponent=False)
            N, D = opt.params, opt.tokens
            X = {s: (N if cols[s] == "params" else D) for s in syms}
            return np.asarray(fit.law(**X, **P_all), dtype=float) - floor - R

        x = _bisect_log(fun, -10.0, 60.0, (nD,))
        opt = (
            fit.law.compute_optimum({p: v[:1] for p, v in P_all.items()}, x[:1], k, with_exponent=False)
            if np.isfinite(x[0])
            else None
        )
        tokens = float(opt.tokens[0]) if opt is not None else None
    else:
        sym = next((s for s in syms if cols[s] == over or s == over), None)
        if sym is None:
            raise InvalidParameterError(
                f"needed_for_reducible(): '{over}' is not an input of law '{fit.law.name}'",
                hint=f"use one of {sorted(cols.values())}",
            )

        def fun(v):
            X = {s: (v if s == sym else np.full_like(v, 1e300)) for s in syms}
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                return np.asarray(fit.law(**X, **P_all), dtype=float) - floor - R

        x = _bisect_log(fun, -30.0, 80.0, (nD,))
        over = cols[sym]
    est, d = float(x[0]), x[1:]
    reached = float(np.mean(np.isfinite(d)))
    dd = np.where(np.isfinite(d), d, np.inf)
    a = (1 - interval) / 2
    lo, hi = np.quantile(dd, [a, 1 - a])
    return ReducibleTarget(
        law=fit.law.name,
        target=R * scale,
        over=over,
        value=est,
        interval=(float(lo), float(hi)),
        level=interval,
        method=used,
        n_draws=len(d),
        unit=_unit(tokens_per_example, "image"),
        reached_fraction=reached,
        tokens=tokens,
    )
