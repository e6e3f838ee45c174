"""Effective data transferred by pre-training (Hernandez et al. 2021, "Scaling Laws for Transfer").

A model pre-trained on one distribution and fine-tuned on D_F tokens of another
reaches some loss L.  The *effective data* D_E is what a model of the same size
trained from scratch on the target distribution would need to reach that loss: the
root in D of the from-scratch law, L_scratch(N, D_E) = L (their eq. 6.1, with
Kaplan's L(N, D); Chinchilla's form is the alternative).  Then

    D_T = D_E - D_F                      (effective data transferred)
    D_T = k * D_F^alpha * N^beta         (eq. 1.1, the low-data regime)
    (D_F + D_T) / D_F                    (effective-data multiplier, eq. 1.2)

and **ossification** is D_T < 0: the pre-trained model ends worse than a model
trained from scratch on the same D_F.  The paper's text -> Python constants are
k = 1.9e4, alpha = 0.18, beta = 0.38 (D in characters, N non-embedding).

:func:`transfer` fits the from-scratch law on the scratch runs' final checkpoints,
inverts it for every fine-tuned run and every bootstrap draw of the law at once
(vectorised bisection in log D), and fits (k, alpha, beta) by least squares in
log space on each draw paired with a resample of the fine-tuned runs, so the
intervals carry both the scratch law's and the fine-tuned runs' uncertainty.

>>> from scalinglab.analyze.transfer import transfer_law
>>> f"{transfer_law(1e6, 1e8, 1.9e4, 0.18, 0.38):.4g}"   # the paper's text -> Python golden value
'2.505e+08'
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.analyze._base import AnalysisResult
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.laws._transfer import SCRATCH_LAW, TEXT_TO_PYTHON
from scalinglab.render import FigureRenderer, Section, escape, fmt, kv_html, register_section, table_html

#: Hernandez et al. 2021, Table 1, English text -> Python (D_F in characters, N non-embedding).
PAPER_TEXT_TO_PYTHON = dict(TEXT_TO_PYTHON)
_KEY = "effective_data"  # analysis, section and results key
_LOW_D, _HIGH_D = 0.0, 40.0  # log10 bounds of the inversion (1 to 1e40 tokens)


def transfer_law(D_F, N, k: float, alpha: float, beta: float):
    """D_T = k D_F^alpha N^beta (Hernandez et al. 2021, eq. 1.1).

    >>> round(float(transfer_law(1e6, 1e9, 1.9e4, 0.18, 0.38) / transfer_law(1e6, 1e8, 1.9e4, 0.18, 0.38)), 3)
    2.399
    """
    return k * np.asarray(D_F, dtype=float) ** alpha * np.asarray(N, dtype=float) ** beta


def multiplier(D_F, N, k: float, alpha: float, beta: float):
    """Effective-data multiplier (D_F + D_T) / D_F (Hernandez et al. 2021, eq. 1.2).

    >>> round(float(multiplier(1e6, 1e8, 1.9e4, 0.18, 0.38)), 2)
    251.47
    """
    D_F = np.asarray(D_F, dtype=float)
    return (D_F + transfer_law(D_F, N, k, alpha, beta)) / D_F


def _symbols(fit) -> tuple[str, str]:
    cols = {fit.columns.get(s, c): s for s, c in fit.law.inputs.items()}
    if "params" not in cols or "tokens" not in cols or len(fit.law.inputs) != 2:
        raise InvalidParameterError(
            f"the from-scratch law must take N (params) and D (tokens) only; '{fit.law.name}' takes "
            f"{sorted(fit.columns.values())}",
            hint="use law='kaplan' or law='chinchilla'",
        )
    return cols["params"], cols["tokens"]


def effective_data(fit, params, loss, *, draws: pd.DataFrame | None = None, iters: int = 80) -> np.ndarray:
    """D_E: the from-scratch data at which ``fit``'s law reaches ``loss`` at ``params`` (vectorised).

    Solves L(N, D_E) = loss by bisection in log10 D on [1, 1e40] for every point and
    (with ``draws``, one row per parameter draw) every draw at once: the result has
    shape ``(n_points,)`` or ``(n_draws, n_points)``.  ``inf`` where the loss is below
    the law's infinite-data loss at that N (no amount of scratch data reaches it), ``0``
    where it is above the law's loss at one token.

    >>> import numpy as np, pandas as pd
    >>> from scalinglab.fit import fit
    >>> N, D = np.repeat([1e6, 3e6, 1e7, 3e7], 4), np.tile([1e7, 3e7, 1e8, 3e8], 4)
    >>> f = fit(pd.DataFrame({"params": N, "tokens": D, "loss": 1.0 + 50 / N**0.3 + 300 / D**0.3}), "chinchilla")
    >>> float(np.round(effective_data(f, [1e7], [1.0 + 50 / 1e7**0.3 + 300 / 5e7**0.3])[0] / 5e7, 4))
    1.0
    """
    n_sym, d_sym = _symbols(fit)
    N = np.atleast_1d(np.asarray(params, dtype=float))
    L = np.atleast_1d(np.asarray(loss, dtype=float))
    if draws is None:
        P = {p: np.float64(v) for p, v in fit.params.items()}
        shape = N.shape
    else:
        P = {p: draws[p].to_numpy(dtype=float)[:, None] for p in fit.law.params}
        shape = (len(draws), N.size)
        N, L = N[None, :], L[None, :]

    def f(logd):
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            return np.asarray(fit.law(**{n_sym: N, d_sym: 10.0**logd}, **P), dtype=float) - L

    a = np.full(shape, _LOW_D)
    b = np.full(shape, _HIGH_D)
    fa, fb = f(a), f(b)
    for _ in range(iters):
        m = 0.5 * (a + b)
        right = f(m) > 0
        a, b = np.where(right, m, a), np.where(right, b, m)
    out = 10.0 ** (0.5 * (a + b))
    out = np.where(fb > 0, np.inf, out)  # loss below L(N, infinite data)
    out = np.where(fa < 0, 0.0, out)  # loss above L(N, one token)
    return out


def split_stages(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scratch and fine-tuned rows of a transfer sweep's runs table (its ``stage`` column)."""
    if "stage" not in runs.columns:
        raise DataError(
            "the runs table has no 'stage' column to tell scratch from fine-tuned runs",
            hint="give the scratch and fine-tuned runs as two tables (scalinglab transfer SCRATCH FINETUNED)",
        )
    st = runs["stage"].astype(str)
    scratch, ft = runs[st == "scratch"], runs[st == "finetune"]
    if scratch.empty or ft.empty:
        raise DataError(
            f"the runs table's 'stage' column has {int((st == 'scratch').sum())} scratch and "
            f"{int((st == 'finetune').sum())} finetune rows; both are needed",
            hint="train from-scratch runs on the target corpus as well as fine-tuned ones",
        )
    return scratch.reset_index(drop=True), ft.reset_index(drop=True)


