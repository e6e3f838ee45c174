"""Mixed-modal scaling: unimodal laws, the bimodal interaction law and the competition barrier.

Aghajanyan et al. 2023 ("Scaling Laws for Generative Mixed-Modal Language Models",
arXiv:2301.03728) fit each modality's runs with a Chinchilla law

    L_i(N, D_i) = E_i + A_i/N^alpha_i + B_i/D_i^beta_i,

then the joint (bimodal) runs with interaction terms on top of the mean unimodal loss

    L_ij(N, D_i, D_j) = [L_i(N, D_i) + L_j(N, D_j)]/2 - C_ij + A_ij/N^alpha_ij + B_ij/(D_i + D_j)^beta_ij,

C_ij the maximum synergy, A_ij/N^alpha_ij the competition for capacity and
B_ij/(D_i + D_j)^beta_ij the competition from data and optimisation.  Joint training
beats the unimodal models of the same size once C_ij exceeds the two competition
terms: the **competition barrier** N*(D) = [A_ij/(C_ij - B_ij D^-beta_ij)]^(1/alpha_ij)
(closed form, owned by the law in :mod:`scalinglab.laws._multimodal`; against two
unimodal models of half the size each there is no closed form and it is a root solve).

:func:`mixed_modal` does both stages in one call.  Intervals come from a run bootstrap
through both stages: draw ``b`` refits each modality's law on a resample of its
unimodal runs, re-evaluates L_i and L_j at the joint runs with those draws, and refits
the interaction law on a resample of the joint runs (all draws refined at once from
the full-data optimum), so the interaction parameters and the barrier carry the
unimodal fits' uncertainty.

>>> df = simulate_mixed_modal(seed=0)
>>> r = mixed_modal(df, ("code", "text"), n_resamples=50)
>>> sorted(r.joint) == ["A", "B", "C", "alpha", "beta"], r.n_draws > 40
(True, True)
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.analyze._base import AnalysisResult
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.laws._multimodal import (
    BIMODAL_LAW,
    INTERACTION_PARAMS,
    SAME_TOTAL_LAWS,
    UNIMODAL_LAW,
    barrier_same_total,
    competition_barrier,
    interaction_terms,
)
from scalinglab.render import FigureRenderer, Section, escape, fmt, kv_html, register_section, table_html

__all__ = ["mixed_modal", "MixedModalResult", "simulate_mixed_modal", "load_mixed_modal", "COMPARISONS"]

_KEY = "mixed-modal"
_REFERENCE = "Aghajanyan et al. 2023, arXiv:2301.03728"
#: How the joint model is compared with the unimodal ones at the barrier.
COMPARISONS = {
    "same-size": "one joint model of N parameters vs the mean of two unimodal models of N parameters each "
    "(the paper's barrier, closed form)",
    "same-total": "one joint model of N parameters vs two unimodal models of N/2 parameters each "
    "(equal total parameters; root solve)",
}


def _uni_symbols(name: str) -> tuple[str, str]:
    """The (N, D) input symbols of a unimodal law taking params and tokens only."""
    from scalinglab.laws import get_law

    law = get_law(name)
    cols = {c: s for s, c in law.inputs.items()}
    if set(cols) != {"params", "tokens"}:
        raise InvalidParameterError(
            f"the unimodal law must take N (params) and D (tokens) only; '{law.name}' takes {sorted(cols)}",
            hint=f"unimodal_law='{UNIMODAL_LAW}' (the paper's form)",
            cli_hint=f"--unimodal-law {UNIMODAL_LAW} (the paper's form)",
        )
    return cols["params"], cols["tokens"]


# ------------------------------------------------------------------------------ helpers


def _q(v, level, axis=0):
    """Percentile interval over draws; +inf draws (no barrier) count as the largest values."""
    a = 100 * (1 - level) / 2
    v = np.where(np.isposinf(v), 1e300, np.where(np.isneginf(v), -1e300, np.asarray(v, dtype=float)))
    with np.errstate(invalid="ignore"):
        q = np.nanpercentile(v, [a, 100 - a], axis=axis)
    return np.where(q >= 1e299, np.inf, np.where(q <= -1e299, -np.inf, q))


def _enc(v):
    """A JSON-safe scalar: finite floats as they are, infinities as 'inf'/'-inf', NaN as None."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    return v


def _dec(v):
    if v == "inf":
        return math.inf
    if v == "-inf":
        return -math.inf
    if v is None:
        return math.nan
    return v


def _frame_out(df: pd.DataFrame) -> dict:
    return {"columns": list(df.columns), "data": [[_enc(x) for x in row] for row in df.itertuples(index=False)]}


def _frame_in(d: Mapping) -> pd.DataFrame:
    df = pd.DataFrame([[_dec(x) for x in row] for row in d["data"]], columns=d["columns"])
    return df


def _final(df: pd.DataFrame) -> pd.DataFrame:
    """One row per run: the flagged final checkpoint, else the last (most tokens)."""
    if "final" in df.columns:
        out = df[df["final"].astype(str).str.lower().isin(("true", "1"))]
        if not out.empty:
            return out.reset_index(drop=True)
    if "run" in df.columns and "tokens" in df.columns:
        return df.loc[df.groupby("run")["tokens"].idxmax()].reset_index(drop=True)
    return df.reset_index(drop=True)


def _as_frame(runs) -> pd.DataFrame:
    if isinstance(runs, (str, os.PathLike)):
        from scalinglab.data import read_runs

        runs = read_runs(runs, required=())
    df = runs.frame if hasattr(runs, "frame") and not isinstance(runs, pd.DataFrame) else runs
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    return df


def token_columns(frame: pd.DataFrame) -> list[str]:
    """Modalities named by ``tokens_<modality>`` columns, in column order.

    >>> token_columns(pd.DataFrame(columns=["params", "tokens_code", "tokens_text", "loss"]))
    ['code', 'text']
    """
    return [c[len("tokens_") :] for c in frame.columns if c.startswith("tokens_") and len(c) > len("tokens_")]


