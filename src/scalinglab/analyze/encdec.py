"""Encoder/decoder NMT: the best encoder/decoder split, proportional scaling and the loss -> BLEU link.

Ghorbani et al. 2021 ("Scaling Laws for Neural Machine Translation", arXiv:2109.07740)
fit ``L = alpha (Ne_bar/Ne)^pe (Nd_bar/Nd)^pd + L_inf`` (eq. 2; scalinglab's law
``nmt_encdec`` writes the scale as one ``A``) jointly on encoder-scaling and
decoder-scaling runs.  From the form (exact, owned by the law):

* for a fixed total N_e + N_d = B the loss is lowest at **N_e/N_d = pe/pd**;
* along proportional scaling (a fixed share) **L - L_inf ~ B^-(pe + pd)**.

:func:`encdec` fits the law, gives pe, pd, the split, the encoder share and pe + pd with
run-bootstrap intervals, the best split and its loss at given totals
(:func:`scalinglab.plan.split_params`), and the loss of any (N_e, N_d).  With a score column
(``metric="bleu"``) it fits the cross-entropy -> BLEU link as a second step with the
two-step link of :mod:`scalinglab.analyze.downstream` (the paper relates BLEU to the loss
but its formula is unconfirmed, so the link is a choice: exponential by default), predicts
BLEU at the best splits, and checks for a **stalled link**: the paper finds that on
source-original test sets BLEU stops improving while the loss still falls.

No public encoder/decoder grid or BLEU-vs-loss table exists here; :func:`simulate_encdec`
generates data from the form with known truth, which is what the tests and the
benchmark ``bench/encdec_coverage.py`` use.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.analyze._base import AnalysisResult
from scalinglab.analyze._json import json_value as _num
from scalinglab.analyze._json import quantile_interval as _q
from scalinglab.analyze._json import records as _records
from scalinglab.analyze.downstream import fit_link, link_draws, link_value
from scalinglab.data import RunsTable, read_runs
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.fit import fit
from scalinglab.fit._uncertainty import sample_params
from scalinglab.laws._encdec import ENCDEC_LAW
from scalinglab.plan import split_params
from scalinglab.render import FigureRenderer, Section, figure_context, kv_html, new_figure, register_section, table_html

__all__ = ["encdec", "EncDecResult", "simulate_encdec", "stall_check", "TRUTH", "BLEU_TRUTH"]

_DERIVED = ("optimal_split", "optimal_encoder_fraction", "proportional_exponent")
#: the truth :func:`simulate_encdec` draws from by default (illustrative values, not the paper's)
TRUTH = {"L_inf": 0.8, "A": 7.5e4, "pe": 0.25, "pd": 0.35}
#: default BLEU link of the simulation: bleu/100 = 1 - eps + k exp(-gamma L)
BLEU_TRUTH = {"eps": 1.0, "k": 2.0, "gamma": 1.2}


def _compact(table: pd.DataFrame) -> str:
    """One column per quantity, ``estimate [lower..upper]`` where an interval exists."""
    out = pd.DataFrame(index=table.index)
    for c in table.columns:
        if c.endswith(("_lower", "_upper")):
            continue
        v = table[c]
        if f"{c}_lower" in table:
            out[c] = [f"{a:.4g} [{lo:.4g}..{hi:.4g}]" for a, lo, hi in zip(v, table[f"{c}_lower"], table[f"{c}_upper"])]
        else:
            out[c] = [f"{a:.4g}" if isinstance(a, (float, np.floating)) else str(a) for a in v]
    return out.to_string(index=False)


def stall_check(
    loss,
    score,
    *,
    best: float = 1 / 3,
    ratio: float = 0.5,
    interval: float = 0.9,
    n_boot: int = 400,
    seed: int = 0,
) -> dict[str, Any]:
    """Does the score stop improving while the loss still falls?  Slope ratio with a bootstrap interval.

    ``slope_best`` is the least-squares slope of the score against ``-loss`` over the
    ``best`` fraction of points with the lowest loss, ``slope_all`` over every point, and
    ``r = slope_best / slope_all``.  A link with the shape the paper reports for
    target-original test sets (BLEU improving ever faster as the loss falls) has r >= 1; a
    stalled one (source-original sets, Ghorbani et al. 2021) r near 0.  The link is called
    **stalled** when the upper end of the ``interval`` pairs-bootstrap interval of r lies
    below ``ratio``.

    Examples
    --------
    >>> L = np.linspace(2.4, 1.6, 30)
    >>> stall_check(L, 100 * (3 * np.exp(-1.2 * np.maximum(L, 2.0))))["stalled"]
    True
    >>> stall_check(L, 100 * (3 * np.exp(-1.2 * L)))["stalled"]
    False
    """
    L = np.asarray(loss, float)
    s = np.asarray(score, float)
    ok = np.isfinite(L) & np.isfinite(s)
    L, s = L[ok], s[ok]
    n_best = max(int(round(best * L.size)), 3)
    if L.size < 6 or n_best >= L.size:
        return {"stalled": None, "ratio": None, "lower": None, "upper": None, "message": "too few points to check"}
    cut = np.sort(L)[n_best - 1]

    def r_of(Lx, sx):
        x = -Lx
        sa = np.polyfit(x, sx, 1)[0] if np.ptp(x) > 0 else np.nan
        m = Lx <= cut
        sb = np.polyfit(x[m], sx[m], 1)[0] if m.sum() >= 3 and np.ptp(x[m]) > 0 else np.nan
        return sb / sa if sa > 0 else np.nan

    r = float(r_of(L, s))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, L.size, size=(n_boot, L.size))
    boots = np.array([r_of(L[i], s[i]) for i in idx])
    lo, hi = _q(boots, interval)
    stalled = bool(np.isfinite(hi) and hi < ratio)
    if not np.isfinite(r):
        msg = "the score does not rise as the loss falls over the whole range; no link to check"
        stalled = None
    elif stalled:
        msg = (
            f"STALLED: below loss {cut:.4g} the score gains {r:.2f} of its overall rate per unit loss "
            f"({interval:.0%} interval {lo:.2f}..{hi:.2f} < {ratio}); the loss improves but the score stalls "
            "(Ghorbani et al. 2021 see this on source-original test sets): do not extrapolate the score "
            "from the loss"
        )
    else:
        msg = (
            f"not stalled: at the lowest losses the score gains {r:.2f} of its overall rate per unit loss "
            f"({interval:.0%} interval {lo:.2f}..{hi:.2f})"
        )
    return {
        "stalled": stalled,
        "ratio": r,
        "lower": lo,
        "upper": hi,
        "threshold": ratio,
        "best_fraction": best,
        "loss_cut": float(cut),
        "message": msg,
    }


def simulate_encdec(
    truth: dict | None = None,
    *,
    encoder: tuple = (2e7, 4e7, 8e7, 1.6e8, 3.2e8, 6.4e8),
    decoder: tuple = (2e7, 4e7, 8e7, 1.6e8, 3.2e8, 6.4e8),
    fixed: float = 1.6e8,
    noise: float = 0.003,
    bleu: dict | None = None,
    bleu_noise: float = 0.3,
    stall_loss: float | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Encoder-scaling and decoder-scaling runs drawn from the law with known truth (no real data).

    As in Ghorbani et al. (2021): one arm scales the encoder at a fixed decoder (``fixed``
    parameters), the other the decoder at a fixed encoder; the loss gets Gaussian noise of
    standard deviation ``noise`` (their seed-to-seed 0.003).  With ``bleu`` (link parameters
    of ``error_exponential``; default :data:`BLEU_TRUTH`) a ``bleu`` column in points:
    ``100 (1 - eps + k exp(-gamma L))`` plus ``bleu_noise`` points of noise, computed at
    ``max(L, stall_loss)`` when ``stall_loss`` is given (a stalled link).

    Examples
    --------
    >>> d = simulate_encdec(seed=1)
    >>> len(d), sorted(d.columns)
    (12, ['decoder_params', 'encoder_params', 'loss', 'run'])
    """
    truth = dict(TRUTH if truth is None else truth)
    rng = np.random.default_rng(seed)
    Ne = np.concatenate([np.asarray(encoder, float), np.full(len(decoder), fixed)])
    Nd = np.concatenate([np.full(len(encoder), fixed), np.asarray(decoder, float)])
    L = ENCDEC_LAW(Ne=Ne, Nd=Nd, **truth) + noise * rng.standard_normal(Ne.size)
    out = pd.DataFrame(
        {
            "run": [f"enc{i}" for i in range(len(encoder))] + [f"dec{i}" for i in range(len(decoder))],
            "encoder_params": Ne,
            "decoder_params": Nd,
            "loss": L,
        }
    )
    if bleu is not None or stall_loss is not None:
        b = dict(BLEU_TRUTH if not bleu else bleu)
        Lb = L if stall_loss is None else np.maximum(L, stall_loss)
        out["bleu"] = 100 * (1 - b["eps"] + b["k"] * np.exp(-b["gamma"] * Lb)) + bleu_noise * rng.standard_normal(
            L.size
        )
    return out


