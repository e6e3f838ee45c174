"""``run_batch`` and ``as_completed``: the two ways to run a batch."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

from scalinglab.batch._backend import Backend, EventFn, get_backend
from scalinglab.batch._outcome import Outcome

__all__ = ["run_batch", "as_completed", "ProgressFn"]

#: ``progress(done, total)``, called after each job finishes.
ProgressFn = Callable[[int, int], None]


def as_completed(func: Callable, jobs: Sequence[Any], *, backend: str | Backend = "serial",
                 workers: int | None = None, progress: ProgressFn | None = None,
                 on_event: EventFn | None = None, **options: Any) -> Iterator[Outcome]:
    """Run ``func`` over ``jobs`` and yield each :class:`Outcome` as its job finishes.

    With ``on_event`` the function is called as ``func(job, emit)`` and every
    ``emit(payload)`` reaches ``on_event(job_index, payload)`` in this process.
    """
    jobs = list(jobs)
    runner = get_backend(backend, workers=workers, **options)
    done = 0
    for outcome in runner.submit(func, jobs, on_event=on_event):
        done += 1
        if progress is not None:
            progress(done, len(jobs))
        yield outcome


def run_batch(func: Callable, jobs: Sequence[Any], *, backend: str | Backend = "serial",
              workers: int | None = None, progress: ProgressFn | None = None,
              on_event: EventFn | None = None, **options: Any) -> list[Outcome]:
    """Run ``func`` over ``jobs``; one :class:`Outcome` per job, **in job order**.

    A job that raises is recorded (``Outcome.error``) and the batch goes on.

    Examples
    --------
    >>> [o.value for o in run_batch(str.upper, ["a", "b"])]
    ['A', 'B']
    """
    jobs = list(jobs)
    out: list[Outcome | None] = [None] * len(jobs)
    for outcome in as_completed(func, jobs, backend=backend, workers=workers, progress=progress,
                                on_event=on_event, **options):
        out[outcome.index] = outcome
    return [o for o in out if o is not None]
