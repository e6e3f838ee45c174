"""Per-point losses for the fitter, as pure elementwise functions.

Each loss provides ``rho`` (the loss), ``psi`` (its derivative), ``weight``
(the IRLS weight psi(r)/r, a majoriser of the curvature) and ``curvature`` (the
exact second derivative rho'', used for Gauss-Newton steps).  The objective the
fitter minimises is ``sum_i c_i rho(r_i)`` with ``c_i`` the point weights:
summed, not averaged, since averaging makes quasi-Newton methods stop early
(Besiroglu et al. 2024, arXiv:2404.10102).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Loss", "huber", "squared", "get_loss"]


@dataclass(frozen=True)
class Loss:
    name: str
    delta: float
    rho: Callable[[np.ndarray], np.ndarray]
    psi: Callable[[np.ndarray], np.ndarray]
    weight: Callable[[np.ndarray], np.ndarray]
    #: exact second derivative rho''(r) (Gauss-Newton curvature); ``None``: use ``weight``
    curvature: Callable[[np.ndarray], np.ndarray] | None = None


def huber(delta: float = 1e-3) -> Loss:
    """Huber loss: r^2/2 for |r| <= delta, delta (|r| - delta/2) beyond.

    Used on log residuals by Hoffmann et al. 2022 with delta = 1e-3.

    Examples
    --------
    >>> h = huber(1.0)
    >>> h.rho(np.array([0.5, 3.0])).tolist()
    [0.125, 2.5]
    """
    d = float(delta)

    def rho(r):
        a = np.abs(r)
        m = np.minimum(a, d)
        return m * (a - 0.5 * m)  # a^2/2 inside, d (a - d/2) outside

    def psi(r):
        return np.clip(r, -d, d)

    def weight(r):
        return d / np.maximum(np.abs(r), d)

    def curvature(r):
        return (np.abs(r) <= d).astype(float)

    return Loss("huber", d, rho, psi, weight, curvature)


def squared() -> Loss:
    """Squared loss r^2/2 (ordinary least squares)."""
    return Loss(
        "squared", np.inf, lambda r: 0.5 * r * r, lambda r: r, lambda r: np.ones_like(r), lambda r: np.ones_like(r)
    )


def get_loss(name: str, delta: float) -> Loss:
    if name == "huber":
        return huber(delta)
    if name == "squared":
        return squared()
    raise ValueError(name)
