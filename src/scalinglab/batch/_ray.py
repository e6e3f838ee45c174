"""The Ray backend: the jobs of a batch on a Ray cluster (or a local Ray instance).

``run_batch(func, jobs, backend="ray")`` (and so ``fit_many``, ``backtest``,
bootstrap over groups and the report) sends the jobs to Ray in chunks.  Ray is
an optional dependency (``pip install 'scalinglab[ray]'``) imported only when
this backend runs a batch.

* **Connection.** An already initialised Ray is used as it is.  Otherwise
  ``address=`` (or ``SCALINGLAB_RAY_ADDRESS``, or Ray's own ``RAY_ADDRESS``)
  connects to a running cluster; without one a local instance is started with
  ``workers`` CPUs (default: the CPUs this process may use) and kept for the
  next batch (:func:`shutdown` stops it).
* **Chunks.** ``chunksize`` jobs per Ray task (default: about four tasks per
  CPU of the cluster), so Ray's per-task cost (about a millisecond) does not
  eat the batch's throughput.  The function is put in the object store once.
* **Order and failures.** Outcomes are yielded as chunks finish; ``run_batch``
  puts them back in job order.  A job that raises is a recorded failure, as on
  every backend.  A worker process that dies (killed, out of memory, a lost
  node) makes Ray re-run its chunk, up to ``max_retries`` times; each job's
  outcome is taken from exactly one finished attempt, so no result is lost or
  duplicated (events a killed attempt emitted before it died are not taken back).
  When the retries are spent, every job of that chunk is a failed Outcome.
* **Resources.** ``num_cpus`` and ``num_gpus`` per task (a training run on
  CUDA asks for one GPU); ``runtime_env`` is passed to ``ray.init``.

Results equal the serial backend's: each job runs the same code on the same
input; the only difference is the process (Ray sets ``OMP_NUM_THREADS`` to the
task's CPUs, which can change the last bits of multi-threaded BLAS sums).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from scalinglab.batch._backend import Backend, EventFn, register_backend
from scalinglab.batch._outcome import Outcome, failure
from scalinglab.batch._serial import call_job
from scalinglab.errors import InvalidParameterError

__all__ = ["RayBackend", "import_ray", "init_ray", "shutdown"]

_STARTED: list[bool] = [False]  # whether this process started the local Ray instance


def import_ray():
    """The ``ray`` module, or a clear error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise InvalidParameterError(
            "backend='ray' needs Ray, which is not installed",
            hint="pip install 'scalinglab[ray]', or use backend='process'",
        ) from None
    return ray


def init_ray(
    address: str | None = None, *, num_cpus: int | None = None, runtime_env: dict | None = None, **init_options: Any
):
    """Connect to Ray (or start a local instance) unless it is already initialised; return the module."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    address = address or os.environ.get("SCALINGLAB_RAY_ADDRESS") or os.environ.get("RAY_ADDRESS") or None
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, **init_options}
    if runtime_env is not None:
        options["runtime_env"] = runtime_env
    if address:
        ray.init(address=address, **options)
    else:
        from scalinglab.batch._process import default_workers

        ray.init(num_cpus=num_cpus or default_workers(), **options)
        _STARTED[0] = True
    return ray


def shutdown() -> None:
    """Stop the local Ray instance this process started (nothing otherwise)."""
    if _STARTED[0]:
        import ray

        ray.shutdown()
        _STARTED[0] = False


class _Emit:
    """In-job event channel: ``(index, payload)`` onto a Ray queue actor."""

    def __init__(self, q, index: int) -> None:
        self.q, self.index = q, index

    def __call__(self, payload: Any) -> None:
        self.q.put((self.index, payload))


def _run_chunk(func: Callable, chunk: list[tuple[int, Any]], q=None) -> list[Outcome]:
    return [call_job(func, job, i, _Emit(q, i) if q is not None else None) for i, job in chunk]


class RayBackend(Backend):
    """Jobs as Ray tasks, ``chunksize`` jobs per task.

    Parameters
    ----------
    workers : int, optional
        CPUs of the local instance when this backend starts one; with a cluster,
        the parallelism used to size chunks (default: the cluster's CPUs).
    address : str, optional
        A running cluster, e.g. ``"ray://head:10001"`` or ``"auto"``.
    chunksize : int, optional
        Jobs per Ray task (default: about four tasks per CPU).
    max_retries : int
        Times Ray re-runs a chunk whose worker died (default 3).
    num_cpus, num_gpus : float
        Resources each task asks for (default 1 CPU, no GPU).
    runtime_env : dict, optional
        Passed to ``ray.init`` (e.g. ``{"py_modules": [...]}`` to ship code to a cluster).
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        address: str | None = None,
        chunksize: int | None = None,
        max_retries: int = 3,
        num_cpus: float = 1,
        num_gpus: float = 0,
        runtime_env: dict | None = None,
    ) -> None:
        if chunksize is not None and (isinstance(chunksize, bool) or int(chunksize) < 1):
            raise InvalidParameterError(f"backend='ray': chunksize must be a positive integer, got {chunksize!r}")
        self.requested_workers = int(workers) if workers else None
        self.workers = self.requested_workers or 1
        self.address = address
        self.chunksize = chunksize
        self.max_retries = int(max_retries)
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.runtime_env = runtime_env

    def submit(self, func: Callable, jobs: Sequence[Any], *, on_event: EventFn | None = None) -> Iterator[Outcome]:
        indexed = list(enumerate(jobs))
        if not indexed:
            return
        ray = init_ray(self.address, num_cpus=self.requested_workers, runtime_env=self.runtime_env)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, min(self.requested_workers or cpus, cpus))
        size = self.chunksize or max(1, math.ceil(len(indexed) / (4 * self.workers)))
        chunks = [indexed[i : i + size] for i in range(0, len(indexed), size)]
        remote = ray.remote(_run_chunk).options(
            num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=self.max_retries, retry_exceptions=False
        )
        q = None
        if on_event is not None:
            from ray.util.queue import Queue

            q = Queue(actor_options={"num_cpus": 0})
        func_ref = ray.put(func)
        pending: dict[Any, list] = {}
        todo = list(reversed(chunks))
        limit = 2 * self.workers + 2  # chunks in flight; the rest wait here, not in the cluster's queue
        try:
            while todo or pending:
                while todo and len(pending) < limit:
                    chunk = todo.pop()
                    pending[remote.remote(func_ref, chunk, q)] = chunk
                done, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
                _drain(q, on_event)
                for ref in done:
                    chunk = pending.pop(ref)
                    try:
                        outcomes = ray.get(ref)
                    except Exception as exc:  # the retries are spent: every job of the chunk failed
                        outcomes = [failure(i, exc) for i, _ in chunk]
                    yield from outcomes
            _drain(q, on_event)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            if q is not None:
                q.shutdown()


def _drain(q, on_event: EventFn | None) -> None:
    if q is None or on_event is None:
        return
    n = q.qsize()
    if n:
        for index, payload in q.get_nowait_batch(n):
            on_event(index, payload)


register_backend("ray", RayBackend)
