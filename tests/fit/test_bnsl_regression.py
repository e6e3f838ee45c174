"""Regression test: a 1-break BNSL on the 4-digit-addition curve (Caballero et al. 2022)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglab as sl


def rmsle(pred, actual):
    return float(np.sqrt(np.mean((np.log1p(pred) - np.log1p(actual)) ** 2)))


def test_bnsl_fit_extrapolates_four_digit_addition(shared_file):
    df = pd.read_csv(shared_file("bnsl-4digit-addition", "four_digit_addition_dataset_size.csv"))
    train, held = df[df["split"] == "fit"], df[df["split"] == "extrapolate"]
    data = pd.DataFrame({"examples": train["train_dataset_size"], "loss": train["test_cross_entropy"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = sl.fit(data, "bnsl", x="examples")
    pred = f.predict(examples=held["train_dataset_size"].to_numpy(), warn=False)
    # Reference fit (published-laws.md, section 11c): extrapolation RMSLE 0.0109, predictions
    # 0.7602 / 0.6375 / 0.5626 at x = 800 / 864 / 928; tolerance about 0.02 RMSLE.
    assert rmsle(pred, held["test_cross_entropy"].to_numpy()) < 0.02
    np.testing.assert_allclose(pred, [0.7602, 0.6375, 0.5626], atol=0.02)
    assert f.params["d1"] == pytest.approx(612.6, rel=0.05)
