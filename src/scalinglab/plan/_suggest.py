"""Which runs to train next: designs scored by the bootstrap interval they buy at a target (N, D)."""

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
from scalinglab.errors import DataError, FitError, InvalidParameterError, PlanError
from scalinglab.fit import fit as fit_law
from scalinglab.plan._cost import resolve_cost
from scalinglab.plan._deprecated import renamed
from scalinglab.plan._model import DEFAULT_LAW, resolve_model
from scalinglab.plan._report import PlanSummary, jsonable

__all__ = ["Suggestion", "candidate_grid", "design_variance", "suggest"]


@dataclass(frozen=True)
class Suggestion:
    """Proposed runs, cheapest first, and the interval at the target they are expected to buy.

    Attributes
    ----------
    runs : DataFrame
        ``params``, ``tokens``, ``tokens_per_param``, ``flops`` and ``width_after``: the expected
        relative width (``upper/lower - 1``) of the run-bootstrap ``level`` interval at the target
        once this run and the ones above it are trained.
    target : dict
        ``{"params": N, "tokens": D}``.
    budget, spent : float
        Compute allowed and used by the proposed runs (FLOPs).
    width_before, width_after : float
        Expected interval width at the target from the existing runs, and with the proposals.
    level : float
    law : str
    fit : Fit
        The fit to the existing runs the design is based on.
    notes : tuple of str
    designs : DataFrame
        Every design compared, best first: ``expected_width``, ``rmse_log``, ``coverage`` and
        ``interval_score`` (the selection criterion).
    expected_rmse, expected_coverage : float
        Simulated root-mean-square log error of the point prediction and coverage of the interval
        with the proposals.
    """

    runs: pd.DataFrame
    target: dict[str, float]
    budget: float
    spent: float
    width_before: float
    width_after: float
    level: float
    law: str
    fit: Any = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    designs: pd.DataFrame = field(default_factory=pd.DataFrame)
    expected_rmse: float = math.nan
    expected_coverage: float = math.nan

    def summary(self) -> PlanSummary:
        pct = int(round(self.level * 100))
        header = [
            ("law", self.law),
            ("target", f"N = {self.target['params']:.4g}, D = {self.target['tokens']:.4g}"),
            (
                "budget",
                f"{self.budget:.4g} FLOPs; proposals use {self.spent:.4g} ({100 * self.spent / self.budget:.0f}%)",
            ),
            (
                "interval",
                f"expected {pct}% run-bootstrap interval at the target: {100 * self.width_before:.1f}% "
                f"of the loss now -> {100 * self.width_after:.1f}% with these runs",
            ),
        ]
        header += [("note", n) for n in self.notes]
        cols = ["#", "params", "tokens", "tokens_per_param", "flops", f"width after ({pct}%)"]
        if not self.helps:
            header.append(
                (
                    "verdict",
                    f"no proposal helps: the best design within the budget leaves the expected "
                    f"interval at {100 * self.width_after:.1f}% (now {100 * self.width_before:.1f}%)"
                    "; no run is proposed. Raise the budget, move the target closer to the "
                    "existing runs, or give other candidates",
                )
            )
            return PlanSummary(title="Suggested next runs: none", header=header, columns=cols, rows=[])
        header.append(
            (
                "columns",
                f"one row per proposed run, cheapest first; 'width after' is the expected "
                f"{pct}% interval width at the target (upper/lower - 1) once that run and the rows "
                "above it are trained; the runs were chosen as a set, so a prefix of the list is "
                "not itself an optimised design and the width need not fall row by row",
            )
        )
        rows = [
            [i + 1, r.params, r.tokens, r.tokens_per_param, r.flops, f"{100 * r.width_after:.1f}%"]
            for i, r in enumerate(self.runs.itertuples())
        ]
        return PlanSummary(title="Suggested next runs", header=header, columns=cols, rows=rows)

    #: The proposals must shrink the expected interval by at least this fraction to count as help.
    MIN_GAIN = 0.01

    @property
    def helps(self) -> bool:
        """Whether the proposed runs shrink the expected interval at the target (by >= 1% of its width)."""
        return (
            len(self.runs) > 0
            and math.isfinite(self.width_after)
            and math.isfinite(self.width_before)
            and self.width_after < (1 - self.MIN_GAIN) * self.width_before
        )

    def __str__(self) -> str:
        return str(self.summary())

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "target": self.target,
                "budget": self.budget,
                "spent": self.spent,
                "width_before": self.width_before,
                "width_after": self.width_after,
                "level": self.level,
                "helps": self.helps,
                "expected_rmse_log": self.expected_rmse,
                "expected_coverage": self.expected_coverage,
                "law": self.law,
                "runs": self.runs.to_dict(orient="records"),
                "designs": self.designs.to_dict(orient="records"),
                "notes": list(self.notes),
            }
        )


