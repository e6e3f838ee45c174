"""The fast paths give the answers of the plain ones: analytic Jacobians, the separable grid stage,
vectorised fit_many, the subsample search for large data, and lazy imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from scalinglab.fit import _engine, _solver, fit, fit_many
from scalinglab.fit._losses import huber
from scalinglab.laws import define_law, get_law


def _ladder(n_sizes=6, n_budgets=5, seed=0, noise=0.01):
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(5e7, 5e9, n_sizes), n_budgets)
    D = np.tile(np.geomspace(1e9, 1e11, n_budgets), n_sizes)
    loss = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(rng.normal(0, noise, N.size))
    return pd.DataFrame({"params": N, "tokens": D, "loss": loss})


def test_huber_pieces_match_their_definitions():
    h, r = huber(1e-3), np.array([-3e-3, -1e-3, -2e-4, 0.0, 5e-4, 2e-3])
    a = np.abs(r)
    np.testing.assert_allclose(h.rho(r), np.where(a <= 1e-3, 0.5 * r * r, 1e-3 * (a - 5e-4)), rtol=1e-15)
    np.testing.assert_allclose(h.weight(r), np.where(a <= 1e-3, 1.0, 1e-3 / np.maximum(a, 1e-300)), rtol=1e-15)
    np.testing.assert_array_equal(h.curvature(r), (a <= 1e-3).astype(float))


def test_analytic_jacobian_matches_central_differences():
    f = fit(_ladder(), "chinchilla")
    problem = f.problem()
    plain = define_law(
        get_law("chinchilla").func,
        name="chinchilla_plain",
        inputs={"N": "params", "D": "tokens"},
        params=get_law("chinchilla").params,
        linear=("E", "A", "B"),
    )
    numeric = _solver.Problem(law=plain, inputs=problem.inputs, y=problem.y, loss=problem.loss)
    u = problem.to_u(np.array([[f.params[p] for p in problem.names]]))
    np.testing.assert_allclose(problem.jacobian(u), numeric.jacobian(u), rtol=1e-6, atol=1e-9)


def test_separable_grid_stage_equals_the_generic_one(monkeypatch):
    problem = fit(_ladder(), "chinchilla").problem()
    fast = _solver.grid_search(problem)
    monkeypatch.setattr(_solver._Columns, "_detect", lambda self: None)
    slow = _solver.grid_search(problem)
    assert fast.n_admissible == slow.n_admissible
    np.testing.assert_allclose(fast.objective[:50], slow.objective[:50], rtol=1e-9)
    np.testing.assert_allclose(fast.u[:8], slow.u[:8], rtol=1e-7, atol=1e-9)


def test_fit_many_vectorised_equals_fit_one_by_one():
    frames = [_ladder(seed=s, n_sizes=k) for s, k in ((0, 6), (1, 4), (2, 8))]
    jobs = [
        (frames[0], "chinchilla"),
        (frames[1].iloc[:3], "chinchilla"),
        (frames[1], "chinchilla"),
        (frames[2], "chinchilla", {"loss": "squared"}),
        (frames[2], "chinchilla"),
    ]
    out = fit_many(jobs)
    assert [o.index for o in out] == list(range(len(jobs)))
    assert not out[1].ok and "DataError" in out[1].error
    for o, job in zip(out, jobs):
        if o.ok:
            one = fit(job[0], job[1], **(job[2] if len(job) > 2 else {}))
            assert o.value.objective == pytest.approx(one.objective, rel=1e-9)
            assert o.value.params == pytest.approx(one.params, rel=1e-6)


def test_fit_many_on_a_flat_ridge_reaches_the_same_objective_and_says_so():
    """Two sizes cannot pin down Chinchilla's five parameters: whatever the batch around a fit (its
    neighbours change the floating-point sums), it ends on the same objective, and the fit says its
    exponents cannot be identified (parameters on the ridge may differ; the diagnostics say why)."""
    two = _ladder(seed=4, n_sizes=2)
    jobs = [(two, "chinchilla"), (_ladder(seed=5, n_sizes=7), "chinchilla"), (two.iloc[:8], "chinchilla")]
    together = fit_many(jobs)
    alone = [fit_many([job])[0] for job in jobs]
    for a, b in zip(together, alone):
        assert a.ok and b.ok
        assert a.value.objective == pytest.approx(b.value.objective, rel=1e-9)
    text = str(together[0].value.summary())
    assert "cannot be identified" in text or "flat in some direction" in text


def test_subsample_search_reaches_the_full_search_optimum(monkeypatch):
    data = _ladder(n_sizes=20, n_budgets=20, seed=3)
    full = fit(data, "chinchilla")
    monkeypatch.setattr(_engine, "SUBSAMPLE_AT", 300)
    monkeypatch.setattr(_engine, "SUBSAMPLE", 120)
    sub = fit(data, "chinchilla")
    assert sub.objective == pytest.approx(full.objective, rel=1e-9)
    assert sub.params == pytest.approx(full.params, rel=1e-5)


def test_import_is_lazy():
    code = (
        "import sys, scalinglab; heavy = [m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules]; "
        "print(heavy); scalinglab.fit; print(callable(scalinglab.fit))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"]


def _three_sizes(seed=0):
    """Three model sizes a factor 2 apart: A and alpha trade off along a ridge (log A rising with alpha)."""
    rng = np.random.default_rng(seed)
    N = np.repeat([1.2e8, 2.5e8, 5e8], 12)
    D = np.tile(np.geomspace(1e10, 2e11, 12), 3)
    loss = (1.9 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(rng.normal(0, 0.01, N.size))
    return pd.DataFrame({"params": N, "tokens": D, "loss": loss})


def test_log_scale_steps_follow_the_ridge_that_additive_steps_crawl_along(monkeypatch):
    problem = fit(_three_sizes(), "chinchilla").problem()
    grid = _solver.grid_search(problem)
    starts = _solver.select_starts(grid.u, grid.objective, 8, problem)
    geometric = _solver.refine(problem, starts, max_iter=1000)
    monkeypatch.setattr(_solver, "GEOMETRIC_CUT", np.inf)  # every step additive: the earlier behaviour
    additive = _solver.refine(problem, starts, max_iter=1000)
    assert geometric.objective.min() <= additive.objective.min() * (1 + 1e-12)
    assert geometric.n_iter.sum() < additive.n_iter.sum()


def test_starts_that_meet_are_merged_and_end_where_their_leader_ends():
    problem = fit(_ladder(), "chinchilla").problem()
    grid = _solver.grid_search(problem)
    starts = _solver.select_starts(grid.u, grid.objective, 8, problem)
    merged = _solver.refine(problem, starts, max_iter=1000, group=np.zeros(len(starts), int))
    apart = _solver.refine(problem, starts, max_iter=1000)
    assert merged.objective.min() == pytest.approx(apart.objective.min(), rel=1e-12)
    assert merged.nfev <= apart.nfev
    best = int(np.argmin(merged.objective))
    np.testing.assert_allclose(merged.u[best], apart.u[int(np.argmin(apart.objective))], rtol=1e-6, atol=1e-9)


def _hitchhiker_subset(shared_file, scaled_set: str, share: float) -> pd.DataFrame:
    """A scaled set of the Hitchhiker loss curves, after 10B tokens, up to ``share`` of its longest run."""
    path = shared_file("hitchhiker", "derived", "loss_curves_unified.csv")
    d = pd.read_csv(path)
    d = d[d["scaled_set"] == scaled_set].rename(
        columns={"model_name": "run", "num_params": "params", "tokens_seen": "tokens", "loss_colpret": "loss"}
    )
    d = d.groupby(["run", "params", "tokens"], as_index=False)["loss"].mean()
    return d[(d["tokens"] > 1e10) & (d["tokens"] <= share * d["tokens"].max())].reset_index(drop=True)


def test_a_coefficient_stuck_at_zero_is_tried_again_at_other_exponents(monkeypatch, shared_file):
    """At A = 0 alpha does nothing, so its derivative vanishes and the refinement alone cannot leave.
    On this Hitchhiker subset (three GPT-2 sizes) every start ended there before the second try."""
    data = _hitchhiker_subset(shared_file, "GPT2-c4-4", 0.3)
    monkeypatch.setattr(_engine, "_revive_starts", lambda problem, sol: None)
    stuck = fit(data, "chinchilla")
    monkeypatch.undo()
    revived = fit(data, "chinchilla")
    assert stuck.params["A"] == 0.0
    assert revived.params["A"] > 0 and revived.objective < stuck.objective


def test_merge_tolerance_is_loose_only_with_exact_curvature(monkeypatch):
    """Starts merge within MERGE_TOL where the law has derivatives, within MERGE_TOL_MAJORISER where it has not."""
    seen = []
    merge = _solver._merge_starts

    def recording(pairs, u, F, active, merged, tol):
        seen.append(tol)
        return merge(pairs, u, F, active, merged, tol)

    monkeypatch.setattr(_solver, "_merge_starts", recording)
    fit(_ladder(), "chinchilla")
    assert set(seen) == {_solver.MERGE_TOL}
    seen.clear()
    sizes = _ladder().groupby("params", as_index=False)["loss"].min()
    fit(sizes, "power_law", x="params")
    assert set(seen) == {_solver.MERGE_TOL_MAJORISER}
    assert _solver.MERGE_TOL_MAJORISER < _solver.MERGE_TOL
