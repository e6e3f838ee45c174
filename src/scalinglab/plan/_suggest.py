"""Which runs to train next: greedy c-optimal design for the prediction at a target (N, D)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from scalinglab._validation import check_fraction, check_int, check_options
from scalinglab.errors import DataError, InvalidParameterError, PlanError
from scalinglab.plan._cost import resolve_cost
from scalinglab.plan._report import PlanSummary, fmt, jsonable

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

    def summary(self) -> PlanSummary:
        pct = int(round(self.level * 100))
        header = [("law", self.law),
                  ("target", f"N = {self.target['params']:.4g}, D = {self.target['tokens']:.4g}"),
                  ("budget", f"{self.budget:.4g} FLOPs; proposals use {self.spent:.4g} "
                             f"({100 * self.spent / self.budget:.0f}%)"),
                  ("interval", f"predicted {pct}% interval width at the target: {100 * self.width_before:.2f}% of "
                               f"the loss now -> {100 * self.width_after:.2f}% with these runs")]
        header += [("note", n) for n in self.notes]
        cols = ["#", "params", "tokens", "tokens_per_param", "flops", f"width after ({pct}%)"]
        rows = [[i + 1, r.params, r.tokens, r.tokens_per_param, r.flops, f"{100 * r.width_after:.2f}%"]
                for i, r in enumerate(self.runs.itertuples())]
        return PlanSummary(title="Suggested next runs", header=header, columns=cols, rows=rows)

    def __str__(self) -> str:
        return str(self.summary())

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"target": self.target, "budget": self.budget, "spent": self.spent,
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
            max_runs: int = 8, cost=None, **fit_options) -> Suggestion:
    """Propose the next runs that most shrink the prediction interval at a target (N, D).

    Greedy sequential c-optimal design (Elfving 1952; Atkinson & Donev 1992) on the
    linearised law: with ``J`` the Jacobian of ``log f`` over the runs in the design
    and ``g`` its gradient at the target, the variance of the predicted log loss is
    ``s^2 g^T (J^T J)^-1 g`` (s the residual scale).  Each step adds the candidate
    with the largest reduction of that variance per FLOP (Sherman-Morrison update),
    among those that still fit in the remaining budget; the criterion is averaged over
    ``n_draws`` parameter draws of the current fit, so the design is robust to the
    fit's own uncertainty rather than tuned to its point estimate.  A run may be
    proposed twice (another seed).

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
        Level of the reported interval widths.
    n_draws : int
        Parameter draws the criterion is averaged over (1 = locally optimal at the estimate).
    max_runs : int
        Cap on the number of proposed runs.  Two greedy passes run, one ranking
        candidates by variance reduction per FLOP and one by reduction per run; the
        design with the lower final variance is kept (Krause & Guestrin 2005).

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
    z = stats.norm.ppf(0.5 + interval / 2)

    def width(var_units):
        sd = math.sqrt(max(float(var_units), 0.0) * s2)
        return math.exp(2 * z * sd) - 1

    var0 = np.einsum("ki,kij,kj->k", g, Minv, g)
    width_before = width(var0[0])
    flops = cand["flops"].to_numpy(dtype=float)
    picks = [_greedy(Minv, Jc, g, var0, flops, float(budget), max_runs, per_flop) for per_flop in (True, False)]
    # Krause & Guestrin (2005): run the cost-benefit and the plain-gain greedy, keep the better design
    order, var, which = min(((o, v, w) for (o, v), w in zip(picks, ("per FLOP", "per run"))),
                            key=lambda t: float(np.mean(t[1])))
    chosen, remaining = [], float(budget)
    Mi = Minv.copy()
    for best in order:
        Mj = np.einsum("kij,kj->ki", Mi, Jc[:, best, :])
        Mi = Mi - np.einsum("ki,kj->kij", Mj, Mj) / (1.0 + np.einsum("ki,ki->k", Jc[:, best, :], Mj))[:, None, None]
        remaining -= flops[best]
        chosen.append({"params": float(cand["params"][best]), "tokens": float(cand["tokens"][best]),
                       "flops": float(flops[best]),
                       "width_after": width(np.einsum("i,ij,j->", g[0], Mi[0], g[0]))})
    if not chosen:
        raise PlanError(f"{verb}: no candidate reduces the predicted interval at the target",
                        hint="give candidates closer to the target or a larger budget")
    out = pd.DataFrame(chosen)
    out.insert(2, "tokens_per_param", out["tokens"] / out["params"])
    notes = (f"criterion averaged over {int(good.sum())} parameter vectors (estimate + draws: {used}); residual scale "
             f"{fit.residual_scale:.3g} (log loss) from the fit",
             f"{len(cand)} candidates within budget; greedy by variance reduction {which} kept")
    return Suggestion(runs=out, target=tgt, budget=float(budget), spent=float(budget - remaining),
                      width_before=width_before, width_after=float(out["width_after"].iloc[-1]), level=interval,
                      law=f"{fit.law.name}: {fit.law.formula}", fit=fit, notes=notes)
