"""Which runs to train next: greedy c-optimal design for the prediction at a target (N, D)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtri  # standard normal quantile (scipy.stats is slow to import)

from scalinglab._validation import check_fraction, check_int, check_options
from scalinglab.errors import DataError, InvalidParameterError, PlanError
from scalinglab.plan._cost import resolve_cost
from scalinglab.plan._report import PlanSummary, jsonable

__all__ = ["Suggestion", "suggest", "candidate_grid", "design_variance"]


@dataclass(frozen=True)
class Suggestion:
    """Proposed runs, in the order they were chosen, and what they are expected to buy.

    Attributes
    ----------
    runs : DataFrame
        ``params``, ``tokens``, ``flops``, ``tokens_per_param``, and ``width_after`` (predicted
        relative interval width at the target after adding this and the earlier runs).
    target : dict
        ``{"params": N, "tokens": D}``.
    budget, spent : float
        Compute allowed and used by the proposed runs (FLOPs).
    width_before, width_after : float
        Predicted width of the ``level`` interval of the target loss, relative to the loss
        (``upper/lower - 1``), from the existing runs and after adding the proposals.
    level : float
    law : str
    fit : Fit
        The fit to the existing runs the design is based on.
    notes : tuple of str
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

    def summary(self) -> PlanSummary:
        pct = int(round(self.level * 100))
        header = [("law", self.law),
                  ("target", f"N = {self.target['params']:.4g}, D = {self.target['tokens']:.4g}"),
                  ("budget", f"{self.budget:.4g} FLOPs; proposals use {self.spent:.4g} "
                             f"({100 * self.spent / self.budget:.0f}%)"),
                  ("interval", f"predicted {pct}% interval width at the target: {100 * self.width_before:.2f}% of "
                               f"the loss now -> {100 * self.width_after:.2f}% with these runs")]
        if math.isfinite(self.expected_rmse):
            header.append(("expected error", f"simulated RMSE of the log prediction at the target with these runs: "
                                              f"{self.expected_rmse:.3g} (alternatives in .designs)"))
        header += [("note", n) for n in self.notes]
        cols = ["#", "params", "tokens", "tokens_per_param", "flops", f"width after ({pct}%)"]
        rows = [[i + 1, r.params, r.tokens, r.tokens_per_param, r.flops, f"{100 * r.width_after:.2f}%"]
                for i, r in enumerate(self.runs.itertuples())]
        return PlanSummary(title="Suggested next runs", header=header, columns=cols, rows=rows)

    def __str__(self) -> str:
        return str(self.summary())

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"target": self.target, "budget": self.budget, "spent": self.spent,
                         "expected_rmse_log": self.expected_rmse, "designs": self.designs.to_dict(orient="records"),
                         "width_before": self.width_before, "width_after": self.width_after, "level": self.level,
                         "law": self.law, "runs": self.runs.to_dict(orient="records"), "notes": list(self.notes)})


def candidate_grid(existing_params, budget: float, target_params: float, *, n_sizes: int = 12,
                   ratios=(5, 10, 20, 40, 80, 160, 320), cost=None) -> pd.DataFrame:
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
        params = {p: th[:, i:i + 1] for i, p in enumerate(names)}
        params.update({p: np.full((K, 1), v) for p, v in fixed.items()})
        return np.log(np.broadcast_to(law.evaluate(X, params), (K, n)))

    h = 1e-5 * np.maximum(1.0, np.abs(u))
    for j in range(P):
        up, dn = u.copy(), u.copy()
        up[:, j] += h[:, j]
        dn[:, j] -= h[:, j]
        J[:, :, j] = (logf(up) - logf(dn)) / (2 * h[:, j:j + 1])
    return J


def _greedy(Minv, Jc, g, var0, flops, budget, max_runs, per_flop):
    """Greedy selection (indices into the candidates) and the final variances (K,)."""
    Minv = Minv.copy()
    var = var0.copy()
    remaining = budget
    order = []
    for _ in range(max_runs):
        afford = flops <= remaining * (1 + 1e-9)
        if not afford.any():
            break
        Mj = np.einsum("kij,kmj->kmi", Minv, Jc)                      # (K, m, P)
        gMj = np.einsum("ki,kmi->km", g, Mj)                          # (K, m)
        jMj = np.einsum("kmi,kmi->km", Jc, Mj)                        # (K, m)
        reduction = (gMj ** 2 / (1.0 + jMj)) / var[:, None]           # relative reduction per draw
        gain = reduction.mean(axis=0)
        score = np.where(afford, gain / flops if per_flop else gain, -np.inf)
        best = int(np.argmax(score))
        if not np.isfinite(score[best]) or gain[best] < 1e-4:
            break
        v = Mj[:, best, :]
        Minv = Minv - np.einsum("ki,kj->kij", v, v) / (1.0 + jMj[:, best])[:, None, None]
        var = np.einsum("ki,kij,kj->k", g, Minv, g)
        remaining -= flops[best]
        order.append(best)
    return order, var


