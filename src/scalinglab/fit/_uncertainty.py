"""Uncertainty of fitted laws: parameter intervals, prediction intervals, parameter draws.

Two methods:

``method="delta"`` (fast, approximate)
    Gauss-Newton covariance of the internal coordinates (log for scale
    parameters) with the dof-corrected residual scale, propagated to predictions by
    the delta method in log space.
``method="bootstrap"`` (honest, slower)
    Nonparametric bootstrap over *runs*: every resample draws whole runs (all
    checkpoints of a run together, since checkpoints of one run share its seed,
    data order and schedule and are not independent) with replacement, and the
    law is refitted.  All resamples are refitted in ONE batched call of the
    solver's Levenberg-Marquardt (:func:`scalinglab.fit._solver.refine`), each
    started from the full-data optimum; resample ``b`` is the weight vector
    ``W[b, i] = (times the run of row i was drawn)``.  When every row is its own
    run (final-checkpoint data) this is the ordinary bootstrap over points
    (Efron & Tibshirani 1993, ch. 9; Hoffmann et al. 2022 and Besiroglu et al.
    2024 bootstrap points).

Two kinds of prediction interval:

``kind="mean"``
    Interval for the mean law at the new inputs (parameter uncertainty only).
``kind="new"``
    Interval for the loss of one *new run* at those inputs: adds the
    run-to-run / checkpoint scatter around the law, estimated from the fit's
    residuals (delta: a normal with the residual scale; bootstrap: the
    empirical residuals, rescaled by ``sqrt(n / (n - P))``).
"""

from __future__ import annotations

import math
import time
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtri  # standard normal quantile (scipy.stats is slow to import)

from scalinglab._validation import check_fraction, check_int, check_options
from scalinglab.errors import FitError, InvalidParameterError

__all__ = [
    "BootstrapResult",
    "bootstrap",
    "prediction_interval",
    "parameter_intervals",
    "sample_params",
    "resample_weights",
    "resolve_method",
    "MIN_RUNS_FOR_BOOTSTRAP",
]

_METHODS = ("delta", "bootstrap")
_PREDICT_METHODS = ("delta", "bootstrap", "calibrated")
#: Runs a fit needs before the run bootstrap is trusted over the delta method (parameter
#: intervals with method="auto", and the base of "calibrated" prediction intervals).
MIN_RUNS_FOR_BOOTSTRAP = 5
_PURPOSES = {"parameters": _METHODS, "prediction": _PREDICT_METHODS}
_BY = ("run", "point")
#: Resamples used when a bootstrap is requested implicitly (``predict``/``conf_int``).
DEFAULT_RESAMPLES = 1000


# ------------------------------------------------------------------------------ which method


def n_runs(fit) -> int:
    """Distinct runs among the fitted rows (rows without a run label count one each)."""
    return int(fit.data["run"].nunique()) if "run" in fit.data else len(fit.data)


def bootstrap_supported(fit) -> bool:
    """Whether the fit has enough runs (:data:`MIN_RUNS_FOR_BOOTSTRAP`) for the run bootstrap."""
    return n_runs(fit) >= MIN_RUNS_FOR_BOOTSTRAP


def resolve_method(method: str, fit, purpose: str = "parameters") -> str:
    """The interval method to use: ``"auto"`` means the most honest method the data supports.

    * ``purpose="parameters"`` (parameter intervals, standard errors, parameter draws):
      ``"bootstrap"`` (over runs) when the fit has at least :data:`MIN_RUNS_FOR_BOOTSTRAP`
      runs, else ``"delta"``.
    * ``purpose="prediction"`` (prediction intervals): ``"calibrated"`` -- the run-bootstrap
      interval (delta method below :data:`MIN_RUNS_FOR_BOOTSTRAP` runs) widened by the law's
      measured extrapolation error (unwidened when too few sizes remain to measure it).

    Any other method is checked against the purpose's methods and returned unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> class Runs:  # anything with the fitted rows in .data
    ...     data = pd.DataFrame({"run": ["a", "b", "c"]})
    >>> resolve_method("auto", Runs(), "parameters"), resolve_method("auto", Runs(), "prediction")
    ('delta', 'calibrated')
    >>> resolve_method("bootstrap", Runs())
    'bootstrap'
    """
    check_options(purpose, "purpose", tuple(_PURPOSES), "resolve_method")
    if method == "auto":
        if purpose == "prediction":
            return "calibrated"
        return "bootstrap" if bootstrap_supported(fit) else "delta"
    check_options(method, "method", _PURPOSES[purpose] + ("auto",), "resolve_method")
    return method


