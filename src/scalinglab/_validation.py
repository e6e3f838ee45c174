"""Tiny validators of public arguments, in the ``(value, name, owner)`` form."""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable

from scalinglab.errors import InvalidParameterError

__all__ = ["check_options", "check_int", "check_positive_float", "check_fraction"]


def check_options(value: object, name: str, options: Iterable[str], owner: str) -> str:
    options = tuple(options)
    if value not in options:
        close = difflib.get_close_matches(str(value), options, n=1)
        extra = f" Did you mean {close[0]!r}?" if close else ""
        raise InvalidParameterError(
            f"{owner}(): '{name}' must be one of {', '.join(map(repr, options))}; got {value!r}.{extra}",
            hint=f"use one of {', '.join(options)}",
        )
    return value  # type: ignore[return-value]


def check_int(value: object, name: str, owner: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidParameterError(f"{owner}(): '{name}' must be an int; got {value!r}.", hint="give a whole number")
    if minimum is not None and value < minimum:
        raise InvalidParameterError(
            f"{owner}(): '{name}' must be an int >= {minimum}; got {value!r}.",
            hint=f"give a whole number of at least {minimum}",
        )
    return int(value)


def check_positive_float(value: object, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or value != value:
        raise InvalidParameterError(
            f"{owner}(): '{name}' must be a number > 0; got {value!r}.", hint="give a positive number"
        )
    return float(value)


def check_fraction(value: object, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise InvalidParameterError(
            f"{owner}(): '{name}' must be a number in (0, 1); got {value!r}.", hint="give a fraction such as 0.9"
        )
    return float(value)
