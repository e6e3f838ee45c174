"""Compute-optimal frontiers N*(C), D*(C): Chinchilla approaches 1 (envelope), 2 (isoFLOP) and 3 (parametric).

All three return a :class:`Frontier`: power laws ``N* = k_N C^a`` and ``D* = k_D C^b``
(C in FLOPs) with bootstrap intervals, the per-budget optima they were fitted to,
and diagnostics.  Hoffmann et al. (2022, arXiv:2203.15556, Sec. 3 and Table 2)
report a = 0.50 / 0.49 / 0.46 from the three approaches.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._validation import check_fraction, check_int, check_options
from scalinglab.data import read_runs
from scalinglab.errors import DataError, ExtrapolationWarning, IdentifiabilityWarning, InvalidParameterError, PlanError
from scalinglab.fit import Fit
from scalinglab.fit import fit as fit_law
from scalinglab.fit._uncertainty import sample_params
from scalinglab.laws import Law, get_law
from scalinglab.laws.published import PF_DAY_FLOPS
from scalinglab.plan._cost import CostModel, resolve_cost
from scalinglab.plan._deprecated import renamed
from scalinglab.plan._model import DEFAULT_LAW, PlanModel, resolve_model
from scalinglab.plan._report import PlanSummary, fmt, jsonable
from scalinglab.plan._solve import has_closed_form

__all__ = ["Frontier", "IsoFLOPResult", "envelope", "isoflop", "parametric", "frontier_from_published"]


def _q(x: np.ndarray, level: float) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return math.nan, math.nan
    lo, hi = np.percentile(x, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)


@dataclass(frozen=True)
class Frontier:
    """Compute-optimal frontier ``N*(C) = 10^log10_kN * C^a``, ``D*(C) = 10^log10_kD * C^b`` (C in FLOPs).

    Attributes
    ----------
    approach : str
        How it was estimated (``"envelope"``, ``"isoflop-parabola"``, ``"isoflop-vpnls"``,
        ``"parametric"``, ``"published"``).
    a, b : float
        Exponents of N* and D* in C.
    log10_kN, log10_kD : float
        Intercepts of log10 N* and log10 D* at C = 1 FLOP.
    draws : DataFrame or None
        Bootstrap draws of ``a, b, log10_kN, log10_kD``.
    level : float or None
    method : str or None
        ``"bootstrap over runs"``, ``"bootstrap over points within budgets"``...
    points : DataFrame
        The optima the power laws were fitted to (per budget or per compute grid point).
    warnings, notes : tuple of str
    source : str
    fit : Fit or None
        The parametric fit behind approaches 3 and VPNLS.
    """

    approach: str
    a: float
    b: float
    log10_kN: float
    log10_kD: float
    draws: pd.DataFrame | None = None
    level: float | None = None
    method: str | None = None
    points: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    source: str = ""
    fit: Any = None

    def interval(self, name: str) -> tuple[float, float]:
        """Percentile interval of ``a``, ``b``, ``log10_kN`` or ``log10_kD`` at :attr:`level`."""
        if name not in ("a", "b", "log10_kN", "log10_kD"):
            raise InvalidParameterError(f"interval(): unknown quantity '{name}'")
        if self.draws is None or self.level is None or name not in self.draws:
            return math.nan, math.nan
        return _q(self.draws[name].to_numpy(), self.level)

    def predict(self, flops, *, interval: float | None = None) -> pd.DataFrame:
        """N* and D* at budgets ``flops`` (FLOPs), with intervals from the draws."""
        C = np.atleast_1d(np.asarray(flops, dtype=float)).ravel()
        if np.any(~np.isfinite(C)) or np.any(C <= 0):
            raise InvalidParameterError("predict(): 'flops' must be finite and > 0")
        lc = np.log10(C)
        out = pd.DataFrame(
            {"flops": C, "params": 10 ** (self.log10_kN + self.a * lc), "tokens": 10 ** (self.log10_kD + self.b * lc)}
        )
        out["tokens_per_param"] = out["tokens"] / out["params"]
        level = interval if interval is not None else self.level
        if level is not None and self.draws is not None:
            check_fraction(level, "interval", "predict")
            d = self.draws
            logN = d["log10_kN"].to_numpy()[:, None] + d["a"].to_numpy()[:, None] * lc[None, :]
            logD = d["log10_kD"].to_numpy()[:, None] + d["b"].to_numpy()[:, None] * lc[None, :]
            for name, v in (("params", 10**logN), ("tokens", 10**logD), ("tokens_per_param", 10 ** (logD - logN))):
                lo, hi = np.nanpercentile(v, [100 * (1 - level) / 2, 100 * (1 + level) / 2], axis=0)
                out[f"{name}_lower"], out[f"{name}_upper"] = lo, hi
        return out

    def summary(self) -> PlanSummary:
        rows = []
        for name in ("a", "b", "log10_kN", "log10_kD"):
            lo, hi = self.interval(name)
            rows.append([name, getattr(self, name), lo, hi])
        pct = f"{int(round(self.level * 100))}%" if self.level else "-"
        header = [
            ("approach", self.approach),
            ("source", self.source),
            (
                "frontier",
                f"N* = {10**self.log10_kN:.4g} C^{self.a:.4f},  D* = {10**self.log10_kD:.4g} "
                f"C^{self.b:.4f}  (C in FLOPs)",
            ),
            (
                "uncertainty",
                f"{self.method}, {len(self.draws)} draws, {pct} percentile intervals"
                if self.draws is not None
                else "none",
            ),
        ]
        header += [("note", n) for n in self.notes]
        return PlanSummary(
            title=f"Compute-optimal frontier ({self.approach})",
            header=header,
            columns=["quantity", "estimate", f"lower {pct}", f"upper {pct}"],
            rows=rows,
            warnings=self.warnings,
        )

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def to_dict(self) -> dict[str, Any]:
        iv = {n: list(self.interval(n)) for n in ("a", "b", "log10_kN", "log10_kD")}
        return jsonable(
            {
                "approach": self.approach,
                "a": self.a,
                "b": self.b,
                "log10_kN": self.log10_kN,
                "log10_kD": self.log10_kD,
                "intervals": iv,
                "level": self.level,
                "method": self.method,
                "n_draws": 0 if self.draws is None else len(self.draws),
                "source": self.source,
                "points": self.points.to_dict(orient="records"),
                "warnings": list(self.warnings),
                "notes": list(self.notes),
            }
        )


def frontier_from_published(entry) -> Frontier:
    """A :class:`Frontier` from a published ``N_opt(C)`` entry (``target == "n_opt"``, e.g. Kaplan, Henighan).

    PF-day inputs are converted to FLOPs; D* follows from C = 6ND.

    Examples
    --------
    >>> from scalinglab import published
    >>> fr = frontier_from_published(published.get("kaplan2020_frontier_n"))
    >>> round(fr.a, 2), f"{fr.predict(8.64e19)['params'][0]:.3g}"
    (0.73, '1.3e+09')
    """
    if getattr(entry, "target", None) != "n_opt" or not {"k", "p"} <= set(getattr(entry, "params", {})):
        raise PlanError(f"'{getattr(entry, 'key', entry)}' is not a published N_opt(C) frontier")
    k, p = float(entry.params["k"]), float(entry.params["p"])
    unit = PF_DAY_FLOPS if entry.pf_days else 1.0
    log10_kN = math.log10(k) - p * math.log10(unit)
    return Frontier(
        approach="published",
        a=p,
        b=1.0 - p,
        log10_kN=log10_kN,
        log10_kD=-math.log10(6.0) - log10_kN,
        source=f"{entry.key}: {entry.formula} ({entry.source})",
        notes=("D* = C/(6 N*)",)
        + ((f"C in PF-days in the paper (1 PF-day = {unit:.3g} FLOPs)",) if entry.pf_days else ()),
    )


# ------------------------------------------------------------------------------ helpers


def _ols_batch(x: np.ndarray, Y: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept of Y[b] ~ x over entries where M[b] (batched simple regression)."""
    w = M.astype(float)
    n = w.sum(axis=1)
    with np.errstate(all="ignore"):
        xm = (w * x).sum(axis=1) / n
        ym = (w * np.where(M, Y, 0.0)).sum(axis=1) / n
        sxx = (w * (x - xm[:, None]) ** 2).sum(axis=1)
        sxy = (w * (x - xm[:, None]) * (np.where(M, Y, 0.0) - ym[:, None])).sum(axis=1)
        slope = sxy / sxx
    slope = np.where((n >= 2) & (sxx > 0), slope, np.nan)
    return slope, ym - slope * xm