_CRITERIA = {"interval_score": "interval_score", "width": "expected_width", "rmse": "rmse_log"}


def candidate_grid(
    existing_params,
    budget: float,
    target_params: float,
    *,
    n_sizes: int = 12,
    ratios=(5, 10, 20, 40, 80, 160, 320),
    cost=None,
) -> pd.DataFrame:
    """Default candidates: log-spaced sizes from the smallest existing run to the target size,
    each at several tokens-per-parameter ratios, keeping runs that fit in ``budget``.
    """
    cm = resolve_cost(cost)
    lo = float(np.min(existing_params))
    hi = float(target_params)
    if hi <= lo:
        hi = lo * 10
    N = np.geomspace(lo, hi, n_sizes)
    rows = [(n, r * n) for n in N for r in ratios]
    out = pd.DataFrame(rows, columns=["params", "tokens"])
    out["flops"] = cm(out["params"].to_numpy(), out["tokens"].to_numpy())
    return out[out["flops"] <= budget].reset_index(drop=True)


def _log_jacobian(law, names, is_log, theta: np.ndarray, fixed: Mapping[str, float], X: Mapping[str, np.ndarray]):
    """d log f(x_i) / d u_j for internal coordinates u (log for log-scaled params); (K, n, P) for K draws."""
    K, P = theta.shape
    u = np.where(is_log, np.log(np.where(is_log, theta, 1.0)), theta)
    n = len(next(iter(X.values())))
    J = np.empty((K, n, P))

    def logf(uu):
        th = np.where(is_log, np.exp(np.where(is_log, uu, 0.0)), uu)
        params = {p: th[:, i : i + 1] for i, p in enumerate(names)}
        params.update({p: np.full((K, 1), v) for p, v in fixed.items()})
        return np.log(np.broadcast_to(law.evaluate(X, params), (K, n)))

    h = 1e-5 * np.maximum(1.0, np.abs(u))
    for j in range(P):
        up, dn = u.copy(), u.copy()
        up[:, j] += h[:, j]
        dn[:, j] -= h[:, j]
        J[:, :, j] = (logf(up) - logf(dn)) / (2 * h[:, j : j + 1])
    return J


def _column_scale(J: np.ndarray) -> np.ndarray:
    """Root-mean-square of each parameter's column of ``J`` (K, n, P) -> (K, P), zeros replaced by 1."""
    c = np.sqrt(np.mean(J**2, axis=1))
    return np.where(c > 0, c, 1.0)


