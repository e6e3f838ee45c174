"""Executors: where the runs of a sweep are trained.

An executor takes a list of :class:`~scalinglab.sweep.train.TrainTask` and
yields each run's metadata as it finishes, forwarding token progress to a
callback.  :class:`LocalExecutor` (the default) uses a process pool sized to
the machine; :class:`SerialExecutor` trains in the calling process.  A Ray
executor can implement the same two-method interface.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
from abc import ABC, abstractmethod
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Iterator, Sequence

from scalinglab.sweep.train import TrainTask, train_run

__all__ = ["Executor", "LocalExecutor", "SerialExecutor", "default_workers"]

ProgressFn = Callable[[str, int], None]


def default_workers() -> int:
    """Number of CPUs this process may use (``os.sched_getaffinity`` where available)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS/Windows
        return max(1, os.cpu_count() or 1)


class Executor(ABC):
    """Interface: train tasks, yield each run's metadata dict as it completes."""

    #: Number of runs trained at once.
    workers: int = 1

    @abstractmethod
    def run(self, tasks: Sequence[TrainTask], progress: ProgressFn | None = None) -> Iterator[dict]:
        """Train ``tasks`` (submitted in order) and yield metadata as each finishes."""


class SerialExecutor(Executor):
    """Train each run in the calling process, one after another.

    ``threads`` sets ``torch.set_num_threads`` for the duration (``None`` leaves it).
    """

    def __init__(self, threads: int | None = None) -> None:
        self.workers = 1
        self.threads = threads

    def run(self, tasks: Sequence[TrainTask], progress: ProgressFn | None = None) -> Iterator[dict]:
        for t in tasks:
            yield train_run(t, progress, threads=self.threads)


class _QueueProgress:
    """Picklable progress callback that forwards to a manager queue."""

    def __init__(self, q) -> None:
        self.q = q

    def __call__(self, run_id: str, tokens: int) -> None:
        self.q.put((run_id, tokens))


def _worker(task: TrainTask, q) -> dict:
    return train_run(task, _QueueProgress(q) if q is not None else None, threads=1)


class LocalExecutor(Executor):
    """Process-pool executor: ``workers`` runs at once, one torch thread each.

    Uses the ``spawn`` start method (safe with an already-initialised torch).
    Tasks are submitted in order, so with ``workers=1`` the runs train exactly in
    config order (the largest last).
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()

    def run(self, tasks: Sequence[TrainTask], progress: ProgressFn | None = None) -> Iterator[dict]:
        if not tasks:
            return
        ctx = mp.get_context("spawn")
        n = min(self.workers, len(tasks))
        with ctx.Manager() as manager:
            q = manager.Queue() if progress is not None else None
            with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
                pending = {pool.submit(_worker, t, q) for t in tasks}
                try:
                    while pending:
                        done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                        self._drain(q, progress)
                        for fut in done:
                            yield fut.result()
                    self._drain(q, progress)
                except BaseException:
                    for fut in pending:
                        fut.cancel()
                    raise

    @staticmethod
    def _drain(q, progress: ProgressFn | None) -> None:
        if q is None or progress is None:
            return
        while True:
            try:
                rid, tok = q.get_nowait()
            except queue_mod.Empty:
                return
            progress(rid, tok)
