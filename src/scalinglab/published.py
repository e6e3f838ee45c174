"""Constants that scaling-law papers report, ready to predict with.

Each entry is a frozen :class:`PublishedLaw`: a registered law (``law``), its
parameter values (``params``), the constants as printed in the paper
(``constants``), the units of every input and of the target, the source
(paper + table/equation) and a confidence tag from the project's reference
sheet (``"C2"``: two or more independent sources agree; ``"C1"``: one full-text
transcription plus an internal consistency check).

Units are explicit and differ between papers:

* N is **non-embedding** parameters in Kaplan, Henighan and Hernandez, **total**
  parameters in Hoffmann/Besiroglu.
* D is tokens (Kaplan, Hoffmann) but **characters** of Python in Hernandez
  (input ``finetune_data``).
* C is **PF-days** in Kaplan and Henighan (1 PF-day = 1e15 * 86400 =
  8.64e19 FLOPs): pass ``pf_days=`` / ``C=``, or ``flops=`` which is converted
  with :data:`PF_DAY_FLOPS`.
* Losses are nats/token of each paper's own data and tokenizer; never compare
  absolute losses across papers.

Keys: ``hoffmann2022``, ``hoffmann2022_unrounded``, ``besiroglu2024``,
``kaplan2020_{n,d,c,cmin,nd,ns,bcrit,overfit_data}``,
``kaplan2020_frontier_{n,d,b,s,d_eq67}``, ``henighan2020_<domain>_{n,c,nopt}``,
``henighan2020_<resolution>_per_image_c``, ``hernandez2021_{text,mixture}_python``.
``list_published()`` lists them all.

Examples
--------
>>> from scalinglab import published
>>> round(published.get("hoffmann2022").predict(params=1e9, tokens=2e10), 4)
2.58
>>> round(published.get("kaplan2020_frontier_n").predict(flops=8.64e19) / 1e9, 2)
1.3
>>> f"{published.get('hernandez2021_text_python').predict(finetune_data=1e6, params=1e8):.4g}"
'2.505e+08'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Mapping

import numpy as np

from scalinglab.errors import InvalidParameterError
from scalinglab.laws import get_law
from scalinglab.laws._registry import Law

__all__ = ["PublishedLaw", "get", "list_published", "PF_DAY_FLOPS", "to_pf_days", "to_flops"]

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
                    hint=f"pass {', '.join(options)} ({self._units_text()})")
            if sym in values:
                raise InvalidParameterError(f"published law '{self.key}': input '{sym}' was given twice "
                                            f"(as '{name}' and another name); give it once")
            try:
                arr = np.asarray(value, dtype=float) * scale
            except (TypeError, ValueError):
                raise InvalidParameterError(f"published law '{self.key}': '{name}' must be numeric, "
                                            f"got {value!r}") from None
            if np.any(~(arr > 0)):
                bad = float(arr[~(arr > 0)].ravel()[0]) if arr.ndim else float(arr)
                raise InvalidParameterError(f"published law '{self.key}': '{name}' must be > 0, got {bad:g}",
                                            hint=f"units: {self.units.get(sym, '?')}")
            values[sym] = arr
        missing = [s for s in self.inputs if s not in values]
        if missing:
            raise InvalidParameterError(
                f"published law '{self.key}' needs input(s) {missing}",
                hint=", ".join(f"{s}=... or {self.inputs[s]}=..." for s in missing) + f" ({self._units_text()})")
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


# ------------------------------------------------------------------------------ the entries

_KAPLAN = "Kaplan et al. 2020, arXiv:2001.08361"
_HOFFMANN = "Hoffmann et al. 2022, arXiv:2203.15556"
_HENIGHAN = "Henighan et al. 2020, arXiv:2010.14701"
_HERNANDEZ = "Hernandez et al. 2021, arXiv:2102.01293"

_PF = "PF-days of training compute (1 PF-day = 8.64e19 FLOPs)"
_NE = "non-embedding parameters"
_L_KAPLAN = "nats/token (WebText2, GPT-2 BPE)"
_L_CHIN = "nats/token (MassiveText, SentencePiece)"


def _g(x: float) -> str:
    return f"{x:g}"


def _kaplan_entries() -> list[PublishedLaw]:
    def single(key, sym, col, unit, xc, alpha, eq, notes, pf=False):
        return PublishedLaw(
            key=key, law="power_floor", params={"E": 0.0, "x0": xc, "alpha": alpha},
            constants={f"{sym}_c": xc, f"alpha_{sym}": alpha}, inputs={sym: col}, law_inputs={sym: "x"},
            units={sym: unit, "loss": _L_KAPLAN}, target="loss", source=f"{_KAPLAN}, {eq}",
            confidence="C2", formula=f"L({sym}) = ({_g(xc)}/{sym})^{_g(alpha)}", pf_days=sym if pf else None,
            notes=notes)

    def grow(key, sym, col, unit, k, p, target, tunit, source, notes, conf="C1"):
        return PublishedLaw(
            key=key, law="scaled_power", params={"k": k, "p": p}, constants={"k": k, "p": p},
            inputs={sym: col}, law_inputs={sym: "x"}, units={sym: unit, target: tunit}, target=target,
            source=f"{_KAPLAN}, {source}", confidence=conf, formula=f"{target} = {_g(k)} * {sym}^{_g(p)}",
            pf_days=sym if unit == _PF else None, notes=notes)

    out = [
        single("kaplan2020_n", "N", "params", _NE, 8.8e13, 0.076, "eq. 1.1 / Table 5",
               "Models trained to convergence on enough data (early stopping)."),
        single("kaplan2020_d", "D", "tokens", "tokens", 5.4e13, 0.095, "eq. 1.2 / Table 5",
               "Large models with early stopping; data-limited regime."),
        single("kaplan2020_cmin", "C", "pf_days", _PF + "; C_min, batch << B_crit", 3.1e8, 0.050,
               "eq. 1.3 / Table 5 (alpha_C^min, C_c^min)",
               "Compute-efficient training (C_min = C / (1 + B/B_crit)); loss along the frontier.", pf=True),
        single("kaplan2020_c", "C", "pf_days", _PF + "; fixed batch size", 1.6e7, 0.057,
               "Table 5 (naive alpha_C, C_c)", "Naive fixed-batch-size compute trend.", pf=True),
        PublishedLaw(
            key="kaplan2020_nd", law="kaplan",
            params={"Nc": 6.4e13, "alpha_N": 0.076, "Dc": 1.8e13, "alpha_D": 0.103},
            constants={"N_c": 6.4e13, "alpha_N": 0.076, "D_c": 1.8e13, "alpha_D": 0.103},
            inputs={"N": "params", "D": "tokens"}, units={"N": _NE, "D": "tokens", "loss": _L_KAPLAN},
            target="loss", source=f"{_KAPLAN}, eq. 1.5 with the Table 2 fit", confidence="C2",
            formula="L(N, D) = [(6.4e13/N)^(0.076/0.103) + 1.8e13/D]^0.103",
            notes="Use these Table-2 constants for eq. 1.5, not the single-variable ones (alpha_D = 0.095 gives "
                  "2.4354 instead of 2.3739 at N=1e9, D=2e10). D may be inf (infinite data)."),
        PublishedLaw(
            key="kaplan2020_ns", law="chinchilla",
            params={"E": 0.0, "A": 6.5e13 ** 0.077, "alpha": 0.077, "B": 2.1e3 ** 0.76, "beta": 0.76},
            constants={"N_c": 6.5e13, "alpha_N": 0.077, "S_c": 2.1e3, "alpha_S": 0.76},
            inputs={"N": "params", "S": "steps"}, law_inputs={"S": "D"},
            units={"N": _NE, "S": "optimisation steps S_min (at batch >> B_crit)", "loss": _L_KAPLAN},
            target="loss", source=f"{_KAPLAN}, eq. 1.6 with the Table 3 fit", confidence="C2",
            formula="L(N, S_min) = (6.5e13/N)^0.077 + (2.1e3/S_min)^0.76",
            notes="S_min = S / (1 + B_crit(L)/B) (eq. 5.4); evaluated as chinchilla with E = 0, "
                  "A = N_c^alpha_N, B = S_c^alpha_S."),
        PublishedLaw(
            key="kaplan2020_bcrit", law="power_law", params={"A": 2.1e8, "alpha": 1.0 / 0.21},
            constants={"B_star": 2.1e8, "alpha_B": 0.21}, inputs={"L": "loss"}, law_inputs={"L": "x"},
            units={"L": _L_KAPLAN, "critical_batch": "tokens"}, target="critical_batch",
            source=f"{_KAPLAN}, eq. 1.4 / 5.3 and Table 5", confidence="C2",
            formula="B_crit(L) = 2.1e8 / L^(1/0.21)",
            notes="Section 1.2 rounds B* to 2e8 tokens."),
        grow("kaplan2020_overfit_data", "N", "params", _NE, 5e3, 0.74, "min_tokens", "tokens", "eq. 4.4",
             "Data needed to keep the overfitting penalty below about 0.02 nats: D >= 5e3 N^0.74.", conf="C2"),
        grow("kaplan2020_frontier_n", "C", "pf_days", _PF, 1.3e9, 0.73, "n_opt", _NE,
             "compute-efficient frontier (Appendix Table 6; eq. 1.7)",
             "C is C_min. Cross-checked: Henighan 2020 Table 1 language N_opt(1) = 1.293e9.", conf="C2"),
        grow("kaplan2020_frontier_d", "C", "pf_days", _PF, 2e10, 0.27, "d_opt", "tokens (one epoch)",
             "compute-efficient frontier (Appendix Table 6)", "C is C_min."),
        grow("kaplan2020_frontier_b", "C", "pf_days", _PF, 2.0e6, 0.24, "batch", "tokens",
             "compute-efficient frontier (Appendix Table 6)", "C is C_min."),
        grow("kaplan2020_frontier_s", "C", "pf_days", _PF, 5.4e3, 0.03, "steps", "optimisation steps S_min",
             "compute-efficient frontier (Appendix Table 6)", "C is C_min."),
        grow("kaplan2020_frontier_d_eq67", "C", "pf_days", _PF, 4e10, 0.26, "d_opt", "tokens",
             "eq. 6.7", "Data processed along the compute-efficient frontier, D(C_min) ~ 4e10 C_min^0.26."),
    ]
    return out


def _chinchilla_entry(key, E, A, alpha, B, beta, source, confidence, notes):
    return PublishedLaw(
        key=key, law="chinchilla", params={"E": E, "A": A, "alpha": alpha, "B": B, "beta": beta},
        constants={"E": E, "A": A, "alpha": alpha, "B": B, "beta": beta},
        inputs={"N": "params", "D": "tokens"},
        units={"N": "total parameters", "D": "tokens", "loss": _L_CHIN}, target="loss", source=source,
        confidence=confidence, formula=f"L(N, D) = {_g(E)} + {_g(A)}/N^{_g(alpha)} + {_g(B)}/D^{_g(beta)}",
        notes=notes)


def _hoffmann_entries() -> list[PublishedLaw]:
    return [
        _chinchilla_entry("hoffmann2022", 1.69, 406.4, 0.34, 410.7, 0.28, f"{_HOFFMANN}, eq. 10 (Approach 3)",
                          "C2", "Rounded constants as printed. C = 6 N D FLOPs; Huber (delta=1e-3) fit on log loss. "
                          "Compute-optimal exponent a = beta/(alpha+beta) = 0.4516."),
        _chinchilla_entry("hoffmann2022_unrounded", 1.6934, 406.4, 0.3392, 410.7, 0.2849,
                          f"{_HOFFMANN}, Approach 3 unrounded (as quoted by Besiroglu et al. 2024)", "C1",
                          "One source only. Implied a = 0.4565, matching the paper's Table 2 a = 0.46."),
        _chinchilla_entry("besiroglu2024", 1.8172, 482.01, 0.3478, 2085.43, 0.3658,
                          "Besiroglu et al. 2024, arXiv:2404.10102 (refit of Hoffmann Approach 3)", "C2",
                          "Standard errors [S1]: E 0.03, A 124.58, B 1293.23, alpha 0.02, beta 0.02. "
                          "Implies about 20 tokens per parameter at the optimum (a = 0.5126)."),
    ]


# domain key, label, L(N) (L_inf, N0, alpha), L(C) (L_inf, C0, alpha), N_opt (C0, beta), tokens note
_HENIGHAN_TABLE1 = (
    ("language", "Language", (0.0, 1.47e14, 0.070), (0.0, 3.47e8, 0.048), (3.3e-13, 0.73),
     "No irreducible loss could be estimated; L(C) is GPT-3's 2.57 C^-0.048; N_opt row taken from Kaplan."),
    ("image8x8", "Image 8x8", (3.12, 8.0e1, 0.24), (3.13, 1.8e-8, 0.19), (5.3e-14, 0.64),
     "192 tokens (3 x 8 x 8 pixel values) per image."),
    ("image16x16", "Image 16x16", (2.64, 2.8e2, 0.22), (2.64, 1.6e-8, 0.16), (4.8e-12, 0.75),
     "768 tokens per image."),
    ("image32x32", "Image 32x32", (2.20, 6.3e1, 0.13), (2.21, 3.6e-9, 0.10), (1.6e-13, 0.65),
     "3072 tokens per image."),
    ("image_vq16x16", "Image VQ 16x16 (64x64 px)", (3.99, 2.7e4, 0.13), (4.09, 6.1e-7, 0.11), (6.2e-14, 0.64),
     "256 VQ codes per image."),
    ("image_vq32x32", "Image VQ 32x32 (64x64 px)", (3.07, 1.9e4, 0.14), (3.17, 2.6e-6, 0.12), (9.4e-13, 0.70),
     "1024 VQ codes per image."),
    ("text_to_image_image", "Text-to-image, image part", (2.0, 5.1e3, 0.16), (1.93, 1.5e-6, 0.15),
     (9.4e-13, 0.70), "32x32 image + 128 caption tokens = 3200 tokens; loss on image tokens."),
    ("text_to_image_text", "Text-to-image, text part", (0.0, 5.6e8, 0.037), None, None,
     "Loss on caption tokens; L(C) and N_opt given for the combined loss only."),
    ("image_to_text_image", "Image-to-text, image part", (2.0, 5.5e3, 0.15), (1.97, 1.5e-6, 0.16),
     (3.3e-12, 0.72), "Loss on image tokens."),
    ("image_to_text_text", "Image-to-text, text part", (0.0, 7.0e8, 0.039), None, None,
     "Loss on caption tokens; L(C) and N_opt given for the combined loss only."),
    ("video_vq", "Video VQ 16x16x16", (1.01, 3.7e4, 0.24), (0.95, 2.2e-5, 0.14), (1.13e-12, 0.71),
     "16 frames x 256 VQ codes = 4096 tokens per video."),
    ("math", "Math (extrapolate)", (0.28, 1.1e4, 0.16), (0.14, 1.4e-5, 0.17), (2.3e-12, 0.69),
     "Extrapolation test set."),
)

# resolution key, C0 (PF-days), alpha, irreducible (nats/image)
_HENIGHAN_TABLE3 = (
    ("image16x16", 1.7e10, 0.16, 2026.0),
    ("image32x32", 2.7e26, 0.10, 6806.0),
    ("image_vq16x16", 4.7e15, 0.11, 1047.0),
    ("image_vq32x32", 3.1e19, 0.12, 3246.0),
)


def _floor_formula(target: str, sym: str, E: float, x0: float, alpha: float) -> str:
    head = f"{_g(E)} + " if E else ""
    return f"{target}({sym}) = {head}({_g(x0)}/{sym})^{_g(alpha)}"


def _henighan_entries() -> list[PublishedLaw]:
    out = []
    for dom, label, ln, lc, nopt, note in _HENIGHAN_TABLE1:
        unit = f"nats/token ({label})"
        E, N0, a = ln
        out.append(PublishedLaw(
            key=f"henighan2020_{dom}_n", law="power_floor", params={"E": E, "x0": N0, "alpha": a},
            constants=({"L_inf": E} if E else {}) | {"N_0": N0, "alpha_N": a}, inputs={"N": "params"},
            law_inputs={"N": "x"},
            units={"N": _NE, "loss": unit}, target="loss", source=f"{_HENIGHAN}, Table 1 ({label}, L(N))",
            confidence="C1", formula=_floor_formula("L", "N", E, N0, a), notes=note))
        if lc is not None:
            E, C0, a = lc
            out.append(PublishedLaw(
                key=f"henighan2020_{dom}_c", law="power_floor", params={"E": E, "x0": C0, "alpha": a},
                constants=({"L_inf": E} if E else {}) | {"C_0": C0, "alpha_C": a}, inputs={"C": "pf_days"},
                law_inputs={"C": "x"}, units={"C": _PF, "loss": unit}, target="loss",
                source=f"{_HENIGHAN}, Table 1 ({label}, L(C))", confidence="C1",
                formula=_floor_formula("L", "C", E, C0, a), pf_days="C", notes=note))
        if nopt is not None:
            C0, beta = nopt
            out.append(PublishedLaw(
                key=f"henighan2020_{dom}_nopt", law="scaled_power", params={"k": C0 ** -beta, "p": beta},
                constants={"C_0": C0, "beta": beta}, inputs={"C": "pf_days"}, law_inputs={"C": "x"},
                units={"C": _PF, "n_opt": _NE}, target="n_opt", source=f"{_HENIGHAN}, Table 1 ({label}, N_opt(C))",
                confidence="C1", formula=f"N_opt(C) = (C/{_g(C0)})^{_g(beta)}", pf_days="C",
                notes=note + " Evaluated as scaled_power with k = C_0^-beta, p = beta."))
    for res, C0, a, irreducible in _HENIGHAN_TABLE3:
        out.append(PublishedLaw(
            key=f"henighan2020_{res}_per_image_c", law="power_floor", params={"E": irreducible, "x0": C0, "alpha": a},
            constants={"irreducible": irreducible, "C_0": C0, "alpha_C": a}, inputs={"C": "pf_days"},
            law_inputs={"C": "x"}, units={"C": _PF, "loss": "nats/image"}, target="loss",
            source=f"{_HENIGHAN}, Table 3 (per-image loss)", confidence="C1",
            formula=_floor_formula("L", "C", irreducible, C0, a), pf_days="C",
            notes="C_0 is the compute for 1 nat/image of reducible loss. The 8x8 row is omitted: its printed "
                  "C_0 (1.9e3) disagrees with the 1.87e4 implied by Table 1 (unconfirmed)."))
    return out


def _hernandez_entries() -> list[PublishedLaw]:
    out = []
    for key, label, k, alpha in (("text", "English text -> Python", 1.9e4, 0.18),
                                 ("mixture", "50% text + 50% non-Python code -> Python", 2.1e5, 0.096)):
        out.append(PublishedLaw(
            key=f"hernandez2021_{key}_python", law="transfer", params={"k": k, "alpha": alpha, "beta": 0.38},
            constants={"k": k, "alpha": alpha, "beta": 0.38}, inputs={"D_F": "finetune_data", "N": "params"},
            units={"D_F": "characters of Python fine-tuning data", "N": _NE,
                   "effective_data": "characters (D_T = D_E - D_F)"},
            target="effective_data", source=f"{_HERNANDEZ}, eq. 1.1 and Table 1 ({label})", confidence="C2",
            formula=f"D_T = {_g(k)} * D_F^{_g(alpha)} * N^0.38",
            notes="Valid in the low-data regime (D_F <= 10% of the data a from-scratch model needs to get within "
                  "1% of its converged loss). Effective data multiplier (D_F + D_T)/D_F. Small pre-trained models "
                  "in the high-data regime ossify (do worse than from scratch)."))
    return out


_ENTRIES: tuple[PublishedLaw, ...] = tuple(
    _hoffmann_entries() + _kaplan_entries() + _henighan_entries() + _hernandez_entries())
_BY_KEY: Mapping[str, PublishedLaw] = MappingProxyType({e.key: e for e in _ENTRIES})
assert len(_BY_KEY) == len(_ENTRIES), "duplicate published keys"


def get(key: str) -> PublishedLaw:
    """The published law with this key.

    Raises
    ------
    InvalidParameterError
        Unknown key (the message suggests close matches).

    Examples
    --------
    >>> get("besiroglu2024").params["E"]
    1.8172
    """
    if isinstance(key, str) and key in _BY_KEY:
        return _BY_KEY[key]
    close = difflib.get_close_matches(str(key), list(_BY_KEY), n=3, cutoff=0.5)
    raise InvalidParameterError(f"published.get(): unknown key {key!r}",
                                hint=(f"did you mean {', '.join(close)}? " if close else "")
                                + "list_published() lists every key")


def list_published(contains: str | None = None, *, confidence: str | None = None) -> tuple[PublishedLaw, ...]:
    """All published laws, optionally those whose key contains ``contains`` or with a given confidence.

    Examples
    --------
    >>> [e.key for e in list_published("hernandez")]
    ['hernandez2021_text_python', 'hernandez2021_mixture_python']
    """
    return tuple(e for e in _ENTRIES
                 if (contains is None or contains in e.key) and (confidence is None or e.confidence == confidence))