def _greedy(Minv, Jc, g, var0, flops, budget, max_runs, per_flop, available):
    """Greedy selection (indices into the candidates, each at most once) and the final variances (K,).

    ``available`` masks out candidates already trained: repeating a configuration is a seed
    replicate, whose noise is not independent of the first run's in practice.
    """
    Minv = Minv.copy()
    var = var0.copy()
    remaining = budget
    available = np.array(available, dtype=bool)
    order = []
    for _ in range(max_runs):
        afford = available & (flops <= remaining * (1 + 1e-9))
        if not afford.any():
            break
        Mj = np.einsum("kij,kmj->kmi", Minv, Jc)  # (K, m, P)
        gMj = np.einsum("ki,kmi->km", g, Mj)  # (K, m)
        jMj = np.einsum("kmi,kmi->km", Jc, Mj)  # (K, m)
        reduction = (gMj**2 / (1.0 + jMj)) / var[:, None]  # relative reduction per draw
        gain = reduction.mean(axis=0)
        score = np.where(afford, gain / flops if per_flop else gain, -np.inf)
        best = int(np.argmax(score))
        if not np.isfinite(score[best]) or gain[best] < 1e-4:
            break
        v = Mj[:, best, :]
        Minv = Minv - np.einsum("ki,kj->kij", v, v) / (1.0 + jMj[:, best])[:, None, None]
        var = np.einsum("ki,kij,kj->k", g, Minv, g)
        remaining -= flops[best]
        available[best] = False
        order.append(best)
    return order, var


def _ladder_designs(lo_params: float, target: Mapping[str, float], budget: float, cost, max_runs: int) -> list:
    """Log-spaced ladders at the target's tokens per parameter (and x/÷ 2), each costing the whole budget."""
    r_t = target["tokens"] / target["params"]
    out = []
    for k in sorted({2, 3, 4, 6, max_runs} - {0}):
        if k > max_runs:
            continue
        for span in (2.0, 4.0, 8.0, 16.0):
            for ratio in (r_t / 2, r_t, 2 * r_t):
                q = np.geomspace(1.0, span, k)
                # cost(N, ratio N) is increasing in N: scale the ladder so that it costs the budget
                lo, hi = math.log(1e-3), math.log(1e18)
                for _ in range(80):
                    mid = 0.5 * (lo + hi)
                    total = float(np.sum(cost(math.exp(mid) * q, ratio * math.exp(mid) * q)))
                    lo, hi = (mid, hi) if total < budget else (lo, mid)
                N = math.exp(lo) * q
                if N[0] < lo_params or N[-1] > target["params"]:
                    continue
                out.append(
                    (f"ladder k={k} span={span:g} D/N={ratio:.3g}", pd.DataFrame({"params": N, "tokens": ratio * N}))
                )
    return out


