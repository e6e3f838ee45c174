"""Executors: where the runs of a sweep are trained, on the batch layer.

An executor takes a list of :class:`~scalinglab.sweep.train.TrainTask` and
yields each run's metadata as it finishes, forwarding token progress to a
callback.  Both executors run on :mod:`scalinglab.batch` (the one batch layer
of scalinglab): :class:`LocalExecutor` (the default) on its ``"process"``
backend, one torch thread per worker; :class:`SerialExecutor` on its
``"serial"`` backend in the calling process; :class:`RayExecutor` on its
``"ray"`` backend (a Ray cluster, one run per Ray task, a GPU per run when the
config trains on CUDA).  A run that fails does not stop
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
from scalinglab.errors import ConfigError, TrainingError
from scalinglab.sweep.train import TrainTask, train_run

__all__ = ["Executor", "LocalExecutor", "RayExecutor", "SerialExecutor", "default_workers"]

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
        options = self._options(tasks)
        for outcome in as_completed(
            func, tasks, backend=self.backend, workers=self.workers, on_event=on_event, **options
        ):
            if outcome.ok:
                yield outcome.value
            else:
                failed.append(f"{tasks[outcome.index].spec.run_id}: {outcome.error}")
        if failed:
            raise TrainingError(
                f"{len(failed)} of {len(tasks)} run(s) failed to train ({'; '.join(failed)})",
                hint="the finished runs are saved; run the same command again to retry the failed ones",
            )

    def _options(self, tasks: Sequence[TrainTask]) -> dict:
        return {"chunksize": 1} if self.backend == "process" else {}  # one run per worker task


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


class RayExecutor(_BatchExecutor):
    """Ray executor: one run per Ray task on a cluster (``address``) or a local Ray instance.

    Each task asks for ``cpus_per_run`` CPUs (torch uses that many threads) and,
    when the config's ``device`` is ``cuda``/``cuda:N`` (or ``gpus_per_run`` is
    given), that many GPUs.  A run whose worker dies is re-run by Ray (up to
    ``max_retries`` times); finished runs are saved as they arrive, so an
    interrupted sweep resumes with the same command.  Workers need scalinglab
    and torch importable, and the sweep's output directory on a file system
    every node sees (see the README, "Running on a cluster").
    """

    backend = "ray"

    def __init__(
        self,
        workers: int | None = None,
        *,
        address: str | None = None,
        cpus_per_run: int = 1,
        gpus_per_run: float | None = None,
        max_retries: int = 3,
    ) -> None:
        from scalinglab.batch._ray import import_ray

        try:
            import_ray()
        except Exception as exc:  # report it as a config problem: the sweep has not started
            raise ConfigError(exc.message, hint=exc.hint) from None
        self.workers = workers  # None: as many runs at once as the cluster has room for
        self.address = address
        self.threads = int(cpus_per_run)
        self.gpus_per_run = gpus_per_run
        self.max_retries = max_retries

    def _options(self, tasks: Sequence[TrainTask]) -> dict:
        gpus = self.gpus_per_run
        if gpus is None:
            gpus = 1 if tasks and str(tasks[0].config.device).startswith("cuda") else 0
        return {
            "chunksize": 1,
            "address": self.address,
            "num_cpus": self.threads,
            "num_gpus": gpus,
            "max_retries": self.max_retries,
        }
