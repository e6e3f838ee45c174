"""Calibrated intervals: the law's extrapolation error measured by nested backtests."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import scalinglab as sl
from scalinglab.fit._calibration import extrapolation_error


def _runs(loss_fn, seed=0, noise=0.003):
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(1e7, 3e9, 9), 4)
    D = np.tile(np.geomspace(2e9, 2e11, 4), 9)
    L = loss_fn(N, D) * np.exp(rng.normal(0, noise, N.size))
    return pd.DataFrame({"run": [f"r{i}" for i in range(N.size)], "params": N, "tokens": D, "loss": L})


def chinchilla(N, D):
    return 1.7 + 400 / N**0.34 + 400 / D**0.28


def bent(N, D):
    # The N-term bends (its local exponent grows with N): a Chinchilla fit drifts when extrapolating.
    return 1.7 + 400 / N**0.34 * np.exp(-0.06 * np.log10(N / 1e7) ** 2) + 400 / D**0.28


def _fit(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.fit(df, "chinchilla")


def test_correct_law_has_little_drift():
    err = extrapolation_error(_fit(_runs(chinchilla)))
    assert err is not None and err.n_holdouts == 3
    assert err.sigma_per_decade < 0.01  # noise only (0.4% per decade for this seed)


def test_misspecified_law_is_caught_and_intervals_cover():
    df = _runs(bent)
    f = _fit(df)
    err = extrapolation_error(f)
    assert err.sigma_per_decade > extrapolation_error(_fit(_runs(chinchilla))).sigma_per_decade
    target = {"params": np.array([3e10, 1e11]), "tokens": np.array([2e11, 2e11])}
    truth = bent(target["params"], target["tokens"])
    boot = f.predict(target, interval=0.9, kind="new", method="bootstrap", warn=False)
    cal = f.predict(target, interval=0.9, kind="new", method="calibrated", warn=False)
    assert (cal["method"] == "calibrated").all()
    assert np.all(cal["upper"] - cal["lower"] > boot["upper"] - boot["lower"])
    assert np.all((cal["lower"] <= truth) & (truth <= cal["upper"]))
    assert not np.all((boot["lower"] <= truth) & (truth <= boot["upper"]))  # parameter noise alone misses
    # inside the fitted range nothing is added
    inside = f.predict(params=1e8, tokens=2e10, interval=0.9, kind="new", method="calibrated", warn=False)
    assert inside["extrapolation_sd"].iloc[0] == 0.0


def test_too_few_sizes_falls_back_and_says_so():
    df = _runs(chinchilla)
    df = df[df["params"] <= df["params"].unique()[2]]  # three sizes: nothing left to hold out
    f = _fit(df)
    assert extrapolation_error(f) is None
    iv = f.predict(params=1e9, tokens=1e10, interval=0.9, kind="new", method="calibrated", warn=False)
    assert "too few sizes" in iv["method"].iloc[0]
