"""Arms compared by their scaling: per-arm fits, exponent tests, crossovers and multipliers.

Researchers fit scaling laws mostly to compare two choices (an architecture, a
recipe, synthetic vs real data).  Comparing at one size misleads: the best
architecture changes with scale (Tay et al. 2022, "Scaling Laws vs Model
Architectures").  :func:`compare` fits one law to each arm (the rows sharing a
value of ``by``) through the group-wise fitter (``fit(by=)``), then answers:

* **Do the exponents differ?**  Each arm's runs are resampled with replacement
  (all checkpoints of a run together) and refitted in one batched solve per arm
  (:func:`scalinglab.fit.bootstrap`); arms are independent, so the draws of
  ``Delta = theta_A - theta_B`` are differences of independent draws.  The test
  statistic is ``t = Delta_hat / se_boot(Delta)`` against Student's t with
  ``df = (runs_A - P_A) + (runs_B - P_B)`` (the small-sample reference; the
  objective is Huber, so the chi-square of a likelihood-ratio test does not
  apply); ``se_boot`` is the IQR of the draws / 1.349 (robust to the extreme
  resamples of small arms, see :func:`difference_test`).  The interval is ``Delta_hat +- t_q se_boot``; p-values are also given
  Holm-adjusted over the pairs.  ``bench/compare_null.py`` measures the
  false-positive rate and power.
* **Where does one arm overtake another?**  The crossover is the first scale in
  ``scale_range`` where ``f_A(x) - f_B(x)`` changes sign, for the estimate and
  for every paired bootstrap draw.  Draws that do not cross are censored at the
  side their order implies (below the range if already overtaken, above it
  otherwise), so the percentile interval may be open ("> hi").  When fewer than
  ``1 - interval`` of the draws cross in range and the estimate does not, the
  answer is "no crossover in [lo, hi]".
* **How much more scale does an arm need?**  The multiplier of arm B over the
  reference A at scale x is ``m(x) = f_B^{-1}(f_A(x)) / x``: the compute (or
  data, or parameters; whatever the scale is) B needs to reach the loss A
  reaches at x (``nan`` where B never reaches it, e.g. below B's floor).

The scale is the law's input for one-input laws (``x="tokens"`` for data
scaling); for a two-input law with a compute-optimal allocation (Chinchilla) it
is compute ``C = 6 N D`` along each arm's own compute-optimal frontier.

The report shows this analysis as "Arms compared" when the runs have an ``arm``
column with 2 to 8 values (registered below).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._validation import check_fraction, check_int
from scalinglab.analyze._base import AnalysisResult
from scalinglab.data import RunsTable, read_runs
from scalinglab.errors import DataError, FitError, InvalidParameterError
from scalinglab.fit import Fit, FitSet, bootstrap, fit
from scalinglab.laws import DEFAULT_LAW, get_law
from scalinglab.render import FigureRenderer, Section, fmt, note_html, register_section, table_html

__all__ = ["compare", "CompareResult", "EXPONENT_NAMES", "exponent_params", "difference_test", "find_crossover"]

#: Parameter names read as scaling exponents (when not a linear coefficient).
EXPONENT_NAMES = ("alpha", "beta", "c", "alpha_N", "alpha_D", "c0", "pe", "pd", "p")
#: The report shows arms when the runs have this many values of ``arm``.
REPORT_ARMS = (2, 8)
_FORMAT = "scalinglab.compare/1"
_SCALE_WORDS = {"flops": "compute", "tokens": "data", "params": "parameter"}
_GRID = 96


def exponent_params(law: Any) -> list[str]:
    """The law's exponent parameters: :data:`EXPONENT_NAMES` not entering linearly.

    The "Revisiting" estimators name their data exponent ``c`` (their ``alpha``/``beta``
    are a shape and a coefficient), so a law with a ``c`` is tested on ``c`` alone.

    Examples
    --------
    >>> exponent_params("chinchilla"), exponent_params("power_floor"), exponent_params("M4")
    (['alpha', 'beta'], ['alpha'], ['c'])
    """
    lw = get_law(law)
    if "c" in lw.params and "c" not in lw.linear:
        return ["c"]
    return [p for p in lw.params if p in EXPONENT_NAMES and p not in lw.linear]


# ------------------------------------------------------------------------------ scale axis


@dataclass(frozen=True)
class _Scale:
    column: str  # the scale's column: the law's input, or "flops" along the frontier
    frontier: bool  # True: a two-input law evaluated at its compute-optimal allocation


def _scale_of(f: Fit) -> _Scale:
    lw = f.law
    if len(lw.inputs) == 1:
        return _Scale(f.columns[next(iter(lw.inputs))], False)
    return _scale_of_law(lw)


def _scale_of_law(lw: Any) -> _Scale:
    if lw.has_allocation and {"params", "tokens"} <= set(lw.inputs.values()):
        return _Scale("flops", True)
    raise InvalidParameterError(
        f"compare(): law '{lw.name}' has inputs {list(lw.inputs)} and no compute-optimal allocation, so its "
        "curves have no single scale to compare along",
        hint="use a one-input law with x=<column> (e.g. law='power_floor', x='tokens'), or a law with an "
        "allocation such as chinchilla",
        cli_hint="use a one-input law with --x COLUMN (e.g. --law power_floor --x tokens), or --law chinchilla",
    )


def _curves(f: Fit, scale: _Scale, params: Mapping[str, Any], xs: np.ndarray) -> np.ndarray:
    """Loss of ``f.law`` at scales ``xs`` (params may be (B, 1) arrays: one row per draw)."""
    lw = f.law
    P = {p: np.asarray(v, float) for p, v in params.items()}
    with np.errstate(all="ignore"):
        if not scale.frontier:
            return np.asarray(lw.evaluate({next(iter(lw.inputs)): xs}, P), float)
        opt = lw.compute_optimum(P, xs, 6.0, with_exponent=False)
        sym = {col: s for s, col in lw.inputs.items()}
        out = lw.evaluate(
            {sym["params"]: np.asarray(opt.params, float), sym["tokens"]: np.asarray(opt.tokens, float)}, P
        )
        return np.where(np.asarray(opt.valid, bool), out, np.nan)


def _scale_values(frame: pd.DataFrame, f: Fit, scale: _Scale) -> np.ndarray:
    if scale.column in frame:
        return frame[scale.column].to_numpy(float)
    if scale.column == "flops" and {"params", "tokens"} <= set(frame.columns):
        return 6.0 * frame["params"].to_numpy(float) * frame["tokens"].to_numpy(float)
    raise DataError(
        f"compare(): the scale column '{scale.column}' is missing",
        column=scale.column,
        kind="missing-column",
        hint="give params and tokens (or flops) for every run",
    )


# ------------------------------------------------------------------------------ helpers


def _clean(v: Any) -> Any:
    """Plain JSON: floats (NaN/inf as None), ints, lists, dicts."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_clean(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    return v


