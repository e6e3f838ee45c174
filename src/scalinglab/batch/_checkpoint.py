"""Resumable batches: finished outcomes stored in a directory, so a re-run skips them.

``run_batch(func, jobs, checkpoint="dir")`` (any backend) writes every job that
returned normally to ``dir/<key>.pkl`` as soon as it finishes, where ``key`` is
the SHA-256 of the pickled job.  Running the same batch again loads those
outcomes instead of recomputing them and submits only the rest, so an
interrupted batch (Ctrl-C, a lost cluster, a killed driver) resumes where it
stopped.  Failed jobs are not stored: a re-run retries them.  ``dir/batch.json``
records which function the results belong to; a different function is refused
rather than silently mixed in.

Examples
--------
>>> import tempfile
>>> from scalinglab.batch import run_batch
>>> d = tempfile.mkdtemp()
>>> [o.value for o in run_batch(abs, [-1, 2, -3], checkpoint=d)]
[1, 2, 3]
>>> [(o.value, o.resumed) for o in run_batch(abs, [-1, 2, -3, -4], checkpoint=d)]
[(1, True), (2, True), (3, True), (4, False)]
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from scalinglab.batch._outcome import Outcome
from scalinglab.errors import InvalidParameterError

__all__ = ["BatchCheckpoint", "job_key"]


def _dumps(obj: Any, what: str) -> bytes:
    try:
        return pickle.dumps(obj, protocol=4)
    except Exception as exc:  # lambdas, open files, locks...
        raise InvalidParameterError(
            f"checkpoint= needs jobs and a function that pickle; {what} does not ({type(exc).__name__}: {exc})",
            hint="use a module-level function (or functools.partial of one) and plain data as jobs, "
            "or drop checkpoint=",
        ) from None


def job_key(job: Any) -> str:
    """The file name (without suffix) under which ``job``'s outcome is stored: SHA-256 of its pickle.

    Examples
    --------
    >>> job_key((1, "a")) == job_key((1, "a")), len(job_key(0))
    (True, 64)
    """
    return hashlib.sha256(_dumps(job, "a job")).hexdigest()


def _func_name(func: Callable) -> str:
    inner = getattr(func, "func", func)  # functools.partial
    return f"{getattr(inner, '__module__', '?')}.{getattr(inner, '__qualname__', type(inner).__name__)}"


class BatchCheckpoint:
    """The store of one batch's finished outcomes in ``directory`` (created if needed)."""

    def __init__(self, directory: str | os.PathLike, func: Callable, jobs: Sequence[Any]) -> None:
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise InvalidParameterError(
                f"checkpoint directory {self.directory} exists and is not a directory",
                hint="pass checkpoint= a directory path",
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        name = _func_name(func)
        func_hash = hashlib.sha256(_dumps(func, f"the function {name}")).hexdigest()
        manifest = self.directory / "batch.json"
        if manifest.exists():
            old = json.loads(manifest.read_text())
            if old.get("func_sha256") != func_hash:
                raise InvalidParameterError(
                    f"checkpoint directory {self.directory} holds results of another batch function "
                    f"({old.get('func')}), not {name} with these options",
                    hint="pass a new checkpoint= directory, or delete this one to start over",
                )
        else:
            _write_atomic(manifest, json.dumps({"func": name, "func_sha256": func_hash}).encode())
        self.keys = [job_key(job) for job in jobs]

    def load(self) -> dict[int, Outcome]:
        """Stored outcomes by job index (marked ``resumed=True``)."""
        done: dict[int, Outcome] = {}
        for i, key in enumerate(self.keys):
            path = self.directory / f"{key}.pkl"
            if path.exists():
                try:
                    stored = pickle.loads(path.read_bytes())
                except Exception:  # a torn or foreign file: recompute the job
                    continue
                done[i] = replace(stored, index=i, resumed=True)
        return done

    def save(self, outcome: Outcome) -> None:
        """Store a finished job's outcome (failures are not stored, so a re-run retries them)."""
        if outcome.ok:
            _write_atomic(self.directory / f"{self.keys[outcome.index]}.pkl", pickle.dumps(outcome, protocol=4))


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