def _robust_variance(Minv, Jd, g):
    """Leverage-corrected (HC3, MacKinnon & White 1985) variance of g^T theta over design rows Jd: (..., )."""
    a = np.einsum("...i,...ij,...nj->...n", g, Minv, Jd)
    h = np.einsum("...ni,...ij,...nj->...n", Jd, Minv, Jd)
    return np.sum(a ** 2 / np.clip(1.0 - h, 0.05, 1.0) ** 2, axis=-1)


def _greedy_robust(Minv, J0, Jc, g, flops, budget, max_runs, per_flop):
    """Greedy on the leverage-corrected variance: one run carrying the whole extrapolation is penalised."""
    Minv = Minv.copy()
    Jd = J0.copy()
    var = _robust_variance(Minv, Jd, g)
    remaining = budget
    order = []
    K, m, P = Jc.shape
    for _ in range(max_runs):
        afford = flops <= remaining * (1 + 1e-9)
        if not afford.any():
            break
        Mj = np.einsum("kij,kmj->kmi", Minv, Jc)                                  # (K, m, P)
        Mnew = Minv[:, None] - np.einsum("kmi,kmj->kmij", Mj, Mj) / (1.0 + np.einsum("kmi,kmi->km", Jc, Mj))[..., None, None]
        Jall = np.concatenate([np.broadcast_to(Jd[:, None], (K, m) + Jd.shape[1:]), Jc[:, :, None, :]], axis=2)
        vnew = _robust_variance(Mnew, Jall, g[:, None, :])                        # (K, m)
        gain = ((var[:, None] - vnew) / var[:, None]).mean(axis=0)
        score = np.where(afford, gain / flops if per_flop else gain, -np.inf)
        best = int(np.argmax(score))
        if not np.isfinite(score[best]) or gain[best] < 1e-4:
            break
        Minv = Mnew[:, best]
        Jd = np.concatenate([Jd, Jc[:, best:best + 1, :]], axis=1)
        var = vnew[:, best]
        remaining -= flops[best]
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
                out.append((f"ladder k={k} span={span:g} D/N={ratio:.3g}", pd.DataFrame({"params": N,
                                                                                          "tokens": ratio * N})))
    return out


