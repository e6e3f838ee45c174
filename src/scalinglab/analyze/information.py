"""The information view of Henighan et al. 2020 ("Scaling Laws for Autoregressive Generative Modeling").

* Loss = irreducible + reducible: the floor L_inf of L = L_inf + (x0/x)^alpha estimates the
  entropy of the data S(True), the rest the KL divergence D_KL(True || Model) (eqs. 1.1-1.2);
  see :func:`scalinglab.fit.decompose` and :func:`scalinglab.fit.needed_for_reducible`.
* **Mutual information and infogain** of a multimodal model: with L_blank the loss on one
  modality given a blank version of the other (e.g. image loss with an empty caption) and
  L_paired the loss with the real one,

      I = L_blank - L_paired,          infogain = I / L_blank  (< 1; eq. 1.3),

  and both grow like lambda * ln(N / N_c) (eq. 4.1).  :func:`mutual_information` computes
  them per model and fits that law against N by least squares, with t intervals for lambda
  and delta-method intervals for ln N_c.  The paper's lambda and N_c are only plotted
  (unconfirmed), and no public data has these losses: the tests use data generated from
  the paper's forms with known truth (:func:`simulate_information`).
* **N_opt proportional to C^beta** from the lower envelope of training curves
  (:func:`compute_optimal_exponent`, approach 1), beside the paper's beta ~ 0.7.

Losses are per token unless ``tokens_per_example`` states them per example (an image of
R x R pixels is 3 R^2 tokens); the summaries say which.

>>> from scalinglab.analyze.information import per_example
>>> round(per_example(1.6e-8 ** 0.16, "image16x16"), 1)   # Table 1 reducible loss at C = 1, per 16x16 image
43.5
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.analyze._base import AnalysisResult
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.laws._power import HENIGHAN_TOKENS_PER_EXAMPLE
from scalinglab.render import fmt

__all__ = [
    "mutual_information",
    "InformationResult",
    "LogLawFit",
    "fit_log_law",
    "simulate_information",
    "compute_optimal_exponent",
    "OptimalExponent",
    "per_example",
    "PAPER_BETA",
]

#: Henighan et al. 2020: N_opt(C) = (C/C0)^beta with beta ~ 0.7 in every domain (Table 1: 0.64-0.75).
PAPER_BETA = 0.7


def per_example(loss_per_token, domain_or_tokens) -> float | np.ndarray:
    """Convert a per-token loss to per example (nats/image): times the tokens per example.

    ``domain_or_tokens``: a Henighan domain key (``"image16x16"``: 768 tokens) or a number.
    """
    if isinstance(domain_or_tokens, str):
        if domain_or_tokens not in HENIGHAN_TOKENS_PER_EXAMPLE:
            raise InvalidParameterError(
                f"unknown domain {domain_or_tokens!r}",
                hint=f"one of {sorted(HENIGHAN_TOKENS_PER_EXAMPLE)}, or a token count",
            )
        t = HENIGHAN_TOKENS_PER_EXAMPLE[domain_or_tokens]
    else:
        t = float(domain_or_tokens)
    return np.asarray(loss_per_token, dtype=float) * t if np.ndim(loss_per_token) else float(loss_per_token) * t


@dataclass(frozen=True)
class LogLawFit:
    """y = lam * ln(N / N_c) fitted by least squares (Henighan et al. 2020, eq. 4.1)."""

    lam: float
    log_Nc: float
    lam_interval: tuple[float, float]
    log_Nc_interval: tuple[float, float]
    level: float
    n: int
    rmse: float

    @property
    def Nc(self) -> float:
        return float(math.exp(self.log_Nc))

    @property
    def Nc_interval(self) -> tuple[float, float]:
        return (math.exp(self.log_Nc_interval[0]), math.exp(self.log_Nc_interval[1]))

    def predict(self, N) -> np.ndarray:
        return self.lam * (np.log(np.asarray(N, dtype=float)) - self.log_Nc)

    def solve(self, y: float) -> float:
        """The N at which the law reaches ``y`` (e.g. infogain 0.2)."""
        return float(math.exp(self.log_Nc + y / self.lam)) if self.lam > 0 else math.nan

    def to_dict(self) -> dict:
        return {
            "lambda": self.lam,
            "N_c": self.Nc,
            "lambda_interval": list(self.lam_interval),
            "N_c_interval": list(self.Nc_interval),
            "level": self.level,
            "n": self.n,
            "rmse": self.rmse,
        }


def fit_log_law(N, y, *, level: float = 0.9) -> LogLawFit:
    """Least squares of y = lam ln N - lam ln N_c; t interval for lam, delta-method t interval for ln N_c.

    >>> import numpy as np
    >>> N = np.geomspace(1e6, 1e10, 9)
    >>> f = fit_log_law(N, 0.02 * np.log(N / 3e5))
    >>> round(f.lam, 4), f"{f.Nc:.3g}"
    (0.02, '3e+05')
    """
    from scipy import stats

    N = np.asarray(N, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(N) & (N > 0) & np.isfinite(y)
    N, y = N[ok], y[ok]
    n = N.size
    if n < 3 or np.unique(N).size < 2:
        raise DataError(
            f"fitting lambda ln(N/N_c) needs at least 3 models of 2+ sizes, got {n}",
            hint="add runs at more model sizes",
        )
    x = np.log(N)
    X = np.column_stack([np.ones(n), x])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    b0, b1 = coef
    resid = y - X @ coef
    dof = n - 2
    s2 = float(resid @ resid / dof) if dof > 0 else math.nan
    cov = s2 * np.linalg.inv(X.T @ X)
    t = float(stats.t.ppf(0.5 + level / 2, dof)) if dof > 0 else math.nan
    lam = float(b1)
    log_nc = float(-b0 / b1) if b1 != 0 else math.nan
    g = np.array([-1.0 / b1, b0 / b1**2])  # gradient of -b0/b1
    se_nc = float(math.sqrt(max(g @ cov @ g, 0.0)))
    se_l = float(math.sqrt(max(cov[1, 1], 0.0)))
    return LogLawFit(
        lam=lam,
        log_Nc=log_nc,
        lam_interval=(lam - t * se_l, lam + t * se_l),
        log_Nc_interval=(log_nc - t * se_nc, log_nc + t * se_nc),
        level=level,
        n=n,
        rmse=float(math.sqrt(np.mean(resid**2))),
    )


@dataclass(frozen=True)
class InformationResult(AnalysisResult):
    """Mutual information and infogain per model, each fitted as lambda ln(N/N_c)."""

    name = "information"
    title = "Mutual information and infogain (Henighan et al. 2020)"

    table: pd.DataFrame
    mi_fit: LogLawFit
    infogain_fit: LogLawFit
    unit: str
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        pct = f"{self.mi_fit.level:.0%}"
        lines = [
            f"Mutual information I = L_blank - L_paired and infogain I / L_blank ({len(self.table)} models; "
            f"losses {self.unit})",
            f"  {'N':>10} {'L_blank':>9} {'L_paired':>9} {'I':>9} {'infogain':>9}",
        ]
        for _, r in self.table.iterrows():
            lines.append(f"  {r.params:10.4g} {r.loss_blank:9.4f} {r.loss_paired:9.4f} {r.mi:9.4f} {r.infogain:9.4f}")
        for label, f in (("I", self.mi_fit), ("infogain", self.infogain_fit)):
            lo, hi = f.lam_interval
            nlo, nhi = f.Nc_interval
            lines.append(
                f"  {label} = lambda ln(N/N_c): lambda = {f.lam:.4g} [{lo:.4g}, {hi:.4g}], "
                f"N_c = {f.Nc:.4g} [{nlo:.4g}, {nhi:.4g}] ({pct}, t intervals)"
            )
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": "information",
            "reference": "Henighan et al. 2020, arXiv:2010.14701 (eqs. 1.3, 4.1)",
            "unit": self.unit,
            "mi": self.mi_fit.to_dict(),
            "infogain": self.infogain_fit.to_dict(),
            "models": self.table.to_dict(orient="records"),
            "notes": list(self.notes),
        }

    def figure(self):
        from scalinglab.render import figure_context, new_figure

        with figure_context():
            fig, axes = new_figure(2)
            for ax, col, f, lab in (
                (axes[0][0], "mi", self.mi_fit, f"I ({self.unit})"),
                (axes[0][1], "infogain", self.infogain_fit, "infogain I / L_blank"),
            ):
                ax.scatter(self.table["params"], self.table[col], s=18, color="C0", zorder=3)
                xs = np.geomspace(self.table["params"].min(), self.table["params"].max(), 60)
                ax.plot(xs, f.predict(xs), color="C1", label=f"{f.lam:.3g} ln(N/{fmt(f.Nc)})")
                ax.set_xscale("log")
                ax.set_xlabel("non-embedding parameters N")
                ax.set_ylabel(lab)
                ax.legend(fontsize=8)
        return fig


def mutual_information(
    runs,
    *,
    paired: str = "loss",
    blank: str = "loss_blank",
    params: str = "params",
    interval: float = 0.9,
    tokens_per_example: float | None = None,
) -> InformationResult:
    """I = L_blank - L_paired and infogain = I / L_blank per model, each fitted as lambda ln(N/N_c).

    Parameters
    ----------
    runs : DataFrame or path
        One row per model (the final checkpoint if several): ``params``, the loss with the
        paired modality (``paired``) and with it blanked (``blank``).
    tokens_per_example : float, optional
        State the losses per example (nats/image) instead of per token: the mutual
        information scales, the infogain (a ratio) does not.

    >>> df = simulate_information(seed=0)
    >>> r = mutual_information(df)
    >>> 0.5 < r.infogain_fit.lam / 0.02 < 1.5
    True
    """
    if isinstance(runs, (str, os.PathLike)):
        runs = pd.read_csv(runs)
    df = runs.frame if hasattr(runs, "frame") and not isinstance(runs, pd.DataFrame) else runs
    for c in (params, paired, blank):
        if c not in df.columns:
            raise DataError(
                f"mutual_information(): missing column '{c}'",
                hint="name the columns with params=, paired= (loss with the real pairing) and blank=",
            )
    if "final" in df.columns:
        df = df[df["final"].astype(bool)]
    Lb = df[blank].to_numpy(dtype=float)
    Lp = df[paired].to_numpy(dtype=float)
    bad = ~(np.isfinite(Lb) & np.isfinite(Lp) & (Lb > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"mutual_information(): row {i}: losses must be finite and L_blank > 0", hint="drop or fix that row"
        )
    scale = float(tokens_per_example) if tokens_per_example else 1.0
    tab = pd.DataFrame(
        {"params": df[params].to_numpy(dtype=float), "loss_blank": Lb * scale, "loss_paired": Lp * scale}
    )
    tab["mi"] = tab["loss_blank"] - tab["loss_paired"]
    tab["infogain"] = tab["mi"] / tab["loss_blank"]
    tab = tab.sort_values("params").reset_index(drop=True)
    notes = []
    if (tab["mi"] < 0).any():
        notes.append(f"{int((tab['mi'] < 0).sum())} model(s) do worse with the paired modality than without (I < 0)")
    unit = f"per example ({scale:g} tokens x the per-token loss)" if tokens_per_example else "per token"
    return InformationResult(
        table=tab,
        mi_fit=fit_log_law(tab["params"], tab["mi"], level=interval),
        infogain_fit=fit_log_law(tab["params"], tab["infogain"], level=interval),
        unit=unit,
        notes=tuple(notes),
    )


def simulate_information(
    *, lam: float = 0.02, Nc: float = 3e5, exact: str = "infogain", params=None, noise: float = 0.002, seed: int = 0
) -> pd.DataFrame:
    """Losses with and without the paired modality generated from the paper's forms, with known truth.

    L_blank(N) = 2.0 + (5.1e3/N)^0.16 (Henighan Table 1, text-to-image, image part, nats/token);
    ``exact="infogain"``: infogain = lam ln(N/Nc), so I = infogain x L_blank; ``exact="mi"``:
    I = lam ln(N/Nc).  L_paired = L_blank - I; both losses times exp(normal(0, noise)).
    """
    if exact not in ("infogain", "mi"):
        raise InvalidParameterError(f"exact must be 'infogain' or 'mi', got {exact!r}")
    N = np.geomspace(1e6, 1e10, 9) if params is None else np.asarray(params, dtype=float)
    rng = np.random.default_rng(seed)
    Lb = 2.0 + (5.1e3 / N) ** 0.16
    mi = lam * np.log(N / Nc) * (Lb if exact == "infogain" else 1.0)
    Lp = Lb - mi
    return pd.DataFrame(
        {
            "run": [f"m{i}" for i in range(N.size)],
            "params": N,
            "loss_blank": Lb * np.exp(rng.normal(0, noise, N.size)),
            "loss": Lp * np.exp(rng.normal(0, noise, N.size)),
        }
    )


@dataclass(frozen=True)
class OptimalExponent:
    """N_opt proportional to C^beta from the envelope of training curves, beside the paper's beta ~ 0.7."""

    beta: float
    interval: tuple[float, float]
    level: float
    n_runs: int
    frontier: Any = field(repr=False, default=None)
    paper: float = PAPER_BETA

    def summary(self) -> str:
        lo, hi = self.interval
        return (
            f"N_opt ~ C^beta from the lower envelope of {self.n_runs} runs (approach 1): beta = {self.beta:.3f} "
            f"[{lo:.3f}, {hi:.3f}] ({self.level:.0%}); Henighan et al. 2020: beta ~ {self.paper} in every "
            "domain (0.64-0.75), Kaplan 0.73, Chinchilla 0.50"
        )

    __str__ = summary

    def to_dict(self) -> dict:
        return {
            "beta": self.beta,
            "interval": list(self.interval),
            "level": self.level,
            "n_runs": self.n_runs,
            "paper_beta": self.paper,
        }


def compute_optimal_exponent(runs, *, interval: float = 0.9, n_resamples: int = 500, seed: int = 0) -> OptimalExponent:
    """beta of N_opt proportional to C^beta from the envelope (Hoffmann approach 1), with its interval.

    >>> import numpy as np, pandas as pd
    >>> rows = [(f"n{N:g}", N, D, 1.69 + 406.4 / N**0.34 + 410.7 / D**0.28)
    ...         for N in (1e7, 3e7, 1e8, 3e8, 1e9) for D in np.geomspace(1e8, 1e11, 16)]
    >>> r = compute_optimal_exponent(pd.DataFrame(rows, columns=["run", "params", "tokens", "loss"]), n_resamples=50)
    >>> 0.3 < r.beta < 0.7, r.paper
    (True, 0.7)
    """
    from scalinglab.plan import envelope

    fr = envelope(runs, interval=interval, n_resamples=n_resamples, seed=seed)
    n = int(pd.unique(pd.DataFrame(runs)["run"]).size) if isinstance(runs, pd.DataFrame) and "run" in runs else 0
    return OptimalExponent(beta=float(fr.a), interval=fr.interval("a"), level=interval, n_runs=n, frontier=fr)
