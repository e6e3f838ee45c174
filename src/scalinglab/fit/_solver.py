"""Batched optimisation engine: variable-projection grid search + projected Levenberg-Marquardt.

Every routine here works on a *batch* of B problems or starts at once, as array
operations: B parameter vectors against one dataset (multi-start), or B weight
vectors against one dataset (bootstrap resamples).  No Python loop runs over
starts or resamples.

1. :func:`grid_search` evaluates the nonlinear parameters on the law's starting
   grid and, for each grid point, solves the linearly-entering parameters
   exactly (bounded linear least squares on relative residuals, by enumerating
   active sets: variable projection, Golub & Pereyra 1973).  Candidates are
   ranked by the true robust objective.
2. :func:`refine` runs a projected, damped Gauss-Newton (Levenberg-Marquardt with
   IRLS weights for the Huber loss, a majoriser, so every accepted step lowers
   the objective) on all parameters jointly, for all candidates at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from scalinglab.fit._losses import Loss
from scalinglab.laws import Law

__all__ = ["Problem", "grid_search", "refine", "LMResult"]



@dataclass
class Problem:
    """One dataset and objective: what the batched routines optimise.

    ``weights`` is (n,) or (B, n) (bootstrap resample counts).  Internal
    coordinates ``u`` are ``log(theta)`` for log-scaled parameters, ``theta`` otherwise.
    """

    law: Law
    inputs: Mapping[str, np.ndarray]
    y: np.ndarray
    loss: Loss
    space: str = "log"
    weights: np.ndarray | None = None
    fixed: Mapping[str, float] = field(default_factory=dict)
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = [p for p in self.law.params if p not in self.fixed]
        self.is_log = np.array([self.law.params[p].log for p in self.names])
        lo, hi = [], []
        for p in self.names:
            spec = self.law.params[p]
            a, b = self.bounds.get(p, (spec.lower, spec.upper))
            if spec.log:
                a = np.log(a) if a > 0 else -np.inf
                b = np.log(b) if np.isfinite(b) else np.inf
            lo.append(a)
            hi.append(b)
        self.lower, self.upper = np.array(lo, float), np.array(hi, float)
        self.logy = np.log(self.y) if self.space == "log" else None
        self.n = self.y.shape[0]

    # -- coordinates -------------------------------------------------------------
    def to_theta(self, u: np.ndarray) -> np.ndarray:
        return np.where(self.is_log, np.exp(np.where(self.is_log, u, 0.0)), u)

    def to_u(self, theta: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.where(self.is_log, np.log(np.where(self.is_log, theta, 1.0)), theta)

    def param_dict(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """(B, P) -> {name: (B, 1)} including fixed parameters."""
        out = {p: theta[:, i:i + 1] for i, p in enumerate(self.names)}
        out.update({p: np.full((theta.shape[0], 1), v) for p, v in self.fixed.items()})
        return out

    # -- evaluation --------------------------------------------------------------
    def predict_theta(self, theta: np.ndarray) -> np.ndarray:
        params = self.param_dict(theta)
        f = self.law.evaluate(self.inputs, params)
        f = np.broadcast_to(f, (theta.shape[0], self.n))
        if self.law.constraint is not None:
            ok = np.asarray(self.law.constraint(params)).reshape(-1, 1)
            f = np.where(ok, f, np.nan)
        return f

    def residuals(self, u: np.ndarray) -> np.ndarray:
        f = self.predict_theta(self.to_theta(u))
        with np.errstate(all="ignore"):
            if self.space == "log":
                r = self.logy - np.log(f)
            else:
                r = self.y - f
        return np.where(np.isfinite(r), r, np.nan)

    def objective_from_residuals(self, r: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = self.weights if weights is None else weights
        rho = self.loss.rho(np.nan_to_num(r, nan=0.0))
        total = np.sum(rho if w is None else w * rho, axis=-1)
        bad = np.any(np.isnan(r) if w is None else np.isnan(r) & (np.broadcast_to(w, r.shape) > 0), axis=-1)
        return np.where(bad, np.inf, total)

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        """Central-difference Jacobian of the residuals, (B, n, P)."""
        B, P = u.shape
        h = 1e-6 * np.maximum(1.0, np.abs(u))
        J = np.empty((B, self.n, P))
        r0 = None
        for j in range(P):
            up, dn = u.copy(), u.copy()
            up[:, j] += h[:, j]
            dn[:, j] -= h[:, j]
            rp, rm = self.residuals(up), self.residuals(dn)
            J[:, :, j] = (rp - rm) / (2 * h[:, j:j + 1])
            bad = np.isnan(J[:, :, j])
            if bad.any():  # at a bound one side may be inadmissible: use the one-sided difference
                r0 = self.residuals(u) if r0 is None else r0
                fwd, bwd = (rp - r0) / h[:, j:j + 1], (r0 - rm) / h[:, j:j + 1]
                J[:, :, j] = np.where(bad, np.where(np.isnan(fwd), bwd, fwd), J[:, :, j])
        return J


# ------------------------------------------------------------------------------ grid stage


def _start_grid(problem: Problem, max_points: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    law = problem.law
    names = [p for p in problem.names if p not in law.linear]
    axes = [law.params[p].start_values(problem.inputs, problem.y) for p in names]
    size = int(np.prod([len(a) for a in axes])) if axes else 1
    if not names:
        return names, np.zeros((1, 0))
    if size <= max_points:
        grid = np.array(list(itertools.product(*axes)), dtype=float)
    else:
        grid = np.column_stack([rng.choice(a, size=max_points) for a in axes])
    return names, grid


def _bounded_lstsq(Phi: np.ndarray, t: np.ndarray, w: np.ndarray, lower: np.ndarray, upper: np.ndarray):
    """min_z sum_i w_i (t_i - Phi_i z)^2 subject to lower <= z <= upper, for a batch.

    Phi (G, n, k), t (G, n), w (n,).  Exact: enumerates which bounds are active
    (k is small: the linear parameters of one law).  Returns z (G, k) and the
    weighted squared error (G,); infeasible rows get +inf.
    """
    G, n, k = Phi.shape
    sw = np.sqrt(w)
    A = Phi * sw[None, :, None]
    b = t * sw[None, :]
    best_z = np.full((G, k), np.nan)
    best_err = np.full(G, np.inf)
    choices = []
    for j in range(k):
        opts = ["free"]
        if np.isfinite(lower[j]):
            opts.append("lower")
        if np.isfinite(upper[j]):
            opts.append("upper")
        choices.append(opts)
    for combo in itertools.product(*choices):
        free = np.array([c == "free" for c in combo])
        z = np.zeros((G, k))
        for j, c in enumerate(combo):
            if c == "lower":
                z[:, j] = lower[j]
            elif c == "upper":
                z[:, j] = upper[j]
        resid_target = b - np.einsum("gnk,gk->gn", A[:, :, ~free], z[:, ~free])
        if free.any():
            Af = A[:, :, free]
            AtA = np.matmul(np.swapaxes(Af, 1, 2), Af)
            Atb = np.matmul(np.swapaxes(Af, 1, 2), resid_target[:, :, None])[:, :, 0]
            AtA = AtA + 1e-12 * np.trace(AtA, axis1=1, axis2=2)[:, None, None] * np.eye(free.sum())
            try:
                zf = np.linalg.solve(AtA, Atb[..., None])[..., 0]
            except np.linalg.LinAlgError:
                zf = np.stack([np.linalg.lstsq(a, r, rcond=None)[0] for a, r in zip(Af, resid_target)])
            z[:, free] = zf
        feasible = np.all((z >= lower - 1e-12) & (z <= upper + 1e-12), axis=1) & np.all(np.isfinite(z), axis=1)
        err = np.sum((b - np.einsum("gnk,gk->gn", A, z)) ** 2, axis=1)
        better = feasible & (err < best_err)
        best_z[better] = z[better]
        best_err[better] = err[better]
    return best_z, best_err


def grid_search(problem: Problem, *, max_points: int = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """All starting points with linear parameters projected out, ranked.

    Returns ``(u, objective)`` in internal coordinates, sorted by objective
    (best first); inadmissible points have objective ``inf``.
    """
    law = problem.law
    rng = np.random.default_rng(seed)
    nl_names, grid = _start_grid(problem, max_points, rng)
    G = grid.shape[0]
    theta = np.zeros((G, len(problem.names)))
    col = {p: i for i, p in enumerate(problem.names)}
    for j, p in enumerate(nl_names):
        theta[:, col[p]] = grid[:, j]
    lin = [p for p in problem.names if p in law.linear]
    if lin:
        base = theta.copy()
        f0 = problem.predict_theta(base)
        Phi = np.empty((G, problem.n, len(lin)))
        for j, p in enumerate(lin):
            unit = base.copy()
            unit[:, col[p]] = 1.0
            Phi[:, :, j] = problem.predict_theta(unit) - f0
        scale = problem.y if problem.space == "log" else np.ones_like(problem.y)
        w = problem.weights if problem.weights is not None and problem.weights.ndim == 1 else np.ones(problem.n)
        target = (problem.y[None, :] - f0) / scale
        Phi = Phi / scale[None, :, None]
        ok = np.all(np.isfinite(Phi), axis=(1, 2)) & np.all(np.isfinite(target), axis=1)
        Phi[~ok] = 0.0
        target[~ok] = 0.0
        lo = np.array([problem.lower[col[p]] for p in lin])
        hi = np.array([problem.upper[col[p]] for p in lin])
        z, _ = _bounded_lstsq(Phi, target, w, lo, hi)
        z[~ok] = np.nan
        for j, p in enumerate(lin):
            theta[:, col[p]] = z[:, j]
    u = problem.to_u(theta)
    u = np.clip(u, problem.lower, problem.upper)
    obj = problem.objective_from_residuals(problem.residuals(u)) if G else np.zeros(0)
    obj = np.where(np.all(np.isfinite(u), axis=1), obj, np.inf)
    order = np.argsort(obj, kind="stable")
    return u[order], obj[order]


def select_starts(u: np.ndarray, obj: np.ndarray, k: int, problem: Problem) -> np.ndarray:
    """The k best distinct admissible grid points (distinct in their nonlinear coordinates)."""
    finite = np.isfinite(obj)
    u, obj = u[finite], obj[finite]
    if len(u) == 0:
        return u
    nl = np.array([p not in problem.law.linear for p in problem.names])
    span = np.ptp(u[:, nl], axis=0) if nl.any() and len(u) > 1 else np.ones(nl.sum())
    span = np.where(span > 0, span, 1.0)
    chosen: list[int] = []
    for i in range(len(u)):
        if len(chosen) >= k:
            break
        if nl.any() and chosen:
            d = np.max(np.abs(u[chosen][:, nl] - u[i, nl]) / span, axis=1)
            if np.any(d < 0.05):
                continue
        chosen.append(i)
    return u[chosen]


# ------------------------------------------------------------------------------ refinement


@dataclass
class LMResult:
    u: np.ndarray            # (B, P) internal coordinates
    objective: np.ndarray    # (B,)
    converged: np.ndarray    # (B,) bool
    n_iter: np.ndarray       # (B,)
    nfev: int
    grad_norm: np.ndarray    # (B,) projected gradient norm at the end


def refine(problem: Problem, u0: np.ndarray, *, weights: np.ndarray | None = None, max_iter: int = 300,
           ftol: float = 1e-12, gtol: float = 1e-10) -> LMResult:
    """Projected Levenberg-Marquardt with IRLS weights, batched over starts or resamples.

    ``weights``: (n,) shared or (B, n) one weight vector per problem (bootstrap).
    A problem stops when its accepted step changes the objective by less than
    ``ftol`` relative, or its projected gradient norm falls below ``gtol``.
    """
    u = np.clip(np.array(u0, dtype=float), problem.lower, problem.upper)
    B, P = u.shape
    w = problem.weights if weights is None else weights
    w = np.ones((B, problem.n)) if w is None else np.broadcast_to(w, (B, problem.n))
    r = problem.residuals(u)
    F = problem.objective_from_residuals(r, w)
    lam = np.full(B, 1e-3)
    active = np.isfinite(F)
    converged = np.zeros(B, bool)
    n_iter = np.zeros(B, int)
    gnorm = np.full(B, np.inf)
    nfev = 1
    eye = np.eye(P)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        ua, ra, wa = u[idx], r[idx], w[idx]
        J = problem.jacobian(ua)
        nfev += 2 * P
        J = np.nan_to_num(J, nan=0.0, posinf=0.0, neginf=0.0)
        psi = problem.loss.psi(ra) * wa
        irls = problem.loss.weight(ra) * wa
        Jt = np.swapaxes(J, 1, 2)
        g = np.matmul(Jt, psi[:, :, None])[:, :, 0]
        H = np.matmul(Jt * irls[:, None, :], J)  # batched J^T W J (BLAS, not a 3-operand einsum)
        at_lo = (ua <= problem.lower + 1e-12) & (g > 0)
        at_hi = (ua >= problem.upper - 1e-12) & (g < 0)
        free = ~(at_lo | at_hi)
        gf = np.where(free, g, 0.0)
        gnorm[idx] = np.linalg.norm(gf, axis=1)
        small_g = gnorm[idx] <= gtol * np.maximum(1.0, F[idx])
        diag = np.maximum(np.einsum("bpp->bp", H), 1e-12 * np.maximum(1.0, np.einsum("bpp->b", H))[:, None])
        Hf = H * free[:, :, None] * free[:, None, :] + eye * (~free)[:, :, None]
        lhs = Hf + lam[idx, None, None] * eye * diag[:, None, :]
        try:
            step = -np.linalg.solve(lhs, gf[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = -np.stack([np.linalg.lstsq(a, b, rcond=None)[0] for a, b in zip(lhs, gf)])
        step = np.where(free, step, 0.0)
        u_new = np.clip(ua + step, problem.lower, problem.upper)
        r_new = problem.residuals(u_new)
        nfev += 1
        F_new = problem.objective_from_residuals(r_new, wa)
        Fa = F[idx]
        accept = np.isfinite(F_new) & (F_new <= Fa)
        decrease = np.where(accept, Fa - F_new, 0.0)
        u[idx[accept]] = u_new[accept]
        r[idx[accept]] = r_new[accept]
        F[idx[accept]] = F_new[accept]
        lam[idx] = np.where(accept, np.maximum(lam[idx] / 3.0, 1e-12), lam[idx] * 4.0)
        n_iter[idx] += 1
        tiny_step = accept & (decrease <= ftol * np.maximum(Fa, 1e-300))
        stuck = lam[idx] > 1e12
        done = small_g | tiny_step | stuck
        converged[idx[done & ~stuck]] = True
        converged[idx[stuck & (gnorm[idx] <= 1e-6 * np.maximum(1.0, Fa))]] = True
        active[idx[done]] = False
    return LMResult(u=u, objective=F, converged=converged, n_iter=n_iter, nfev=nfev, grad_norm=gnorm)
