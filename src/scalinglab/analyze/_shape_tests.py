"""Numerics behind :func:`scalinglab.analyze.trends`: one curve, its noise, and the tests of its shape.

Everything here works on one curve ``(x, g, var)``: ``x`` the log10 scale, ``g`` the
metric oriented so that larger is better ("goodness"), ``var`` the variance of each
point, ``se_i^2 + tau^2`` (binomial or reported error plus between-model scatter).

* :func:`wls` -- weighted least squares with known variances (slope test, quadratic).
* :func:`prefix_isotonic_rss` -- residual sums of squares of the weighted isotonic fit of
  every prefix in one pass of the pool-adjacent-violators algorithm (Stout 2008's O(n)
  idea for unimodal regression): the monotone and unimodal fits come from it.
* :func:`shape_lrt` -- unimodal vs monotone likelihood-ratio statistic
  ``T = RSS_monotone - RSS_unimodal`` with a parametric bootstrap under the monotone fit.
* :func:`lind_mehlum` -- endpoint-slope test of a quadratic (Lind & Mehlum 2010) with the
  Fieller interval of the turning point.
* :func:`two_lines` -- Simonsohn (2018) two interrupted lines with the Robin Hood breakpoint.
* :func:`paule_mandel` -- between-model scatter tau from residuals (Paule & Mandel 1982) and
  its Q-profile interval (Viechtbauer 2007).
* :func:`fit_logistic` -- logistic in log-scale with the floor at chance (emergence).
* :func:`benjamini_hochberg`, :func:`emergence_score`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

__all__ = [
    "wls",
    "prefix_isotonic_rss",
    "monotone_fit",
    "unimodal_fit",
    "shape_lrt",
    "lind_mehlum",
    "two_lines",
    "paule_mandel",
    "fit_logistic",
    "benjamini_hochberg",
    "emergence_score",
    "Wls",
]


# ------------------------------------------------------------------------------------ least squares


@dataclass(frozen=True)
class Wls:
    """A weighted least-squares fit with known variances: coefficients, covariance, chi-square."""

    coef: np.ndarray
    cov: np.ndarray
    chi2: float
    fitted: np.ndarray


def wls(X: np.ndarray, y: np.ndarray, var: np.ndarray) -> Wls:
    """Weighted least squares of ``y`` on the columns of ``X`` with weights ``1/var``.

    The covariance is ``(X' W X)^-1`` (variances taken as known).

    Examples
    --------
    >>> x = np.arange(5.0)
    >>> r = wls(np.c_[np.ones(5), x], 1 + 2 * x, np.ones(5))
    >>> np.round(r.coef, 6).tolist(), round(r.chi2, 9)
    ([1.0, 2.0], 0.0)
    """
    w = 1.0 / np.maximum(var, 1e-12)
    XtW = X.T * w
    A = XtW @ X
    cov = np.linalg.pinv(A)
    coef = cov @ (XtW @ y)
    fitted = X @ coef
    return Wls(coef, cov, float(np.sum(w * (y - fitted) ** 2)), fitted)


# ------------------------------------------------------------------------------------ isotonic


def prefix_isotonic_rss(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``rss[k]`` = weighted RSS of the increasing isotonic fit of ``y[:k]``, for k = 0..n, in one PAVA pass.

    Examples
    --------
    >>> prefix_isotonic_rss(np.array([1.0, 3.0, 2.0]), np.ones(3)).tolist()
    [0.0, 0.0, 0.0, 0.5]
    """
    n = len(y)
    out = np.zeros(n + 1)
    bw: list[float] = []
    bs: list[float] = []
    bq: list[float] = []
    total = 0.0
    for i in range(n):
        W, S = float(w[i]), float(w[i] * y[i])
        Q = S * float(y[i])
        while bw and S * bw[-1] <= bs[-1] * W:  # new block's mean <= previous block's: pool them
            pw, ps, pq = bw.pop(), bs.pop(), bq.pop()
            total -= pq - ps * ps / pw
            W, S, Q = W + pw, S + ps, Q + pq
        bw.append(W)
        bs.append(S)
        bq.append(Q)
        total += Q - S * S / W
        out[i + 1] = max(total, 0.0)
    return out


def _isotonic(y: np.ndarray, w: np.ndarray, increasing: bool = True) -> np.ndarray:
    """Weighted isotonic fit (PAVA) of ``y``."""
    v = y if increasing else -y
    blocks: list[list[float]] = []  # [weight, weighted sum, count]
    for yi, wi in zip(v, w):
        blocks.append([float(wi), float(wi * yi), 1])
        while len(blocks) > 1 and blocks[-1][1] * blocks[-2][0] <= blocks[-2][1] * blocks[-1][0]:
            b = blocks.pop()
            blocks[-1][0] += b[0]
            blocks[-1][1] += b[1]
            blocks[-1][2] += b[2]
    fit = np.concatenate([np.full(int(c), s / wt) for wt, s, c in blocks]) if blocks else np.array([])
    return fit if increasing else -fit


def monotone_fit(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, str, float, float]:
    """Best monotone fit: ``(fitted, "up" or "down", rss_up, rss_down)``."""
    up = _isotonic(y, w, True)
    down = _isotonic(y, w, False)
    r_up, r_down = float(np.sum(w * (y - up) ** 2)), float(np.sum(w * (y - down) ** 2))
    return (up, "up", r_up, r_down) if r_up <= r_down else (down, "down", r_up, r_down)


def _unimodal_rss(y: np.ndarray, w: np.ndarray) -> tuple[float, float, int, int]:
    """(best peak RSS, best valley RSS, peak split, valley split); split k: rising on y[:k], falling on y[k:]."""
    inc_pre = prefix_isotonic_rss(y, w)
    dec_pre = prefix_isotonic_rss(-y, w)
    inc_suf = prefix_isotonic_rss(-y[::-1], w[::-1])[::-1]  # increasing on y[k:] == decreasing on reversed
    dec_suf = prefix_isotonic_rss(y[::-1], w[::-1])[::-1]
    peak = inc_pre + dec_suf
    valley = dec_pre + inc_suf
    kp, kv = int(np.argmin(peak)), int(np.argmin(valley))
    return float(peak[kp]), float(valley[kv]), kp, kv


def unimodal_fit(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, str, float]:
    """Best unimodal fit (Frisen 1986): ``(fitted, "peak" or "valley", rss)``.

    Examples
    --------
    >>> f, kind, rss = unimodal_fit(np.array([0.0, 1.0, 2.0, 1.0, 0.0]), np.ones(5))
    >>> kind, f.tolist(), rss
    ('peak', [0.0, 1.0, 2.0, 1.0, 0.0], 0.0)
    """
    rp, rv, kp, kv = _unimodal_rss(y, w)
    if rp <= rv:
        f = np.r_[_isotonic(y[:kp], w[:kp], True), _isotonic(y[kp:], w[kp:], False)]
        return f, "peak", float(np.sum(w * (y - f) ** 2))
    f = np.r_[_isotonic(y[:kv], w[:kv], False), _isotonic(y[kv:], w[kv:], True)]
    return f, "valley", float(np.sum(w * (y - f) ** 2))


def _lrt_stat(y: np.ndarray, w: np.ndarray) -> float:
    inc = prefix_isotonic_rss(y, w)[-1]
    dec = prefix_isotonic_rss(-y, w)[-1]
    rp, rv, _, _ = _unimodal_rss(y, w)
    return max(min(inc, dec) - min(rp, rv), 0.0)


def shape_lrt(
    y: np.ndarray, var: np.ndarray, *, n_boot: int = 999, stop_after: int = 50, rng: np.random.Generator | None = None
) -> dict:
    """Unimodal vs monotone: ``T = RSS_0 - RSS_1`` (weights 1/var) and its parametric-bootstrap p-value.

    Null draws: ``y* = f0 + N(0, var)`` with ``f0`` the best monotone fit;
    ``p = (1 + #{T* >= T}) / (B + 1)``; the draws stop once ``stop_after`` of them reach
    ``T`` (sequential p-value ``stop_after / draws``, Besag & Clifford 1991): large
    p-values cost little.

    Examples
    --------
    >>> y = np.array([0.1, 0.5, 0.9, 0.5, 0.1]); r = shape_lrt(y, np.full(5, 0.01), n_boot=199,
    ...                                                      rng=np.random.default_rng(0))
    >>> r["kind"], r["p"] < 0.05
    ('peak', True)
    """
    rng = rng or np.random.default_rng(0)
    w = 1.0 / var
    f0, direction, _, _ = monotone_fit(y, w)
    f1, kind, rss1 = unimodal_fit(y, w)
    T = max(float(np.sum(w * (y - f0) ** 2)) - rss1, 0.0)
    sd = np.sqrt(var)
    exceed, done = 0, 0
    if n_boot > 0 and T <= 0:  # every draw reaches T = 0
        exceed, done = n_boot, n_boot
    elif n_boot > 0:
        noise = rng.standard_normal((n_boot, len(y))) * sd
        tol = 1e-9 * max(T, 1.0)
        for b in range(n_boot):
            done += 1
            if _lrt_stat(f0 + noise[b], w) >= T - tol:
                exceed += 1
                if exceed >= stop_after:  # sequential Monte Carlo p-value (Besag & Clifford 1991)
                    break
    if n_boot <= 0:
        p = float("nan")
    elif done < n_boot:
        p = exceed / done
    else:
        p = (1 + exceed) / (n_boot + 1)
    return {"T": T, "p": p, "kind": kind, "unimodal": f1, "monotone": f0, "direction": direction}


# ------------------------------------------------------------------------------------ second opinions


def lind_mehlum(x: np.ndarray, y: np.ndarray, var: np.ndarray, *, df: float | None = None, level: float = 0.9) -> dict:
    """Lind & Mehlum (2010) test of a U / inverted U on the quadratic ``y = b0 + b1 x + b2 x^2``.

    Slopes at the ends of the range, ``s(x) = b1 + 2 b2 x``; an inverted U needs
    ``s(x_lo) > 0`` and ``s(x_hi) < 0`` (a U the reverse).  p = the larger of the two
    one-sided p-values (intersection-union test, Sasabuchi 1980), with Student-t(df)
    or normal (``df=None``) tails.  The turning point ``x* = -b1 / (2 b2)`` gets a
    Fieller interval at ``level`` (``(-inf, inf)`` when unbounded).

    Examples
    --------
    >>> x = np.linspace(0, 4, 9); y = -(x - 2) ** 2
    >>> r = lind_mehlum(x, y, np.full(9, 0.01))
    >>> r["kind"], r["p"] < 1e-6, round(r["turning_point"], 6)
    ('peak', True, 2.0)
    """
    xc = float(np.mean(x))
    u = x - xc
    fit = wls(np.c_[np.ones_like(u), u, u * u], y, var)
    b0, b1, b2 = fit.coef
    V = fit.cov
    lo, hi = float(u.min()), float(u.max())

    def slope(t):
        s = b1 + 2 * b2 * t
        v = V[1, 1] + 4 * t * t * V[2, 2] + 4 * t * V[1, 2]
        return s, math.sqrt(max(v, 1e-300))

    s_lo, se_lo = slope(lo)
    s_hi, se_hi = slope(hi)
    t_lo, t_hi = s_lo / se_lo, s_hi / se_hi
    sf = (lambda t: stats.t.sf(t, df)) if df else (lambda t: stats.norm.sf(t))
    kind = "peak" if b2 < 0 else "valley"
    if kind == "peak":
        p = max(sf(t_lo), sf(-t_hi))
    else:
        p = max(sf(-t_lo), sf(t_hi))
    tp = -b1 / (2 * b2) + xc if b2 != 0 else float("nan")
    crit = stats.t.ppf(0.5 + level / 2, df) if df else stats.norm.ppf(0.5 + level / 2)
    A = 4 * b2 * b2 - 4 * crit**2 * V[2, 2]
    B = 4 * b1 * b2 - 4 * crit**2 * V[1, 2]
    C = b1 * b1 - crit**2 * V[1, 1]
    disc = B * B - 4 * A * C
    if A > 0 and disc >= 0:
        r1, r2 = sorted(((-B - math.sqrt(disc)) / (2 * A), (-B + math.sqrt(disc)) / (2 * A)))
        ci = (r1 + xc, r2 + xc)
    else:
        ci = (-math.inf, math.inf)
    return {
        "kind": kind,
        "p": float(p),
        "t_lo": float(t_lo),
        "t_hi": float(t_hi),
        "turning_point": float(tp),
        "turning_ci": (float(ci[0]), float(ci[1])),
        "coef": (float(b0), float(b1), float(b2)),
        "center": xc,
        "chi2": fit.chi2,
    }


def two_lines(
    x: np.ndarray,
    y: np.ndarray,
    var: np.ndarray,
    unimodal: np.ndarray,
    kind: str,
    *,
    df: float | None = None,
    min_points: int = 2,
) -> dict | None:
    """Simonsohn (2018) "two lines": slopes before and after a breakpoint inside the flat region.

    The flat region is where the unimodal fit lies within one noise SD of its extreme;
    the first breakpoint is its median, then the Robin Hood step moves it to the
    ``100 z2/(z1+z2)`` percentile of the region (more points to the weaker side).  The
    interrupted regression ``y = a + b1 x_low + b2 x_high + c 1[x >= x_c]`` is fitted by
    weighted least squares.  ``None`` when a segment would get fewer than ``min_points``.
    Returns the slopes, their one-sided p-values in the direction of ``kind`` and ``p`` =
    the larger one (both must pass).
    """
    sd = float(np.median(np.sqrt(var)))
    ext = unimodal.max() if kind == "peak" else unimodal.min()
    flat = x[np.abs(unimodal - ext) <= sd]
    if flat.size == 0:
        flat = x[[int(np.argmax(unimodal) if kind == "peak" else np.argmin(unimodal))]]

    def fit_at(xc):
        low = x < xc
        if low.sum() < min_points or (~low).sum() < min_points:
            return None
        X = np.c_[np.ones_like(x), np.where(low, x - xc, 0.0), np.where(low, 0.0, x - xc), (~low).astype(float)]
        r = wls(X, y, var)
        se = np.sqrt(np.maximum(np.diag(r.cov), 1e-300))
        return r.coef[1], r.coef[2], r.coef[1] / se[1], r.coef[2] / se[2]

    xc = float(np.median(flat))
    first = fit_at(xc)
    if first is None:  # try the other candidate points of the flat region
        for cand in flat:
            first = fit_at(cand)
            if first is not None:
                xc = float(cand)
                break
    if first is None:
        return None
    _, _, z1, z2 = first
    a1, a2 = abs(z1), abs(z2)
    if a1 + a2 > 0 and flat.size > 1:
        q = 100 * a2 / (a1 + a2)
        cand = float(np.percentile(flat, q))
        again = fit_at(cand)
        if again is not None:
            xc, first = cand, again
    b1, b2, z1, z2 = first
    sf = (lambda t: stats.t.sf(t, df)) if df else (lambda t: stats.norm.sf(t))
    p1, p2 = (sf(z1), sf(-z2)) if kind == "peak" else (sf(-z1), sf(z2))
    return {
        "breakpoint": xc,
        "slope_low": float(b1),
        "slope_high": float(b2),
        "z_low": float(z1),
        "z_high": float(z2),
        "p": float(max(p1, p2)),
    }


# ------------------------------------------------------------------------------------ noise


def _q_stat(X: np.ndarray, y: np.ndarray, se2: np.ndarray, tau2: float) -> float:
    return wls(X, y, se2 + tau2).chi2


def paule_mandel(X: np.ndarray, y: np.ndarray, se2: np.ndarray, *, level: float = 0.9) -> tuple[float, float, float]:
    """Between-model scatter ``tau`` from the residuals of the regression on ``X``, and its interval.

    ``tau^2`` solves ``Q(tau^2) = sum r_i^2 / (se_i^2 + tau^2) = n - p`` (Paule & Mandel
    1982; 0 when ``Q(0) <= n - p``); the interval solves ``Q = chi2_{n-p}`` quantiles
    (Q-profile, Viechtbauer 2007).  Returns ``(tau, tau_lo, tau_hi)``.

    Examples
    --------
    >>> rng = np.random.default_rng(1); x = np.linspace(0, 1, 40)
    >>> y = 1 + x + rng.normal(0, 0.1, 40)
    >>> tau, lo, hi = paule_mandel(np.c_[np.ones(40), x], y, np.full(40, 1e-6))
    >>> lo < 0.1 < hi, round(tau, 2)
    (True, 0.1)
    """
    n, p = X.shape
    df = n - p
    if df < 1:
        return float("nan"), float("nan"), float("nan")
    scale = float(np.var(y)) + float(np.mean(se2)) + 1e-12

    def solve(target: float) -> float:
        if _q_stat(X, y, se2, 0.0) <= target:
            return 0.0
        f = lambda lt: _q_stat(X, y, se2, math.exp(lt)) - target  # noqa: E731
        lo, hi = math.log(scale) - 40, math.log(scale) + 10
        if f(lo) < 0:
            return 0.0
        while f(hi) > 0:
            hi += 5
        return math.exp(optimize.brentq(f, lo, hi, xtol=1e-10))

    a = (1 - level) / 2
    tau2 = solve(df)
    hi2 = solve(stats.chi2.ppf(a, df))
    lo2 = solve(stats.chi2.ppf(1 - a, df))
    return math.sqrt(tau2), math.sqrt(lo2), math.sqrt(hi2)


# ------------------------------------------------------------------------------------ emergence


def fit_logistic(x: np.ndarray, y: np.ndarray, var: np.ndarray, floor: float | None) -> dict:
    """Weighted fit of ``y = floor + h / (1 + exp(-k (x - x0)))`` with ``k > 0`` (rising).

    ``floor`` fixed (chance) or free (``None``); ``h`` (and ``floor``) are solved exactly
    on a grid of ``(k, x0)``, then refined.  Returns params, chi-square and number of
    free parameters.
    """
    w = 1.0 / var
    span = float(x.max() - x.min()) or 1.0
    ks = np.geomspace(0.3 / span, 60 / span, 36)
    x0s = np.linspace(x.min() - 0.25 * span, x.max() + 0.25 * span, 41)

    def solve_lin(k, x0):
        s = 0.5 * (1 + np.tanh(0.5 * k * (x - x0)))
        if floor is None:  # 2x2 normal equations in closed form
            sw, sy, ss, ssy, sss = np.sum(w), np.sum(w * y), np.sum(w * s), np.sum(w * s * y), np.sum(w * s * s)
            det = sw * sss - ss * ss
            if abs(det) < 1e-300:
                return math.inf, np.array([sy / sw, 0.0])
            a, h = (sss * sy - ss * ssy) / det, (sw * ssy - ss * sy) / det
            return float(np.sum(w * (y - a - h * s) ** 2)), np.array([a, h])
        yy = y - floor
        h = float(np.sum(w * s * yy) / max(np.sum(w * s * s), 1e-300))
        return float(np.sum(w * (yy - h * s) ** 2)), np.array([floor, h])

    K, X0 = np.meshgrid(ks, x0s, indexing="ij")
    S = 0.5 * (1 + np.tanh(0.5 * K[..., None] * (x - X0[..., None])))  # (k, x0, point)
    if floor is None:
        sw, sy = np.sum(w), np.sum(w * y)
        ss, ssy, sss = np.sum(w * S, -1), np.sum(w * S * y, -1), np.sum(w * S * S, -1)
        det = sw * sss - ss * ss
        det = np.where(np.abs(det) < 1e-300, np.nan, det)
        a = (sss * sy - ss * ssy) / det
        h = (sw * ssy - ss * sy) / det
        chi = np.sum(w * (y - a[..., None] - h[..., None] * S) ** 2, -1)
    else:
        yy = y - floor
        h = np.sum(w * S * yy, -1) / np.maximum(np.sum(w * S * S, -1), 1e-300)
        chi = np.sum(w * (yy - h[..., None] * S) ** 2, -1)
    chi = np.where(np.isfinite(chi), chi, np.inf)
    i, j = np.unravel_index(int(np.argmin(chi)), chi.shape)
    k, x0 = float(ks[i]), float(x0s[j])
    chi2, coef = solve_lin(k, x0)

    def obj(v):
        return solve_lin(math.exp(v[0]), v[1])[0]

    res = optimize.minimize(
        obj, [math.log(k), x0], method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-8, "maxiter": 120}
    )
    if res.fun < chi2:
        k, x0 = math.exp(res.x[0]), float(res.x[1])
        chi2, coef = solve_lin(k, x0)
    fitted = coef[0] + coef[1] * 0.5 * (1 + np.tanh(0.5 * k * (x - x0)))
    return {
        "floor": float(coef[0]),
        "height": float(coef[1]),
        "k": float(k),
        "x0": float(x0),
        "chi2": float(chi2),
        "n_params": 3 if floor is not None else 4,
        "fitted": fitted,
    }


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN kept as NaN).

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, float("nan")]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    q = p[ok]
    order = np.argsort(q)
    ranked = q[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.minimum(ranked, 1.0)
    out[ok] = adj
    return out


def emergence_score(y: np.ndarray) -> float:
    """BIG-bench "breakthroughness" as re-used by Schaeffer et al. 2023, models sorted by scale.

    ``sign(argmax y - argmin y) (max y - min y) / sqrt(median_i (y_i - y_{i-1})^2)``.

    Examples
    --------
    >>> round(emergence_score(np.array([0.0, 0.0, 0.01, 0.0, 0.5, 0.9])), 2)
    90.0
    """
    y = np.asarray(y, dtype=float)
    if y.size < 3:
        return float("nan")
    d2 = np.median(np.diff(y) ** 2)
    sign = np.sign(int(np.argmax(y)) - int(np.argmin(y)))
    rng = float(y.max() - y.min())
    if d2 <= 0:
        return float("inf") * sign if rng > 0 else 0.0
    return float(sign * rng / math.sqrt(d2))
