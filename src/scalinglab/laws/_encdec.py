"""Encoder/decoder NMT law (Ghorbani et al. 2021) and its optimal encoder/decoder split."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scalinglab.laws._registry import Param, law

__all__ = ["nmt_encdec", "optimal_split", "optimal_encoder_fraction"]


def optimal_split(params: Mapping[str, np.ndarray]) -> np.ndarray:
    """Loss-minimising N_e/N_d for a fixed total N_e + N_d: pe/pd.

    Minimising Ne^-pe Nd^-pd at Ne + Nd = N sets pe/Ne = pd/Nd (Ghorbani et al. 2021, Sec. 4).

    Examples
    --------
    >>> float(optimal_split({"pe": 0.5, "pd": 0.25}))
    2.0
    """
    return np.asarray(params["pe"], dtype=float) / np.asarray(params["pd"], dtype=float)


def optimal_encoder_fraction(params: Mapping[str, np.ndarray]) -> np.ndarray:
    """Share of a fixed parameter total best given to the encoder: N_e/(N_e + N_d) = pe/(pe + pd).

    Examples
    --------
    >>> float(optimal_encoder_fraction({"pe": 0.3, "pd": 0.2}))
    0.6
    """
    pe, pd = (np.asarray(params[p], dtype=float) for p in ("pe", "pd"))
    return pe / (pe + pd)


@law(
    name="nmt_encdec",
    inputs={"Ne": "encoder_params", "Nd": "decoder_params"},
    params={
        "L_inf": Param(0, np.inf, description="irreducible loss"),
        "A": Param(0, np.inf, description="scale (alpha * Ne_bar^pe * Nd_bar^pd in the paper)"),
        "pe": Param(0, 3, grid=(0.05, 0.15, 0.3, 0.6, 1.0), description="encoder exponent"),
        "pd": Param(0, 3, grid=(0.05, 0.15, 0.3, 0.6, 1.0), description="decoder exponent"),
    },
    linear=("L_inf", "A"),
    formula="L = L_inf + A * Ne^-pe * Nd^-pd",
    reference="Ghorbani et al. 2021, arXiv:2109.07740 (eq. 2)",
    derived={"optimal_split": optimal_split, "optimal_encoder_fraction": optimal_encoder_fraction},
)
def nmt_encdec(Ne, Nd, L_inf, A, pe, pd):
    """Encoder/decoder NMT law, L = alpha (Ne_bar/Ne)^pe (Nd_bar/Nd)^pd + L_inf (Ghorbani et al. 2021).

    The paper's alpha, Ne_bar and Nd_bar are not separately identifiable; they
    collapse to A = alpha * Ne_bar^pe * Nd_bar^pd.  Derived quantities:
    ``optimal_split`` (N_e/N_d = pe/pd at a fixed total) and ``optimal_encoder_fraction``.

    Examples
    --------
    >>> from scalinglab.laws import get_law
    >>> float(get_law("nmt_encdec").derive("optimal_encoder_fraction", pe=0.3, pd=0.2))
    0.6
    """
    return L_inf + A * Ne ** (-pe) * Nd ** (-pd)
