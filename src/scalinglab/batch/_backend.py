"""Backends: where the jobs of a batch run, registered by name."""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from scalinglab.batch._outcome import Outcome
from scalinglab.errors import InvalidParameterError

__all__ = ["Backend", "EventFn", "register_backend", "get_backend", "list_backends"]

#: ``on_event(index, payload)``: an event a job emitted from inside (e.g. tokens trained so far).
EventFn = Callable[[int, Any], None]


class Backend(ABC):
    """Runs ``func`` over jobs and yields an :class:`Outcome` per job as each finishes.

    Subclasses implement :meth:`submit`; a job that raises must become a failed
    Outcome (:func:`scalinglab.batch._outcome.failure`), never an exception
    out of :meth:`submit` (``KeyboardInterrupt`` excepted).
    """

    #: Jobs run at once.
    workers: int = 1

    @abstractmethod
    def submit(self, func: Callable, jobs: Sequence[Any], *, on_event: EventFn | None = None) -> Iterator[Outcome]:
        """Run ``func(job)`` (or ``func(job, emit)`` when ``on_event`` is given) for every job."""


_BACKENDS: dict[str, Callable[..., Backend]] = {}


def register_backend(name: str, factory: Callable[..., Backend], *, overwrite: bool = False) -> None:
    """Make ``backend=name`` available to :func:`run_batch` (and so to ``fit_many``).

    ``factory(workers=None, **options)`` returns a :class:`Backend`.
    """
    if name in _BACKENDS and not overwrite:
        raise InvalidParameterError(
            f"a batch backend named '{name}' is already registered", hint="choose another name or pass overwrite=True"
        )
    _BACKENDS[name] = factory


def list_backends() -> list[str]:
    """Names of the registered backends."""
    return list(_BACKENDS)


def get_backend(backend: str | Backend, *, workers: int | None = None, **options: Any) -> Backend:
    """A :class:`Backend` instance from a name (or the instance itself)."""
    if isinstance(backend, Backend):
        return backend
    if not isinstance(backend, str) or backend not in _BACKENDS:
        close = difflib.get_close_matches(str(backend), list(_BACKENDS), n=2)
        raise InvalidParameterError(
            f"unknown batch backend {backend!r} (known: {', '.join(_BACKENDS)})",
            hint=(f"did you mean {close[0]!r}? " if close else "") + "pass backend='serial', 'process' or 'ray'",
        )
    return _BACKENDS[backend](workers=workers, **options)
