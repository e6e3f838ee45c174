"""Compute-optimal allocation, budgets, losses, inference-aware and over-trained runs.

Golden values: /work/shared/reference/published-laws.md, sections 11a, 11b and 1
(each recomputed there with numpy/scipy from the papers' constants).
"""

from __future__ import annotations

import doctest
import importlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglab import plan
from scalinglab.errors import InvalidParameterError, PlanError

HOFFMANN = ("chinchilla", dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28))
BESIROGLU = ("chinchilla", dict(E=1.8172, A=482.01, alpha=0.3478, B=2085.43, beta=0.3658))


def test_hoffmann_golden_allocation():
    a = plan.compute_optimal(HOFFMANN, [1e21, 5.76e23])
    np.testing.assert_allclose(a.params, [1.824e9, 3.219e10], rtol=5e-4)
    np.testing.assert_allclose(a.tokens, [9.136e10, 2.982e12], rtol=5e-4)
    np.testing.assert_allclose(a.tokens_per_param, [50.1, 92.6], rtol=2e-3)
    assert a.loss[0] == pytest.approx(2.3289, abs=1e-4)
    assert a.loss[1] == pytest.approx(1.9307, abs=1e-4)
    assert a.table["a"][0] == pytest.approx(0.4516, abs=1e-4)
    assert a.solver.startswith("closed form")
    assert a.method is None and "params_lower" not in a.table  # published constants: no uncertainty


def test_besiroglu_golden_allocation():
    a = plan.compute_optimal(BESIROGLU, [1e21, 5.76e23])
    np.testing.assert_allclose(a.params, [2.778e9, 7.225e10], rtol=5e-4)
    np.testing.assert_allclose(a.tokens, [5.999e10, 1.329e12], rtol=5e-4)
    np.testing.assert_allclose(a.tokens_per_param, [21.6, 18.4], rtol=3e-3)


def test_published_entries_plan_directly():
    published = pytest.importorskip("scalinglab.published")
    a = plan.compute_optimal(published.get("hoffmann2022"), 1e21)
    assert a.params[0] == pytest.approx(1.824e9, rel=5e-4)
    b = plan.compute_optimal(published.get("besiroglu2024"), 1e21)
    assert b.tokens[0] == pytest.approx(5.999e10, rel=5e-4)


def test_kaplan_and_henighan_frontiers():
    published = pytest.importorskip("scalinglab.published")
    pf = published.PF_DAY_FLOPS
    k = plan.compute_optimal(published.get("kaplan2020_frontier_n"), [pf, 1e3 * pf])
    np.testing.assert_allclose(k.params, [1.3e9, 2.013e11], rtol=5e-4)
    assert k.table["a"][0] == pytest.approx(0.73)
    # Henighan et al. 2020 Table 1, N_opt(C = 1 PF-day) per domain (reference sheet, section 1)
    golden = {
        "language": 1.293e9,
        "image8x8": 3.137e8,
        "image16x16": 3.084e8,
        "image32x32": 2.076e8,
        "image_vq16x16": 2.837e8,
        "image_vq32x32": 2.623e8,
        "text_to_image_image": 2.623e8,
        "image_to_text_image": 1.848e8,
        "video_vq": 3.036e8,
        "math": 1.073e8,
    }
    for dom, value in golden.items():
        entry = published.get(f"henighan2020_{dom}_nopt")
        assert plan.compute_optimal(entry, pf).params[0] == pytest.approx(value, rel=1e-3), dom


@pytest.mark.parametrize("model", [HOFFMANN, BESIROGLU])
def test_numeric_search_matches_closed_form(model):
    closed = plan.compute_optimal(model, [1e19, 1e23])
    numeric = plan.compute_optimal(model, [1e19, 1e23], cost=lambda N, D: 6 * N * D)
    assert numeric.solver == "numeric"
    np.testing.assert_allclose(numeric.params, closed.params, rtol=1e-4)
    np.testing.assert_allclose(numeric.loss, closed.loss, rtol=1e-8)
    np.testing.assert_allclose(numeric.table["a"], closed.table["a"], atol=1e-3)