# ------------------------------------------------------------------------------ bootstrap


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap refits of one :class:`~scalinglab.fit.Fit` (immutable).

    Attributes
    ----------
    draws : DataFrame
        One row per *successful* resample, one column per law parameter (fixed
        parameters repeated).
    estimate : dict
        The full-data estimate the resamples are compared with.
    n_resamples : int
        Resamples attempted.
    n_failed : int
        Resamples whose refit did not converge or gave a non-finite objective;
        they are excluded from ``draws`` (never silently replaced).
    by : {"run", "point"}
        The resampling unit actually used ("point" when every row is its own run).
    n_units : int
        Number of runs (or points) resampled.
    seed : int
    seconds : float
        Wall time of the batched refit.
    n_iter_max : int
        Largest number of solver iterations over the resamples.
    """

    draws: pd.DataFrame = field(repr=False)
    estimate: dict[str, float]
    n_resamples: int
    n_failed: int
    by: str
    n_units: int
    seed: int
    seconds: float
    n_iter_max: int = 0
    free_params: tuple[str, ...] = ()
    u: np.ndarray = field(default=None, repr=False)  # (n_ok, P) internal coordinates of the draws

    @property
    def n_ok(self) -> int:
        return len(self.draws)

    @property
    def stderr(self) -> dict[str, float]:
        """Bootstrap standard error of each parameter (std of the draws, ddof=1)."""
        return {
            p: float(self.draws[p].std(ddof=1)) if p in self.free_params else float("nan") for p in self.draws.columns
        }

    def conf_int(self, level: float = 0.9) -> pd.DataFrame:
        """Percentile intervals per free parameter (columns estimate, lower, upper, se)."""
        check_fraction(level, "level", "BootstrapResult.conf_int")
        a = (1 - level) / 2
        rows = []
        for p in self.free_params:
            v = self.draws[p].to_numpy()
            lo, hi = np.quantile(v, [a, 1 - a]) if v.size else (np.nan, np.nan)
            rows.append(
                {
                    "param": p,
                    "estimate": self.estimate[p],
                    "lower": float(lo),
                    "upper": float(hi),
                    "se": float(np.std(v, ddof=1)) if v.size > 1 else float("nan"),
                }
            )
        return pd.DataFrame(rows).set_index("param")

    def summary(self) -> str:
        head = (
            f"Bootstrap over {self.by}s: {self.n_resamples} resamples of {self.n_units} {self.by}s, "
            f"{self.n_failed} failed, {self.seconds:.2f} s (seed {self.seed})"
        )
        ci = self.conf_int(0.9)
        lines = [head, f"{'param':>10} {'estimate':>12} {'se':>12} {'5%':>12} {'95%':>12}"]
        for p, r in ci.iterrows():
            lines.append(f"{p:>10} {r.estimate:12.5g} {r.se:12.4g} {r.lower:12.5g} {r.upper:12.5g}")
        return "\n".join(lines)

    __str__ = summary

    def to_dict(self) -> dict:
        ci = self.conf_int(0.9)
        return {
            "method": "bootstrap",
            "by": self.by,
            "n_resamples": self.n_resamples,
            "n_failed": self.n_failed,
            "n_units": self.n_units,
            "seed": self.seed,
            "seconds": self.seconds,
            "estimate": dict(self.estimate),
            "stderr": self.stderr,
            "interval_90": {p: [float(r.lower), float(r.upper)] for p, r in ci.iterrows()},
        }


def resample_weights(groups: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Integer weights ``(B, n)`` of a bootstrap over groups.

    ``groups`` labels each row with its unit (run); each resample draws as many
    units as there are, with replacement, and every row gets the count of its unit.

    Examples
    --------
    >>> W = resample_weights(np.array(["a", "a", "b"]), 4, np.random.default_rng(0))
    >>> W.shape, bool(np.all(W[:, 0] == W[:, 1]))
    ((4, 3), True)
    """
    _, index = np.unique(np.asarray(groups), return_inverse=True)
    G = int(index.max()) + 1
    counts = rng.multinomial(G, np.full(G, 1.0 / G), size=n_resamples)
    return counts[:, index].astype(float)


