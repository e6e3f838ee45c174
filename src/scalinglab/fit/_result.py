"""The ``Fit`` result: parameters, fit quality, diagnostics; predicts, summarises, saves."""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scalinglab._io import sha256_bytes, write_atomic
from scalinglab._version import __version__
from scalinglab.errors import DataError, ExtrapolationWarning, InvalidParameterError, LawError, ScalingLabError
from scalinglab.fit._problem import fit_problem
from scalinglab.laws import Law, get_law

if TYPE_CHECKING:
    from scalinglab.fit._summary import Summary

__all__ = ["Fit", "Diagnostic", "load_fit", "FORMAT"]

FORMAT = "scalinglab.fit/1"
#: Format tag of a saved set of fits (:meth:`~scalinglab.fit.FitSet.save`).
SET_FORMAT = "scalinglab.fitset/1"


def is_fit_set(payload: Any) -> bool:
    """Whether a saved JSON payload is a set of fits: :data:`SET_FORMAT`, or ``{group: fit}`` as
    ``scalinglab fit --by -o`` wrote it before the set had its own format."""
    if not isinstance(payload, Mapping):
        return False
    if payload.get("format") == SET_FORMAT:
        return True
    return (
        bool(payload)
        and "format" not in payload
        and all(isinstance(v, Mapping) and v.get("format") == FORMAT for v in payload.values())
    )


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
    def from_solution(
        cls,
        *,
        law,
        problem,
        u,
        objective,
        converged,
        n_iter,
        nfev,
        n_starts,
        n_grid,
        columns,
        target,
        options,
        frame,
        notes,
        fingerprint,
        diagnostics,
        start_objectives,
    ) -> Fit:
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
        rmse_log = (
            float(np.sqrt(np.average(resid_log[positive] ** 2, weights=w[positive])))
            if positive.any() and w[positive].sum() > 0
            else float("nan")
        )
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
        stderr.update(
            {p: float(math.sqrt(cov[i, i])) if cov[i, i] >= 0 else float("nan") for i, p in enumerate(problem.names)}
        )
        cols = ["run"] + list(dict.fromkeys(list(columns.values()) + [target]))
        data = frame[[c for c in cols if c in frame]].reset_index(drop=True).copy()
        if problem.weights is not None:
            data["_weight"] = problem.weights
        return cls(
            law=law,
            params=params,
            stderr=stderr,
            cov=cov,
            free_params=tuple(problem.names),
            columns=dict(columns),
            target=target,
            n_points=n,
            n_params=P,
            objective=objective,
            rmse_log=rmse_log,
            r2=r2,
            residual_scale=scale,
            converged=converged,
            n_iter=n_iter,
            nfev=nfev,
            n_starts=n_starts,
            n_grid=n_grid,
            options=dict(options),
            data=data,
            notes=tuple(notes),
            fingerprint=fingerprint,
            diagnostics=tuple(diagnostics),
            version=__version__,
            start_objectives=tuple(float(s) for s in start_objectives),
        )

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
                    try:
                        out[sym] = np.asarray(source[key], dtype=float)
                    except (TypeError, ValueError):
                        raise InvalidParameterError(
                            f"predict(): '{key}' must be numbers; got {source[key]!r:.60}",
                            hint=f"pass {key}=7e10 or a list/array of numbers",
                            cli_hint=f"give {key} as a plain number such as 7e10",
                        ) from None
                    break
            else:
                raise LawError(
                    f"predict() needs '{col}' (input {sym} of law '{self.law.name}')",
                    hint=f"pass {col}=... or a DataFrame with a '{col}' column",
                )
        try:
            shapes = np.broadcast_shapes(*(v.shape for v in out.values()))
        except ValueError:
            raise InvalidParameterError(
                "predict(): the inputs have shapes that do not match: "
                + ", ".join(f"{self.columns[s]} {v.shape}" for s, v in out.items()),
                hint="give every input one value per point (or one value for all points)",
            ) from None
        for sym, v in out.items():
            if np.any(~np.isfinite(v)) or np.any(v <= 0):
                raise InvalidParameterError(
                    f"predict(): '{self.columns[sym]}' must be finite and > 0",
                    hint="sizes, token counts and compute are positive raw counts",
                )
        return {k: np.broadcast_to(v, shapes) for k, v in out.items()}

    def predict(
        self,
        data: pd.DataFrame | Mapping | None = None,
        *,
        interval: float | None = None,
        kind: str = "mean",
        method: str = "delta",
        warn: bool = True,
        **inputs: Any,
    ):
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
                warnings.warn(
                    f"predicting {worst:.1f} decades beyond the fitted range of '{self.columns[sym]}'",
                    ExtrapolationWarning,
                    stacklevel=2,
                )
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

    def summary(self, interval: float = 0.9, method: str = "auto") -> Summary:
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
        """The fit as JSON with a SHA-256 ``checksum`` of its content (:func:`load_fit` checks it)."""
        payload = self.to_dict()
        payload["checksum"] = _checksum(payload)
        return json.dumps(payload, indent=indent, allow_nan=True)

    def save(self, path: str | Path) -> Path:
        """Write the fit as JSON, atomically."""
        return write_atomic(path, self.to_json())

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any], *, law: Law | None = None, source: str = "<dict>") -> Fit:
        """The Fit a :meth:`to_dict` payload describes, after checking it (see :func:`load_fit`)."""
        return _from_payload(cls, payload, law=law, source=source)

    def problem(self, weights: np.ndarray | None = None):
        """Rebuild the solver problem of this fit (used by resampling and backtests)."""
        return fit_problem(self, weights=weights)


