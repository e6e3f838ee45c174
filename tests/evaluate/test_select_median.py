"""select_law(combine="median"): the pointwise median of the laws with a floor; the backtest's
extrapolation points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab.errors import InvalidParameterError
from scalinglab.evaluate import MedianFit, backtest, select_law
from scalinglab.fit import ExtrapolationPrior, fit


def curve(n=24):
    x = np.geomspace(1e6, 1e10, n)
    return pd.DataFrame({"params": x, "loss": 1.5 + 30 * x**-0.25})


def test_median_combines_the_floor_laws_and_keeps_the_validation():
    sel = select_law(curve(), ["power_law", "power_floor", "M2"], combine="median")
    assert isinstance(sel.fit, MedianFit)
    assert sel.law == "median(power_floor,M2)"  # the pure power law has no floor: not a member
    assert "median" in sel.scores.index and sel.scores.loc["median", "rmse_log"] < 1e-6
    assert {"decades", "power_law", "power_floor", "M2", "median"} <= set(sel.validation.columns)
    assert (sel.validation["decades"] > 0).all()
    est = float(sel.fit.predict(params=1e11, warn=False))
    assert est == pytest.approx(1.5 + 30 * 1e11**-0.25, rel=1e-4)
    iv = sel.fit.predict(params=[1e11, 1e12], interval=0.9, kind="new", warn=False)
    assert (iv["lower"] <= iv["estimate"]).all() and (iv["upper"] >= iv["estimate"]).all()


def test_median_is_the_median_of_the_members():
    c = curve()
    c["loss"] *= np.exp(np.random.default_rng(0).normal(0, 0.01, len(c)))
    m = MedianFit({k: fit(c, k) for k in ("M2", "M3", "power_floor")})
    x = np.array([1e11, 1e12])
    members = m.members(params=x)
    assert np.allclose(m.predict(params=x, warn=False), members.median(axis=1).to_numpy())


def test_combine_must_be_known():
    with pytest.raises(InvalidParameterError, match="combine"):
        select_law(curve(), ["M2"], combine="mean")


def test_backtest_keeps_extrapolation_points_for_a_prior():
    rows = []
    for fam, E in (("a", 1.7), ("b", 2.0), ("c", 1.5)):
        for N in (1e7, 3e7, 1e8, 3e8, 1e9, 3e9):
            for f in np.linspace(0.2, 1, 5):
                D = 20 * N * f
                rows.append((fam, f"{fam}{N:g}", N, D, E + 400 / N**0.34 + 410 / D**0.28))
    runs = pd.DataFrame(rows, columns=["family", "run", "params", "tokens", "loss"])
    runs["loss"] *= np.exp(np.random.default_rng(1).normal(0, 0.005, len(runs)))
    bt = backtest(runs, "chinchilla", n_resamples=20)
    pts = bt.extrapolation_points
    assert set(pts["source"]) == {"targets", "nested"}
    assert set(pts["group"]) == {"a", "b", "c"}
    assert len(ExtrapolationPrior(pts).without("a").groups) == 2
    assert backtest(runs, "chinchilla", interval=None).extrapolation_points is None


def test_relative_prior_carries_the_other_groups_miss_ratio_to_a_new_scale():
    from scalinglab.fit import calibrated_sigma
    from scalinglab.fit._calibration import own_sigma, widen

    rng = np.random.default_rng(2)
    rows = []
    for g, s in zip("abcd", (0.01, 0.03, 0.1, 0.3)):  # every group misses its targets by 2x its own error
        d = rng.uniform(0.2, 1.0, 400)
        rows.append(
            pd.DataFrame(
                {
                    "group": g,
                    "decades": d,
                    "log_error": rng.normal(0, 2 * s * d),
                    "base_sd": 0.0,
                    "source": "targets",
                    "own_sigma": s,
                }
            )
        )
    prior = ExtrapolationPrior(pd.concat(rows, ignore_index=True))
    d = rng.uniform(0.2, 1.0, 200)
    own = pd.DataFrame({"decades": d, "log_error": rng.normal(0, 0.05 * d), "base_sd": 0.0})
    assert own_sigma(own) == pytest.approx(0.05, rel=0.15)
    rel = calibrated_sigma(own, prior, 0.9, mode="relative")
    assert rel.sigma_per_decade == pytest.approx(0.1, rel=0.2) and rel.base_scale >= 1.0
    assert "relative to their own" in rel.note
    # without own hold-outs it falls back to the typical other group
    typ = calibrated_sigma(None, prior, 0.9, mode="relative")
    assert "median of 4 other group(s)" in typ.note
    lo, hi = widen(np.array([2.0]), np.array([1.9]), np.array([2.1]), np.array([0.0]), 0.1, 0.9, base_scale=2.0)
    assert np.log(hi[0] / 2.0) == pytest.approx(2 * np.log(2.1 / 2.0))
    with pytest.raises(ValueError, match="mode"):
        calibrated_sigma(own, prior, 0.9, mode="bogus")


def test_policy_nearest_k_takes_every_size_when_fewer_remain():
    from scalinglab.evaluate import Policy, split

    rows = [(f"m{N:g}", N, 20 * N * f, 2 + 100 / N**0.3) for N in (1e7, 1e8, 1e9) for f in (0.5, 1.0)]
    runs = pd.DataFrame(rows, columns=["run", "params", "tokens", "loss"])
    fit_rows, _ = split(runs, Policy(fit_models="nearest:3"))
    assert sorted(fit_rows["params"].unique()) == [1e7, 1e8]
    fit_rows, _ = split(runs, Policy(fit_models="nearest:1"))
    assert sorted(fit_rows["params"].unique()) == [1e8]
    assert "(all if fewer)" in Policy(fit_models="nearest:3").describe()
