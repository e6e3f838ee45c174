"""Renamed keyword arguments of the planning verbs, accepted for one release with a DeprecationWarning."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["renamed"]


def renamed(verb: str, old: str, new: str, old_value: Any, new_value: Any, *, stacklevel: int = 3) -> Any:
    """``new_value``, or ``old_value`` (with a DeprecationWarning) when the old keyword was given.

    ``stacklevel`` points the warning at the caller of the verb (3: ``renamed`` is called
    directly in the verb).

    Examples
    --------
    >>> renamed("envelope", "n_boot", "n_resamples", None, 1000)
    1000
    """
    if old_value is None:
        return new_value
    warnings.warn(
        f"{verb}(): '{old}' is deprecated and will be removed; use '{new}'", DeprecationWarning, stacklevel=stacklevel
    )
    return old_value
