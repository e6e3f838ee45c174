"""Multilingual mixtures: effective parameters per language pair and a test of the shared exponent.

Fernandes et al. 2023 ("Scaling Laws for Multilingual Neural Machine Translation",
arXiv:2302.09650) find that the weight w of a language pair in the training mixture
changes **only the multiplicative factor** of its scaling law, and read the factor as an
effective number of parameters f_i(w) N given to pair i:

    L_i(N, w) = beta_i (f_i(w) N)^-alpha_i + L_inf,i.

:func:`multilingual` fits this jointly over the pairs and weights of a runs table (one
exponent per pair shared by all its mixtures, ``exponent="pair"``; or one exponent for every
pair, ``exponent="shared"``), reports f_i(w) and the effective parameters f_i(w) N with
run-bootstrap intervals, predicts any pair at any weighting and scale
(:meth:`MultilingualResult.predict`), and tests the paper's finding on the user's runs.

The f(w) form is **scalinglab's choice** (the paper's is unconfirmed) and a parameter
(``form=``): ``"power"`` f(w) = w^gamma (default), ``"hyperbolic"`` f(w) = w/(w + kappa (1 - w)),
or ``"proportional"`` f(w) = w.

The exponent test compares, per pair, a free factor per weight with one exponent
(L = L_inf + b_j N^-alpha) against free exponents per weight (L = L_inf + b_j N^-alpha_j),
so it does not depend on the f(w) form.  The statistic is the drop of the Huber objective,
T = sum_i [obj_shared,i - obj_free,i]; the objective is not a likelihood, so T is calibrated
by a parametric bootstrap: data simulated from the shared-exponent fit (its residuals
resampled), both models refitted, T recomputed ``n_null`` times; p = (1 + #{T* >= T}) /
(n_null + 1).  Its false-positive rate at 0.05 is measured in ``bench/multilingual_coverage.py``.

No public multilingual table exists here; :func:`simulate_multilingual` draws runs from the
law with known truth (what the tests and the benchmark use).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.analyze._base import AnalysisResult
from scalinglab.analyze._json import json_value as _num
from scalinglab.analyze._json import quantile_interval as _q
from scalinglab.analyze._json import records as _records
from scalinglab.data import RunsTable, read_runs
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.fit import fit
from scalinglab.fit._problem import build_problem
from scalinglab.fit._solver import refine
from scalinglab.fit._uncertainty import sample_params
from scalinglab.laws._multilingual import FORMS, effective_fraction, factor_law, joint_mixture_law
from scalinglab.render import FigureRenderer, Section, figure_context, kv_html, new_figure, register_section, table_html

__all__ = ["multilingual", "MultilingualResult", "simulate_multilingual", "exponent_test", "TRUTH", "MIXTURES"]

#: truth of :func:`simulate_multilingual` (illustrative values, not the paper's): pair -> parameters
TRUTH = {
    "en-de": {"L_inf": 1.2, "beta": 30.0, "alpha": 0.28, "g": 0.7},
    "en-fr": {"L_inf": 1.0, "beta": 25.0, "alpha": 0.28, "g": 0.5},
    "de-en": {"L_inf": 1.1, "beta": 40.0, "alpha": 0.28, "g": 0.85},
}
#: mixtures of :func:`simulate_multilingual`: one weight per pair of TRUTH, summing to 1
MIXTURES = ((1 / 3, 1 / 3, 1 / 3), (0.6, 0.2, 0.2), (0.2, 0.6, 0.2), (0.2, 0.2, 0.6), (1.0, 0.0, 0.0))
_SIZES = (1e7, 3e7, 1e8, 3e8, 1e9)
_HUBER = {"loss": "huber", "delta": 1e-3, "space": "log"}


def simulate_multilingual(
    truth: dict | None = None,
    *,
    mixtures=MIXTURES,
    sizes=_SIZES,
    form: str = "power",
    noise: float = 0.003,
    exponent_shift: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Multilingual runs drawn from the law with known truth (no real data).

    Each mixture (a weight per pair of ``truth``) is trained at every size; a pair with
    weight 0 is not trained on and has no row.  Loss: ``beta (f(w) N)^-alpha + L_inf`` plus
    Gaussian noise of ``noise`` (Ghorbani et al.'s seed-to-seed 0.003).  ``exponent_shift``
    makes the exponent depend on the weight (``alpha + shift (w - 1/3)``), breaking the
    paper's finding, for the power of the test.

    Examples
    --------
    >>> d = simulate_multilingual(seed=0)
    >>> len(d), sorted(d["pair"].unique())
    (65, ['de-en', 'en-de', 'en-fr'])
    """
    truth = TRUTH if truth is None else truth
    if form not in FORMS:
        raise InvalidParameterError(f"form must be one of {list(FORMS)}; got {form!r}")
    rng = np.random.default_rng(seed)
    rows = []
    for m, mix in enumerate(mixtures):
        for N in sizes:
            for (pair, t), w in zip(truth.items(), mix):
                if w <= 0:
                    continue
                a = t["alpha"] + exponent_shift * (w - 1 / 3)
                f = effective_fraction(form, w, t.get("g", 1.0))
                L = t["L_inf"] + t["beta"] * (f * N) ** (-a)
                rows.append(
                    {
                        "run": f"m{m}-N{N:.0e}",
                        "pair": pair,
                        "mixture_weight": float(w),
                        "params": N,
                        "loss": L + noise * rng.standard_normal(),
                    }
                )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------- the exponent test


