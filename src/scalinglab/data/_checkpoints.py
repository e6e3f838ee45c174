"""Which checkpoints a fit sees: one rule, used by fit, backtest, report, plot and every CLI command.

The rules of the scaling-law literature, as fields of :class:`CheckpointRule`:

* ``min_tokens``: drop early checkpoints (the "first 10B tokens" rule of
  Choshen et al. 2024, A Hitchhiker's Guide to Scaling Law Estimation);
* ``window=(lo, hi)``: keep checkpoints whose fraction of their run's training
  lies in ``[lo, hi]`` (``(0.7, 1.0)`` = the last 30%, ``(0.2, 1.0)`` = drop the
  first 20%, ``(0.0, 0.5)`` = the first half);
* ``final_only``: the final checkpoint of each run (Hoffmann et al. 2022,
  approach 3);
* ``runs``: only these run ids.

A run's training fraction is ``tokens / final tokens of the run`` (or
``tokens / token_budget`` when that column exists).  On the CLI the same rule is
``--min-tokens``, ``--window LO,HI`` and ``--final-only`` on every command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from scalinglab.data._runs import RunsTable, read_runs
from scalinglab.errors import DataError, InvalidParameterError

__all__ = ["CheckpointRule", "select_checkpoints", "training_fraction"]

_TOL = 1e-12


@dataclass(frozen=True)
class CheckpointRule:
    """Keep the checkpoints a fit should see (see the module docstring).

    Examples
    --------
    >>> rule = CheckpointRule(window=(0.2, 1.0), min_tokens=1e9)
    >>> rule.describe()
    'drop checkpoints < 1e+09 tokens; drop the first 20% of each run'
    >>> import pandas as pd
    >>> df = pd.DataFrame({"run": ["a"] * 4, "params": 1e6, "tokens": [1e8, 2e8, 3e8, 4e8],
    ...                    "loss": [4.0, 3.5, 3.3, 3.2]})
    >>> len(CheckpointRule(window=(0.7, 1.0)).apply(df))
    2
    """

    min_tokens: float | None = None
    window: tuple[float, float] | None = None
    final_only: bool = False
    runs: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.min_tokens is not None:
            try:
                ok = float(self.min_tokens) >= 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise InvalidParameterError(
                    f"checkpoint rule: 'min_tokens' must be a number >= 0; got {self.min_tokens!r}",
                    hint="e.g. min_tokens=1e10 (--min-tokens 1e10)",
                )
            object.__setattr__(self, "min_tokens", float(self.min_tokens))
        if self.window is not None:
            try:
                lo, hi = (float(w) for w in self.window)
            except (TypeError, ValueError):
                lo, hi = float("nan"), float("nan")
            if not (0 <= lo <= hi <= 1):
                raise InvalidParameterError(
                    f"checkpoint rule: 'window' must be two fractions 0 <= lo <= hi <= 1; got {self.window!r}",
                    hint="e.g. window=(0.7, 1.0) for the last 30% of each run (--window 0.7,1)",
                )
            object.__setattr__(self, "window", (lo, hi))
        if not isinstance(self.final_only, bool):
            raise InvalidParameterError(f"checkpoint rule: 'final_only' must be True or False; got {self.final_only!r}")
        if self.runs is not None:
            if isinstance(self.runs, str):
                raise InvalidParameterError(
                    "checkpoint rule: 'runs' must be a list of run ids, not one string",
                    hint=f"use runs=[{self.runs!r}]",
                )
            object.__setattr__(self, "runs", tuple(str(r) for r in self.runs))

    @classmethod
    def coerce(cls, rule: CheckpointRule | Mapping[str, Any] | None = None, **fields: Any) -> CheckpointRule:
        """A rule from a rule, a mapping of its fields, or keywords (``None`` values are ignored)."""
        if isinstance(rule, CheckpointRule):
            base = asdict(rule)
        elif rule is None:
            base = {}
        elif isinstance(rule, Mapping):
            base = dict(rule)
        else:
            raise InvalidParameterError(
                f"expected a CheckpointRule or a mapping of its fields; got {type(rule).__name__}"
            )
        base.update({k: v for k, v in fields.items() if v is not None})
        unknown = set(base) - {"min_tokens", "window", "final_only", "runs"}
        if unknown:
            raise InvalidParameterError(
                f"checkpoint rule: unknown field(s) {sorted(unknown)}",
                hint="the fields are min_tokens, window, final_only and runs",
            )
        return cls(**base)

    @property
    def is_noop(self) -> bool:
        """True when the rule keeps every checkpoint."""
        return (
            self.min_tokens is None and self.window in (None, (0.0, 1.0)) and not self.final_only and self.runs is None
        )

    def steps(self) -> list[str]:
        """The rule in words, one phrase per field that selects something."""
        out = []
        if self.runs is not None:
            out.append(f"runs restricted to {len(self.runs)} id(s)")
        if self.min_tokens is not None:
            out.append(f"drop checkpoints < {self.min_tokens:.3g} tokens")
        if self.window is not None:
            lo, hi = self.window
            if lo > 0 and hi >= 1:
                out.append(f"drop the first {lo:.0%} of each run")
            elif lo <= 0 and hi < 1:
                out.append(f"keep the first {hi:.0%} of each run")
            elif lo > 0:
                out.append(f"keep {lo:.0%}-{hi:.0%} of each run's training")
        if self.final_only:
            out.append("final checkpoint of each run only")
        return out

    def describe(self) -> str:
        """One line; ``"every checkpoint"`` when the rule selects nothing."""
        return "; ".join(self.steps()) or "every checkpoint"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["window"] = list(self.window) if self.window is not None else None
        d["runs"] = list(self.runs) if self.runs is not None else None
        return d

    def apply_frame(self, frame: pd.DataFrame, *, source: str = "<data>") -> pd.DataFrame:
        """The rows of ``frame`` (a canonical runs frame) that the rule keeps; may be empty."""
        if self.runs is not None:
            frame = frame[frame["run"].isin(list(self.runs))]
        if self.min_tokens is not None:
            if "tokens" not in frame:
                raise DataError(
                    "min_tokens needs a 'tokens' column",
                    source=source,
                    column="tokens",
                    kind="missing-column",
                    hint="map your token column (--map tokens=<col>, read_runs(..., tokens='<col>'))",
                )
            frame = frame[frame["tokens"] >= self.min_tokens]
        if self.window is not None and self.window != (0.0, 1.0):
            lo, hi = self.window
            frac = training_fraction(frame)
            frame = frame[(frac >= lo - _TOL) & (frac <= hi + _TOL)]
        if self.final_only:
            order = [c for c in ("tokens", "step") if c in frame][:1]
            frame = frame.sort_values(["run"] + order, kind="stable").groupby("run", sort=False).tail(1)
        return frame

    def apply(self, runs: RunsTable | pd.DataFrame | str) -> RunsTable:
        """The runs table with only the kept checkpoints; the rule is recorded in its ``notes``.

        Raises
        ------
        DataError
            If nothing is left after selection.
        """
        table = read_runs(runs)
        frame = self.apply_frame(table.frame, source=table.source)
        if frame.empty:
            raise DataError(
                f"no checkpoints left after selection ({self.describe()})",
                source=table.source,
                kind="empty-selection",
                hint="relax the selection: lower min_tokens (--min-tokens) or widen the window (--window)",
            )
        return table.with_frame(frame, None if self.is_noop else self.describe())


def select_checkpoints(
    runs: RunsTable | pd.DataFrame,
    rule: CheckpointRule | None = None,
    *,
    min_tokens: float | None = None,
    window: tuple[float, float] | None = None,
    final_only: bool = False,
    runs_subset: Sequence[str] | None = None,
) -> RunsTable:
    """Keep the checkpoints a fit should see: ``CheckpointRule(...).apply(runs)``.

    Parameters
    ----------
    runs : RunsTable or DataFrame
    rule : CheckpointRule, optional
        The rule; the keywords below add to it.
    min_tokens : float, optional
        Drop checkpoints with fewer tokens seen (e.g. ``1e10`` for the first-10B rule).
    window : (lo, hi), optional
        Keep checkpoints whose fraction of the run's training lies in ``[lo, hi]``.
    final_only : bool
        Keep only the last checkpoint of each run.
    runs_subset : list of str, optional
        Keep only these run ids.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"run": ["a"] * 4, "params": 1e6, "tokens": [1e8, 2e8, 3e8, 4e8],
    ...                    "loss": [4.0, 3.5, 3.3, 3.2]})
    >>> len(select_checkpoints(df, window=(0.7, 1.0)))
    2
    """
    return CheckpointRule.coerce(
        rule, min_tokens=min_tokens, window=window, final_only=final_only or None, runs=runs_subset
    ).apply(runs)


def training_fraction(frame: pd.DataFrame) -> pd.Series:
    """Fraction of its run's training at each checkpoint (tokens / final tokens of the run)."""
    if "tokens" not in frame:
        raise DataError(
            "selecting a window of training needs a 'tokens' column",
            column="tokens",
            kind="missing-column",
            hint="map your token column (--map tokens=<col>, read_runs(..., tokens='<col>'))",
        )
    if "token_budget" in frame:
        total = frame["token_budget"].astype(float)
    else:
        total = frame.groupby("run")["tokens"].transform("max")
    return (frame["tokens"] / total).clip(upper=1.0).astype(float)
