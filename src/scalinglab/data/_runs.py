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
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.data._units import NUMPY_ROWS, check_units
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

    def with_frame(self, frame: pd.DataFrame, note: str | None = None) -> RunsTable:
        """A copy holding ``frame`` with ``note`` appended to the notes."""
        notes = self.notes + ((note,) if note else ())
        return replace(self, frame=frame.reset_index(drop=True), notes=notes)

    def subset(self, rows) -> RunsTable:
        """The table of some of its rows (a boolean mask or positions), still validated.

        Rows of a validated table need no second check: fitting many subsets of one table
        (training fractions, size windows) through ``fit``/``fit_many`` after one
        :func:`read_runs` skips the per-table checks that a DataFrame per subset repeats.

        Examples
        --------
        >>> import pandas as pd
        >>> runs = read_runs(pd.DataFrame({"params": [1e6, 1e7, 1e8], "tokens": [1e8, 1e9, 1e10], "loss": [3.1, 2.7, 2.4]}))
        >>> small = runs.subset(runs.frame["params"] < 5e7)
        >>> len(small), small.source
        (2, '<DataFrame>')
        """
        n, hint = len(self.frame), "build it from runs.frame, e.g. runs.subset(runs.frame['params'] < 1e9)"
        rows = np.asarray(rows)
        if rows.dtype == bool:
            if rows.shape != (n,):
                raise InvalidParameterError(
                    f"RunsTable.subset(): a mask needs one value per row ({n}); got shape {rows.shape}", hint=hint
                )
            rows = np.flatnonzero(rows)
        elif rows.size and (rows.dtype.kind not in "iu" or rows.min() < 0 or rows.max() >= n):
            raise InvalidParameterError(
                f"RunsTable.subset(): rows must be a boolean mask or positions in 0..{n - 1}", hint=hint
            )
        # each row once, in the table's order (run, then tokens): a subset is never a new table
        return replace(self, frame=self.frame.take(np.unique(rows.astype(int))).reset_index(drop=True))

    def fingerprint(self) -> str:
        """SHA-256 of the canonical content: run ids and the float64 values of params, tokens, flops, loss.

        The numeric columns are hashed as their raw little-endian float64 buffers (NaN made canonical),
        the run ids as one NUL-separated string, so a million rows take a fraction of a second.  Rows of a table from :func:`read_runs` are sorted by run and tokens,
        so the fingerprint does not depend on the row order of the file.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"run": ["a", "b"], "params": [1e6, 1e7], "tokens": [1e8, 1e9], "loss": [3.1, 2.7]})
        >>> a, b = read_runs(df), read_runs(df.iloc[::-1])
        >>> a.fingerprint() == b.fingerprint(), len(a.fingerprint())
        (True, 64)
        """
        frame = self.frame
        h = hashlib.sha256(b"scalinglab.runs/2\n")
        for col in ("run", "params", "tokens", "flops", "loss"):
            if col not in frame:
                continue
            h.update(f"{col}:{len(frame)}\n".encode())
            if col == "run":
                ids = frame[col].astype(str).to_numpy(dtype=object).tolist()
                h.update("\x00".join(ids).encode("utf-8", "surrogatepass") + b"\n")
            else:
                values = frame[col].to_numpy(dtype=float)
                values = np.where(np.isnan(values), np.nan, values)  # one NaN bit pattern
                h.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
        return h.hexdigest()

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
                out[col] = {"min": float(f[col].min()), "max": float(f[col].max()), "n_distinct": int(f[col].nunique())}
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
    reader_options: Mapping[str, Any] | None = None,
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
    reader_options : mapping, optional
        Keyword options of the file's reader, e.g. ``{"tokens_per_step": 4e6}`` for a W&B
        export (:func:`scalinglab.data.list_readers`).  CLI: ``--reader-option KEY=VALUE``.
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
    _check_arguments(source, format, units, duplicates, required, mapping)
    if reader_options and isinstance(source, (pd.DataFrame, RunsTable)):
        raise InvalidParameterError(
            "read_runs(): reader_options= apply to files; this source is already a table",
            hint="drop reader_options=, or pass the path of the file",
        )
    if isinstance(source, RunsTable):
        if mapping or units:
            source = source.frame
        else:
            return source
    label = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)
    notes: list[str] = []
    raw = (
        source.copy()
        if isinstance(source, pd.DataFrame)
        else read_table(source if isinstance(source, str) else Path(source), format, **dict(reader_options or {}))
    )
    frame = _apply_mapping(raw, mapping, label)
    if raw.attrs.get("tracker"):  # a tracker logs each metric at its own steps: keep the rows with the needed ones
        frame, dropped = _tracker_rows(frame, required)
        notes += list(raw.attrs.get("notes", [])) + dropped
    frame = _to_numbers(frame, label)
    for col, factor in (units or {}).items():
        if col not in frame:
            raise DataError(
                f"units given for '{col}', which is not a column",
                source=label,
                hint=f"use one of {list(frame.columns)}",
            )
        frame[col] = frame[col] * float(factor)
        if float(factor) != 1.0:
            notes.append(f"{col} multiplied by {factor:g}")
    for col in required:
        if col not in frame:
            raise _missing(col, frame, label)
    _check_finite_positive(frame, label, required)
    derived_notes = _derive_size_columns(frame, label)
    notes += derived_notes
    derived = {n.split(" ", 1)[0] for n in derived_notes}
    _check_finite_positive(frame, label, required, only=derived, derived=True)
    frame = _assign_runs(frame, notes, label)
    # integer codes of the run ids in sorted order: grouping, duplicate search and sorting on them are
    # cheap where a million distinct strings are not
    codes = pd.factorize(frame["run"], sort=True)[0]
    check_units(
        frame,
        label,
        declared=set(units or {}),
        derived=derived,
        run_codes=codes,
        in_progress=bool(raw.attrs.get("tracker")),
    )
    n_rows = len(frame)
    frame = _handle_duplicates(frame, duplicates, label, notes, codes)
    if len(frame) != n_rows:
        codes = pd.factorize(frame["run"], sort=True)[0]
    order = [c for c in CANONICAL_COLUMNS if c in frame] + [c for c in frame if c not in CANONICAL_COLUMNS]
    # the order of sort_values(["run", "tokens", "step"], kind="stable"): np.lexsort is stable, last key first
    keys = [frame[c].to_numpy(dtype=float) for c in ("step", "tokens") if c in frame]
    rows = np.lexsort([*keys, codes])
    frame = frame[order].take(rows).reset_index(drop=True)
    return RunsTable(frame=frame, source=label, notes=tuple(notes))