@dataclass(frozen=True)
class EncDecResult(AnalysisResult):
    """The encoder/decoder fit and the answers that follow from it.

    Attributes
    ----------
    fit : Fit
        The ``nmt_encdec`` fit.
    estimates : DataFrame
        ``quantity``, ``estimate``, ``lower``, ``upper``: the parameters, ``optimal_split``
        (pe/pd), ``optimal_encoder_fraction`` and ``proportional_exponent`` (pe + pd).
    split : DataFrame
        Per total: best encoder/decoder parameters, ratio, share, loss, exponent with intervals.
    at : DataFrame or None
        Loss at the requested (N_e, N_d) with intervals.
    bleu : dict or None
        The loss -> score link: link, params, scale, predictions at the best splits, stall check.
    """

    name = "encdec"
    title = "Encoder/decoder NMT: the best split"

    fit: Any = field(repr=False)
    estimates: pd.DataFrame
    split: pd.DataFrame
    at: pd.DataFrame | None
    bleu: dict | None
    interval: float
    method: str
    n_draws: int
    notes: tuple = ()
    points: pd.DataFrame = field(default=None, repr=False)
    link_fit: Any = field(default=None, repr=False)

    def value(self, quantity: str) -> float:
        """Point estimate of a quantity of :attr:`estimates` (e.g. ``"optimal_split"``)."""
        row = self.estimates[self.estimates["quantity"] == quantity]
        if row.empty:
            raise InvalidParameterError(f"no quantity '{quantity}'", hint=f"one of {list(self.estimates['quantity'])}")
        return float(row["estimate"].iloc[0])

    def summary(self) -> str:
        iv = f"{self.interval:.0%}"
        lines = [
            f"Encoder/decoder law {self.fit.law.formula} (Ghorbani et al. 2021) on {self.fit.n_points} runs; "
            f"{iv} intervals from {self.n_draws} {self.method} draws",
            "",
            self.estimates.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
            "",
            "Best split of a parameter total (N_e/N_d = pe/pd; L - L_inf ~ B^-(pe + pd) along it):",
            _compact(self.split),
        ]
        if self.at is not None:
            lines += ["", "Loss at the requested (N_e, N_d):"]
            lines.append(_compact(self.at.rename(columns={"lower": "loss_lower", "upper": "loss_upper"})))
        if self.bleu is not None:
            b = self.bleu
            lines += [
                "",
                f"Second step: {b['metric']} = link(loss), {b['link']} link on {b['n_points']} runs "
                f"(score / {b['scale']:g}); " + ", ".join(f"{k}={v:.4g}" for k, v in b["params"].items()),
            ]
            lines.append(_compact(pd.DataFrame(b["predictions"])))
            lines.append(b["stall"]["message"])
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": self.name,
            "law": self.fit.law.name,
            "formula": self.fit.law.formula,
            "params": {k: _num(v) for k, v in self.fit.params.items()},
            "interval": self.interval,
            "method": self.method,
            "n_draws": self.n_draws,
            "estimates": _records(self.estimates),
            "split": _records(self.split),
            "at": _records(self.at) if self.at is not None else None,
            "bleu": self.bleu,
            "notes": list(self.notes),
        }

    def figure(self):
        """Loss against the encoder share at each total (best split marked); the loss -> score link."""
        lw, P = self.fit.law, self.fit.params
        ncols = 2 if self.bleu is not None else 1
        with figure_context():
            fig, axes = new_figure(ncols=ncols)
            ax = axes[0, 0]
            share = np.linspace(0.05, 0.95, 181)
            for i, row in enumerate(self.split.to_dict("records")):
                B = row["params"]
                L = lw(Ne=share * B, Nd=(1 - share) * B, **P)
                ax.plot(share, L, color=f"C{i}", label=f"total {B:.3g}")
                ax.axvline(row["first_share"], color=f"C{i}", ls=":", lw=1)
                if "first_share_lower" in row:
                    ax.axvspan(row["first_share_lower"], row["first_share_upper"], color=f"C{i}", alpha=0.1, lw=0)
            ax.set_xlabel("encoder share N_e / (N_e + N_d)")
            ax.set_ylabel("loss")
            ax.set_title(f"best share pe/(pe+pd) = {self.value('optimal_encoder_fraction'):.3f}", fontsize=9)
            ax.legend(fontsize=7)
            if self.bleu is not None and self.points is not None:
                ax = axes[0, 1]
                b = self.bleu
                pts = self.points
                ax.scatter(pts["loss"], pts["score"], s=10, color="0.4", label="runs")
                grid = np.linspace(pts["loss"].min() * 0.97, pts["loss"].max() * 1.02, 200)
                ax.plot(grid, b["scale"] * link_value(self.link_fit, b["link"], grid), color="C0", label="link")
                for p in b["predictions"]:
                    ax.errorbar(
                        p["loss"],
                        p["score"],
                        yerr=[[max(p["score"] - p["score_lower"], 0)], [max(p["score_upper"] - p["score"], 0)]],
                        fmt="s",
                        color="C3",
                        ms=4,
                        capsize=2,
                    )
                if b["stall"].get("stalled"):
                    ax.axvline(b["stall"]["loss_cut"], color="C3", ls="--", lw=1, label="stalled below")
                ax.set_xlabel("loss")
                ax.set_ylabel(b["metric"])
                ax.invert_xaxis()
                ax.legend(fontsize=7)
        return fig

    def section(self, render: FigureRenderer | None = None) -> Section:
        render = render or FigureRenderer()
        fid = "fig-encdec"
        pairs = [("law", self.fit.law.formula), ("runs", self.fit.n_points), ("intervals", self.method)]
        if self.bleu is not None:
            pairs.append(("loss -> score link", self.bleu["stall"]["message"]))
        body = (
            kv_html(pairs)
            + table_html(self.estimates.round(5), caption="estimates")
            + table_html(self.split, caption="best split of a parameter total")
            + render(self.figure(), fid, "Loss against the encoder share at each total; the loss -> score link.")
        )
        return Section(self.name, self.title, body, figures=(fid,))


