"""The record of one job of a batch: its value, or the failure that replaced it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Outcome", "failure"]


@dataclass(frozen=True)
class Outcome:
    """One job's result.

    Attributes
    ----------
    index : int
        Position of the job in the submitted list.
    value : object
        What the function returned (None when it failed).
    error : str or None
        ``"ExceptionType: message"`` when the job raised.
    error_type : str or None
        The exception's class name.
    seconds : float
        Wall time of the job in its worker.
    resumed : bool
        True when the outcome was loaded from a checkpoint directory, not computed now.
    """

    index: int
    value: Any = None
    error: str | None = None
    error_type: str | None = None
    seconds: float = 0.0
    resumed: bool = False

    @property
    def ok(self) -> bool:
        """True when the job returned normally."""
        return self.error is None

    def unwrap(self) -> Any:
        """The value, or a RuntimeError carrying the recorded failure."""
        if self.error is not None:
            raise RuntimeError(f"job {self.index} failed: {self.error}")
        return self.value


def failure(index: int, exc: BaseException, seconds: float = 0.0) -> Outcome:
    """The :class:`Outcome` of a job that raised ``exc`` (first line of its message kept)."""
    message = str(exc).splitlines()[0] if str(exc) else ""
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return Outcome(index=index, error=text, error_type=type(exc).__name__, seconds=seconds)