def _check_arguments(source, format, units, duplicates, required, mapping) -> None:
    """Wrong types or values of read_runs() arguments, each with the fix."""
    if format is not None and isinstance(source, (pd.DataFrame, RunsTable)):
        raise InvalidParameterError(
            "read_runs(): format= applies to files; this source is already a table",
            hint="drop format=, or pass the path of the file",
        )
    if not isinstance(source, (str, os.PathLike, pd.DataFrame, RunsTable)):
        raise InvalidParameterError(
            f"read_runs(): source must be a file path, a pandas DataFrame or a RunsTable; got {type(source).__name__}",
            hint="pass a path such as 'runs.csv' or pd.DataFrame(your_records)",
        )
    if isinstance(source, str) and not source.strip():
        raise InvalidParameterError("read_runs(): the path is empty", hint="pass the path of a runs file")
    if format is not None and not isinstance(format, (str, Reader)):
        raise InvalidParameterError(
            f"read_runs(): format must be a reader name such as 'csv'; got {format!r}",
            hint="see scalinglab.data.list_readers()",
        )
    if duplicates not in ("raise", "mean", "last"):
        raise InvalidParameterError(
            f"read_runs(): 'duplicates' must be one of 'raise', 'mean', 'last'; got {duplicates!r}.",
            hint="pass duplicates='mean' to average repeated evaluations",
            cli_hint="pass --duplicates mean to average repeated evaluations",
        )
    if units is not None:
        if not isinstance(units, Mapping):
            raise InvalidParameterError(
                f"read_runs(): units must be a mapping such as {{'params': 1e6}}; got {type(units).__name__}",
                hint="pass units={'params': 1e6}",
            )
        for col, factor in units.items():
            ok = isinstance(factor, (int, float, np.integer, np.floating)) and not isinstance(factor, bool)
            if not ok or not np.isfinite(float(factor)) or float(factor) <= 0:
                raise InvalidParameterError(
                    f"read_runs(): the unit of '{col}' must be a positive number (the factor that gives raw "
                    f"counts); got {factor!r}",
                    hint=f"e.g. units={{'{col}': 1e6}} for millions",
                    cli_hint=f"e.g. --unit {col}=1e6 for millions",
                )
    if isinstance(required, str) or not all(isinstance(c, str) for c in required):
        raise InvalidParameterError(
            f"read_runs(): required must be a tuple of column names; got {required!r}", hint="e.g. required=('loss',)"
        )
    for canonical, user in mapping.items():
        if not isinstance(user, str) or not user.strip():
            raise InvalidParameterError(
                f"read_runs(): {canonical}= must name a column of your table; got {user!r}",
                hint=f"e.g. {canonical}='your_column_name'",
                cli_hint=f"e.g. --map {canonical}=your_column_name",
            )


# --------------------------------------------------------------------------- helpers


