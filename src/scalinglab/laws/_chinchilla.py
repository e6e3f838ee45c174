"""Two-variable laws in model size N and data D."""

from __future__ import annotations

import numpy as np

from scalinglab.laws._registry import Param, law

_EXP_GRID = tuple(np.round(np.linspace(0.02, 1.5, 38), 4))


@law(
    name="chinchilla",
    inputs={"N": "params", "D": "tokens"},
    params={"E": Param(0, np.inf, description="irreducible loss"),
            "A": Param(0, np.inf, description="model-size scale"),
            "alpha": Param(0, 3, grid=_EXP_GRID, description="model-size exponent"),
            "B": Param(0, np.inf, description="data scale"),
            "beta": Param(0, 3, grid=_EXP_GRID, description="data exponent")},
    linear=("E", "A", "B"),
    formula="L = E + A/N^alpha + B/D^beta",
    reference="Hoffmann et al. 2022, arXiv:2203.15556 (eq. 2, approach 3)",
)
def chinchilla(N, D, E, A, alpha, B, beta):
    """Chinchilla parametric loss: L = E + A / N**alpha + B / D**beta.

    N is total parameters, D training tokens, L nats/token.  E, A and B enter
    linearly and are solved exactly for each (alpha, beta) during the search.
    """
    return E + A * N ** (-alpha) + B * D ** (-beta)


def _scale_grid(inputs, y):
    return 10.0 ** np.arange(6.0, 17.0, 1.5)


@law(
    name="kaplan",
    inputs={"N": "params", "D": "tokens"},
    params={"Nc": Param(0, np.inf, grid=_scale_grid, log=True, description="model-size scale"),
            "alpha_N": Param(1e-4, 2, grid=(0.03, 0.08, 0.2, 0.5), description="model-size exponent"),
            "Dc": Param(0, np.inf, grid=_scale_grid, log=True, description="data scale"),
            "alpha_D": Param(1e-4, 2, grid=(0.03, 0.1, 0.25, 0.6), description="data exponent")},
    formula="L = [(Nc/N)^(alpha_N/alpha_D) + Dc/D]^alpha_D",
    reference="Kaplan et al. 2020, arXiv:2001.08361 (eq. 1.5)",
)
def kaplan(N, D, Nc, alpha_N, Dc, alpha_D):
    """Kaplan et al. (2020) eq. 1.5: L(N, D) = [(Nc/N)^(alpha_N/alpha_D) + Dc/D]^alpha_D.

    N is non-embedding parameters, D tokens; no irreducible term.
    """
    return ((Nc / N) ** (alpha_N / alpha_D) + Dc / D) ** alpha_D


@law(
    name="nmt_encdec",
    inputs={"Ne": "encoder_params", "Nd": "decoder_params"},
    params={"L_inf": Param(0, np.inf, description="irreducible loss"),
            "A": Param(0, np.inf, description="scale (alpha * Ne_bar^pe * Nd_bar^pd in the paper)"),
            "pe": Param(0, 3, grid=(0.05, 0.15, 0.3, 0.6, 1.0), description="encoder exponent"),
            "pd": Param(0, 3, grid=(0.05, 0.15, 0.3, 0.6, 1.0), description="decoder exponent")},
    linear=("L_inf", "A"),
    formula="L = L_inf + A * Ne^-pe * Nd^-pd",
    reference="Ghorbani et al. 2021, arXiv:2109.07740 (eq. 2)",
)
def nmt_encdec(Ne, Nd, L_inf, A, pe, pd):
    """Encoder/decoder NMT law, L = alpha (Ne_bar/Ne)^pe (Nd_bar/Nd)^pd + L_inf (Ghorbani et al. 2021).

    The paper's alpha, Ne_bar and Nd_bar are not separately identifiable; they
    collapse to A = alpha * Ne_bar^pe * Nd_bar^pd.
    """
    return L_inf + A * Ne ** (-pe) * Nd ** (-pd)


@law(
    name="transfer",
    inputs={"D_F": "finetune_data", "N": "params"},
    params={"k": Param(0, np.inf, description="scale"),
            "alpha": Param(0, 2, grid=(0.05, 0.1, 0.2, 0.4, 0.8), description="fine-tuning data exponent"),
            "beta": Param(0, 2, grid=(0.1, 0.2, 0.4, 0.8), description="model-size exponent")},
    linear=("k",),
    formula="D_T = k * D_F^alpha * N^beta",
    reference="Hernandez et al. 2021, arXiv:2102.01293 (eq. 1.1)",
    target="effective_data",
)
def transfer(D_F, N, k, alpha, beta):
    """Effective data transferred by pre-training (Hernandez et al. 2021): D_T = k D_F^alpha N^beta.

    D_F is fine-tuning data in characters, N non-embedding parameters.
    """
    return k * D_F ** alpha * N ** beta