def _frame(runs) -> pd.DataFrame:
    if isinstance(runs, RunsTable):
        return runs.frame
    if isinstance(runs, pd.DataFrame):
        return runs
    return read_runs(runs, required=()).frame


def encdec(
    runs: RunsTable | pd.DataFrame | str,
    *,
    params: list[float] | float | None = None,
    at: pd.DataFrame | None = None,
    y: str = "loss",
    x: dict | None = None,
    metric: str | None = None,
    link: str = "exponential",
    scale: float | None = None,
    interval: float = 0.9,
    n_resamples: int = 200,
    seed: int = 0,
) -> EncDecResult:
    """Fit the encoder/decoder law and answer the design questions (Ghorbani et al. 2021).

    Parameters
    ----------
    runs : RunsTable, DataFrame or path
        Columns ``encoder_params``, ``decoder_params`` and ``y`` (map others with ``x=``).
    params : float or list, optional
        Parameter totals to split (default: the largest fitted total and 10x it).
    at : DataFrame, optional
        (``encoder_params``, ``decoder_params``) rows whose loss to predict with intervals.
    metric : str, optional
        A score column (e.g. ``"bleu"``): fit the loss -> score link as a second step.
    link : {"exponential", "sigmoid"}
        The second-step link (:func:`scalinglab.analyze.downstream.fit_link`);
        exponential: ``score/scale = 1 - eps + k exp(-gamma L)``.
    scale : float, optional
        The score's full scale (default 100 when any score exceeds 1, i.e. BLEU in points).
    interval : float
        Level of the intervals (run-bootstrap percentiles).
    n_resamples : int
        Bootstrap refits of the law (and of the link).

    Returns
    -------
    EncDecResult

    Examples
    --------
    >>> r = encdec(simulate_encdec(seed=0), params=1e9, n_resamples=50)
    >>> round(r.value("optimal_split"), 1), round(r.value("proportional_exponent"), 1)  # truth 0.714, 0.6
    (0.7, 0.6)
    """
    if not 0 < interval < 1:
        raise InvalidParameterError(f"encdec(): interval must be in (0, 1); got {interval!r}", hint="e.g. 0.9")
    if int(n_resamples) != n_resamples or n_resamples < 20:
        raise InvalidParameterError(
            f"encdec(): n_resamples must be a whole number >= 20; got {n_resamples!r}",
            hint="e.g. n_resamples=200 (CLI: --n-resamples 200)",
        )
    frame = _frame(runs)
    lw = ENCDEC_LAW
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = fit(frame, lw, x=x, y=y)
    cols = f.columns
    method = "bootstrap" if f.n_points >= 8 else "delta"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        draws = sample_params(f, n_resamples, method=method, seed=seed)
    P = {p: draws[p].to_numpy(float) for p in lw.params}
    rows = []
    for p in lw.params:
        lo, hi = _q(P[p], interval)
        rows.append({"quantity": p, "estimate": float(f.params[p]), "lower": lo, "upper": hi})
    for d in _DERIVED:
        lo, hi = _q(lw.derive(d, P), interval)
        rows.append({"quantity": d, "estimate": float(lw.derive(d, f.params)), "lower": lo, "upper": hi})
    estimates = pd.DataFrame(rows)
    totals = frame[cols["Ne"]].to_numpy(float) + frame[cols["Nd"]].to_numpy(float)
    Bs = np.atleast_1d(np.asarray(params if params is not None else [totals.max(), 10 * totals.max()], float))
    alloc = split_params(f, Bs, interval=interval, draws=draws)
    split = alloc.table
    notes = list(alloc.warnings)
    at_table = None
    if at is not None:
        missing = [c for c in (cols["Ne"], cols["Nd"]) if c not in at]
        if missing:
            raise DataError(
                f"encdec(): 'at' lacks columns {missing}",
                column=missing[0],
                kind="missing-column",
                hint="give rows of encoder_params and decoder_params (CLI: --at NE,ND)",
            )
        Ne, Nd = at[cols["Ne"]].to_numpy(float), at[cols["Nd"]].to_numpy(float)
        Ld = lw.evaluate({"Ne": Ne[None, :], "Nd": Nd[None, :]}, {k: v[:, None] for k, v in P.items()})
        lo, hi = np.nanquantile(Ld, [(1 - interval) / 2, (1 + interval) / 2], axis=0)
        at_table = pd.DataFrame(
            {
                cols["Ne"]: Ne,
                cols["Nd"]: Nd,
                "loss": lw.evaluate({"Ne": Ne, "Nd": Nd}, f.params),
                "lower": lo,
                "upper": hi,
            }
        )
    bleu = None
    link_fit = None
    points = None
    if metric is not None:
        bleu, link_fit, points = _second_step(frame, f, metric, link, scale, Bs, P, interval, n_resamples, seed)
        if bleu["stall"].get("stalled"):
            notes.append("the loss -> score link stalls: score predictions at lower losses are not trustworthy")
    return EncDecResult(
        fit=f,
        estimates=estimates,
        split=split,
        at=at_table,
        bleu=bleu,
        interval=interval,
        method=method,
        n_draws=int(n_resamples),
        notes=tuple(notes),
        points=points,
        link_fit=link_fit,
    )