def _arr(v: Sequence[Any] | None) -> np.ndarray:
    return np.array([np.nan if x is None else x for x in (v or [])], dtype=float)


def difference_test(estimate: float, draws: np.ndarray, df: int, interval: float = 0.9) -> dict:
    """Test ``Delta = 0`` from its estimate and bootstrap draws: ``t = Delta / se_boot`` against Student's t.

    ``se_boot`` is the normal-consistent interquartile range of the draws, ``IQR / 1.349``: with
    few runs per arm some resamples repeat a handful of points and give extreme exponents, which
    inflate the standard deviation of the draws (on simulated arms with 8 runs it is 1.8x the
    true sampling spread, the IQR 1.26x; ``bench/compare_null.py``).  The standard deviation is
    returned as ``se_std``.  ``df`` (at least 1) is the residual degrees of freedom,
    ``(runs_A - P_A) + (runs_B - P_B)`` for two arms.  Returns the difference, se, df, the
    ``interval`` confidence interval ``Delta +- t_q se`` and the two-sided p.

    Examples
    --------
    >>> r = difference_test(0.1, np.random.default_rng(0).normal(0.1, 0.04, 500), df=10)
    >>> round(r["se"], 3), r["df"], round(r["p_value"], 3)
    (0.041, 10, 0.036)
    """
    from scipy.stats import t as student_t

    dd = np.asarray(draws, float)
    dd = dd[np.isfinite(dd)]
    se_std = float(np.std(dd, ddof=1)) if dd.size > 1 else math.nan
    se = float(np.subtract(*np.percentile(dd, [75, 25])) / 1.349) if dd.size > 1 else math.nan
    df = int(max(1, df))
    q = float(student_t.ppf(1 - (1 - interval) / 2, df))
    if se > 0:
        pv = float(2 * student_t.sf(abs(estimate) / se, df))
    else:
        pv = math.nan if se != 0 else (0.0 if estimate != 0 else 1.0)
    return {
        "difference": _clean(estimate),
        "se": _clean(se),
        "se_std": _clean(se_std),
        "df": df,
        "lower": _clean(estimate - q * se),
        "upper": _clean(estimate + q * se),
        "p_value": _clean(pv),
    }


def _first_crossing(D: np.ndarray, xs: np.ndarray, before: float) -> np.ndarray:
    """Scale of the first change of sign(D) away from ``before`` in each row (NaN: none)."""
    s = np.sign(D)
    s = np.where(np.isfinite(D), s, 0.0)
    change = (s[:, :-1] == before) & (s[:, 1:] == -before)
    has = change.any(axis=1)
    j = np.argmax(change, axis=1)
    rows = np.arange(D.shape[0])
    d0, d1 = D[rows, j], D[rows, j + 1]
    lx0, lx1 = np.log(xs[j]), np.log(xs[j + 1])
    with np.errstate(all="ignore"):
        t = d0 / (d0 - d1)
    out = np.exp(lx0 + np.clip(t, 0, 1) * (lx1 - lx0))
    return np.where(has, out, np.nan)


