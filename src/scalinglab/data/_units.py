"""Unit checks of a runs table: is every run's N, D and C a raw count, in FLOPs?

A parameter count given in millions, a token count in thousands or compute in
PF-days (1 PF-day = 8.64e19 FLOPs) or GFLOPs fits without complaint and gives a
wrong law.  :func:`check_units` compares each run with what such a count can be
and with the other runs of its family, and raises a
:class:`~scalinglab.errors.DataError` (``kind="unit-mismatch"``) naming the run(s)
and the fix.  The rules, each on the final (largest-token) checkpoint of every run:

1. ``flops / (6 N D)`` outside [0.05, 20] on any row (C = 6ND, Kaplan et al. 2020).
2. Every value of a column below 1,000 (parameters or tokens), or every FLOP count
   below 1e9 (no training run is that small: compute is in PF-days or GFLOPs).
3. Tokens per parameter at a run's last checkpoint below 1e-3, or above 1e5 for a
   model below 1e6 parameters.  The public compilations span 0.036 (Chinchilla's
   off-centre isoFLOP runs) to 1.9e4 (a 17M-parameter LaMDA-style run on 313B tokens);
   Qwen3-0.6B's 36T tokens are 6e4; a tracker log of a run that has just started can be
   far below 0.036, and synthetic compute sweeps (one size, many budgets) far above 1e5,
   so larger models have no upper bound.
4. Tokens per optimizer step below 32 (a batch of fewer than 32 tokens).
5. A gap of 300x or more between consecutive run sizes (10,000x for the compute
   of runs) within a family: one group of runs is in other units.
6. Tokens per parameter of the runs of a family falling into two groups 100x or more
   apart (the public compilations: at most 23x between neighbours, BLOOM's 176B model
   against its 7.1B).
7. Within a family, a run at least 10x larger and trained on at least as many tokens
   with a loss 2% higher than a smaller run, where at least 80% of such pairs of the
   family agree that larger is better (a table of accuracies, or one mixing data sets
   without a ``family`` column, is not flagged: Hitchhiker's curves disagree on 33%);
   a family of more than 1,500 runs is checked on a fixed sample of 1,500.  In a family of more
   than 5 runs whose final losses follow the law of rule 11 within 2% (rms), the loss gap must
   also exceed 3 x sqrt(2) x the runs' scatter about the law (two runs near the floor differ by
   noise alone).
8. A run with fewer than 100 parameters (the smallest language models studied have ~1e3).
9. Every run of a family (at least two sizes) trained on more than 1e3 tokens per
   parameter, unless every one of them was trained on 1e11-1e14 tokens: params look
   like thousands.  Published families over-trained at every size train each model on
   a web-scale corpus (SmolLM, H2O-Danube, Gemma: 480-860 tokens per parameter at the
   least, on 6e11 tokens or more; the smallest Qwen3 and SmolLM2 models 1.1e4-6e4, on
   2e12-3.6e13); the public compilations' families trained on fewer tokens reach at
   most 20 tokens per parameter at their least over-trained run.
10. Every run of a family (at least two sizes) stopped before 0.3 tokens per parameter:
   tokens look like thousands, or the table holds only early checkpoints (then
   ``units={'tokens': 1}`` declares them raw).  The public families' most-trained run
   has at least 20.  Not applied to a tracker's log (TensorBoard, MLflow, W&B, trainer
   logs), whose runs may have just started.
11. Within a family of at least 8 runs with params and tokens given (40 runs at most, a fixed
   sample beyond; up to 8 checkpoints of each, evenly spaced, the last included), whose losses
   deviate from L = E + A/N^a + B/D^b (Hoffmann et al. 2022; E, A, B >= 0) by more than 2%
   (relative rms): the family fits the law within 2.5% and with half the rms or less once the
   params or tokens of some runs are multiplied by 1e3 or 1e6 (thousands, millions), and the
   same runs multiplied by 10x less or 10x more fit at least 2x worse (squared residuals): the
   unit factor itself is what fits, not a shift that only removes a term of the law for an
   outlier.  The runs left as they are must hold at least two losses (all runs but one final
   loss in thousands reads as one outlier as well).  This catches grid and isoFLOP designs whose odd runs' tokens per parameter blend
   into the design's spread (rule 6 sees no gap).
A column declared with ``units=`` (e.g. ``units={'params': 1}`` for raw counts)
is exempt from the rules that concern it alone (2-11).  Counts with a fraction are
not a rule: ``np.geomspace(1e6, 1e9, 8)`` ladders are common.  How often the rules catch
a unit mistake and how often they flag a clean ladder or a public compilation:
``bench/unit_checks.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalinglab.data._families import family_key
from scalinglab.errors import DataError

#: Tables up to this many rows group runs in numpy (less overhead); larger ones in pandas (hashing
#: beats sorting there).  Both give the same rows.
NUMPY_ROWS = 100_000

__all__ = ["check_units", "UNIT_FACTORS"]

#: The usual non-raw units and the factor that makes them raw counts / FLOPs.
UNIT_FACTORS = {
    "params": (("millions", 1e6), ("thousands", 1e3), ("billions", 1e9)),
    "tokens": (("millions", 1e6), ("thousands", 1e3), ("billions", 1e9)),
    "flops": (("PF-days", 8.64e19), ("GFLOPs", 1e9)),
}

_RATIO = (0.05, 20.0)
_TOKENS_PER_PARAM = (1e-3, 1e5)
_SMALL_MODEL = 1e6
_TPP_GAP = 100.0
_DOMINANCE = (10.0, 1.02, 0.2)
_MIN_PARAMS = 100.0
_PAIRS_SAMPLE = 1500
_WHOLE_BELOW = 1e7
_MIN_TOKENS_PER_STEP = 32.0
_GAP = {"params": 300.0, "flops": 1e4}
_OVERTRAINED = 1e3
_WEB_SCALE = (1e11, 1e14)
_UNDERTRAINED = 0.3
_EXPONENTS = np.linspace(0.05, 0.8, 11)
_LAW_RUNS = (8, 40)
_LAW_SPREAD = 0.3
_LAW_MISFIT = 0.02
_LAW_GAIN = 2.0
_LAW_FITS = 0.025
_LAW_SPECIFIC = 2.0
_LAW_NEAR = 0.3  # the best factor within 10^0.3 = 2x of the unit factor
_LAW_CHECKPOINTS = 8
_LAW_FACTORS = (1e3, 1e6)  # thousands, millions (billions leave a gap that rules 5 and 8 see)


def _num(f: float) -> str:
    """``1e6`` rather than ``1e+06``: how a person writes the factor."""
    return f"{f:g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def _fix(col: str, guess: float | None = None) -> tuple[str, str]:
    """Python and CLI hints that give raw counts for ``col``."""
    f = _num(guess if guess is not None else (1e6 if col != "flops" else 8.64e19))
    return (
        f"give raw counts (FLOPs for flops), or multiply with units={{'{col}': {f}}}; "
        f"if the values really are raw, say so with units={{'{col}': 1}}",
        f"give raw counts (FLOPs for flops), or multiply with --unit {col}={f}; "
        f"if the values really are raw, say so with --unit {col}=1",
    )


def _error(message: str, col: str, label: str, row: int | None = None, guess: float | None = None) -> DataError:
    py, cli = _fix(col, guess)
    return DataError(message, source=label, row=row, column=col, kind="unit-mismatch", hint=py, cli_hint=cli)


def _names(runs) -> str:
    runs = [str(r) for r in runs]
    return ", ".join(repr(r) for r in runs[:3]) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")


def _guess(ratio: float, col: str) -> float | None:
    """The unit factor closest (within a factor 30) to the size of a mismatch."""
    best = None
    for _, f in UNIT_FACTORS.get(col, ()):
        d = abs(np.log10(ratio) - np.log10(f))
        if d < 1.5 and (best is None or d < best[0]):
            best = (d, f)
    return None if best is None else best[1]


def check_units(
    frame: pd.DataFrame,
    label: str,
    declared: set[str],
    derived: set[str] = frozenset(),
    run_codes: np.ndarray | None = None,
    in_progress: bool = False,
) -> None:
    """Raise DataError if a run's params, tokens or flops look like they are not in raw units.

    ``frame`` has the canonical columns after derivation (``run`` assigned);
    ``declared`` are columns the user gave ``units=`` for; ``derived`` those computed from the others;
    ``run_codes`` (optional) one integer per row identifying its run, to group a large table cheaply;
    ``in_progress`` says the table is a tracker's log, whose runs may have just started (rule 10 off).

    Examples
    --------
    >>> df = pd.DataFrame({"run": ["a", "b", "c"], "params": [70.0, 160.0, 410.0],
    ...                    "tokens": [1.4e9, 3.2e9, 8.2e9], "loss": [3.2, 3.0, 2.8]})
    >>> try:
    ...     check_units(df, "<df>", declared=set())
    ... except DataError as e:
    ...     print(e.kind)
    unit-mismatch

    A ladder of 1e8-1e10 parameters given in thousands: each run alone could be real, the
    family cannot (rule 9).

    >>> n = np.geomspace(1e8, 1e10, 5)
    >>> df = pd.DataFrame({"run": list("abcde"), "params": n / 1e3, "tokens": 20 * n, "loss": 2.0})
    >>> try:
    ...     check_units(df, "<df>", declared=set())
    ... except DataError as e:
    ...     print(e.column, e.hint.split(";")[0])
    params give raw counts (FLOPs for flops), or multiply with units={'params': 1000}
    """
    if not frame.index.is_unique:  # pd.concat of tables: each run's last row must be found by its label
        frame = frame.reset_index(drop=True)
    cols = {c for c in ("params", "tokens", "flops") if c in frame}
    given = cols - set(derived)
    # 1. the three columns disagree (only when all three were given)
    if {"params", "tokens", "flops"} <= given:
        ratio = frame["flops"] / (6.0 * frame["params"] * frame["tokens"])
        bad = ~((ratio >= _RATIO[0]) & (ratio <= _RATIO[1]))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            r = float(ratio.iloc[i])
            maybe = ""
            if 1e-22 < r < 1e-17:
                maybe = " It looks like compute is in PF-days (1 PF-day = 8.64e19 FLOPs)."
            elif 1e-11 < r < 1e-7:
                maybe = " It looks like compute is in GFLOPs (1e9 FLOPs)."
            py = (
                "give flops in FLOPs and params and tokens as raw counts (e.g. units={'flops': 8.64e19} for "
                "PF-days), or drop the flops column to use 6ND"
            )
            cli = (
                "give flops in FLOPs and params and tokens as raw counts (e.g. --unit flops=8.64e19 for "
                "PF-days), or drop the flops column to use 6ND"
            )
            raise DataError(
                f"flops = {frame['flops'].iloc[i]:.4g} is {r:.3g} x 6*params*tokens in run "
                f"'{frame['run'].iloc[i]}' ({int(bad.sum())} such row(s)); the three columns disagree.{maybe}",
                source=label,
                row=i + 1,
                column="flops",
                kind="unit-mismatch",
                hint=py,
                cli_hint=cli,
            )
    # 2. a whole column too small to be raw counts
    for col, floor, what in (
        ("params", 1e3, "millions or billions"),
        ("tokens", 1e3, "millions or billions"),
        ("flops", 1e9, "PF-days or GFLOPs"),
    ):
        if col in given and col not in declared and frame[col].max() < floor:
            raise _error(
                f"all {col} are below {floor:,.0f} (max {frame[col].max():g}); they look like {what}",
                col,
                label,
                guess=1e6 if col != "flops" else 8.64e19,
            )
    if col_absent(frame, "run"):
        return
    last = frame.loc[_last_rows(frame, run_codes)]
    # 3. tokens per parameter at each run's last checkpoint
    if {"params", "tokens"} <= cols and not ({"params", "tokens"} & declared):
        tpp = (last["tokens"] / last["params"]).to_numpy()
        cap = np.where(last["params"].to_numpy() < _SMALL_MODEL, _TOKENS_PER_PARAM[1], np.inf)
        for bad, side in ((tpp > cap, "above"), (tpp < _TOKENS_PER_PARAM[0], "below")):
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                # too many tokens per parameter: params too small; too few: tokens too small (or the
                # compute they were derived from)
                col = "params" if side == "above" else "tokens"
                if col in derived:
                    col = "flops"
                guess = _guess(tpp[i] / 20.0 if side == "above" else 20.0 / tpp[i], col)
                raise _error(
                    f"{int(bad.sum())} run(s) ({_names(last['run'][bad])}) were trained on {tpp[i]:.3g} tokens per "
                    f"parameter at their last checkpoint, {side} what any training run does "
                    f"({'at most ' + _num(_TOKENS_PER_PARAM[1]) + ' for a model below 1e6 parameters' if side == 'above' else 'at least ' + _num(_TOKENS_PER_PARAM[0])}); {col} look like they are not raw "
                    f"counts" + (" (derived from flops: is compute in PF-days or GFLOPs?)" if col == "flops" else ""),
                    col,
                    label,
                    guess=guess,
                )
    # 4. tokens per optimizer step (the batch size in tokens)
    if "step" in frame and "tokens" in given and "tokens" not in declared:
        step = pd.to_numeric(frame["step"], errors="coerce")
        ok = step > 0
        if ok.sum() >= 1:
            per_step = (frame["tokens"][ok] / step[ok]).to_numpy()
            if np.nanmedian(per_step) < _MIN_TOKENS_PER_STEP:
                raise _error(
                    f"tokens / step is {np.nanmedian(per_step):.3g} (median): a batch of fewer than "
                    f"{_MIN_TOKENS_PER_STEP:g} tokens per step; tokens look like thousands or millions",
                    "tokens",
                    label,
                    guess=_guess(2048 / np.nanmedian(per_step), "tokens"),
                )
    # 5. a gap of 100x between consecutive run sizes within a family
    fam = family_key(last)
    compute = None
    if "flops" in cols:
        compute = last["flops"]
    for col, values in (("params", last["params"] if "params" in cols else None), ("flops", compute)):
        if values is None or col in declared or (col == "flops" and "flops" in derived):
            continue
        for f in fam.unique():
            v = values[fam == f].to_numpy(dtype=float)
            u = np.unique(v)
            if u.size < 2:
                continue
            jumps = u[1:] / u[:-1]
            k = int(np.argmax(jumps))
            if jumps[k] >= _GAP[col]:
                lo = last["run"][(fam == f) & (values <= u[k])]
                hi = last["run"][(fam == f) & (values >= u[k + 1])]
                small, big = (lo, hi) if len(lo) <= len(hi) else (hi, lo)
                raise _error(
                    f"{col} jump {jumps[k]:.3g}x from {u[k]:.4g} to {u[k + 1]:.4g} between runs: "
                    f"run(s) {_names(small)} look like they are in other units than run(s) {_names(big)}",
                    col,
                    label,
                    guess=_guess(jumps[k], col),
                )
    # 8. a run with a handful of parameters
    if "params" in given and "params" not in declared:
        tiny = last["params"].to_numpy(dtype=float) < _MIN_PARAMS
        if tiny.any():
            i = int(np.flatnonzero(tiny)[0])
            raise _error(
                f"{int(tiny.sum())} run(s) ({_names(last['run'][tiny])}) have fewer than {_MIN_PARAMS:g} parameters "
                f"(e.g. {last['params'].iloc[i]:g}); params look like thousands or millions",
                "params",
                label,
                guess=1e6 if last["params"].max() < 1e4 else 1e3,
            )
    # 6.-7. within a family: tokens per parameter in two groups far apart; a larger run with a worse loss
    if {"params", "tokens"} <= cols:
        _check_family_structure(last, fam, cols, declared, derived, label)
        # 9.-10. every run of a family over-trained, or every run barely started
        _check_family_training(last, fam, declared, derived, label, in_progress)
        # 11. some runs fit the family's law only with their params or tokens scaled by a unit factor
        _check_law_consistency(frame, last, fam, declared, derived, label)


def _check_family_structure(last: pd.DataFrame, fam: pd.Series, cols, declared, derived, label: str) -> None:
    """Rules 6 and 7 on each family's last checkpoints."""
    if {"params", "tokens"} & set(declared):
        return
    tokens_col = "flops" if "tokens" in derived else "tokens"
    params_col = "flops" if "params" in derived else "params"
    for f in fam.unique():
        g = last[fam.to_numpy() == f]
        if len(g) < 2:
            continue
        n = g["params"].to_numpy(dtype=float)
        d = g["tokens"].to_numpy(dtype=float)
        tpp = np.log10(d / n)
        order = np.argsort(tpp)
        gaps = np.diff(tpp[order])
        if gaps.size and gaps.max() >= np.log10(_TPP_GAP):
            k = int(np.argmax(gaps))
            lo, hi = order[: k + 1], order[k + 1 :]
            odd, side = (lo, "fewer") if len(lo) <= len(hi) else (hi, "more")
            col = tokens_col if side == "fewer" else params_col
            factor = 10 ** gaps[k]
            raise _error(
                f"run(s) {_names(g['run'].iloc[odd])} were trained on {factor:.3g}x {side} tokens per parameter than "
                f"the other {len(g) - len(odd)} run(s) of their family ({_names(g['run'].iloc[np.setdiff1d(order, odd)])}); "
                f"their {col if col != 'flops' else 'params or tokens'} look like they are in other units",
                col,
                label,
                guess=_guess(factor, col),
            )
        if "loss" not in g:
            continue
        loss = g["loss"].to_numpy(dtype=float)
        if len(g) > _PAIRS_SAMPLE:  # pairs grow as runs^2: a fixed sample of runs bounds time and memory
            keep = np.sort(np.random.default_rng(0).choice(len(g), _PAIRS_SAMPLE, replace=False))
            g, n, d, loss = g.iloc[keep], n[keep], d[keep], loss[keep]
        bigger = (n[:, None] >= _DOMINANCE[0] * n[None, :]) & (d[:, None] >= d[None, :])
        worse = bigger & (loss[:, None] > _DOMINANCE[1] * loss[None, :])
        if worse.any() and worse.sum() <= _DOMINANCE[2] * bigger.sum() and len(g) > 5:
            # where the family follows the law within its scatter, a pair is flagged only beyond that
            # scatter (two runs near the loss floor differ by noise alone); the law has 5 parameters
            rss = _law_fit(n, d, loss)[0]
            scatter = np.sqrt(rss / (len(g) - 5))
            if np.sqrt(rss / len(g)) <= _LAW_MISFIT:
                worse &= loss[:, None] > max(_DOMINANCE[1], 1 + 3 * np.sqrt(2) * scatter) * loss[None, :]
        if worse.any() and worse.sum() <= _DOMINANCE[2] * bigger.sum():
            a, b = (int(x[0]) for x in np.nonzero(worse))
            involved = np.flatnonzero(worse.any(axis=0) | worse.any(axis=1))
            raise _error(
                f"run '{g['run'].iloc[a]}' ({n[a]:.3g} params, {d[a]:.3g} tokens) has a higher loss ({loss[a]:.4g}) "
                f"than run '{g['run'].iloc[b]}' ({n[b]:.3g} params, {d[b]:.3g} tokens, loss {loss[b]:.4g}), "
                f"which is {n[a] / n[b]:.3g}x smaller and trained on no more tokens ({int(worse.sum())} such pair(s), "
                f"runs {_names(g['run'].iloc[involved])}); params or tokens of some runs look like they are in "
                f"other units, or the table pools families of different loss levels (name them in a "
                f"'family' or 'arm' column)",
                params_col,
                label,
                guess=1e3,
            )