def bootstrap(
    fit, n_resamples: int = DEFAULT_RESAMPLES, *, seed: int = 0, by: str = "run", max_iter: int = 2000
) -> BootstrapResult:
    """Refit ``fit`` on bootstrap resamples of its runs, all resamples in one batched solve.

    Resample ``b`` redraws the fitted runs with replacement (``by="run"``: all
    checkpoints of a run move together) or the fitted rows (``by="point"``) and
    minimises the fit's own objective with resample weights, starting from the
    full-data optimum.  Percentile intervals of the draws are the bootstrap
    intervals of :func:`parameter_intervals` and :func:`prediction_interval`.

    Parameters
    ----------
    fit : Fit
    n_resamples : int
        Number of resamples B (1,000 for 90% intervals).
    seed : int
    by : {"run", "point"}
        Resampling unit; "run" falls back to points when every row is its own run.
    max_iter : int
        Solver iteration cap per resample (Huber with a small delta behaves like L1 and some
        resamples converge slowly; only the slow ones keep iterating); resamples that hit it
        count as failed.

    Returns
    -------
    BootstrapResult

    Raises
    ------
    FitError
        If fewer than 2 runs were fitted (nothing to resample) or every resample failed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglab.fit import fit
    >>> x = np.geomspace(1e6, 1e9, 8)
    >>> noise = np.exp(np.random.default_rng(0).normal(0, 0.01, 8))
    >>> f = fit(pd.DataFrame({"run": list("abcdefgh"), "params": x, "loss": (2.0 + 30 * x ** -0.3) * noise}),
    ...         "power_floor")
    >>> b = bootstrap(f, 200)
    >>> b.n_ok, list(b.conf_int(0.9).columns)
    (200, ['estimate', 'lower', 'upper', 'se'])
    """
    from scalinglab.fit._solver import refine

    check_int(n_resamples, "n_resamples", "bootstrap", minimum=2)
    check_options(by, "by", _BY, "bootstrap")
    data = fit.data
    groups = data["run"].to_numpy() if (by == "run" and "run" in data) else np.arange(len(data))
    n_units = int(pd.unique(groups).size)
    used_by = "run" if (by == "run" and n_units < len(data)) else "point"
    if n_units < 2:
        raise FitError(
            f"bootstrap(): the fit has {n_units} {used_by}; at least 2 are needed to resample",
            hint="fit more runs, or use method='delta'",
        )
    problem = fit.problem()
    theta = np.array([fit.params[p] for p in problem.names])
    u0 = problem.to_u(theta[None, :])
    rng = np.random.default_rng(seed)
    W = resample_weights(groups, n_resamples, rng)
    if problem.weights is not None:
        W = W * problem.weights[None, :]
    start = time.perf_counter()
    result = refine(problem, np.repeat(u0, n_resamples, axis=0), weights=W, max_iter=max_iter)
    seconds = time.perf_counter() - start
    ok = np.isfinite(result.objective) & result.converged & np.all(np.isfinite(result.u), axis=1)
    if not ok.any():
        raise FitError(
            "bootstrap(): every resample failed to converge", hint="check the fit's diagnostics, or use method='delta'"
        )
    u = result.u[ok]
    draws = pd.DataFrame(problem.to_theta(u), columns=problem.names)
    for p, v in problem.fixed.items():
        draws[p] = v
    return BootstrapResult(
        draws=draws[list(fit.law.params)],
        estimate=dict(fit.params),
        n_resamples=n_resamples,
        n_failed=int((~ok).sum()),
        by=used_by,
        n_units=n_units,
        seed=seed,
        seconds=seconds,
        n_iter_max=int(result.n_iter.max()),
        free_params=tuple(problem.names),
        u=u,
    )


