"""Mixed-modal (bimodal) scaling law with interaction terms (Aghajanyan et al. 2023)."""

from __future__ import annotations

import numpy as np

from scalinglab.laws._registry import Param, law

__all__ = ["mixed_modal", "mixed_modal_synergy"]

_EXP_GRID = tuple(np.round(np.linspace(0.02, 1.5, 38), 4))


@law(
    name="mixed_modal",
    inputs={"L_i": "loss_i", "L_j": "loss_j", "N": "params", "D_i": "tokens_i", "D_j": "tokens_j"},
    params={
        "C": Param(description="maximum synergy C_ij (> 0: joint training can beat the unimodal models)"),
        "A": Param(0, np.inf, description="competition-for-capacity scale A_ij"),
        "alpha": Param(0, 3, grid=_EXP_GRID, description="capacity-competition exponent alpha_ij"),
        "B": Param(0, np.inf, description="data/optimisation-competition scale B_ij"),
        "beta": Param(0, 3, grid=_EXP_GRID, description="data-competition exponent beta_ij"),
    },
    linear=("C", "A", "B"),
    formula="L_ij = (L_i + L_j)/2 - C + A/N^alpha + B/(D_i + D_j)^beta",
    reference="Aghajanyan et al. 2023, arXiv:2301.03728 (bimodal law with interaction terms)",
)
def mixed_modal(L_i, L_j, N, D_i, D_j, C, A, alpha, B, beta):
    """Bimodal loss from the unimodal losses plus interaction terms (Aghajanyan et al. 2023).

    L_ij(N, D_i, D_j) = [L_i(N, D_i) + L_j(N, D_j)] / 2 - C_ij + A_ij / N^alpha_ij
    + B_ij / (D_i + D_j)^beta_ij, where ``L_i`` and ``L_j`` are the unimodal
    losses of modality i and j at the same model size and per-modality tokens
    (each a Chinchilla law L_i = E_i + A_i/N^alpha_i + B_i/D_i^beta_i).

    Parametrisation (why the unimodal losses are inputs): with both unimodal
    parameter sets free, E_i, E_j and C_ij enter bimodal data only through
    (E_i + E_j)/2 - C_ij and cannot be separated.  The practical, identifiable
    route is two-stage: fit ``chinchilla`` to each modality's unimodal runs,
    evaluate L_i and L_j at the bimodal runs' (N, D_i) and (N, D_j) (or use the
    measured unimodal losses of matched runs), then fit this law to the bimodal
    losses.  The interaction part is then a Chinchilla surface with the
    constant -C in place of E, identifiable under the same conditions (several
    distinct N and total-token values).  C is unbounded (negative: no synergy).
    The exact denominators follow the reference sheet (structure [S1]); no
    constants of this law are confirmed.

    Examples
    --------
    >>> round(float(mixed_modal(L_i=2.0, L_j=3.0, N=1e9, D_i=1e10, D_j=1e10,
    ...                         C=0.3, A=100.0, alpha=0.3, B=500.0, beta=0.3)), 4)
    2.8057
    """
    return 0.5 * (L_i + L_j) - C + A * N ** (-alpha) + B * (D_i + D_j) ** (-beta)


def mixed_modal_synergy(N, D_i, D_j, *, C, A, alpha, B, beta):
    """Net synergy C_ij - A_ij/N^alpha_ij - B_ij/(D_i + D_j)^beta_ij of a bimodal model.

    Positive values mean the joint model's loss is below the mean of the two
    unimodal losses: the "competition barrier" of Aghajanyan et al. (2023) is
    crossed.  Vectorised over the inputs and parameters.

    Examples
    --------
    >>> bool(mixed_modal_synergy(1e11, 5e10, 5e10, C=0.5, A=100.0, alpha=0.3, B=500.0, beta=0.3) > 0)
    True
    """
    N, D_i, D_j = (np.asarray(v, dtype=float) for v in (N, D_i, D_j))
    return C - A * N ** (-alpha) - B * (D_i + D_j) ** (-beta)
