"""Fit results: summary, predict, diagnostics, save/load round trip, user-defined laws."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglab as sl
from scalinglab.errors import DataError, ExtrapolationWarning, IdentifiabilityWarning, LawError, ParameterAtBoundWarning


@pytest.fixture
def fitted(ladder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.fit(ladder, "chinchilla")


def test_summary_lists_every_parameter_and_quality(fitted):
    text = str(fitted.summary())
    for name in ("E", "A", "alpha", "B", "beta", "RMSE(log)", "R^2", "converged", "Hoffmann"):
        assert name in text
    d = fitted.summary().as_dict()
    assert [r["param"] for r in d["params"]] == ["E", "A", "alpha", "B", "beta"]
    assert "<table" in fitted._repr_html_()


def test_predict_accepts_keywords_and_frames(fitted):
    by_kw = fitted.predict(params=[1e9, 2e9], tokens=[2e10, 4e10])
    by_df = fitted.predict(pd.DataFrame({"params": [1e9, 2e9], "tokens": [2e10, 4e10]}))
    by_symbol = fitted.predict(N=[1e9, 2e9], D=[2e10, 4e10])
    np.testing.assert_allclose(by_kw, by_df)
    np.testing.assert_allclose(by_kw, by_symbol)
    p = fitted.params
    expected = p["E"] + p["A"] / 1e9 ** p["alpha"] + p["B"] / 2e10 ** p["beta"]
    assert by_kw[0] == pytest.approx(expected)


def test_predict_interval_brackets_estimate(fitted):
    mean = fitted.predict(params=1e10, tokens=1e12, interval=0.9)
    new = fitted.predict(params=1e10, tokens=1e12, interval=0.9, kind="new")
    assert list(mean.columns[:3]) == ["estimate", "lower", "upper"]
    assert mean["lower"][0] < mean["estimate"][0] < mean["upper"][0]
    assert new["upper"][0] - new["lower"][0] > mean["upper"][0] - mean["lower"][0]


def test_predict_missing_input_is_clear(fitted):
    with pytest.raises(LawError, match="needs 'tokens'"):
        fitted.predict(params=1e9)


def test_extrapolation_warning(fitted):
    with pytest.warns(ExtrapolationWarning, match="decades beyond"):
        fitted.predict(params=1e14, tokens=1e12)


def test_save_load_round_trip_is_exact(fitted, tmp_path):
    path = fitted.save(tmp_path / "fit.json")
    loaded = sl.load_fit(path)
    assert loaded.to_dict() == fitted.to_dict()
    assert loaded.params == fitted.params
    np.testing.assert_array_equal(loaded.predict(params=3e9, tokens=5e10), fitted.predict(params=3e9, tokens=5e10))
    payload = json.loads(path.read_text())
    assert payload["format"] == "scalinglab.fit/1" and payload["data_fingerprint"] and payload["scalinglab_version"]


def test_too_few_points_for_the_law():
    df = pd.DataFrame({"params": [1e7, 1e8, 1e9, 1e10], "tokens": [1e9] * 4, "loss": [3.0, 2.8, 2.6, 2.5]})
    with pytest.raises(DataError, match="5 free parameters but only 4"):
        sl.fit(df, "chinchilla")


def test_few_distinct_values_are_flagged():
    N = np.repeat([1e8, 1e9], 6)
    D = np.tile(np.geomspace(1e9, 1e11, 6), 2)
    L = 1.7 + 400 / N**0.34 + 400 / D**0.28
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = sl.fit(pd.DataFrame({"params": N, "tokens": D, "loss": L}), "chinchilla")
    assert any(issubclass(w.category, IdentifiabilityWarning) and "only 2 distinct" in str(w.message) for w in caught)
    assert "few-distinct-values" in [d.kind for d in f.diagnostics]


def test_parameter_at_bound_is_flagged():
    x = np.geomspace(1e6, 1e9, 12)
    y = 3.0 * x**-0.05  # no floor: E goes to its lower bound 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = sl.fit(pd.DataFrame({"params": x, "loss": y}), "power_floor")
    assert any(
        issubclass(w.category, ParameterAtBoundWarning) and "'E' is at its lower bound" in str(w.message)
        for w in caught
    )
    assert "at-bound" in [d.kind for d in f.diagnostics]


def test_inseparable_exponents_are_flagged():
    # One decade of N and D moving together: alpha and beta cannot be told apart.
    rng = np.random.default_rng(0)
    N = np.geomspace(1e8, 1e9, 15)
    D = 20 * N
    L = (1.7 + 400 / N**0.34 + 400 / D**0.28) * np.exp(rng.normal(0, 0.002, N.size))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = sl.fit(pd.DataFrame({"params": N, "tokens": D, "loss": L}), "chinchilla")
    kinds = {d.kind for d in f.diagnostics}
    assert kinds & {"correlated-parameters", "singular-curvature", "at-bound"}
    assert caught


def test_user_defined_law_from_a_function():
    law = sl.define_law(
        lambda x, E, A, alpha: E + A * x**-alpha,
        name="my_floor",
        inputs={"x": "tokens"},
        params={"E": sl.Param(0, 10), "A": sl.Param(0, np.inf), "alpha": sl.Param(0, 2, grid=(0.1, 0.3, 0.6))},
        linear=("E", "A"),
        formula="E + A x^-alpha",
    )
    x = np.geomspace(1e8, 1e11, 10)
    df = pd.DataFrame({"params": 1e6, "tokens": x, "loss": 2 + 50 * x**-0.2})
    f = sl.fit(df, law)
    assert f.params["alpha"] == pytest.approx(0.2, rel=1e-5)
    with pytest.raises(LawError, match="unknown law"):
        sl.fit(df, "my_floor")  # defined, not registered


def test_bad_arguments_are_rejected(ladder):
    with pytest.raises(sl.errors.InvalidParameterError, match="'loss' must be one of"):
        sl.fit(ladder, "chinchilla", loss="l1")
    with pytest.raises(LawError, match="did you mean chinchilla"):
        sl.fit(ladder, "chinchila")
    with pytest.raises(DataError, match="needs column 'finetune_data'"):
        sl.fit(ladder, "transfer")