def _invert(curve: np.ndarray, xw: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Scale at which a decreasing ``curve`` (on ``xw``) reaches ``loss``.

    ``inf`` where the curve never gets that low (e.g. below its floor), ``0`` where it is already
    lower at the start of ``xw``, ``nan`` where the loss or the curve is not finite.
    """
    c = np.minimum.accumulate(np.where(np.isfinite(curve), curve, np.inf))
    ok = np.isfinite(c)
    if ok.sum() < 2:
        return np.full_like(loss, np.nan)
    c, lx = c[ok][::-1], np.log(xw[ok])[::-1]  # increasing loss
    c, idx = np.unique(c, return_index=True)
    lx = lx[idx]
    out = np.exp(np.interp(loss, c, lx))
    out = np.where(loss < c[0], np.inf, np.where(loss > c[-1], 0.0, out))
    return np.where(np.isfinite(loss), out, np.nan)


def _holm(p: list[float]) -> list[float]:
    """Holm's step-down adjustment of p-values (Holm 1979)."""
    p_arr = np.asarray(p, float)
    m = len(p_arr)
    order = np.argsort(p_arr)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_arr[i]))
        adj[i] = running
    return adj.tolist()


# ------------------------------------------------------------------------------ result


@dataclass(frozen=True)
class CompareResult(AnalysisResult):
    """Arms compared by their scaling (:func:`compare`); every field is plain JSON.

    Attributes
    ----------
    law, by, scale : str
        The law, the arm column, and the scale curves are compared along (a column;
        ``"flops"`` along the compute-optimal frontier of a two-input law).
    frontier : bool
        Whether the scale is compute along each arm's compute-optimal frontier.
    arms : list of str
        The fitted arms, in table order; ``reference`` is the arm multipliers are relative to.
    scale_range : [lo, hi]
        Where crossovers are looked for and curves drawn.
    interval, resamples, seed :
        Interval level, run-bootstrap resamples per arm, seed.
    per_arm : list of dict
        Per arm: runs, points, parameters, their percentile intervals, RMSE of log loss.
    tests : list of dict
        Per exponent and pair of arms: difference, bootstrap se, df, interval, p, Holm p.
    crossovers : list of dict
        Per pair: whether/where the curves cross in range, interval, share of draws crossing.
    curves, multipliers, points : dict
        The grid and bands drawn by :meth:`figure`; the data points per arm.
    failed : dict
        Arms that could not be fitted, with the reason.
    fits : dict
        ``arm -> Fit`` (restored by :meth:`from_dict`).
    """

    name = "arms"
    title = "Arms compared"

    law: str
    by: str
    scale: str
    frontier: bool
    arms: list
    reference: str
    scale_range: list
    interval: float
    resamples: int
    seed: int
    exponents: list
    per_arm: list
    tests: list
    crossovers: list
    curves: dict = field(repr=False)
    multipliers: dict = field(repr=False)
    points: dict = field(repr=False)
    failed: dict = field(default_factory=dict)
    fits: dict = field(default_factory=dict, repr=False)

    # -- text ---------------------------------------------------------------------------------
    @property
    def scale_word(self) -> str:
        """``compute``, ``data`` or ``parameter`` (what the multiplier multiplies)."""
        return _SCALE_WORDS.get(self.scale, self.scale)

    def table(self) -> pd.DataFrame:
        """One row per arm: runs, points, each parameter with its interval, RMSE of log loss."""
        rows = []
        for a in self.per_arm:
            row = {self.by: a["arm"], "runs": a["runs"], "points": a["points"]}
            for p, v in a["params"].items():
                lo, hi = a["intervals"].get(p, [None, None])
                row[p] = f"{fmt(v)} [{fmt(lo)}, {fmt(hi)}]" if lo is not None else fmt(v)
            row["rmse_log"] = a["rmse_log"]
            rows.append(row)
        return pd.DataFrame(rows)

    def tests_frame(self) -> pd.DataFrame:
        """The exponent tests as a table."""
        return pd.DataFrame(self.tests)

    def crossover(self, a: str, b: str) -> dict:
        """The crossover record of arms ``a`` and ``b`` (either order)."""
        for c in self.crossovers:
            if {c["arm_a"], c["arm_b"]} == {a, b}:
                return c
        raise InvalidParameterError(f"CompareResult.crossover(): no pair ({a!r}, {b!r})", hint=f"arms: {self.arms}")

    def multiplier(self, arm: str, at: float | Sequence[float]) -> np.ndarray:
        """The multiplier of ``arm`` over the reference at scale(s) ``at`` (log interpolation on the grid)."""
        if arm not in self.multipliers.get("arms", {}):
            raise InvalidParameterError(
                f"CompareResult.multiplier(): no multiplier for arm {arm!r}",
                hint=f"arms other than the reference '{self.reference}': {list(self.multipliers.get('arms', {}))}",
            )
        x = _arr(self.multipliers["x"])
        m = _arr(self.multipliers["arms"][arm]["estimate"])
        with np.errstate(all="ignore"):
            return np.exp(np.interp(np.log(np.atleast_1d(np.asarray(at, float))), np.log(x), np.log(m)))

    def summary(self) -> str:
        lvl = f"{self.interval:.0%}"
        lo, hi = self.scale_range
        scale_txt = "compute C = 6ND along each arm's compute-optimal frontier" if self.frontier else f"{self.scale}"
        lines = [
            f"Arms compared by '{self.by}' with {self.law} (scale: {scale_txt}); {len(self.arms)} arms, {lvl} "
            f"intervals from {self.resamples} run-bootstrap resamples per arm (seed {self.seed})",
            "",
            self.table().to_string(index=False, float_format=lambda v: f"{v:.4f}"),
        ]
        lines += [f"not fitted: {a} ({why})" for a, why in self.failed.items()]
        if self.tests:
            lines += ["", f"Exponent differences (robust bootstrap se, Student t reference; {lvl} intervals):"]
            for t in self.tests:
                lines.append(
                    f"  {t['param']}: {t['arm_a']} - {t['arm_b']} = {fmt(t['difference'])} "
                    f"[{fmt(t['lower'])}, {fmt(t['upper'])}], se {fmt(t['se'])}, df {t['df']}, "
                    f"p = {_p(t['p_value'])} (Holm {_p(t['p_holm'])})"
                )
        lines += ["", f"Crossovers in {self.scale} [{fmt(lo)}, {fmt(hi)}]:"]
        lines += [f"  {c['statement']}" for c in self.crossovers]
        arms = self.multipliers.get("arms", {})
        if arms:
            xs = _arr(self.multipliers["x"])
            at = [xs[0], float(np.exp(np.log(xs).mean())), xs[-1]]
            lines += [
                "",
                f"{self.scale_word.capitalize()} multiplier over '{self.reference}' (how much more {self.scale} an "
                f"arm needs to reach the loss '{self.reference}' reaches at that {self.scale}; {lvl} band):",
            ]
            for arm, m in arms.items():
                cells = []
                for x in at:
                    i = int(np.argmin(np.abs(np.log(xs) - np.log(x))))
                    e, lo_, hi_ = m["estimate"][i], m["lower"][i], m["upper"][i]
                    cells.append(f"at {fmt(xs[i])}: {fmt(e)} [{fmt(lo_)}, {fmt(hi_)}]")
                lines.append(f"  {arm}: " + "; ".join(cells))
        return "\n".join(lines)

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "analysis": self.name,
            "law": self.law,
            "by": self.by,
            "scale": self.scale,
            "frontier": self.frontier,
            "arms": list(self.arms),
            "reference": self.reference,
            "scale_range": list(self.scale_range),
            "interval": self.interval,
            "resamples": self.resamples,
            "seed": self.seed,
            "exponents": list(self.exponents),
            "per_arm": self.per_arm,
            "tests": self.tests,
            "crossovers": self.crossovers,
            "curves": self.curves,
            "multipliers": self.multipliers,
            "points": self.points,
            "failed": dict(self.failed),
            "fits": {a: f.to_dict() for a, f in self.fits.items()},
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> CompareResult:
        """The result a :meth:`to_dict` payload describes (``from_dict(d).to_dict() == d``)."""
        if not isinstance(payload, Mapping) or payload.get("format") != _FORMAT:
            raise DataError(
                "CompareResult.from_dict(): not a scalinglab compare result",
                kind="invalid-result",
                hint="pass the dict written by CompareResult.to_dict() (scalinglab compare --json)",
            )
        try:
            fits = {a: Fit.from_dict(d) for a, d in payload.get("fits", {}).items()}
            kw = {
                k: payload[k]
                for k in (
                    "law",
                    "by",
                    "scale",
                    "frontier",
                    "arms",
                    "reference",
                    "scale_range",
                    "interval",
                    "resamples",
                    "seed",
                    "exponents",
                    "per_arm",
                    "tests",
                    "crossovers",
                    "curves",
                    "multipliers",
                    "points",
                    "failed",
                )
            }
        except KeyError as err:
            raise DataError(
                f"CompareResult.from_dict(): field {err} is missing",
                kind="invalid-result",
                hint="pass the dict written by CompareResult.to_dict()",
            ) from None
        return cls(**kw, fits=fits)

    # -- figure -------------------------------------------------------------------------------
    def figure(self):
        """Loss vs scale per arm with bands and crossovers marked; multiplier over the reference."""
        from scalinglab.render import figure_context, label_for, new_figure, run_colors, set_scale

        with figure_context():
            arms_m = self.multipliers.get("arms", {})
            fig, axes = new_figure(2 if arms_m else 1, width=11.0 if arms_m else 6.0, height=4.0)
            ax = axes[0][0]
            import matplotlib

            tab = matplotlib.colormaps["tab10"]
            colors = {a: tab(i) for i, a in enumerate(self.arms)} if len(self.arms) <= 10 else run_colors(self.arms)
            xs = _arr(self.curves["x"])
            for arm in self.arms:
                c = self.curves["arms"][arm]
                col = colors[arm]
                ax.fill_between(xs, _arr(c["lower"]), _arr(c["upper"]), color=col, alpha=0.18, lw=0)
                ax.plot(xs, _arr(c["estimate"]), color=col, lw=1.6, label=arm)
                p = self.points.get(arm)
                if p:
                    ax.scatter(_arr(p["x"]), _arr(p["y"]), color=col, s=12, alpha=0.7, zorder=3)
            for c in self.crossovers:  # a cross at the crossing, its interval as a horizontal bar
                if not (c["crosses"] and c["scale"] is not None):
                    continue
                xc = float(c["scale"])
                yc = float(np.interp(np.log(xc), np.log(xs), _arr(self.curves["arms"][c["arm_a"]]["estimate"])))
                lo_ = c["lower"] if c["lower"] is not None else xs[0]
                hi_ = c["upper"] if c["upper"] is not None else xs[-1]
                ax.errorbar(
                    [xc], [yc], xerr=[[xc - lo_], [hi_ - xc]], fmt="x", color="0.15", ms=7, capsize=3, lw=1, zorder=4
                )
                if len(self.arms) == 2:
                    ax.axvline(xc, color="0.3", ls="--", lw=0.9)
                    ax.annotate(
                        f"{c['after']} overtakes {c['before']}",
                        (xc, 0.97),
                        xycoords=("data", "axes fraction"),
                        fontsize=7,
                        ha="center",
                        va="top",
                    )
            ax.set_xscale("log")
            ys = np.concatenate([_arr(self.curves["arms"][a]["estimate"]) for a in self.arms])
            set_scale(ax, "y", ys[np.isfinite(ys) & (ys > 0)])
            ax.set_xlabel("compute C = 6ND (FLOPs), compute-optimal" if self.frontier else label_for(self.scale))
            ax.set_ylabel("loss")
            ax.legend(fontsize=7, title=self.by, title_fontsize=7)
            ax.set_title(f"{self.law} per {self.by}, {self.interval:.0%} bands", fontsize=9)
            if arms_m:
                ax2 = axes[0][1]
                xm = _arr(self.multipliers["x"])
                for arm, m in arms_m.items():
                    col = colors[arm]
                    ax2.fill_between(xm, _arr(m["lower"]), _arr(m["upper"]), color=col, alpha=0.18, lw=0)
                    ax2.plot(xm, _arr(m["estimate"]), color=col, lw=1.6, label=arm)
                ax2.axhline(1.0, color="0.4", lw=0.8)
                ax2.set_xscale("log")
                ax2.set_yscale("log")
                ax2.set_xlabel(f"{self.scale} of '{self.reference}'")
                ax2.set_ylabel(f"{self.scale_word} multiplier over '{self.reference}'")
                ax2.legend(fontsize=7)
                ax2.set_title(f"{self.scale} each arm needs to match '{self.reference}'", fontsize=9)
            return fig

    # -- report -------------------------------------------------------------------------------
    def section(self, render: FigureRenderer | None = None) -> Section:
        """The report's "Arms compared": the per-arm table, tests, crossovers and the figure."""
        render = render or FigureRenderer()
        fid = f"fig-{self.name}"
        body = table_html(self.table(), caption=f"{self.law} fitted to each {self.by} ({self.interval:.0%} intervals)")
        if self.tests:
            t = self.tests_frame()[["param", "arm_a", "arm_b", "difference", "lower", "upper", "p_value", "p_holm"]]
            body += table_html(t, caption="Exponent differences: run bootstrap se, Student t reference")
        body += "".join(note_html(c["statement"]) for c in self.crossovers)
        body += render(
            self.figure(),
            fid,
            f"Loss against {self.scale} per {self.by} with {self.interval:.0%} bands (crossovers dashed); "
            f"the {self.scale_word} multiplier over '{self.reference}'.",
        )
        return Section(self.name, self.title, body, figures=(fid,))


