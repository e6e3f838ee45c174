"""The ``Fit`` result: parameters, fit quality, diagnostics; predicts, summarises, saves."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from scalinglab._io import write_atomic
from scalinglab._version import __version__
from scalinglab.errors import ExtrapolationWarning, InvalidParameterError, LawError, ScalingLabError
from scalinglab.fit._problem import fit_problem
from scalinglab.laws import Law, get_law

if TYPE_CHECKING:
    from scalinglab.fit._summary import Summary

__all__ = ["Fit", "Diagnostic", "load_fit", "FORMAT"]

FORMAT = "scalinglab.fit/1"


@dataclass(frozen=True)
class Diagnostic:
    """A problem found in a fit: ``kind`` is a stable slug, ``message`` says what it means."""

    kind: str
    message: str
    params: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "params": list(self.params)}


@dataclass(frozen=True)
class Fit:
    """A fitted scaling law (immutable).

    Attributes
    ----------
    law : Law
    params : dict
        Fitted (and fixed) parameter values by name.
    stderr : dict
        Approximate standard errors (Gauss-Newton curvature with the dof-corrected residual
        scale; ``nan`` for fixed parameters).  Bootstrap intervals: :meth:`conf_int`.
    cov : ndarray
        Approximate covariance of the free parameters (order ``free_params``).
    columns : dict
        Input symbol -> runs-table column used.
    target : str
        Target column.
    n_points, n_params : int
        Points fitted and free parameters.
    objective : float
        Minimised objective (summed robust loss).
    rmse_log, r2 : float
        RMSE of log residuals; R^2 of the target in linear space.
    converged : bool
    diagnostics : tuple of Diagnostic
    data : DataFrame
        The fitted rows (``run``, input columns, target), for resampling and plots.
    """

    law: Law
    params: dict[str, float]
    stderr: dict[str, float]
    cov: np.ndarray
    free_params: tuple[str, ...]
    columns: dict[str, str]
    target: str
    n_points: int
    n_params: int
    objective: float
    rmse_log: float
    r2: float
    residual_scale: float
    converged: bool
    n_iter: int
    nfev: int
    n_starts: int
    n_grid: int
    options: dict[str, Any]
    data: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()
    fingerprint: str = ""
    diagnostics: tuple[Diagnostic, ...] = ()
    version: str = ""
    start_objectives: tuple[float, ...] = field(default=(), repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_solution(cls, *, law, problem, u, objective, converged, n_iter, nfev, n_starts, n_grid, columns,
                      target, options, frame, notes, fingerprint, diagnostics, start_objectives) -> "Fit":
        theta = problem.to_theta(u[None, :])[0]
        params = {p: float(theta[i]) for i, p in enumerate(problem.names)}
        params.update({k: float(v) for k, v in problem.fixed.items()})
        params = {p: params[p] for p in law.params}
        r = problem.residuals(u[None, :])[0]
        w = problem.weights if problem.weights is not None else np.ones(problem.n)
        used = w > 0
        P = len(problem.names)
        n = int(used.sum())
        pred = problem.y * np.exp(-r) if problem.space == "log" else problem.y - r
        positive = used & (problem.y > 0) & (pred > 0)  # log residuals exist only where both are positive
        with np.errstate(divide="ignore", invalid="ignore"):
            resid_log = np.log(problem.y) - np.log(pred)
        rmse_log = (float(np.sqrt(np.average(resid_log[positive] ** 2, weights=w[positive])))
                    if positive.any() and w[positive].sum() > 0 else float("nan"))
        ss_res = float(np.sum(w * (problem.y - pred) ** 2))
        ss_tot = float(np.sum(w * (problem.y - np.average(problem.y, weights=w)) ** 2))
        r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")
        # Residual scale with a degrees-of-freedom correction.  Not the MAD: a Huber fit with a
        # small delta behaves like L1 and passes exactly through about P points, so the median
        # absolute residual understates the scatter on small ladders.
        scale = float(np.sqrt(np.sum(w[used] * r[used] ** 2) / max(np.sum(w[used]) - P, 1.0)))
        cov_u = _gauss_newton_cov(problem, u, w, scale)
        jac = np.where(problem.is_log, theta, 1.0)
        cov = cov_u * np.outer(jac, jac)
        stderr = {p: float("nan") for p in law.params}
        stderr.update({p: float(math.sqrt(cov[i, i])) if cov[i, i] >= 0 else float("nan")
                       for i, p in enumerate(problem.names)})
        cols = ["run"] + list(dict.fromkeys(list(columns.values()) + [target]))
        data = frame[[c for c in cols if c in frame]].reset_index(drop=True).copy()
        if problem.weights is not None:
            data["_weight"] = problem.weights
        return cls(law=law, params=params, stderr=stderr, cov=cov, free_params=tuple(problem.names),
                   columns=dict(columns), target=target, n_points=n, n_params=P, objective=objective,
                   rmse_log=rmse_log, r2=r2, residual_scale=scale, converged=converged, n_iter=n_iter,
                   nfev=nfev, n_starts=n_starts, n_grid=n_grid, options=dict(options), data=data,
                   notes=tuple(notes), fingerprint=fingerprint, diagnostics=tuple(diagnostics),
                   version=__version__, start_objectives=tuple(float(s) for s in start_objectives))

    # ------------------------------------------------------------------ prediction
    def _inputs(self, data: pd.DataFrame | Mapping | None, kwargs: Mapping) -> dict[str, np.ndarray]:
        source: dict[str, Any] = {}
        if data is not None:
            if isinstance(data, pd.DataFrame):
                source.update({c: data[c].to_numpy() for c in data.columns})
            else:
                source.update(dict(data))
        source.update(kwargs)
        out = {}
        for sym, col in self.columns.items():
            for key in (col, sym):
                if key in source:
                    out[sym] = np.asarray(source[key], dtype=float)
                    break
            else:
                raise LawError(f"predict() needs '{col}' (input {sym} of law '{self.law.name}')",
                               hint=f"pass {col}=... or a DataFrame with a '{col}' column")
        shapes = np.broadcast_shapes(*(v.shape for v in out.values()))
        for sym, v in out.items():
            if np.any(~np.isfinite(v)) or np.any(v <= 0):
                raise InvalidParameterError(f"predict(): '{self.columns[sym]}' must be finite and > 0")
        return {k: np.broadcast_to(v, shapes) for k, v in out.items()}

    def predict(self, data: pd.DataFrame | Mapping | None = None, *, interval: float | None = None,
                kind: str = "mean", method: str = "delta", warn: bool = True, **inputs: Any):
        """Predict the target at new inputs.

        The return type depends only on ``interval``: without it, an ``ndarray`` of
        estimates shaped like the broadcast inputs (0-d for scalar inputs, so
        ``float(...)`` works); with it, a ``DataFrame`` with one row per point and columns
        ``estimate``, ``lower``, ``upper``, ``level``, ``kind``, ``method``.

        Parameters
        ----------
        data : DataFrame or mapping, optional
            Columns named as in the runs table (``params``, ``tokens``...).
        interval : float, optional
            Interval level (e.g. ``0.9``); see above for what comes back.
        kind : {"mean", "new"}
            Interval for the mean law, or for a new run (adds seed/run noise).
        method : {"delta", "bootstrap", "calibrated", "auto"}
            Fast approximate (delta method), bootstrap over runs, the calibrated interval
            (:func:`~scalinglab.fit._uncertainty.prediction_interval`), or ``"auto"``: the most
            honest the data supports (:func:`~scalinglab.fit._uncertainty.resolve_method`).
        **inputs : array_like
            Inputs by column or symbol name, e.g. ``params=7e10, tokens=1.4e12``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from scalinglab.fit import fit
        >>> N = np.repeat([1e7, 3e7, 1e8, 3e8, 1e9], 4); D = np.tile([1e9, 3e9, 1e10, 3e10], 5)
        >>> f = fit(pd.DataFrame({"params": N, "tokens": D, "loss": 1.7 + 400 / N**0.34 + 410 / D**0.28}))
        >>> round(float(f.predict(params=7e10, tokens=1.4e12, warn=False)), 4)
        1.9451
        >>> f.predict(params=[1e9, 2e9], tokens=[2e10, 4e10]).shape
        (2,)
        >>> list(f.predict(params=1e9, tokens=2e10, interval=0.9).columns)
        ['estimate', 'lower', 'upper', 'level', 'kind', 'method']
        """
        X = self._inputs(data, inputs)
        if warn:
            far = self.extrapolation(X)
            worst = max(far.values()) if far else 0.0
            if worst > 1.5:
                sym = max(far, key=far.get)
                warnings.warn(f"predicting {worst:.1f} decades beyond the fitted range of "
                              f"'{self.columns[sym]}'", ExtrapolationWarning, stacklevel=2)
        estimate = self.law.evaluate(X, self.params)
        if interval is None:
            return estimate
        from scalinglab.fit._uncertainty import prediction_interval

        return prediction_interval(self, X, level=interval, kind=kind, method=method)

    def extrapolation(self, X: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Decades beyond the fitted range of each input (0 inside), max over points."""
        out = {}
        for sym, col in self.columns.items():
            fitted = self.data[col].to_numpy(dtype=float)
            v = np.log10(np.asarray(X[sym], dtype=float))
            above = v - np.log10(fitted.max())
            below = np.log10(fitted.min()) - v
            out[sym] = float(np.max(np.maximum(0.0, np.maximum(above, below)))) if v.size else 0.0
        return out

    def residuals(self) -> np.ndarray:
        """Log residuals ``log y - log f`` of the fitted rows."""
        X = {sym: self.data[col].to_numpy(dtype=float) for sym, col in self.columns.items()}
        return np.log(self.data[self.target].to_numpy(dtype=float)) - np.log(self.law.evaluate(X, self.params))

    def conf_int(self, interval: float = 0.9, *, method: str = "delta", **kwargs) -> pd.DataFrame:
        """Lower/upper bounds per parameter (``method="delta"``, ``"bootstrap"`` or ``"auto"``:
        the run bootstrap with at least 5 runs, else delta; see
        :func:`~scalinglab.fit._uncertainty.resolve_method`)."""
        from scalinglab.fit._uncertainty import parameter_intervals

        return parameter_intervals(self, level=interval, method=method, **kwargs)

    def decompose(self, data=None, **kwargs):
        """Irreducible (floor) and reducible loss at points, with intervals: :func:`scalinglab.fit.decompose`."""
        from scalinglab.fit._decompose import decompose

        return decompose(self, data, **kwargs)

    # ------------------------------------------------------------------ reporting
    @property
    def warnings(self) -> list[str]:
        return [d.message for d in self.diagnostics]

    def summary(self, interval: float = 0.9, method: str = "auto") -> "Summary":
        """A readable summary (``print(fit.summary())``; ``.as_dict()``, ``.as_html()``).

        ``method="auto"``: intervals and standard errors from the run bootstrap when the fit
        has at least 5 runs, else from the delta method (:func:`~scalinglab.fit._uncertainty.resolve_method`);
        the title says which.
        """
        from scalinglab.fit._summary import Summary

        return Summary.from_fit(self, interval=interval, method=method)

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"Fit(law={self.law.name!r}, {vals}, n_points={self.n_points}, objective={self.objective:.6g})"

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form; :func:`load_fit` restores an identical Fit."""
        return {
            "format": FORMAT,
            "law": self.law.name,
            "law_version": self.law.version,
            "formula": self.law.formula,
            "params": dict(self.params),
            "stderr": {k: (None if not np.isfinite(v) else v) for k, v in self.stderr.items()},
            "cov": self.cov.tolist(),
            "free_params": list(self.free_params),
            "columns": dict(self.columns),
            "target": self.target,
            "objective": self.objective,
            "n_points": self.n_points,
            "n_params": self.n_params,
            "rmse_log": self.rmse_log,
            "r2": self.r2,
            "residual_scale": self.residual_scale,
            "converged": self.converged,
            "n_iter": self.n_iter,
            "nfev": self.nfev,
            "n_starts": self.n_starts,
            "n_grid": self.n_grid,
            "options": self.options,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "notes": list(self.notes),
            "data_fingerprint": self.fingerprint,
            "data": {c: self.data[c].tolist() for c in self.data.columns},
            "start_objectives": list(self.start_objectives),
            "scalinglab_version": self.version,
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=True)

    def save(self, path: str | Path) -> Path:
        """Write the fit as JSON, atomically."""
        return write_atomic(path, self.to_json())

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any], *, law: Law | None = None) -> "Fit":
        if payload.get("format") != FORMAT:
            raise ScalingLabError(f"not a scalinglab fit file (format {payload.get('format')!r}, expected {FORMAT!r})")
        if law is None:
            spec = payload.get("options", {}).get("law_spec", payload["law"])
            try:
                law = get_law(spec)
            except LawError:
                raise LawError(f"the fit uses law '{payload['law']}', which is not registered in this session",
                               hint="pass load_fit(path, law=your_law), or register the law first") from None
        lw = law
        return cls(
            law=lw, params={k: float(v) for k, v in payload["params"].items()},
            stderr={k: (float("nan") if v is None else float(v)) for k, v in payload["stderr"].items()},
            cov=np.asarray(payload["cov"], dtype=float).reshape(len(payload["free_params"]), -1),
            free_params=tuple(payload["free_params"]), columns=dict(payload["columns"]),
            target=payload["target"], n_points=int(payload["n_points"]), n_params=int(payload["n_params"]),
            objective=float(payload["objective"]), rmse_log=float(payload["rmse_log"]), r2=float(payload["r2"]),
            residual_scale=float(payload["residual_scale"]), converged=bool(payload["converged"]),
            n_iter=int(payload["n_iter"]), nfev=int(payload["nfev"]), n_starts=int(payload["n_starts"]),
            n_grid=int(payload["n_grid"]), options=dict(payload["options"]),
            data=pd.DataFrame(payload["data"]), notes=tuple(payload.get("notes", ())),
            fingerprint=payload.get("data_fingerprint", ""),
            diagnostics=tuple(Diagnostic(d["kind"], d["message"], tuple(d.get("params", ())))
                              for d in payload.get("diagnostics", ())),
            version=payload.get("scalinglab_version", ""),
            start_objectives=tuple(payload.get("start_objectives", ())),
        )

    def problem(self, weights: np.ndarray | None = None):
        """Rebuild the solver problem of this fit (used by resampling and backtests)."""
        return fit_problem(self, weights=weights)


def _gauss_newton_cov(problem, u: np.ndarray, w: np.ndarray, scale: float) -> np.ndarray:
    J = problem.jacobian(u[None, :])[0]
    JtJ = J.T @ (J * w[:, None])
    return scale ** 2 * np.linalg.pinv(JtJ)


def load_fit(path: str | Path, *, law: Law | None = None) -> Fit:
    """Load a fit saved with :meth:`Fit.save` (the law is resolved by name, or pass ``law=``).

    Examples
    --------
    >>> import tempfile, os, numpy as np, pandas as pd
    >>> from scalinglab.fit import fit
    >>> N = np.repeat([1e7, 3e7, 1e8, 3e8, 1e9], 4); D = np.tile([1e9, 3e9, 1e10, 3e10], 5)
    >>> f = fit(pd.DataFrame({"params": N, "tokens": D, "loss": 1.7 + 400 / N**0.34 + 410 / D**0.28}))
    >>> path = f.save(os.path.join(tempfile.mkdtemp(), "fit.json"))
    >>> load_fit(path).params == f.params
    True
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
    except FileNotFoundError:
        raise ScalingLabError(f"fit file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ScalingLabError(f"{path} is not valid JSON ({exc})") from None
    return Fit.from_dict(payload, law=law)