def test_cost_constant_and_power_cost():
    # C = 8ND is the 6ND problem at compute 6C/8
    a8 = plan.compute_optimal(HOFFMANN, 1e21, cost=8.0)
    a6 = plan.compute_optimal(HOFFMANN, 1e21 * 6 / 8)
    assert a8.params[0] == pytest.approx(a6.params[0], rel=1e-10)
    # a cost growing faster in N than D pushes the optimum to smaller models
    heavy = plan.compute_optimal(HOFFMANN, 1e21, cost=plan.cost_model(6.0, p=1.1, q=1.0))
    assert heavy.solver == "numeric" and heavy.params[0] < a6.params[0] * 6 / 8 * 10


def test_fit_cost_recovers_exponents():
    rng = np.random.default_rng(1)
    N = 10 ** rng.uniform(7, 10, 60)
    D = 10 ** rng.uniform(9, 12, 60)
    C = 7.3 * N**1.02 * D * np.exp(rng.normal(0, 0.01, 60))
    cm = plan.fit_cost(pd.DataFrame({"params": N, "tokens": D, "flops": C}))
    assert cm.p == pytest.approx(1.02, abs=0.01) and cm.q == pytest.approx(1.0, abs=0.01)
    assert cm.tokens_for(1e9, cm(1e9, 2e10)) == pytest.approx(2e10, rel=1e-9)


def test_budget_for_loss_inverts_compute_optimal():
    loss = plan.compute_optimal(HOFFMANN, 3e22).loss[0]
    b = plan.budget_for_loss(HOFFMANN, loss)
    assert b.flops[0] == pytest.approx(3e22, rel=1e-6)
    assert b.params[0] == pytest.approx(plan.compute_optimal(HOFFMANN, 3e22).params[0], rel=1e-5)


def test_loss_at_golden():
    out = plan.loss_at(HOFFMANN, [1e9, 70e9, 280e9], [2e10, 1.4e12, 300e9])
    np.testing.assert_allclose(out["loss"], [2.5800, 1.9366, 1.9933], atol=1e-4)
    assert plan.loss_at(BESIROGLU, 1e9, 2e10)["loss"][0] == pytest.approx(2.5301, abs=1e-4)
    assert out["flops"][1] == pytest.approx(6 * 70e9 * 1.4e12)


def test_inference_optimal_shifts_to_smaller_longer_trained_models():
    target = plan.compute_optimal(HOFFMANN, 1e21).loss[0]
    tiny = plan.inference_optimal(HOFFMANN, 1.0, loss=target)  # nothing served: the compute-optimal run
    assert tiny.params[0] == pytest.approx(1.824e9, rel=2e-3)
    served = plan.inference_optimal(HOFFMANN, 1e13, loss=target)
    row = served.table.iloc[0]
    assert row["params"] < 0.5 * 1.824e9 and row["tokens_per_param"] > 100
    assert row["total_flops"] < row["total_flops_train_optimal"]  # serving makes the smaller model cheaper
    assert row["loss"] == pytest.approx(target)
    # lifetime budget: loss no better than the training-only optimum at the same compute
    fixed = plan.inference_optimal(HOFFMANN, 1e12, flops=1e21).table.iloc[0]
    assert fixed["total_flops"] == pytest.approx(1e21, rel=1e-6)
    assert fixed["loss"] > target


def test_overtrain():
    r = plan.overtrain(HOFFMANN, [50.08, 500, 5000], flops=1e21)
    np.testing.assert_allclose(r.table["compute_overhead"][0], 1.0, atol=1e-3)
    assert r.table["excess_loss"][0] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.diff(r.table["compute_overhead"]) > 0) and r.table["excess_loss"][2] > 0
    by_size = plan.overtrain(HOFFMANN, 20, params=7e10)
    assert by_size.tokens[0] == pytest.approx(1.4e12) and by_size.flops[0] == pytest.approx(5.88e23)