def _p(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3g}" if v >= 1e-4 else "<1e-4"


# ------------------------------------------------------------------------------ the analysis


def compare(
    data: RunsTable | pd.DataFrame | str,
    by: str = "arm",
    law: Any = DEFAULT_LAW,
    *,
    x: Any = None,
    y: str = "loss",
    exponents: Sequence[str] | None = None,
    reference: str | None = None,
    scale_range: tuple[float, float] | None = None,
    interval: float = 0.9,
    resamples: int = 1000,
    seed: int = 0,
    fit_options: Mapping[str, Any] | None = None,
) -> CompareResult:
    """Compare arms (``by``) by their scaling: fits, exponent tests, crossovers, multipliers.

    Parameters
    ----------
    data : RunsTable, DataFrame or path
        Runs with a column ``by`` naming each row's arm (select checkpoints first).
    by : str
        The arm column (``"arm"``, ``"family"``, ...).
    law : str or Law
        One-input law (with ``x=`` the scale column) or a two-input law with a
        compute-optimal allocation (compared along compute, ``C = 6ND``).
    x, y : as in :func:`scalinglab.fit`.
    exponents : sequence of str, optional
        Parameters to test (default :func:`exponent_params`).
    reference : str, optional
        The arm multipliers are relative to (default: the first arm).
    scale_range : (lo, hi), optional
        Where crossovers are looked for (default: the pooled data range, extended a
        decade upward).
    interval : float
        Level of every interval (0.9).
    resamples : int
        Run-bootstrap resamples per arm.
    seed : int
    fit_options : mapping, optional
        Extra arguments for :func:`scalinglab.fit`.

    Returns
    -------
    CompareResult

    Raises
    ------
    DataError
        ``by`` is not a column, or fewer than two arms could be fitted.
    InvalidParameterError
        Bad ``interval``, ``resamples``, ``scale_range``, ``reference`` or ``exponents``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> D = np.geomspace(1e6, 1e9, 8)
    >>> def arm(name, E, a):
    ...     loss = (E + 30 * D ** -a) * np.exp(rng.normal(0, 0.005, D.size))
    ...     return pd.DataFrame({"run": [f"{name}{i}" for i in range(8)], "arm": name, "tokens": D, "loss": loss})
    >>> r = compare(pd.concat([arm("a", 2.0, 0.3), arm("b", 1.0, 0.2)]), law="power_floor", x="tokens",
    ...             resamples=200)
    >>> t = r.tests[0]
    >>> t["param"], round(t["difference"], 1), t["p_value"] < 0.05
    ('alpha', 0.1, True)
    >>> c = r.crossover("a", "b")
    >>> c["crosses"], c["after"], 1e6 < c["scale"] < 1e9
    (True, 'b', True)
    >>> CompareResult.from_dict(r.to_dict()).to_dict() == r.to_dict()
    True
    """
    check_fraction(interval, "interval", "compare")
    check_int(resamples, "resamples", "compare", minimum=20)
    lw = get_law(law)
    table = read_runs(data, required=())
    frame = table.frame
    if not isinstance(by, str) or not by:
        raise InvalidParameterError(f"compare(): 'by' must be a column name; got {by!r}", hint="e.g. by='arm'")
    exps = list(exponents) if exponents is not None else exponent_params(lw)
    bad = [p for p in exps if p not in lw.params]
    if bad:
        raise InvalidParameterError(
            f"compare(): {bad} are not parameters of law '{lw.name}'",
            hint=f"exponents= from {list(lw.params)}",
            cli_hint=f"use --exponent with one of {list(lw.params)}",
        )
    if len(lw.inputs) > 1 and not (lw.has_allocation and {"params", "tokens"} <= set(lw.inputs.values())):
        _scale_of_law(lw)  # raises: no single scale
    if scale_range is not None:
        try:
            lo, hi = (float(v) for v in scale_range)
        except (TypeError, ValueError):
            lo, hi = math.nan, math.nan
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
            raise InvalidParameterError(
                f"compare(): scale_range must be two positive numbers lo < hi; got {scale_range!r}",
                hint="e.g. scale_range=(1e18, 1e22)",
                cli_hint="e.g. --range 1e18,1e22",
            )
    if reference is not None and by in frame and str(reference) not in set(map(str, frame[by].dropna().unique())):
        raise InvalidParameterError(
            f"compare(): reference arm {reference!r} is not a value of '{by}'",
            hint=f"use reference= one of {sorted(map(str, frame[by].dropna().unique()))}",
            cli_hint=f"use --reference with one of {sorted(map(str, frame[by].dropna().unique()))}",
        )
    options = {"x": x, "y": y, **dict(fit_options or {})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # per-arm diagnostics are in each fit
        fs: FitSet = fit(frame, lw, by=by, **options)
    fits = dict(fs.fits)
    failed = dict(fs.failures)
    if len(fits) < 2:
        reasons: dict[str, list[str]] = {}
        for a, r in failed.items():
            reasons.setdefault(str(r).replace("<DataFrame>, ", "").replace("<DataFrame>: ", ""), []).append(a)
        why = "; ".join(
            f"{', '.join(g[:3])}{', ...' if len(g) > 3 else ''}: {r}" for r, g in list(reasons.items())[:2]
        ) + ("; ..." if len(reasons) > 2 else "")
        raise DataError(
            f"compare(): {len(fits)} arm(s) of '{by}' could be fitted, 2 are needed"
            + (f" ({why})" if why else f" (the column has {frame[by].nunique()} value(s))"),
            column=by,
            kind="too-few-groups",
            hint=f"give at least two values of '{by}' with enough runs each for law '{lw.name}'",
            cli_hint=f"use --by with a column that has at least two arms, each with enough runs for --law {lw.name}",
        )
    arms = list(fits)
    if reference is None:
        reference = arms[0]
    if reference not in fits:
        raise InvalidParameterError(
            f"compare(): reference arm {reference!r} is not among the fitted arms {arms}",
            hint=f"use reference= one of {arms}",
            cli_hint=f"use --reference with one of {arms}",
        )
    scale = _scale_of(fits[arms[0]])
    # ---- scale range -----------------------------------------------------------------------
    sx = {a: _scale_values(f.data, f, scale) for a, f in fits.items()}
    if scale_range is None:
        lo = float(min(v[v > 0].min() for v in sx.values()))
        hi = float(max(v.max() for v in sx.values())) * 10.0
    xs = np.geomspace(lo, hi, _GRID)
    # ---- bootstrap each arm ----------------------------------------------------------------
    draws: dict[str, pd.DataFrame] = {}
    per_arm = []
    a_lvl = (1 - interval) / 2
    for i, (arm, f) in enumerate(fits.items()):
        try:
            b = bootstrap(f, resamples, seed=seed + i)
        except FitError as err:
            raise DataError(
                f"compare(): arm '{arm}' cannot be resampled: {err}",
                column=by,
                kind="too-few-runs",
                hint=f"give arm '{arm}' at least 2 runs",
            ) from None
        draws[arm] = b.draws
        ci = b.conf_int(interval)
        per_arm.append(
            {
                "arm": arm,
                "runs": int(b.n_units),
                "points": int(f.n_points),
                "free_params": int(len(f.free_params)),
                "params": _clean(dict(f.params)),
                "intervals": {p: _clean([r.lower, r.upper]) for p, r in ci.iterrows()},
                "rmse_log": _clean(f.rmse_log),
                "resamples_ok": int(b.n_ok),
                "bootstrap_by": b.by,
            }
        )
    B = min(len(d) for d in draws.values())
    info = {a["arm"]: a for a in per_arm}
    # ---- exponent tests --------------------------------------------------------------------
    tests = []
    for p in exps:
        for a, b in combinations(arms, 2):
            if p not in fits[a].free_params or p not in fits[b].free_params:
                continue
            d_hat = fits[a].params[p] - fits[b].params[p]
            dd = draws[a][p].to_numpy()[:B] - draws[b][p].to_numpy()[:B]
            df = info[a]["runs"] - info[a]["free_params"] + info[b]["runs"] - info[b]["free_params"]
            tests.append(
                {
                    "param": p,
                    "arm_a": a,
                    "arm_b": b,
                    "estimate_a": _clean(fits[a].params[p]),
                    "estimate_b": _clean(fits[b].params[p]),
                    **difference_test(d_hat, dd, df, interval),
                }
            )
    for p in exps:  # Holm within each exponent's family of pairs
        idx = [i for i, t in enumerate(tests) if t["param"] == p]
        for i, v in zip(idx, _holm([tests[i]["p_value"] for i in idx])):
            tests[i]["p_holm"] = _clean(v)
    # ---- curves and bands ------------------------------------------------------------------
    est_curve = {a: _curves(f, scale, f.params, xs) for a, f in fits.items()}
    draw_curve = {
        a: _curves(f, scale, {p: draws[a][p].to_numpy()[:B, None] for p in f.law.params}, xs[None, :])
        for a, f in fits.items()
    }
    curves = {"x": _clean(xs), "arms": {}}
    for a in arms:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lo_b, hi_b = np.nanquantile(draw_curve[a], [a_lvl, 1 - a_lvl], axis=0)
        curves["arms"][a] = {"estimate": _clean(est_curve[a]), "lower": _clean(lo_b), "upper": _clean(hi_b)}
    # ---- crossovers ------------------------------------------------------------------------
    crossovers = []
    for a, b in combinations(arms, 2):
        crossovers.append(find_crossover(a, b, est_curve, draw_curve, xs, interval))
    # ---- multipliers -----------------------------------------------------------------------
    xw = np.geomspace(lo / 1e4, hi * 1e4, 600)
    ref_est = est_curve[reference]
    ref_draw = draw_curve[reference]
    mult = {"x": _clean(xs), "reference": reference, "arms": {}}
    for arm, f in fits.items():
        if arm == reference:
            continue
        wide_est = _curves(f, scale, f.params, xw)
        m_est = _invert(wide_est, xw, ref_est) / xs
        wide_draw = _curves(f, scale, {p: draws[arm][p].to_numpy()[:B, None] for p in f.law.params}, xw[None, :])
        m_draw = np.vstack([_invert(wide_draw[k], xw, ref_draw[k]) / xs for k in range(B)])
        # quantiles with "never reaches" as +inf (censored, not dropped): the band is open above when
        # more than the tail share of draws never reach the reference's loss
        unreachable = np.isinf(m_draw).mean(axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            big = np.where(np.isinf(m_draw), 1e300, m_draw)
            lo_m, hi_m = np.nanquantile(big, [a_lvl, 1 - a_lvl], axis=0)
        lo_m, hi_m = (np.where(v >= 1e299, np.inf, v) for v in (lo_m, hi_m))
        mult["arms"][arm] = {
            "estimate": _clean(m_est),
            "lower": _clean(lo_m),
            "upper": _clean(hi_m),
            "unreachable_share": _clean(unreachable),
        }
    points = {a: {"x": _clean(sx[a]), "y": _clean(fits[a].data[fits[a].target].to_numpy(float))} for a in arms}
    return CompareResult(
        law=lw.name,
        by=by,
        scale=scale.column,
        frontier=scale.frontier,
        arms=arms,
        reference=reference,
        scale_range=[lo, hi],
        interval=float(interval),
        resamples=int(resamples),
        seed=int(seed),
        exponents=exps,
        per_arm=per_arm,
        tests=tests,
        crossovers=crossovers,
        curves=curves,
        multipliers=mult,
        points=points,
        failed=failed,
        fits=fits,
    )


def find_crossover(a: str, b: str, est: dict, drw: dict, xs: np.ndarray, interval: float = 0.9) -> dict:
    """Where arm ``a``'s and ``b``'s curves cross on the grid ``xs``: estimate and censored percentile interval.

    ``est[arm]`` is the estimated curve (G,), ``drw[arm]`` the paired bootstrap curves (B, G).
    A crossover is the first sign change of ``f_a - f_b`` away from its sign at ``xs[0]``
    (log-linear interpolation).  Draws without one are placed beyond the range on the side
    their order implies, so ``lower``/``upper`` are ``None`` when the interval is open.

    Examples
    --------
    >>> xs = np.geomspace(1, 100, 50)
    >>> r = find_crossover("a", "b", {"a": 2 - np.log(xs), "b": np.ones(50)}, {"a": (2 - np.log(xs))[None, :],
    ...                    "b": np.ones((1, 50))}, xs)
    >>> round(r["scale"], 2), r["after"], r["before"]
    (2.72, 'a', 'b')
    """
    lo, hi = float(xs[0]), float(xs[-1])
    d_est = (est[a] - est[b])[None, :]
    d_drw = drw[a] - drw[b]
    finite = np.isfinite(d_est[0])
    if not finite.any():
        return {
            "arm_a": a,
            "arm_b": b,
            "crosses": False,
            "scale": None,
            "lower": None,
            "upper": None,
            "share_crossing": None,
            "before": None,
            "after": None,
            "statement": f"{a} vs {b}: the curves cannot be evaluated in [{fmt(lo)}, {fmt(hi)}]",
        }
    before = float(np.sign(d_est[0][finite][0])) or 1.0  # sign of a - b at the low end
    x_est = float(_first_crossing(d_est, xs, before)[0])
    crosses = bool(np.isfinite(x_est))
    x_drw = _first_crossing(d_drw, xs, before)
    share = float(np.isfinite(x_drw).mean())
    # censor draws without a crossing at the side their order implies
    s0 = np.sign(np.where(np.isfinite(d_drw[:, 0]), d_drw[:, 0], before))
    low_sentinel, high_sentinel = lo / 10.0, hi * 10.0
    filled = np.where(np.isfinite(x_drw), x_drw, np.where(s0 == before, high_sentinel, low_sentinel))
    al = (1 - interval) / 2
    q_lo, q_hi = np.quantile(filled, [al, 1 - al])
    lower = None if q_lo <= lo else float(q_lo)  # None: open (below the range)
    upper = None if q_hi >= hi else float(q_hi)  # None: open (above the range)
    worse_first, better_first = (a, b) if before > 0 else (b, a)  # before > 0: a's loss is higher at lo
    rng_txt = f"[{fmt(lo)}, {fmt(hi)}]"
    ival = f"[{'< ' + fmt(lo) if lower is None else fmt(lower)}, {'> ' + fmt(hi) if upper is None else fmt(upper)}]"
    if crosses:
        statement = (
            f"{worse_first} overtakes {better_first} at {fmt(x_est)} {ival} ({share:.0%} of draws cross in {rng_txt})"
        )
    elif share < 1 - interval:
        statement = (
            f"{a} vs {b}: no crossover in {rng_txt} ({better_first} below {worse_first} throughout; "
            f"{share:.0%} of draws cross)"
        )
    else:
        statement = (
            f"{a} vs {b}: no crossover at the estimate in {rng_txt} ({better_first} below {worse_first}), but "
            f"{share:.0%} of draws cross ({interval:.0%} interval {ival}): one cannot be ruled out"
        )
    return {
        "arm_a": a,
        "arm_b": b,
        "crosses": crosses,
        "scale": _clean(x_est) if crosses else None,
        "lower": _clean(lower),
        "upper": _clean(upper),
        "share_crossing": _clean(share),
        "before": better_first,
        "after": worse_first,
        "statement": statement,
    }


# ------------------------------------------------------------------------------ report


def _report_arms(ctx) -> list[str]:
    return [str(v) for v in pd.unique(ctx.frame["arm"].dropna())] if "arm" in ctx.frame else []


def _shown(ctx) -> bool:
    lo, hi = REPORT_ARMS
    return lo <= len(_report_arms(ctx)) <= hi


@register_section("arms", title="Arms compared", order=61, weight=lambda ctx: int(_shown(ctx)))
def _report_section(ctx) -> Section | None:
    """The main law fitted to each arm of the report's runs, tested and compared."""
    if not _shown(ctx):
        return None
    ctx.step("arms")
    try:
        result = compare(
            ctx.fit_table,
            "arm",
            ctx.laws[0],
            x=ctx.x,
            y=ctx.y,
            interval=ctx.interval,
            resamples=200,
            fit_options=ctx.fit_options,
        )
    except (DataError, InvalidParameterError, FitError) as err:
        return Section("arms", "Arms compared", "", status="error", note=f"Left out: {err}")
    ctx.results["arms"] = result
    return result.section(render=ctx.render)