def _parse_modalities(modalities, frame: pd.DataFrame) -> tuple[str, str]:
    if modalities is None:
        found = token_columns(frame)
        if len(found) != 2:
            raise DataError(
                f"cannot tell the two modalities: the table has {len(found)} tokens_<modality> column(s) "
                f"({', '.join(found) or 'none'})",
                hint="name them, e.g. modalities=('code', 'text')",
                cli_hint="name them, e.g. --modalities code,text",
            )
        return found[0], found[1]
    if isinstance(modalities, str):
        modalities = [m.strip() for m in modalities.split(",") if m.strip()]
    mods = tuple(str(m) for m in modalities)
    if len(mods) != 2 or mods[0] == mods[1]:
        raise InvalidParameterError(
            f"modalities must name two different modalities, got {list(mods)}",
            hint="e.g. modalities=('code', 'text')",
            cli_hint="e.g. --modalities code,text",
        )
    return mods  # type: ignore[return-value]


def _numeric(df: pd.DataFrame, col: str, what: str, *, allow_zero: bool) -> np.ndarray:
    v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(v) | ((v < 0) if allow_zero else (v <= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        kind = "a non-negative" if allow_zero else "a positive"
        value = df[col].iloc[i]
        value = value.item() if hasattr(value, "item") else value
        where = f"row {i}" + (f" (run {df['run'].iloc[i]!r})" if "run" in df.columns else "")
        raise DataError(
            f"{what}, {where}, column '{col}': {value!r} is not {kind} number",
            hint="drop or fix those rows",
        )
    return v


def _split(df: pd.DataFrame, mods: tuple[str, str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Final checkpoints split into unimodal runs of each modality and joint runs (with their loss)."""
    i, j = mods
    for c in ("params", f"tokens_{i}", f"tokens_{j}"):
        if c not in df.columns:
            extra = (
                f"give tokens_{i} and tokens_{j}: the tokens of each modality a run saw (0 for a modality it did "
                "not see)"
                if c.startswith("tokens_")
                else "give params (N, non-embedding parameters)"
            )
            raise DataError(f"the runs table has no column '{c}' (columns: {list(df.columns)})", hint=extra)
    for c in ("params", f"tokens_{i}", f"tokens_{j}"):  # rows as the user numbers them
        _numeric(df, c, "runs", allow_zero=c != "params")
    fin = _final(df)
    N = _numeric(fin, "params", "runs", allow_zero=False)
    Ti = _numeric(fin, f"tokens_{i}", "runs", allow_zero=True)
    Tj = _numeric(fin, f"tokens_{j}", "runs", allow_zero=True)
    run = fin["run"].astype(str).to_numpy() if "run" in fin.columns else np.array([f"r{k}" for k in range(len(fin))])
    seed = fin["seed"].to_numpy() if "seed" in fin.columns else np.zeros(len(fin), dtype=int)

    def loss_of(mask: np.ndarray, m: str | None) -> np.ndarray:
        col = f"loss_{m}" if m is not None and f"loss_{m}" in fin.columns else "loss"
        if col not in fin.columns:
            raise DataError(
                f"the runs table has no column '{col}'",
                hint=f"give loss (or loss_{i} and loss_{j}: held-out loss on each modality)",
            )
        return _numeric(fin[mask], col, f"runs ({'modality ' + m if m else 'joint'})", allow_zero=False)

    out = []
    for m, mask in ((i, (Ti > 0) & (Tj == 0)), (j, (Tj > 0) & (Ti == 0))):
        tok = Ti if m == i else Tj
        out.append(
            pd.DataFrame(
                {"run": run[mask], "seed": seed[mask], "params": N[mask], "tokens": tok[mask], "loss": loss_of(mask, m)}
            )
        )
    jm = (Ti > 0) & (Tj > 0)
    if {f"loss_{i}", f"loss_{j}"} <= set(fin.columns):
        li = _numeric(fin[jm], f"loss_{i}", "joint runs", allow_zero=False)
        lj = _numeric(fin[jm], f"loss_{j}", "joint runs", allow_zero=False)
        jl = 0.5 * (li + lj)
    else:
        li = lj = np.full(int(jm.sum()), np.nan)
        jl = loss_of(jm, None)
    out.append(
        pd.DataFrame(
            {
                "run": run[jm],
                "seed": seed[jm],
                "params": N[jm],
                "D_i": Ti[jm],
                "D_j": Tj[jm],
                "loss": jl,
                "loss_i": li,
                "loss_j": lj,
            }
        )
    )
    return out[0], out[1], out[2]


def _check_stage(frame: pd.DataFrame, what: str, need: int, xcol: str) -> None:
    from scalinglab.fit import MIN_RUNS_FOR_BOOTSTRAP

    n, nN, nD = len(frame), frame["params"].nunique(), frame[xcol].nunique()
    if n < max(need, MIN_RUNS_FOR_BOOTSTRAP) or nN < 2 or nD < 2:
        raise DataError(
            f"{what}: {n} run(s) at {nN} model size(s) and {nD} token count(s); the fit needs at least "
            f"{max(need, MIN_RUNS_FOR_BOOTSTRAP)} runs at 2+ sizes and 2+ token counts",
            hint="train more runs of this kind (several sizes, several token budgets)",
        )


# ------------------------------------------------------------------------------ result


@dataclass(frozen=True)
class MixedModalResult(AnalysisResult):
    """What :func:`mixed_modal` found (immutable; ``to_dict``/``from_dict`` round-trip exactly).

    Attributes
    ----------
    modalities : (str, str)
        Modalities i and j.
    unimodal : dict
        modality -> fitted unimodal parameters (``unimodal_law``).
    joint : dict
        Fitted interaction parameters C, A, alpha, B, beta.
    intervals : dict
        ``"<modality>.<param>"`` and interaction parameter names -> (lower, upper) at ``level``.
    runs : DataFrame
        The joint runs: ``run, seed, params, D_i, D_j, loss`` (mean of the two held-out losses
        when given per modality), the unimodal laws' ``L_i, L_j`` there, the law's
        ``predicted`` loss, ``net_law`` = C - A/N^alpha - B/D^beta (+ interval), ``net_fitted``
        = (L_i + L_j)/2 - loss (the synergy the run shows against the unimodal laws) and
        ``net_measured`` against measured unimodal runs of the same size, tokens and seed.
    unimodal_runs : DataFrame
        The unimodal runs with ``modality`` and the law's ``predicted`` loss.
    draws : DataFrame
        The bootstrap draws (columns ``<modality>.<param>`` and the interaction parameters).
    """

    name = _KEY
    title = "Mixed-modal: interaction law and competition barrier"

    modalities: tuple[str, str]
    unimodal_law: str
    unimodal: Mapping[str, Mapping[str, float]]
    joint: Mapping[str, float]
    intervals: Mapping[str, tuple[float, float]]
    level: float
    n_draws: int
    n_failed: int
    seed: int
    comparison: str
    runs: pd.DataFrame = field(repr=False)
    unimodal_runs: pd.DataFrame = field(repr=False)
    draws: pd.DataFrame = field(repr=False)
    rmse_log: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    # ----------------------------------------------------------------- numbers
    def _joint_draws(self) -> dict[str, np.ndarray]:
        return {p: self.draws[p].to_numpy(dtype=float)[:, None] for p in INTERACTION_PARAMS}

    def _uni_draws(self, m: str) -> dict[str, np.ndarray]:
        return {p: self.draws[f"{m}.{p}"].to_numpy(dtype=float)[:, None] for p in self.unimodal[m]}

    def terms(self, N, D_i, D_j, *, interval: float | None = None) -> pd.DataFrame:
        """Synergy C, capacity competition A/N^alpha, data competition B/(D_i+D_j)^beta and net, with intervals.

        One row per point of the broadcast ``(N, D_i, D_j)``; ``net > 0``: the joint model beats
        the mean of the unimodal models of the same size at these tokens.
        """
        N, Di, Dj = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (N, D_i, D_j))
        N, Di, Dj = np.broadcast_arrays(N, Di, Dj)
        out = pd.DataFrame({"params": N, "D_i": Di, "D_j": Dj})
        est = interaction_terms(N, Di, Dj, **self.joint)
        dr = interaction_terms(N[None, :], Di[None, :], Dj[None, :], **self._joint_draws())
        level = interval or self.level
        for k in ("synergy", "capacity", "data", "net"):
            out[k] = np.broadcast_to(est[k], N.shape).astype(float)
            lo, hi = _q(np.broadcast_to(dr[k], (len(self.draws), N.size)), level)
            out[f"{k}_lower"], out[f"{k}_upper"] = lo, hi
        return out

    def barrier(self, D_total, *, comparison: str | None = None, interval: float | None = None) -> pd.DataFrame:
        """The competition barrier N*(D) at total tokens ``D_total`` = D_i + D_j, with its interval.

        ``comparison="same-size"`` (default of the result): the paper's barrier, where
        C_ij = A_ij/N^alpha_ij + B_ij/D^beta_ij (closed form).  ``"same-total"``: against two
        unimodal models of N/2 parameters each (root solve; Chinchilla unimodal laws).
        Only D_i + D_j enters (the unimodal data terms cancel), so the token mix does not
        move the barrier at a given total.  ``N_barrier = inf``: no model size beats the
        unimodal models at that many tokens; ``p_exists``: the share of draws with a
        finite barrier.
        """
        comparison = comparison or self.comparison
        _check_comparison(comparison, self.unimodal_law)
        D = np.atleast_1d(np.asarray(D_total, dtype=float))
        level = interval or self.level
        i, j = self.modalities
        if comparison == "same-size":
            est = competition_barrier(D, **self.joint)
            dr = competition_barrier(D[None, :], **self._joint_draws())
        else:
            est = barrier_same_total(
                D / 2, D / 2, joint=self.joint, unimodal_i=self.unimodal[i], unimodal_j=self.unimodal[j]
            )
            dr = barrier_same_total(
                D[None, :] / 2,
                D[None, :] / 2,
                joint=self._joint_draws(),
                unimodal_i=self._uni_draws(i),
                unimodal_j=self._uni_draws(j),
            )
        dr = np.broadcast_to(dr, (len(self.draws), D.size))
        lo, hi = _q(dr, level)
        return pd.DataFrame(
            {
                "D_total": D,
                "N_barrier": np.broadcast_to(est, D.shape).astype(float),
                "lower": lo,
                "upper": hi,
                "p_exists": np.mean(np.isfinite(dr), axis=0),
            }
        )

    def predict(self, N, D_i, D_j, *, interval: float | None = None) -> pd.DataFrame:
        """The joint loss L_ij at (N, D_i, D_j) from both stages, with its interval over the draws."""
        from scalinglab.laws import get_law

        N, Di, Dj = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in (N, D_i, D_j)))
        law = get_law(self.unimodal_law)
        i, j = self.modalities
        n_sym, d_sym = _uni_symbols(self.unimodal_law)

        def joint_loss(ui, uj, jp, n, di, dj):
            Li = law(**{n_sym: n, d_sym: di}, **ui)
            Lj = law(**{n_sym: n, d_sym: dj}, **uj)
            return 0.5 * (Li + Lj) - interaction_terms(n, di, dj, **jp)["net"]

        est = joint_loss(self.unimodal[i], self.unimodal[j], self.joint, N, Di, Dj)
        dr = joint_loss(self._uni_draws(i), self._uni_draws(j), self._joint_draws(), N[None], Di[None], Dj[None])
        lo, hi = _q(dr, interval or self.level)
        return pd.DataFrame({"params": N, "D_i": Di, "D_j": Dj, "loss": est, "lower": lo, "upper": hi})

    def barrier_statement(self) -> str:
        """One plain sentence: was a barrier found inside the trained range, beyond it, or not at all."""
        C = self.joint["C"]
        lo_c, hi_c = self.intervals["C"]
        Ds = np.unique(self.runs["D_i"] + self.runs["D_j"])
        b = self.barrier(Ds)
        nmin, nmax = self.runs["params"].min(), self.runs["params"].max()
        pct = f"{self.level:.0%}"
        attempted = self.n_draws + self.n_failed
        flags = (
            "not identified",
            "flat in some direction",
            "at its lower bound",
            "at its upper bound",
            "stopped before",
        )
        weak = [n for n in self.notes if n.startswith("interaction law:") and any(f in n for f in flags)]
        if (attempted and self.n_failed > 0.25 * attempted) or weak:
            why = (
                f"{self.n_failed} of {attempted} bootstrap refits of the interaction law failed to converge"
                if attempted and self.n_failed > 0.25 * attempted
                else "the interaction law's fit is degenerate"
            )
            if weak and attempted and self.n_failed > 0.25 * attempted:
                why += " and its fit is degenerate"
            return (
                f"not determined: {why} (see the notes), so these runs do not identify the law (fitted: "
                + ", ".join(f"{k} = {v:.3g}" for k, v in self.joint.items())
                + f"; point barrier at the largest trained total {fmt(Ds.max())}: N* = "
                + f"{fmt(float(b['N_barrier'].iloc[-1]))}); read the measured comparison of the joint runs instead"
            )
        if C <= 0:
            return (
                f"not found: the fitted maximum synergy C = {C:.3g} [{lo_c:.3g}, {hi_c:.3g}] is not positive, so no "
                "model size beats the unimodal models under this law"
            )
        fin = b[np.isfinite(b["N_barrier"])]
        if fin.empty:
            return (
                f"not found: at every trained total D ({fmt(Ds.min())}-{fmt(Ds.max())}) the data competition "
                f"B/D^beta exceeds C = {C:.3g}, so no model size beats the unimodal models at these token counts"
            )
        parts = []
        for _, r in fin.iterrows():
            if r.N_barrier < nmin:
                where = "below the smallest trained size: joint training wins at every trained size"
            elif r.N_barrier > nmax:
                where = "beyond the largest trained size: an extrapolation"
            else:
                where = "inside the trained sizes"
            parts.append(
                f"D = {fmt(r.D_total)}: N* = {fmt(r.N_barrier)} [{fmt(r.lower)}, {fmt(r.upper)}] ({where}; "
                f"a barrier exists in {r.p_exists:.0%} of draws)"
            )
        n_inf = int((~np.isfinite(b["N_barrier"])).sum())
        tail = f"; no barrier at {n_inf} smaller token total(s)" if n_inf else ""
        if fin["p_exists"].max() < 0.5:
            head = "not established (under the fitted law a barrier exists, but in most bootstrap draws it does not)"
        elif not np.isfinite(fin["upper"]).any() or (fin["lower"] <= 0).all():
            head = "found under the fitted law, but not pinned down by these runs (open interval)"
        else:
            head = "found"
        return f"{head} ({pct} intervals): " + "; ".join(parts) + tail

    def measured_statement(self) -> str:
        """How often a joint run beats its matched unimodal pair (same N, per-modality tokens and seed)."""
        m = self.runs[np.isfinite(self.runs["net_measured"])]
        if m.empty:
            return "no joint run has unimodal runs of the same size, tokens and seed to compare with"
        win = m[m["net_measured"] > 0]
        sizes = sorted(m["params"].unique())
        small = m[m["params"] == sizes[0]]
        return (
            f"the joint model beats the mean of its matched unimodal models in {len(win)} of {len(m)} comparisons "
            f"(net synergy {m['net_measured'].min():+.3f} to {m['net_measured'].max():+.3f}); at the smallest size "
            f"({fmt(sizes[0])}) in {int((small['net_measured'] > 0).sum())} of {len(small)}"
        )

    # ----------------------------------------------------------------- contract
    def summary(self) -> str:
        i, j = self.modalities
        pct = f"{self.level:.0%}"
        lines = [
            f"Mixed-modal scaling ({_REFERENCE}): modalities {i} and {j}; {self.unimodal_law} unimodal laws, "
            f"bimodal interaction law on {len(self.runs)} joint runs",
            f"  intervals: {pct}, run bootstrap through both stages, {self.n_draws} draws"
            + (f" ({self.n_failed} failed refits dropped)" if self.n_failed else ""),
        ]
        for m in (i, j):
            nr = int((self.unimodal_runs["modality"] == m).sum())
            ps = ", ".join(
                f"{p}={v:.4g} [{self.intervals[f'{m}.{p}'][0]:.3g}, {self.intervals[f'{m}.{p}'][1]:.3g}]"
                for p, v in self.unimodal[m].items()
            )
            lines.append(f"  unimodal {m} ({nr} runs, RMSE log {self.rmse_log.get(m, float('nan')):.4f}): {ps}")
        lines.append(
            f"  interaction (RMSE log {self.rmse_log.get('joint', float('nan')):.4f}): "
            "L_ij = (L_i + L_j)/2 - C + A/N^alpha + B/(D_i + D_j)^beta"
        )
        for p in INTERACTION_PARAMS:
            lo, hi = self.intervals[p]
            lines.append(f"    {p:>5} = {self.joint[p]:.4g}  [{lo:.4g}, {hi:.4g}]")
        lines.append(f"  joint runs ({pct} interval of the law's net synergy; net > 0: joint beats unimodal):")
        lines.append(
            f"  {'N':>9} {'D_i':>9} {'D_j':>9} {'loss':>7} {'pred':>7} {'net (fit)':>9} {'net law':>8} "
            f"{pct + ' net law':>20} {'net (meas.)':>11}"
        )
        for _, r in self.runs.iterrows():
            meas = "" if not np.isfinite(r.net_measured) else f"{r.net_measured:+.4f}"
            lines.append(
                f"  {r.params:9.4g} {r.D_i:9.4g} {r.D_j:9.4g} {r.loss:7.4f} {r.predicted:7.4f} {r.net_fitted:+9.4f} "
                f"{r.net_law:+8.4f} [{r.net_law_lower:+8.4f}, {r.net_law_upper:+8.4f}] {meas:>11}"
            )
        lines.append(f"  measured (model-free): {self.measured_statement()}")
        lines.append(f"  competition barrier ({COMPARISONS[self.comparison]}):")
        lines.append(f"    {self.barrier_statement()}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": _KEY,
            "reference": _REFERENCE,
            "modalities": list(self.modalities),
            "unimodal_law": self.unimodal_law,
            "unimodal": {m: {k: _enc(v) for k, v in p.items()} for m, p in self.unimodal.items()},
            "joint": {k: _enc(v) for k, v in self.joint.items()},
            "intervals": {k: [_enc(a), _enc(b)] for k, (a, b) in self.intervals.items()},
            "level": self.level,
            "n_draws": self.n_draws,
            "n_failed": self.n_failed,
            "seed": self.seed,
            "comparison": self.comparison,
            "barrier": self.barrier_statement(),
            "measured": self.measured_statement(),
            "rmse_log": {k: _enc(v) for k, v in self.rmse_log.items()},
            "runs": _frame_out(self.runs),
            "unimodal_runs": _frame_out(self.unimodal_runs),
            "draws": _frame_out(self.draws),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MixedModalResult:
        """Rebuild a result from :meth:`to_dict` (or its JSON): ``from_dict(r.to_dict()).to_dict() == r.to_dict()``."""
        if not isinstance(d, Mapping) or d.get("analysis") != _KEY:
            raise DataError(
                "not a mixed-modal result (its 'analysis' field is not 'mixed-modal')",
                hint="load the JSON written by scalinglab mixed-modal --json or MixedModalResult.to_dict()",
            )
        return cls(
            modalities=tuple(d["modalities"]),
            unimodal_law=d["unimodal_law"],
            unimodal={m: {k: _dec(v) for k, v in p.items()} for m, p in d["unimodal"].items()},
            joint={k: _dec(v) for k, v in d["joint"].items()},
            intervals={k: (_dec(a), _dec(b)) for k, (a, b) in d["intervals"].items()},
            level=d["level"],
            n_draws=d["n_draws"],
            n_failed=d["n_failed"],
            seed=d["seed"],
            comparison=d["comparison"],
            runs=_frame_in(d["runs"]),
            unimodal_runs=_frame_in(d["unimodal_runs"]),
            draws=_frame_in(d["draws"]),
            rmse_log={k: _dec(v) for k, v in d["rmse_log"].items()},
            notes=tuple(d["notes"]),
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` as JSON (read back with :func:`load_mixed_modal`)."""
        from scalinglab._io import write_atomic

        p = Path(path)
        write_atomic(p, json.dumps(self.to_dict(), indent=1))
        return p

    def figure(self):
        """Three panels: the unimodal fits, the joint runs' net synergy with the law, the barrier over (D, N)."""
        import matplotlib

        from scalinglab.laws import get_law
        from scalinglab.render import figure_context, new_figure

        i, j = self.modalities
        law = get_law(self.unimodal_law)
        n_sym, d_sym = _uni_symbols(self.unimodal_law)
        with figure_context():
            fig, axes = new_figure(3, width=14.0, height=4.2)
            ax1, ax2, ax3 = axes[0]
            Ns = sorted(set(self.unimodal_runs["params"]) | set(self.runs["params"]))
            cmap = matplotlib.colormaps["viridis"]
            col = {n: cmap(k / max(1, len(Ns) - 1) * 0.9) for k, n in enumerate(Ns)}
            # (1) unimodal laws
            u = self.unimodal_runs
            for m, mk, ls in ((i, "o", "-"), (j, "s", "--")):
                um = u[u["modality"] == m]
                if um.empty:
                    continue
                grid = np.geomspace(um["tokens"].min() / 1.5, um["tokens"].max() * 1.5, 60)
                for n in sorted(um["params"].unique()):
                    s = um[um["params"] == n]
                    ax1.scatter(s["tokens"], s["loss"], color=col[n], marker=mk, s=20, zorder=3)
                    ax1.plot(
                        grid,
                        law(**{n_sym: np.full_like(grid, n), d_sym: grid}, **self.unimodal[m]),
                        color=col[n],
                        ls=ls,
                    )
                ax1.plot([], [], "k" + ls, marker=mk, label=f"{m}")
            ax1.set_xscale("log")
            ax1.set_xlabel("tokens of the modality D_m")
            ax1.set_ylabel("held-out loss")
            ax1.set_title("unimodal runs and laws")
            ax1.legend(fontsize=7)
            # (2) net synergy of the joint runs vs N, per total tokens
            r = self.runs.assign(D=self.runs["D_i"] + self.runs["D_j"])
            Dtot = sorted(r["D"].unique())
            dcol = {d: matplotlib.colormaps["plasma"](k / max(1, len(Dtot) - 1) * 0.85) for k, d in enumerate(Dtot)}
            ng = np.geomspace(min(Ns) / 1.5, max(Ns) * 1.5, 60)
            for d in Dtot:
                s = r[r["D"] == d]
                ax2.scatter(s["params"], s["net_fitted"], color=dcol[d], s=22, zorder=3, label=f"D={fmt(d)}")
                meas = s[np.isfinite(s["net_measured"])]
                if len(meas):
                    ax2.scatter(meas["params"], meas["net_measured"], facecolors="none", edgecolors=dcol[d], s=46)
                t = self.terms(ng, d / 2, d / 2)
                ax2.plot(ng, t["net"], color=dcol[d], lw=1.2)
                ax2.fill_between(ng, t["net_lower"], t["net_upper"], color=dcol[d], alpha=0.15, lw=0)
            ax2.axhline(0.0, color="k", lw=0.8)
            ax2.set_xscale("log")
            ax2.set_xlabel("parameters N")
            ax2.set_ylabel("net synergy (L_i + L_j)/2 - L_ij")
            ax2.set_title("joint runs: filled vs unimodal laws, open vs measured")
            ax2.legend(fontsize=7)
            # (3) the barrier curve over (total tokens, N)
            dmin = min(r["D"].min(), u["tokens"].min()) / 3
            dmax = r["D"].max() * 300
            dg = np.geomspace(dmin, dmax, 120)
            b = self.barrier(dg)
            fin = np.isfinite(b["N_barrier"])
            ylo, yhi = min(Ns) / 10, max(Ns) * 100
            if fin.any():
                nb = b["N_barrier"].where(fin)
                ax3.plot(dg, nb, color="C3", lw=1.6, label="barrier N*(D)")
                ax3.fill_between(
                    dg,
                    b["lower"].clip(ylo, yhi),
                    b["upper"].where(np.isfinite(b["upper"]), yhi).clip(ylo, yhi),
                    color="C3",
                    alpha=0.15,
                    lw=0,
                    label=f"{self.level:.0%} interval",
                )
                ax3.fill_between(dg, nb.clip(ylo, yhi), yhi, where=fin, color="C2", alpha=0.08, lw=0)
                ax3.text(dg[-1], yhi / 2, "joint wins", ha="right", va="top", fontsize=8, color="C2")
                if np.nanmax(nb) < ylo:
                    ax3.text(
                        0.62,
                        0.3,
                        f"fitted N* below {fmt(ylo)}\nat every D shown",
                        transform=ax3.transAxes,
                        ha="center",
                        fontsize=8,
                        color="C3",
                    )
            else:
                ax3.text(
                    0.5, 0.5, "no barrier in range:\njoint never wins", transform=ax3.transAxes, ha="center", fontsize=9
                )
            win = r["net_fitted"] > 0
            ax3.scatter(r.loc[win, "D"], r.loc[win, "params"], c="C2", edgecolors="k", s=26, label="run: joint wins")
            ax3.scatter(r.loc[~win, "D"], r.loc[~win, "params"], c="white", edgecolors="k", s=26, label="run: loses")
            ax3.set_xscale("log")
            ax3.set_yscale("log")
            ax3.set_ylim(ylo, yhi)
            ax3.set_xlabel("total tokens D_i + D_j")
            ax3.set_ylabel("parameters N")
            ax3.set_title(f"competition barrier ({self.comparison})")
            ax3.legend(fontsize=7, loc="lower left")
            from matplotlib.ticker import NullFormatter

            for ax in (ax1, ax2, ax3):
                ax.xaxis.set_minor_formatter(NullFormatter())
        return fig

    def section(self, render: FigureRenderer | None = None) -> Section:
        render = render or FigureRenderer()
        pct = f"{self.level:.0%}"
        rows = [
            {
                "parameter": p,
                "fitted": self.joint[p],
                f"{pct} lower": self.intervals[p][0],
                f"{pct} upper": self.intervals[p][1],
            }
            for p in INTERACTION_PARAMS
        ]
        for m in self.modalities:
            rows += [
                {
                    "parameter": f"{m}.{p}",
                    "fitted": v,
                    f"{pct} lower": self.intervals[f"{m}.{p}"][0],
                    f"{pct} upper": self.intervals[f"{m}.{p}"][1],
                }
                for p, v in self.unimodal[m].items()
            ]
        cols = ["run", "params", "D_i", "D_j", "loss", "predicted", "net_fitted", "net_law", "net_law_lower"]
        cols += ["net_law_upper", "net_measured"]
        fid = f"fig-{self.name}"
        body = (
            kv_html(
                [
                    ("modalities", " + ".join(self.modalities)),
                    ("joint runs", str(len(self.runs))),
                    ("competition barrier", self.barrier_statement()),
                    ("measured", self.measured_statement()),
                    ("intervals", f"{pct}, run bootstrap through both stages ({self.n_draws} draws)"),
                ]
            )
            + table_html(pd.DataFrame(rows), caption="unimodal laws and the interaction law")
            + table_html(self.runs[cols], caption="joint runs", max_rows=60)
            + render(
                self.figure(),
                fid,
                "Unimodal laws; net synergy of the joint runs with the law and its interval; the competition "
                "barrier N*(D) over total tokens (joint training wins above it).",
            )
            + "".join(f"<p class='note'>{escape(n)}</p>" for n in self.notes)
        )
        return Section(self.name, self.title, body, figures=(fid,))


def load_mixed_modal(path: str | os.PathLike) -> MixedModalResult:
    """Read a result saved with :meth:`MixedModalResult.save` (or ``scalinglab mixed-modal --json``)."""
    p = Path(path)
    try:
        d = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(
            f"cannot read a mixed-modal result from {p}: {e}", hint="give the JSON file it was saved to"
        ) from None
    return MixedModalResult.from_dict(d)


def _check_comparison(comparison: str, unimodal_law: str) -> None:
    if comparison not in COMPARISONS:
        raise InvalidParameterError(
            f"comparison must be one of {', '.join(COMPARISONS)}, got {comparison!r}",
            hint="comparison='same-size' (the paper's barrier) or 'same-total' (equal total parameters)",
            cli_hint="--comparison same-size (the paper's barrier) or same-total (equal total parameters)",
        )
    if comparison == "same-total" and unimodal_law not in SAME_TOTAL_LAWS:
        raise InvalidParameterError(
            "comparison='same-total' needs Chinchilla unimodal laws (their A/N^alpha term)",
            hint=f"use unimodal_law='{UNIMODAL_LAW}', or comparison='same-size'",
            cli_hint=f"use --unimodal-law {UNIMODAL_LAW}, or --comparison same-size",
        )


# ------------------------------------------------------------------------------ the analysis


def mixed_modal(
    runs,
    modalities: Sequence[str] | str | None = None,
    *,
    unimodal_law: str = UNIMODAL_LAW,
    interval: float = 0.9,
    n_resamples: int = 200,
    seed: int = 0,
    comparison: str = "same-size",
    fit_options: Mapping[str, Any] | None = None,
) -> MixedModalResult:
    """Unimodal laws per modality, then the bimodal interaction law, with intervals through both stages.

    Parameters
    ----------
    runs : DataFrame, RunsTable or path
        One table of runs with ``params`` (N), ``tokens_<i>`` and ``tokens_<j>`` (tokens of each
        modality the run saw; 0 for one it did not see) and ``loss``, or per-modality held-out
        losses ``loss_<i>``, ``loss_<j>``.  Runs with tokens of one modality are unimodal runs of
        it; runs with both are joint runs, whose loss is the mean of ``loss_<i>`` and ``loss_<j>``
        when given (the law compares it with (L_i + L_j)/2), else ``loss``.  Final checkpoints
        (``final`` column, else each run's last) are used.
    modalities : (str, str) or "i,j", optional
        The two modalities (default: the two ``tokens_<m>`` columns).
    unimodal_law : str
        The unimodal law, any law of N (params) and D (tokens); default Chinchilla's form, the paper's.
    interval, n_resamples, seed
        Interval level, bootstrap draws through both stages, seed.
    comparison : {"same-size", "same-total"}
        The default barrier (see :data:`COMPARISONS`).
    fit_options : mapping, optional
        Passed to :func:`scalinglab.fit.fit` in both stages (e.g. ``{"delta": 1e-2}``).

    Returns
    -------
    MixedModalResult

    Raises
    ------
    DataError
        Missing columns, bad values, or too few runs of a kind to fit (with their counts).
    """
    from scalinglab.fit import bootstrap, fit
    from scalinglab.fit._solver import refine
    from scalinglab.fit._uncertainty import resample_weights
    from scalinglab.laws import get_law

    if not 0 < interval < 1:
        raise InvalidParameterError(
            f"interval must lie in (0, 1), got {interval!r}", hint="e.g. interval=0.9", cli_hint="e.g. --interval 0.9"
        )
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 10:
        raise InvalidParameterError(
            f"n_resamples must be an integer >= 10, got {n_resamples!r}",
            hint="e.g. n_resamples=200",
            cli_hint="e.g. --n-resamples 200",
        )
    if not isinstance(unimodal_law, str):
        raise InvalidParameterError(f"unimodal_law must be a law name, got {unimodal_law!r}", hint="e.g. 'kaplan'")
    _check_comparison(comparison, unimodal_law)
    frame = _as_frame(runs)
    mods = _parse_modalities(modalities, frame)
    i, j = mods
    ui, uj, jr = _split(frame, mods)
    for m, u in ((i, ui), (j, uj)):
        _check_stage(u, f"unimodal runs of '{m}'", 6, "tokens")
    _check_stage(jr.assign(D=jr["D_i"] + jr["D_j"]), "joint runs", 6, "D")
    opts = dict(fit_options or {})
    law = get_law(unimodal_law)
    n_sym, d_sym = _uni_symbols(unimodal_law)
    # -- stage 1: a law per modality, and its run bootstrap
    ufits, uboots = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fits' diagnostics become the result's notes
        for k, (m, u) in enumerate(((i, ui), (j, uj))):
            ufits[m] = fit(u[["run", "params", "tokens", "loss"]], unimodal_law, **opts)
            uboots[m] = bootstrap(ufits[m], n_resamples, seed=seed + k)
    # -- stage 2: the interaction law on the joint runs, inputs from stage 1
    N, Di, Dj = (jr[c].to_numpy(dtype=float) for c in ("params", "D_i", "D_j"))

    def uni(m, n, d, params):
        with np.errstate(all="ignore"):
            return np.asarray(law(**{n_sym: n, d_sym: d}, **params), dtype=float)

    Li, Lj = uni(i, N, Di, ufits[i].params), uni(j, N, Dj, ufits[j].params)
    jframe = pd.DataFrame(
        {"run": jr["run"], "loss_i": Li, "loss_j": Lj, "params": N, "tokens_i": Di, "tokens_j": Dj, "loss": jr["loss"]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jfit = fit(jframe, BIMODAL_LAW, **opts)
    # -- the bootstrap through both stages: draw b pairs unimodal draw b of each modality with a
    # resample of the joint runs; all draws refined at once from the full-data optimum
    B = int(min(uboots[i].n_ok, uboots[j].n_ok))
    di = {p: uboots[i].draws[p].to_numpy(dtype=float)[:B, None] for p in law.params}
    dj = {p: uboots[j].draws[p].to_numpy(dtype=float)[:B, None] for p in law.params}
    prob = jfit.problem()
    n = prob.n
    W = resample_weights(jr["run"].to_numpy(), B, np.random.default_rng(seed + 2))
    if prob.weights is not None:
        W = W * prob.weights[None, :]
    bi = {k: np.broadcast_to(v, (B, n)).copy() for k, v in prob.inputs.items()}
    bi["L_i"], bi["L_j"] = uni(i, N[None], Di[None], di), uni(j, N[None], Dj[None], dj)
    stacked = replace(prob, inputs=bi, y=np.broadcast_to(prob.y, (B, n)).copy(), weights=W)
    theta = np.array([jfit.params[p] for p in prob.names])
    u0 = prob.to_u(theta[None, :])
    res = refine(stacked, np.repeat(u0, B, axis=0), max_iter=2000)
    ok = np.isfinite(res.objective) & res.converged & np.all(np.isfinite(res.u), axis=1)
    ok &= np.all(np.isfinite(bi["L_i"]), axis=1) & np.all(np.isfinite(bi["L_j"]), axis=1)
    jd = pd.DataFrame(prob.to_theta(res.u[ok]), columns=prob.names)
    for p, v in prob.fixed.items():
        jd[p] = v
    draws = pd.concat(
        [
            pd.DataFrame({f"{i}.{p}": di[p][ok, 0] for p in law.params}),
            pd.DataFrame({f"{j}.{p}": dj[p][ok, 0] for p in law.params}),
            jd[list(INTERACTION_PARAMS)],
        ],
        axis=1,
    )
    intervals: dict[str, tuple[float, float]] = {}
    for c in draws.columns:
        lo, hi = _q(draws[c].to_numpy(), interval)
        intervals[c] = (float(lo), float(hi))
    # -- per-run tables
    jp = dict(jfit.params)
    net_law = interaction_terms(N, Di, Dj, **jp)["net"]
    nd = interaction_terms(N[None], Di[None], Dj[None], **{p: draws[p].to_numpy()[:, None] for p in INTERACTION_PARAMS})
    nlo, nhi = _q(nd["net"], interval)
    meas = _measured_net(jr, ui, uj)
    runs_t = pd.DataFrame(
        {
            "run": jr["run"].to_numpy(),
            "seed": jr["seed"].to_numpy(),
            "params": N,
            "D_i": Di,
            "D_j": Dj,
            "loss": jr["loss"].to_numpy(dtype=float),
            "L_i": Li,
            "L_j": Lj,
            "predicted": 0.5 * (Li + Lj) - net_law,
            "net_fitted": 0.5 * (Li + Lj) - jr["loss"].to_numpy(dtype=float),
            "net_law": net_law,
            "net_law_lower": nlo,
            "net_law_upper": nhi,
            "net_measured": meas,
        }
    )
    runs_t = runs_t.sort_values(["params", "D_i", "D_j", "seed"], kind="stable").reset_index(drop=True)
    urows = []
    for m, u in ((i, ui), (j, uj)):
        pred = uni(m, u["params"].to_numpy(float), u["tokens"].to_numpy(float), ufits[m].params)
        urows.append(u[["run", "seed", "params", "tokens", "loss"]].assign(modality=m, predicted=pred))
    unimodal_runs = pd.concat(urows, ignore_index=True)[
        ["modality", "run", "seed", "params", "tokens", "loss", "predicted"]
    ]
    notes = []
    for m in (i, j):
        notes += [f"{m} law: {d.message}" for d in getattr(ufits[m], "diagnostics", ()) if getattr(d, "message", "")]
    notes += [f"interaction law: {d.message}" for d in getattr(jfit, "diagnostics", ()) if getattr(d, "message", "")]
    if int((~ok).sum()):
        notes.append(f"{int((~ok).sum())} of {B} bootstrap refits failed to converge and were dropped")
    notes.append(
        "no constants of the bimodal law are published (the reference sheet marks them unconfirmed); the "
        "unimodal exponents the paper reports are for its modalities, not for these runs"
    )
    return MixedModalResult(
        modalities=mods,
        unimodal_law=unimodal_law,
        unimodal={m: dict(ufits[m].params) for m in (i, j)},
        joint=jp,
        intervals=intervals,
        level=float(interval),
        n_draws=int(ok.sum()),
        n_failed=int((~ok).sum()),
        seed=int(seed),
        comparison=comparison,
        runs=runs_t,
        unimodal_runs=unimodal_runs,
        draws=draws.reset_index(drop=True),
        rmse_log={i: float(ufits[i].rmse_log), j: float(ufits[j].rmse_log), "joint": float(jfit.rmse_log)},
        notes=tuple(notes),
    )


def _measured_net(jr: pd.DataFrame, ui: pd.DataFrame, uj: pd.DataFrame) -> np.ndarray:
    """(L_i + L_j)/2 - L_ij against measured unimodal runs of the same N, per-modality tokens and seed."""
    out = np.full(len(jr), np.nan)
    if not (np.isfinite(jr["loss"]).all()):
        return out
    key_i = {(r.params, r.tokens, r.seed): r.loss for r in ui.itertuples()}
    key_j = {(r.params, r.tokens, r.seed): r.loss for r in uj.itertuples()}
    for k, r in enumerate(jr.itertuples()):
        a = key_i.get((r.params, r.D_i, r.seed))
        b = key_j.get((r.params, r.D_j, r.seed))
        if a is not None and b is not None:
            out[k] = 0.5 * (a + b) - r.loss
    return out


def simulate_mixed_modal(
    *,
    modalities: tuple[str, str] = ("code", "text"),
    unimodal: Mapping[str, Mapping[str, float]] | None = None,
    joint: Mapping[str, float] | None = None,
    params=(2e4, 5e4, 1.3e5, 3.2e5, 8e5, 2e6),
    unimodal_tokens=(1e5, 2.5e5, 6.3e5, 1.6e6, 4e6),
    joint_tokens=(2e5, 5e5, 1.3e6, 3.2e6, 8e6),
    noise: float = 0.003,
    seed: int = 0,
) -> pd.DataFrame:
    """A mixed-modal ladder with known truth: Chinchilla unimodal laws and the bimodal interaction law.

    Unimodal runs of each modality at every size and ``unimodal_tokens``; joint runs on a
    50/50 mixture at every size and total ``joint_tokens``; every loss (and each joint
    run's per-modality loss) times exp(normal(0, ``noise``)).  The default design spans
    two decades of N and 1.6 decades of tokens, and its truth has a barrier inside the
    trained sizes at the larger token totals.

    >>> df = simulate_mixed_modal(seed=1)
    >>> len(df), sorted(c for c in df.columns if c.startswith("tokens_"))
    (90, ['tokens_code', 'tokens_text'])
    """
    i, j = modalities
    uni = {
        i: {"E": 0.6, "A": 30.0, "alpha": 0.35, "B": 60.0, "beta": 0.3},
        j: {"E": 0.9, "A": 20.0, "alpha": 0.3, "B": 40.0, "beta": 0.28},
    }
    uni.update({k: dict(v) for k, v in (unimodal or {}).items()})
    jp = {"C": 0.12, "A": 6.0, "alpha": 0.35, "B": 5.0, "beta": 0.3} | dict(joint or {})
    rng = np.random.default_rng(seed)

    def L(m, N, D):
        p = uni[m]
        return p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]

    rows = []
    for N in params:
        for m in (i, j):
            for D in unimodal_tokens:
                loss = L(m, N, D) * math.exp(rng.normal(0.0, noise))
                rows.append(
                    {
                        "run": f"{m}-{N:g}-{D:g}",
                        "params": N,
                        f"tokens_{i}": 0.0,
                        f"tokens_{j}": 0.0,
                        "loss": loss,
                        f"loss_{m}": loss,
                        "tokens": D,
                    }
                    | {f"tokens_{m}": D}
                )
        for D in joint_tokens:
            Di = Dj = D / 2
            net = interaction_terms(N, Di, Dj, **jp)["net"]
            # per-modality losses whose mean follows the law: each sits net below its unimodal loss
            li = (L(i, N, Di) - float(net)) * math.exp(rng.normal(0.0, noise))
            lj = (L(j, N, Dj) - float(net)) * math.exp(rng.normal(0.0, noise))
            rows.append(
                {
                    "run": f"joint-{N:g}-{D:g}",
                    "params": N,
                    f"tokens_{i}": Di,
                    f"tokens_{j}": Dj,
                    "loss": 0.5 * (li + lj),
                    f"loss_{i}": li,
                    f"loss_{j}": lj,
                    "tokens": D,
                }
            )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ report section


def _shown(ctx) -> bool:
    fr = getattr(ctx, "frame", None)
    if fr is None:
        return False
    mods = token_columns(fr)
    if len(mods) != 2:
        return False
    t = [pd.to_numeric(fr[f"tokens_{m}"], errors="coerce").fillna(0).to_numpy() for m in mods]
    joint = (t[0] > 0) & (t[1] > 0)
    return bool(joint.any() and ((t[0] > 0) & (t[1] == 0)).any() and ((t[1] > 0) & (t[0] == 0)).any())


@register_section(_KEY, title=MixedModalResult.title, order=75, weight=lambda ctx: int(_shown(ctx)))
def _report_section(ctx) -> Section | None:
    """The mixed-modal analysis, when the report's runs hold unimodal and joint runs of two modalities."""
    if not _shown(ctx):
        return None
    ctx.step(_KEY)
    result = mixed_modal(ctx.frame, interval=ctx.interval)
    ctx.results[_KEY] = result
    return result.section(render=ctx.render)