def _check_family_training(
    last: pd.DataFrame, fam: pd.Series, declared, derived, label: str, in_progress: bool = False
) -> None:
    """Rules 9 and 10: tokens per parameter of every run of a family (>= 2 sizes) too high or too low."""
    for f in fam.unique():
        g = last[fam.to_numpy() == f]
        n = g["params"].to_numpy(dtype=float)
        if np.unique(n).size < 2:
            continue
        d = g["tokens"].to_numpy(dtype=float)
        tpp = d / n
        which = f"all {len(g)} runs" + (f" of family '{f}'" if f else "")
        web = (d >= _WEB_SCALE[0]) & (d <= _WEB_SCALE[1])
        col = "flops" if "params" in derived else "params"
        if tpp.min() > _OVERTRAINED and not web.all() and col not in declared:
            i = int(np.argmin(tpp))
            raise _error(
                f"{which} ({_names(g['run'])}) were trained on more than {_num(_OVERTRAINED)} tokens per parameter "
                f"at their last checkpoint (fewest: {_num(float(f'{tpp[i]:.3g}'))}, run '{g['run'].iloc[i]}'), not all "
                f"of them on {_num(_WEB_SCALE[0])}-{_num(_WEB_SCALE[1])} tokens: only families trained on web-scale "
                f"corpora are over-trained at every size; "
                + ("params look like thousands" if col == "params" else "params (derived from flops) look too small"),
                col,
                label,
                guess=(_guess(tpp[i] / 20.0, col) or 1e3) if col == "params" else None,
            )
        col = "flops" if "tokens" in derived else "tokens"
        if tpp.max() < _UNDERTRAINED and col not in declared and not in_progress:
            i = int(np.argmax(tpp))
            raise _error(
                f"{which} ({_names(g['run'])}) stopped before {_num(_UNDERTRAINED)} tokens per parameter at their "
                f"last checkpoint (most: {_num(float(f'{tpp[i]:.3g}'))}, run '{g['run'].iloc[i]}'): "
                + ("tokens look like thousands" if col == "tokens" else "tokens (derived from flops) look too small")
                + ", or the table holds only early checkpoints (then declare raw counts)",
                col,
                label,
                guess=(_guess(20.0 / tpp[i], col) or 1e3) if col == "tokens" else None,
            )


