"""compare: per-arm fits, exponent tests, crossovers, multipliers; JSON reload, figure, section, pooled warning."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

import scalinglab as sl
from scalinglab.analyze import AnalysisResult, CompareResult, compare
from scalinglab.analyze.compare import difference_test, exponent_params, find_crossover
from scalinglab.errors import DataError, InvalidParameterError
from scalinglab.fit import PooledFamiliesWarning, fit
from scalinglab.render import FigureRenderer, section_providers

D = np.geomspace(1e6, 1e9, 8)
ARMS = {"a": (2.0, 1e5, 0.3), "b": (1.0, 2e7, 0.2)}  # (E, x0, alpha): b is flatter with a lower floor


def curve(x, E, x0, alpha):
    return E + (x0 / x) ** alpha


def arms_frame(arms=ARMS, noise=0.004, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for name, p in arms.items():
        y = curve(D, *p) * np.exp(rng.normal(0, noise, D.size))
        frames.append(pd.DataFrame({"run": [f"{name}{i}" for i in range(D.size)], "arm": name, "tokens": D, "loss": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def result() -> CompareResult:
    return compare(arms_frame(), "arm", "power_floor", x="tokens", resamples=100)


def test_per_arm_fits_are_the_group_fits(result):
    assert isinstance(result, AnalysisResult) and result.arms == ["a", "b"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs = fit(arms_frame(), "power_floor", x="tokens", by="arm")
    for arm in ("a", "b"):
        assert result.fits[arm].params == pytest.approx(fs[arm].params, rel=1e-9)
        lo, hi = next(a for a in result.per_arm if a["arm"] == arm)["intervals"]["alpha"]
        assert lo < result.fits[arm].params["alpha"] < hi
    assert result.scale == "tokens" and not result.frontier and result.exponents == ["alpha"]


def test_a_real_exponent_gap_is_detected(result):
    (t,) = result.tests
    assert (t["param"], t["arm_a"], t["arm_b"]) == ("alpha", "a", "b")
    assert t["p_value"] < 0.05 and t["lower"] < 0.1 < t["upper"]  # true gap 0.3 - 0.2
    assert t["df"] == 2 * (8 - 3)


def test_equal_exponents_are_not_called_different():
    r = compare(
        arms_frame({"a": (2.0, 1e6, 0.3), "b": (1.5, 3e6, 0.3)}, seed=3), law="power_floor", x="tokens", resamples=100
    )
    (t,) = r.tests
    assert t["p_value"] > 0.05 and t["lower"] < 0 < t["upper"]
    c = r.crossover("a", "b")
    assert not c["crosses"] and "no crossover in" in c["statement"]


def test_crossover_interval_holds_the_true_crossover(result):
    x_true = brentq(lambda lx: curve(10**lx, *ARMS["a"]) - curve(10**lx, *ARMS["b"]), 6, 10)
    c = result.crossover("b", "a")
    assert c["crosses"] and c["after"] == "b" and c["before"] == "a"
    assert c["lower"] <= 10**x_true <= c["upper"]
    assert abs(np.log10(c["scale"]) - x_true) < 0.1
    assert "b overtakes a at" in c["statement"]


def test_multiplier_of_a_shifted_power_law_is_the_shift():
    # same floor and exponent, b's scale x0 is 4x a's: b needs 4x the data at every loss
    r = compare(
        arms_frame({"a": (1.0, 1e6, 0.3), "b": (1.0, 4e6, 0.3)}, noise=0.001),
        law="power_floor",
        x="tokens",
        resamples=50,
        fit_options={"fixed": {"E": 1.0}},
    )
    m = r.multiplier("b", [1e6, 1e8, 1e9])
    assert m == pytest.approx(4.0, rel=0.1)
    band = r.multipliers["arms"]["b"]
    assert all(lo <= 4.0 * 1.1 and hi >= 4.0 / 1.1 for lo, hi in zip(band["lower"][:50], band["upper"][:50]))
    with pytest.raises(InvalidParameterError):
        r.multiplier("a", 1e6)  # the reference has none


def test_json_reloads_exactly(result, tmp_path):
    d = result.to_dict()
    text = json.dumps(d, allow_nan=False)  # strict JSON: no NaN
    again = CompareResult.from_dict(json.loads(text))
    assert again.to_dict() == d
    assert again.fits["a"].params == result.fits["a"].params
    assert again.summary() == result.summary()
    with pytest.raises(DataError, match="not a scalinglab compare result"):
        CompareResult.from_dict({"format": "something else"})


def test_summary_figure_and_section(result):
    text = result.summary()
    assert "Exponent differences" in text and "Crossovers in tokens" in text and "Data multiplier over 'a'" in text
    fig = result.figure()
    assert len(fig.axes) == 2
    sec = result.section(FigureRenderer())
    assert sec.id == "arms" and sec.figures == ("fig-arms",) and "<svg" in sec.body
    assert "arms" in {p.name for p in section_providers()}


def test_compute_frontier_with_an_allocation_law():
    rng = np.random.default_rng(1)
    N = np.repeat([1e7, 3e7, 1e8, 3e8], 3)
    Dt = np.tile([1e9, 4e9, 1.6e10], 4)
    frames = []
    for arm, (A, alpha) in {"a": (400.0, 0.34), "b": (300.0, 0.30)}.items():
        y = (1.7 + A / N**alpha + 410 / Dt**0.28) * np.exp(rng.normal(0, 0.002, N.size))
        frames.append(
            pd.DataFrame(
                {"run": [f"{arm}{i}" for i in range(N.size)], "arm": arm, "params": N, "tokens": Dt, "loss": y}
            )
        )
    r = compare(pd.concat(frames), law="chinchilla", resamples=30, scale_range=(1e16, 1e20))
    assert r.frontier and r.scale == "flops" and r.exponents == ["alpha", "beta"]
    assert {t["param"] for t in r.tests} == {"alpha", "beta"}
    m = np.array(r.multipliers["arms"]["b"]["estimate"], dtype=float)
    assert np.isfinite(m).mean() > 0.9 and "Compute multiplier" in r.summary()


def test_bad_input_is_one_clear_error():
    df = arms_frame()
    with pytest.raises(DataError, match="by='nope' is not a column"):
        compare(df, "nope", "power_floor", x="tokens")
    with pytest.raises(DataError, match="2 are needed"):
        compare(df[df["arm"] == "a"], "arm", "power_floor", x="tokens")
    with pytest.raises(InvalidParameterError, match="scale_range"):
        compare(df, "arm", "power_floor", x="tokens", scale_range=(10, 1))
    with pytest.raises(InvalidParameterError, match="reference arm"):
        compare(df, "arm", "power_floor", x="tokens", reference="zz")
    with pytest.raises(InvalidParameterError, match="not parameters"):
        compare(df, "arm", "power_floor", x="tokens", exponents=["gamma"])
    grid = arms_frame().assign(params=1e7)
    grid["params"] = np.tile(np.repeat([1e7, 1e8], 4), 2)
    with pytest.raises(InvalidParameterError, match="no compute-optimal allocation"):
        compare(grid, "arm", "kaplan", resamples=20)


def test_pooled_arm_table_warns_naming_the_column():
    with pytest.warns(PooledFamiliesWarning, match=r"2 values of 'arm'.*--by arm"):
        fit(arms_frame(), "power_floor", x="tokens")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PooledFamiliesWarning)
        fit(arms_frame()[lambda d: d["arm"] == "a"], "power_floor", x="tokens")  # one arm: no warning


def test_difference_test_and_crossover_helpers():
    r = difference_test(0.0, np.random.default_rng(0).normal(0, 0.05, 400), df=10)
    assert r["p_value"] == pytest.approx(1.0) and r["lower"] < 0 < r["upper"]
    xs = np.geomspace(1, 1e4, 60)
    a = 3 - np.log10(xs)  # crosses b = 1 at x = 100
    shifted = np.stack([3.3 - np.log10(xs), 2.7 - np.log10(xs), 10 - 0 * xs])  # 200, 50, never (above range)
    c = find_crossover("a", "b", {"a": a, "b": np.ones(60)}, {"a": shifted, "b": np.ones((3, 60))}, xs, 0.5)
    assert c["scale"] == pytest.approx(100, rel=0.02) and c["share_crossing"] == pytest.approx(2 / 3)
    assert c["upper"] is None  # a third of the draws never cross: the interval is open above


def test_exponent_params_and_root_export():
    assert exponent_params("chinchilla") == ["alpha", "beta"] and exponent_params("M3") == ["c"]
    assert sl.compare is compare


def test_multiplier_is_open_where_an_arm_never_reaches_the_loss():
    # b's floor (1.6) lies above a's loss at large D: b never gets there, the multiplier is unbounded
    r = compare(
        arms_frame({"a": (1.0, 1e6, 0.3), "b": (1.6, 1e6, 0.3)}, noise=0.002),
        law="power_floor",
        x="tokens",
        resamples=30,
    )
    m = r.multipliers["arms"]["b"]
    assert m["estimate"][-1] is None and m["upper"][-1] is None and m["unreachable_share"][-1] > 0.9
    assert m["estimate"][0] is not None and m["estimate"][0] > 1  # at small D b is merely behind


@pytest.mark.slow
def test_small_null_and_coverage_simulation():
    """A fast version of bench/compare_null.py: few false positives, crossover intervals that cover."""
    rejections, covered = 0, 0
    for i in range(8):
        df = arms_frame({"a": (1.5, 1e6, 0.3), "b": (1.2, 3e6, 0.3)}, noise=0.01, seed=100 + i)
        rejections += compare(df, law="power_floor", x="tokens", resamples=50, seed=i).tests[0]["p_value"] < 0.05
    x_true = 1e8
    x0_b = 10 ** brentq(lambda lx: curve(x_true, 1.2, 10**lx, 0.2) - curve(x_true, 1.5, 1e6, 0.3), 0, 12)
    for i in range(8):
        df = arms_frame({"a": (1.5, 1e6, 0.3), "b": (1.2, x0_b, 0.2)}, noise=0.01, seed=200 + i)
        c = compare(df, law="power_floor", x="tokens", resamples=50, seed=i, scale_range=(1e6, 1e10)).crossover(
            "a", "b"
        )
        lo = c["lower"] if c["lower"] is not None else 0.0
        hi = c["upper"] if c["upper"] is not None else np.inf
        covered += lo <= x_true <= hi
    assert rejections <= 2 and covered >= 6, (rejections, covered)