def _apply_mapping(frame: pd.DataFrame, mapping: Mapping[str, str], label: str) -> pd.DataFrame:
    frame.columns = [str(c).strip() for c in frame.columns]
    _check_unique_columns(list(frame.columns), label, "")
    renames: dict[str, str] = {}
    for canonical, user in mapping.items():
        if user not in frame.columns:
            raise DataError(
                f"column '{user}' (mapped to '{canonical}') is not in the table",
                source=label,
                column=user,
                kind="missing-column",
                hint=_close_hint(user, frame.columns) + _columns_label(frame.columns),
            )
        if canonical in frame.columns and canonical != user:
            frame = frame.drop(columns=[canonical])
        renames[user] = canonical
    frame = frame.rename(columns=renames)
    _check_unique_columns(list(frame.columns), label, " after mapping")
    return frame


def _check_unique_columns(columns: list[str], label: str, when: str) -> None:
    # pandas reads a repeated CSV header as 'loss' and 'loss.1'; a DataFrame may hold two 'loss' columns
    seen: dict[str, int] = {}
    for c in columns:
        seen[c] = seen.get(c, 0) + 1
    twice = [c for c, n in seen.items() if n > 1]
    mangled = [
        c
        for c in columns
        if "." in c
        and c.rsplit(".", 1)[1].isdigit()
        and c.rsplit(".", 1)[0] in columns
        and c.rsplit(".", 1)[0] in CANONICAL_COLUMNS
    ]
    if twice or mangled:
        name = twice[0] if twice else mangled[0].rsplit(".", 1)[0]
        raise DataError(
            f"column '{name}' appears more than once{when}; which one holds the data is ambiguous",
            source=label,
            column=name,
            kind="duplicate-column",
            hint=f"rename or drop one of them (or map another column onto it, e.g. {name}='your_column')",
            cli_hint=f"rename or drop one of them in the file, or map "
            f"another column onto it with --map {name}=your_column",
        )


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
    close = closest_names(col, frame.columns, n=3) or difflib.get_close_matches(
        col, list(frame.columns), n=1, cutoff=0.4
    )
    how = (
        f"map it with {col}='{close[0]}' (CLI: --map {col}={close[0]})"
        if close
        else (f"add a '{col}' column or map yours with {col}='your_name' (CLI: --map {col}=your_name)")
    )
    cli = (
        f"map it with --map {col}={close[0]}"
        if close
        else (f"add a '{col}' column or map yours with --map {col}=your_name")
    )
    near = f"closest: {', '.join(repr(c) for c in close)}" if close else _columns_label(frame.columns)[2:]
    return DataError(
        f"required column '{col}' is missing ({near})",
        source=label,
        column=col,
        kind="missing-column",
        hint=how,
        cli_hint=cli,
    )


def _row_label(frame: pd.DataFrame, idx: int) -> int:
    return int(idx) + 1  # 1-based data row (the header is not counted)


def _to_numbers(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    frame = frame.copy()
    for col in _NUMERIC:
        if col not in frame:
            continue
        original = frame[col]
        if pd.api.types.is_bool_dtype(original):
            raise DataError(
                "expected numbers, got booleans",
                source=label,
                column=col,
                kind="unparseable-number",
                hint="store numeric values in this column",
            )
        if isinstance(original.dtype, np.dtype) and original.dtype.kind in "iuf":  # numbers already: nothing to parse
            frame[col] = original.astype(float)
            continue
        converted = pd.to_numeric(original, errors="coerce")
        bad = converted.isna() & original.notna()
        if bad.any():  # only rows that failed to parse are looked at as text (cheap on large tables)
            bad &= ~(original.astype(str).str.strip().str.lower().isin(["nan", "", "none", "null", "na"]))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"cannot parse {original.iloc[i]!r} as a number",
                source=label,
                row=_row_label(frame, i),
                column=col,
                value=original.iloc[i],
                kind="unparseable-number",
                hint="write plain numbers such as 1.2e9 (no units like '1.2B' or thousands separators)",
            )
        frame[col] = converted.astype(float)
    return frame


