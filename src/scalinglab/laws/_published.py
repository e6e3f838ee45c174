"""A published scaling law: a registered law with the constants a paper reports, their units and source.

The entries themselves live beside their laws (``_chinchilla``, ``_kaplan``,
``_power``, ``_transfer``); :mod:`scalinglab.laws.published` collects them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

import numpy as np

from scalinglab.errors import InvalidParameterError
from scalinglab.laws._registry import Law, get_law

__all__ = ["PublishedLaw", "PF_DAY_FLOPS", "to_pf_days", "to_flops", "PF_DAYS", "NON_EMBEDDING", "fmt_constant"]

PF_DAY_FLOPS: float = 1e15 * 86400.0
"""FLOPs in one PF-day (1e15 FLOP/s for one day) = 8.64e19."""


def to_pf_days(flops):
    """Convert FLOPs to PF-days (divide by 8.64e19)."""
    return np.asarray(flops, dtype=float) / PF_DAY_FLOPS


def to_flops(pf_days):
    """Convert PF-days to FLOPs (multiply by 8.64e19)."""
    return np.asarray(pf_days, dtype=float) * PF_DAY_FLOPS


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class PublishedLaw:
    """A published scaling law with its constants, units and source (immutable).

    Attributes
    ----------
    key : str
        Identifier, e.g. ``"hoffmann2022"``.
    law : str
        Name of the registered law evaluated by :meth:`predict`.
    params : mapping
        Parameter values of ``law`` (derived from ``constants`` where the paper's
        parametrisation differs, e.g. ``A = N_c**alpha``).
    inputs : mapping
        Input symbol -> the keyword accepted by :meth:`predict` besides the
        symbol itself, e.g. ``{"N": "params", "D": "tokens"}``.
    units : mapping
        Units of every input symbol and of the target.
    target : str
        What the law predicts (``"loss"``, ``"n_opt"``, ``"effective_data"``...).
    source : str
        Paper and table/equation.
    confidence : {"C2", "C1"}
        Tag from the reference sheet (see the module docstring).
    formula : str
        The law with the published constants substituted.
    constants : mapping
        The constants as printed in the paper.
    law_inputs : mapping
        Input symbol -> the law's input symbol, where they differ (``{"N": "x"}``).
    pf_days : str or None
        The input symbol measured in PF-days; :meth:`predict` then also accepts
        ``flops=`` and divides by 8.64e19.
    notes : str
        Regime of validity and caveats.
    """

    key: str
    law: str
    params: Mapping[str, float]
    inputs: Mapping[str, str]
    units: Mapping[str, str]
    target: str
    source: str
    confidence: str
    formula: str
    constants: Mapping[str, float] = field(default_factory=dict)
    law_inputs: Mapping[str, str] = field(default_factory=dict)
    pf_days: str | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        for name in ("params", "inputs", "units", "constants", "law_inputs"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    __hash__ = None  # type: ignore[assignment]  # mappings are not hashable; compare by value

    def __reduce__(self):
        # read-only mapping proxies do not pickle; rebuild from plain dicts
        values = (getattr(self, f.name) for f in fields(self))
        return (type(self), tuple(dict(v) if isinstance(v, MappingProxyType) else v for v in values))

    @property
    def law_object(self) -> Law:
        """The registered :class:`~scalinglab.laws.Law` behind this entry."""
        return get_law(self.law)

    def _accepted(self) -> dict[str, str]:
        names = {}
        for sym, col in self.inputs.items():
            names[sym] = sym
            names[col] = sym
        return names

    def predict(self, **inputs: object) -> float | np.ndarray:
        """Evaluate the published law.

        Parameters
        ----------
        **inputs : array_like
            Each input by symbol or by its name in :attr:`inputs` (``N=`` or
            ``params=``).  For inputs in PF-days, ``flops=`` (FLOPs) is accepted
            too and converted (1 PF-day = 8.64e19 FLOPs).  Values must be > 0
            (``inf`` is allowed, e.g. infinite data).

        Returns
        -------
        float or ndarray
            A float for scalar inputs, else an array broadcast over the inputs.

        Examples
        --------
        >>> from scalinglab.laws.published import get
        >>> lw = get("kaplan2020_cmin")
        >>> round(lw.predict(C=1.0), 4), round(lw.predict(flops=8.64e22), 4)
        (2.6581, 1.8818)
        """
        accepted = self._accepted()
        values: dict[str, np.ndarray] = {}
        for name, value in inputs.items():
            if name in accepted:
                sym, scale = accepted[name], 1.0
            elif name == "flops" and self.pf_days is not None:
                sym, scale = self.pf_days, 1.0 / PF_DAY_FLOPS
            else:
                options = sorted(accepted) + (["flops"] if self.pf_days else [])
                raise InvalidParameterError(
                    f"published law '{self.key}' has no input '{name}'",
                    hint=f"pass {', '.join(options)} ({self._units_text()})",
                )
            if sym in values:
                raise InvalidParameterError(
                    f"published law '{self.key}': input '{sym}' was given twice "
                    f"(as '{name}' and another name); give it once"
                )
            try:
                arr = np.asarray(value, dtype=float) * scale
            except (TypeError, ValueError):
                raise InvalidParameterError(
                    f"published law '{self.key}': '{name}' must be numeric, got {value!r}"
                ) from None
            if np.any(~(arr > 0)):
                bad = float(arr[~(arr > 0)].ravel()[0]) if arr.ndim else float(arr)
                raise InvalidParameterError(
                    f"published law '{self.key}': '{name}' must be > 0, got {bad:g}",
                    hint=f"units: {self.units.get(sym, '?')}",
                )
            values[sym] = arr
        missing = [s for s in self.inputs if s not in values]
        if missing:
            raise InvalidParameterError(
                f"published law '{self.key}' needs input(s) {missing}",
                hint=", ".join(f"{s}=... or {self.inputs[s]}=..." for s in missing) + f" ({self._units_text()})",
            )
        X = {self.law_inputs.get(sym, sym): v for sym, v in values.items()}
        out = self.law_object.evaluate(X, dict(self.params))
        return float(out) if out.ndim == 0 else out

    def _units_text(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.units.items())

    def describe(self) -> dict:
        """Plain-JSON description (constants, units, source, confidence)."""
        out = {
            "key": self.key,
            "formula": self.formula,
            "law": self.law,
            "params": dict(self.params),
            "constants": dict(self.constants),
            "inputs": {sym: {"name": col, "units": self.units.get(sym, "")} for sym, col in self.inputs.items()},
            "target": {"name": self.target, "units": self.units.get(self.target, "")},
            "source": self.source,
            "confidence": self.confidence,
            "notes": self.notes,
        }
        if self.pf_days is not None:
            out["flops_per_pf_day"] = PF_DAY_FLOPS
        return out

    def __str__(self) -> str:
        lines = [f"{self.key}: {self.formula}", f"  source: {self.source} [{self.confidence}]"]
        lines += [f"  {sym} ({col}): {self.units.get(sym, '')}" for sym, col in self.inputs.items()]
        lines.append(f"  {self.target}: {self.units.get(self.target, '')}")
        if self.pf_days is not None:
            lines.append("  flops= accepted: 1 PF-day = 8.64e19 FLOPs")
        if self.notes:
            lines.append(f"  notes: {self.notes}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ shared wording of the entries

PF_DAYS = "PF-days of training compute (1 PF-day = 8.64e19 FLOPs)"
NON_EMBEDDING = "non-embedding parameters"


def fmt_constant(x: float) -> str:
    """A constant as the formulas print it (``%g``)."""
    return f"{x:g}"
