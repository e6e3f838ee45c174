"""``run_batch`` and ``as_completed``: the two ways to run a batch; the default backend."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from scalinglab.batch._backend import Backend, EventFn, get_backend, list_backends
from scalinglab.batch._checkpoint import BatchCheckpoint
from scalinglab.batch._outcome import Outcome

__all__ = ["run_batch", "as_completed", "ProgressFn", "default_backend", "use_backend"]

#: ``progress(done, total)``, called after each job finishes.
ProgressFn = Callable[[int, int], None]

_DEFAULT: list[tuple[str | Backend, dict[str, Any]]] = []  # stack of use_backend() settings


def default_backend() -> tuple[str | Backend, dict[str, Any]]:
    """The backend (and its options) that ``backend=None`` means.

    The innermost :func:`use_backend` block, else the environment variable
    ``SCALINGLAB_BACKEND`` (e.g. ``ray``; ``SCALINGLAB_RAY_ADDRESS`` names a
    cluster), else ``"serial"``.  Every batch in scalinglab that is not given
    a backend (``fit_many``, ``backtest``, the report...) runs there.

    Examples
    --------
    >>> default_backend()[0] in ("serial", "process", "ray")
    True
    """
    if _DEFAULT:
        return _DEFAULT[-1]
    return os.environ.get("SCALINGLAB_BACKEND") or "serial", {}


@contextmanager
def use_backend(backend: str | Backend, **options: Any) -> Iterator[None]:
    """Run every batch started inside the block on ``backend`` unless the call names another.

    Examples
    --------
    >>> with use_backend("process", workers=2):
    ...     default_backend()
    ('process', {'workers': 2})
    >>> default_backend()[0] == (os.environ.get("SCALINGLAB_BACKEND") or "serial")
    True
    """
    if not isinstance(backend, Backend) and backend not in list_backends():
        get_backend(backend)  # raises: unknown backend, with the known names
    _DEFAULT.append((backend, dict(options)))
    try:
        yield
    finally:
        _DEFAULT.pop()


def as_completed(
    func: Callable,
    jobs: Sequence[Any],
    *,
    backend: str | Backend | None = None,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    on_event: EventFn | None = None,
    checkpoint: str | os.PathLike | None = None,
    **options: Any,
) -> Iterator[Outcome]:
    """Run ``func`` over ``jobs`` and yield each :class:`Outcome` as its job finishes.

    With ``on_event`` the function is called as ``func(job, emit)`` and every
    ``emit(payload)`` reaches ``on_event(job_index, payload)`` in this process.
    With ``checkpoint`` (a directory) finished outcomes are stored there and a
    re-run skips them (see :mod:`scalinglab.batch._checkpoint`); resumed
    outcomes are yielded first.
    """
    jobs = list(jobs)
    if backend is None:
        backend, defaults = default_backend()
        options = {**defaults, **options}
        if workers is None:
            workers = options.pop("workers", None)
        else:
            options.pop("workers", None)
    store = BatchCheckpoint(checkpoint, func, jobs) if checkpoint is not None else None
    stored = store.load() if store is not None else {}
    done = 0
    for i in sorted(stored):
        done += 1
        if progress is not None:
            progress(done, len(jobs))
        yield stored[i]
    todo = [i for i in range(len(jobs)) if i not in stored]
    if not todo:
        return
    runner = get_backend(backend, workers=workers, **options)
    sub_event = (lambda k, payload: on_event(todo[k], payload)) if on_event is not None else None
    for outcome in runner.submit(func, [jobs[i] for i in todo], on_event=sub_event):
        outcome = replace(outcome, index=todo[outcome.index])
        if store is not None:
            store.save(outcome)
        done += 1
        if progress is not None:
            progress(done, len(jobs))
        yield outcome


def run_batch(
    func: Callable,
    jobs: Sequence[Any],
    *,
    backend: str | Backend | None = None,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    on_event: EventFn | None = None,
    checkpoint: str | os.PathLike | None = None,
    **options: Any,
) -> list[Outcome]:
    """Run ``func`` over ``jobs``; one :class:`Outcome` per job, **in job order**.

    A job that raises is recorded (``Outcome.error``) and the batch goes on.
    ``backend=None`` is :func:`default_backend` (``"serial"`` unless set);
    ``checkpoint="dir"`` makes the batch resumable.

    Examples
    --------
    >>> [o.value for o in run_batch(str.upper, ["a", "b"])]
    ['A', 'B']
    """
    jobs = list(jobs)
    out: list[Outcome | None] = [None] * len(jobs)
    for outcome in as_completed(
        func,
        jobs,
        backend=backend,
        workers=workers,
        progress=progress,
        on_event=on_event,
        checkpoint=checkpoint,
        **options,
    ):
        out[outcome.index] = outcome
    return [o for o in out if o is not None]
