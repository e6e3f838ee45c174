"""The serial backend: every job in the calling process, one after another."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from scalinglab.batch._backend import Backend, EventFn, register_backend
from scalinglab.batch._outcome import Outcome, failure

__all__ = ["SerialBackend"]


def call_job(func: Callable, job: Any, index: int, emit: Callable[[Any], None] | None) -> Outcome:
    """Run one job and record its value or its failure."""
    start = time.perf_counter()
    try:
        value = func(job) if emit is None else func(job, emit)
    except Exception as exc:  # a failed job is recorded, not raised
        return failure(index, exc, time.perf_counter() - start)
    return Outcome(index=index, value=value, seconds=time.perf_counter() - start)


class SerialBackend(Backend):
    """Run jobs in this process in submission order (the default; no start-up cost)."""

    def __init__(self, workers: int | None = None, *, chunksize: int | None = None) -> None:
        self.workers = 1  # chunksize is accepted (and means nothing here) so callers can switch backends freely

    def submit(self, func: Callable, jobs: Sequence[Any], *, on_event: EventFn | None = None) -> Iterator[Outcome]:
        for i, job in enumerate(jobs):
            emit = (lambda payload, _i=i: on_event(_i, payload)) if on_event is not None else None
            yield call_job(func, job, i, emit)


register_backend("serial", SerialBackend)
