"""Backtest policies: which runs are held out, which checkpoints a law is fitted on, which are scored.

A :class:`Policy` splits one family's runs table into a *fit set* and a *target
set*, the way the scaling-law literature backtests an extrapolation (Choshen et
al. 2024, "A Hitchhiker's Guide to Scaling Law Estimation", sec. 2-8).  Like a
scikit-learn splitter it is a small immutable object handed to
:func:`~scalinglab.evaluate.backtest`:

hold-out (``holdout``)
    ``"largest"`` (the largest model), ``"largest:k"`` (the k largest sizes),
    ``"compute>C"`` (every run whose final compute exceeds C FLOPs).
fit models (``fit_models``)
    ``"all"`` (every smaller model), ``"smallest:k"`` (the k smallest sizes),
    ``"window:k"`` (the k consecutive sizes just below the held-out ones),
    ``"nearest:k"`` (the same, or every other size when fewer than k remain),
    ``"range:i-j"`` (the i-th to j-th smallest other sizes, 1-based: a window of
    consecutive sizes anywhere, the Hitchhiker's Guide scale-up track).
fit checkpoints (``checkpoints``)
    a :class:`~scalinglab.data.CheckpointRule`, the same rule ``fit``, ``report``
    and ``plot`` use: ``window=(0.2, 1.0)`` drops the first 20% of each run,
    ``min_tokens=1e10`` the first 10B tokens, ``final_only=True`` keeps final
    checkpoints.
target (``target``)
    ``"last30"`` / ``"last:0.3"`` (checkpoints in the last 30% of each held-out
    run's training: the Hitchhiker's Guide default) or ``"final"``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.data._checkpoints import CheckpointRule
from scalinglab.errors import DataError, InvalidParameterError

__all__ = ["Policy", "DEFAULT_POLICY", "split"]

_HOLDOUT = re.compile(r"^(largest)(?::(\d+))?$|^compute\s*>\s*([0-9.eE+-]+)$")
_FITMODELS = re.compile(r"^(all)$|^(smallest|window|nearest):(\d+)$|^(range):(\d+)-(\d+)$")
_TARGET = re.compile(r"^(final)$|^last(?:30|:(0?\.\d+|1(?:\.0*)?))$")
_LEGACY = ("fraction", "skip_fraction", "min_tokens", "final_only")


def legacy_checkpoints(fields: Mapping[str, Any], owner: str) -> CheckpointRule | None:
    """A :class:`CheckpointRule` from the deprecated ``fraction``/``skip_fraction``/``min_tokens``/``final_only``
    keywords (``None`` when none is given); warns once that ``checkpoints=`` replaces them."""
    given = {k: v for k, v in fields.items() if k in _LEGACY and v is not None and v is not False}
    if not given:
        return None
    warnings.warn(
        f"{owner}(): {', '.join(sorted(given))} are deprecated; pass "
        "checkpoints=CheckpointRule(window=(skip_fraction, fraction), min_tokens=..., final_only=...)",
        DeprecationWarning,
        stacklevel=3,
    )
    fraction = float(given.get("fraction", 1.0))
    skip = float(given.get("skip_fraction", 0.0))
    if not 0 < fraction <= 1:
        raise InvalidParameterError(f"{owner}(): 'fraction' must be in (0, 1]; got {fraction!r}")
    if not 0 <= skip < fraction:
        raise InvalidParameterError(f"{owner}(): 'skip_fraction' must be in [0, fraction={fraction}); got {skip!r}")
    window = (skip, fraction) if (skip > 0 or fraction < 1) else None
    return CheckpointRule(
        min_tokens=given.get("min_tokens"), window=window, final_only=bool(given.get("final_only", False))
    )


@dataclass(frozen=True, init=False)
class Policy:
    """How a backtest splits a family into fit and target checkpoints (see module docstring).

    The defaults are the neutral policy (no early-checkpoint cut);
    :func:`scalinglab.evaluate.backtest` defaults to ``DEFAULT_POLICY``
    (``checkpoints=CheckpointRule(window=(0.2, 1.0))``), chosen on the public benchmarks.

    Examples
    --------
    >>> Policy(holdout="largest:2", fit_models="smallest:3", checkpoints=CheckpointRule(min_tokens=1e10)).describe()
    'hold out the 2 largest sizes; fit the 3 smallest other sizes; drop checkpoints < 1e+10 tokens; score the last 30% of each held-out run'
    """

    holdout: str = "largest"
    fit_models: str = "all"
    checkpoints: CheckpointRule = field(default_factory=CheckpointRule)
    target: str = "last30"

    def __init__(
        self,
        holdout: str = "largest",
        fit_models: str = "all",
        checkpoints: CheckpointRule | Mapping[str, Any] | None = None,
        target: str = "last30",
        **legacy: Any,
    ) -> None:
        unknown = set(legacy) - set(_LEGACY)
        if unknown:
            raise InvalidParameterError(
                f"Policy(): unknown argument(s) {sorted(unknown)}",
                hint="the fields are holdout, fit_models, checkpoints and target",
            )
        old = legacy_checkpoints(legacy, "Policy")
        if old is not None:
            if checkpoints is not None:
                raise InvalidParameterError(
                    "Policy(): give checkpoints= or the deprecated fraction/skip_fraction/"
                    "min_tokens/final_only keywords, not both"
                )
            checkpoints = old
        object.__setattr__(self, "holdout", holdout)
        object.__setattr__(self, "fit_models", fit_models)
        object.__setattr__(self, "checkpoints", CheckpointRule.coerce(checkpoints))
        object.__setattr__(self, "target", target)
        self._validate()

    def _validate(self) -> None:
        if not isinstance(self.holdout, str) or not _HOLDOUT.match(self.holdout.strip()):
            raise InvalidParameterError(
                f"backtest(): 'holdout' must be 'largest', 'largest:k' or 'compute>C'; got {self.holdout!r}"
            )
        if not isinstance(self.fit_models, str) or not _FITMODELS.match(self.fit_models.strip()):
            raise InvalidParameterError(
                f"backtest(): 'fit_models' must be 'all', 'smallest:k', 'window:k', 'nearest:k' or 'range:i-j'; "
                f"got {self.fit_models!r}"
            )
        if self.fit_range is not None and not 1 <= self.fit_range[0] <= self.fit_range[1]:
            raise InvalidParameterError(f"backtest(): 'range:i-j' needs 1 <= i <= j; got {self.fit_models!r}")
        if not isinstance(self.target, str) or not _TARGET.match(self.target.strip()):
            raise InvalidParameterError(
                f"backtest(): 'target' must be 'last30', 'last:f' (0 < f <= 1) or 'final'; got {self.target!r}"
            )
        for k in ("holdout_k", "fit_k"):
            v = getattr(self, k)
            if v is not None and v < 1:
                raise InvalidParameterError(f"backtest(): k must be >= 1 in {self.holdout!r}/{self.fit_models!r}")

    def replace(self, **changes: Any) -> Policy:
        """A copy with some fields changed."""
        fields = {
            "holdout": self.holdout,
            "fit_models": self.fit_models,
            "checkpoints": self.checkpoints,
            "target": self.target,
        }
        fields.update(changes)
        return Policy(**fields)

    # -- parsed fields -----------------------------------------------------------
    @property
    def holdout_k(self) -> int | None:
        m = _HOLDOUT.match(self.holdout.strip())
        return (int(m.group(2)) if m.group(2) else 1) if m.group(1) else None

    @property
    def holdout_compute(self) -> float | None:
        m = _HOLDOUT.match(self.holdout.strip())
        return float(m.group(3)) if m.group(3) else None

    @property
    def fit_k(self) -> int | None:
        m = _FITMODELS.match(self.fit_models.strip())
        if m.group(4):
            return int(m.group(6)) - int(m.group(5)) + 1
        return int(m.group(3)) if m.group(3) else None

    @property
    def fit_range(self) -> tuple[int, int] | None:
        """``(i, j)`` of ``"range:i-j"`` (1-based, inclusive), else None."""
        m = _FITMODELS.match(self.fit_models.strip())
        return (int(m.group(5)), int(m.group(6))) if m.group(4) else None

    @property
    def target_window(self) -> float | None:
        """Fraction of the held-out run's training scored at its end (None = final checkpoint)."""
        m = _TARGET.match(self.target.strip())
        if m.group(1):
            return None
        return float(m.group(2)) if m.group(2) else 0.3

    @property
    def target_rule(self) -> CheckpointRule:
        """The target checkpoints as a :class:`CheckpointRule` (a window at the end, or final only)."""
        w = self.target_window
        return CheckpointRule(final_only=True) if w is None else CheckpointRule(window=(max(0.0, 1.0 - w), 1.0))

    def describe(self) -> str:
        parts = []
        if self.holdout_compute is not None:
            parts.append(f"hold out runs with final compute > {self.holdout_compute:.3g} FLOPs")
        else:
            k = self.holdout_k
            parts.append("hold out the largest size" if k == 1 else f"hold out the {k} largest sizes")
        if self.fit_k is None:
            parts.append("fit all other sizes")
        elif self.fit_models.startswith("smallest"):
            parts.append(f"fit the {self.fit_k} smallest other sizes")
        elif self.fit_range is not None:
            parts.append(f"fit sizes {self.fit_range[0]}-{self.fit_range[1]} (smallest = 1)")
        elif self.fit_models.startswith("nearest"):
            parts.append(f"fit the {self.fit_k} sizes just below the held-out ones (all if fewer)")
        else:
            parts.append(f"fit the {self.fit_k} sizes just below the held-out ones")
        parts.extend(self.checkpoints.steps())
        w = self.target_window
        parts.append(
            "score the final checkpoint of each held-out run"
            if w is None
            else f"score the last {w:.0%} of each held-out run"
        )
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {
            "holdout": self.holdout,
            "fit_models": self.fit_models,
            "checkpoints": self.checkpoints.to_dict(),
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Policy:
        return cls(**dict(payload))

    @classmethod
    def from_options(
        cls,
        holdout: str | None = None,
        fit_models: str | None = None,
        target: str | None = None,
        *,
        min_tokens: float | None = None,
        window: tuple[float, float] | None = None,
        final_only: bool = False,
        base: Policy | None = None,
    ) -> Policy:
        """``base`` (default :data:`DEFAULT_POLICY`) with the options that are given replacing its fields.

        The checkpoint options replace the fields of the base policy's
        :class:`~scalinglab.data.CheckpointRule` one by one, so ``min_tokens=1e10``
        alone keeps the default ``window=(0.2, 1.0)``; ``window=(0, 1)`` removes it.
        This is how ``scalinglab backtest --holdout ... --min-tokens ... --window LO,HI
        --final-only`` builds its policy.

        Examples
        --------
        >>> Policy.from_options(min_tokens=1e10).checkpoints.describe()
        'drop checkpoints < 1e+10 tokens; drop the first 20% of each run'
        >>> Policy.from_options("largest:2", window=(0.0, 1.0)).describe()
        'hold out the 2 largest sizes; fit all other sizes; score the last 30% of each held-out run'
        """
        base = DEFAULT_POLICY if base is None else base
        rule = CheckpointRule.coerce(
            base.checkpoints, min_tokens=min_tokens, window=window, final_only=True if final_only else None
        )
        given = {
            k: v for k, v in (("holdout", holdout), ("fit_models", fit_models), ("target", target)) if v is not None
        }
        return base.replace(checkpoints=rule, **given)


#: The default policy: hold out the largest model, fit every smaller one on its checkpoints
#: after the first 20% of its training, score the last 30% of the held-out run.  Chosen on the
#: Hitchhiker's Guide families as the setting that generalises (leave-one-family-out
#: selection, see bench/hitchhiker.py), not tuned per family: a relative cut works at any
#: scale, unlike the "first 10B tokens" rule, which empties small-model families.
DEFAULT_POLICY = Policy(checkpoints=CheckpointRule(window=(0.2, 1.0)))


def _final_compute(frame: pd.DataFrame) -> pd.Series:
    if "flops" in frame:
        return frame.groupby("run")["flops"].max()
    if "tokens" in frame:
        return (6.0 * frame["params"] * frame["tokens"]).groupby(frame["run"]).max()
    raise DataError(
        "holdout='compute>C' needs a 'flops' or 'tokens' column",
        column="flops",
        kind="missing-column",
        hint="map your compute column with --map flops=<col>",
    )


def split(frame: pd.DataFrame, policy: Policy, *, family: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split one family's runs into ``(fit_rows, target_rows)`` by ``policy``.

    Raises
    ------
    DataError
        When the policy cannot be applied (k larger than the family, an empty
        fit or target set after the checkpoint rules); the message names the policy.
    """
    where = f" in group '{family}'" if family else ""
    if "params" not in frame:
        raise DataError(
            "backtest policies need a model-size column 'params'",
            column="params",
            kind="missing-column",
            hint="map it with --map params=<your column>",
        )
    sizes = np.sort(frame["params"].unique())
    if policy.holdout_compute is not None:
        comp = _final_compute(frame)
        target_runs = set(comp.index[comp > policy.holdout_compute])
        if not target_runs:
            raise DataError(
                f"holdout='{policy.holdout}': no run{where} has final compute above "
                f"{policy.holdout_compute:.3g} FLOPs (largest: {comp.max():.3g})",
                kind="bad-policy",
                hint="lower the compute threshold",
            )
        if len(target_runs) == comp.size:
            raise DataError(
                f"holdout='{policy.holdout}': every run{where} is above the threshold; nothing to fit",
                kind="bad-policy",
                hint="raise the compute threshold",
            )
    else:
        k = policy.holdout_k
        if k >= sizes.size:
            raise DataError(
                f"holdout='{policy.holdout}' holds out {k} model size(s) but "
                f"{('group ' + repr(family)) if family else 'the family'} has only "
                f"{sizes.size}; nothing would be left to fit",
                kind="bad-policy",
                hint=f"use k <= {sizes.size - 1}",
            )
        held = sizes[-k:]
        target_runs = set(frame.loc[frame["params"].isin(held), "run"])
    is_target = frame["run"].isin(target_runs)
    fit_rows, target_rows = frame[~is_target], frame[is_target]
    fit_sizes = np.sort(fit_rows["params"].unique())
    if policy.fit_k is not None:
        k = policy.fit_k
        if policy.fit_models.startswith("nearest"):
            k = min(k, fit_sizes.size)
        if k > fit_sizes.size:
            raise DataError(
                f"fit_models='{policy.fit_models}' asks for {k} model sizes but only {fit_sizes.size} "
                f"remain{where} after the hold-out",
                kind="bad-policy",
                hint=f"use k <= {fit_sizes.size}",
            )
        if policy.fit_range is not None:
            i, j = policy.fit_range
            if j > fit_sizes.size:
                raise DataError(
                    f"fit_models='{policy.fit_models}' asks for size {j} but only {fit_sizes.size} "
                    f"remain{where} after the hold-out",
                    kind="bad-policy",
                    hint=f"use j <= {fit_sizes.size}",
                )
            keep = fit_sizes[i - 1 : j]
        else:
            keep = fit_sizes[:k] if policy.fit_models.startswith("smallest") else fit_sizes[-k:]
        fit_rows = fit_rows[fit_rows["params"].isin(keep)]
    fit_rows = policy.checkpoints.apply_frame(fit_rows)
    if fit_rows.empty:
        raise DataError(
            f"the fit set{where} is empty after the checkpoint rules ({policy.checkpoints.describe()})",
            kind="empty-fit-set",
            hint="relax the rule: a smaller --min-tokens (the 10B cut empties "
            "small-model families) or a wider --window",
        )
    target_rows = policy.target_rule.apply_frame(target_rows)
    if target_rows.empty:
        raise DataError(
            f"no target checkpoints{where} under target='{policy.target}'",
            kind="empty-target-set",
            hint="use target='final'",
        )
    return fit_rows, target_rows
