"""Exceptions and warnings raised by scalinglab.

One hierarchy, so callers can catch everything from the toolkit with
``except ScalingLabError`` and filter warnings by class.  Every error carries a
short kebab-case ``kind`` (used by the CLI's ``--json`` output) and, where it
applies, the ``row``, ``column`` and a ``hint`` telling the user how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ScalingLabError",
    "InvalidParameterError",
    "DataError",
    "LawError",
    "LawDefinitionError",
    "FitError",
    "TrainingError",
    "ConfigError",
    "PlanError",
    "ScalingLabWarning",
    "ConvergenceWarning",
    "ParameterAtBoundWarning",
    "IdentifiabilityWarning",
    "ExtrapolationWarning",
]


class ScalingLabError(Exception):
    """Base class of every error raised by scalinglab."""

    kind = "error"

    def __init__(self, message: str, *, hint: str | None = None, cli_hint: str | None = None, **fields: object) -> None:
        self.message = message
        self.hint = hint
        #: The fix as it reads on the command line (flags instead of Python arguments); the CLI shows it.
        self.cli_hint = cli_hint
        self.fields = fields
        super().__init__(message + (f"\nFix: {hint}" if hint else ""))

    def to_dict(self) -> dict:
        """Plain-JSON description (the CLI's ``{"error": ...}`` payload)."""
        out = {"kind": self.kind, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        out.update({k: v for k, v in self.fields.items() if v is not None})
        return out


class InvalidParameterError(ScalingLabError, ValueError, TypeError):
    """An argument of a public function has a wrong type or value."""

    kind = "invalid-parameter"


class DataError(ScalingLabError, ValueError):
    """The runs table is malformed; ``row``/``column``/``source`` say where."""

    kind = "data-error"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        cli_hint: str | None = None,
        kind: str | None = None,
        source: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        where = []
        if source:
            where.append(str(source))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        prefix = ", ".join(where)
        super().__init__(
            f"{prefix}: {message}" if prefix else message,
            hint=hint,
            cli_hint=cli_hint,
            source=source,
            row=row,
            column=column,
            value=None if value is None else repr(value),
        )
        if kind:
            self.kind = kind
        self.row, self.column, self.source, self.value = row, column, source, value


class LawError(ScalingLabError, LookupError):
    """An unknown law name, or a law that cannot answer the question asked."""

    kind = "law-error"


class LawDefinitionError(ScalingLabError, TypeError):
    """A law definition is inconsistent (inputs/parameters do not match the function)."""

    kind = "law-definition"


class FitError(ScalingLabError, RuntimeError):
    """No admissible fit could be found (e.g. every start gave non-finite predictions)."""

    kind = "fit-error"


class ConfigError(ScalingLabError, ValueError):
    """A configuration file (sweep, report) is invalid."""

    kind = "config-error"


class TrainingError(ScalingLabError, RuntimeError):
    """One or more runs of a sweep failed to train (the others are saved)."""


class PlanError(ScalingLabError, ValueError):
    """A planning request cannot be answered (target below the floor, law without N or D...)."""

    kind = "plan-error"


class ScalingLabWarning(UserWarning):
    """Base class of scalinglab warnings."""


class ConvergenceWarning(ScalingLabWarning):
    """The optimiser stopped before meeting its convergence test."""


class ParameterAtBoundWarning(ScalingLabWarning):
    """A fitted parameter sits on one of its bounds: the bound, not the data, set it."""


class IdentifiabilityWarning(ScalingLabWarning):
    """The data cannot separate some parameters (too few distinct inputs, flat curvature)."""


class ExtrapolationWarning(ScalingLabWarning):
    """A prediction lies far outside the range of the fitted data."""