# A small memo so that repeated predict()/conf_int() calls on the same Fit reuse one
# bootstrap.  Keyed by id() and guarded by a weak reference (a Fit is immutable).
_MEMO: dict[tuple, tuple[weakref.ref, BootstrapResult]] = {}
_MEMO_SIZE = 8


def _get_bootstrap(fit, n_resamples: int, seed: int, by: str, given: BootstrapResult | None) -> BootstrapResult:
    if given is not None:
        if not isinstance(given, BootstrapResult):
            raise InvalidParameterError("'bootstrap' must be a BootstrapResult from scalinglab bootstrap()")
        return given
    key = (id(fit), n_resamples, seed, by)
    hit = _MEMO.get(key)
    if hit is not None and hit[0]() is fit:
        return hit[1]
    result = bootstrap(fit, n_resamples, seed=seed, by=by)
    if len(_MEMO) >= _MEMO_SIZE:
        for k in [k for k, (ref, _) in _MEMO.items() if ref() is None] or [next(iter(_MEMO))]:
            _MEMO.pop(k, None)
    try:
        _MEMO[key] = (weakref.ref(fit), result)
    except TypeError:
        pass
    return result


# ------------------------------------------------------------------------------ delta method


def _internal_cov(fit):
    problem = fit.problem()
    theta = np.array([fit.params[p] for p in problem.names])
    u = problem.to_u(theta[None, :])[0]
    jac = np.where(problem.is_log, theta, 1.0)
    cov_u = fit.cov / np.outer(jac, jac)
    return problem, u, cov_u


def _named(problem, u):
    theta = problem.to_theta(u[None, :])[0]
    return {p: float(theta[i]) for i, p in enumerate(problem.names)}


