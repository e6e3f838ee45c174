"""What the experiment-tracker readers share: long tables, sizes from configs and names, restart segments.

Every tracker reader (W&B CSV exports, TensorBoard, MLflow, trainer JSON Lines)
returns one row per ``(run, step)`` with one column per logged metric, under the
tracker's own metric names; :func:`scalinglab.data.read_runs` then maps them to
the canonical columns (``loss="eval/loss"``, CLI ``--map loss=eval/loss``).
Where the tracker has them, ``params`` comes from the run's config (or a size
in its name such as ``OLMo-7B``) and ``tokens`` from a logged token count or
``step * tokens_per_step`` (``tokens_per_step``, or ``batch_size * seq_len``,
in the config).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "PARAMS_KEYS",
    "TOKENS_KEYS",
    "closest_names",
    "size_from_name",
    "config_number",
    "add_sizes",
    "join_segments",
    "wide_by_step",
]

#: Config keys (case-insensitive, the part after the last "." or "/") that give the parameter count.
PARAMS_KEYS = (
    "params",
    "n_params",
    "num_params",
    "nparams",
    "model_params",
    "parameters",
    "n_parameters",
    "num_parameters",
    "param_count",
    "model_size",
    "non_embedding_params",
)
#: Metric or config keys that give the tokens seen at a step.
TOKENS_KEYS = (
    "tokens",
    "tokens_seen",
    "num_tokens",
    "n_tokens",
    "consumed_tokens",
    "train_tokens",
    "total_tokens",
    "tokens_trained",
)
_TOKENS_PER_STEP = ("tokens_per_step", "tokens_per_batch", "batch_tokens", "global_batch_tokens")
_BATCH = ("global_batch_size", "batch_size", "train_batch_size", "global_train_batch_size")
_SEQ = (
    "seq_len",
    "sequence_length",
    "max_seq_len",
    "max_sequence_length",
    "block_size",
    "context_length",
    "n_ctx",
    "seq_length",
)
_STEP_KEYS = ("step", "_step", "global_step", "iteration", "iter", "trainer/global_step", "train/step")
_SIZE = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)\s*([MB])(?![A-Za-z0-9])", re.IGNORECASE)
_SEGMENT = re.compile(r"^(?P<base>.+?)[-_ ]run[-_ ]?(?P<seg>\d+)$", re.IGNORECASE)


def closest_names(name: str, columns: Iterable[Any], n: int = 5) -> list[str]:
    """Up to ``n`` column names most like ``name``: those containing it first, then difflib's matches.

    Examples
    --------
    >>> closest_names("loss", ["Step", "eval/c4/CrossEntropyLoss", "train/Perplexity", "lr"])
    ['eval/c4/CrossEntropyLoss']
    """
    cols = [str(c) for c in columns]
    low = name.lower()
    contains = [c for c in cols if low in c.lower()]
    contains.sort(key=lambda c: (len(c), c))
    fuzzy = difflib.get_close_matches(name, cols, n=n, cutoff=0.5)
    return list(dict.fromkeys(contains + fuzzy))[:n]


def size_from_name(name: str) -> float | None:
    """A parameter count written in a run name (``OLMo-7B`` -> 7e9, ``pythia-160m`` -> 1.6e8), or None.

    Only ``M`` and ``B`` suffixes count (``2T`` in ``OLMo-7B-Twin-2T`` is a token count).

    Examples
    --------
    >>> size_from_name("OLMo-7B-Twin-2T-run-024"), size_from_name("pythia-160m"), size_from_name("k2 training")
    (7000000000.0, 160000000.0, None)
    """
    m = _SIZE.search(str(name))
    if m is None:
        return None
    return float(m.group(1)) * (1e6 if m.group(2).upper() == "M" else 1e9)


def _lookup(config: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    flat = {str(k).lower().replace("-", "_").split("/")[-1].split(".")[-1]: v for k, v in config.items()}
    for key in keys:
        if key in flat:
            value = _number(flat[key])
            if value is not None:
                return value
    return None


def _number(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def config_number(config: Mapping[str, Any], what: str) -> float | None:
    """``"params"``, ``"tokens_per_step"`` or ``"tokens"`` from a run config (keys matched case-insensitively).

    Examples
    --------
    >>> config_number({"model.n_params": "7e7", "batch_size": 8, "seq_len": 128}, "params")
    70000000.0
    >>> config_number({"batch_size": 8, "seq_len": 128}, "tokens_per_step")
    1024.0
    """
    if what == "params":
        return _lookup(config, PARAMS_KEYS)
    if what == "tokens":
        return _lookup(config, TOKENS_KEYS)
    if what == "tokens_per_step":
        direct = _lookup(config, _TOKENS_PER_STEP)
        if direct is not None:
            return direct
        batch, seq = _lookup(config, _BATCH), _lookup(config, _SEQ)
        return batch * seq if batch is not None and seq is not None else None
    raise ValueError(f"config_number(): unknown quantity {what!r}")


def step_column(columns: Iterable[Any]) -> str | None:
    """The column that holds the optimizer step, by its usual names."""
    by_lower = {str(c).lower(): str(c) for c in columns}
    return next((by_lower[k] for k in _STEP_KEYS if k in by_lower), None)


def add_sizes(
    frame: pd.DataFrame,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    tokens_per_step: float | None = None,
    params: float | None = None,
) -> pd.DataFrame:
    """Add ``params`` and ``tokens`` where the runs' configs, names or logged metrics give them.

    ``params``: a ``params`` column already there, else the config, else a size in the run name.
    ``tokens``: a logged token count (:data:`TOKENS_KEYS`), else ``step * tokens_per_step``
    (argument, else the config).  Nothing is invented: a run without them keeps NaN there, and
    :func:`~scalinglab.data.read_runs` says so.
    """
    out = frame.copy()
    configs = configs or {}
    runs = out["run"].astype(str)
    if "params" not in out:
        if params is not None:
            out["params"] = float(params)
        else:
            values = {r: (config_number(configs.get(r, {}), "params") or size_from_name(r)) for r in runs.unique()}
            if any(v is not None for v in values.values()):
                out["params"] = runs.map(lambda r: values[r] if values[r] is not None else np.nan).astype(float)
    if "tokens" not in out:
        logged = next((c for c in out.columns if str(c).lower().split("/")[-1] in TOKENS_KEYS), None)
        if logged is not None:
            out["tokens"] = pd.to_numeric(out[logged], errors="coerce")
        elif "step" in out:
            per = {r: (tokens_per_step or config_number(configs.get(r, {}), "tokens_per_step")) for r in runs.unique()}
            if any(v is not None for v in per.values()):
                out["tokens"] = out["step"] * runs.map(lambda r: per[r] if per[r] is not None else np.nan)
                out = out[~(out["step"] <= 0)]  # the evaluation before training (0 tokens) is no scaling point
    out.attrs["tracker"] = True  # metrics logged at their own steps: read_runs keeps the rows that have the mapped ones
    return out.reset_index(drop=True)


def join_segments(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Join restart segments (``OLMo-7B-run-037``, ``OLMo-7B-run-038``) into one run, in step order.

    Where two segments logged the same step (a restart from an earlier checkpoint), the later
    segment's value is kept.  Returns the table (with a ``segment`` column) and one note per joined run.

    Examples
    --------
    >>> df = pd.DataFrame({"run": ["m-run-002", "m-run-001", "m-run-001"], "step": [20, 10, 20], "x": [3, 1, 2]})
    >>> joined, notes = join_segments(df)
    >>> joined[["run", "step", "x", "segment"]].values.tolist()
    [['m', 10, 1, 1], ['m', 20, 3, 2]]
    >>> notes
    ["run 'm' joined from 2 restart segments (m-run-001 ... m-run-002)"]
    """
    names = frame["run"].astype(str)
    parsed = names.str.extract(_SEGMENT)
    has = parsed["base"].notna()
    if not has.any():
        return frame, []
    out = frame.copy()
    out["segment"] = pd.to_numeric(parsed["seg"], errors="coerce").astype("Int64")
    out.loc[has, "run"] = parsed.loc[has, "base"]
    notes = []
    for base, g in out[has].groupby("run", sort=True):
        segs = sorted(set(names[g.index]))
        if len(segs) > 1:
            notes.append(f"run '{base}' joined from {len(segs)} restart segments ({segs[0]} ... {segs[-1]})")
    out = out.sort_values(["run", "step", "segment"], kind="stable")
    # one row per (run, step): the later segment wins, column by column (segments log different metrics)
    metric_cols = [c for c in out.columns if c not in ("run", "step", "segment")]
    agg = {c: "last" for c in metric_cols} | {"segment": "max"}
    out = out.groupby(["run", "step"], sort=True, as_index=False).agg(agg)
    return out.reset_index(drop=True), notes


def wide_by_step(long: pd.DataFrame) -> pd.DataFrame:
    """``run, step, metric, value`` rows -> one row per ``(run, step)``, one column per metric (last value wins)."""
    if long.empty:
        return pd.DataFrame(columns=["run", "step"])
    wide = long.pivot_table(index=["run", "step"], columns="metric", values="value", aggfunc="last", sort=True)
    wide.columns.name = None
    return wide.reset_index()