def _frame(runs, what: str) -> pd.DataFrame:
    if isinstance(runs, (str, os.PathLike)):
        from scalinglab.data import read_runs

        runs = read_runs(runs)
    df = runs.frame if hasattr(runs, "frame") and not isinstance(runs, pd.DataFrame) else runs
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    for c in ("params", "tokens", "loss"):
        if c not in df.columns:
            raise DataError(
                f"{what} runs: missing column '{c}'",
                hint="give params (N), tokens (D, or D_F for fine-tuned runs) and loss",
            )
        bad = ~np.isfinite(pd.to_numeric(df[c], errors="coerce")) | (pd.to_numeric(df[c], errors="coerce") <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{what} runs, row {i}, column '{c}': {df[c].iloc[i]!r} is not a positive number",
                hint="drop or fix those rows",
            )
    return df


def _final(df: pd.DataFrame) -> pd.DataFrame:
    """One row per run: the flagged final checkpoint, else the last (most tokens)."""
    if "final" in df.columns:
        out = df[df["final"].astype(str).str.lower().isin(("true", "1"))]
        if not out.empty:
            return out.reset_index(drop=True)
    if "run" in df.columns:
        return df.loc[df.groupby("run")["tokens"].idxmax()].reset_index(drop=True)
    return df.reset_index(drop=True)


def _wls(logDF, logN, logDT, W) -> np.ndarray:
    """Weighted least squares of log D_T on [1, log D_F, log N], one weight row per draw -> (B, 3)."""
    X = np.stack([np.ones_like(logDF), logDF, logN], axis=-1)  # (B, n, 3)
    Xw = X * W[..., None]
    A = np.einsum("bni,bnj->bij", Xw, X)
    y = np.einsum("bni,bn->bi", Xw, logDT)
    out = np.full((W.shape[0], 3), np.nan)
    ok = np.linalg.matrix_rank(A) == 3
    if ok.any():
        out[ok] = np.linalg.solve(A[ok], y[ok][..., None])[..., 0]
    return out


