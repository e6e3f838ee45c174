"""Uncertainty: batched run bootstrap, prediction intervals (mean vs new run), parameter draws."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest

import scalinglab as sl
from scalinglab.errors import FitError, InvalidParameterError
from scalinglab.fit._uncertainty import (
    BootstrapResult,
    bootstrap,
    parameter_intervals,
    prediction_interval,
    resample_weights,
    sample_params,
)

TRUE = {"A": 50.0, "alpha": 0.3}


def _clustered(rng, runs=20, ckpts=3, sd_run=0.04, sd_point=0.01):
    """power_law data where every run has its own offset (seed effect) shared by its checkpoints."""
    x = np.repeat(np.geomspace(1e6, 1e9, runs), ckpts)
    run = np.repeat(np.arange(runs), ckpts)
    y = TRUE["A"] * x ** -TRUE["alpha"] * np.exp(rng.normal(0, sd_run, runs)[run] + rng.normal(0, sd_point, x.size))
    return pd.DataFrame(
        {"run": [f"r{i}" for i in run], "params": x, "tokens": np.tile(np.arange(1, ckpts + 1) * 1e9, runs), "loss": y}
    )


def _fit(df, law="power_law", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.fit(df, law, **kw)


@pytest.fixture(scope="module")
def chin_fit():
    rng = np.random.default_rng(3)
    rows = []
    for i, N in enumerate(np.geomspace(1e7, 1e9, 8)):
        off = rng.normal(0, 0.01)
        for D in np.geomspace(2e8, 4e10, 6):
            rows.append(
                {
                    "run": f"m{i}",
                    "params": N,
                    "tokens": D,
                    "loss": (1.7 + 400 / N**0.34 + 410 / D**0.28) * np.exp(off + rng.normal(0, 0.003)),
                }
            )
    return _fit(pd.DataFrame(rows), "chinchilla")


def test_resample_weights_move_whole_runs():
    groups = np.array(["a", "a", "a", "b", "c", "c"])
    W = resample_weights(groups, 500, np.random.default_rng(0))
    assert W.shape == (500, 6)
    assert np.all(W[:, 0] == W[:, 1]) and np.all(W[:, 1] == W[:, 2]) and np.all(W[:, 4] == W[:, 5])
    # each resample draws 3 runs: total counts per run sum to 3
    assert np.all(W[:, 0] + W[:, 3] + W[:, 4] == 3)
    assert abs(W[:, 3].mean() - 1.0) < 0.1


def test_bootstrap_by_run_and_fallback_to_points(chin_fit):
    b = bootstrap(chin_fit, 100, seed=1)
    assert isinstance(b, BootstrapResult)
    assert b.by == "run" and b.n_units == 8 and b.n_resamples == 100
    assert b.n_ok + b.n_failed == 100 and b.n_ok >= 90
    assert list(b.draws.columns) == list(chin_fit.law.params)
    assert b.seconds > 0
    # every row its own run -> bootstrap over points
    df = chin_fit.data.copy()
    df["run"] = [f"p{i}" for i in range(len(df))]
    fp = _fit(df, "chinchilla")
    bp = bootstrap(fp, 50, seed=1)
    assert bp.by == "point" and bp.n_units == len(df)
    # run resampling is wider than point resampling when runs carry shared offsets
    assert b.stderr["E"] > bp.stderr["E"]
    text = b.summary()
    assert "Bootstrap over runs" in text and "alpha" in text
    assert b.to_dict()["n_resamples"] == 100


def test_bootstrap_is_reproducible_and_batched(chin_fit):
    a = bootstrap(chin_fit, 60, seed=7)
    b = bootstrap(chin_fit, 60, seed=7)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    c = bootstrap(chin_fit, 60, seed=8)
    assert not np.allclose(a.draws["alpha"].to_numpy()[:10], c.draws["alpha"].to_numpy()[:10])


def test_bootstrap_needs_two_runs():
    df = pd.DataFrame(
        {
            "run": "only",
            "params": 1e8,
            "tokens": np.geomspace(1e9, 1e10, 6),
            "loss": 3.0 * np.geomspace(1e9, 1e10, 6) ** -0.05,
        }
    )
    f = _fit(df, "power_law", x="tokens")
    with pytest.raises(FitError, match="at least 2"):
        bootstrap(f, 10)


def test_conf_int_bootstrap_and_delta(chin_fit):
    ci = chin_fit.conf_int(0.9, method="bootstrap", n_resamples=200)
    assert set(ci.index) == {"E", "A", "alpha", "B", "beta"}
    assert (ci["lower"] <= ci["estimate"] + 1e-9).all() and (ci["upper"] >= ci["estimate"] - 1e-9).all()
    assert (ci["method"] == "bootstrap").all()
    ci80 = parameter_intervals(chin_fit, level=0.8, method="bootstrap", n_resamples=200)
    assert ((ci80["upper"] - ci80["lower"]) <= (ci["upper"] - ci["lower"]) + 1e-12).all()
    cd = chin_fit.conf_int(0.9)
    assert (cd["method"] == "delta").all()


def test_predict_interval_mean_vs_new(chin_fit):
    pts = dict(params=np.array([2e9, 1e10]), tokens=np.array([5e10, 2e11]))
    for method in ("delta", "bootstrap"):
        m = chin_fit.predict(interval=0.9, kind="mean", method=method, warn=False, **pts)
        n = chin_fit.predict(interval=0.9, kind="new", method=method, warn=False, **pts)
        assert list(m.columns) == ["estimate", "lower", "upper", "level", "kind", "method"]
        assert (m["kind"] == "mean").all() and (n["kind"] == "new").all() and (m["method"] == method).all()
        assert np.allclose(m["estimate"], chin_fit.predict(warn=False, **pts))
        assert (m["lower"] < m["estimate"]).all() and (m["estimate"] < m["upper"]).all()
        # a new run scatters around the law: its interval is at least as wide (up to Monte Carlo noise)
        assert ((n["upper"] - n["lower"]) >= 0.99 * (m["upper"] - m["lower"])).all()
    # the interval widens with extrapolation distance
    assert (m["upper"] - m["lower"]).iloc[1] > (m["upper"] - m["lower"]).iloc[0]


def test_prediction_interval_reuses_a_bootstrap(chin_fit):
    b = bootstrap(chin_fit, 80, seed=2)
    X = {"N": np.array([1e9]), "D": np.array([1e11])}
    p1 = prediction_interval(chin_fit, X, level=0.9, method="bootstrap", bootstrap=b)
    t = time.perf_counter()
    p2 = prediction_interval(chin_fit, X, level=0.9, method="bootstrap", bootstrap=b)
    assert time.perf_counter() - t < 0.5
    pd.testing.assert_frame_equal(p1, p2)
    with pytest.raises(InvalidParameterError):
        prediction_interval(chin_fit, X, method="bootstrap", bootstrap="nope")


def test_sample_params_bootstrap_returns_n_rows(chin_fit):
    s = sample_params(chin_fit, 64, method="bootstrap", seed=4)
    assert s.shape == (64, 5) and list(s.columns) == list(chin_fit.law.params)
    assert s.attrs["method"] == "bootstrap" and s.attrs["by"] == "run"
    assert np.all(np.isfinite(s.to_numpy()))
    d = sample_params(chin_fit, 64, method="delta")
    assert d.shape == (64, 5)
    with pytest.raises(InvalidParameterError):
        sample_params(chin_fit, 10, method="jackknife")


def test_bad_options(chin_fit):
    with pytest.raises(InvalidParameterError):
        bootstrap(chin_fit, 1)
    with pytest.raises(InvalidParameterError):
        bootstrap(chin_fit, 10, by="seed")
    with pytest.raises(InvalidParameterError):
        chin_fit.predict(params=1e9, tokens=1e10, interval=1.5)


@pytest.mark.slow
def test_run_bootstrap_interval_covers_truth():
    """200 simulated datasets with run-level noise: the 90% run-bootstrap interval for the
    exponent covers the truth 80-97% of the time; a point bootstrap, which ignores that
    checkpoints of one run share its offset, under-covers."""
    rng = np.random.default_rng(0)
    n, hit_run, hit_point = 200, 0, 0
    for i in range(n):
        f = _fit(_clustered(rng), "power_law", n_starts=1, loss="squared")
        lo, hi = bootstrap(f, 200, seed=i).conf_int(0.9).loc["alpha", ["lower", "upper"]]
        hit_run += lo <= TRUE["alpha"] <= hi
        lo, hi = bootstrap(f, 200, seed=i, by="point").conf_int(0.9).loc["alpha", ["lower", "upper"]]
        hit_point += lo <= TRUE["alpha"] <= hi
    assert 0.80 <= hit_run / n <= 0.97, hit_run / n
    assert hit_point / n < hit_run / n - 0.1, (hit_point / n, hit_run / n)