def test_kaplan_law_numeric_optimum_is_a_minimum():
    published = pytest.importorskip("scalinglab.published")
    entry = published.get("kaplan2020_nd")
    a = plan.compute_optimal(entry, 1e21)
    N, D = a.params[0], a.tokens[0]
    lw = plan.resolve_model(entry)
    for f in (0.9, 1.1):
        assert lw.evaluate(N * f, D / f)[()] > a.loss[0]


def test_given_draws_give_intervals():
    rng = np.random.default_rng(0)
    base = HOFFMANN[1]
    draws = pd.DataFrame({k: v * np.exp(rng.normal(0, 0.02, 300)) for k, v in base.items()})
    a = plan.compute_optimal(HOFFMANN, 1e21, draws=draws, interval=0.8)
    assert a.method == "given draws" and a.level == 0.8
    row = a.table.iloc[0]
    assert row["params_lower"] < row["params"] < row["params_upper"]
    assert row["a_lower"] < 0.4516 < row["a_upper"]


def test_epoch_allocation_with_interval(epoch_runs):
    import scalinglab as sl

    f = sl.fit(epoch_runs, "chinchilla")
    a = plan.compute_optimal(f, 5.76e23, n_resamples=200, seed=1)
    row = a.table.iloc[0]
    assert a.method in ("bootstrap", "delta")
    assert 6.5e10 < row["params"] < 8.0e10  # Epoch's point estimate 7.2e10
    assert row["params_lower"] < 7.2e10 < row["params_upper"]
    assert row["a"] == pytest.approx(0.513, abs=0.005)  # Epoch: a = 0.513 (bootstrap SE 0.020)
    se = (row["a_upper"] - row["a_lower"]) / (2 * 1.645)
    assert 0.008 < se < 0.04
    json.dumps(a.to_dict(), allow_nan=False)
    assert "5.7600e+23" in str(a.summary())


def test_compute_far_below_fitted_range_is_refused(ladder):
    import scalinglab as sl

    f = sl.fit(ladder, "chinchilla")
    with pytest.raises(PlanError, match="orders of magnitude below"):
        plan.compute_optimal(f, 1e12, interval=None)


def test_law_without_tokens_input_is_refused():
    with pytest.raises(PlanError, match="tokens"):
        plan.compute_optimal(("power_law", {"A": 10.0, "alpha": 0.1}), 1e21)
    with pytest.raises(PlanError, match="N"):
        plan.budget_for_loss(("power_law", {"A": 10.0, "alpha": 0.1}), 2.0)


def test_target_below_irreducible_loss_is_refused():
    with pytest.raises(PlanError, match="irreducible loss E = 1.69"):
        plan.budget_for_loss(HOFFMANN, 1.6)
    with pytest.raises(PlanError, match="irreducible"):
        plan.inference_optimal(HOFFMANN, 1e12, loss=1.69)


def test_bad_arguments():
    with pytest.raises(InvalidParameterError, match="flops"):
        plan.compute_optimal(HOFFMANN, -1.0)
    with pytest.raises(InvalidParameterError, match="interval"):
        plan.compute_optimal(HOFFMANN, 1e21, interval=1.5)
    with pytest.raises(InvalidParameterError, match="parameters"):
        plan.compute_optimal(("chinchilla", {"E": 1.0}), 1e21)
    with pytest.raises(InvalidParameterError, match="exactly one"):
        plan.overtrain(HOFFMANN, 20)
    with pytest.raises(InvalidParameterError):
        plan.compute_optimal(object(), 1e21)


@pytest.mark.parametrize("name", ["scalinglab.plan._optimal", "scalinglab.plan._cost"])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
