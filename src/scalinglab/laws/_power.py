"""Single-variable power laws (in N, D or C; the fitter's ``x=`` picks the column) and Henighan et al.'s constants."""

from __future__ import annotations

import numpy as np

from scalinglab.laws._published import NON_EMBEDDING, PF_DAYS, PublishedLaw, fmt_constant
from scalinglab.laws._registry import Param, law

__all__ = ["power_law", "power_floor", "PUBLISHED", "HENIGHAN_TOKENS_PER_EXAMPLE"]

_EXPONENTS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)


def _x0_grid(inputs, y):
    x = np.concatenate([np.ravel(v) for v in inputs.values()])
    lo, hi = np.log10(x.min()), np.log10(x.max())
    return 10.0 ** np.linspace(lo - 12, hi + 12, 13)


@law(
    name="power_law",
    inputs={"x": "params"},
    params={"A": Param(0, np.inf, description="scale"), "alpha": Param(0, 5, grid=_EXPONENTS, description="exponent")},
    linear=("A",),
    formula="L = A * x^-alpha",
    reference="Kaplan et al. 2020, arXiv:2001.08361 (eqs. 1.1-1.3)",
    params_convention="non-embedding",
    aliases=("M1",),
)
def power_law(x, A, alpha):
    """Pure power law: L = A * x^-alpha.

    The single-variable laws of Kaplan et al. (2020) are L = (x_c/x)^alpha, i.e.
    ``A = x_c**alpha``.  Identical to estimator M1 of Alabdulmohsin et al. (2022).
    """
    return A * x ** (-alpha)


@law(
    name="power_floor",
    inputs={"x": "params"},
    params={
        "E": Param(0, np.inf, description="irreducible loss L_inf"),
        "x0": Param(0, np.inf, grid=_x0_grid, log=True, description="scale of x"),
        "alpha": Param(0, 5, grid=_EXPONENTS, description="exponent"),
    },
    linear=("E",),
    floor="E",
    formula="L = E + (x0/x)^alpha",
    reference="Henighan et al. 2020, arXiv:2010.14701 (eq. 1.1)",
    params_convention="non-embedding",
)
def power_floor(x, E, x0, alpha):
    """Power law with an irreducible floor: L = E + (x0/x)^alpha (Henighan et al. 2020)."""
    return E + (x0 / x) ** alpha


# ------------------------------------------------------------------------------ published constants

_HENIGHAN = "Henighan et al. 2020, arXiv:2010.14701"


# domain key, label, L(N) (L_inf, N0, alpha), L(C) (L_inf, C0, alpha), N_opt (C0, beta), tokens note
_HENIGHAN_TABLE1 = (
    (
        "language",
        "Language",
        (0.0, 1.47e14, 0.070),
        (0.0, 3.47e8, 0.048),
        (3.3e-13, 0.73),
        "No irreducible loss could be estimated; L(C) is GPT-3's 2.57 C^-0.048; N_opt row taken from Kaplan.",
    ),
    (
        "image8x8",
        "Image 8x8",
        (3.12, 8.0e1, 0.24),
        (3.13, 1.8e-8, 0.19),
        (5.3e-14, 0.64),
        "192 tokens (3 x 8 x 8 pixel values) per image.",
    ),
    ("image16x16", "Image 16x16", (2.64, 2.8e2, 0.22), (2.64, 1.6e-8, 0.16), (4.8e-12, 0.75), "768 tokens per image."),
    ("image32x32", "Image 32x32", (2.20, 6.3e1, 0.13), (2.21, 3.6e-9, 0.10), (1.6e-13, 0.65), "3072 tokens per image."),
    (
        "image_vq16x16",
        "Image VQ 16x16 (64x64 px)",
        (3.99, 2.7e4, 0.13),
        (4.09, 6.1e-7, 0.11),
        (6.2e-14, 0.64),
        "256 VQ codes per image.",
    ),
    (
        "image_vq32x32",
        "Image VQ 32x32 (64x64 px)",
        (3.07, 1.9e4, 0.14),
        (3.17, 2.6e-6, 0.12),
        (9.4e-13, 0.70),
        "1024 VQ codes per image.",
    ),
    (
        "text_to_image_image",
        "Text-to-image, image part",
        (2.0, 5.1e3, 0.16),
        (1.93, 1.5e-6, 0.15),
        (9.4e-13, 0.70),
        "32x32 image + 128 caption tokens = 3200 tokens; loss on image tokens.",
    ),
    (
        "text_to_image_text",
        "Text-to-image, text part",
        (0.0, 5.6e8, 0.037),
        None,
        None,
        "Loss on caption tokens; L(C) and N_opt given for the combined loss only.",
    ),
    (
        "image_to_text_image",
        "Image-to-text, image part",
        (2.0, 5.5e3, 0.15),
        (1.97, 1.5e-6, 0.16),
        (3.3e-12, 0.72),
        "Loss on image tokens.",
    ),
    (
        "image_to_text_text",
        "Image-to-text, text part",
        (0.0, 7.0e8, 0.039),
        None,
        None,
        "Loss on caption tokens; L(C) and N_opt given for the combined loss only.",
    ),
    (
        "video_vq",
        "Video VQ 16x16x16",
        (1.01, 3.7e4, 0.24),
        (0.95, 2.2e-5, 0.14),
        (1.13e-12, 0.71),
        "16 frames x 256 VQ codes = 4096 tokens per video.",
    ),
    (
        "math",
        "Math (extrapolate)",
        (0.28, 1.1e4, 0.16),
        (0.14, 1.4e-5, 0.17),
        (2.3e-12, 0.69),
        "Extrapolation test set.",
    ),
)

