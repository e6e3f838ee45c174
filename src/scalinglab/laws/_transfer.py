"""Transfer from pre-training (Hernandez et al. 2021): effective data D_T = k D_F^alpha N^beta."""

from __future__ import annotations

import numpy as np

from scalinglab.laws._published import NON_EMBEDDING, PublishedLaw, fmt_constant
from scalinglab.laws._registry import Param, law

__all__ = ["transfer", "PUBLISHED", "SCRATCH_LAW", "TEXT_TO_PYTHON"]

#: The from-scratch law Hernandez et al. invert for the effective data D_E (their eq. 6.1: Kaplan's L(N, D)).
SCRATCH_LAW = "kaplan"
#: Table 1, English text -> Python: D_T = k D_F^alpha N^beta (D_F in characters, N non-embedding).
TEXT_TO_PYTHON = {"k": 1.9e4, "alpha": 0.18, "beta": 0.38}


@law(
    name="transfer",
    inputs={"D_F": "finetune_data", "N": "params"},
    params={
        "k": Param(0, np.inf, description="scale"),
        "alpha": Param(0, 2, grid=(0.05, 0.1, 0.2, 0.4, 0.8), description="fine-tuning data exponent"),
        "beta": Param(0, 2, grid=(0.1, 0.2, 0.4, 0.8), description="model-size exponent"),
    },
    linear=("k",),
    formula="D_T = k * D_F^alpha * N^beta",
    reference="Hernandez et al. 2021, arXiv:2102.01293 (eq. 1.1)",
    params_convention="non-embedding",
    target="effective_data",
)
def transfer(D_F, N, k, alpha, beta):
    """Effective data transferred by pre-training (Hernandez et al. 2021): D_T = k D_F^alpha N^beta.

    D_F is fine-tuning data in characters, N non-embedding parameters.
    """
    return k * D_F**alpha * N**beta


# ------------------------------------------------------------------------------ published constants

_HERNANDEZ = "Hernandez et al. 2021, arXiv:2102.01293"


def _hernandez_entries() -> tuple[PublishedLaw, ...]:
    out = []
    for key, label, k, alpha in (
        ("text", "English text -> Python", 1.9e4, 0.18),
        ("mixture", "50% text + 50% non-Python code -> Python", 2.1e5, 0.096),
    ):
        out.append(
            PublishedLaw(
                key=f"hernandez2021_{key}_python",
                law="transfer",
                params={"k": k, "alpha": alpha, "beta": 0.38},
                constants={"k": k, "alpha": alpha, "beta": 0.38},
                inputs={"D_F": "finetune_data", "N": "params"},
                units={
                    "D_F": "characters of Python fine-tuning data",
                    "N": NON_EMBEDDING,
                    "effective_data": "characters (D_T = D_E - D_F)",
                },
                target="effective_data",
                source=f"{_HERNANDEZ}, eq. 1.1 and Table 1 ({label})",
                confidence="C2",
                formula=f"D_T = {fmt_constant(k)} * D_F^{fmt_constant(alpha)} * N^0.38",
                notes="Valid in the low-data regime (D_F <= 10% of the data a from-scratch model needs to get within "
                "1% of its converged loss). Effective data multiplier (D_F + D_T)/D_F. Small pre-trained models "
                "in the high-data regime ossify (do worse than from scratch).",
            )
        )
    return tuple(out)


#: Hernandez et al. (2021) Table 1: English text and text + code pre-training, transferred to Python.
PUBLISHED: tuple[PublishedLaw, ...] = _hernandez_entries()
