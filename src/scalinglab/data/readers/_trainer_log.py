"""Trainer logs in JSON Lines: one record per logging step, with whatever keys the trainer writes.

Trainers (Hugging Face ``Trainer`` state logs, Lightning's JSON loggers, nanoGPT-style
scripts, ``print(json.dumps(...))`` loops) write one JSON object per line:
training records (``{"step": 100, "loss": 3.2, "lr": 3e-4}``), evaluation
records at other steps (``{"step": 500, "eval": {"loss": 3.1}}``) and often a
config record without a step (``{"config": {"n_params": 7e7, "batch_size": 8}}``).

The reader flattens nested keys with ``/`` (``eval/loss``), merges the records of
one ``(run, step)`` (the last value of each key wins), and turns records without
a step into the run's config, which gives ``params`` and ``tokens`` (``tokens_per_step``,
or ``batch_size * seq_len``, times the step; a logged token count wins).  The run is a
``run`` / ``run_id`` / ``run_name`` key when records carry one, else the file's name; a
directory of ``*.jsonl`` files is one run per file.  Format name ``trainer-log``
(CLI ``--format trainer-log``).

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "m-70M.jsonl"
>>> _ = p.write_text('{"config": {"batch_size": 8, "seq_len": 128}}\\n{"step": 100, "loss": 3.2}\\n'
...                  '{"step": 100, "eval": {"loss": 3.3}}\\n{"step": 200, "loss": 3.0}\\n')
>>> read_trainer_log(p)[["run", "step", "loss", "eval/loss", "params", "tokens"]].values.tolist()
[['m-70M', 100, 3.2, 3.3, 70000000.0, 102400.0], ['m-70M', 200, 3.0, nan, 70000000.0, 204800.0]]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.data.readers._registry import reader
from scalinglab.data.readers._tracking import add_sizes, step_column
from scalinglab.errors import DataError

__all__ = ["read_trainer_log"]

_RUN_KEYS = ("run", "run_id", "run_name")


def _flatten(record: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "/"))
        else:
            out[name] = value
    return out


def _detect(path: Path) -> bool:
    return any(path.glob("*.jsonl")) or any(path.glob("*.jsonl.gz"))


def _read_file(path: Path) -> tuple[list[dict], dict[str, dict], str]:
    import gzip

    opener = gzip.open if path.name.endswith(".gz") else open
    records: list[dict] = []
    configs: dict[str, dict] = {}
    default_run = path.name.split(".")[0]
    with opener(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"line {lineno} is not valid JSON ({exc.msg})",
                    source=str(path),
                    row=lineno,
                    kind="malformed-file",
                    hint="each line must be one JSON object; fix or delete that line",
                ) from None
            if not isinstance(obj, dict):
                raise DataError(
                    f"line {lineno} is a JSON {type(obj).__name__}, not an object",
                    source=str(path),
                    row=lineno,
                    kind="malformed-file",
                    hint="write one JSON object per line",
                )
            flat = _flatten(obj)
            run = next((str(flat.pop(k)) for k in _RUN_KEYS if k in flat), default_run)
            step = step_column(flat)
            if step is None or flat.get(step) is None:
                cfg = (
                    flat
                    if "config" not in obj
                    else _flatten(obj["config"])
                    if isinstance(obj["config"], dict)
                    else flat
                )
                configs.setdefault(run, {}).update({k.removeprefix("config/"): v for k, v in cfg.items()})
                continue
            flat["step"] = flat.pop(step)
            flat["run"] = run
            records.append(flat)
    return records, configs, default_run


@reader(
    "trainer-log",
    description="trainer logs in JSON Lines: one record per step, any keys",
    directory=True,
    detect=_detect,
)
def read_trainer_log(path: Path, *, tokens_per_step: float | None = None, params: float | None = None) -> pd.DataFrame:
    """A trainer's JSON Lines log (or a directory of them) -> one row per ``(run, step)``.

    Parameters
    ----------
    path : Path
        A ``.jsonl`` (or ``.jsonl.gz``) file, or a directory of them (one run per file).
    tokens_per_step : float, optional
        Tokens per step when neither a token count nor the config gives them.
    params : float, optional
        Parameter count of every run, when neither the config nor the run names give it.
    """
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz"))) if path.is_dir() else [path]
    records: list[dict] = []
    configs: dict[str, dict] = {}
    for f in files:
        recs, cfgs, _ = _read_file(f)
        records += recs
        for run, cfg in cfgs.items():
            configs.setdefault(run, {}).update(cfg)
    if not records:
        raise DataError(
            "no record with a step ('step', 'global_step', 'iteration'...) in the log",
            source=str(path),
            kind="missing-column",
            column="step",
            hint="log one JSON object per step with a 'step' key, or read the file with format='jsonl'",
        )
    frame = pd.DataFrame.from_records(records)
    keep = ["run", "step"] + [
        c for c in frame.columns if c not in ("run", "step") and pd.to_numeric(frame[c], errors="coerce").notna().any()
    ]
    frame = frame[keep]
    for c in keep[1:]:
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    # records of one (run, step): the last non-missing value of each key wins
    frame = frame.groupby(["run", "step"], sort=True, as_index=False).last()
    frame["step"] = frame["step"].astype(np.int64) if (frame["step"] % 1 == 0).all() else frame["step"]
    return add_sizes(frame, configs, tokens_per_step=tokens_per_step, params=params)