#: Tokens per example of Henighan et al.'s domains (Sec. 2): 3 R^2 pixel values, VQ codes, frames x codes,
#: 32x32 image + 128 caption tokens.  Table 1 losses are per token; times this gives nats per example.
HENIGHAN_TOKENS_PER_EXAMPLE = {
    "image8x8": 192,
    "image16x16": 768,
    "image32x32": 3072,
    "image_vq16x16": 256,
    "image_vq32x32": 1024,
    "video_vq": 4096,
    "text_to_image_image": 3072,
    "image_to_text_image": 3072,
}

# resolution key, C0 (PF-days), alpha, irreducible (nats/image)
_HENIGHAN_TABLE3 = (
    ("image16x16", 1.7e10, 0.16, 2026.0),
    ("image32x32", 2.7e26, 0.10, 6806.0),
    ("image_vq16x16", 4.7e15, 0.11, 1047.0),
    ("image_vq32x32", 3.1e19, 0.12, 3246.0),
)


def _floor_formula(target: str, sym: str, E: float, x0: float, alpha: float) -> str:
    head = f"{fmt_constant(E)} + " if E else ""
    return f"{target}({sym}) = {head}({fmt_constant(x0)}/{sym})^{fmt_constant(alpha)}"


def _henighan_entries() -> tuple[PublishedLaw, ...]:
    out = []
    for dom, label, ln, lc, nopt, note in _HENIGHAN_TABLE1:
        unit = f"nats/token ({label})"
        t = HENIGHAN_TOKENS_PER_EXAMPLE.get(dom)
        what = "video" if dom.startswith("video") else "image"
        per = (
            f" Loss is per token; per {what} = {t} x per-token (L(N) floor {ln[0]:g} -> {ln[0] * t:.4g} nats/{what})."
            if t and ln[0]
            else " Loss is per token."
        )
        note = note + per
        E, N0, a = ln
        out.append(
            PublishedLaw(
                key=f"henighan2020_{dom}_n",
                law="power_floor",
                params={"E": E, "x0": N0, "alpha": a},
                constants=({"L_inf": E} if E else {}) | {"N_0": N0, "alpha_N": a},
                inputs={"N": "params"},
                law_inputs={"N": "x"},
                units={"N": NON_EMBEDDING, "loss": unit, "loss_per": "token"},
                target="loss",
                source=f"{_HENIGHAN}, Table 1 ({label}, L(N))",
                confidence="C1",
                formula=_floor_formula("L", "N", E, N0, a),
                notes=note,
            )
        )
        if lc is not None:
            E, C0, a = lc
            out.append(
                PublishedLaw(
                    key=f"henighan2020_{dom}_c",
                    law="power_floor",
                    params={"E": E, "x0": C0, "alpha": a},
                    constants=({"L_inf": E} if E else {}) | {"C_0": C0, "alpha_C": a},
                    inputs={"C": "pf_days"},
                    law_inputs={"C": "x"},
                    units={"C": PF_DAYS, "loss": unit, "loss_per": "token"},
                    target="loss",
                    source=f"{_HENIGHAN}, Table 1 ({label}, L(C))",
                    confidence="C1",
                    formula=_floor_formula("L", "C", E, C0, a),
                    pf_days="C",
                    notes=note,
                )
            )
        if nopt is not None:
            C0, beta = nopt
            out.append(
                PublishedLaw(
                    key=f"henighan2020_{dom}_nopt",
                    law="scaled_power",
                    params={"k": C0**-beta, "p": beta},
                    constants={"C_0": C0, "beta": beta},
                    inputs={"C": "pf_days"},
                    law_inputs={"C": "x"},
                    units={"C": PF_DAYS, "n_opt": NON_EMBEDDING},
                    target="n_opt",
                    source=f"{_HENIGHAN}, Table 1 ({label}, N_opt(C))",
                    confidence="C1",
                    formula=f"N_opt(C) = (C/{fmt_constant(C0)})^{fmt_constant(beta)}",
                    pf_days="C",
                    notes=note + " Evaluated as scaled_power with k = C_0^-beta, p = beta.",
                )
            )
    for res, C0, a, irreducible in _HENIGHAN_TABLE3:
        out.append(
            PublishedLaw(
                key=f"henighan2020_{res}_per_image_c",
                law="power_floor",
                params={"E": irreducible, "x0": C0, "alpha": a},
                constants={"irreducible": irreducible, "C_0": C0, "alpha_C": a},
                inputs={"C": "pf_days"},
                law_inputs={"C": "x"},
                units={"C": PF_DAYS, "loss": "nats/image", "loss_per": "image"},
                target="loss",
                source=f"{_HENIGHAN}, Table 3 (per-image loss)",
                confidence="C1",
                formula=_floor_formula("L", "C", irreducible, C0, a),
                pf_days="C",
                notes="C_0 is the compute for 1 nat/image of reducible loss. The 8x8 row is omitted: its printed "
                "C_0 (1.9e3) disagrees with the 1.87e4 implied by Table 1 (unconfirmed).",
            )
        )
    return tuple(out)


#: Henighan et al. (2020) Tables 1 and 3: L(N), L(C) and N_opt(C) per domain, per-image L(C).
PUBLISHED: tuple[PublishedLaw, ...] = _henighan_entries()
