"""One meaning of "auto", one bootstrap threshold, one refit, and one rule for what predict returns."""

from __future__ import annotations

import doctest
import importlib
import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglab.errors import InvalidParameterError
from scalinglab.fit import MIN_RUNS_FOR_BOOTSTRAP, fit, refit, resolve_method
from scalinglab.fit._calibration import extrapolation_error


def _runs(n_runs: int, ckpts: int = 1, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(1e6, 1e9, n_runs), ckpts)
    D = np.tile(np.geomspace(1e9, 1e10, ckpts), n_runs) * (1 + np.arange(N.size) % 3)
    loss = (1.7 + 400 / N**0.34 + 410 / D**0.28) * np.exp(rng.normal(0, 0.003, N.size))
    return pd.DataFrame(
        {"run": np.repeat([f"r{i}" for i in range(n_runs)], ckpts), "params": N, "tokens": D, "loss": loss}
    )


def _fit(df, law="chinchilla"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(df, law)


@pytest.fixture(scope="module")
def many():
    return _fit(_runs(8, ckpts=3))


@pytest.fixture(scope="module")
def few():
    return _fit(_runs(MIN_RUNS_FOR_BOOTSTRAP - 1, ckpts=4), law="power_law")


def test_auto_means_the_most_honest_method_the_data_supports(many, few):
    assert MIN_RUNS_FOR_BOOTSTRAP == 5
    assert resolve_method("auto", many, "parameters") == "bootstrap"
    assert resolve_method("auto", few, "parameters") == "delta"  # 4 runs, 16 rows: rows do not count
    assert resolve_method("auto", many, "prediction") == "calibrated"
    assert resolve_method("auto", few, "prediction") == "calibrated"
    for m in ("delta", "bootstrap"):
        assert resolve_method(m, many, "parameters") == m
    assert resolve_method("calibrated", many, "prediction") == "calibrated"
    with pytest.raises(InvalidParameterError):
        resolve_method("calibrated", many, "parameters")
    with pytest.raises(InvalidParameterError):
        resolve_method("auto", many, "weather")


def test_auto_is_accepted_where_methods_are(many, few):
    ci = many.conf_int(0.9, method="auto", n_resamples=50)
    assert set(ci["method"]) == {"bootstrap"}
    assert set(few.conf_int(0.9, method="auto")["method"]) == {"delta"}
    auto = many.predict(params=3e9, tokens=3e10, interval=0.9, kind="new", method="auto", warn=False)
    cal = many.predict(params=3e9, tokens=3e10, interval=0.9, kind="new", method="calibrated", warn=False)
    pd.testing.assert_frame_equal(auto, cal)


def test_summary_auto_follows_the_threshold(many, few):
    assert "run bootstrap" in many.summary().title
    assert "delta method" in few.summary().title


def test_predict_returns_an_ndarray_without_interval_and_a_frame_with_one(many):
    scalar = many.predict(params=1e9, tokens=2e10, warn=False)
    assert isinstance(scalar, np.ndarray) and scalar.shape == ()
    vector = many.predict(params=[1e9, 2e9, 4e9], tokens=2e10, warn=False)
    assert isinstance(vector, np.ndarray) and vector.shape == (3,)
    frame = many.predict(pd.DataFrame({"params": [1e9, 2e9], "tokens": [2e10, 4e10]}), warn=False)
    assert isinstance(frame, np.ndarray) and frame.shape == (2,)
    with_iv = many.predict(params=1e9, tokens=2e10, interval=0.9, warn=False)
    assert isinstance(with_iv, pd.DataFrame) and len(with_iv) == 1
    assert list(with_iv.columns) == ["estimate", "lower", "upper", "level", "kind", "method"]
    assert with_iv["estimate"][0] == pytest.approx(float(scalar))


def test_refit_is_fit_with_the_same_options():
    df = _runs(8, ckpts=2, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = fit(
            df, "chinchilla", loss="squared", delta=2e-3, n_starts=4, fixed={"E": 1.7}, bounds={"beta": (0.1, 1)}
        )
        small = df[df["params"] < 2e8]
        again = fit(
            small, "chinchilla", loss="squared", delta=2e-3, n_starts=4, fixed={"E": 1.7}, bounds={"beta": (0.1, 1)}
        )
    sol = refit(full, small)
    assert sol.params == again.params and sol.objective == again.objective
    # reweighting the fitted rows: weight 0 holds rows out
    same = refit(full)
    assert same.params == pytest.approx(full.params, rel=1e-9)
    w = (full.data["params"] < 2e8).to_numpy(float)
    held = refit(full, weights=w)
    assert held.params["alpha"] == pytest.approx(again.params["alpha"], rel=1e-3)
    with pytest.raises(InvalidParameterError):
        refit(full, small, weights=np.ones(len(small)))


def test_calibration_uses_refit(many):
    ext = extrapolation_error(many)
    assert ext is not None and ext.n_holdouts >= 1
    first = ext.holdouts.iloc[0]
    data = many.data
    sizes = np.sort(data["params"].unique())
    train = data[data["params"] < sizes[-1]]
    sol = refit(many, train)
    test = data[data["params"] == sizes[-1]]
    err = np.log(test["loss"].to_numpy()) - np.log(
        many.law.evaluate({"N": test["params"].to_numpy(), "D": test["tokens"].to_numpy()}, sol.params)
    )
    assert first["rms_log_error"] == pytest.approx(float(np.sqrt(np.mean(err**2))), rel=1e-12)


@pytest.mark.parametrize("name", ["scalinglab.fit._engine", "scalinglab.fit._result", "scalinglab.fit._uncertainty"])
def test_docstring_examples(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(
            importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
    assert result.failed == 0 and result.attempted > 0