def _residual_draws(fit, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of the run-to-run scatter (log space): resampled fit residuals, df-inflated."""
    r = np.asarray(fit.residuals(), dtype=float)
    keep = np.isfinite(r)
    if "_weight" in fit.data:
        keep &= fit.data["_weight"].to_numpy(dtype=float) > 0
    r = r[keep]
    n, P = r.size, fit.n_params
    if n == 0:
        return np.zeros(size)
    r = (r - np.median(r)) * math.sqrt(n / max(n - P, 1))
    return rng.choice(r, size=size, replace=True)


# ------------------------------------------------------------------------------ public functions


def prediction_interval(
    fit,
    X,
    *,
    level: float = 0.9,
    kind: str = "mean",
    method: str = "delta",
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    by: str = "run",
    bootstrap: BootstrapResult | None = None,
) -> pd.DataFrame:
    """Estimate and two-sided ``level`` interval of the law at inputs ``X`` ({symbol: array}).

    Parameters
    ----------
    fit : Fit
    X : mapping
        Inputs by the law's symbols (``{"N": ..., "D": ...}``), broadcastable.
    level : float
        Coverage of the interval (0.9 = 5%-95%).
    kind : {"mean", "new"}
        ``"mean"``: interval of the mean law; ``"new"``: of one new run's loss
        (adds the residual run-to-run scatter).
    method : {"delta", "bootstrap", "calibrated", "auto"}
        Delta method (normal in log space), percentile bootstrap over runs, or
        ``"calibrated"``: the bootstrap interval (delta method with fewer than
        :data:`MIN_RUNS_FOR_BOOTSTRAP` runs) widened by the law's own extrapolation
        error, measured by nested backtests on the fitted runs
        (:mod:`scalinglab.fit._calibration`).  ``"auto"`` is ``"calibrated"``
        (:func:`resolve_method`).
    n_resamples, seed, by
        Bootstrap settings (ignored by the delta method).
    bootstrap : BootstrapResult, optional
        Reuse a bootstrap computed with :func:`bootstrap`.

    Returns
    -------
    DataFrame
        Columns ``estimate, lower, upper, level, kind, method`` (one row per point).
    """
    check_fraction(level, "interval", "predict")
    check_options(kind, "kind", ("mean", "new"), "predict")
    check_options(method, "method", _PREDICT_METHODS + ("auto",), "predict")
    method = resolve_method(method, fit, "prediction")
    if method == "calibrated":
        return _calibrated_interval(
            fit, X, level=level, kind=kind, n_resamples=n_resamples, seed=seed, by=by, bootstrap=bootstrap
        )
    estimate = np.asarray(fit.law.evaluate(X, fit.params), dtype=float)
    shape = estimate.shape
    flat = {k: np.ravel(np.broadcast_to(v, shape)) for k, v in X.items()}
    est = np.ravel(estimate)
    if method == "bootstrap":
        boot = _get_bootstrap(fit, n_resamples, seed, by, bootstrap)
        params = {p: boot.draws[p].to_numpy()[:, None] for p in boot.draws.columns}
        with np.errstate(all="ignore"):
            logf = np.log(np.broadcast_to(fit.law.evaluate(flat, params), (boot.n_ok, est.size)))
        if kind == "new":
            # each parameter draw paired with k residual draws (Monte Carlo of law + scatter)
            rng = np.random.default_rng(seed + 1)
            k = int(max(1, min(20, 2e7 // max(logf.size, 1))))
            eps = _residual_draws(fit, k * logf.size, rng).reshape((k,) + logf.shape)
            logf = (logf[None] + eps).reshape(-1, est.size)
        a = (1 - level) / 2
        lo, hi = np.nanquantile(logf, [a, 1 - a], axis=0)
        lower, upper = np.exp(lo), np.exp(hi)
    else:
        problem, u, cov_u = _internal_cov(fit)
        grads = np.empty((len(problem.names), est.size))
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
            var = var + fit.residual_scale**2
        z = ndtri(0.5 + level / 2)
        sd = np.sqrt(np.maximum(var, 0.0))
        lower, upper = est * np.exp(-z * sd), est * np.exp(z * sd)
    return pd.DataFrame(
        {
            "estimate": est,
            "lower": np.ravel(lower),
            "upper": np.ravel(upper),
            "level": level,
            "kind": kind,
            "method": method,
        }
    )


def _calibrated_interval(fit, X, *, level, kind, n_resamples, seed, by, bootstrap) -> pd.DataFrame:
    from scalinglab.fit._calibration import extrapolation_error

    base_method = "bootstrap" if bootstrap_supported(fit) else "delta"
    base = prediction_interval(
        fit,
        X,
        level=level,
        kind=kind,
        method=base_method,
        n_resamples=n_resamples,
        seed=seed,
        by=by,
        bootstrap=bootstrap,
    )
    ext = extrapolation_error(fit)
    out = base.copy()
    out["method"] = "calibrated"
    if ext is None:  # too few sizes to measure drift: the base interval, labelled as such
        out["method"] = f"{base_method} (too few sizes to calibrate)"
        return out
    shape = np.broadcast_shapes(*(np.shape(v) for v in X.values()))
    x = np.ravel(np.broadcast_to(np.asarray(X[ext.axis], dtype=float), shape))
    fitted = fit.data[ext.column].to_numpy(dtype=float)
    decades = np.maximum(0.0, np.maximum(np.log10(x / fitted.max()), np.log10(fitted.min() / x)))
    extra = ndtri(0.5 + level / 2) * ext.sd_at(decades)
    est = out["estimate"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.log(est) - np.log(out["lower"].to_numpy())
        hi = np.log(out["upper"].to_numpy()) - np.log(est)
    out["lower"] = est * np.exp(-np.sqrt(lo**2 + extra**2))
    out["upper"] = est * np.exp(np.sqrt(hi**2 + extra**2))
    out["extrapolation_sd"] = ext.sd_at(decades)
    return out


def parameter_intervals(
    fit,
    *,
    level: float = 0.9,
    method: str = "delta",
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    by: str = "run",
    bootstrap: BootstrapResult | None = None,
    **_,
) -> pd.DataFrame:
    """Per-parameter estimate and two-sided ``level`` interval.

    ``method="delta"``: normal interval in internal coordinates (log space for
    log-scaled parameters), clipped to the bounds.  ``method="bootstrap"``:
    percentile interval of the run-bootstrap draws (column ``se`` = their std).
    ``method="auto"``: :func:`resolve_method` (bootstrap with at least 5 runs, else delta).
    """
    check_fraction(level, "interval", "conf_int")
    check_options(method, "method", _METHODS + ("auto",), "conf_int")
    method = resolve_method(method, fit, "parameters")
    if method == "bootstrap":
        boot = _get_bootstrap(fit, n_resamples, seed, by, bootstrap)
        out = boot.conf_int(level)
        out["method"] = "bootstrap"
        return out
    return pd.DataFrame(delta_intervals(fit, level)).set_index("param")


def delta_intervals(fit, level: float = 0.9) -> list[dict]:
    """The rows of :func:`parameter_intervals` with ``method="delta"``, as dicts (no table)."""
    problem, u, cov_u = _internal_cov(fit)
    z = ndtri(0.5 + level / 2)
    rows = []
    for i, p in enumerate(problem.names):
        sd = np.sqrt(max(cov_u[i, i], 0.0))
        lo, hi = u[i] - z * sd, u[i] + z * sd
        lo, hi = max(lo, problem.lower[i]), min(hi, problem.upper[i])
        if problem.is_log[i]:
            lo, hi = np.exp(lo), np.exp(hi)
        rows.append(
            {
                "param": p,
                "estimate": fit.params[p],
                "lower": float(lo),
                "upper": float(hi),
                "se": fit.stderr.get(p, float("nan")),
                "method": "delta",
            }
        )
    return rows


def sample_params(
    fit,
    n: int = 1000,
    *,
    method: str = "delta",
    seed: int = 0,
    by: str = "run",
    bootstrap: BootstrapResult | None = None,
) -> pd.DataFrame:
    """Draws of the law's parameters reflecting fit uncertainty (one row per draw, all parameters).

    ``method="delta"``: multivariate normal in the optimiser's internal coordinates
    (log for scale parameters), clipped to the bounds.  ``method="bootstrap"``:
    refits on ``n`` run-bootstrap resamples (:func:`bootstrap`); failed resamples
    are dropped and replaced by further resamples, so exactly ``n`` rows come back
    (``df.attrs["n_failed"]`` counts them).  ``method="auto"``: :func:`resolve_method`.
    """
    check_options(method, "method", _METHODS + ("auto",), "sample_params")
    method = resolve_method(method, fit, "parameters")
    check_int(n, "n", "sample_params", minimum=1)
    if method == "bootstrap":
        if bootstrap is not None:
            boot = _get_bootstrap(fit, n, seed, by, bootstrap)
            out = boot.draws.iloc[:n].reset_index(drop=True)
            out.attrs.update(method="bootstrap", by=boot.by, n_failed=boot.n_failed)
            return out
        parts, failed, attempt = [], 0, 0
        need = n
        while need > 0 and attempt < 4:
            boot = bootstrap_fn(fit, max(need, 2) if attempt == 0 else max(2 * need, 2), seed=seed + attempt, by=by)
            parts.append(boot.draws.iloc[:need])
            failed += boot.n_failed
            need -= len(parts[-1])
            attempt += 1
        out = pd.concat(parts, ignore_index=True)
        if len(out) < n:
            raise FitError(
                f"sample_params(): only {len(out)} of {n} bootstrap refits converged",
                hint="use method='delta' or check the fit's diagnostics",
            )
        out.attrs.update(method="bootstrap", by=boot.by, n_failed=failed)
        return out
    problem, u, cov_u = _internal_cov(fit)
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(u, cov_u, size=n, method="eigh", check_valid="ignore")
    draws = np.clip(draws, problem.lower, problem.upper)
    theta = problem.to_theta(draws)
    out = pd.DataFrame(theta, columns=problem.names)
    for p, v in problem.fixed.items():
        out[p] = v
    return out[list(fit.law.params)]


bootstrap_fn = bootstrap  # the public function, reachable where a parameter shadows its name
