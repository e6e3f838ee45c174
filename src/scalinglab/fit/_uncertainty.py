"""Uncertainty of fitted laws: parameter intervals and prediction intervals.

``method="delta"`` is the fast approximation: Gauss-Newton covariance of the
internal coordinates with a robust (MAD) residual scale, propagated to
predictions by the delta method in log space.  ``kind="mean"`` is the interval
for the mean law; ``kind="new"`` adds the residual (run-to-run) scatter, i.e.
the interval for one new run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from scalinglab._validation import check_fraction, check_options
from scalinglab.errors import InvalidParameterError

__all__ = ["prediction_interval", "parameter_intervals", "sample_params"]


def _internal_cov(fit):
    problem = fit.problem()
    theta = np.array([fit.params[p] for p in problem.names])
    u = problem.to_u(theta[None, :])[0]
    jac = np.where(problem.is_log, theta, 1.0)
    cov_u = fit.cov / np.outer(jac, jac)
    return problem, u, cov_u


def prediction_interval(fit, X, *, level: float = 0.9, kind: str = "mean", method: str = "delta") -> pd.DataFrame:
    """Estimate and two-sided interval at inputs ``X`` ({symbol: array})."""
    check_fraction(level, "interval", "predict")
    check_options(kind, "kind", ("mean", "new"), "predict")
    check_options(method, "method", ("delta", "bootstrap"), "predict")
    if method == "bootstrap":
        raise InvalidParameterError("predict(): method='bootstrap' is not available in this build; use 'delta'")
    problem, u, cov_u = _internal_cov(fit)
    estimate = fit.law.evaluate(X, fit.params)
    shape = np.shape(estimate)
    flat = {k: np.ravel(np.broadcast_to(v, shape)) for k, v in X.items()}
    grads = np.empty((len(problem.names), np.prod(shape, dtype=int)))
    for j in range(len(problem.names)):
        h = 1e-6 * max(1.0, abs(u[j]))
        up, dn = u.copy(), u.copy()
        up[j] += h
        dn[j] -= h
        fu = fit.law.evaluate(flat, {**fit.params, **_named(problem, up)})
        fd = fit.law.evaluate(flat, {**fit.params, **_named(problem, dn)})
        grads[j] = (np.log(fu) - np.log(fd)) / (2 * h)
    var = np.einsum("in,ij,jn->n", grads, cov_u, grads)
    if kind == "new":
        var = var + fit.residual_scale ** 2
    z = stats.norm.ppf(0.5 + level / 2)
    sd = np.sqrt(np.maximum(var, 0.0)).reshape(shape)
    est = np.asarray(estimate, dtype=float)
    return pd.DataFrame({
        "estimate": np.ravel(est), "lower": np.ravel(est * np.exp(-z * sd)), "upper": np.ravel(est * np.exp(z * sd)),
        "level": level, "kind": kind, "method": method,
    })


def _named(problem, u):
    theta = problem.to_theta(u[None, :])[0]
    return {p: float(theta[i]) for i, p in enumerate(problem.names)}


def parameter_intervals(fit, *, level: float = 0.9, method: str = "delta", **_) -> pd.DataFrame:
    """Per-parameter estimate and interval (log-scaled parameters get intervals in log space)."""
    check_fraction(level, "interval", "conf_int")
    check_options(method, "method", ("delta", "bootstrap"), "conf_int")
    if method == "bootstrap":
        raise InvalidParameterError("conf_int(): method='bootstrap' is not available in this build; use 'delta'")
    problem, u, cov_u = _internal_cov(fit)
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for i, p in enumerate(problem.names):
        sd = np.sqrt(max(cov_u[i, i], 0.0))
        lo, hi = u[i] - z * sd, u[i] + z * sd
        lo, hi = max(lo, problem.lower[i]), min(hi, problem.upper[i])
        if problem.is_log[i]:
            lo, hi = np.exp(lo), np.exp(hi)
        rows.append({"param": p, "estimate": fit.params[p], "lower": float(lo), "upper": float(hi)})
    return pd.DataFrame(rows).set_index("param")


def sample_params(fit, n: int = 1000, *, method: str = "delta", seed: int = 0) -> pd.DataFrame:
    """Draws of the law's parameters reflecting fit uncertainty (one row per draw, all parameters).

    ``method="delta"``: multivariate normal in the optimiser's internal coordinates
    (log for scale parameters), clipped to the bounds.
    """
    check_options(method, "method", ("delta", "bootstrap"), "sample_params")
    if method == "bootstrap":
        raise InvalidParameterError("sample_params(): method='bootstrap' is not available in this build")
    problem, u, cov_u = _internal_cov(fit)
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(u, cov_u, size=n, method="eigh", check_valid="ignore")
    draws = np.clip(draws, problem.lower, problem.upper)
    theta = problem.to_theta(draws)
    out = pd.DataFrame(theta, columns=problem.names)
    for p, v in problem.fixed.items():
        out[p] = v
    return out[list(fit.law.params)]