def _batched_refit(law, names, is_log, lower, upper, fixed, X, y, w, u0, *, loss, space: str = "log",
                   iters: int = 150):
    """Refit one problem per row -- inputs X[s] (B, n), targets y (B, n), weights w (B, n) -- with the fit's
    own objective (robust loss on log or linear residuals): IRLS Levenberg-Marquardt, all rows at once."""
    B, P = u0.shape
    logy = np.log(y) if space == "log" else None

    def resid(u):
        th = np.where(is_log, np.exp(np.where(is_log, u, 0.0)), u)
        params = {p: th[:, i:i + 1] for i, p in enumerate(names)}
        params.update({p: np.full((len(u), 1), v) for p, v in fixed.items()})
        with np.errstate(all="ignore"):
            f = law.evaluate(X, params)
            r = logy - np.log(f) if space == "log" else y - f
        return np.where(np.isfinite(r), r, np.nan)

    def obj(r):
        return np.where(np.any(np.isnan(r) & (w > 0), axis=1), np.inf,
                        np.sum(w * loss.rho(np.nan_to_num(r)), axis=1))

    u = np.clip(u0.copy(), lower, upper)
    r = resid(u)
    F = obj(r)
    lam = np.full(B, 1e-3)
    eye = np.eye(P)
    for _ in range(iters):
        h = 1e-6 * np.maximum(1.0, np.abs(u))
        J = np.empty((B, r.shape[1], P))
        for j in range(P):
            up, dn = u.copy(), u.copy()
            up[:, j] += h[:, j]
            dn[:, j] -= h[:, j]
            J[:, :, j] = (resid(up) - resid(dn)) / (2 * h[:, j:j + 1])
        J = np.nan_to_num(J)
        rr = np.nan_to_num(r)
        g = np.einsum("bnp,bn->bp", J, w * loss.psi(rr))
        H = np.einsum("bnp,bn,bnq->bpq", J, w * loss.weight(rr), J)
        d = np.maximum(np.einsum("bpp->bp", H), 1e-12)
        try:
            step = -np.linalg.solve(H + lam[:, None, None] * eye * d[:, None, :], g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            break
        u_new = np.clip(u + step, lower, upper)
        r_new = resid(u_new)
        F_new = obj(r_new)
        ok = F_new <= F
        u = np.where(ok[:, None], u_new, u)
        r = np.where(ok[:, None], r_new, r)
        F = np.where(ok, F_new, F)
        lam = np.where(ok, np.maximum(lam / 3, 1e-12), np.minimum(lam * 4, 1e12))
    return u


def _simulated_errors(fit, existing: pd.DataFrame, designs: list, target, theta, sigma: float, n_sims: int,
                      seed: int, cols) -> np.ndarray:
    """Root-mean-square log error at the target of refits on (existing + design) runs, (n_designs,).

    Each simulation draws a true parameter vector from ``theta``, simulates every run's
    loss with log-normal noise ``sigma`` (common random numbers across designs), refits
    with the fit's own objective (batched, from the current estimate), and compares the refit's
    prediction at the target with the truth.
    """
    problem = fit.problem()
    names, is_log = problem.names, problem.is_log
    n0 = len(existing)
    kmax = max(len(d) for d in designs)
    Dn = len(designs)
    rng = np.random.default_rng(seed)
    truth = theta[rng.integers(0, len(theta), n_sims)]                        # (S, P)
    noise = rng.normal(0.0, sigma, (n_sims, n0 + kmax))
    n = n0 + kmax
    Xb = {s: np.empty((Dn, n)) for s in fit.columns}
    W = np.zeros((Dn, n))
    for i, d in enumerate(designs):
        full = pd.concat([existing, d, d.iloc[[0] * (kmax - len(d))]], ignore_index=True)
        for s in fit.columns:
            Xb[s][i] = full[cols[s]].to_numpy(dtype=float)
        W[i, :n0 + len(d)] = 1.0
    # batch b = (design i, simulation j)
    X = {s: np.repeat(v, n_sims, axis=0) for s, v in Xb.items()}
    Wb = np.repeat(W, n_sims, axis=0)
    tb = np.tile(truth, (Dn, 1))
    params = {p: tb[:, i:i + 1] for i, p in enumerate(names)}
    params.update({p: np.full((len(tb), 1), v) for p, v in problem.fixed.items()})
    with np.errstate(all="ignore"):
        y = fit.law.evaluate(X, params) * np.exp(np.tile(noise, (Dn, 1)))
        Xt = {s: np.full((len(tb), 1), float(target[cols[s]])) for s in fit.columns}
        true_t = np.log(fit.law.evaluate(Xt, params))[:, 0]
    y = np.where(np.isfinite(y) & (y > 0), y, 1.0)
    u0 = np.repeat(problem.to_u(np.array([[fit.params[p] for p in names]])), len(tb), axis=0)
    u = _batched_refit(fit.law, names, is_log, problem.lower, problem.upper, problem.fixed, X, y, Wb, u0,
                       loss=problem.loss, space=problem.space)
    th = np.where(is_log, np.exp(np.where(is_log, u, 0.0)), u)
    pf = {p: th[:, i:i + 1] for i, p in enumerate(names)}
    pf.update({p: np.full((len(th), 1), v) for p, v in problem.fixed.items()})
    with np.errstate(all="ignore"):
        err = (np.log(fit.law.evaluate(Xt, pf))[:, 0] - true_t).reshape(Dn, n_sims)
    err = np.where(np.isfinite(err), err, np.nan)
    return np.sqrt(np.nanmean(err ** 2, axis=1))


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
    M = np.einsum("kni,knj->kij", J, J)
    M = M + 1e-10 * np.einsum("kii->k", M)[:, None, None] * np.eye(len(names))
    return np.einsum("ki,ki->k", g, np.linalg.solve(M, g[..., None])[..., 0])


def suggest(runs, law="chinchilla", *, target: Mapping[str, float], budget: float, candidates=None,
            fit=None, interval: float = 0.9, n_draws: int = 32, method: str = "bootstrap", seed: int = 0,
            max_runs: int = 8, n_sims: int = 64, cost=None, **fit_options) -> Suggestion:
    """Propose the next runs that most shrink the prediction error at a target (N, D), within a budget.

    Two stages.  (1) Candidate designs: greedy sequential c-optimal designs (Elfving
    1952; Atkinson & Donev 1992) on the linearised law -- with ``J`` the Jacobian of
    ``log f`` over the runs and ``g`` its gradient at the target, the variance of the
    predicted log loss is ``s^2 g^T (J^T J)^-1 g``; each step adds the candidate run with
    the largest reduction (per FLOP, or per run: both are kept, Krause & Guestrin
    2005), averaged over ``n_draws`` parameter draws of the current fit -- plus
    log-spaced ladders that spend the budget (2-8 sizes, spans 2-16x, at the target's
    tokens per parameter and x/÷2).  (2) Selection by simulation: for ``n_sims`` true
    parameter vectors drawn from the fit's uncertainty, every run's loss is simulated
    (log-normal noise at the fit's residual scale, common random numbers across
    designs), the law is refitted for every design and simulation in one batched
    solve with the fit's own objective (Huber on log L by default), and the design
    with the smallest root-mean-square log error at the target is proposed.  The
    linearised criterion alone can favour designs that look good to first order but
    lose to a plain ladder once a robust fit is refitted; the simulation decides.

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
        Level of the reported (linearised) interval widths.
    n_draws : int
        Parameter draws the criterion is averaged over (1 = locally optimal at the estimate).
    max_runs : int
        Cap on the number of proposed runs.
    n_sims : int
        Simulated refits per candidate design (0: keep the greedy design unsimulated).

    Returns
    -------
    Suggestion

    Examples
    --------
    >>> # s = suggest(runs, "chinchilla", target={"params": 7e9, "tokens": 1.4e11}, budget=1e20); print(s)
    """
    import scalinglab as sl
    from scalinglab.data import read_runs
    from scalinglab.plan._model import resolve_model

    verb = "suggest"
    check_fraction(interval, "interval", verb)
    check_int(n_draws, "n_draws", verb, minimum=1)
    check_int(max_runs, "max_runs", verb, minimum=1)
    check_int(n_sims, "n_sims", verb, minimum=0)
    check_options(method, "method", ("bootstrap", "delta"), verb)
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget > 0):
        raise InvalidParameterError(f"{verb}(): 'budget' must be a number of FLOPs > 0; got {budget!r}")
    cm = resolve_cost(cost)
    if fit is None:
        table = read_runs(runs, required=("loss",))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sl.fit(table, law, **fit_options)
    pm = resolve_model(fit)
    pm.require_allocation(verb)
    ncol, dcol = fit.columns[pm.roles["params"]], fit.columns[pm.roles["tokens"]]
    tgt = {}
    for key, col in (("params", ncol), ("tokens", dcol)):
        v = target.get(key, target.get(col, target.get(pm.roles[key])))
        if v is None or not (float(v) > 0):
            raise InvalidParameterError(f"{verb}(): target needs '{key}' > 0 (e.g. target={{'params': 7e9, "
                                        f"'tokens': 1.4e11}}); got {dict(target)}")
        tgt[key] = float(v)
    existing = fit.data[[ncol, dcol]].rename(columns={ncol: "params", dcol: "tokens"})
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
        raise PlanError(f"{verb}: no candidate run fits in the budget of {budget:.3g} FLOPs",
                        hint="raise the budget or give smaller candidates")
    # parameter vectors the criterion is averaged over (internal coordinates)
    problem = fit.problem()
    names = problem.names
    point = np.array([[fit.params[p] for p in names]])
    used = "point estimate only"
    theta = point
    if n_draws > 1:
        from scalinglab.errors import FitError

        for m in dict.fromkeys((method, "delta")):  # a failed bootstrap (tiny ladders) falls back to delta
            try:
                samples, used = pm.sample(n_draws - 1, m, seed)
            except FitError:
                continue
            theta = np.vstack([point, np.column_stack([samples[p] for p in names])])
            break
    cols = {pm.roles["params"]: "params", pm.roles["tokens"]: "tokens"}
    X0 = {s: existing[cols[s]].to_numpy(dtype=float) for s in fit.columns}
    Xc = {s: cand[cols[s]].to_numpy(dtype=float) for s in fit.columns}
    Xt = {s: np.array([tgt[cols[s]]]) for s in fit.columns}
    J0 = _log_jacobian(fit.law, names, problem.is_log, theta, problem.fixed, X0)  # (K, n, P)
    Jc = _log_jacobian(fit.law, names, problem.is_log, theta, problem.fixed, Xc)  # (K, m, P)
    g = _log_jacobian(fit.law, names, problem.is_log, theta, problem.fixed, Xt)[:, 0, :]  # (K, P)
    good = np.all(np.isfinite(J0), axis=(1, 2)) & np.all(np.isfinite(Jc), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
    if not good[0]:
        raise PlanError(f"{verb}: the fitted law has non-finite sensitivities at the existing runs, candidates or "
                        "target", hint="check the fit (parameters at bounds?) and the units of the target")
    J0, Jc, g = J0[good], Jc[good], g[good]
    P = len(names)
    M = np.einsum("kni,knj->kij", J0, J0)
    M = M + 1e-10 * np.einsum("kii->k", M)[:, None, None] * np.eye(P)
    Minv = np.linalg.inv(M)
    s2 = fit.residual_scale ** 2
    z = ndtri(0.5 + interval / 2)

    def width(var_units):
        sd = math.sqrt(max(float(var_units), 0.0) * s2)
        return math.exp(2 * z * sd) - 1

    var0 = np.einsum("ki,kij,kj->k", g, Minv, g)
    width_before = width(var0[0])
    flops = cand["flops"].to_numpy(dtype=float)
    picks = [_greedy(Minv, Jc, g, var0, flops, float(budget), max_runs, per_flop) for per_flop in (True, False)]
    designs = []
    for (order, _), label in zip(picks, ("greedy c-optimal, per FLOP", "greedy c-optimal, per run")):
        if order:
            designs.append((label, cand.iloc[order][["params", "tokens"]].reset_index(drop=True)))
    if candidates is None:
        designs += _ladder_designs(float(existing["params"].min()), tgt, float(budget), cm, max_runs)
    if not designs:
        raise PlanError(f"{verb}: no candidate reduces the predicted interval at the target",
                        hint="give candidates closer to the target or a larger budget")
    # pick the design whose simulated refits predict the target best (common random numbers)
    sigma = max(fit.residual_scale, fit.rmse_log * math.sqrt(fit.n_points / max(fit.n_points - P, 1)), 1e-4)
    rmse = _simulated_errors(fit, existing, [d for _, d in designs], tgt, theta, sigma, n_sims, seed, cols) \
        if n_sims > 0 else np.array([np.nan] * len(designs))
    if n_sims > 0 and np.all(np.isnan(rmse)):
        rmse = np.zeros(len(designs))
    best_i = int(np.nanargmin(rmse)) if n_sims > 0 else 0
    label, chosen_design = designs[best_i]
    table = pd.DataFrame({"design": [d[0] for d in designs], "n_runs": [len(d[1]) for d in designs],
                          "flops": [float(np.sum(cm(d[1]["params"].to_numpy(), d[1]["tokens"].to_numpy())))
                                    for d in designs],
                          "largest_params": [float(d[1]["params"].max()) for d in designs],
                          "simulated_rmse_log": rmse}).sort_values("simulated_rmse_log", kind="stable")
    chosen, spent = [], 0.0
    Jd = _log_jacobian(fit.law, names, problem.is_log, theta[:1], problem.fixed,
                       {s: chosen_design[cols[s]].to_numpy(dtype=float) for s in fit.columns})[0]
    Mi = Minv[0].copy()
    for i, row in chosen_design.iterrows():
        j = Jd[i]
        Mj = Mi @ j
        Mi = Mi - np.outer(Mj, Mj) / (1.0 + j @ Mj)
        c = float(cm(np.array(row["params"]), np.array(row["tokens"])))
        spent += c
        chosen.append({"params": float(row["params"]), "tokens": float(row["tokens"]), "flops": c,
                       "width_after": width(g[0] @ Mi @ g[0])})
    out = pd.DataFrame(chosen)
    out.insert(2, "tokens_per_param", out["tokens"] / out["params"])
    remaining = float(budget) - spent
    notes = (f"chosen: {label}; simulated RMSE of log prediction at the target {rmse[best_i]:.4g} "
             f"({n_sims} simulated refits per design, noise {sigma:.3g})",
             f"{len(designs)} designs compared: greedy c-optimal designs (Sherman-Morrison, averaged over "
             f"{int(good.sum())} parameter vectors: {used}) and log-spaced ladders using the budget",
             "interval widths are linearised at the current estimate (least-squares theory)")
    return Suggestion(runs=out, target=tgt, budget=float(budget), spent=float(budget - remaining),
                      width_before=width_before, width_after=float(out["width_after"].iloc[-1]), level=interval,
                      law=f"{fit.law.name}: {fit.law.formula}", fit=fit, notes=notes, designs=table.reset_index(drop=True),
                      expected_rmse=float(rmse[best_i]))
