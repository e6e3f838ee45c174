"""Planning asks the law for its closed form and falls back to the numeric search; aliases of renamed keywords."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglab import plan
from scalinglab.errors import PlanError
from scalinglab.laws import ComputeOptimum, Param, define_law


def _ratio_penalty_allocation(P, C, k):
    """L = E + A N^-alpha + B (N/D)^beta under C = kND: with D = S/N, S = C/k,
    dL/dN = 0 gives N* = (alpha A/(2 beta B))^(1/(alpha+2 beta)) S^(beta/(alpha+2 beta))."""
    A, B, al, be = P["A"], P["B"], P["alpha"], P["beta"]
    S = C / k
    s = al + 2 * be
    N = (al * A / (2 * be * B)) ** (1 / s) * S ** (be / s)
    ok = (al > 0) & (be > 0) & (A > 0) & (B > 0)
    return ComputeOptimum(N, S / N, ok, be / s)


def _ratio_penalty(N, D, E, A, alpha, B, beta):
    """A loss with a penalty on tokens per parameter instead of on tokens: L = E + A/N^alpha + B (N/D)^beta."""
    return E + A * N ** (-alpha) + B * (N / D) ** beta


TOY = define_law(
    _ratio_penalty,
    name="ratio_penalty_toy",
    inputs={"N": "params", "D": "tokens"},
    params={
        "E": Param(0, 10),
        "A": Param(0, np.inf),
        "alpha": Param(0, 2, grid=(0.1, 0.3, 0.6)),
        "B": Param(0, np.inf),
        "beta": Param(0, 2, grid=(0.1, 0.3, 0.6)),
    },
    linear=("E", "A", "B"),
    formula="L = E + A/N^alpha + B (N/D)^beta",
    reference="toy law for the tests",
    allocation=_ratio_penalty_allocation,
    allocation_reference="toy closed form",
)
TOY_PARAMS = dict(E=1.5, A=300.0, alpha=0.3, B=0.05, beta=0.25)


def test_toy_law_closed_form_is_used_and_matches_the_numeric_search():
    budgets = [1e19, 1e21, 1e23]
    closed = plan.compute_optimal((TOY, TOY_PARAMS), budgets)
    assert closed.solver == "closed form (toy closed form)"
    numeric = plan.compute_optimal((TOY, TOY_PARAMS), budgets, cost=lambda N, D: 6 * N * D)
    assert numeric.solver == "numeric"
    np.testing.assert_allclose(closed.params, numeric.params, rtol=1e-6)
    np.testing.assert_allclose(closed.tokens, numeric.tokens, rtol=1e-6)
    np.testing.assert_allclose(closed.loss, numeric.loss, rtol=1e-10)
    np.testing.assert_allclose(closed.table["a"], 0.25 / 0.8, rtol=1e-12)
    np.testing.assert_allclose(numeric.table["a"], closed.table["a"], atol=1e-4)
    # it really is the minimum along C = 6ND
    N, D = closed.params[1], closed.tokens[1]
    for f in (0.97, 1.03):
        assert TOY(N=N * f, D=D / f, **TOY_PARAMS) > closed.loss[1]


def test_budget_and_overtrain_use_the_toy_closed_form():
    b = plan.budget_for_loss((TOY, TOY_PARAMS), plan.compute_optimal((TOY, TOY_PARAMS), 1e21).loss[0])
    assert b.flops[0] == pytest.approx(1e21, rel=1e-6) and b.solver.endswith("the closed form")
    assert plan.overtrain((TOY, TOY_PARAMS), 20, flops=1e21).solver == "closed form"


def test_law_without_closed_form_falls_back_to_numeric():
    lw = define_law(
        _ratio_penalty,
        name="ratio_penalty_numeric",
        inputs={"N": "params", "D": "tokens"},
        params=dict(TOY.params),
        linear=("E", "A", "B"),
    )
    a = plan.compute_optimal((lw, TOY_PARAMS), 1e21)
    assert a.solver == "numeric"
    assert a.params[0] == pytest.approx(plan.compute_optimal((TOY, TOY_PARAMS), 1e21).params[0], rel=1e-6)


def test_parametric_works_with_any_law_that_has_a_closed_form():
    rng = np.random.default_rng(0)
    N = np.repeat(np.geomspace(1e7, 1e9, 6), 5)
    D = N * np.tile(np.geomspace(2, 200, 5), 6)
    loss = TOY(N=N, D=D, **TOY_PARAMS) * np.exp(rng.normal(0, 1e-3, N.size))
    runs = pd.DataFrame({"run": [f"r{i}" for i in range(N.size)], "params": N, "tokens": D, "loss": loss})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fr = plan.parametric(runs, law=TOY, n_resamples=50, seed=0)
    assert fr.a == pytest.approx(0.25 / 0.8, abs=0.03)
    assert fr.b == pytest.approx(1 - fr.a)
    lo, hi = fr.interval("a")
    assert lo <= fr.a <= hi
    # the frontier is the law's own allocation at every budget
    at = fr.predict([1e19, 1e22])["params"].to_numpy()
    direct = plan.compute_optimal(fr.fit, [1e19, 1e22], interval=None).params
    np.testing.assert_allclose(at, direct, rtol=1e-9)


def test_parametric_without_closed_form_names_the_fix():
    with pytest.raises(PlanError, match="no closed-form") as info:
        plan.parametric(pd.DataFrame({"params": [1.0], "tokens": [1.0], "loss": [1.0]}), law="kaplan")
    assert "compute_optimal" in info.value.hint and "allocation=" in info.value.hint


def test_deprecated_keywords_still_work():
    HOFFMANN = ("chinchilla", dict(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28))
    rng = np.random.default_rng(0)
    draws = pd.DataFrame({k: v * np.exp(rng.normal(0, 0.02, 50)) for k, v in HOFFMANN[1].items()})
    with pytest.warns(DeprecationWarning, match="n_resamples"):
        a = plan.compute_optimal(HOFFMANN, 1e21, draws=draws, n_draws=20)
    assert a.params[0] == pytest.approx(1.824e9, rel=5e-4)
    budgets = [(C, N) for C in (1e18, 1e19, 1e20) for N in np.geomspace(1e7, 1e10, 9)]
    sweep = pd.DataFrame({"budget": [b[0] for b in budgets], "params": [b[1] for b in budgets]})
    sweep["tokens"] = sweep["budget"] / (6 * sweep["params"])
    sweep["loss"] = 1.69 + 406.4 / sweep["params"] ** 0.34 + 410.7 / sweep["tokens"] ** 0.28
    with pytest.warns(DeprecationWarning, match="n_boot"):
        old = plan.isoflop(sweep, estimator="parabola", n_boot=20, seed=0)
    new = plan.isoflop(sweep, estimator="parabola", n_resamples=20, seed=0)
    assert old["parabola"].interval("a") == new["parabola"].interval("a")


@pytest.mark.parametrize(
    "name", ["scalinglab.plan._frontier", "scalinglab.plan._suggest", "scalinglab.plan._deprecated"]
)
def test_docstring_examples(name):
    import doctest
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(
            importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
    assert result.failed == 0 and result.attempted > 0
