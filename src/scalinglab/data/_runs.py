"""The runs table: one row per evaluated checkpoint of a training run.

:func:`read_runs` is the single edge where user data enters scalinglab.  It maps
user column names onto the canonical ones, converts numbers, derives the missing
one of N, D, C from the other two (C = 6 N D, Kaplan et al. 2020), and rejects
bad input with an error that names the file, row and column and says how to fix it.
Everything downstream can then assume clean, positive float columns.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from scalinglab.data.readers import Reader, read_table
from scalinglab.data.readers._tracking import closest_names
from scalinglab.errors import DataError, InvalidParameterError

__all__ = ["CANONICAL_COLUMNS", "RunsTable", "read_runs"]

#: Canonical column names and their meaning.
CANONICAL_COLUMNS: dict[str, str] = {
    "run": "run identifier (checkpoints of one run share it)",
    "family": "model family / ladder name",
    "params": "N, number of parameters (raw count)",
    "tokens": "D, training tokens seen at this checkpoint (raw count)",
    "flops": "C, training compute in FLOPs (not PF-days)",
    "step": "optimizer step of the checkpoint",
    "seed": "random seed of the run",
    "loss": "evaluation loss, nats/token",
}
_POSITIVE = ("params", "tokens", "flops", "loss")
_NUMERIC = ("params", "tokens", "flops", "step", "seed", "loss")
PF_DAY = 8.64e19


@dataclass(frozen=True)
class RunsTable:
    """A validated runs table.

    Attributes
    ----------
    frame : pandas.DataFrame
        Canonical columns (``run``, ``params``, ``tokens``, ``flops``, ``loss``...)
        plus any extra metric columns, rows sorted by run then tokens.
    source : str
        Where the data came from (a path or ``"<DataFrame>"``).
    notes : tuple of str
        What was derived or selected on the way (``"flops = 6*params*tokens"``...).
    """

    frame: pd.DataFrame
    source: str = "<DataFrame>"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    @property
    def n_runs(self) -> int:
        return int(self.frame["run"].nunique())

    def with_frame(self, frame: pd.DataFrame, note: str | None = None) -> "RunsTable":
        """A copy holding ``frame`` with ``note`` appended to the notes."""
        notes = self.notes + ((note,) if note else ())
        return replace(self, frame=frame.reset_index(drop=True), notes=notes)

    def fingerprint(self) -> str:
        """SHA-256 of the canonical numeric content (order-independent within runs)."""
        cols = [c for c in ("run", "params", "tokens", "flops", "loss") if c in self.frame]
        data = self.frame[cols].to_csv(index=False, float_format="%.17g").encode()
        return hashlib.sha256(data).hexdigest()

    def describe(self) -> dict[str, Any]:
        """Counts and ranges of the canonical columns, as plain Python types."""
        f = self.frame
        out: dict[str, Any] = {
            "source": self.source,
            "n_rows": len(f),
            "n_runs": self.n_runs,
            "notes": list(self.notes),
        }
        if "family" in f:
            out["families"] = sorted(map(str, f["family"].unique()))
        for col in ("params", "tokens", "flops", "loss"):
            if col in f:
                out[col] = {"min": float(f[col].min()), "max": float(f[col].max()),
                            "n_distinct": int(f[col].nunique())}
        return out

    def __repr__(self) -> str:
        return f"RunsTable({len(self.frame)} rows, {self.n_runs} runs, source={self.source!r})"


def read_runs(
    source: str | os.PathLike | pd.DataFrame | RunsTable,
    *,
    format: str | Reader | None = None,
    units: Mapping[str, float] | None = None,
    duplicates: str = "raise",
    required: tuple[str, ...] = ("loss",),
    **mapping: str,
) -> RunsTable:
    """Read and validate a runs table from CSV, JSON Lines, Parquet or a DataFrame.

    Parameters
    ----------
    source : path or DataFrame
        ``.csv``, ``.tsv``, ``.jsonl``/``.ndjson``, ``.json`` (records) or
        ``.parquet`` (needs the optional ``pyarrow``), or any suffix of a reader
        added with :func:`scalinglab.data.register_reader`.  The file is never modified.
    format : str, optional
        Reader name (``"csv"``, ``"jsonl"``, ...; see
        :func:`scalinglab.data.list_readers`) used instead of the one the
        file's suffix picks.  CLI: ``--format``.
    units : mapping, optional
        Multipliers applied to columns whose values are not raw counts, e.g.
        ``{"params": 1e6}`` for parameters given in millions or
        ``{"flops": 8.64e19}`` for compute given in PF-days.
    duplicates : {"raise", "mean", "last"}, default "raise"
        What to do with repeated evaluations of one checkpoint (same run and tokens).
    required : tuple of str
        Canonical columns that must be present (after mapping).
    **mapping : str
        ``canonical="user_name"`` pairs, e.g. ``params="num_params"``.

    Returns
    -------
    RunsTable

    Raises
    ------
    DataError
        Missing columns, unparseable numbers, NaN/inf, non-positive sizes or loss,
        duplicate checkpoints, values in the wrong unit.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"n": [1e6, 1e7], "tokens": [1e8, 1e9], "loss": [3.1, 2.7]})
    >>> runs = read_runs(df, params="n")
    >>> runs.frame["flops"].tolist()
    [600000000000000.0, 6e+16]

    A file whose suffix says nothing about its format:

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ladder.log"
    >>> df.to_csv(path, index=False)
    >>> read_runs(path, format="csv", params="n").n_runs
    2
    """
    if format is not None and isinstance(source, (pd.DataFrame, RunsTable)):
        raise InvalidParameterError("read_runs(): format= applies to files; this source is already a table",
                                    hint="drop format=, or pass the path of the file")
    if isinstance(source, RunsTable):
        if mapping or units:
            source = source.frame
        else:
            return source
    if duplicates not in ("raise", "mean", "last"):
        raise InvalidParameterError(
            f"read_runs(): 'duplicates' must be one of 'raise', 'mean', 'last'; got {duplicates!r}."
        )
    label = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)
    notes: list[str] = []
    raw = source.copy() if isinstance(source, pd.DataFrame) else read_table(
        source if isinstance(source, str) else Path(source), format)
    frame = _apply_mapping(raw, mapping, label)
    if raw.attrs.get("tracker"):  # a tracker logs each metric at its own steps: keep the rows with the needed ones
        frame, dropped = _tracker_rows(frame, required)
        notes += list(raw.attrs.get("notes", [])) + dropped
    frame = _to_numbers(frame, label)
    for col, factor in (units or {}).items():
        if col not in frame:
            raise DataError(f"units given for '{col}', which is not a column", source=label,
                            hint=f"use one of {list(frame.columns)}")
        frame[col] = frame[col] * float(factor)
        notes.append(f"{col} multiplied by {factor:g}")
    for col in required:
        if col not in frame:
            raise _missing(col, frame, label)
    _check_finite_positive(frame, label)
    notes += _derive_size_columns(frame, label)
    _check_units(frame, label, declared=set(units or {}))
    frame = _assign_runs(frame, notes)
    frame = _handle_duplicates(frame, duplicates, label, notes)
    order = [c for c in CANONICAL_COLUMNS if c in frame] + [c for c in frame if c not in CANONICAL_COLUMNS]
    sort_keys = ["run"] + [c for c in ("tokens", "step") if c in frame]
    frame = frame[order].sort_values(sort_keys, kind="stable").reset_index(drop=True)
    return RunsTable(frame=frame, source=label, notes=tuple(notes))


# --------------------------------------------------------------------------- helpers


def _apply_mapping(frame: pd.DataFrame, mapping: Mapping[str, str], label: str) -> pd.DataFrame:
    frame.columns = [str(c).strip() for c in frame.columns]
    renames: dict[str, str] = {}
    for canonical, user in mapping.items():
        if user not in frame.columns:
            raise DataError(
                f"column '{user}' (mapped to '{canonical}') is not in the table", source=label,
                column=user, kind="missing-column",
                hint=_close_hint(user, frame.columns) + _columns_label(frame.columns),
            )
        if canonical in frame.columns and canonical != user:
            frame = frame.drop(columns=[canonical])
        renames[user] = canonical
    return frame.rename(columns=renames)


def _tracker_rows(frame: pd.DataFrame, required: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    need = [c for c in required if c in frame]
    if not need:
        return frame, []
    keep = frame[need].notna().all(axis=1)
    if keep.all():
        return frame, []
    return frame[keep].reset_index(drop=True), [f"{int((~keep).sum())} logged step(s) without {'/'.join(need)} dropped"]


def _close_hint(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, [str(c) for c in candidates], n=3, cutoff=0.5)
    return f"did you mean {', '.join(repr(c) for c in close)}?" if close else "check the column name"


def _columns_label(columns) -> str:
    cols = [str(c) for c in columns]
    return f"; columns: {cols}" if len(cols) <= 12 else f"; {len(cols)} columns, e.g. {cols[:6]}"


def _missing(col: str, frame: pd.DataFrame, label: str) -> DataError:
    close = closest_names(col, frame.columns, n=3) or difflib.get_close_matches(col, list(frame.columns), n=1,
                                                                                 cutoff=0.4)
    how = f"map it with {col}='{close[0]}' (CLI: --map {col}={close[0]})" if close else (
        f"add a '{col}' column or map yours with {col}='your_name' (CLI: --map {col}=your_name)")
    near = f"closest: {', '.join(repr(c) for c in close)}" if close else _columns_label(frame.columns)[2:]
    return DataError(f"required column '{col}' is missing ({near})",
                     source=label, column=col, kind="missing-column", hint=how)


def _row_label(frame: pd.DataFrame, idx: int) -> int:
    return int(idx) + 1  # 1-based data row (the header is not counted)


def _to_numbers(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    frame = frame.copy()
    for col in _NUMERIC:
        if col not in frame:
            continue
        original = frame[col]
        if pd.api.types.is_bool_dtype(original):
            raise DataError("expected numbers, got booleans", source=label, column=col,
                            kind="unparseable-number", hint="store numeric values in this column")
        converted = pd.to_numeric(original, errors="coerce")
        bad = converted.isna() & original.notna() & (original.astype(str).str.strip().str.lower()
                                                      .isin(["nan", "", "none", "null", "na"]) == False)  # noqa: E712
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"cannot parse {original.iloc[i]!r} as a number", source=label,
                            row=_row_label(frame, i), column=col, value=original.iloc[i],
                            kind="unparseable-number",
                            hint="write plain numbers such as 1.2e9 (no units like '1.2B' or thousands separators)")
        frame[col] = converted.astype(float)
    return frame


def _check_finite_positive(frame: pd.DataFrame, label: str) -> None:
    for col in _NUMERIC:
        if col not in frame:
            continue
        values = frame[col].to_numpy(dtype=float)
        nonfinite = ~np.isfinite(values)
        if nonfinite.any():
            i = int(np.flatnonzero(nonfinite)[0])
            what = "NaN (missing)" if np.isnan(values[i]) else "infinite"
            raise DataError(f"value is {what}; {int(nonfinite.sum())} such row(s) in this column",
                            source=label, row=_row_label(frame, i), column=col, value=values[i],
                            kind="non-finite-value",
                            hint="drop or fill those rows before fitting (e.g. df.dropna(subset=['%s']))" % col)
        if col in _POSITIVE:
            nonpos = values <= 0
            if nonpos.any():
                i = int(np.flatnonzero(nonpos)[0])
                raise DataError(f"expected {col} > 0, got {values[i]:g}", source=label,
                                row=_row_label(frame, i), column=col, value=values[i],
                                kind="non-positive-value",
                                hint="correct the value or drop that row; sizes, compute and loss must be positive")


def _derive_size_columns(frame: pd.DataFrame, label: str) -> list[str]:
    have = {c for c in ("params", "tokens", "flops") if c in frame}
    if have == {"params", "tokens"}:
        frame["flops"] = 6.0 * frame["params"] * frame["tokens"]
        return ["flops = 6*params*tokens (no flops column given)"]
    if have == {"params", "flops"}:
        frame["tokens"] = frame["flops"] / (6.0 * frame["params"])
        return ["tokens = flops/(6*params) (no tokens column given)"]
    if have == {"tokens", "flops"}:
        frame["params"] = frame["flops"] / (6.0 * frame["tokens"])
        return ["params = flops/(6*tokens) (no params column given)"]
    return []


def _check_units(frame: pd.DataFrame, label: str, declared: set[str]) -> None:
    if {"params", "tokens", "flops"} <= set(frame):
        ratio = frame["flops"] / (6.0 * frame["params"] * frame["tokens"])
        bad = (ratio < 0.05) | (ratio > 20)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            r = float(ratio.iloc[i])
            maybe = ""
            if 1e-22 < r < 1e-17:
                maybe = " It looks like compute is in PF-days (1 PF-day = 8.64e19 FLOPs): pass units={'flops': 8.64e19} (CLI: --unit flops=8.64e19)."
            raise DataError(
                f"flops = {frame['flops'].iloc[i]:.4g} is {r:.3g} x 6*params*tokens; the three columns disagree.{maybe}",
                source=label, row=_row_label(frame, i), column="flops", kind="unit-mismatch",
                hint="give flops in FLOPs, params and tokens as raw counts, or drop the flops column to use 6ND")
    for col, noun, factor in (("params", "parameter", "1e6"), ("tokens", "token", "1e9")):
        if col in frame and col not in declared and frame[col].max() < 1e3:
            raise DataError(
                f"all {col} are below 1,000 (max {frame[col].max():g}); they look like millions or billions",
                source=label, column=col, kind="unit-mismatch",
                hint=f"give raw {noun} counts, or pass units={{'{col}': {factor}}} (CLI: --unit {col}={factor}); "
                     f"if they really are raw counts, say so with units={{'{col}': 1}}")


def _assign_runs(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    if "run" in frame:
        frame["run"] = frame["run"].astype(str)
        return frame
    keys = [c for c in ("family", "params", "seed") if c in frame]
    if "step" in frame and keys:
        frame["run"] = frame[keys].astype(str).agg("-".join, axis=1)
        notes.append(f"run ids built from {'+'.join(keys)} (no run column given)")
    else:
        frame["run"] = [f"row{i + 1}" for i in range(len(frame))]
        notes.append("each row treated as its own run (no run column given)")
    return frame


def _handle_duplicates(frame: pd.DataFrame, policy: str, label: str, notes: list[str]) -> pd.DataFrame:
    key = ["run"] + [c for c in ("tokens", "step") if c in frame][:1]
    if len(key) == 1:
        return frame
    dup = frame.duplicated(subset=key, keep=False)
    if not dup.any():
        return frame
    if policy == "raise":
        rows = np.flatnonzero(dup.to_numpy())[:2] + 1
        i = rows[0] - 1
        raise DataError(
            f"run '{frame['run'].iloc[i]}' has {int(dup.sum())} rows that repeat a checkpoint "
            f"({key[1]}={frame[key[1]].iloc[i]:g}), e.g. rows {rows[0]} and {rows[1]}",
            source=label, row=int(rows[0]), column=key[1], kind="duplicate-rows",
            hint="give each run a distinct 'run' id (e.g. include the seed), or pass duplicates='mean' / 'last' "
                 "(CLI: --duplicates mean) to merge repeated evaluations")
    numeric = [c for c in frame.columns if c not in key and pd.api.types.is_numeric_dtype(frame[c])]
    if policy == "mean":
        agg = {c: "mean" for c in numeric} | {c: "last" for c in frame.columns if c not in key and c not in numeric}
        merged = frame.groupby(key, sort=False, as_index=False).agg(agg)
    else:
        merged = frame.drop_duplicates(subset=key, keep="last")
    notes.append(f"{len(frame) - len(merged)} repeated evaluation(s) merged ({policy})")
    return merged
