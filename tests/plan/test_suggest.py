"""`suggest`: proposed runs respect the budget and shrink the target interval more than a naive ladder."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglab import plan
from scalinglab.errors import InvalidParameterError, PlanError

H = dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28)
TARGET = {"params": 7e9, "tokens": 1.4e11}


def small_ladder(seed=0, noise=0.01):
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(2e7, 2e8, 4), 3)
    D = N * np.tile([10.0, 20.0, 40.0], 4)
    L = (H["E"] + H["A"] * N ** -H["alpha"] + H["B"] * D ** -H["beta"]) * np.exp(rng.normal(0, noise, N.size))
    return pd.DataFrame({"run": [f"r{i}" for i in range(N.size)], "params": N, "tokens": D, "loss": L})


def log_ladder(budget, k=4, ratio=20.0, span=8.0):
    q = np.geomspace(1.0, span, k)
    n_top = np.sqrt(budget / (6 * ratio * np.sum(q ** 2)))
    N = n_top * q
    return pd.DataFrame({"params": N, "tokens": ratio * N})


@pytest.fixture(scope="module")
def suggestion():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plan.suggest(small_ladder(), "chinchilla", target=TARGET, budget=1e20, seed=0)


def test_suggestion_respects_budget_and_shrinks_interval(suggestion):
    s = suggestion
    assert 0 < s.spent <= 1e20 * (1 + 1e-9)
    assert np.isclose(s.runs["flops"], 6 * s.runs["params"] * s.runs["tokens"]).all()
    assert s.width_after < 0.7 * s.width_before
    assert np.all(np.diff(s.runs["width_after"]) <= 1e-12)  # each run helps
    assert len(s.runs) <= 8
    json.dumps(s.to_dict(), allow_nan=False)
    assert "Suggested next runs" in str(s.summary())


def test_suggestion_beats_log_spaced_ladder_of_same_compute(suggestion):
    s = suggestion
    # the naive ladder (4 sizes over 8x at the target's 20 tokens/parameter, whole budget) is among the designs
    # compared by simulated refits, and the proposal is the one with the smallest simulated error
    naive = s.designs[s.designs["design"] == "ladder k=4 span=8 D/N=20"]
    assert len(naive) == 1
    assert s.expected_rmse == pytest.approx(s.designs["simulated_rmse_log"].min())
    assert s.expected_rmse < float(naive["simulated_rmse_log"].iloc[0])
    # linearised check: the proposal shrinks the variance at the target relative to the existing runs
    existing = s.fit.data[["params", "tokens"]]
    v_now = plan.design_variance(s.fit, existing, TARGET)[0]
    v_new = plan.design_variance(s.fit, pd.concat([existing, s.runs[["params", "tokens"]]]), TARGET)[0]
    assert v_new < 0.5 * v_now
    ladder = log_ladder(1e20)
    assert np.isclose((6 * ladder["params"] * ladder["tokens"]).sum(), 1e20)
    assert ladder["params"].to_numpy() == pytest.approx(
        np.geomspace(1, 8, 4) * float(naive["largest_params"].iloc[0]) / 8, rel=1e-6)


def test_batched_refit_recovers_truth_without_noise():
    import scalinglab as sl
    from scalinglab.plan._suggest import _simulated_errors

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = sl.fit(small_ladder(noise=0.0), "chinchilla")
    existing = f.data[["params", "tokens"]]
    theta = np.array([[f.params[p] for p in f.problem().names]])
    rmse = _simulated_errors(f, existing, [log_ladder(1e20)], TARGET, theta, 1e-9, 4, 0,
                             {"N": "params", "D": "tokens"})
    assert rmse[0] < 1e-4


def test_user_candidates_and_errors():
    runs = small_ladder()
    cand = pd.DataFrame({"params": [1e8, 3e8, 1e9], "tokens": [2e9, 6e9, 2e10]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = plan.suggest(runs, target=TARGET, budget=2e20, candidates=cand, n_draws=1, n_sims=8)
        assert set(map(float, s.runs["params"])) <= {1e8, 3e8, 1e9}
        with pytest.raises(PlanError, match="budget"):
            plan.suggest(runs, target=TARGET, budget=1e10, n_draws=1)
        with pytest.raises(InvalidParameterError, match="target"):
            plan.suggest(runs, target={"params": 7e9}, budget=1e20, n_draws=1)
        with pytest.raises(InvalidParameterError, match="budget"):
            plan.suggest(runs, target=TARGET, budget=-1.0)
