"""Executors: where the runs of a sweep are trained, on the batch layer.

An executor takes a list of :class:`~scalinglab.sweep.train.TrainTask` and
yields each run's metadata as it finishes, forwarding token progress to a
callback.  Both executors run on :mod:`scalinglab.batch` (the one batch layer
of scalinglab): :class:`LocalExecutor` (the default) on its ``"process"``
backend, one torch thread per worker; :class:`SerialExecutor` on its
``"serial"`` backend in the calling process.  A run that fails does not stop
the others: after the batch a :class:`~scalinglab.errors.TrainingError` names
the failed runs (the finished ones are saved, so re-running the same command
retries only those).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

from scalinglab.batch import as_completed, default_workers
from scalinglab.errors import TrainingError
from scalinglab.sweep.train import TrainTask, train_run

__all__ = ["Executor", "LocalExecutor", "SerialExecutor", "default_workers"]

ProgressFn = Callable[[str, int], None]


def _train(task: TrainTask, emit: Callable[[Any], None] | None = None, *, threads: int | None) -> dict:
    report = (lambda run_id, tokens: emit((run_id, tokens))) if emit is not None else None
    return train_run(task, report, threads=threads)


class Executor(ABC):
    """Interface: train tasks, yield each run's metadata dict as it completes."""

    #: Number of runs trained at once.
    workers: int = 1

    @abstractmethod
    def run(self, tasks: Sequence[TrainTask], progress: ProgressFn | None = None) -> Iterator[dict]:
        """Train ``tasks`` (submitted in order) and yield metadata as each finishes."""


class _BatchExecutor(Executor):
    backend = "serial"
    threads: int | None = None

    def run(self, tasks: Sequence[TrainTask], progress: ProgressFn | None = None) -> Iterator[dict]:
        tasks = list(tasks)
        on_event = (lambda _i, payload: progress(*payload)) if progress is not None else None
        func = partial(_train, threads=self.threads)
        failed = []
        options = {"chunksize": 1} if self.backend == "process" else {}  # one run per worker task
        for outcome in as_completed(func, tasks, backend=self.backend, workers=self.workers, on_event=on_event,
                                    **options):
            if outcome.ok:
                yield outcome.value
            else:
                failed.append(f"{tasks[outcome.index].spec.run_id}: {outcome.error}")
        if failed:
            raise TrainingError(f"{len(failed)} of {len(tasks)} run(s) failed to train ({'; '.join(failed)})",
                                hint="the finished runs are saved; run the same command again to retry the failed "
                                     "ones")


class SerialExecutor(_BatchExecutor):
    """Train each run in the calling process, one after another.

    ``threads`` sets ``torch.set_num_threads`` for the duration (``None`` leaves it).
    """

    backend = "serial"

    def __init__(self, threads: int | None = None) -> None:
        self.workers = 1
        self.threads = threads


class LocalExecutor(_BatchExecutor):
    """Process-pool executor: ``workers`` runs at once, one torch thread each.

    Uses the ``spawn`` start method (safe with an already-initialised torch).
    Tasks are submitted in order, one per worker task, so with ``workers=1`` the
    runs train exactly in config order (the largest last).
    """

    backend = "process"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self.threads = 1
