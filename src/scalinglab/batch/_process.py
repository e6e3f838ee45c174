"""The process backend: a pool of worker processes on this machine.

Jobs are sent in chunks (``chunksize`` jobs per task) so that the cost of
shipping a task to a worker does not eat the batch's throughput; results are
yielded as chunks finish.  Workers are started with ``spawn`` (safe next to an
initialised PyTorch or BLAS thread pool).  ``func`` and the jobs must pickle.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import queue as queue_mod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from scalinglab.batch._backend import Backend, EventFn, register_backend
from scalinglab.batch._outcome import Outcome, failure
from scalinglab.batch._serial import call_job

__all__ = ["ProcessBackend", "default_workers"]


def default_workers() -> int:
    """Number of CPUs this process may use (``os.sched_getaffinity`` where available)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS/Windows
        return max(1, os.cpu_count() or 1)


class _Emit:
    """Picklable in-job event channel: puts ``(index, payload)`` on a manager queue."""

    def __init__(self, q, index: int) -> None:
        self.q, self.index = q, index

    def __call__(self, payload: Any) -> None:
        self.q.put((self.index, payload))


def _run_chunk(func: Callable, chunk: list[tuple[int, Any]], q) -> list[Outcome]:
    return [call_job(func, job, i, _Emit(q, i) if q is not None else None) for i, job in chunk]


class ProcessBackend(Backend):
    """A process pool of ``workers`` processes (default: the CPUs this process may use).

    Parameters
    ----------
    workers : int, optional
    chunksize : int, optional
        Jobs per task sent to a worker (default: about four tasks per worker).
    start_method : str
        ``"spawn"`` (default), ``"forkserver"`` or ``"fork"``.
    """

    def __init__(
        self, workers: int | None = None, *, chunksize: int | None = None, start_method: str = "spawn"
    ) -> None:
        self.workers = int(workers) if workers else default_workers()
        self.chunksize = chunksize
        self.start_method = start_method

    def submit(self, func: Callable, jobs: Sequence[Any], *, on_event: EventFn | None = None) -> Iterator[Outcome]:
        indexed = list(enumerate(jobs))
        if not indexed:
            return
        n = min(self.workers, len(indexed))
        size = self.chunksize or max(1, math.ceil(len(indexed) / (4 * n)))
        chunks = [indexed[i : i + size] for i in range(0, len(indexed), size)]
        ctx = mp.get_context(self.start_method)
        manager = ctx.Manager() if on_event is not None else None
        try:
            q = manager.Queue() if manager is not None else None
            with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
                pending = {pool.submit(_run_chunk, func, chunk, q): chunk for chunk in chunks}
                try:
                    while pending:
                        done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                        _drain(q, on_event)
                        for fut in done:
                            chunk = pending.pop(fut)
                            try:
                                outcomes = fut.result()
                            except Exception as exc:  # the worker died: every job of its chunk failed
                                outcomes = [failure(i, exc) for i, _ in chunk]
                            yield from outcomes
                    _drain(q, on_event)
                except BaseException:
                    for fut in pending:
                        fut.cancel()
                    raise
        finally:
            if manager is not None:
                manager.shutdown()


def _drain(q, on_event: EventFn | None) -> None:
    if q is None or on_event is None:
        return
    while True:
        try:
            index, payload = q.get_nowait()
        except queue_mod.Empty:
            return
        on_event(index, payload)


register_backend("process", ProcessBackend)