def _bootstrap_scores(
    J0, design_jacobians, g, groups0, *, sigma: float, level: float, n_resamples: int, seed: int
) -> pd.DataFrame:
    """Simulated run-bootstrap interval at the target for each design, in the linearised model.

    ``J0`` (S, n0, P): Jacobian of log f over the existing runs at S simulated true parameter
    vectors; ``design_jacobians``: per design (S, k, P) over its new runs; ``g`` (S, P): gradient
    of log f at the target; ``groups0``: run label of each existing row.  With the linearised
    law ``log y = J theta + eps`` (eps ~ N(0, sigma^2) per run, common to all designs), the
    full-data estimate is ``(J^T J)^-1 J^T eps`` and bootstrap resample ``b`` (run counts
    ``W_b``) gives ``(J^T W_b J)^-1 J^T W_b eps``: the exact pairs bootstrap of the linearised
    fit, so a design whose extrapolation rests on one run pays for the resamples without it.
    Returns per design the mean relative width of the percentile interval, the root-mean-square
    log error of the point prediction, the coverage of the truth and the mean interval score
    (Gneiting & Raftery 2007: width + 2/alpha x miss, in log units).
    """
    S, n0, P = J0.shape
    kmax = max([J.shape[1] for J in design_jacobians] + [0])
    # common random numbers: the noise of existing run i and of the j-th new run is the same in every design
    rng = np.random.default_rng(seed)
    eps = np.concatenate([rng.normal(0.0, 1.0, (S, n0)), rng.normal(0.0, 1.0, (kmax, S)).T], axis=1)
    _, unit0 = np.unique(np.asarray(groups0), return_inverse=True)
    G0 = int(unit0.max()) + 1 if n0 else 0
    alpha = 1.0 - level
    rows = []
    for Jd in design_jacobians:
        k = Jd.shape[1]
        J = np.concatenate([J0, Jd], axis=1)  # (S, n, P)
        e = eps[:, : n0 + k]
        units = np.concatenate([unit0, G0 + np.arange(k)]).astype(int)
        G = G0 + k
        brng = np.random.default_rng(seed + 1)  # same resample stream for every design
        W = brng.multinomial(G, np.full(G, 1.0 / G), size=n_resamples)[:, units].astype(float)  # (B, n)
        Jt = np.swapaxes(J, 1, 2)  # (S, P, n)
        ridge = 1e-10 * np.eye(P)
        M = Jt @ J
        M = M + ridge * np.einsum("sii->s", M)[:, None, None]
        est = np.einsum("sp,sp->s", g, np.linalg.solve(M, (Jt @ e[..., None]))[..., 0])
        JtW = Jt[:, None, :, :] * W[None, :, None, :]  # (S, B, P, n)
        Mb = JtW @ J[:, None]  # (S, B, P, P)
        Mb = Mb + ridge * np.einsum("sbii->sb", Mb)[..., None, None]
        rb = JtW @ e[:, None, :, None]  # (S, B, P, 1)
        with np.errstate(all="ignore"):
            tb = np.linalg.solve(Mb, rb)[..., 0]
        delta = np.einsum("sbp,sp->sb", tb, g)
        lo, hi = np.nanquantile(delta, [alpha / 2, 1 - alpha / 2], axis=1)
        miss = np.maximum(lo, 0.0) + np.maximum(-hi, 0.0)
        rows.append(
            {
                "expected_width": float(np.mean(np.expm1(sigma * (hi - lo)))),
                "rmse_log": float(sigma * np.sqrt(np.mean(est**2))),
                "coverage": float(np.mean((lo <= 0) & (0 <= hi))),
                "interval_score": float(sigma * np.mean(hi - lo + 2.0 / alpha * miss)),
            }
        )
    return pd.DataFrame(rows)


def design_variance(fit, runs: pd.DataFrame, target: Mapping[str, float], *, theta: np.ndarray | None = None):
    """Linearised variance of log L at the target (in units of the residual variance) for a design.

    ``runs`` holds the fitted inputs of every run in the design (existing plus new);
    returns (K,) for K parameter vectors ``theta`` (default: the fit's estimate).
    """
    problem = fit.problem()
    names = problem.names
    if theta is None:
        theta = np.array([[fit.params[p] for p in names]])
    X = {s: runs[c].to_numpy(dtype=float) for s, c in fit.columns.items()}
    Xt = {s: np.atleast_1d(float(target[c])) for s, c in fit.columns.items()}
    J = _log_jacobian(fit.law, names, problem.is_log, theta, problem.fixed, X)
    g = _log_jacobian(fit.law, names, problem.is_log, theta, problem.fixed, Xt)[:, 0, :]
    scale = _column_scale(J)
    J, g = J / scale[:, None, :], g / scale
    M = np.einsum("kni,knj->kij", J, J)
    M = M + 1e-10 * np.einsum("kii->k", M)[:, None, None] * np.eye(len(names))
    return np.einsum("ki,ki->k", g, np.linalg.solve(M, g[..., None])[..., 0])


