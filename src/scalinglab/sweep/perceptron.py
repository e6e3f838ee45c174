"""Data pruning in the teacher-student perceptron (Sorscher et al. 2022, arXiv:2206.14486, sec. 2).

A teacher ``w*`` in dimension N labels Gaussian inputs, ``y = sign(w* . x)``, ``x ~ N(0, I_N)``.
A *probe* (the teacher itself, or a noisy estimate at angle theta to it) ranks ``P_tot = alpha_tot N``
examples by their margin ``|w_probe . x|``; pruning keeps a fraction ``f`` of them -- the smallest
margins (``keep="hard"``), the largest (``keep="easy"``) or a random subset -- so the student sees
``P = alpha_prune N`` examples, ``alpha_prune = f alpha_tot``.  The student is the max-margin
perceptron (approximated by an L2-SVM with a tiny ridge, solved by primal Newton steps) and its
test error is exact, ``eps = arccos(R) / pi`` with ``R`` the cosine between student and teacher.

What the paper predicts (qualitatively; the replica equations are not used here):

* without pruning the error falls as a power law in alpha;
* keeping easy examples wins when data is scarce, keeping hard ones when it is abundant;
* with a perfect probe, choosing f for each pool size alpha_tot (the Pareto envelope: smaller f for
  larger pools) makes the error fall exponentially in alpha_prune; with an imperfect probe
  (theta > 0) there is a minimum useful f and the envelope bends back to a power law.

The simulation uses the rotational symmetry of the Gaussian inputs: the probe is the first axis,
the teacher ``cos(theta) e_1 + sin(theta) e_2``, so only the probe margins of all ``P_tot``
examples are drawn and the other N - 1 coordinates only for the kept ones (exact, and cheap even
at alpha_tot in the hundreds).  Everything is vectorised over trials; there is no hidden state:
the same arguments and seed give the same table.

>>> df = simulate_pruning(n_dim=20, alpha_tot=(1.0, 4.0), fractions=(1.0, 0.5), trials=2, seed=0)
>>> sorted(df.columns[:6])
['alpha_tot', 'error', 'fraction', 'keep', 'kept', 'run']
>>> bool((df["error"] > 0).all() and (df["error"] < 0.5).all())
True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from scalinglab.errors import InvalidParameterError

__all__ = ["simulate_pruning", "pareto_envelope", "train_students", "KEEP_RULES"]

#: Which examples a pruning rule keeps: smallest probe margins, largest, or a random subset.
KEEP_RULES = ("hard", "easy", "random")


def train_students(X: np.ndarray, y: np.ndarray, *, ridge: float = 1e-8, max_iter: int = 30) -> np.ndarray:
    """Max-margin students for a batch of data sets (L2-SVM, primal Newton; Chapelle 2007).

    Minimises ``ridge/2 |w|^2 + 1/2 sum_i max(0, 1 - y_i w . x_i)^2`` for each of the T data sets
    at once (``X`` of shape (T, P, N), ``y`` of shape (T, P)); each step solves the ridge system on
    the examples inside the margin, which converges in a finite number of steps.  As ``ridge -> 0``
    on separable data the direction tends to the hard-margin (max-margin) perceptron's.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((3, 200, 10)); y = np.sign(X[..., 0])
    >>> w = train_students(X, y)
    >>> bool(np.all(w[:, 0] / np.linalg.norm(w, axis=1) > 0.95))
    True
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    T, P, N = X.shape
    Xy = X * y[..., None]  # rows y_i x_i: margins are Xy @ w
    w = Xy.sum(axis=1) / max(P, 1)  # Hebbian start
    m = np.einsum("tpn,tn->tp", Xy, w)
    # continuation in the ridge (large to small): each stage starts near its optimum
    stages = np.geomspace(1.0, ridge, max(2, int(np.ceil(np.log10(1.0 / ridge) / 2)) + 1)) if ridge < 1 else [ridge]
    for lam in stages:
        eye = lam * np.eye(N)
        for _ in range(max_iter):
            active = m < 1.0
            Xa = Xy * active[..., None]
            H = np.matmul(Xa.transpose(0, 2, 1), Xa) + eye
            d = np.linalg.solve(H, Xa.sum(axis=1)[..., None])[..., 0] - w  # Newton step on the active set
            dm = np.einsum("tpn,tn->tp", Xy, d)
            s = _line_search(lam, w, d, m, dm)
            w = w + s[:, None] * d
            m = m + s[:, None] * dm
            moved = np.abs(s) * np.linalg.norm(d, axis=-1) / np.maximum(np.linalg.norm(w, axis=-1), 1e-300)
            if np.all(moved < 1e-7):
                break
    return w