def _gauss_newton_cov(problem, u: np.ndarray, w: np.ndarray, scale: float) -> np.ndarray:
    J = problem.jacobian(u[None, :])[0]
    JtJ = J.T @ (J * w[:, None])
    return scale**2 * np.linalg.pinv(JtJ)


def load_fit(path: str | Path, *, law: Law | None = None) -> Fit:
    """Load a fit saved with :meth:`Fit.save` (the law is resolved by name, or pass ``law=``).

    Nothing in the file is trusted: the content must match its SHA-256 checksum, every
    parameter must be a finite number within the law's bounds, the covariance must be
    square over the free parameters, the law's name, formula, parameters and inputs must
    match, and the fitted data must be finite.  Any failure is a
    :class:`~scalinglab.errors.DataError` naming the field (``kind="invalid-fit"``).

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
    if not isinstance(path, (str, os.PathLike)) or (isinstance(path, str) and not path.strip()):
        raise InvalidParameterError(
            f"load_fit(): path must be the path of a fit file; got {path!r}",
            hint="pass the path given to fit(...).save(path)",
        )
    path = Path(path)
    fix = "refit and save again (Python: fit(...).save(path); CLI: scalinglab fit DATA -o FIT.json)"
    cli_fix = "refit and save again with scalinglab fit DATA -o FIT.json"
    if not path.exists():
        raise DataError(
            f"fit file not found: {path}",
            kind="file-not-found",
            source=str(path),
            hint="check the path; a fit file is written by fit(...).save(path)",
            cli_hint="check the path; a fit file is written by scalinglab fit DATA -o FIT.json",
        )
    if path.is_dir():
        raise DataError(
            "expected a fit file (JSON), got a directory",
            source=str(path),
            kind="not-a-file",
            hint="pass the path of the .json file written by fit(...).save(path)",
            cli_hint="pass the path of the .json file written by scalinglab fit DATA -o FIT.json",
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(
            "not a fit file: it is not UTF-8 text", source=str(path), kind="malformed-fit", hint=fix, cli_hint=cli_fix
        ) from None
    except OSError as exc:
        raise DataError(
            f"cannot read the fit file ({exc.strerror})",
            source=str(path),
            kind="unreadable-file",
            hint="check the file's permissions",
        ) from None
    try:
        payload = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DataError(
            f"not a fit file: invalid JSON ({str(exc)[:120]})",
            source=str(path),
            kind="malformed-fit",
            hint=fix,
            cli_hint=cli_fix,
        ) from None
    return Fit.from_dict(payload, law=law, source=str(path))


# --------------------------------------------------------------------------- validation of saved fits


def _checksum(payload: Mapping[str, Any]) -> str:
    body = {k: v for k, v in payload.items() if k != "checksum"}
    return sha256_bytes(json.dumps(body, sort_keys=True, allow_nan=True).encode("utf-8"))


def _from_payload(cls, payload: Any, *, law: Law | None, source: str) -> Fit:
    """Check every field of a saved fit, then build the Fit.  Any problem is one DataError naming the field."""

    def bad(message: str, field: str | None = None, hint: str | None = None) -> DataError:
        return DataError(
            message,
            source=source,
            column=field,
            kind="invalid-fit",
            hint=hint or "the file was damaged or edited; refit and save again (Python: fit(...).save(path))",
            cli_hint=hint
            or "the file was damaged or edited; refit and save it again with scalinglab fit DATA -o FIT.json",
        )

    if not isinstance(payload, Mapping):
        raise bad(f"not a fit file: the JSON holds a {type(payload).__name__}, not an object")
    if is_fit_set(payload):
        fits = payload.get("fits", {}) if payload.get("format") == SET_FORMAT else payload
        groups = list(fits) if isinstance(fits, Mapping) else []
        raise DataError(
            f"this file holds a set of fits (one per group: {', '.join(map(str, groups[:6]))}"
            f"{', ...' if len(groups) > 6 else ''}), not one fit",
            source=source,
            column="format",
            kind="fit-set",
            hint="load it with scalinglab.fit.load_fitset(path) and predict with FitSet.predict(group, ...)",
            cli_hint="pick a group: scalinglab predict FILE --group NAME",
        )
    if payload.get("format") != FORMAT:
        raise bad(f"not a scalinglab fit file (format {payload.get('format')!r}, expected {FORMAT!r})", "format")
    if "checksum" in payload and payload["checksum"] != _checksum(payload):
        raise bad(
            "the content does not match its checksum: the file was edited or damaged after it was saved", "checksum"
        )

    def get(key: str, types: type | tuple, what: str):
        if key not in payload:
            raise bad(f"the field '{key}' is missing", key)
        v = payload[key]
        if isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            raise bad(f"the field '{key}' must be {what}; got {v!r}", key)
        if not isinstance(v, types):
            raise bad(f"the field '{key}' must be {what}; got {type(v).__name__}", key)
        return v

    name = get("law", str, "a law name")
    if law is None:
        options = payload.get("options")
        spec = options.get("law_spec", name) if isinstance(options, Mapping) else name
        try:
            law = get_law(spec)
        except ScalingLabError:
            raise LawError(
                f"{source}: the fit uses law '{name}', which is not registered in this session",
                hint="pass load_fit(path, law=your_law), or register the law first",
                cli_hint="pass --law with a module:object that defines it, or register the law",
            ) from None
    elif not isinstance(law, Law):
        raise InvalidParameterError(
            f"load_fit(): law must be a Law; got {type(law).__name__}",
            hint="pass the Law object the fit was made with, or leave law= out",
        )
    if name != law.name and name not in getattr(law, "aliases", ()):
        raise bad(
            f"the fit is of law '{name}' but law '{law.name}' was given",
            "law",
            hint=f"pass the law the fit was made with ('{name}')",
        )
    formula = payload.get("formula", law.formula)
    if formula != law.formula:
        raise bad(
            f"law '{law.name}' in this session has formula {law.formula!r}, but the fit was made with {formula!r}",
            "formula",
            hint="load it with the law it was made with, or refit",
        )
    num = (int, float)
    params = get("params", Mapping, "an object of parameter values")
    if set(params) != set(law.params):
        missing, extra = sorted(set(law.params) - set(params)), sorted(set(params) - set(law.params))
        raise bad(
            f"parameters do not match law '{law.name}'"
            + (f"; missing {missing}" if missing else "")
            + (f"; unknown {extra}" if extra else "")
            + f" (the law has {list(law.params)})",
            "params",
        )
    options = dict(get("options", Mapping, "an object"))
    bounds = options.get("bounds") or {}
    values = {}
    for p, spec in law.params.items():
        v = params[p]
        if isinstance(v, bool) or not isinstance(v, num) or not math.isfinite(float(v)):
            raise bad(f"parameter {p} = {v!r} is not a finite number", f"params.{p}")
        lo, hi = spec.lower, spec.upper
        if isinstance(bounds, Mapping) and isinstance(bounds.get(p), (list, tuple)) and len(bounds[p]) == 2:
            lo, hi = (float(x) if isinstance(x, num) else y for x, y in zip(bounds[p], (lo, hi)))
        if not (lo - 1e-9 * max(1.0, abs(lo)) <= float(v) <= hi + 1e-9 * max(1.0, abs(hi))):
            raise bad(
                f"parameter {p} = {v!r} is outside its bounds [{lo:g}, {hi:g}] of law '{law.name}'", f"params.{p}"
            )
        values[p] = float(v)
    free = get("free_params", list, "a list of parameter names")
    if not all(isinstance(p, str) and p in law.params for p in free) or len(set(free)) != len(free):
        raise bad(f"free_params {free!r} must be distinct parameters of law '{law.name}'", "free_params")
    fixed = options.get("fixed") or {}
    if not isinstance(fixed, Mapping) or set(free) | set(fixed) != set(law.params):
        raise bad("free_params and options.fixed together must name every parameter once", "free_params")
    stderr_in = get("stderr", Mapping, "an object")
    stderr = {}
    for p in law.params:
        v = stderr_in.get(p)
        if v is None:
            stderr[p] = float("nan")
        elif isinstance(v, bool) or not isinstance(v, num) or float(v) < 0 or (float(v) != float(v)):
            raise bad(f"stderr of {p} = {v!r} must be a number >= 0 (or null)", f"stderr.{p}")
        else:
            stderr[p] = float(v)
    cov_in = get("cov", list, "a list of lists")
    try:
        cov = np.asarray(cov_in, dtype=float)
    except (TypeError, ValueError):
        raise bad("cov must be a square matrix of numbers", "cov") from None
    P = len(free)
    if cov.shape != (P, P) and not (P == 0 and cov.size == 0):
        raise bad(f"cov has shape {cov.shape}, expected ({P}, {P}) for {P} free parameter(s)", "cov")
    cov = cov.reshape(P, P)
    if np.any(np.isinf(cov)):
        raise bad("cov holds infinite values", "cov")
    columns = get("columns", Mapping, "an object")
    if set(columns) != set(law.inputs) or not all(isinstance(c, str) and c for c in columns.values()):
        raise bad(
            f"columns {dict(columns)!r} must map the inputs {list(law.inputs)} of law '{law.name}' to column names",
            "columns",
        )
    target = get("target", str, "a column name")
    data = get("data", Mapping, "an object of columns")
    try:
        frame = pd.DataFrame({k: list(v) for k, v in data.items()})
    except (TypeError, ValueError) as exc:
        raise bad(f"data is not a table of equal-length columns ({exc})", "data") from None
    for col in list(columns.values()) + [target]:
        if col not in frame:
            raise bad(f"data lacks the column '{col}' the fit uses", "data")
        v = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(v)) or (col != target and np.any(v <= 0)):
            raise bad(f"data column '{col}' holds values that are not finite (or not positive)", "data")
        frame[col] = v
    if "run" not in frame:
        raise bad("data lacks the 'run' column", "data")
    frame["run"] = frame["run"].astype(str)
    counts = {}
    for key in ("n_points", "n_params", "n_iter", "nfev", "n_starts", "n_grid"):
        v = get(key, int, "an integer >= 0")
        if v < 0:
            raise bad(f"the field '{key}' must be an integer >= 0; got {v}", key)
        counts[key] = v
    if counts["n_points"] > len(frame) or counts["n_params"] != P:
        raise bad(
            f"n_points/n_params ({counts['n_points']}/{counts['n_params']}) do not match the data "
            f"({len(frame)} rows) and free parameters ({P})",
            "n_points",
        )
    floats = {}
    for key in ("objective", "rmse_log", "r2", "residual_scale"):
        v = payload.get(key)
        if v is None:
            floats[key] = float("nan")
        elif isinstance(v, bool) or not isinstance(v, num):
            raise bad(f"the field '{key}' must be a number; got {v!r}", key)
        else:
            floats[key] = float(v)
    converged = get("converged", bool, "true or false")
    if (
        not isinstance(options.get("loss"), str)
        or not isinstance(options.get("space"), str)
        or not isinstance(options.get("delta"), num)
    ):
        raise bad("options must hold loss, delta and space", "options")
    diags = payload.get("diagnostics", [])
    if not isinstance(diags, list) or not all(
        isinstance(d, Mapping) and isinstance(d.get("kind"), str) and isinstance(d.get("message"), str) for d in diags
    ):
        raise bad("diagnostics must be a list of {kind, message} objects", "diagnostics")
    notes = payload.get("notes", [])
    starts = payload.get("start_objectives", [])
    if not isinstance(notes, list) or not isinstance(starts, list):
        raise bad("notes and start_objectives must be lists", "notes")
    try:
        starts = tuple(float(s) for s in starts)
    except (TypeError, ValueError):
        raise bad("start_objectives must be numbers", "start_objectives") from None
    return cls(
        law=law,
        params=values,
        stderr=stderr,
        cov=cov,
        free_params=tuple(free),
        columns=dict(columns),
        target=target,
        n_points=counts["n_points"],
        n_params=counts["n_params"],
        objective=floats["objective"],
        rmse_log=floats["rmse_log"],
        r2=floats["r2"],
        residual_scale=floats["residual_scale"],
        converged=converged,
        n_iter=counts["n_iter"],
        nfev=counts["nfev"],
        n_starts=counts["n_starts"],
        n_grid=counts["n_grid"],
        options=options,
        data=frame,
        notes=tuple(str(n) for n in notes),
        fingerprint=str(payload.get("data_fingerprint", "")),
        diagnostics=tuple(
            Diagnostic(d["kind"], d["message"], tuple(str(x) for x in d.get("params", ()) or ())) for d in diags
        ),
        version=str(payload.get("scalinglab_version", "")),
        start_objectives=starts,
    )