def _q(v, level, axis=0):
    """Percentile interval over draws; +inf draws (unreachable losses) count as the largest values."""
    a = 100 * (1 - level) / 2
    v = np.where(np.isposinf(v), 1e300, np.where(np.isneginf(v), -1e300, v))
    with np.errstate(invalid="ignore"):
        q = np.nanpercentile(v, [a, 100 - a], axis=axis)
    return np.where(q >= 1e299, np.inf, np.where(q <= -1e299, -np.inf, q))


@dataclass(frozen=True)
class TransferResult(AnalysisResult):
    """What :func:`transfer` found.

    Attributes
    ----------
    scratch_fit : Fit
        The from-scratch law L(N, D) fitted to the scratch runs' final checkpoints.
    runs : DataFrame
        One row per fine-tuned run: ``run, params, D_F, loss, D_E`` (+ ``_lower/_upper``),
        ``D_T`` (+ interval), ``multiplier`` (+ interval), ``ossified``, ``ossified_significant``,
        ``extrapolated`` (D_E outside the scratch runs' data range), ``low_data`` (D_F <= 10% of D(N)).
    params : dict
        Fitted k, alpha, beta of D_T = k D_F^alpha N^beta (None when fewer than 3 runs have D_T > 0).
    intervals : dict
        name -> (lower, upper) at ``level``.
    """

    name = _KEY
    title = "Transfer: effective data from pre-training"

    scratch_fit: Any
    runs: pd.DataFrame
    params: dict[str, float] | None
    intervals: dict[str, tuple[float, float]]
    level: float
    n_draws: int
    method: str
    scratch_range: tuple[float, float]
    fraction_not_helping: float
    fraction_not_helping_interval: tuple[float, float]
    ossification_region: str
    paper: Mapping[str, float] = field(default_factory=lambda: dict(PAPER_TEXT_TO_PYTHON))
    scratch: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    notes: tuple[str, ...] = ()
    draws: pd.DataFrame | None = field(default=None, repr=False)

    # ----------------------------------------------------------------- numbers
    def predict(self, D_F, N, *, interval: float | None = None) -> pd.DataFrame:
        """D_T and the multiplier from the fitted (k, alpha, beta) at (D_F, N), with intervals from the draws."""
        if self.params is None:
            raise InvalidParameterError("no transfer law was fitted (fewer than 3 runs with D_T > 0)")
        D_F, N = np.broadcast_arrays(np.atleast_1d(np.asarray(D_F, float)), np.atleast_1d(np.asarray(N, float)))
        p = self.params
        out = pd.DataFrame({"D_F": D_F, "params": N, "D_T": transfer_law(D_F, N, p["k"], p["alpha"], p["beta"])})
        out["multiplier"] = (D_F + out["D_T"]) / D_F
        level = interval or self.level
        if self.draws is not None and len(self.draws):
            d = self.draws
            DT = transfer_law(
                D_F[None, :],
                N[None, :],
                d["k"].to_numpy()[:, None],
                d["alpha"].to_numpy()[:, None],
                d["beta"].to_numpy()[:, None],
            )
            out["D_T_lower"], out["D_T_upper"] = _q(DT, level)
            lo, hi = _q((D_F[None, :] + DT) / D_F[None, :], level)
            out["multiplier_lower"], out["multiplier_upper"] = lo, hi
        return out

    def multiplier_table(self) -> pd.DataFrame:
        """The effective-data multiplier D_E / D_F of every fine-tuned run (mean over seeds) by N and D_F."""
        return self.runs.pivot_table(index="params", columns="D_F", values="multiplier", aggfunc="mean")

    # ----------------------------------------------------------------- contract
    def summary(self) -> str:
        pct = f"{self.level:.0%}"
        f = self.scratch_fit
        lines = [
            f"Transfer (Hernandez et al. 2021): from-scratch law {f.law.name} on {f.n_points} scratch runs "
            f"(final checkpoints), {len(self.runs)} fine-tuned runs",
            "  scratch law: "
            + ", ".join(f"{k}={v:.4g}" for k, v in f.params.items())
            + f"  (RMSE log {f.rmse_log:.4f})",
            f"  scratch data range {self.scratch_range[0]:.3g} - {self.scratch_range[1]:.3g}; "
            f"intervals {pct} from {self.n_draws} {self.method} draws",
            f"  {'N':>9} {'D_F':>9} {'loss':>7} {'D_E':>10} {pct + ' D_E':>22} {'D_T':>10} {'multiplier':>10}  flags",
        ]
        for _, r in self.runs.iterrows():
            flags = ",".join(
                x
                for x, on in (("ossified", r.ossified), ("extrapolated", r.extrapolated), ("high-data", not r.low_data))
                if on
            )
            lines.append(
                f"  {r.params:9.4g} {r.D_F:9.4g} {r.loss:7.4f} {r.D_E:10.4g} "
                f"[{r.D_E_lower:9.3g}, {r.D_E_upper:9.3g}] {r.D_T:10.4g} {r.multiplier:10.3g}  {flags}"
            )
        if self.params is not None:
            lines.append(
                "  D_T = k D_F^alpha N^beta (least squares in log space on runs with D_T > 0 and, "
                "by default, D_E inside the scratch data range):"
            )
            for k in ("k", "alpha", "beta"):
                lo, hi = self.intervals[k]
                lines.append(
                    f"    {k:>5} = {self.params[k]:.4g}  [{lo:.4g}, {hi:.4g}]   paper text->python {self.paper[k]:g}"
                )
        else:
            lines.append("  D_T = k D_F^alpha N^beta: not fitted (fewer than 3 runs with D_T > 0)")
        lo, hi = self.fraction_not_helping_interval
        lines.append(
            f"  transfer does not help (D_T <= 0) in {self.fraction_not_helping:.0%} of the fine-tuned runs "
            f"[{lo:.0%}, {hi:.0%}]"
        )
        lines.append(f"  ossification: {self.ossification_region}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        def clean(v):
            if isinstance(v, (float, np.floating)):
                return float(v) if math.isfinite(v) else None
            if isinstance(v, (np.integer,)):
                return int(v)
            if isinstance(v, np.bool_):
                return bool(v)
            return v

        return {
            "analysis": _KEY,
            "reference": "Hernandez et al. 2021, arXiv:2102.01293",
            "scratch_law": self.scratch_fit.law.name,
            "scratch_params": {k: clean(v) for k, v in self.scratch_fit.params.items()},
            "scratch_range": [clean(x) for x in self.scratch_range],
            "level": self.level,
            "n_draws": self.n_draws,
            "method": self.method,
            "params": None if self.params is None else {k: clean(v) for k, v in self.params.items()},
            "intervals": {k: [clean(a), clean(b)] for k, (a, b) in self.intervals.items()},
            "paper_text_to_python": dict(self.paper),
            "fraction_not_helping": clean(self.fraction_not_helping),
            "fraction_not_helping_interval": [clean(x) for x in self.fraction_not_helping_interval],
            "ossification_region": self.ossification_region,
            "runs": [{k: clean(v) for k, v in row.items()} for row in self.runs.to_dict(orient="records")],
            "notes": list(self.notes),
        }

    def figure(self):
        """Three panels like the paper's: loss vs data at each N, D_T vs D_F with the fit, the fitted surface."""
        from matplotlib.colors import LogNorm

        from scalinglab.render import figure_context, new_figure

        with figure_context():
            fig, axes = new_figure(3, width=13.5, height=4.0)
            ax1, ax2, ax3 = axes[0]
            Ns = sorted(set(self.runs["params"]) | set(self.scratch["params"]))
            import matplotlib

            cmap = matplotlib.colormaps["viridis"]
            col = {n: cmap(i / max(1, len(Ns) - 1) * 0.9) for i, n in enumerate(Ns)}
            f = self.scratch_fit
            n_sym, d_sym = _symbols(f)
            lo_d = min(self.scratch_range[0], self.runs["D_F"].min()) / 1.5
            hi_d = (
                max(self.scratch_range[1], np.nanmax(np.where(np.isfinite(self.runs["D_E"]), self.runs["D_E"], np.nan)))
                * 1.5
            )
            grid = np.geomspace(lo_d, hi_d, 120)
            for n in Ns:
                s = self.scratch[self.scratch["params"] == n]
                ax1.plot(grid, f.law(**{n_sym: np.full_like(grid, n), d_sym: grid}, **f.params), color=col[n], lw=1.2)
                ax1.scatter(s["tokens"], s["loss"], color=col[n], marker="o", s=18, zorder=3)
                r = self.runs[self.runs["params"] == n].sort_values("D_F")
                ax1.plot(r["D_F"], r["loss"], color=col[n], ls="--", marker="^", ms=5, lw=1)
            ax1.set_xscale("log")
            ax1.set_xlabel("data D (scratch) or D_F (fine-tuned), tokens")
            ax1.set_ylabel("held-out loss on the target (nats/token)")
            ax1.set_title("scratch (o, law) vs fine-tuned (^, dashed)")
            for n in Ns:
                r = self.runs[self.runs["params"] == n].sort_values("D_F")
                pos = r[r["D_T"] > 0]
                if len(pos):
                    yerr = np.vstack(
                        [
                            pos["D_T"] - pos["D_T_lower"].clip(lower=pos["D_T"] * 1e-3),
                            pos["D_T_upper"].where(np.isfinite(pos["D_T_upper"]), pos["D_T"]) - pos["D_T"],
                        ]
                    )
                    ax2.errorbar(
                        pos["D_F"],
                        pos["D_T"],
                        yerr=np.clip(yerr, 0, None),
                        fmt="o",
                        color=col[n],
                        ms=4,
                        capsize=2,
                        label=f"N={fmt(n)}",
                    )
                neg = r[~(r["D_T"] > 0)]
                if len(neg):
                    ax2.scatter(
                        neg["D_F"],
                        np.full(len(neg), max(1.0, self.runs["D_T"].clip(lower=1).min() / 3)),
                        marker="x",
                        color=col[n],
                        s=30,
                    )
                if self.params is not None:
                    xs = np.geomspace(r["D_F"].min(), r["D_F"].max(), 50)
                    p = self.params
                    ax2.plot(xs, transfer_law(xs, n, p["k"], p["alpha"], p["beta"]), color=col[n], lw=1)
            ax2.set_xscale("log")
            ax2.set_yscale("log")
            from matplotlib.ticker import NullFormatter

            ax2.xaxis.set_minor_formatter(NullFormatter())
            ax2.set_xlabel("fine-tuning data D_F (tokens)")
            ax2.set_ylabel("effective data transferred D_T")
            ax2.set_title("D_T vs D_F (x: D_T <= 0, ossified)")
            ax2.legend(fontsize=7, loc="best")
            if self.params is not None:
                p = self.params
                xf = np.geomspace(self.runs["D_F"].min() / 2, self.runs["D_F"].max() * 2, 80)
                yn = np.geomspace(min(Ns) / 1.5, max(Ns) * 1.5, 80)
                X, Y = np.meshgrid(xf, yn)
                Z = multiplier(X, Y, p["k"], p["alpha"], p["beta"])
                Z = np.clip(Z, 1.0001, None)
                cs = ax3.contourf(
                    X, Y, Z, levels=np.geomspace(max(1.0001, Z.min()), Z.max(), 12), norm=LogNorm(), cmap="magma"
                )
                fig.colorbar(cs, ax=ax3, label="fitted multiplier (D_F + D_T) / D_F", format="%.3g")
                ax3.contour(X, Y, Z, levels=[2.0, 10.0], colors="white", linewidths=0.8)
            ok = self.runs[~self.runs["ossified"]]
            bad = self.runs[self.runs["ossified"]]
            ax3.scatter(ok["D_F"], ok["params"], c="white", edgecolors="k", s=22, label="run (D_T > 0)")
            if len(bad):
                ax3.scatter(bad["D_F"], bad["params"], c="red", marker="x", s=36, label="ossified (D_T < 0)")
            ax3.set_xscale("log")
            ax3.set_yscale("log")
            ax3.set_xlabel("fine-tuning data D_F (tokens)")
            ax3.set_ylabel("non-embedding parameters N")
            ax3.set_title("fitted D_T = k D_F^a N^b as a multiplier")
            ax3.legend(fontsize=7, loc="lower left")
        return fig

    def section(self, render: FigureRenderer | None = None) -> Section:
        render = render or FigureRenderer()
        pct = f"{self.level:.0%}"
        rows = []
        if self.params is not None:
            for k in ("k", "alpha", "beta"):
                lo, hi = self.intervals[k]
                rows.append(
                    {
                        "parameter": k,
                        "fitted": self.params[k],
                        f"{pct} lower": lo,
                        f"{pct} upper": hi,
                        "paper (text to python)": self.paper[k],
                    }
                )
        cols = [
            "run",
            "params",
            "D_F",
            "loss",
            "D_E",
            "D_E_lower",
            "D_E_upper",
            "D_T",
            "multiplier",
            "ossified",
            "extrapolated",
        ]
        body = (
            kv_html(
                [
                    ("from-scratch law", self.scratch_fit.law.name),
                    ("fine-tuned runs", str(len(self.runs))),
                    ("transfer does not help", f"{self.fraction_not_helping:.0%} of runs"),
                    ("ossification", self.ossification_region),
                ]
            )
            + (table_html(pd.DataFrame(rows), caption="D_T = k D_F^alpha N^beta") if rows else "")
            + table_html(
                self.runs[[c for c in cols if c in self.runs]], caption="effective data per fine-tuned run", max_rows=60
            )
            + render(
                self.figure(),
                "fig-transfer",
                "Loss vs data (scratch law and fine-tuned runs), D_T vs D_F "
                "with the fitted law, and the fitted multiplier surface.",
            )
            + "".join(f"<p class='note'>{escape(n)}</p>" for n in self.notes)
        )
        return Section(self.name, self.title, body, figures=("fig-transfer",))


def _region(runs: pd.DataFrame) -> str:
    oss = runs[runs["ossified"]]
    if oss.empty:
        return "none: every fine-tuned run beats the from-scratch law at its N and D_F"
    n_lo, n_hi = oss["params"].min(), oss["params"].max()
    d_lo, d_hi = oss["D_F"].min(), oss["D_F"].max()
    nsig = int(oss["ossified_significant"].sum())
    corner = []
    if n_hi <= runs["params"].median():
        corner.append("small models")
    if d_lo >= runs["D_F"].median():
        corner.append("large D_F")
    where = f" ({' and '.join(corner)}, as in the paper)" if len(corner) == 2 else ""
    return (
        f"{len(oss)} of {len(runs)} runs ({nsig} with the whole interval below 0) at N {fmt(n_lo)}-{fmt(n_hi)}, "
        f"D_F {fmt(d_lo)}-{fmt(d_hi)}{where}"
    )


def transfer(
    scratch,
    finetuned=None,
    *,
    law: Any = SCRATCH_LAW,
    interval: float = 0.9,
    n_resamples: int = 200,
    seed: int = 0,
    method: str = "auto",
    low_data_fraction: float = 0.1,
    include_extrapolated: bool = False,
    fit_options: Mapping[str, Any] | None = None,
) -> TransferResult:
    """Effective data transferred, D_T = k D_F^alpha N^beta, with intervals (Hernandez et al. 2021).

    Parameters
    ----------
    scratch : DataFrame, RunsTable or path
        From-scratch runs on the target distribution (``params``, ``tokens``, ``loss``;
        their final checkpoints are used).  With ``finetuned=None``, one transfer-sweep
        table holding both (its ``stage`` column: ``scratch`` and ``finetune``).
    finetuned : DataFrame, RunsTable or path, optional
        Fine-tuned runs: ``params``, ``tokens`` (= D_F, the fine-tuning data) and ``loss``
        (final checkpoints).
    law : str or Law
        From-scratch law L(N, D): ``"kaplan"`` (the paper's) or ``"chinchilla"``.
    interval, n_resamples, seed, method
        Interval level; draws of the scratch law (``"auto"``: run bootstrap with >= 5
        runs, else delta), each paired with a bootstrap resample of the fine-tuned runs.
    low_data_fraction : float
        A run is in the low-data regime when D_F <= this x D(N), D(N) the data at which
        the scratch law gets within 1% of its infinite-data loss.
    include_extrapolated : bool
        Also fit (k, alpha, beta) on runs whose D_E lies outside the scratch runs' data
        range (by default they are reported, flagged, and left out of the fit, in each
        draw by that draw's D_E).

    Returns
    -------
    TransferResult
    """
    from scalinglab.fit import fit as fit_law
    from scalinglab.fit._uncertainty import resolve_method, sample_params

    if finetuned is None:
        scratch, finetuned = split_stages(_frame(scratch, "transfer-sweep"))
    sc = _final(_frame(scratch, "scratch"))
    ft = _final(_frame(finetuned, "fine-tuned"))
    if not 0 < interval < 1:
        raise InvalidParameterError(f"interval must lie in (0, 1), got {interval!r}", hint="e.g. interval=0.9")
    if sc["params"].nunique() < 2:
        raise DataError(
            f"the scratch runs have {sc['params'].nunique()} model size(s); the from-scratch law "
            "needs at least 2 (better 3+)",
            hint="train from-scratch runs at several sizes",
        )
    cols = [c for c in ("run", "params", "tokens", "loss") if c in sc.columns]
    sfit = fit_law(sc[cols], law, **dict(fit_options or {}))
    used = resolve_method(method, sfit, "parameters")
    draws = sample_params(sfit, n_resamples, method=used, seed=seed)
    N, DF, L = (ft[c].to_numpy(dtype=float) for c in ("params", "tokens", "loss"))
    n = len(ft)
    DE = effective_data(sfit, N, L)
    DEd = effective_data(sfit, N, L, draws=draws)
    DT, DTd = DE - DF, DEd - DF[None, :]
    rng = np.random.default_rng(seed + 1)
    B = len(draws)
    W = rng.multinomial(n, np.full(n, 1.0 / n), size=B).astype(float)
    # (k, alpha, beta): least squares in log space on runs with finite D_T > 0
    smin, smax = float(sc["tokens"].min()), float(sc["tokens"].max())

    def usable(de, dt):
        ok = (dt > 0) & np.isfinite(dt)
        return ok if include_extrapolated else ok & (de >= smin) & (de <= smax)

    with np.errstate(divide="ignore", invalid="ignore"):
        lDT = np.log(np.where(usable(DE, DT), DT, np.nan))
        lDTd = np.log(np.where(usable(DEd, DTd), DTd, np.nan))
    lDF, lN = np.log(DF), np.log(N)
    params, intervals, pdraws = None, {}, None
    ok = np.isfinite(lDT)
    notes = []
    if ok.sum() >= 3 and np.unique(N[ok]).size >= 2 and np.unique(DF[ok]).size >= 2:
        c = _wls(lDF[None, ok], lN[None, ok], lDT[None, ok], np.ones((1, int(ok.sum()))))[0]
        params = {"k": float(np.exp(c[0])), "alpha": float(c[1]), "beta": float(c[2])}
        okd = np.isfinite(lDTd)
        Wd = np.where(okd, W, 0.0)
        cd = _wls(np.broadcast_to(lDF, (B, n)), np.broadcast_to(lN, (B, n)), np.where(okd, lDTd, 0.0), Wd)
        cd = cd[np.all(np.isfinite(cd), axis=1)]
        pdraws = pd.DataFrame({"k": np.exp(cd[:, 0]), "alpha": cd[:, 1], "beta": cd[:, 2]})
        for k in ("k", "alpha", "beta"):
            lo, hi = _q(pdraws[k].to_numpy(), interval)
            intervals[k] = (float(lo), float(hi))
    # low-data regime: D(N) where the law is within 1% of its infinite-data loss
    n_sym, d_sym = _symbols(sfit)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        Linf = np.asarray(sfit.law(**{n_sym: N, d_sym: np.full_like(N, 1e40)}, **sfit.params), dtype=float)
    D_N = effective_data(sfit, N, 1.01 * Linf)
    lo_de, hi_de = _q(DEd, interval)
    lo_dt, hi_dt = _q(DTd, interval)
    with np.errstate(divide="ignore", invalid="ignore"):
        mult, md = DE / DF, DEd / DF[None, :]
    lo_m, hi_m = _q(md, interval)
    runs = pd.DataFrame(
        {
            "run": ft["run"].astype(str).to_numpy() if "run" in ft else [f"ft{i}" for i in range(n)],
            "params": N,
            "D_F": DF,
            "loss": L,
            "D_E": DE,
            "D_E_lower": lo_de,
            "D_E_upper": hi_de,
            "D_T": DT,
            "D_T_lower": lo_dt,
            "D_T_upper": hi_dt,
            "multiplier": mult,
            "multiplier_lower": lo_m,
            "multiplier_upper": hi_m,
            "ossified": DT < 0,
            "ossified_significant": hi_dt < 0,
            "extrapolated": (DE < smin) | (DE > smax),
            "low_data": DF <= low_data_fraction * D_N,
            "D_N": D_N,
        }
    )
    if "seed" in ft.columns:
        runs.insert(3, "seed", ft["seed"].to_numpy())
    runs = runs.sort_values(["params", "D_F"], kind="stable").reset_index(drop=True)
    frac_d = np.mean(DTd <= 0, axis=1)
    flo, fhi = _q(frac_d, interval)
    n_ext = int(runs["extrapolated"].sum())
    if n_ext:
        notes.append(
            f"{n_ext} run(s) have D_E outside the scratch runs' data range {smin:.3g}-{smax:.3g}: "
            "an extrapolation of the from-scratch law"
            + ("" if include_extrapolated else "; left out of the (k, alpha, beta) fit")
        )
    n_inf = int(np.isinf(DE).sum())
    if n_inf:
        notes.append(
            f"{n_inf} run(s) end below the scratch law's infinite-data loss at their N (D_E infinite); "
            "left out of the fit"
        )
    n_high = int((~runs["low_data"]).sum())
    if n_high:
        notes.append(
            f"{n_high} run(s) have D_F above {low_data_fraction:.0%} of D(N) (outside the low-data regime "
            "where the paper's law holds)"
        )
    notes.append("D counts tokens (bytes for the bundled ladder); the paper counts characters of Python")
    return TransferResult(
        scratch_fit=sfit,
        runs=runs,
        params=params,
        intervals=intervals,
        level=interval,
        n_draws=B,
        method=used,
        scratch_range=(smin, smax),
        fraction_not_helping=float(np.mean(DT <= 0)),
        fraction_not_helping_interval=(float(flo), float(fhi)),
        ossification_region=_region(runs),
        scratch=sc,
        notes=tuple(notes),
        draws=pdraws,
    )


def simulate_transfer(
    *,
    k: float = 50.0,
    alpha: float = 0.5,
    beta: float = 0.3,
    scratch: Mapping[str, float] | None = None,
    params=(2.5e4, 5.7e4, 1.0e5, 2.2e5),
    scratch_tokens=None,
    finetune_tokens=None,
    noise: float = 0.01,
    seed: int = 0,
) -> pd.DataFrame:
    """A transfer ladder with known truth: a Chinchilla from-scratch law and D_T = k D_F^alpha N^beta.

    Scratch runs: L(N, D) = E + A/N^a + B/D^b at ``scratch_tokens`` per size; fine-tuned runs
    reach L(N, D_F + D_T) at ``finetune_tokens``; every loss times exp(normal(0, ``noise``)).
    Returns a runs table with ``stage`` (``scratch``/``finetune``) that :func:`transfer` reads.

    >>> df = simulate_transfer(seed=1)
    >>> sorted(df["stage"].unique()), len(df)
    (['finetune', 'scratch'], 48)
    """
    s = {"E": 0.8, "A": 20.0, "alpha": 0.3, "B": 40.0, "beta": 0.35} | dict(scratch or {})
    Ds = np.geomspace(1.6e4, 4e6, 6) if scratch_tokens is None else np.asarray(scratch_tokens, float)
    Df = np.geomspace(1.6e4, 5.12e5, 6) if finetune_tokens is None else np.asarray(finetune_tokens, float)
    rng = np.random.default_rng(seed)

    def law(N, D):
        return s["E"] + s["A"] / N ** s["alpha"] + s["B"] / D ** s["beta"]

    rows = []
    for N in params:
        for D in Ds:
            rows.append(("scratch", f"s-{N:g}-{D:g}", N, D, law(N, D)))
        for D in Df:
            rows.append(("finetune", f"f-{N:g}-{D:g}", N, D, law(N, D + transfer_law(D, N, k, alpha, beta))))
    df = pd.DataFrame(rows, columns=["stage", "run", "params", "tokens", "loss"])
    df["loss"] = df["loss"] * np.exp(rng.normal(0.0, noise, len(df)))
    return df


# ------------------------------------------------------------------------------ report section


def _shown(ctx) -> bool:
    fr = getattr(ctx, "frame", None)
    if fr is None or "stage" not in fr:
        return False
    st = set(fr["stage"].astype(str))
    return {"scratch", "finetune"} <= st


@register_section(
    _KEY, title="Transfer: effective data from pre-training", order=70, weight=lambda ctx: int(_shown(ctx))
)
def _report_section(ctx) -> Section | None:
    """Hernandez et al.'s effective data transferred, when the report's runs hold a transfer sweep."""
    if not _shown(ctx):
        return None
    ctx.step(_KEY)
    result = transfer(ctx.frame, interval=ctx.interval)
    ctx.results[_KEY] = result
    return result.section(render=ctx.render)


__all__ = [
    transfer.__name__,
    "TransferResult",
    "effective_data",
    "transfer_law",
    "multiplier",
    "split_stages",
    "simulate_transfer",
    "PAPER_TEXT_TO_PYTHON",
]
