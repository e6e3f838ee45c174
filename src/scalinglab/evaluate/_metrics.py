"""Extrapolation scores: ARE, signed error, RMSE of log-loss, interval coverage, the best-seen baseline."""

from __future__ import annotations

import numpy as np

__all__ = ["are", "signed_error", "rmse_log", "coverage", "best_seen", "score"]


def _pair(y, y_hat) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    y_hat = np.broadcast_to(np.asarray(y_hat, dtype=float), y.shape)
    if y.size == 0:
        raise ValueError("no target points to score")
    return y, y_hat


def are(y, y_hat) -> float:
    """Absolute relative error, ``mean_i |y_i - yhat_i| / y_i`` (Choshen et al. 2024, eq. 2).

    Examples
    --------
    >>> round(are([2.0, 4.0], [2.2, 3.6]), 3)
    0.1
    """
    y, y_hat = _pair(y, y_hat)
    return float(np.mean(np.abs(y - y_hat) / np.abs(y)))


def signed_error(y, y_hat) -> float:
    """Mean signed relative error ``mean_i (yhat_i - y_i) / y_i``: > 0 means the law over-predicts the loss.

    Examples
    --------
    >>> round(signed_error([2.0, 4.0], [2.2, 3.6]), 3)
    0.0
    """
    y, y_hat = _pair(y, y_hat)
    return float(np.mean((y_hat - y) / np.abs(y)))


def rmse_log(y, y_hat) -> float:
    """RMSE of log-loss, ``sqrt(mean_i (log yhat_i - log y_i)^2)`` (Alabdulmohsin et al. 2022).

    Non-positive predictions give ``inf``.
    """
    y, y_hat = _pair(y, y_hat)
    with np.errstate(all="ignore"):
        d = np.log(y_hat) - np.log(y)
    if not np.all(np.isfinite(d)):
        return float("inf")
    return float(np.sqrt(np.mean(d**2)))


def coverage(y, lower, upper) -> float:
    """Share of targets inside ``[lower, upper]`` (``nan`` when no interval was computed)."""
    y = np.asarray(y, dtype=float)
    lower = np.broadcast_to(np.asarray(lower, dtype=float), y.shape)
    upper = np.broadcast_to(np.asarray(upper, dtype=float), y.shape)
    if y.size == 0 or not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        return float("nan")
    return float(np.mean((y >= lower) & (y <= upper)))


def best_seen(y_fit) -> float:
    """The best-loss-seen-so-far baseline: predict every target with the lowest fitted loss.

    The naive baseline of Choshen et al. 2024 (sec. 5.2): a law that does not beat
    it has not learned anything about scale.
    """
    y_fit = np.asarray(y_fit, dtype=float)
    if y_fit.size == 0:
        raise ValueError("the fit set is empty")
    return float(np.min(y_fit))


def score(y, y_hat, lower=None, upper=None) -> dict[str, float]:
    """All scores of one prediction: ``are, signed_error, rmse_log, coverage``."""
    out = {"are": are(y, y_hat), "signed_error": signed_error(y, y_hat), "rmse_log": rmse_log(y, y_hat)}
    out["coverage"] = coverage(y, lower, upper) if lower is not None and upper is not None else float("nan")
    return out