def suggest(
    runs,
    law=DEFAULT_LAW,
    *,
    target: Mapping[str, float],
    budget: float,
    candidates=None,
    fit=None,
    interval: float = 0.9,
    n_draws: int = 32,
    method: str = "bootstrap",
    seed: int = 0,
    max_runs: int = 8,
    n_sims: int = 128,
    n_resamples: int = 200,
    criterion: str = "interval_score",
    cost=None,
    n_boot: int | None = None,
    **fit_options,
) -> Suggestion:
    """Propose the next runs that most shrink the prediction interval at a target (N, D), within a budget.

    Two stages.  (1) Candidate designs: greedy sequential c-optimal designs (Elfving
    1952; Atkinson & Donev 1992) on the linearised law -- with ``J`` the Jacobian of
    ``log f`` over the runs and ``g`` its gradient at the target, the variance of the
    predicted log loss is ``s^2 g^T (J^T J)^-1 g``; each step adds the candidate run with
    the largest reduction (per FLOP, or per run: both are kept, Krause & Guestrin
    2005), averaged over ``n_draws`` parameter draws of the current fit -- plus
    log-spaced ladders that spend the budget (2-8 sizes, spans 2-16x, at the target's
    tokens per parameter and x/÷2).  (2) Selection by the interval the user will get:
    for ``n_sims`` true parameter vectors drawn from the fit's uncertainty and common
    simulated run noise, each design's run bootstrap (``n_resamples`` resamples of whole
    runs, percentile ``interval``) of the linearised refit is computed exactly, and the
    design with the smallest mean interval score at the target (width plus
    2/(1 - interval) x the distance by which the truth falls outside; Gneiting &
    Raftery 2007) is proposed.  Scoring the bootstrap interval rather than the
    first-order variance matters: a design whose extrapolation rests on one large run
    has a small delta-method variance but a wide bootstrap interval, because a third
    of the resamples leave that run out.

    Parameters
    ----------
    runs : RunsTable, DataFrame or path
        Existing runs (one row per run: final checkpoints).
    law : str or Law
        Law to fit (ignored when ``fit`` is given).
    target : mapping
        ``{"params": N, "tokens": D}`` where the prediction matters.
    budget : float
        FLOPs available for the new runs (cost 6ND per run by default).
    candidates : DataFrame, optional
        ``params``, ``tokens`` of allowed runs; default :func:`candidate_grid`.
    fit : Fit, optional
        An existing fit of ``runs`` (skips fitting).
    interval : float
        Level of the interval the designs are scored on.
    n_draws : int
        Parameter vectors the designs are built and scored over: the estimate plus
        ``n_draws - 1`` draws of the current fit (1 = locally optimal at the estimate).
    max_runs : int
        Cap on the number of proposed runs.
    n_sims, n_resamples : int
        Simulated datasets per design, and bootstrap resamples per simulated dataset
        (``n_boot`` is the deprecated alias of ``n_resamples``).
    criterion : {"interval_score", "width", "rmse"}
        What the proposal minimises: the expected interval score (default), the expected
        interval width, or the root-mean-square log error of the point prediction.

    Returns
    -------
    Suggestion

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> N = np.repeat([1e7, 2e7, 4e7, 8e7], 3); D = np.tile([2e8, 8e8, 3.2e9], 4)
    >>> loss = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(rng.normal(0, 0.005, N.size))
    >>> runs = pd.DataFrame({"params": N, "tokens": D, "loss": loss})
    >>> s = suggest(runs, target={"params": 1e9, "tokens": 2e10}, budget=1e18, n_draws=1, n_sims=8, n_resamples=20)
    >>> bool(0 < s.spent <= 1e18), bool(s.width_after < s.width_before)
    (True, True)
    """
    verb = "suggest"
    n_resamples = renamed(verb, "n_boot", "n_resamples", n_boot, n_resamples)
    check_fraction(interval, "interval", verb)
    check_int(n_draws, "n_draws", verb, minimum=1)
    check_int(max_runs, "max_runs", verb, minimum=1)
    check_int(n_sims, "n_sims", verb, minimum=8)
    check_int(n_resamples, "n_resamples", verb, minimum=20)
    check_options(method, "method", ("bootstrap", "delta"), verb)
    check_options(criterion, "criterion", _CRITERIA, verb)
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget > 0):
        raise InvalidParameterError(f"{verb}(): 'budget' must be a number of FLOPs > 0; got {budget!r}")
    cm = resolve_cost(cost)
    if fit is None:
        table = read_runs(runs, required=("loss",))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_law(table, law, **fit_options)
    pm = resolve_model(fit)
    pm.require_allocation(verb)
    ncol, dcol = fit.columns[pm.roles["params"]], fit.columns[pm.roles["tokens"]]
    tgt = {}
    for key, col in (("params", ncol), ("tokens", dcol)):
        v = target.get(key, target.get(col, target.get(pm.roles[key])))
        if v is None or not (float(v) > 0):
            raise InvalidParameterError(
                f"{verb}(): target needs '{key}' > 0 (e.g. target={{'params': 7e9, "
                f"'tokens': 1.4e11}}); got {dict(target)}"
            )
        tgt[key] = float(v)
    existing = fit.data[[ncol, dcol]].rename(columns={ncol: "params", dcol: "tokens"})
    groups0 = fit.data["run"].to_numpy() if "run" in fit.data else np.arange(len(existing))
    if candidates is None:
        cand = candidate_grid(existing["params"], budget, tgt["params"], cost=cm)
    else:
        cand = pd.DataFrame(candidates)
        for col in ("params", "tokens"):
            if col not in cand:
                raise DataError(f"{verb}(): candidates need a '{col}' column", column=col, kind="missing-column")
        cand = cand[["params", "tokens"]].astype(float).reset_index(drop=True)
        if np.any(~(cand.to_numpy() > 0)):
            raise DataError(f"{verb}(): candidate params and tokens must be > 0", kind="non-positive-value")
        cand["flops"] = cm(cand["params"].to_numpy(), cand["tokens"].to_numpy())
        cand = cand[cand["flops"] <= budget].reset_index(drop=True)
    if cand.empty:
        raise PlanError(
            f"{verb}: no candidate run fits in the budget of {budget:.3g} FLOPs",
            hint="raise the budget or give smaller candidates",
        )
    # parameter vectors the designs are built and scored over (the estimate first)
    problem = fit.problem()
    names = problem.names
    point = np.array([[fit.params[p] for p in names]])
    used = "point estimate only"
    theta = point
    if n_draws > 1:
        for m in dict.fromkeys((method, "delta")):  # a failed bootstrap (tiny ladders) falls back to delta
            try:
                samples, used = pm.sample(n_draws - 1, m, seed)
            except FitError:
                continue
            theta = np.vstack([point, np.column_stack([samples[p] for p in names])])
            break
    cols = {pm.roles["params"]: "params", pm.roles["tokens"]: "tokens"}

    def jac(frame):
        return _log_jacobian(
            fit.law,
            names,
            problem.is_log,
            theta,
            problem.fixed,
            {s: frame[cols[s]].to_numpy(dtype=float) for s in fit.columns},
        )

    J0, Jc = jac(existing), jac(cand)  # (K, n, P), (K, m, P)
    g = jac(pd.DataFrame({"params": [tgt["params"]], "tokens": [tgt["tokens"]]}))[:, 0, :]  # (K, P)
    good = np.all(np.isfinite(J0), axis=(1, 2)) & np.all(np.isfinite(Jc), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
    if not good[0]:
        raise PlanError(
            f"{verb}: the fitted law has non-finite sensitivities at the existing runs, candidates or target",
            hint="check the fit (parameters at bounds?) and the units of the target",
        )
    theta, J0, Jc, g = theta[good], J0[good], Jc[good], g[good]
    # rescale each parameter so its column of J0 has unit RMS: the prediction variance is invariant, and
    # parameters of very different magnitude (A ~ 1e3 next to alpha ~ 0.3) no longer make J^T J ill-scaled
    scale = _column_scale(J0)
    J0, Jc, g = J0 / scale[:, None, :], Jc / scale[:, None, :], g / scale
    P = len(names)
    M = np.einsum("kni,knj->kij", J0, J0)
    M = M + 1e-10 * np.einsum("kii->k", M)[:, None, None] * np.eye(P)
    Minv = np.linalg.inv(M)
    var0 = np.einsum("ki,kij,kj->k", g, Minv, g)
    flops = cand["flops"].to_numpy(dtype=float)
    trained = np.log(existing[["params", "tokens"]].to_numpy(dtype=float))
    fresh = ~np.any(
        np.all(
            np.abs(np.log(cand[["params", "tokens"]].to_numpy(dtype=float))[:, None, :] - trained[None, :, :]) < 1e-6,
            axis=2,
        ),
        axis=1,
    )
    designs = []
    for per_flop, label in ((True, "greedy c-optimal, per FLOP"), (False, "greedy c-optimal, per run")):
        order, _ = _greedy(Minv, Jc, g, var0, flops, float(budget), max_runs, per_flop, fresh)
        if order:
            designs.append((label, cand.iloc[order][["params", "tokens"]].reset_index(drop=True)))
    if candidates is None:
        designs += _ladder_designs(float(existing["params"].min()), tgt, float(budget), cm, max_runs)
    if not designs:
        raise PlanError(
            f"{verb}: no candidate reduces the predicted interval at the target",
            hint="give candidates closer to the target or a larger budget",
        )
    for i, (label, d) in enumerate(designs):  # cheapest run first: the training order, and prefixes are scored
        designs[i] = (
            label,
            d.assign(_c=cm(d["params"].to_numpy(), d["tokens"].to_numpy()))
            .sort_values("_c", kind="stable")
            .drop(columns="_c")
            .reset_index(drop=True),
        )
    # score every design (and "no new runs") by its simulated bootstrap interval at the target
    sigma = max(fit.residual_scale, 1e-4)
    sims = np.random.default_rng(seed).integers(0, len(theta), n_sims)  # true parameters per simulation

    def score(frames):
        Jd = [(jac(f)[good] / scale[:, None, :])[sims] if len(f) else np.empty((n_sims, 0, P)) for f in frames]
        return _bootstrap_scores(
            J0[sims], Jd, g[sims], groups0, sigma=sigma, level=interval, n_resamples=n_resamples, seed=seed
        )

    scores = score([existing.iloc[:0]] + [d for _, d in designs])
    before, scores = scores.iloc[0], scores.iloc[1:].reset_index(drop=True)
    best_i = int(np.argmin(scores[_CRITERIA[criterion]].to_numpy()))
    label, chosen = designs[best_i]
    prefixes = score([chosen.iloc[: i + 1] for i in range(len(chosen))])
    table = pd.DataFrame(
        {
            "design": [d[0] for d in designs],
            "n_runs": [len(d[1]) for d in designs],
            "flops": [float(np.sum(cm(d[1]["params"].to_numpy(), d[1]["tokens"].to_numpy()))) for d in designs],
            "largest_params": [float(d[1]["params"].max()) for d in designs],
        }
    )
    table = pd.concat([table, scores], axis=1).sort_values(_CRITERIA[criterion], kind="stable").reset_index(drop=True)
    out = chosen.copy()
    out["tokens_per_param"] = out["tokens"] / out["params"]
    out["flops"] = cm(out["params"].to_numpy(), out["tokens"].to_numpy())
    out["width_after"] = prefixes["expected_width"].to_numpy()
    best = scores.iloc[best_i]
    pct = int(round(interval * 100))
    notes = (
        f"chosen: {label}, the smallest expected interval score of {len(designs)} designs (greedy c-optimal "
        f"designs over {int(good.sum())} parameter vectors ({used}) and log-spaced ladders using the budget)",
        f"expected: {pct}% interval coverage {100 * best['coverage']:.0f}%, RMSE of the log prediction "
        f"{best['rmse_log']:.3g}; simulated with run noise {sigma:.3g} (the fit's residual scale), "
        f"{n_sims} datasets x {n_resamples} run-bootstrap resamples of the linearised refit per design",
    )
    return Suggestion(
        runs=out,
        target=tgt,
        budget=float(budget),
        spent=float(out["flops"].sum()),
        width_before=float(before["expected_width"]),
        width_after=float(best["expected_width"]),
        level=interval,
        law=f"{fit.law.name}: {fit.law.formula}",
        fit=fit,
        notes=notes,
        designs=table,
        expected_rmse=float(best["rmse_log"]),
        expected_coverage=float(best["coverage"]),
    )