def _second_step(frame, f, metric, link, scale, Bs, P, interval, n, seed):
    if metric not in frame:
        raise DataError(
            f"encdec(): the score column '{metric}' is not in the runs table",
            column=metric,
            kind="missing-column",
            hint=f"name a score column with metric=...; columns: {list(frame.columns)[:20]}",
            cli_hint=f"name a score column with --metric COLUMN; columns: {list(frame.columns)[:20]}",
        )
    L = f.data[f.target].to_numpy(float)
    score = pd.to_numeric(f.data[metric], errors="coerce").to_numpy(float) if metric in f.data else None
    if score is None or score.size != L.size:
        score = pd.to_numeric(frame[metric], errors="coerce").to_numpy(float)
    if scale is None:
        scale = 100.0 if np.nanmax(score) > 1 else 1.0
    if scale <= 0:
        raise InvalidParameterError(f"encdec(): scale must be > 0; got {scale!r}", hint="e.g. scale=100 for BLEU")
    runs = f.data["run"].astype(str).to_numpy() if "run" in f.data else np.arange(L.size).astype(str)
    pts = pd.DataFrame({"run": runs, "L": L, "acc": score / scale}).dropna()
    if len(pts) < 6:
        raise DataError(
            f"encdec(): only {len(pts)} runs with a '{metric}' score; the link needs at least 6",
            column=metric,
            kind="too-few",
            hint="score more runs",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f2, rows = fit_link(pts, link, anchors=False)
        d2 = link_draws(f2, rows, n, seed + 1)
    lw = f.law
    share = lw.derive("optimal_encoder_fraction", P)
    preds = []
    for B in Bs:
        Ld = lw.evaluate({"Ne": share * B, "Nd": (1 - share) * B}, P)
        sd = np.clip(scale * link_value(f2, link, Ld, {k: d2[k].to_numpy() for k in d2.columns}), 0, scale)
        s0 = lw.derive("optimal_encoder_fraction", f.params)
        L0 = float(lw.evaluate({"Ne": s0 * B, "Nd": (1 - s0) * B}, f.params))
        lo, hi = _q(sd, interval)
        preds.append(
            {
                "params": float(B),
                "loss": L0,
                "score": float(np.clip(scale * link_value(f2, link, L0), 0, scale)),
                "score_lower": lo,
                "score_upper": hi,
                "in_link_range": bool(pts["L"].min() <= L0 <= pts["L"].max()),
            }
        )
    stall = stall_check(pts["L"], pts["acc"] * scale, interval=interval, seed=seed)
    out = {
        "metric": metric,
        "link": link,
        "law": f2.law.name,
        "formula": f2.law.formula,
        "scale": float(scale),
        "params": {k: _num(v) for k, v in f2.params.items()},
        "n_points": int(len(pts)),
        "loss_range": [float(pts["L"].min()), float(pts["L"].max())],
        "predictions": [{k: _num(v) for k, v in p.items()} for p in preds],
        "stall": {k: _num(v) for k, v in stall.items()},
        "note": "the BLEU-vs-loss formula of Ghorbani et al. 2021 is unconfirmed; the link is scalinglab's choice",
    }
    return out, f2, pd.DataFrame({"loss": pts["L"], "score": pts["acc"] * scale})


def _shown(ctx) -> bool:
    fr = getattr(ctx, "frame", None)
    return fr is not None and {"encoder_params", "decoder_params"} <= set(fr.columns)


@register_section("encdec", title="Encoder/decoder NMT: the best split", order=72, weight=lambda ctx: int(_shown(ctx)))
def _report_section(ctx) -> Section | None:
    """Ghorbani et al.'s encoder/decoder split, when the report's runs have encoder and decoder sizes."""
    if not _shown(ctx):
        return None
    ctx.step("encdec")
    metric = "bleu" if "bleu" in ctx.frame else None
    result = encdec(ctx.frame, interval=ctx.interval, metric=metric)
    ctx.results["encdec"] = result
    return result.section(render=ctx.render)