def _line_search(lam: float, w: np.ndarray, d: np.ndarray, m: np.ndarray, dm: np.ndarray) -> np.ndarray:
    """Exact minimiser s in [0, 4] of the (convex, piecewise quadratic) objective along w + s d."""
    wd, dd = np.sum(w * d, axis=-1), np.sum(d * d, axis=-1)
    lo = np.zeros(len(w))
    hi = np.full(len(w), 4.0)

    def slope(s):
        r = 1.0 - m - s[:, None] * dm
        return lam * (wd + s * dd) - np.sum(np.where(r > 0, r * dm, 0.0), axis=-1)

    for _ in range(36):
        mid = 0.5 * (lo + hi)
        up = slope(mid) > 0
        lo, hi = np.where(up, lo, mid), np.where(up, mid, hi)
    s = 0.5 * (lo + hi)
    return np.where(np.abs(s - 1.0) < 1e-6, 1.0, s)


def _check(n_dim, alpha_tot, fractions, keep, probe_angle, trials, ridge) -> tuple:
    owner = "simulate_pruning"
    what = "alpha_tot" if alpha_tot[0] == "tot" else "alpha_prune"
    alpha_tot = alpha_tot[1]
    if isinstance(n_dim, bool) or not isinstance(n_dim, numbers.Integral) or n_dim < 2:
        raise InvalidParameterError(f"{owner}(): 'n_dim' must be an int >= 2; got {n_dim!r}", hint="e.g. n_dim=50")
    if isinstance(trials, bool) or not isinstance(trials, numbers.Integral) or trials < 2:
        raise InvalidParameterError(f"{owner}(): 'trials' must be an int >= 2; got {trials!r}", hint="e.g. trials=8")
    try:
        a = np.atleast_1d(np.asarray(alpha_tot, dtype=float))
        f = np.atleast_1d(np.asarray(fractions, dtype=float))
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{owner}(): 'alpha_tot' and 'fractions' must be numbers",
            hint="e.g. alpha_tot=(1, 2, 4), fractions=(1, 0.5)",
        ) from None
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise InvalidParameterError(
            f"{owner}(): '{what}' (examples per dimension) must be positive numbers; got {alpha_tot!r}",
            hint=f"e.g. {what}=(1, 2, 4, 8, 16)",
        )
    if f.ndim != 1 or f.size == 0 or not np.all(np.isfinite(f)) or np.any((f <= 0) | (f > 1)):
        raise InvalidParameterError(
            f"{owner}(): 'fractions' (kept share f) must lie in (0, 1]; got {fractions!r}",
            hint="e.g. fractions=(1.0, 0.5, 0.2)",
        )
    rules = (keep,) if isinstance(keep, str) else tuple(keep)
    bad = [r for r in rules if r not in KEEP_RULES]
    if bad or not rules:
        raise InvalidParameterError(
            f"{owner}(): 'keep' must be among {KEEP_RULES}; got {keep!r}", hint="e.g. keep=('hard', 'easy')"
        )
    try:
        theta = float(probe_angle)
    except (TypeError, ValueError):
        theta = float("nan")
    if not 0.0 <= theta < 90.0:
        raise InvalidParameterError(
            f"{owner}(): 'probe_angle' (degrees between probe and teacher) must lie in [0, 90); got {probe_angle!r}",
            hint="0 for a perfect probe, e.g. 10 for a noisy one",
        )
    if not (isinstance(ridge, numbers.Real) and ridge > 0):
        raise InvalidParameterError(f"{owner}(): 'ridge' must be > 0; got {ridge!r}", hint="e.g. ridge=1e-4")
    return int(n_dim), a, f, rules, theta, int(trials)