def _check_finite_positive(frame: pd.DataFrame, label: str, required=(), only=None, derived: bool = False) -> None:
    """NaN/inf and non-positive values in the columns scalinglab uses: the size columns, and the
    target when it is required.  Columns a command does not use (``step``, ``seed``, metrics, a
    ``loss`` that is not the target) are not validated here; the fit checks its own columns."""
    cols = [c for c in ("params", "tokens", "flops", "loss") if c in frame and (c != "loss" or c in required)]
    cols += [c for c in required if c in frame and c not in cols and c in _NUMERIC]
    if only is not None:
        cols = [c for c in cols if c in only]
    for col in cols:
        values = frame[col].to_numpy(dtype=float)
        nonfinite = ~np.isfinite(values)
        if nonfinite.any():
            i = int(np.flatnonzero(nonfinite)[0])
            if derived:
                raise DataError(
                    f"derived {col} overflows to {values[i]:g} ({int(nonfinite.sum())} row(s)): the values of the "
                    f"other size columns are beyond any real run",
                    source=label,
                    row=_row_label(frame, i),
                    column=col,
                    kind="non-finite-value",
                    hint="check the params/tokens/flops values of that row (are they in the right units?)",
                )
            what = "NaN (missing)" if np.isnan(values[i]) else "infinite"
            raise DataError(
                f"value is {what}; {int(nonfinite.sum())} such row(s) in this column",
                source=label,
                row=_row_label(frame, i),
                column=col,
                value=values[i],
                kind="non-finite-value",
                hint=f"drop or fill those rows before fitting (pandas: df.dropna(subset=['{col}']))",
                cli_hint="drop or fill those rows in the file before fitting",
            )
        nonpos = values <= 0
        if nonpos.any():
            i = int(np.flatnonzero(nonpos)[0])
            raise DataError(
                f"expected {col} > 0, got {values[i]:g}",
                source=label,
                row=_row_label(frame, i),
                column=col,
                value=values[i],
                kind="non-positive-value",
                hint="correct the value or drop that row; sizes, compute and loss must be positive",
            )


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


def _assign_runs(frame: pd.DataFrame, notes: list[str], label: str = "<DataFrame>") -> pd.DataFrame:
    if "run" in frame:
        stripped = frame["run"].astype(str).str.strip()
        empty = frame["run"].isna() | (stripped == "")
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError(
                f"the run id is empty; {int(empty.sum())} such row(s)",
                row=i + 1,
                column="run",
                kind="empty-run-id",
                source=label,
                hint="give every row the id of its training run (rows of one run share it), "
                "or drop the run column to treat each row as its own run",
            )
        frame["run"] = stripped
        return frame
    keys = [c for c in ("family", "params", "seed") if c in frame]
    if "step" in frame and keys:
        frame["run"] = frame[keys].astype(str).agg("-".join, axis=1)
        notes.append(f"run ids built from {'+'.join(keys)} (no run column given)")
    else:
        frame["run"] = ("row" + pd.Series(np.arange(1, len(frame) + 1), index=frame.index).astype(str)).astype(str)
        notes.append("each row treated as its own run (no run column given)")
    return frame


def _handle_duplicates(
    frame: pd.DataFrame, policy: str, label: str, notes: list[str], codes: np.ndarray | None = None
) -> pd.DataFrame:
    key = ["run"] + [c for c in ("tokens", "step") if c in frame][:1]
    if len(key) == 1:
        return frame
    values = frame[key[1]].to_numpy()
    small = len(frame) <= NUMPY_ROWS
    if small and codes is not None and values.dtype == np.float64 and np.isfinite(values).all():
        order = np.lexsort((values, codes))  # a repeat sits next to its twin once sorted
        if not np.any((codes[order][1:] == codes[order][:-1]) & (values[order][1:] == values[order][:-1])):
            return frame
    if codes is None:
        dup = frame.duplicated(subset=key, keep=False)
    else:  # the same rows, found on integer run codes
        dup = pd.DataFrame({"run": codes, key[1]: frame[key[1]].to_numpy()}, index=frame.index).duplicated(keep=False)
    if not dup.any():
        return frame
    if policy == "raise":
        rows = np.flatnonzero(dup.to_numpy())[:2] + 1
        i = rows[0] - 1
        raise DataError(
            f"run '{frame['run'].iloc[i]}' has {int(dup.sum())} rows that repeat a checkpoint "
            f"({key[1]}={frame[key[1]].iloc[i]:g}), e.g. rows {rows[0]} and {rows[1]}",
            source=label,
            row=int(rows[0]),
            column=key[1],
            kind="duplicate-rows",
            hint="give each run a distinct 'run' id (e.g. include the seed), or pass duplicates='mean' / 'last' "
            "to merge repeated evaluations",
            cli_hint="give each run a distinct 'run' id in the file (e.g. include the seed), or pass "
            "--duplicates mean (or last) to merge repeated evaluations",
        )
    numeric = [c for c in frame.columns if c not in key and pd.api.types.is_numeric_dtype(frame[c])]
    if policy == "mean":
        agg = {c: "mean" for c in numeric} | {c: "last" for c in frame.columns if c not in key and c not in numeric}
        merged = frame.groupby(key, sort=False, as_index=False).agg(agg)
    else:
        merged = frame.drop_duplicates(subset=key, keep="last")
    notes.append(f"{len(frame) - len(merged)} repeated evaluation(s) merged ({policy})")
    return merged
