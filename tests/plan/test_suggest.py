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
    n_top = np.sqrt(budget / (6 * ratio * np.sum(q**2)))
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
    assert np.all(np.diff(s.runs["flops"]) >= 0)  # cheapest first
    assert s.width_after < 0.8 * s.width_before
    assert s.runs["width_after"].iloc[-1] == pytest.approx(s.width_after)
    assert 0.5 < s.expected_coverage <= 1.0
    assert len(s.runs) <= 8
    json.dumps(s.to_dict(), allow_nan=False)
    assert "Suggested next runs" in str(s.summary())


def test_suggestion_is_the_best_scored_design_and_includes_the_naive_ladder(suggestion):
    s = suggestion
    # the naive ladder (4 sizes over 8x at the target's 20 tokens/parameter, whole budget) is among the designs
    # compared, and the proposal is the one with the smallest expected interval score
    naive = s.designs[s.designs["design"] == "ladder k=4 span=8 D/N=20"]
    assert len(naive) == 1
    assert s.designs["interval_score"].iloc[0] == s.designs["interval_score"].min()
    assert s.designs["interval_score"].iloc[0] <= float(naive["interval_score"].iloc[0])
    # ...and the proposed runs are that best-scored design (its size, cost and expected width)
    best = s.designs.iloc[0]
    assert len(s.runs) == best["n_runs"] and s.spent == pytest.approx(best["flops"])
    assert s.runs["params"].max() == pytest.approx(best["largest_params"])
    assert s.width_after == pytest.approx(best["expected_width"])
    ladder = log_ladder(1e20)
    assert np.isclose((6 * ladder["params"] * ladder["tokens"]).sum(), 1e20)
    assert ladder["params"].to_numpy() == pytest.approx(
        np.geomspace(1, 8, 4) * float(naive["largest_params"].iloc[0]) / 8, rel=1e-6
    )


def _chinchilla_log_jacobian(N, D):
    """Independent d log L / d (E, log A, alpha, log B, beta) at Hoffmann's constants."""
    E, A, a, B, b = H["E"], H["A"], H["alpha"], H["B"], H["beta"]
    L = E + A * N**-a + B * D**-b
    return (
        np.column_stack([np.ones_like(N), A * N**-a, -A * N**-a * np.log(N), B * D**-b, -B * D**-b * np.log(D)])
        / L[:, None]
    )


def test_design_variance_matches_independent_computation_and_is_scale_free():
    # A ~ 400 sits next to alpha ~ 0.3: the variance must not depend on how parameters are scaled
    import scalinglab as sl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = sl.fit(small_ladder(noise=0.0), "chinchilla")
    runs = pd.concat([f.data[["params", "tokens"]], log_ladder(1e20)], ignore_index=True)
    theta = np.array([[H[p] for p in f.problem().names]])
    v = plan.design_variance(f, runs, TARGET, theta=theta)[0]
    J = _chinchilla_log_jacobian(runs["params"].to_numpy(), runs["tokens"].to_numpy())
    g = _chinchilla_log_jacobian(np.array([TARGET["params"]]), np.array([TARGET["tokens"]]))[0]
    assert v == pytest.approx(g @ np.linalg.solve(J.T @ J, g), rel=1e-4)


def test_simulated_bootstrap_matches_linear_theory():
    from scalinglab.plan._suggest import _bootstrap_scores

    rng = np.random.default_rng(0)
    S, n, P = 400, 40, 3
    J = np.repeat(rng.normal(size=(1, n, P)), S, axis=0)
    g = np.repeat(np.array([[1.0, 2.0, -1.0]]), S, axis=0)
    sc = _bootstrap_scores(
        J[:, :30], [J[:, 30:], J[:, 30:31]], g, np.arange(30), sigma=0.01, level=0.9, n_resamples=200, seed=1
    )
    for k, row in zip((n, 31), sc.itertuples()):
        sd = 0.01 * np.sqrt(g[0] @ np.linalg.solve(J[0, :k].T @ J[0, :k], g[0]))
        assert row.rmse_log == pytest.approx(sd, rel=0.1)  # 400 simulations: ~4% Monte Carlo error
        assert row.expected_width == pytest.approx(np.expm1(2 * 1.6449 * sd), rel=0.15)
        assert 0.84 <= row.coverage <= 0.96
    assert sc["interval_score"].iloc[0] < sc["interval_score"].iloc[1]  # 10 more runs: a better design


def test_user_candidates_and_errors():
    runs = small_ladder()
    cand = pd.DataFrame({"params": [1e8, 3e8, 1e9], "tokens": [2e9, 6e9, 2e10]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = plan.suggest(runs, target=TARGET, budget=2e20, candidates=cand, n_draws=1, n_sims=16)
        assert set(map(float, s.runs["params"])) <= {1e8, 3e8, 1e9}
        with pytest.raises(PlanError, match="budget"):
            plan.suggest(runs, target=TARGET, budget=1e10, n_draws=1)
        with pytest.raises(InvalidParameterError, match="target"):
            plan.suggest(runs, target={"params": 7e9}, budget=1e20, n_draws=1)
        with pytest.raises(InvalidParameterError, match="budget"):
            plan.suggest(runs, target=TARGET, budget=-1.0)
