"""Encoder/decoder NMT law (Ghorbani et al. 2021) and its optimal encoder/decoder split."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scalinglab.laws._registry import ComputeOptimum, Param, get_law, law

__all__ = [
    "nmt_encdec",
    "optimal_split",
    "optimal_encoder_fraction",
    "proportional_exponent",
    "split_allocation",
    "ENCDEC_LAW",
]


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


def proportional_exponent(params: Mapping[str, np.ndarray]) -> np.ndarray:
    """Exponent of the reducible loss along proportional scaling: L - L_inf ~ B^-(pe + pd).

    With N_e = r B and N_d = (1 - r) B for a fixed share r, A N_e^-pe N_d^-pd =
    A r^-pe (1 - r)^-pd B^-(pe + pd) (Ghorbani et al. 2021, Sec. 4).

    Examples
    --------
    >>> float(proportional_exponent({"pe": 0.25, "pd": 0.5}))
    0.75
    """
    return np.asarray(params["pe"], dtype=float) + np.asarray(params["pd"], dtype=float)


def split_allocation(params: Mapping[str, np.ndarray], budget: np.ndarray, k: float = 1.0) -> ComputeOptimum:
    """Loss-minimising (N_e, N_d) for a total parameter budget N_e + N_d = B (``k`` unused).

    The law's inputs are the two parts of the parameter count, so its allocation splits a
    parameter total rather than compute: N_e* = B pe/(pe + pd), N_d* = B pd/(pe + pd).  The
    returned :class:`ComputeOptimum` holds the first input (N_e) in ``params`` and the second
    (N_d) in ``tokens``; both grow linearly with B (``exponent`` 1).

    Examples
    --------
    >>> opt = split_allocation({"pe": np.array(0.3), "pd": np.array(0.2)}, np.array(1e9))
    >>> float(opt.params), float(opt.tokens)
    (600000000.0, 400000000.0)
    """
    B = np.asarray(budget, dtype=float)
    share = optimal_encoder_fraction(params)
    ok = np.isfinite(share) & (share > 0) & (share < 1) & (B > 0)
    return ComputeOptimum(share * B, (1.0 - share) * B, ok, np.ones(np.broadcast(share, B).shape))


def _jacobian(Ne, Nd, L_inf, A, pe, pd):
    """Value and analytic derivatives of the law in its parameters (for the fitter)."""
    red = Ne ** (-pe) * Nd ** (-pd)
    term = A * red
    return L_inf + term, {"L_inf": 1.0, "A": red, "pe": -term * np.log(Ne), "pd": -term * np.log(Nd)}


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
    derived={
        "optimal_split": optimal_split,
        "optimal_encoder_fraction": optimal_encoder_fraction,
        "proportional_exponent": proportional_exponent,
    },
    allocation=split_allocation,
    allocation_reference="Ghorbani et al. 2021: N_e/N_d = pe/pd at a fixed N_e + N_d",
    floor="L_inf",
    jacobian=_jacobian,
)
def nmt_encdec(Ne, Nd, L_inf, A, pe, pd):
    """Encoder/decoder NMT law, L = alpha (Ne_bar/Ne)^pe (Nd_bar/Nd)^pd + L_inf (Ghorbani et al. 2021).

    The paper's alpha, Ne_bar and Nd_bar are not separately identifiable; they
    collapse to A = alpha * Ne_bar^pe * Nd_bar^pd.  Derived quantities:
    ``optimal_split`` (N_e/N_d = pe/pd at a fixed total), ``optimal_encoder_fraction`` and
    ``proportional_exponent`` (pe + pd); its allocation hook splits a parameter total
    (``scalinglab plan FIT --params B``).

    Examples
    --------
    >>> from scalinglab.laws import get_law
    >>> float(get_law("nmt_encdec").derive("optimal_encoder_fraction", pe=0.3, pd=0.2))
    0.6
    """
    return L_inf + A * Ne ** (-pe) * Nd ** (-pd)


#: the registered encoder/decoder law (what :mod:`scalinglab.analyze.encdec` fits)
ENCDEC_LAW = get_law("nmt_encdec")