def _frame(data, verb: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        frame = read_runs(data, required=("loss",)).frame
    for col in ("params", "loss"):
        if col not in frame:
            raise DataError(
                f"{verb}() needs a '{col}' column",
                column=col,
                kind="missing-column",
                hint=f"columns present: {list(frame.columns)}; map yours with read_runs(..., {col}='...')",
            )
    return frame


# ------------------------------------------------------------------------------ approach 1: envelope


def envelope(
    runs,
    *,
    grid: int = 250,
    interval: float | None = 0.9,
    n_resamples: int = 1000,
    seed: int = 0,
    cost=None,
    min_runs: int = 2,
    n_boot: int | None = None,
) -> Frontier:
    """Approach 1 of Hoffmann et al. (2022): the lower envelope of training curves.

    Each run's loss curve is interpolated (linearly in log C, log L) on a common grid of
    ``grid`` log-spaced compute values; at each compute the run with the lowest loss
    gives N*(C) and its tokens D*(C); power laws ``log N* = log k_N + a log C`` (and D*)
    are fitted by least squares over the grid points covered by at least ``min_runs``
    runs.  Intervals: percentiles over ``n_resamples`` bootstrap resamples of the runs
    (all resamples in one array operation; ``n_boot`` is its deprecated alias).

    Parameters
    ----------
    runs : RunsTable, DataFrame or path
        Checkpoints with ``run``, ``params``, ``tokens``, ``loss`` (and ``flops``; else 6ND).
        Several checkpoints per run; at least 3 distinct model sizes.
    grid : int
        Compute grid size (Hoffmann et al. used 1,500).
    cost : optional
        Compute of a checkpoint; default the ``flops`` column (6ND when absent).
    min_runs : int
        Grid points covered by fewer runs are left out of the power-law fit.

    Returns
    -------
    Frontier
        ``points`` holds the envelope (flops, params, tokens, loss, run).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rows = [(f"n{N:g}", N, D, 1.69 + 406.4 / N**0.34 + 410.7 / D**0.28)
    ...         for N in (1e7, 3e7, 1e8, 3e8, 1e9) for D in np.geomspace(1e8, 1e11, 16)]
    >>> curves = pd.DataFrame(rows, columns=["run", "params", "tokens", "loss"])
    >>> fr = envelope(curves, n_resamples=50)
    >>> 0.3 < fr.a < 0.6, fr.approach
    (True, 'envelope')
    """
    verb = "envelope"
    n_resamples = renamed(verb, "n_boot", "n_resamples", n_boot, n_resamples)
    check_int(grid, "grid", verb, minimum=10)
    check_int(n_resamples, "n_resamples", verb, minimum=10)
    check_int(min_runs, "min_runs", verb, minimum=1)
    if interval is not None:
        check_fraction(interval, "interval", verb)
    frame = read_runs(runs, required=("loss",)).frame
    if "tokens" not in frame or "params" not in frame:
        raise DataError(
            "envelope() needs 'params' and 'tokens' (or 'flops') columns",
            kind="missing-column",
            hint="map yours with read_runs(..., params='...', tokens='...')",
        )
    cm = resolve_cost(cost) if cost is not None else None
    C_all = (cm(frame["params"], frame["tokens"]) if cm is not None else frame["flops"]).to_numpy(dtype=float)
    frame = frame.assign(_C=C_all)
    groups = [g.sort_values("_C") for _, g in frame.groupby("run", sort=True)]
    groups = [g for g in groups if len(g) >= 2]
    if len(groups) < 2:
        raise DataError(
            "envelope() needs at least 2 runs with 2 or more checkpoints each (training curves)",
            kind="too-few-runs",
            hint="approach 1 uses whole loss curves; for final losses use isoflop() or parametric()",
        )
    sizes = np.array([float(g["params"].iloc[0]) for g in groups])
    if np.unique(sizes).size < 3:
        raise DataError(
            f"envelope() needs at least 3 distinct model sizes, got {np.unique(sizes).size}", kind="too-few-sizes"
        )
    logc_grid = np.linspace(np.log(frame["_C"].min()), np.log(frame["_C"].max()), grid)
    R = len(groups)
    logL = np.full((R, grid), np.inf)
    logD = np.full((R, grid), np.nan)
    for i, g in enumerate(groups):
        lc = np.log(g["_C"].to_numpy(dtype=float))
        inside = (logc_grid >= lc[0]) & (logc_grid <= lc[-1])
        logL[i, inside] = np.interp(logc_grid[inside], lc, np.log(g["loss"].to_numpy(dtype=float)))
        logD[i, inside] = np.interp(logc_grid[inside], lc, np.log(g["tokens"].to_numpy(dtype=float)))
    covered = np.isfinite(logL).sum(axis=0)
    use = covered >= min_runs
    if use.sum() < 3:
        raise DataError(
            f"fewer than 3 compute values are covered by {min_runs} or more runs",
            kind="too-few-points",
            hint="lower min_runs or give runs whose curves overlap in compute",
        )
    best = np.argmin(logL, axis=0)
    x = logc_grid / np.log(10)
    logN_env = np.log10(sizes[best])
    logD_env = logD[best, np.arange(grid)] / np.log(10)
    a, kN = _ols_batch(x, logN_env[None, :], use[None, :])
    b, kD = _ols_batch(x, logD_env[None, :], use[None, :])
    points = pd.DataFrame(
        {
            "flops": np.exp(logc_grid),
            "params": sizes[best],
            "tokens": 10**logD_env,
            "loss": np.exp(logL[best, np.arange(grid)]),
            "run": [str(groups[j]["run"].iloc[0]) for j in best],
            "n_runs": covered,
            "used": use,
        }
    )
    warns = []
    smallest, largest = sizes.min(), sizes.max()
    for label, val in (("smallest", smallest), ("largest", largest)):
        frac = float(np.mean(sizes[best][use] == val))
        if frac > 0.25:
            warns.append(
                f"the {label} model (N = {val:.3g}) is the envelope over {100 * frac:.0f}% of the fitted "
                f"compute range: the ladder does not bracket the optimum there, which biases a"
            )
    draws = None
    level = None
    if interval is not None:
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(R, np.full(R, 1.0 / R), size=n_resamples)  # (B, R) runs drawn
        chunk = max(1, int(2e7 // (R * grid)))  # bound the (chunk, R, G) working array
        parts = []
        for s0 in range(0, n_resamples, chunk):
            cnt = counts[s0 : s0 + chunk]
            masked = np.where(cnt[:, :, None] > 0, logL[None, :, :], np.inf)  # (b, R, G)
            bb = np.argmin(masked, axis=1)  # (b, G)
            ok = np.isfinite(np.take_along_axis(masked, bb[:, None, :], axis=1)[:, 0, :])
            Mb = ok & (np.isfinite(masked).sum(axis=1) >= min_runs)
            distinct = np.array([np.unique(sizes[bb[i][Mb[i]]]).size for i in range(len(cnt))])
            Mb &= (distinct >= 2)[:, None]
            logDb = np.take_along_axis(np.broadcast_to(logD[None], masked.shape), bb[:, None, :], axis=1)[:, 0, :]
            parts.append((*_ols_batch(x, np.log10(sizes[bb]), Mb), *_ols_batch(x, logDb / np.log(10), Mb)))
        aN, kNb, aD, kDb = (np.concatenate([p[i] for p in parts]) for i in range(4))
        draws = pd.DataFrame({"a": aN, "b": aD, "log10_kN": kNb, "log10_kD": kDb}).dropna()
        level = interval
    for w in warns:
        warnings.warn(w, IdentifiabilityWarning, stacklevel=2)
    return Frontier(
        approach="envelope",
        a=float(a[0]),
        b=float(b[0]),
        log10_kN=float(kN[0]),
        log10_kD=float(kD[0]),
        draws=draws,
        level=level,
        method="bootstrap over runs" if draws is not None else None,
        points=points,
        warnings=tuple(warns),
        source=f"{R} training curves, {np.unique(sizes).size} sizes",
        notes=(f"{int(use.sum())} of {grid} compute grid points covered by >= {min_runs} runs",),
    )


# ------------------------------------------------------------------------------ approach 2: isoFLOP profiles


@dataclass(frozen=True)
class IsoFLOPResult:
    """Approach 2: per-budget isoFLOP valleys and the frontiers fitted through their minima.

    Attributes
    ----------
    budgets : DataFrame
        One row per budget: ``budget``, ``n_points``, ``log10_range`` (decades of N swept),
        the parabola's ``params``/``tokens``/``loss`` minimum, ``curvature``, ``position``
        (where the minimum sits in the sweep, 0 = smallest N, 1 = largest), the VPNLS
        ``params_vpnls``/``tokens_vpnls`` at that budget, and ``flags``.
    frontiers : dict
        ``{"parabola": Frontier, "vpnls": Frontier}`` (those requested).
    warnings : tuple of str
    """

    budgets: pd.DataFrame
    frontiers: Mapping[str, Frontier]
    warnings: tuple[str, ...] = ()
    source: str = ""

    def __getitem__(self, estimator: str) -> Frontier:
        return self.frontiers[estimator]

    def estimates(self) -> pd.DataFrame:
        """One row per estimator: a, b and their intervals."""
        rows = []
        for name, fr in self.frontiers.items():
            (alo, ahi), (blo, bhi) = fr.interval("a"), fr.interval("b")
            rows.append(
                {
                    "estimator": name,
                    "a": fr.a,
                    "a_lower": alo,
                    "a_upper": ahi,
                    "b": fr.b,
                    "b_lower": blo,
                    "b_upper": bhi,
                    "n_draws": 0 if fr.draws is None else len(fr.draws),
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> PlanSummary:
        est = self.estimates()
        level = next((f.level for f in self.frontiers.values() if f.level), None)
        pct = f"{int(round(level * 100))}%" if level else "-"
        rows = [
            [r.estimator, r.a, f"{fmt(r.a_lower)}..{fmt(r.a_upper)}", r.b, f"{fmt(r.b_lower)}..{fmt(r.b_upper)}"]
            for r in est.itertuples()
        ]
        header = [
            ("data", self.source),
            ("budgets", ", ".join(f"{b:.3g}" for b in self.budgets["budget"])),
            (
                "estimators",
                "parabola: quadratic in log N per budget (Hoffmann et al. 2022); vpnls: variable "
                "projection over (alpha, beta) with E, A, B by non-negative least squares "
                "(Czech et al. 2026), a = beta/(alpha+beta)",
            ),
        ]
        return PlanSummary(
            title="IsoFLOP profiles (approach 2)",
            header=header,
            columns=["estimator", "a", f"a {pct}", "b", f"b {pct}"],
            rows=rows,
            warnings=self.warnings,
        )

    def __str__(self) -> str:
        return str(self.summary())

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "source": self.source,
                "budgets": self.budgets.to_dict(orient="records"),
                "frontiers": {k: f.to_dict() for k, f in self.frontiers.items()},
                "warnings": list(self.warnings),
            }
        )


def _snap_budgets(C: np.ndarray, tol: float = 1.3) -> np.ndarray:
    order = np.argsort(C)
    labels = np.empty(C.size)
    start = None
    for i in order:
        if start is None or C[i] > start * tol:
            start = C[i]
        labels[i] = start
    # label each group by its geometric mean
    out = labels.copy()
    for v in np.unique(labels):
        m = labels == v
        out[m] = float(np.exp(np.mean(np.log(C[m]))))
    return out


def _parabolas(x: np.ndarray, y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weighted quadratic fits y ~ c2 x^2 + c1 x + c0 for every weight row; returns (B, 3) [c2, c1, c0]."""
    X = np.column_stack([x**2, x, np.ones_like(x)])
    XtWX = np.einsum("ni,bn,nj->bij", X, W, X)
    XtWy = np.einsum("ni,bn,n->bi", X, W, y)
    XtWX = XtWX + 1e-12 * np.eye(3)
    try:
        return np.linalg.solve(XtWX, XtWy[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.stack([np.linalg.lstsq(A, v, rcond=None)[0] for A, v in zip(XtWX, XtWy)])


def isoflop(
    data,
    *,
    estimator: str = "both",
    budget: str | None = None,
    interval: float | None = 0.9,
    n_resamples: int = 1000,
    seed: int = 0,
    min_points: int = 4,
    off_centre: float = 0.15,
    shallow: float = 3.0,
    vpnls_loss: str = "squared",
    n_boot: int | None = None,
) -> IsoFLOPResult:
    """Approach 2 of Hoffmann et al. (2022): isoFLOP profiles and the power laws through their minima.

    Two estimators of the frontier:

    * ``"parabola"`` (the textbook method): per budget C, fit ``L = c2 x^2 + c1 x + c0`` with
      ``x = log10 N`` (and separately in log10 D), take the vertex as N*(C) (D*(C)),
      then fit ``log N* = log k_N + a log C``.  Biased when the valley is asymmetric
      (alpha != beta) or the sweep is off-centre (Czech et al. 2026, arXiv:2603.22339).
    * ``"vpnls"``: fit the surface ``L = E + A/N^alpha + B/D^beta`` (the default
      planning law) to all points by variable projection (E, A, B by non-negative
      least squares for each (alpha, beta) of a grid, then joint refinement; the core
      fitter with ``loss="squared", space="linear"``); the frontier is the law's own
      closed form (``a = beta/(alpha+beta)`` exactly), so the valley's shape is
      modelled instead of approximated.

    Budgets whose parabola minimum lies in the outer ``off_centre`` fraction of the
    sweep (or outside it) are flagged ``off-centre``; valleys whose rise over the
    sweep is below ``shallow`` residual standard deviations are flagged ``shallow``;
    both raise warnings.  Budgets with non-positive curvature or fewer than
    ``min_points`` distinct sizes are left out of the parabola fit.

    Parameters
    ----------
    data : DataFrame, RunsTable or path
        Points with ``params``, ``tokens``, ``loss`` and a budget column.
    estimator : {"both", "parabola", "vpnls"}
    budget : str, optional
        Column with each point's nominal budget; default ``"budget"`` if present, else
        ``flops`` (or 6ND) grouped within a factor 1.3.
    interval : float or None
    n_resamples : int
        Bootstrap resamples (points resampled within each budget; ``n_boot`` is its
        deprecated alias).
    vpnls_loss : {"squared", "huber"}
        Objective of the surface fit (squared on L, as in Czech et al.; or Huber on log L).

    Returns
    -------
    IsoFLOPResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rows = [(C, N, C / (6 * N), 1.69 + 406.4 / N**0.34 + 410.7 / (C / (6 * N))**0.28)
    ...         for C in (1e18, 1e19, 1e20) for N in np.geomspace(1e7, 1e10, 9)]
    >>> sweep = pd.DataFrame(rows, columns=["budget", "params", "tokens", "loss"])
    >>> r = isoflop(sweep, estimator="vpnls", interval=None)
    >>> round(r["vpnls"].a, 4)
    0.4516
    """
    verb = "isoflop"
    n_resamples = renamed(verb, "n_boot", "n_resamples", n_boot, n_resamples)
    check_options(estimator, "estimator", ("both", "parabola", "vpnls"), verb)
    check_options(vpnls_loss, "vpnls_loss", ("squared", "huber"), verb)
    check_int(n_resamples, "n_resamples", verb, minimum=10)
    check_int(min_points, "min_points", verb, minimum=3)
    if interval is not None:
        check_fraction(interval, "interval", verb)
    frame = _frame(data, verb).reset_index(drop=True)
    if "tokens" not in frame:
        if "flops" in frame:
            frame = frame.assign(tokens=frame["flops"] / (6 * frame["params"]))
        else:
            raise DataError("isoflop() needs 'tokens' (or 'flops')", column="tokens", kind="missing-column")
    bcol = budget or ("budget" if "budget" in frame else None)
    if bcol is not None:
        if bcol not in frame:
            raise DataError(
                f"isoflop(): no budget column '{bcol}'",
                column=bcol,
                kind="missing-column",
                hint=f"columns present: {list(frame.columns)}",
            )
        C = frame[bcol].to_numpy(dtype=float)
    else:
        raw = (
            frame["flops"].to_numpy(dtype=float)
            if "flops" in frame
            else 6 * frame["params"].to_numpy(dtype=float) * frame["tokens"].to_numpy(dtype=float)
        )
        C = _snap_budgets(raw)
    N = frame["params"].to_numpy(dtype=float)
    D = frame["tokens"].to_numpy(dtype=float)
    L = frame["loss"].to_numpy(dtype=float)
    if np.any(~np.isfinite(N + D + L + C)) or np.any((N <= 0) | (D <= 0) | (L <= 0) | (C <= 0)):
        raise DataError("isoflop(): params, tokens, loss and budget must be finite and > 0", kind="non-positive-value")
    budgets = np.unique(C)
    if budgets.size < 2:
        raise DataError(
            f"isoflop() needs at least 2 budgets, got {budgets.size}",
            kind="too-few-budgets",
            hint="give points at several compute budgets (a 'budget' column)",
        )
    rng = np.random.default_rng(seed)
    rows, warns = [], []
    boot_N, boot_D = [], []
    B = n_resamples if interval is not None else 0
    for c in budgets:
        m = C == c
        x, xd, y = np.log10(N[m]), np.log10(D[m]), L[m]
        row = {"budget": float(c), "n_points": int(m.sum()), "log10_range": float(np.ptp(x)), "flags": ""}
        flags = []
        if np.unique(x).size < min_points:
            flags.append("too-few-points")
            row.update(params=np.nan, tokens=np.nan, loss=np.nan, curvature=np.nan, position=np.nan)
        else:
            W1 = np.ones((1, x.size))
            c2, c1, c0 = _parabolas(x, y, W1)[0]
            d2, d1, _ = _parabolas(xd, y, W1)[0]
            if c2 <= 0 or d2 <= 0:
                flags.append("no-curvature")
                row.update(params=np.nan, tokens=np.nan, loss=np.nan, curvature=float(c2), position=np.nan)
            else:
                xs = -c1 / (2 * c2)
                pos = (xs - x.min()) / max(np.ptp(x), 1e-12)
                resid = y - (c2 * x**2 + c1 * x + c0)
                sd = float(np.sqrt(np.sum(resid**2) / max(x.size - 3, 1)))
                rise = c2 * max(xs - x.min(), x.max() - xs) ** 2
                row.update(
                    params=float(10**xs),
                    tokens=float(10 ** (-d1 / (2 * d2))),
                    loss=float(c0 - c1**2 / (4 * c2)),
                    curvature=float(c2),
                    position=float(pos),
                )
                if pos < off_centre or pos > 1 - off_centre:
                    flags.append("off-centre")
                if rise < shallow * sd:
                    flags.append("shallow")
        row["flags"] = ",".join(flags)
        rows.append(row)
        if B:
            W = rng.multinomial(x.size, np.full(x.size, 1.0 / x.size), size=B).astype(float)
            if "too-few-points" in flags or "no-curvature" in flags:
                boot_N.append(np.full(B, np.nan))
                boot_D.append(np.full(B, np.nan))
            else:
                cN = _parabolas(x, y, W)
                cD = _parabolas(xd, y, W)
                okb = (cN[:, 0] > 0) & (cD[:, 0] > 0) & ((W > 0).sum(axis=1) >= 3)
                boot_N.append(np.where(okb, -cN[:, 1] / (2 * cN[:, 0]), np.nan))
                boot_D.append(np.where(okb, -cD[:, 1] / (2 * cD[:, 0]), np.nan))
    table = pd.DataFrame(rows)
    for kind, what in (
        (
            "off-centre",
            "the sweep is off-centre (the minimum sits near or beyond its edge); the "
            "parabola vertex is an extrapolation and biases N*",
        ),
        (
            "shallow",
            "the valley is too shallow for the noise (its rise over the sweep is below "
            f"{shallow:g} residual SDs): the minimum is poorly located",
        ),
        ("no-curvature", "the fitted parabola opens downwards: no minimum (left out)"),
        ("too-few-points", f"fewer than {min_points} distinct sizes (left out)"),
    ):
        hit = table.loc[table["flags"].str.contains(kind), "budget"]
        if len(hit):
            msg = f"{len(hit)} budget(s) ({', '.join(f'{b:.3g}' for b in hit)}): {what}"
            warns.append(msg)
            warnings.warn(msg, ExtrapolationWarning if kind == "off-centre" else IdentifiabilityWarning, stacklevel=2)
    frontiers: dict[str, Frontier] = {}
    lc = np.log10(budgets)
    src = f"{len(frame)} points, {budgets.size} budgets ({budgets.min():.3g}..{budgets.max():.3g} FLOPs)"
    if estimator in ("both", "parabola"):
        good = table["params"].notna().to_numpy()
        if good.sum() < 2:
            raise PlanError(
                "isoflop(): fewer than 2 budgets have a usable parabola (positive curvature, enough points)",
                hint="sweep more model sizes per budget, or use estimator='vpnls'",
            )
        lN = np.log10(table["params"].to_numpy(dtype=float))
        lD = np.log10(table["tokens"].to_numpy(dtype=float))
        a, kN = _ols_batch(lc, lN[None, :], good[None, :])
        b, kD = _ols_batch(lc, lD[None, :], good[None, :])
        draws = None
        if B:
            bN, bD = np.column_stack(boot_N), np.column_stack(boot_D)  # (B, budgets)
            Mb = np.isfinite(bN) & np.isfinite(bD) & good[None, :]
            ab, kNb = _ols_batch(lc, bN, Mb)
            bb, kDb = _ols_batch(lc, bD, Mb)
            draws = pd.DataFrame({"a": ab, "b": bb, "log10_kN": kNb, "log10_kD": kDb}).dropna()
        frontiers["parabola"] = Frontier(
            approach="isoflop-parabola",
            a=float(a[0]),
            b=float(b[0]),
            log10_kN=float(kN[0]),
            log10_kD=float(kD[0]),
            draws=draws,
            level=interval if draws is not None else None,
            method="bootstrap over points within budgets" if draws is not None else None,
            points=table[["budget", "params", "tokens", "loss", "flags"]],
            warnings=tuple(warns),
            source=src,
            notes=(f"{int(good.sum())} of {budgets.size} budgets used",),
        )
    if estimator in ("both", "vpnls"):
        frontiers["vpnls"] = _vpnls(frame.assign(_budget=C), budgets, interval, n_resamples, seed, vpnls_loss, src)
        vp = frontiers["vpnls"]
        table["params_vpnls"] = 10 ** (vp.log10_kN + vp.a * lc)
        table["tokens_vpnls"] = 10 ** (vp.log10_kD + vp.b * lc)
    return IsoFLOPResult(budgets=table, frontiers=frontiers, warnings=tuple(warns), source=src)


def _closed_form_frontier(pm: PlanModel, P: Mapping[str, np.ndarray], C_ref: float) -> tuple[np.ndarray, np.ndarray]:
    """Exponent a and intercept log10 k_N of ``N* = k_N C^a`` (C in FLOPs, C = 6ND) from the law's
    own closed-form allocation, for every parameter draw in ``P``.

    The tangent in log-log is taken at ``C_ref``; for closed forms that are power laws in C
    (Chinchilla: N* = G (C/6)^(beta/(alpha+beta))) it does not matter where.
    """
    opt = pm.law.compute_optimum(P, C_ref, CostModel().coef)
    a = np.asarray(opt.exponent, dtype=float)
    with np.errstate(all="ignore"):
        log10_kN = np.log10(opt.params) - a * math.log10(C_ref)
    return a, log10_kN


def _frontier_draws(a: np.ndarray, log10_kN: np.ndarray) -> pd.DataFrame:
    return (
        pd.DataFrame({"a": a, "b": 1 - a, "log10_kN": log10_kN, "log10_kD": -math.log10(6.0) - log10_kN})
        .replace([np.inf, -np.inf], np.nan)
        .dropna()
    )


def _reference_compute(pm: PlanModel) -> float:
    """Geometric centre of the fitted compute range (1 FLOP when unknown)."""
    if pm.fitted_compute is None:
        return 1.0
    return float(math.sqrt(pm.fitted_compute[0] * pm.fitted_compute[1]))


def _vpnls(frame: pd.DataFrame, budgets, interval, n_resamples, seed, loss, src) -> Frontier:
    runs = pd.DataFrame(
        {
            "run": [f"p{i}" for i in range(len(frame))],
            "params": frame["params"].to_numpy(float),
            "tokens": frame["tokens"].to_numpy(float),
            "loss": frame["loss"].to_numpy(float),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        space = "linear" if loss == "squared" else "log"
        f = fit_law(runs, DEFAULT_LAW, loss=loss, space=space)
    pm = resolve_model(f)
    C_ref = _reference_compute(pm)
    a, log10_kN = (float(v[0]) for v in _closed_form_frontier(pm, pm.stacked(None), C_ref))
    draws = None
    if interval is not None:
        d = sample_params(f, n_resamples, method="bootstrap", seed=seed, by="point")
        draws = _frontier_draws(*_closed_form_frontier(pm, {p: d[p].to_numpy(float) for p in f.law.params}, C_ref))
    diag = tuple(d.message for d in f.diagnostics)
    shape = ", ".join(f"{k}={f.params[k]:.4g}" for k in list(f.params)[:1] + list(f.law.nonlinear))
    return Frontier(
        approach="isoflop-vpnls",
        a=a,
        b=1 - a,
        log10_kN=log10_kN,
        log10_kD=-math.log10(6.0) - log10_kN,
        draws=draws,
        level=interval if draws is not None else None,
        method="bootstrap over points" if draws is not None else None,
        points=pd.DataFrame({"budget": budgets}),
        warnings=diag,
        source=src,
        fit=f,
        notes=(f"surface fit: {shape} ({loss} loss on {'L' if loss == 'squared' else 'log L'})",),
    )


# ------------------------------------------------------------------------------ approach 3: parametric


def _require_closed_form(lw: Law) -> None:
    if not lw.has_allocation:
        raise PlanError(
            f"parametric(): law '{lw.name}' has no closed-form compute-optimal allocation",
            hint=f"minimise it numerically with compute_optimal(scalinglab.fit(data, '{lw.name}'), "
            "flops=...), or give the law one with define_law(..., allocation=func)",
        )


def parametric(
    data,
    *,
    law: str | Law = DEFAULT_LAW,
    interval: float | None = 0.9,
    method: str = "bootstrap",
    n_resamples: int = 1000,
    seed: int = 0,
    n_draws: int | None = None,
    **fit_options,
) -> Frontier:
    """Approach 3 of Hoffmann et al. (2022): fit a parametric law, then use its closed-form allocation.

    The fit is :func:`scalinglab.fit` (Huber on log L, variable projection and batched
    Levenberg-Marquardt); the frontier ``N* = k_N C^a`` (C = 6ND) comes from the law's own
    allocation hook (:meth:`~scalinglab.laws.Law.compute_optimum`).  For the default
    Chinchilla law that is ``N* = G (C/6)^a``, ``a = beta/(alpha+beta)``,
    ``G = (alpha A/(beta B))^(1/(alpha+beta))``.  Laws without a closed form: use
    :func:`compute_optimal` on the fit.

    Parameters
    ----------
    data : RunsTable, DataFrame, path or Fit
    law : str or Law
        A law with an ``allocation`` hook and inputs ``params`` and ``tokens``.
    interval, method, n_resamples, seed
        Intervals from parameter draws (bootstrap over runs by default; ``n_draws`` is the
        deprecated alias of ``n_resamples``).
    **fit_options
        Passed to :func:`scalinglab.fit` (``loss=``, ``delta=``...).

    Returns
    -------
    Frontier
        With the fit in ``.fit``.

    Raises
    ------
    PlanError
        The law has no closed-form allocation, or its inputs are not N and D.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> N = np.repeat([1e7, 3e7, 1e8, 3e8, 1e9], 4); D = np.tile([1e9, 3e9, 1e10, 3e10], 5)
    >>> runs = pd.DataFrame({"params": N, "tokens": D, "loss": 1.69 + 406.4 / N**0.34 + 410.7 / D**0.28})
    >>> fr = parametric(runs, interval=None)
    >>> round(fr.a, 4), fr.source
    (0.4516, "fit of 'chinchilla' to 20 points")
    """
    verb = "parametric"
    n_resamples = renamed(verb, "n_draws", "n_resamples", n_draws, n_resamples)
    if interval is not None:
        check_fraction(interval, "interval", verb)
    check_int(n_resamples, "n_resamples", verb, minimum=10)
    if isinstance(data, Fit):
        f = data
        _require_closed_form(f.law)
    else:
        lw = get_law(law)
        _require_closed_form(lw)
        f = fit_law(data, lw, **fit_options)
    pm = resolve_model(f)
    if not has_closed_form(pm, CostModel()):
        raise PlanError(
            f"{verb}(): law '{f.law.name}' is fitted with inputs {dict(f.columns)}; its closed form "
            "needs the parameter count ('params') and training tokens ('tokens')",
            hint="fit the law with x={'N': 'params', 'D': 'tokens'}, or use compute_optimal()",
        )
    P = pm.stacked(None)
    draws = None
    if interval is not None:
        samples, used = pm.sample(n_resamples, method, seed)
        P = pm.stacked(samples)
    a, kN = _closed_form_frontier(pm, P, _reference_compute(pm))
    if interval is not None:
        draws = _frontier_draws(a[1:], kN[1:])
    return Frontier(
        approach="parametric",
        a=float(a[0]),
        b=float(1 - a[0]),
        log10_kN=float(kN[0]),
        log10_kD=float(-math.log10(6.0) - kN[0]),
        draws=draws,
        level=interval if draws is not None else None,
        method=(method if method != "bootstrap" else "bootstrap over runs") if draws is not None else None,
        points=f.data,
        warnings=tuple(d.message for d in f.diagnostics),
        source=f"fit of '{f.law.name}' to {f.n_points} points",
        fit=f,
        notes=(", ".join(f"{k}={v:.4g}" for k, v in f.params.items()),),
    )