def _law_fit(n: np.ndarray, d: np.ndarray, loss: np.ndarray):
    """Least sum of squared relative residuals of ``loss = E + A n^-a + B d^-b`` with E, A, B >= 0.

    The law of Hoffmann et al. (2022); the exponents run over a grid (0.05-0.8), E, A, B are least
    squares for each pair (normal equations, all pairs at once), and the two-term laws (A = 0 or
    B = 0) are included. Returns the RSS and a function giving the fitted loss at other (n, d).
    """
    rss, alpha, beta, coef = _law_grid(n[None, :], d[None, :], loss)
    if not np.isfinite(rss[0]):
        return np.inf, None
    n0, d0, a, b, c = n.max(), d.max(), alpha[0], beta[0], coef[0]
    return float(rss[0]), lambda nn, dd: c[0] + c[1] * (nn / n0) ** -a + c[2] * (dd / d0) ** -b


def _law_rss_many(n: np.ndarray, d: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """The RSS of :func:`_law_fit` for many versions of the inputs at once: ``n``, ``d`` are (K, m)."""
    return _law_grid(n, d, loss)[0]


def _law_grid(n: np.ndarray, d: np.ndarray, loss: np.ndarray):
    """:func:`_law_fit` of each row of ``n``, ``d`` (K, m) against one ``loss`` (m,), vectorised.

    Returns the RSS (K,) (inf where no law with E, A, B >= 0 fits), the exponents (K,) and the
    coefficients E, A, B (K, 3) of the best grid point, for inputs scaled by each row's largest value.
    """
    with np.errstate(all="ignore"):  # extreme values give inf or nan fits, never a warning
        w = 1.0 / loss
        m = len(loss)
        K, k = n.shape[0], len(_EXPONENTS)
        xa = w * (n / n.max(axis=1, keepdims=True))[:, None, :] ** -_EXPONENTS[None, :, None]  # (K, k, m)
        xb = w * (d / d.max(axis=1, keepdims=True))[:, None, :] ** -_EXPONENTS[None, :, None]
        # Gram matrices of the columns (w, xa, xb) for every pair of exponents; the target is loss * w = 1
        gram = np.empty((K, k, k, 3, 3))
        gram[..., 0, 0] = w @ w
        gram[..., 0, 1] = gram[..., 1, 0] = (xa @ w)[:, :, None]
        gram[..., 0, 2] = gram[..., 2, 0] = (xb @ w)[:, None, :]
        gram[..., 1, 1] = (xa * xa).sum(2)[:, :, None]
        gram[..., 2, 2] = (xb * xb).sum(2)[:, None, :]
        gram[..., 1, 2] = gram[..., 2, 1] = xa @ np.swapaxes(xb, 1, 2)
        rhs = np.empty((K, k, k, 3))
        rhs[..., 0], rhs[..., 1], rhs[..., 2] = w.sum(), xa.sum(2)[:, :, None], xb.sum(2)[:, None, :]
        alphas, betas = np.repeat(_EXPONENTS, k), np.tile(_EXPONENTS, k)
        full_g, full_r = gram.reshape(K, -1, 3, 3), rhs.reshape(K, -1, 3)
        systems = [(full_g, full_r, alphas, betas, [0, 1, 2])]
        for keep, sel in (([0, 1], np.arange(k) * k), ([0, 2], np.arange(k))):  # B = 0, then A = 0
            g2, r2 = full_g[:, sel][:, :, keep][:, :, :, keep], full_r[:, sel][:, :, keep]
            systems.append((g2, r2, alphas[sel], betas[sel], keep))
        best = np.full(K, np.inf)
        alpha, beta, coef = np.zeros(K), np.zeros(K), np.zeros((K, 3))
        rows = np.arange(K)
        for g, r, al, be, keep in systems:
            scale = np.sqrt(np.einsum("...ii->...i", g))  # unit columns: a well-conditioned system
            gs = g / scale[..., :, None] / scale[..., None, :] + 1e-12 * np.eye(len(keep))
            z = _solve_each(gs, r / scale)
            rss = m - (z * r / scale).sum(-1)  # the residual at the least-squares optimum
            rss = np.where((z >= 0).all(-1) & np.isfinite(rss), rss, np.inf)
            j = np.argmin(rss, axis=1)
            better = rss[rows, j] < best
            best = np.where(better, rss[rows, j], best)
            alpha, beta = np.where(better, al[j], alpha), np.where(better, be[j], beta)
            c = np.zeros((K, 3))
            c[:, keep] = z[rows, j] / scale[rows, j]
            coef = np.where(better[:, None], c, coef)
    return np.where(np.isfinite(best), np.maximum(best, 0.0), np.inf), alpha, beta, coef


def _solve_each(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``solve(a, b)`` over the leading axes; a row whose systems cannot be solved gets nan."""
    try:
        return np.linalg.solve(a, b[..., None])[..., 0]
    except np.linalg.LinAlgError:  # a nan or degenerate design in some row: solve row by row
        out = np.full(b.shape, np.nan)
        for i in range(len(a)):
            try:
                out[i] = np.linalg.solve(a[i], b[i][..., None])[..., 0]
            except np.linalg.LinAlgError:
                pass
        return out


def _best_shift(
    n, d, loss, ridx: np.ndarray, col: str, factor: float, base: float, alone: np.ndarray
) -> list[tuple[float, np.ndarray]]:
    """Subsets of runs whose ``col`` times ``factor`` fits the law better, each with its RSS.

    ``n, d, loss`` hold one entry per checkpoint, ``ridx`` the run (0, 1, ...) of each; a subset is a
    mask over runs. Candidates (none where no run fits better shifted alone): forward selection
    among the 12 runs that fit best shifted alone (add the one whose shift improves the fit most,
    while it does); the best prefix of the runs ranked by how much shifting each alone improves the
    fit; and from the better of these, each run going to the side (shifted or not) that the fitted
    law predicts better, until nothing moves.  ``base``: the RSS of the table as it is;
    ``alone``: the RSS with each run shifted alone (:func:`_shifted_alone`).
    """
    runs = int(ridx.max()) + 1

    def moved(mask):
        rows = mask[ridx]
        if col == "params":
            return np.where(rows, n * factor, n), d
        return n, np.where(rows, d * factor, d)

    def rss(mask):
        return _law_fit(*moved(mask), loss)[0]

    def rss_many(masks):
        pairs = [moved(mk) for mk in masks]
        return _law_rss_many(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]), loss)

    cur = base
    if not alone.min() < 0.95 * cur:  # no run fits better alone: nothing to search
        return []
    order = np.argsort(alone)
    greedy = np.zeros(runs, bool)
    pool = order[:12]
    while greedy.sum() < min(runs - 1, len(pool)):
        cands = pool[~greedy[pool]]
        scores = alone[cands] if not greedy.any() else rss_many([greedy | (np.arange(runs) == i) for i in cands])
        r, i = min(zip(scores.tolist(), cands.tolist()))
        if not r < 0.98 * cur:
            break
        greedy[i], cur = True, r
    found = [(cur, greedy.copy())] if greedy.any() else []
    prefix_rss = rss_many([np.isin(np.arange(runs), order[:k]) for k in range(1, runs)])
    r, k = min(zip(prefix_rss.tolist(), range(1, runs)))
    found.append((r, np.isin(np.arange(runs), order[:k])))
    best, mask = min(found, key=lambda x: x[0])
    for _ in range(6):
        r, law = _law_fit(*moved(mask), loss)
        if law is None:
            break
        stay = np.bincount(ridx, np.abs(law(n, d) / loss - 1), runs)
        go = np.bincount(ridx, np.abs(law(*moved(np.ones(runs, bool))) / loss - 1), runs)
        cand = go < stay
        if cand.all() or not cand.any() or (cand == mask).all():
            break
        r = rss(cand)
        if r >= best:
            break
        best, mask = r, cand
        found.append((r, cand))
    return found


def _shifted_alone(n, d, loss, ridx: np.ndarray, runs: int) -> dict:
    """The RSS with each run alone shifted, for every column and unit factor of rule 11, in one pass."""
    keys = [(col, f**sign) for col in ("params", "tokens") for f in _LAW_FACTORS for sign in (1, -1)]
    nn, dd = [], []
    for col, factor in keys:
        for i in range(runs):
            rows = ridx == i
            nn.append(np.where(rows, n * factor, n) if col == "params" else n)
            dd.append(np.where(rows, d * factor, d) if col == "tokens" else d)
    rss = _law_rss_many(np.array(nn), np.array(dd), loss).reshape(len(keys), runs)
    return dict(zip(keys, rss))


def _specific(n, d, loss, ridx, col: str, factor: float, mask: np.ndarray) -> bool:
    """The unit factor itself is what fits: the best factor for these runs lies within 2x of it, and
    the same runs shifted 10x less or 10x more fit at least 2x worse (squared residuals).

    A shift that only removes a term of the law for some runs fits about as well at 10x more; the
    loss of an outlier matches a factor anywhere; a unit mistake has one size.
    """
    rows = mask[ridx]
    steps = 10.0 ** np.linspace(-1.0, 1.0, 21)
    grid = (len(steps), len(n))
    nn = np.where(rows, n * factor * steps[:, None], n) if col == "params" else np.broadcast_to(n, grid)
    dd = np.where(rows, d * factor * steps[:, None], d) if col == "tokens" else np.broadcast_to(d, grid)
    fits = _law_rss_many(nn, dd, loss)  # every step in one pass
    best = int(np.argmin(fits))
    return abs(np.log10(steps[best])) <= _LAW_NEAR and min(fits[0], fits[-1]) >= _LAW_SPECIFIC * fits.min()


def _positions(frame: pd.DataFrame, runs) -> dict:
    """The positions (ascending) of the rows of each of ``runs``: a few dozen runs of a table of any size,
    found without grouping the whole table."""
    rows = np.flatnonzero(frame["run"].isin(pd.unique(np.asarray(runs))).to_numpy())
    names = frame["run"].to_numpy()[rows]
    return {run: rows[i] for run, i in pd.Series(names).groupby(names, sort=False).indices.items()}


def _checkpoints(frame: pd.DataFrame, runs, by_run: dict) -> tuple[np.ndarray, ...]:
    """Params, tokens, loss and run index (0, 1, ...) of up to 8 checkpoints of each run, and the run names.

    The checkpoints are evenly spaced in order of tokens, the last included; ``by_run`` maps a run to
    the positions of its rows.
    """
    cols = [pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in ("params", "tokens", "loss")]
    picked, ridx, names = [], [], []
    for run in pd.unique(np.asarray(runs)):
        pos = by_run[run]
        n, d, loss = (c[pos] for c in cols)
        pos = pos[np.isfinite(loss) & (loss > 0) & (d > 0) & (n > 0)]
        if pos.size == 0:
            continue
        pos = pos[np.argsort(cols[1][pos], kind="stable")]
        pos = pos[np.unique(np.round(np.linspace(0, pos.size - 1, _LAW_CHECKPOINTS)).astype(int))]
        picked.append(pos)
        ridx.append(np.full(pos.size, len(names)))
        names.append(run)
    pos = np.concatenate(picked) if picked else np.zeros(0, int)
    ridx = np.concatenate(ridx) if ridx else np.zeros(0, int)
    return cols[0][pos], cols[1][pos], cols[2][pos], ridx, np.array(names, dtype=object)


def _check_law_consistency(
    frame: pd.DataFrame, last: pd.DataFrame, fam: pd.Series, declared, derived, label: str
) -> None:
    """Rule 11: some runs fit the family's law only once their params or tokens are scaled by a unit factor."""
    if "loss" not in last or {"params", "tokens"} & (set(declared) | set(derived)):
        return
    for f in fam.unique():
        g = last[fam.to_numpy() == f]
        loss = pd.to_numeric(g["loss"], errors="coerce").to_numpy(dtype=float)
        g = g[np.isfinite(loss) & (loss > 0)]
        if len(g) < _LAW_RUNS[0]:
            continue
        if len(g) > _LAW_RUNS[1]:  # the search costs runs^2 fits: a fixed sample bounds it
            g = g.iloc[np.sort(np.random.default_rng(0).choice(len(g), _LAW_RUNS[1], replace=False))]
        tpp = np.log10(g["tokens"].to_numpy(dtype=float) / g["params"].to_numpy(dtype=float))
        if tpp.max() - tpp.min() < _LAW_SPREAD:  # one tokens-per-parameter ratio: N and D cannot be told apart
            continue
        n, d, loss, ridx, names = _checkpoints(frame, g["run"], _positions(frame, g["run"]))
        if len(names) < _LAW_RUNS[0]:
            continue
        rss0 = _law_fit(n, d, loss)[0]
        rms0 = np.sqrt(rss0 / len(loss))
        if not _LAW_MISFIT < rms0 < np.inf:
            continue
        found = None
        alone = _shifted_alone(n, d, loss, ridx, len(names))
        for col in ("params", "tokens"):
            for factor in _LAW_FACTORS:
                # the runs in other units are those to multiply by the factor, or (the same fit: the law
                # absorbs one factor common to all runs) the others are those to divide by it
                for sign in (1, -1):
                    shifts = _best_shift(n, d, loss, ridx, col, factor**sign, rss0, alone[col, factor**sign])
                    for rss, mask in sorted(shifts, key=lambda x: x[0]):
                        mask = mask if sign == 1 else ~mask
                        if (~mask)[ridx].sum() < 2:
                            # all runs but one final loss: that run being an outlier explains it as well
                            continue
                        if rss * _LAW_GAIN**2 > rss0 or rss > _LAW_FITS**2 * len(loss) or (found and rss >= found[0]):
                            break
                        if _specific(n, d, loss, ridx, col, factor, mask):
                            found = (rss, mask, col, factor)
                            break
        if found is None:
            continue
        rss, mask, col, factor = found
        which = f" of family '{f}'" if f else ""
        what = "final losses" if len(loss) == len(names) else f"losses ({len(loss)} checkpoints)"
        raise _error(
            f"the {what} of the {len(names)} runs{which} deviate from L = E + A/N^a + B/D^b by {rms0:.1%} (rms), "
            f"and by {np.sqrt(rss / len(loss)):.1%} once the {col} of run(s) {_names(names[mask])} are multiplied by "
            f"{_num(factor)}: their {col} look like they are in other units than those of the other "
            f"{int((~mask).sum())} run(s)",
            col,
            label,
            guess=factor,
        )


def col_absent(frame: pd.DataFrame, col: str) -> bool:
    return col not in frame


def _last_rows(frame: pd.DataFrame, run_codes: np.ndarray | None = None) -> pd.Index:
    """Index of each run's last checkpoint (largest tokens, else the last row)."""
    if run_codes is not None and "tokens" in frame and len(frame) <= NUMPY_ROWS:
        tokens = frame["tokens"].to_numpy(dtype=float)
        if len(tokens) and np.isfinite(tokens).all():  # groupby(...).idxmax() on integer codes, in numpy
            position = np.arange(len(tokens))
            order = np.lexsort((position, -tokens, run_codes))  # each run's largest tokens first, then the earliest
            code = run_codes[order]
            top = order[np.r_[True, code[1:] != code[:-1]]]  # one row per run, by code
            first = np.unique(run_codes, return_index=True)[1]  # runs in order of appearance, as groupby(sort=False)
            return frame.index[top[np.argsort(first, kind="stable")]].to_numpy()
    key = frame["run"] if run_codes is None else pd.Series(run_codes, index=frame.index)
    if "tokens" in frame:
        return frame["tokens"].groupby(key, sort=False).idxmax().to_numpy()
    return frame.groupby(key, sort=False).tail(1).index
