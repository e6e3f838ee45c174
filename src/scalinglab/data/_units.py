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
   a family of more than 1,500 runs is checked on a fixed sample of 1,500.
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
A column declared with ``units=`` (e.g. ``units={'params': 1}`` for raw counts)
is exempt from the rules that concern it alone (2-10).  Counts with a fraction are
not a rule: ``np.geomspace(1e6, 1e9, 8)`` ladders are common.  How often the rules catch
a unit mistake and how often they flag a clean ladder or a public compilation:
``bench/unit_checks.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalinglab.data._families import family_key
from scalinglab.errors import DataError

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


def col_absent(frame: pd.DataFrame, col: str) -> bool:
    return col not in frame


def _last_rows(frame: pd.DataFrame, run_codes: np.ndarray | None = None) -> pd.Index:
    """Index of each run's last checkpoint (largest tokens, else the last row)."""
    key = frame["run"] if run_codes is None else pd.Series(run_codes, index=frame.index)
    if "tokens" in frame:
        return frame["tokens"].groupby(key, sort=False).idxmax().to_numpy()
    return frame.groupby(key, sort=False).tail(1).index