def _weight_index(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    levels = np.unique(np.round(w, 9))
    return levels, np.searchsorted(levels, np.round(w, 9)) + 1


def _refit(law, frame: pd.DataFrame, y: str, start: dict) -> tuple[float, dict]:
    """Local Huber refit of ``law`` from ``start`` (the objective a full fit would report)."""
    problem = build_problem(law, frame, dict(law.inputs), y, **_HUBER)
    theta = np.array([[start[p] for p in problem.names]], dtype=float)
    res = refine(problem, problem.to_u(theta), max_iter=200)
    return float(res.objective[0]), dict(zip(problem.names, problem.to_theta(res.u)[0]))


def _expand(shared: dict, m: int) -> dict:
    out = {k: v for k, v in shared.items() if k != "alpha"}
    out.update({f"alpha{j + 1}": shared["alpha"] for j in range(m)})
    return out


def _pair_statistic(frame: pd.DataFrame, y: str, m: int, start0: dict | None = None):
    """(T, shared fit params, objective) for one pair.

    The shared-exponent model is fitted globally (or, for a null data set, refitted from
    ``start0``); the free-exponent model is refitted from the shared optimum with every
    alpha_j = alpha (the same procedure on the data and on every null data set).
    """
    law0, law1 = factor_law(m, free_exponents=False), factor_law(m, free_exponents=True)
    if start0 is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start0 = dict(fit(frame, law0, y=y, **_HUBER).params)
    o0, p0 = _refit(law0, frame, y, start0)
    o1, _ = _refit(law1, frame, y, _expand(p0, m))
    return max(o0 - o1, 0.0), p0, o0


def exponent_test(
    runs: RunsTable | pd.DataFrame | str,
    *,
    pair: str = "pair",
    weight: str = "mixture_weight",
    y: str = "loss",
    n_null: int = 99,
    level: float = 0.05,
    seed: int = 0,
) -> dict[str, Any]:
    """Does the mixture weight change only the factor of each pair's law?  Calibrated by parametric bootstrap.

    Per pair: L = L_inf + b_j N^-alpha (shared exponent, the paper's finding) against
    L = L_inf + b_j N^-alpha_j (an exponent per weight j).  T = sum over pairs of the drop in
    the Huber objective; its null distribution comes from ``n_null`` data sets simulated from
    the shared fit (Gaussian log noise of variance RSS / (n - p), p its parameters) and
    refitted both ways.  p = (1 + #{T* >= T}) / (n_null + 1); rejected when p <= ``level``
    (an exact-size
    Monte Carlo test when ``(n_null + 1) * level`` is a whole number, e.g. 19 or 99 at 0.05).

    Returns a dict: ``statistic``, ``p_value``, ``rejected``, ``n_null``, ``level``, ``pairs``
    (per pair: weights, T), ``skipped`` (pairs without 2 weights each at 3 sizes), ``message``.

    Examples
    --------
    >>> t = exponent_test(simulate_multilingual(seed=2), n_null=19)
    >>> t["rejected"], len(t["pairs"])
    (False, 3)
    """
    frame = _frame(runs)
    _require(frame, (pair, weight, "params", y))
    if int(n_null) != n_null or n_null < 9:
        raise InvalidParameterError(
            f"exponent_test(): n_null must be a whole number >= 9; got {n_null!r}", hint="e.g. n_null=99"
        )
    rng = np.random.default_rng(seed)
    pairs, skipped, stats, sims = [], [], [], []
    for name, g in frame.groupby(pair, sort=True):
        levels, wi = _weight_index(g[weight].to_numpy(float))
        sizes_per = [np.unique(g["params"].to_numpy(float)[wi == j + 1]).size for j in range(levels.size)]
        keep = np.isin(wi, [j + 1 for j, s in enumerate(sizes_per) if s >= 3])
        if np.unique(wi[keep]).size < 2:
            skipped.append(str(name))
            continue
        levels, wi_k = _weight_index(g[weight].to_numpy(float)[keep])
        sub = pd.DataFrame(
            {"params": g["params"].to_numpy(float)[keep], "weight_index": wi_k, y: g[y].to_numpy(float)[keep]}
        )
        m = levels.size
        T, p0, _ = _pair_statistic(sub, y, m)
        law0 = factor_law(m, free_exponents=False)
        pred = law0.evaluate({"N": sub["params"].to_numpy(float), "wi": wi_k.astype(float)}, p0)
        r = np.log(sub[y].to_numpy(float)) - np.log(pred)
        # Gaussian noise of the residual variance RSS / (n - p): resampling the residuals themselves would
        # shrink the noise (a Huber fit with a small threshold sets about p residuals to zero)
        sigma = math.sqrt(float(np.sum(r**2)) / max(r.size - len(p0), 1))
        Ts = np.empty(int(n_null))
        for b in range(int(n_null)):
            ys = pred * np.exp(sigma * rng.standard_normal(r.size))
            Ts[b] = _pair_statistic(sub.assign(**{y: ys}), y, m, start0=p0)[0]
        pairs.append({"pair": str(name), "weights": [float(v) for v in levels], "statistic": T})
        stats.append(T)
        sims.append(Ts)
    if not pairs:
        raise DataError(
            "exponent_test(): no language pair has 2 mixture weights each run at >= 3 sizes",
            column=weight,
            kind="too-few",
            hint="train each pair at >= 2 weights and >= 3 model sizes",
        )
    T = float(np.sum(stats))
    Ts = np.sum(sims, axis=0)
    p = float((1 + np.sum(Ts >= T)) / (Ts.size + 1))
    rejected = bool(p <= level)
    msg = (
        f"REJECTED at {level:g}: the exponent changes with the mixture weight (p = {p:.3g}); the weight does "
        "more than rescale the parameters, so effective parameters f(w) N do not describe these runs"
        if rejected
        else f"consistent with the paper's finding (p = {p:.3g} > {level:g}): the weight changes only the factor"
    )
    return {
        "statistic": T,
        "p_value": p,
        "rejected": rejected,
        "level": level,
        "n_null": int(n_null),
        "pairs": pairs,
        "skipped": skipped,
        "calibration": "parametric bootstrap of the Huber-objective drop under the shared-exponent fit",
        "message": msg,
    }


# ------------------------------------------------------------------------------------- the joint fit


def _frame(runs) -> pd.DataFrame:
    if isinstance(runs, RunsTable):
        return runs.frame
    if isinstance(runs, pd.DataFrame):
        return runs
    return read_runs(runs, required=()).frame


def _require(frame: pd.DataFrame, cols) -> None:
    for c in cols:
        if c not in frame:
            raise DataError(
                f"the runs table has no column '{c}' (columns: {list(frame.columns)[:20]})",
                column=c,
                kind="missing-column",
                hint=f"name the column with pair=/weight=/y= or rename yours to '{c}'",
                cli_hint=f"name the column with --pair/--weight/--y or map yours with --map {c}=COLUMN",
            )
    w = pd.to_numeric(frame[cols[1]], errors="coerce").to_numpy(float)
    bad = ~((w > 0) & (w <= 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"mixture weight {w[i]!r} is not in (0, 1]",
            row=i + 1,
            column=cols[1],
            kind="out-of-range",
            hint="a pair's weight is its share of the training mixture; drop rows of pairs not trained on",
        )


@dataclass(frozen=True)
class MultilingualResult(AnalysisResult):
    """The joint mixture fit: per-pair laws, effective parameters, the exponent test.

    Attributes
    ----------
    form : str
        The f(w) form (``power``, ``hyperbolic``, ``proportional``).
    exponent : str
        ``"pair"`` (one exponent per pair, shared by its mixtures) or ``"shared"`` (one for all).
    estimates : DataFrame
        ``pair``, ``quantity`` (L_inf, beta, alpha, g), ``estimate``, ``lower``, ``upper``.
    effective : DataFrame
        ``pair``, ``weight``, ``fraction`` f(w) and ``effective_params`` f(w) N at ``params`` with intervals.
    test : dict or None
        :func:`exponent_test`.
    """

    name = "multilingual"
    title = "Multilingual mixtures: effective parameters"

    form: str
    exponent: str
    estimates: pd.DataFrame
    effective: pd.DataFrame
    test: dict | None
    interval: float
    n_draws: int
    params_at: float
    notes: tuple = ()
    point: dict = field(default_factory=dict, repr=False)
    draws: dict = field(default_factory=dict, repr=False)
    data: pd.DataFrame = field(default=None, repr=False)

    def _loss(self, pair: str, w, N, P) -> np.ndarray:
        f = effective_fraction(self.form, w, P.get("g", 1.0))
        return P["L_inf"] + P["beta"] * (f * N) ** (-P["alpha"])

    def predict(self, pair: str, weight, params, interval: float | None = None) -> pd.DataFrame:
        """Loss of ``pair`` at mixture weight(s) ``weight`` and size(s) ``params`` (any weighting, any scale).

        Returns ``pair``, ``weight``, ``params``, ``loss`` (+ ``lower``/``upper`` at ``interval``,
        default the analysis's, from the bootstrap draws: the interval of the mean law).
        """
        if pair not in self.point:
            raise InvalidParameterError(f"no language pair '{pair}'", hint=f"one of {sorted(self.point)}")
        w, N = np.broadcast_arrays(np.atleast_1d(np.asarray(weight, float)), np.atleast_1d(np.asarray(params, float)))
        if np.any(~((w > 0) & (w <= 1))) or np.any(~(N > 0)):
            raise InvalidParameterError("predict(): weights must lie in (0, 1] and sizes be > 0", hint="e.g. 0.25, 1e9")
        level = interval or self.interval
        out = pd.DataFrame({"pair": pair, "weight": w, "params": N, "loss": self._loss(pair, w, N, self.point[pair])})
        D = {k: np.asarray(v)[:, None] for k, v in self.draws[pair].items()}
        Ld = self._loss(pair, w[None, :], N[None, :], D)
        out["lower"], out["upper"] = np.nanquantile(Ld, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return out

    def summary(self) -> str:
        lines = [
            f"Multilingual mixture law L_i = beta_i (f_i(w) N)^-alpha_i + L_inf,i (Fernandes et al. 2023), "
            f"{FORMS[self.form][3]} (scalinglab's choice; the paper's f(w) is unconfirmed; alternatives: "
            f"{', '.join(k for k in FORMS if k != self.form)}); exponent "
            + ("per pair, shared by its mixtures" if self.exponent == "pair" else "shared by every pair")
            + f"; {self.interval:.0%} intervals from {self.n_draws} run-bootstrap draws",
            "",
            self.estimates.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
            "",
            f"Effective parameters f_i(w) N at N = {self.params_at:.3g}:",
            self.effective.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
        ]
        if self.test is not None:
            lines += ["", "Does the weight change only the factor? " + self.test["message"]]
            lines.append(
                f"  T = {self.test['statistic']:.4g}, calibrated on {self.test['n_null']} null data sets "
                f"({self.test['calibration']})"
            )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": self.name,
            "form": self.form,
            "form_formula": FORMS[self.form][3],
            "exponent": self.exponent,
            "interval": self.interval,
            "n_draws": self.n_draws,
            "params_at": self.params_at,
            "params": {p: {k: _num(v) for k, v in d.items()} for p, d in self.point.items()},
            "estimates": _records(self.estimates),
            "effective": _records(self.effective),
            "test": None
            if self.test is None
            else {k: _num(v) if not isinstance(v, list) else v for k, v in self.test.items()},
            "notes": list(self.notes),
        }

    def figure(self):
        """Per pair: loss against N at each weight (fitted curves) and the effective fraction f(w)."""
        with figure_context():
            fig, axes = new_figure(ncols=2)
            ax, ax2 = axes[0, 0], axes[0, 1]
            d = self.data
            Ng = np.geomspace(d["params"].min(), d["params"].max() * 3, 60)
            wg = np.linspace(0.02, 1.0, 100)
            for i, (pair, g) in enumerate(d.groupby("pair", sort=True)):
                c = f"C{i % 10}"
                for w in np.unique(g["mixture_weight"]):
                    gw = g[np.isclose(g["mixture_weight"], w)]
                    ax.scatter(gw["params"], gw["loss"], s=10, color=c, alpha=0.5 + 0.5 * w)
                    ax.plot(Ng, self._loss(pair, w, Ng, self.point[pair]), color=c, lw=1, alpha=0.5 + 0.5 * w)
                ax2.plot(wg, effective_fraction(self.form, wg, self.point[pair].get("g", 1.0)), color=c, label=pair)
                D = {k: np.asarray(v)[:, None] for k, v in self.draws[pair].items()}
                fd = effective_fraction(self.form, wg[None, :], D.get("g", 1.0))
                lo, hi = np.nanquantile(fd, [(1 - self.interval) / 2, (1 + self.interval) / 2], axis=0)
                ax2.fill_between(wg, lo, hi, color=c, alpha=0.15, lw=0)
            ax2.plot(wg, wg, color="0.6", ls=":", lw=1, label="f(w) = w")
            ax.set_xscale("log")
            ax.set_xlabel("parameters N")
            ax.set_ylabel("loss")
            ax.set_title("loss by pair (darker: larger weight)", fontsize=9)
            ax2.set_xlabel("mixture weight w")
            ax2.set_ylabel("effective fraction f(w)")
            ax2.set_title(FORMS[self.form][3], fontsize=9)
            ax2.legend(fontsize=7)
        return fig

    def section(self, render: FigureRenderer | None = None) -> Section:
        render = render or FigureRenderer()
        fid = "fig-multilingual"
        pairs = [("f(w) form", f"{FORMS[self.form][3]} (scalinglab's choice)"), ("exponent", self.exponent)]
        if self.test is not None:
            pairs.append(("weight changes only the factor?", self.test["message"]))
        body = (
            kv_html(pairs)
            + table_html(self.estimates.round(5), caption="per-pair laws")
            + table_html(self.effective, caption=f"effective parameters at N = {self.params_at:.3g}")
            + render(self.figure(), fid, "Loss by pair and weight; the effective fraction f(w) with its interval.")
        )
        return Section(self.name, self.title, body, figures=(fid,))


def multilingual(
    runs: RunsTable | pd.DataFrame | str,
    *,
    form: str = "power",
    exponent: str = "pair",
    pair: str = "pair",
    weight: str = "mixture_weight",
    y: str = "loss",
    weights: list[float] | None = None,
    params: float | None = None,
    test: bool = True,
    n_null: int = 99,
    interval: float = 0.9,
    n_resamples: int = 200,
    seed: int = 0,
) -> MultilingualResult:
    """Joint fit over language pairs and mixture weights; effective parameters; the exponent test.

    Parameters
    ----------
    runs : RunsTable, DataFrame or path
        One row per (model, pair): ``pair``, ``mixture_weight`` in (0, 1], ``params``, ``loss``
        (and ``run``: rows of one model share it, so the bootstrap resamples models).
    form : {"power", "hyperbolic", "proportional"}
        The effective-fraction form f(w) (scalinglab's choice; see the module docstring).
    exponent : {"pair", "shared"}
        One exponent per pair shared by its mixtures (the paper's finding), or one for every pair.
    weights : list of float, optional
        Weights at which to report f(w) and f(w) N (default: each pair's observed weights).
    params : float, optional
        N for the effective parameters (default: the largest fitted N).
    test : bool
        Run :func:`exponent_test` (``n_null`` parametric-bootstrap data sets).
    interval, n_resamples, seed
        Run-bootstrap intervals.

    Returns
    -------
    MultilingualResult

    Examples
    --------
    >>> r = multilingual(simulate_multilingual(seed=0), test=False, n_resamples=50)
    >>> round(r.point["en-fr"]["alpha"], 1), round(r.point["en-fr"]["g"], 1)  # truth 0.28, 0.5
    (0.3, 0.5)
    """
    if form not in FORMS:
        raise InvalidParameterError(
            f"multilingual(): form must be one of {list(FORMS)}; got {form!r}",
            hint="form='power' (f = w^gamma), 'hyperbolic' or 'proportional'",
            cli_hint="--form power, hyperbolic or proportional",
        )
    if exponent not in ("pair", "shared"):
        raise InvalidParameterError(
            f"multilingual(): exponent must be 'pair' or 'shared'; got {exponent!r}",
            hint="exponent='pair' (per pair, shared by its mixtures) or 'shared' (one for all pairs)",
            cli_hint="--exponent pair or shared",
        )
    if not 0 < interval < 1:
        raise InvalidParameterError(f"multilingual(): interval must be in (0, 1); got {interval!r}", hint="e.g. 0.9")
    if int(n_resamples) != n_resamples or n_resamples < 20:
        raise InvalidParameterError(
            f"multilingual(): n_resamples must be a whole number >= 20; got {n_resamples!r}",
            hint="e.g. n_resamples=200",
            cli_hint="e.g. --n-resamples 200",
        )
    frame = _frame(runs)
    _require(frame, (pair, weight, "params", y))
    frame = frame.rename(columns={weight: "mixture_weight"}) if weight != "mixture_weight" else frame
    labels = sorted(map(str, frame[pair].unique()))
    frame = frame.assign(**{pair: frame[pair].astype(str)})
    for lab in labels:
        if frame.loc[frame[pair] == lab, "mixture_weight"].round(9).nunique() < 2:
            raise DataError(
                f"language pair '{lab}' was trained at a single mixture weight; f(w) needs at least 2",
                column="mixture_weight",
                kind="too-few",
                hint="train the pair in at least two mixtures, or drop it",
            )
    point, draws = {}, {}
    lname, gname, _, _ = FORMS[form]
    fixed = {gname: 1.0} if form == "proportional" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exponent == "pair":
            for lab in labels:
                f = fit(frame[frame[pair] == lab], lname, y=y, fixed=fixed)
                dr = sample_params(f, n_resamples, method="bootstrap", seed=seed)
                point[lab] = {"L_inf": f.params["L_inf"], "beta": f.params["beta"], "alpha": f.params["alpha"]}
                draws[lab] = {k: dr[k].to_numpy(float) for k in ("L_inf", "beta", "alpha")}
                if form != "proportional":
                    point[lab]["g"] = f.params[gname]
                    draws[lab]["g"] = dr[gname].to_numpy(float)
        else:
            jl = joint_mixture_law(len(labels), form)
            jf = frame.assign(pair_index=frame[pair].map({lab: i + 1 for i, lab in enumerate(labels)}).astype(float))
            f = fit(jf, jl, y=y)
            dr = sample_params(f, n_resamples, method="bootstrap", seed=seed)
            for i, lab in enumerate(labels, 1):
                keys = {"L_inf": f"L_inf_{i}", "beta": f"beta_{i}", "alpha": "alpha"}
                if form != "proportional":
                    keys["g"] = f"g_{i}"
                point[lab] = {k: f.params[v] for k, v in keys.items()}
                draws[lab] = {k: dr[v].to_numpy(float) for k, v in keys.items()}
    rows = []
    for lab in labels:
        for q, v in point[lab].items():
            lo, hi = _q(draws[lab][q], interval)
            rows.append({"pair": lab, "quantity": gname if q == "g" else q, "estimate": v, "lower": lo, "upper": hi})
    estimates = pd.DataFrame(rows)
    N_at = float(params) if params is not None else float(frame["params"].max())
    eff = []
    for lab in labels:
        ws = weights or sorted(frame.loc[frame[pair] == lab, "mixture_weight"].round(9).unique())
        for w in ws:
            if not 0 < w <= 1:
                raise InvalidParameterError(f"multilingual(): weights must lie in (0, 1]; got {w!r}", hint="e.g. 0.25")
            f0 = float(effective_fraction(form, w, point[lab].get("g", 1.0)))
            lo, hi = _q(effective_fraction(form, w, draws[lab].get("g", 1.0)), interval)
            eff.append(
                {
                    "pair": lab,
                    "weight": float(w),
                    "fraction": f0,
                    "lower": lo,
                    "upper": hi,
                    "effective_params": f0 * N_at,
                }
            )
    effective = pd.DataFrame(eff)
    notes = [
        "the f(w) form is scalinglab's choice (Fernandes et al. 2023 do not give one that is confirmed here); "
        "compare forms with form=",
    ]
    tst = None
    if test:
        tst = exponent_test(
            frame.rename(columns={"mixture_weight": "mixture_weight"}), pair=pair, y=y, n_null=n_null, seed=seed
        )
    return MultilingualResult(
        form=form,
        exponent=exponent,
        estimates=estimates,
        effective=effective,
        test=tst,
        interval=interval,
        n_draws=int(n_resamples),
        params_at=N_at,
        notes=tuple(notes),
        point={k: {q: float(v) for q, v in d.items()} for k, d in point.items()},
        draws=draws,
        data=frame.rename(columns={pair: "pair", y: "loss"})[["pair", "mixture_weight", "params", "loss"]],
    )


def _shown(ctx) -> bool:
    fr = getattr(ctx, "frame", None)
    return fr is not None and {"pair", "mixture_weight", "params"} <= set(fr.columns)


@register_section(
    "multilingual", title="Multilingual mixtures: effective parameters", order=74, weight=lambda ctx: int(_shown(ctx))
)
def _report_section(ctx) -> Section | None:
    """Fernandes et al.'s effective parameters, when the report's runs hold pairs trained at mixture weights."""
    if not _shown(ctx):
        return None
    ctx.step("multilingual")
    result = multilingual(ctx.frame, interval=ctx.interval, n_null=39)
    ctx.results["multilingual"] = result
    return result.section(render=ctx.render)
