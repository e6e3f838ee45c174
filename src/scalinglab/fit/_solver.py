"""Batched optimisation engine: variable-projection grid search + projected Levenberg-Marquardt.

Every routine here works on a *batch* of B problems or starts at once, as array
operations: B parameter vectors against one dataset (multi-start), or B weight
vectors against one dataset (bootstrap resamples).  No Python loop runs over
starts or resamples; loops over chunks of the data keep memory bounded
(about :data:`CHUNK` numbers per work array, whatever the number of points).

1. :func:`grid_search` evaluates the nonlinear parameters on the law's starting
   grid and, for each grid point, solves the linearly-entering parameters
   exactly (bounded linear least squares on relative residuals, by enumerating
   active sets: variable projection, Golub & Pereyra 1973) from the Gram matrix
   of the linear columns.  When each column depends on one nonlinear parameter
   (Chinchilla: 1, N^-alpha, D^-beta) and the grid is a full product, the Gram
   matrices of all G grid points come from products of per-axis column blocks:
   O(sqrt(G) n) work and memory instead of O(G n).  Candidates are ranked by the
   true robust objective.
2. :func:`refine` runs a projected Levenberg-Marquardt on all parameters jointly,
   for all candidates at once, with the exact Gauss-Newton curvature of the loss
   (for Huber: the inlier block J^T W_in J), damped by the IRLS majoriser's
   diagonal; every accepted step lowers the objective.  Derivatives come from the
   law's ``jacobian`` hook when it has one, else from central differences.
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from scalinglab.fit._losses import Loss
from scalinglab.laws import Law

__all__ = ["Problem", "grid_search", "refine", "LMResult", "GridResult", "CHUNK", "stack_problems", "stack_key"]

#: Numbers per work array (about 16 MB of float64): the data are processed in chunks of points
#: so that memory stays bounded whatever the number of points.
CHUNK = 1 << 21
#: Numbers per block when ranking grid points (about 256 KB of float64: fits in a core's cache).
RANK_CHUNK = 1 << 15
#: Numbers per block of rows (starts or resamples) in :meth:`Problem.moments` (about 1 MB of
#: float64): many rows at once are computed block by block, each block's arrays in cache.
MOMENT_BLOCK = 1 << 17
#: Grid points x data points up to which every grid point is ranked by the robust objective;
#: beyond it only the best grid points by least-squares error are (see :func:`grid_search`).
RANK_BUDGET = 1 << 24


def _chunks(n: int, per_point: int) -> Iterator[slice]:
    """Slices of ``range(n)`` with ``per_point * len(slice) <= CHUNK`` (at least one point each)."""
    step = max(1, CHUNK // max(1, per_point))
    for a in range(0, n, step):
        yield slice(a, min(n, a + step))


@functools.cache
def _log_keywords(hook) -> frozenset[str]:
    """The ``log_<input>`` keywords a law's ``jacobian`` hook accepts."""
    try:
        names = inspect.signature(hook).parameters
    except (TypeError, ValueError):
        return frozenset()
    return frozenset(n for n in names if n.startswith("log_"))


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
        self.is_log = np.array([self.law.params[p].log for p in self.names], dtype=bool)
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
        self.n = self.y.shape[-1]
        #: one data set per row of the batch (inputs, y and weights (B, n)): see :func:`stack_problems`
        self.stacked = self.y.ndim == 2
        #: logarithms of the inputs, computed once, for a ``jacobian`` hook that takes ``log_<input>``
        wanted = _log_keywords(self.law.jacobian) if self.law.jacobian is not None else ()
        with np.errstate(all="ignore"):
            self.log_inputs = {f"log_{k}": np.log(v) for k, v in self.inputs.items() if f"log_{k}" in wanted}

    # -- coordinates -------------------------------------------------------------
    def to_theta(self, u: np.ndarray) -> np.ndarray:
        return np.where(self.is_log, np.exp(np.where(self.is_log, u, 0.0)), u)

    def to_u(self, theta: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.where(self.is_log, np.log(np.where(self.is_log, theta, 1.0)), theta)

    def param_dict(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """(B, P) -> {name: (B, 1)} including fixed parameters."""
        out = {p: theta[:, i : i + 1] for i, p in enumerate(self.names)}
        out.update({p: np.full((theta.shape[0], 1), v) for p, v in self.fixed.items()})
        return out

    def _inputs(
        self, cols: slice | None, rows: np.ndarray | None = None, logs: bool = False
    ) -> Mapping[str, np.ndarray]:
        out = {**self.inputs, **self.log_inputs} if logs and self.log_inputs else self.inputs
        if rows is not None and self.stacked:
            out = {k: v[rows] for k, v in out.items()}
        if cols is not None:
            out = {k: v[..., cols] for k, v in out.items()}
        return out

    def _data(self, cols: slice | None, rows: np.ndarray | None = None) -> np.ndarray:
        t = self.logy if self.space == "log" else self.y
        if rows is not None and self.stacked:
            t = t[rows]
        return t if cols is None else t[..., cols]

    # -- evaluation --------------------------------------------------------------
    def predict_theta(self, theta: np.ndarray, cols: slice | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        params = self.param_dict(theta)
        inputs = self._inputs(cols, rows)
        f = self.law.evaluate(inputs, params)
        m = self.n if cols is None else len(range(*cols.indices(self.n)))
        f = np.broadcast_to(f, (theta.shape[0], m))
        if self.law.constraint is not None:
            ok = np.asarray(self.law.constraint(params)).reshape(-1, 1)
            f = np.where(ok, f, np.nan)
        return f

    def _resid_from_f(self, f: np.ndarray, cols: slice | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        with np.errstate(all="ignore"):
            r = self._data(cols, rows) - (np.log(f) if self.space == "log" else f)
            if np.isfinite(np.sum(r)):  # one cheap pass when every residual is finite (the usual case)
                return r
        return np.where(np.isfinite(r), r, np.nan)

    def residuals(self, u: np.ndarray, cols: slice | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        return self._resid_from_f(self.predict_theta(self.to_theta(u), cols, rows), cols, rows)

    def objective_from_residuals(self, r: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = self.weights if weights is None else weights
        rho = self.loss.rho(np.nan_to_num(r, nan=0.0))
        total = np.sum(rho if w is None else w * rho, axis=-1)
        bad = np.any(np.isnan(r) if w is None else np.isnan(r) & (np.broadcast_to(w, r.shape) > 0), axis=-1)
        return np.where(bad, np.inf, total)

    def objective(self, u: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Objective of each row of ``u`` (B, P), in chunks of points (bounded memory)."""
        w = self.weights if weights is None else weights
        B = u.shape[0]
        total = np.zeros(B)
        for cols in _chunks(self.n, B):
            wc = 1.0 if w is None else w[..., cols]
            total += self.objective_from_residuals(self.residuals(u, cols), wc)
        return total

    def _dresid(
        self, u: np.ndarray, cols: slice | None = None, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Residuals (B, m) and their derivatives in ``u``, (B, P, m).

        Analytic when the law has a ``jacobian`` hook, else central differences
        (one-sided next to an inadmissible region).
        """
        B, P = u.shape
        theta = self.to_theta(u)
        if self.law.jacobian is not None:
            params = self.param_dict(theta)
            with np.errstate(all="ignore"):
                f, d = self.law.jacobian(**self._inputs(cols, rows, logs=True), **params)
            m = self.n if cols is None else len(range(*cols.indices(self.n)))
            f = np.broadcast_to(np.asarray(f, dtype=float), (B, m))
            if self.law.constraint is not None:
                ok = np.asarray(self.law.constraint(params)).reshape(-1, 1)
                f = np.where(ok, f, np.nan)
            df = np.empty((B, P, m))
            with np.errstate(all="ignore"):
                # d r / d theta = -(d f / d theta) / f in log space, -(d f / d theta) in linear space
                inv = -1.0 / f if self.space == "log" else np.broadcast_to(-1.0, (B, m))
                for i, p in enumerate(self.names):
                    np.multiply(d[p], inv, out=df[:, i, :])
                    if self.is_log[i]:  # chain rule for log coordinates: d theta / d u = theta
                        df[:, i, :] *= theta[:, i : i + 1]
            return self._resid_from_f(f, cols, rows), df
        r0 = self.residuals(u, cols, rows)
        h = 1e-6 * np.maximum(1.0, np.abs(u))
        J = np.empty((B, P, r0.shape[1]))
        for j in range(P):
            up, dn = u.copy(), u.copy()
            up[:, j] += h[:, j]
            dn[:, j] -= h[:, j]
            rp, rm = self.residuals(up, cols, rows), self.residuals(dn, cols, rows)
            J[:, j, :] = (rp - rm) / (2 * h[:, j : j + 1])
            bad = np.isnan(J[:, j, :])
            if bad.any():  # at a bound one side may be inadmissible: use the one-sided difference
                fwd, bwd = (rp - r0) / h[:, j : j + 1], (r0 - rm) / h[:, j : j + 1]
                J[:, j, :] = np.where(bad, np.where(np.isnan(fwd), bwd, fwd), J[:, j, :])
        return r0, J

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        """Jacobian of the residuals in the internal coordinates, (B, n, P)."""
        return np.swapaxes(self._dresid(u)[1], 1, 2)

    @property
    def nfev_per_jacobian(self) -> int:
        """Law evaluations one residual-plus-Jacobian evaluation costs."""
        return 1 if self.law.jacobian is not None else 2 * len(self.names) + 1

    def moments(
        self, u: np.ndarray, weights: np.ndarray | None = None, rows: np.ndarray | None = None, exact: bool = True
    ):
        """Objective, gradient and curvatures at each row of ``u``, in chunks of points.

        Returns ``F`` (B,), ``g`` (B, P), ``H`` (B, P, P) the exact Gauss-Newton
        curvature ``J^T diag(w rho'') J`` and ``D`` (B, P) the diagonal of the IRLS
        majoriser ``J^T diag(w psi/r) J`` (a positive scaling for the damping); with
        ``exact=False`` ``H`` is the IRLS majoriser itself.
        ``weights`` is (n,) or (B, n); default the problem's.  ``rows`` picks the data
        sets of a stacked problem that the rows of ``u`` belong to.
        """
        w = self.weights if weights is None else weights
        B, P = u.shape
        step = max(1, MOMENT_BLOCK // max(1, self.n * (P + 2)))
        if B > step:  # blocks of rows whose work arrays stay in a core's cache
            if rows is None and self.stacked:
                rows = np.arange(B)
            parts = [
                self.moments(
                    u[a : a + step],
                    w[a : a + step] if w is not None and w.ndim == 2 and len(w) == B else w,
                    None if rows is None else rows[a : a + step],
                    exact,
                )
                for a in range(0, B, step)
            ]
            return tuple(np.concatenate(x) for x in zip(*parts))
        F = np.zeros(B)
        bad = np.zeros(B, bool)
        g = np.zeros((B, P))
        H = np.zeros((B, P, P))
        D = np.zeros((B, P))
        curv = (self.loss.curvature or self.loss.weight) if exact else self.loss.weight
        for cols in _chunks(self.n, B * (P + 2)):
            r, J = self._dresid(u, cols, rows)
            wc = np.ones(r.shape[1]) if w is None else w[..., cols]
            nan = np.isnan(r)
            if nan.any():
                bad |= np.any(nan & (np.broadcast_to(wc, r.shape) > 0), axis=1)
                r = np.where(nan, 0.0, r)
            if not np.isfinite(np.sum(J)):
                J = np.where(np.isfinite(J), J, 0.0)
            F += np.sum(wc * self.loss.rho(r), axis=1)
            g += np.matmul(J, (wc * self.loss.psi(r))[:, :, None])[:, :, 0]
            H += np.matmul(J * (wc * curv(r))[:, None, :], np.swapaxes(J, 1, 2))
            D += np.matmul(J * J, (wc * self.loss.weight(r))[:, :, None])[:, :, 0]
        F[bad] = np.inf
        return F, g, H, D


# ------------------------------------------------------------------------------ grid stage


class _Grid(NamedTuple):
    names: list[str]  # nonlinear parameters on the grid
    points: np.ndarray  # (G, len(names))
    axes: list[np.ndarray]  # values of each axis
    index: np.ndarray | None  # (G, len(names)) axis indices when the grid is a full product, else None


def _start_grid(problem: Problem, max_points: int, rng: np.random.Generator) -> _Grid:
    law = problem.law
    names = [p for p in problem.names if p not in law.linear]
    axes = [law.params[p].start_values(problem.inputs, problem.y) for p in names]
    if not names:
        return _Grid(names, np.zeros((1, 0)), [], np.zeros((1, 0), int))
    size = int(np.prod([len(a) for a in axes]))
    if size <= max_points:
        index = _product_index(tuple(len(a) for a in axes))
        grid = np.column_stack([a[index[:, j]] for j, a in enumerate(axes)])
        return _Grid(names, grid, axes, index)
    grid = np.column_stack([rng.choice(a, size=max_points) for a in axes])
    return _Grid(names, grid, axes, None)


@functools.lru_cache(maxsize=16)
def _product_index(sizes: tuple[int, ...]) -> np.ndarray:
    """Axis indices of every point of a full product grid, in ``itertools.product`` order (read-only)."""
    index = np.array(list(itertools.product(*[range(k) for k in sizes])), dtype=int).reshape(-1, len(sizes))
    index.flags.writeable = False
    return index


def _solve_gram(M: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """min_z |t - A z|^2 subject to lower <= z <= upper, from Gram matrices, for a batch.

    ``M`` (G, k+1, k+1) is the Gram matrix of the columns ``[A | t]`` (weighted).
    Exact: enumerates which bounds are active (k is small: the linear parameters
    of one law).  Returns z (G, k) and the squared error (G,); infeasible rows get +inf.
    """
    G, k = M.shape[0], M.shape[1] - 1
    AtA, Atb, btb = M[:, :k, :k], M[:, :k, k], M[:, k, k]
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
        if free.any():
            F = np.flatnonzero(free)
            rhs = Atb[:, F] - np.einsum("gfk,gk->gf", AtA[:, F][:, :, ~free], z[:, ~free])
            AF = AtA[:, F][:, :, F]
            AF = AF + 1e-12 * np.trace(AF, axis1=1, axis2=2)[:, None, None] * np.eye(F.size)
            try:
                zf = np.linalg.solve(AF, rhs[..., None])[..., 0]
            except np.linalg.LinAlgError:
                zf = np.stack([np.linalg.lstsq(a, r, rcond=None)[0] for a, r in zip(AF, rhs)])
            z[:, F] = zf
        feasible = np.all((z >= lower - 1e-12) & (z <= upper + 1e-12), axis=1) & np.all(np.isfinite(z), axis=1)
        err = btb - 2 * np.einsum("gk,gk->g", z, Atb) + np.einsum("gj,gjk,gk->g", z, AtA, z)
        better = feasible & (err < best_err)
        best_z[better] = z[better]
        best_err[better] = err[better]
    return best_z, best_err


class _Columns:
    """The linear columns of a law (and its offset) on the data, one block per grid axis.

    For a law affine in its linear parameters, ``f = f0 + sum_j z_j c_j`` with ``c_j`` and
    ``f0`` functions of the nonlinear parameters.  When each of them depends on at most one
    nonlinear parameter (detected by probing the law) and the grid is a full product,
    column ``j`` on the whole grid is one block ``(len(axis), n)``.
    """

    def __init__(self, problem: Problem, grid: _Grid, lin: list[str], col: dict[str, int]):
        self.problem, self.grid, self.lin, self.col = problem, grid, lin, col
        self.axis_of = self._detect()

    def _columns(self, nl: np.ndarray, cols: slice | None, which: list[int]) -> dict[int, np.ndarray]:
        """Columns ``which`` of ``[c_1 .. c_k, f0]`` at grid rows ``nl`` (R, len(names)), on ``cols``."""
        p, k = self.problem, len(self.lin)
        theta = np.zeros((nl.shape[0], len(p.names)))
        for q, name in enumerate(self.grid.names):
            theta[:, self.col[name]] = nl[:, q]
        if p.law.jacobian is not None and p.law.constraint is None:
            with np.errstate(all="ignore"):
                f0, d = p.law.jacobian(**p._inputs(cols, logs=True), **p.param_dict(theta))
            m = p.n if cols is None else len(range(*cols.indices(p.n)))
            shape = (nl.shape[0], m)
            return {
                j: np.array(np.broadcast_to(np.asarray(f0 if j == k else d[self.lin[j]], dtype=float), shape))
                for j in which
            }
        f0 = p.predict_theta(theta, cols)
        out = {}
        for j in which:
            if j == k:
                out[j] = np.array(f0)
            else:
                unit = theta.copy()
                unit[:, self.col[self.lin[j]]] = 1.0
                out[j] = p.predict_theta(unit, cols) - f0
        return out

    def _detect(self) -> list[int] | None:
        """Which grid axis each column depends on (-1: none); ``None`` when not separable."""
        p, g = self.problem, self.grid
        if g.index is None or p.law.constraint is not None or not g.names:
            return None
        probe = slice(0, p.n, max(1, p.n // 64))
        rng = np.random.default_rng(12345)
        every = list(range(len(self.lin) + 1))
        depends = np.zeros((len(every), len(g.names)), bool)
        points, pairs = [], []  # every probe point, then its columns in one evaluation
        for _ in range(3):
            base = np.array([rng.choice(a) for a in g.axes])
            at = len(points)
            points.append(base)
            for q, a in enumerate(g.axes):
                if len(a) < 2:
                    continue
                alt = base.copy()
                alt[q] = rng.choice(a[a != base[q]])
                pairs.append((at, len(points), q))
                points.append(alt)
        cols = self._columns(np.array(points), probe, every)
        for ref, other, q in pairs:
            for j in every:
                if not _close(cols[j][ref], cols[j][other]):
                    depends[j, q] = True
        if np.any(depends.sum(axis=1) > 1):
            return None
        return [int(np.flatnonzero(d)[0]) if d.any() else -1 for d in depends]

    def sizes(self) -> list[int]:
        return [len(self.grid.axes[a]) if a >= 0 else 1 for a in self.axis_of]

    def blocks(self, cols: slice) -> list[np.ndarray]:
        """Column blocks on ``cols``: block j is (len(axis of j), m), or (1, m) for a constant column."""
        out: list[np.ndarray] = [np.empty(0)] * len(self.axis_of)
        base = np.array([a[0] for a in self.grid.axes])
        for a in sorted(set(self.axis_of)):
            which = [j for j, b in enumerate(self.axis_of) if b == a]
            values = self.grid.axes[a] if a >= 0 else base[:1]
            nl = np.repeat(base[None, :], len(values), axis=0)
            if a >= 0:
                nl[:, a] = values
            for j, block in self._columns(nl, cols, which).items():
                out[j] = block
        return out

    def rows(self, j: int) -> np.ndarray:
        """Index of each grid point into block j."""
        a = self.axis_of[j]
        return self.grid.index[:, a] if a >= 0 else np.zeros(len(self.grid.points), int)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    """``np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True)`` for float arrays, without its overhead."""
    with np.errstate(invalid="ignore"):
        near = (np.abs(a - b) <= 1e-12 * np.abs(b)) & np.isfinite(b)
    if near.all():
        return True
    return bool(np.all(near | (a == b) | (np.isnan(a) & np.isnan(b))))


def _separable_gram(cs: _Columns, w: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gram matrices (G, k+1, k+1) of ``[A | t]`` for every grid point, from per-axis blocks.

    ``A`` holds the linear columns and ``t = y - f0``, both divided by ``scale``.  Also
    returns ``ok`` (G,): False where a column is not finite on some point.
    """
    p, k = cs.problem, len(cs.lin)
    G = len(cs.grid.points)
    sizes = cs.sizes()
    pair: dict[tuple[int, int], np.ndarray] = {}
    finite = [np.ones(s, bool) for s in sizes]
    for cols in _chunks(p.n, 2 * sum(sizes)):
        X = cs.blocks(cols)
        X[k] = p.y[cols] - X[k]
        for j in range(k + 1):
            X[j] = X[j] / scale[cols]
            fin = np.all(np.isfinite(X[j]), axis=1)
            finite[j] &= fin
            X[j][~fin] = 0.0
        wc = w[cols]
        for a in range(k + 1):
            Xw = X[a] * wc
            for b in range(a, k + 1):
                if cs.axis_of[a] == cs.axis_of[b] and cs.axis_of[a] >= 0:
                    v = np.einsum("vn,vn->v", Xw, X[b])[:, None]  # same axis: (m, 1)
                else:
                    v = Xw @ X[b].T  # (m_a, m_b)
                pair[a, b] = pair[a, b] + v if (a, b) in pair else v
    M = np.empty((G, k + 1, k + 1))
    rows = [cs.rows(j) for j in range(k + 1)]
    for a in range(k + 1):
        for b in range(a, k + 1):
            same = cs.axis_of[a] == cs.axis_of[b] and cs.axis_of[a] >= 0
            M[:, a, b] = pair[a, b][rows[a], 0] if same else pair[a, b][rows[a], rows[b]]
            M[:, b, a] = M[:, a, b]
    ok = np.ones(G, bool)
    for j in range(k + 1):
        ok &= finite[j][rows[j]]
    return M, ok


def _generic_gram(cs: _Columns, w: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gram matrices of ``[A | t]`` grid point by grid point (any law), in chunks of grid x points."""
    p, k = cs.problem, len(cs.lin)
    pts = cs.grid.points
    G = len(pts)
    M = np.zeros((G, k + 1, k + 1))
    ok = np.ones(G, bool)
    every = list(range(k + 1))
    step = max(1, min(G, CHUNK // max(1, p.n)))
    for g0 in range(0, G, step):
        gs = slice(g0, min(G, g0 + step))
        for cols in _chunks(p.n, (k + 1) * (gs.stop - gs.start)):
            c = cs._columns(pts[gs], cols, every)
            X = [c[j] for j in range(k)] + [p.y[cols] - c[k]]
            X = [x / scale[cols] for x in X]
            fin = np.all([np.all(np.isfinite(x), axis=1) for x in X], axis=0)
            ok[gs] &= fin
            X = [np.where(np.isfinite(x), x, 0.0) for x in X]
            wc = w[cols]
            for a in range(k + 1):
                Xw = X[a] * wc
                for b in range(a, k + 1):
                    M[gs, a, b] += np.einsum("gn,gn->g", Xw, X[b])
                    M[gs, b, a] = M[gs, a, b]
    return M, ok


class GridResult(NamedTuple):
    u: np.ndarray  # (G, P) internal coordinates, best first
    objective: np.ndarray  # (G,) robust objective (inf: inadmissible or not ranked)
    n_admissible: int  # grid points with an admissible least-squares solution


def _rank_separable(cs: _Columns, z: np.ndarray, which: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Robust objective of grid points ``which`` with linear parameters ``z``, from the column blocks."""
    p, k = cs.problem, len(cs.lin)
    obj = np.zeros(len(which))
    bad = np.zeros(len(which), bool)
    rows = [cs.rows(j)[which] for j in range(k + 1)]
    sizes = cs.sizes()
    for cols in _chunks(p.n, 4 * sum(sizes)):
        X = cs.blocks(cols)
        data = p._data(cols)
        wc = np.ones(data.shape[-1]) if w is None else w[cols]
        positive = bool(np.all(wc > 0))
        m = data.shape[-1]
        step = max(1, RANK_CHUNK // m)  # small blocks of grid points stay in cache
        for g0 in range(0, len(which), step):
            gs = slice(g0, min(len(which), g0 + step))
            # a column that depends on no grid axis is one row, broadcast instead of gathered (same values)
            f = X[k][rows[k][gs]] if cs.axis_of[k] >= 0 else np.repeat(X[k], gs.stop - gs.start, axis=0)
            for j in range(k):
                f += z[gs, j : j + 1] * (X[j][rows[j][gs]] if cs.axis_of[j] >= 0 else X[j])
            if positive:  # every point counts: a non-finite residual makes the sum non-finite
                with np.errstate(all="ignore"):
                    if p.space == "log":
                        np.log(f, out=f)
                    np.subtract(data, f, out=f)
                    rho = p.loss.rho(f)
                    obj[gs] += np.sum(rho if w is None else wc * rho, axis=1)
                continue
            r = p._resid_from_f(f, cols)
            nan = np.isnan(r)
            bad[gs] |= np.any(nan & (wc > 0), axis=1)
            obj[gs] += np.sum(wc * p.loss.rho(np.where(nan, 0.0, r)), axis=1)
    return np.where(bad | ~np.isfinite(obj), np.inf, obj)


def grid_search(problem: Problem, *, max_points: int = 20000, seed: int = 0, top: int = 64) -> GridResult:
    """All starting points with linear parameters projected out, ranked.

    Returns a :class:`GridResult`: internal coordinates sorted by robust objective (best
    first; inadmissible points have objective ``inf``).  When grid points x data points
    exceed :data:`RANK_BUDGET`, only the ``top`` grid points with the smallest
    least-squares error are ranked by the robust objective (the rest get ``inf``).
    """
    law = problem.law
    rng = np.random.default_rng(seed)
    grid = _start_grid(problem, max_points, rng)
    G = grid.points.shape[0]
    theta = np.zeros((G, len(problem.names)))
    col = {p: i for i, p in enumerate(problem.names)}
    for j, p in enumerate(grid.names):
        theta[:, col[p]] = grid.points[:, j]
    lin = [p for p in problem.names if p in law.linear]
    w = problem.weights if problem.weights is not None and problem.weights.ndim == 1 else None
    err = np.zeros(G)
    cs = None
    if lin:
        cs = _Columns(problem, grid, lin, col)
        scale = problem.y if problem.space == "log" else np.ones_like(problem.y)
        wl = w if w is not None else np.ones(problem.n)
        M, ok = (_separable_gram if cs.axis_of is not None else _generic_gram)(cs, wl, scale)
        M[~ok] = np.eye(len(lin) + 1)
        lo = np.array([problem.lower[col[p]] for p in lin])
        hi = np.array([problem.upper[col[p]] for p in lin])
        z, err = _solve_gram(M, lo, hi)
        z[~ok] = np.nan
        err[~ok] = np.inf
        theta[:, [col[p] for p in lin]] = z
    u = np.clip(problem.to_u(theta), problem.lower, problem.upper)
    admissible = np.all(np.isfinite(u), axis=1) & np.isfinite(err)
    which = np.flatnonzero(admissible)
    n_admissible = int(which.size)
    ranked_all = not (G * problem.n > RANK_BUDGET and which.size > top)
    if not ranked_all:
        which = which[np.argsort(err[which], kind="stable")[:top]]
    obj = np.full(G, np.inf)
    if which.size:
        if cs is not None and cs.axis_of is not None:
            obj[which] = _rank_separable(cs, theta[which][:, [col[p] for p in lin]], which, w)
        else:
            obj[which] = problem.objective(u[which], w)
    obj = np.where(admissible, obj, np.inf)
    order = np.argsort(obj, kind="stable")
    return GridResult(u[order], obj[order], int(np.isfinite(obj).sum()) if ranked_all else n_admissible)


def select_starts(u: np.ndarray, obj: np.ndarray, k: int, problem: Problem) -> np.ndarray:
    """The k best distinct admissible grid points (distinct in their nonlinear coordinates)."""
    finite = np.isfinite(obj)
    u, obj = u[finite], obj[finite]
    if len(u) == 0:
        return u
    nl = np.array([p not in problem.law.linear for p in problem.names], dtype=bool)
    if not nl.any():
        return u[:k]
    span = np.ptp(u[:, nl], axis=0) if len(u) > 1 else np.ones(nl.sum())
    span = np.where(span > 0, span, 1.0)
    x = u[:, nl] / span
    chosen = [0]
    # a point is a duplicate if it lies within 0.05 (of the span, max norm) of an earlier chosen one
    alive = np.max(np.abs(x - x[0]), axis=1) >= 0.05
    while len(chosen) < k:
        nxt = np.flatnonzero(alive)
        if nxt.size == 0:
            break
        i = int(nxt[0])
        chosen.append(i)
        alive &= np.max(np.abs(x - x[i]), axis=1) >= 0.05
    return u[chosen]


# ------------------------------------------------------------------------------ refinement


#: Log-scale steps of a positive coefficient below this are applied additively (``theta (1 + d)``,
#: clipped at 0) so that the coefficient can reach its bound; above it multiplicatively.
GEOMETRIC_CUT = -0.7


@dataclass
class LMResult:
    u: np.ndarray  # (B, P) internal coordinates
    objective: np.ndarray  # (B,)
    converged: np.ndarray  # (B,) bool
    n_iter: np.ndarray  # (B,)
    nfev: int
    grad_norm: np.ndarray  # (B,) projected gradient norm at the end


def refine(
    problem: Problem,
    u0: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    max_iter: int = 300,
    ftol: float = 1e-12,
    gtol: float = 1e-10,
    exact: bool | None = None,
    group: np.ndarray | None = None,
) -> LMResult:
    """Projected Levenberg-Marquardt with exact Gauss-Newton curvature, batched over starts or resamples.

    Step: ``(H + lam diag(D)) s = -g`` on the free parameters, with ``H`` the exact
    Gauss-Newton curvature of the loss (:meth:`Problem.moments`; for Huber only the
    inliers |r| <= delta contribute) and ``D`` the diagonal of the IRLS majoriser; a step
    is accepted when it does not raise the objective (then ``lam`` shrinks by Nielsen's
    gain-ratio rule), else ``lam`` grows.  ``exact=False`` uses the IRLS majoriser as ``H``
    with the fixed factors 1/3 and 4 (the default for laws without analytic derivatives,
    whose fits keep their earlier optima).  The derivatives at a trial point are computed with its objective, so an
    accepted step costs one evaluation.

    With the exact curvature, coefficients bounded to ``[0, inf)`` in linear coordinates
    (Chinchilla's E, A and B) step in log scale: the step is solved for ``d log theta`` and
    applied as ``theta * exp(d)``, or as ``theta * (1 + d)`` (clipped at 0) for a cut below
    :data:`GEOMETRIC_CUT`, so a coefficient can still reach its bound 0.  Along the ridge
    that few model sizes leave (``log A`` rising linearly with ``alpha``) the multiplicative
    update follows the valley where an additive one crawls: on the 280 Hitchhiker subsets
    it took the median iterations from 479 to 92 and ended lower on 119 of them.

    ``group`` (B,) marks rows that are starts of the same problem (multi-start).  A start that
    comes within :data:`MERGE_TOL` (relative, every coordinate; :data:`MERGE_TOL_MAJORISER` with
    ``exact=False``) of another start of its group stops there and ends where that one ends:
    both are then in one basin, and the rest of the path would be spent twice.

    ``weights``: (n,) shared or (B, n) one weight vector per problem (bootstrap).
    A problem stops when its accepted step changes the objective by less than
    ``ftol`` relative, or its projected gradient norm falls below ``gtol``.
    """
    u = np.clip(np.array(u0, dtype=float), problem.lower, problem.upper)
    B, P = u.shape
    w = problem.weights if weights is None else np.asarray(weights, dtype=float)
    per_row = w is not None and w.ndim == 2
    if exact is None:  # the exact curvature where the law gives analytic derivatives (as benchmarked)
        exact = problem.law.jacobian is not None
    geom = (~problem.is_log) & (problem.lower == 0) & (problem.upper == np.inf) & bool(exact)
    F, g, H, D = problem.moments(u, w, exact=exact)
    nfev = problem.nfev_per_jacobian
    lam = np.full(B, 1e-3)
    nu = np.full(B, 2.0)
    active = np.isfinite(F)
    converged = np.zeros(B, bool)
    n_iter = np.zeros(B, int)
    gnorm = np.full(B, np.inf)
    eye = np.eye(P)
    pairs = _group_pairs(group) if group is not None else None
    merged = np.full(B, -1)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        ua, ga, Ha, Fa = u[idx], g[idx], H[idx], F[idx]
        at_lo = (ua <= problem.lower + 1e-12) & (ga > 0)
        at_hi = (ua >= problem.upper - 1e-12) & (ga < 0)
        free = ~(at_lo | at_hi)
        gf = np.where(free, ga, 0.0)
        gnorm[idx] = np.linalg.norm(gf, axis=1)
        small_g = gnorm[idx] <= gtol * np.maximum(1.0, Fa)
        Da = D[idx]
        scaled = geom & (ua > 0)  # log-scale step for positive coefficients: d/d log theta = theta d/d theta
        if scaled.any():
            S = np.where(scaled, ua, 1.0)
            gf, Ha, Da = gf * S, Ha * S[:, :, None] * S[:, None, :], Da * S * S
        diag = np.maximum(Da, 1e-12 * np.maximum(1.0, Da.sum(axis=1))[:, None])[:, None, :]
        Hf = Ha * free[:, :, None] * free[:, None, :] + eye * (~free)[:, :, None]
        lhs = Hf + lam[idx, None, None] * eye * diag
        step = -_solve_steps(lhs, gf, getattr(problem, "part", None), idx)
        step = np.where(free, step, 0.0)
        if scaled.any():
            grow = scaled & (step > GEOMETRIC_CUT)
            with np.errstate(over="ignore"):
                u_new = np.where(grow, ua * np.exp(np.minimum(step, 700.0)), ua + S * step)
            u_new = np.clip(u_new, problem.lower, problem.upper)
        else:
            u_new = np.clip(ua + step, problem.lower, problem.upper)
        F_new, g_new, H_new, D_new = problem.moments(u_new, w[idx] if per_row else w, idx, exact=exact)
        nfev += problem.nfev_per_jacobian
        accept = np.isfinite(F_new) & (F_new <= Fa)
        decrease = np.where(accept, Fa - F_new, 0.0)
        ia = idx[accept]
        u[ia], F[ia], g[ia], H[ia], D[ia] = u_new[accept], F_new[accept], g_new[accept], H_new[accept], D_new[accept]
        pred = -(np.einsum("bp,bp->b", gf, step) + 0.5 * np.einsum("bp,bpq,bq->b", step, Hf, step))
        with np.errstate(all="ignore"):
            ratio = np.where(pred > 0, (Fa - F_new) / pred, 0.0)
        if exact:  # Nielsen's update from the gain ratio
            up = nu[idx]
            shrink = np.maximum(1 / 3, 1 - (2 * ratio - 1) ** 3)
            lam[idx] = np.where(accept, np.maximum(lam[idx] * shrink, 1e-12), lam[idx] * up)
            nu[idx] = np.where(accept, 2.0, up * 2.0)
        else:
            lam[idx] = np.where(accept, np.maximum(lam[idx] / 3.0, 1e-12), lam[idx] * 4.0)
        n_iter[idx] += 1
        tiny_step = accept & (decrease <= ftol * np.maximum(Fa, 1e-300))
        stuck = lam[idx] > 1e12
        done = small_g | tiny_step | stuck
        converged[idx[done & ~stuck]] = True
        converged[idx[stuck & (gnorm[idx] <= 1e-6 * np.maximum(1.0, Fa))]] = True
        active[idx[done]] = False
        if pairs is not None:
            _merge_starts(pairs, u, F, active, merged, MERGE_TOL if exact else MERGE_TOL_MAJORISER)
    if (merged >= 0).any():  # a merged start ends where the start it joined ends
        lead = np.arange(B)
        for _ in range(B):
            nxt = np.where(merged[lead] >= 0, merged[lead], lead)
            if np.array_equal(nxt, lead):
                break
            lead = nxt
        u, F, converged, n_iter, gnorm = u[lead], F[lead], converged[lead], n_iter[lead], gnorm[lead]
    return LMResult(u=u, objective=F, converged=converged, n_iter=n_iter, nfev=nfev, grad_norm=gnorm)


def _solve_steps(lhs: np.ndarray, rhs: np.ndarray, part: np.ndarray | None, idx: np.ndarray) -> np.ndarray:
    """``lhs^-1 rhs`` for each row; least squares for the rows of a stacked part where a matrix is singular.

    ``part`` (rows of a :class:`StackedBatch`, else None) keeps the fallback within each stacked
    problem, as when each is refined on its own.
    """
    try:  # each matrix is solved on its own: all rows at once give the same steps as part by part
        return np.linalg.solve(lhs, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        pass
    groups = [slice(None)] if part is None else _runs_of(part[idx])
    out = np.empty_like(rhs)
    for rows in groups:
        a, b = lhs[rows], rhs[rows]
        try:
            out[rows] = np.linalg.solve(a, b[..., None])[..., 0]
        except np.linalg.LinAlgError:
            out[rows] = np.stack([np.linalg.lstsq(x, y, rcond=None)[0] for x, y in zip(a, b)])
    return out


def _runs_of(labels: np.ndarray) -> list[slice]:
    """Slices of the runs of equal consecutive labels."""
    cut = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    edges = np.r_[0, cut, len(labels)]
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


#: Starts of one problem closer than this (relative, in every internal coordinate) are merged, where
#: the steps use the exact curvature (laws with analytic derivatives).  On the 280 Hitchhiker
#: subsets 3e-2 instead of 1e-4 cuts the refinement's work by a quarter with every optimum the same
#: to 4e-13; at 0.1 one subset ends at another optimum (lower), at 0.3 one ends 6% higher: its
#: starts were in different basins (``python bench/batch_breakdown.py --merge-tol
#: 1e-4,1e-2,3e-2,0.1,0.3``).
MERGE_TOL = 3e-2
#: ... and with the IRLS majoriser (laws without derivatives: numerical Jacobian, linear
#: convergence), where starts 3e-2 apart do not reliably share an end: merged at 3e-2, M4 fits of the
#: Revisiting benchmark ended at higher objectives (measured in session 8; bench/README.md, "Batches").
MERGE_TOL_MAJORISER = 1e-4


def _group_pairs(group: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Index pairs (i < j) of rows in the same group."""
    group = np.asarray(group)
    order = np.argsort(group, kind="stable")
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(g)]
    pi, pj = [], []
    for a, b in zip(starts, ends):
        if b - a > 1:
            i, j = np.triu_indices(b - a, 1)
            pi.append(order[a + i])
            pj.append(order[a + j])
    if not pi:
        return None
    return np.concatenate(pi), np.concatenate(pj)


def _merge_starts(pairs, u: np.ndarray, F: np.ndarray, active: np.ndarray, merged: np.ndarray, tol: float) -> None:
    """Stop active starts that came within ``tol`` of another start of their problem (see :func:`refine`)."""
    pi, pj = pairs
    live = (active[pi] | active[pj]) & (merged[pi] < 0) & (merged[pj] < 0)
    if not live.any():
        return
    pi, pj = pi[live], pj[live]
    ui, uj = u[pi], u[pj]
    with np.errstate(invalid="ignore"):
        close = np.all(np.abs(ui - uj) <= tol * (1.0 + np.maximum(np.abs(ui), np.abs(uj))), axis=1)
    for i, j in zip(pi[close], pj[close]):
        if merged[i] >= 0 or merged[j] >= 0:
            continue
        # drop the active one (both active: the one with the higher objective)
        drop, keep = (j, i) if (active[j] and (not active[i] or F[j] >= F[i])) else (i, j)
        if not active[drop]:
            continue
        active[drop] = False
        merged[drop] = keep


# ------------------------------------------------------------------------------ many problems at once


def stack_key(problem: Problem) -> tuple:
    """Problems with equal keys can be refined together in one stacked batch."""
    return (
        id(problem.law),
        tuple(problem.names),
        problem.loss.name,
        problem.loss.delta,
        problem.space,
        tuple(problem.lower),
        tuple(problem.upper),
        tuple(sorted(problem.fixed.items())),
        tuple(sorted(problem.inputs)),
    )


def stack_problems(problems: list[Problem], repeats: list[int]) -> Problem:
    """One stacked problem whose row ``b`` is a data set: problem ``j`` repeated ``repeats[j]`` times.

    Data sets of different sizes are padded to the largest with points of weight 0 (inputs
    and target 1, so every value stays finite).  All problems must share :func:`stack_key`.
    """
    first = problems[0]
    n = max(p.n for p in problems)
    B = int(sum(repeats))
    Y = np.ones((B, n))
    W = np.zeros((B, n))
    X = {k: np.ones((B, n)) for k in first.inputs}
    b = 0
    for p, k in zip(problems, repeats):
        rows = slice(b, b + k)
        Y[rows, : p.n] = p.y
        W[rows, : p.n] = 1.0 if p.weights is None else p.weights
        for key in X:
            X[key][rows, : p.n] = np.broadcast_to(p.inputs[key], (p.n,))
        b += k
    return Problem(
        law=first.law,
        inputs=X,
        y=Y,
        loss=first.loss,
        space=first.space,
        weights=W,
        fixed=dict(first.fixed),
        bounds=dict(first.bounds),
    )


class StackedBatch:
    """Many data sets refined as one batch, each stored once, in parts of similar sizes.

    ``parts[k]`` is a stacked problem (:func:`stack_problems` with one row per data set, all
    sharing one :func:`stack_key`); ``repeats[k][j]`` rows of the batch (starts) belong to its
    data set ``j``, in order.  :meth:`moments` hands every part its own rows, so each row
    computes exactly what it computes when its part's data sets are refined alone, while
    :func:`refine` pays its per-iteration cost once for all parts, and every data set is held
    once however many starts it has (the batch's arrays stay small enough for a cache).
    """

    def __init__(self, parts: list[Problem], repeats: list[list[int]]):
        first = parts[0]
        self.parts = parts
        self.law, self.names, self.loss, self.space = first.law, first.names, first.loss, first.space
        self.is_log, self.lower, self.upper = first.is_log, first.lower, first.upper
        self.weights = None  # each part's own (per data set) weights are used in :meth:`moments`
        self.stacked = True
        self.part = np.concatenate([np.full(int(sum(r)), k) for k, r in enumerate(repeats)])
        self.local = np.concatenate([np.repeat(np.arange(len(r)), r) for r in repeats])
        self.n = max(p.n for p in parts)

    @property
    def nfev_per_jacobian(self) -> int:
        return self.parts[0].nfev_per_jacobian

    def moments(
        self, u: np.ndarray, weights: np.ndarray | None = None, rows: np.ndarray | None = None, exact: bool = True
    ):
        """:meth:`Problem.moments` of each row, computed by its part (``weights`` must be None)."""
        if weights is not None:
            raise ValueError("StackedBatch.moments() uses its parts' own weights")
        rows = np.arange(len(u)) if rows is None else rows
        B, P = u.shape
        F, g, H, D = np.empty(B), np.empty((B, P)), np.empty((B, P, P)), np.empty((B, P))
        part = self.part[rows]
        for sel in _runs_of(part):
            p = self.parts[int(part[sel.start])]
            local = self.local[rows[sel]]
            F[sel], g[sel], H[sel], D[sel] = p.moments(u[sel], p.weights[local], local, exact)
        return F, g, H, D