def simulate_pruning(
    n_dim: int = 50,
    alpha_tot: Sequence[float] | None = (1.0, 2.0, 4.0, 8.0, 16.0),
    fractions: Sequence[float] = (1.0, 0.6, 0.4, 0.2, 0.1),
    *,
    alpha_prune: Sequence[float] | None = None,
    keep: str | Sequence[str] = ("hard", "easy"),
    probe_angle: float = 0.0,
    trials: int = 8,
    seed: int = 0,
    ridge: float = 1e-8,
) -> pd.DataFrame:
    """Test error of a perceptron trained on pruned data, for every (keep rule, f, alpha_tot).

    Parameters
    ----------
    n_dim : int
        Dimension N.
    alpha_tot : sequence of float
        Size of the pool before pruning, per dimension: ``P_tot = round(alpha_tot N)``.
    fractions : sequence of float in (0, 1]
        Kept share f: the student sees ``P = max(1, round(f P_tot))`` examples (``alpha_prune = P / N``).
        ``f = 1`` is no pruning.
    alpha_prune : sequence of float, optional
        Instead of ``alpha_tot``: the kept size per dimension, ``P = round(alpha_prune N)``, drawn from a
        pool of ``ceil(P / f)`` (the paper's learning curves at fixed f, Fig. 1A).
    keep : "hard", "easy", "random" or a sequence of them
    probe_angle : float
        Angle theta (degrees) between the probe that ranks the examples and the teacher (0 = perfect).
    trials : int
        Independent data sets per cell (>= 2; the table reports their mean error and its standard error).
    seed : int
        Seed of ``numpy.random.SeedSequence``; each cell draws from its own child stream.
    ridge : float
        Ridge of the L2-SVM student (small: close to the max-margin perceptron).

    Returns
    -------
    DataFrame
        One row per cell: ``run``, ``keep``, ``fraction``, ``alpha_tot``, ``kept`` (P, the pruned data
        set's size), ``error`` (mean test error), ``error_se``, ``alpha_prune``, ``total`` (P_tot),
        ``probe_angle``, ``n_dim``, ``trials``.  It is a runs table for
        :func:`scalinglab.analyze.pruning` (x = ``kept``, y = ``error``).

    Examples
    --------
    >>> df = simulate_pruning(n_dim=20, alpha_tot=(2.0,), fractions=(0.5,), keep="hard", trials=2)
    >>> int(df["kept"].iloc[0]), int(df["total"].iloc[0]), float(df["alpha_prune"].iloc[0])
    (20, 40, 1.0)
    """
    if alpha_prune is not None:
        alpha_tot = None
    if alpha_tot is None and alpha_prune is None:
        raise InvalidParameterError(
            "simulate_pruning(): give alpha_tot (pool sizes) or alpha_prune (kept sizes)",
            hint="e.g. alpha_tot=(1, 4, 16)",
        )
    by_pool = alpha_prune is None
    grid = ("tot", alpha_tot) if by_pool else ("prune", alpha_prune)
    N, alphas, fracs, rules, theta, T = _check(n_dim, grid, fractions, keep, probe_angle, trials, ridge)
    t = math.radians(theta)
    teacher = np.zeros(N)
    teacher[0], teacher[1] = math.cos(t), math.sin(t)
    cells = [(r, f, a) for r in rules for f in fracs for a in alphas]
    streams = np.random.SeedSequence(seed).spawn(len(cells))
    rows = []
    for (rule, f, a), ss in zip(cells, streams, strict=True):
        rng = np.random.default_rng(ss)
        if by_pool:
            P_tot = max(1, int(round(a * N)))
            P = max(1, int(round(f * P_tot)))
        else:
            P = max(1, int(round(a * N)))
            P_tot = max(P, int(math.ceil(P / f - 1e-9)))
        z = rng.standard_normal((T, P_tot))  # probe margins of the whole pool
        if P == P_tot:
            kept = z
        elif rule == "random":
            kept = rng.permuted(z, axis=1)[:, :P]
        else:
            score = np.abs(z) if rule == "hard" else -np.abs(z)
            kept = np.take_along_axis(z, np.argpartition(score, P - 1, axis=1)[:, :P], axis=1)
        X = np.empty((T, P, N))
        X[..., 0] = kept
        X[..., 1:] = rng.standard_normal((T, P, N - 1))
        y = np.sign(X @ teacher)
        y[y == 0] = 1.0
        w = train_students(X, y, ridge=ridge)
        R = np.clip((w @ teacher) / np.linalg.norm(w, axis=1), -1.0, 1.0)
        err = np.arccos(R) / math.pi
        rows.append(
            {
                "run": f"{rule}-f{f:g}-a{a:g}",
                "keep": rule,
                "fraction": float(f),
                "alpha_tot": P_tot / N,
                "kept": P,
                "error": float(err.mean()),
                "error_se": float(err.std(ddof=1) / math.sqrt(T)),
                "alpha_prune": P / N,
                "total": P_tot,
                "probe_angle": theta,
                "n_dim": N,
                "trials": T,
            }
        )
    return pd.DataFrame(rows)


def pareto_envelope(df: pd.DataFrame, *, by: Sequence[str] = ("keep",), at: str = "alpha_tot") -> pd.DataFrame:
    """The Pareto-optimal kept share: the lowest error over f at each ``at`` (``alpha_tot`` or ``alpha_prune``).

    ``at="alpha_prune"`` is the lower envelope of the learning curves at fixed f (Sorscher et al.,
    Fig. 1A: the curve they predict to fall exponentially when the pool may grow as f shrinks);
    ``at="alpha_tot"`` is the best f for a given pool.  Returns one row per (``by``..., ``at``): the
    winning cell (``fraction`` is the best f), its ``run`` renamed ``<keep>-pareto-a<value>``.

    >>> df = simulate_pruning(n_dim=20, alpha_tot=(1.0, 2.0), fractions=(1.0, 0.5), keep="hard", trials=2)
    >>> env = pareto_envelope(df)
    >>> len(env), bool((env["error"].to_numpy() <= df.groupby("alpha_tot")["error"].min().to_numpy()).all())
    (2, True)
    """
    keys = [*by, at]
    missing = [c for c in [*keys, "error", "fraction"] if c not in df]
    if missing:
        raise InvalidParameterError(
            f"pareto_envelope(): the table lacks column(s) {missing}", hint="pass a simulate_pruning() table"
        )
    best = df.loc[df.groupby(keys, sort=True)["error"].idxmin()].copy()
    labels = best[list(by)].astype(str).agg("-".join, axis=1) if by else pd.Series("", index=best.index)
    best["run"] = [f"{lab}-pareto-a{a:g}" for lab, a in zip(labels, best[at], strict=True)]
    return best.reset_index(drop=True)
