"""The scipy baselines the speed benchmarks compare with, fixed here so nobody tunes them down.

The recipe users write for the Chinchilla law (Hoffmann et al. 2022; Besiroglu et al. 2024,
arXiv:2404.10102): log L = LSE(a - alpha log N, b - beta log D, e), i.e. the parametrisation
(log A, log B, log E, alpha, beta), and the **summed** Huber(delta = 1e-3) loss of the log
residuals (optionally weighted).  Its value is the objective scalinglab minimises, so optima
compare directly.

* strongest fit: ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` with the analytic
  gradient, from 60 random points of the 4,500-point Hoffmann/Epoch grid, best result kept;
* strongest bootstrap: the same minimiser per resample, started from the full-data optimum,
  with ``ftol=1e-15, gtol=1e-12`` (the tolerances that reach the same optima);
* weak variants: the same with numerical gradients (scipy's default).

Also: ``pin_threads()`` (one BLAS/OpenMP thread, before numpy is imported) and ``cpu_median``
(medians of interleaved ``time.process_time`` repeats).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable

DELTA = 1e-3


def pin_threads() -> None:
    """One thread for BLAS/OpenMP (set before numpy is imported; the benchmarks time CPU)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


pin_threads()

import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402


def hoffmann_grid() -> np.ndarray:
    """The 4,500-point start grid (a, b, e, alpha, beta): alpha, beta in {0, .5, ..., 2},
    e in {-1, -.5, ..., 1}, a, b in {0, 5, ..., 25}."""
    return np.array(
        [
            (a, b, e, al, be)
            for al, be, e, a, b in itertools.product(
                np.arange(0, 2.01, 0.5),
                np.arange(0, 2.01, 0.5),
                np.arange(-1, 1.01, 0.5),
                np.arange(0, 25.1, 5),
                np.arange(0, 25.1, 5),
            )
        ]
    )


def objective_and_gradient(x, logN, logD, logL, w=None):
    """Summed Huber(1e-3) of log L - LSE(a - alpha log N, b - beta log D, e), with its gradient."""
    a, b, e, alpha, beta = x
    t1, t2 = a - alpha * logN, b - beta * logD
    m = np.maximum(np.maximum(t1, t2), e)
    s1, s2, s3 = np.exp(t1 - m), np.exp(t2 - m), np.exp(e - m)
    tot = s1 + s2 + s3
    r = logL - (m + np.log(tot))
    ar = np.abs(r)
    rho = np.where(ar <= DELTA, 0.5 * r * r, DELTA * (ar - 0.5 * DELTA))
    psi = np.clip(r, -DELTA, DELTA)
    if w is not None:
        rho, psi = w * rho, w * psi
    psi = psi / tot
    g1, g2, g3 = psi * s1, psi * s2, psi * s3
    grad = np.array([-g1.sum(), -g2.sum(), -g3.sum(), (g1 * logN).sum(), (g2 * logD).sum()])
    return float(rho.sum()), grad


def objective(x, logN, logD, logL, w=None) -> float:
    return objective_and_gradient(x, logN, logD, logL, w)[0]


def scipy_fit(starts: np.ndarray, logN, logD, logL, *, jac: bool = True):
    """L-BFGS-B from every start; returns (best objective, best x, objectives of all starts)."""
    fun: Callable = objective_and_gradient if jac else objective
    best_f, best_x, all_f = np.inf, None, []
    for x0 in starts:
        res = minimize(fun, x0, args=(logN, logD, logL), jac=jac, method="L-BFGS-B")
        all_f.append(float(res.fun))
        if res.fun < best_f:
            best_f, best_x = float(res.fun), res.x
    return best_f, best_x, np.array(all_f)


def scipy_bootstrap(
    x0: np.ndarray, W: np.ndarray, logN, logD, logL, *, jac: bool = True, tight: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """One L-BFGS-B refit per weight row from ``x0``; returns objectives (B,) and x (B, 5)."""
    fun: Callable = objective_and_gradient if jac else objective
    opts = {"ftol": 1e-15, "gtol": 1e-12} if tight else {}
    F, X = np.empty(len(W)), np.empty((len(W), 5))
    for i, w in enumerate(W):
        res = minimize(fun, x0, args=(logN, logD, logL, w), jac=jac, method="L-BFGS-B", options=opts)
        F[i], X[i] = res.fun, res.x
    return F, X


def to_recipe(params: dict) -> np.ndarray:
    """scalinglab Chinchilla parameters -> (a, b, e, alpha, beta)."""
    return np.array([np.log(params["A"]), np.log(params["B"]), np.log(params["E"]), params["alpha"], params["beta"]])


def cpu_median(fns: dict[str, Callable[[], object]], repeats: int = 5) -> tuple[dict[str, float], dict]:
    """Interleaved repeats of each callable, timed with ``time.process_time``; medians and last results."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    last: dict = {}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.process_time()
            last[k] = fn()
            times[k].append(time.process_time() - t0)
    return {k: float(np.median(v)) for k, v in times.items()}, last
