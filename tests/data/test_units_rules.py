"""Unit checks of read_runs (issue 18): each rule names the runs and a fix that exists; real tables pass."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalinglab as sl
from scalinglab.errors import DataError


def _ladder(ratio: float = 20.0, n_min: float = 1e8) -> pd.DataFrame:
    """Eight sizes over two decades, one final checkpoint each, tokens = ratio * params."""
    n = np.geomspace(n_min, n_min * 100, 8).round()
    d = (ratio * n).round()
    loss = 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28
    return pd.DataFrame({"run": [f"r{i}" for i in range(8)], "params": n, "tokens": d, "loss": loss})


def _unit_error(df: pd.DataFrame) -> DataError:
    with pytest.raises(DataError) as info:
        sl.read_runs(df)
    assert info.value.kind == "unit-mismatch"
    return info.value


def test_clean_ladder_passes():
    assert sl.read_runs(_ladder()).n_runs == 8


def test_subset_of_tokens_in_thousands_is_named_with_both_fixes():
    df = _ladder(ratio=5.0)
    df.loc[df["run"].isin(["r2", "r5"]), "tokens"] /= 1e3
    err = _unit_error(df)
    assert "'r2'" in str(err) and "'r5'" in str(err)
    assert "units={'tokens': 1000}" in err.hint and "--unit tokens=1000" in err.cli_hint


def test_larger_run_with_a_worse_loss_names_the_pair():
    n = np.geomspace(1e7, 1e10, 16).round()
    d = (20 * n).round()
    df = pd.DataFrame({"run": [f"r{i}" for i in range(16)], "params": n, "tokens": d})
    df["loss"] = 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28
    df.loc[15, "loss"] = df.loc[8, "loss"] * 1.1  # the largest run is worse than runs 40x smaller
    err = _unit_error(df)
    assert "run 'r15'" in str(err) and "higher loss" in str(err)
    assert "units={'params': 1}" in err.hint and "--unit params=1" in err.cli_hint


def test_accuracy_like_target_is_not_a_unit_error():
    """A 'loss' column that grows with size (an accuracy mapped onto it) breaks no unit rule."""
    df = _ladder()
    df["loss"] = 1.0 / df["loss"]
    assert sl.read_runs(df).n_runs == 8


def test_a_run_with_a_handful_of_parameters():
    df = _ladder(n_min=50.0)  # 50 .. 5,000 "params": a ladder in thousands
    err = _unit_error(df)
    assert "'r0'" in str(err) and "fewer than 100 parameters" in str(err)


def test_small_model_tokens_per_parameter_cap():
    df = _ladder(ratio=2e5, n_min=1e3)  # 1e3 .. 1e5 "params" on 2e5 tokens per parameter
    err = _unit_error(df)
    assert "for a model below 1e6 parameters" in str(err)


def test_one_size_compute_sweep_is_not_a_unit_error():
    """Synthetic sweeps of one size over many budgets go far above 1e5 tokens per parameter."""
    C = np.geomspace(1e15, 1e21, 12)
    df = pd.DataFrame({"params": 1e6, "tokens": C / 6e6, "loss": 2.0 + (1e13 / C) ** 0.15})
    assert len(sl.read_runs(df)) == 12


def test_declared_raw_counts_silence_the_rules():
    df = _ladder()
    df.loc[df["run"].isin(["r2", "r5"]), "tokens"] /= 1e3
    assert sl.read_runs(df, units={"tokens": 1, "params": 1}).n_runs == 8


def test_many_runs_are_checked_in_bounded_time():
    rng = np.random.default_rng(0)
    n = 20_000
    N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), n))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e12), n))
    L = 1.69 + 406.4 / N**0.34 + 410.7 / D**0.28
    assert len(sl.read_runs(pd.DataFrame({"params": N, "tokens": D, "loss": L}))) == n


def test_public_compilations_are_never_flagged():
    spec = importlib.util.spec_from_file_location("unit_checks", Path(__file__).parents[2] / "bench" / "unit_checks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    shared = os.environ.get("SCALINGLAB_SHARED", str(Path(__file__).parents[3] / "shared"))
    results = mod.check_real_tables(Path(shared))
    flagged = [r for r in results if r[1] != "ok"]
    assert not flagged, flagged
    assert len(results) >= 4  # at least the bundled tables


def test_ladder_with_params_in_thousands_is_caught_by_the_family_rule():
    """1e8-1e10 parameters on 20 tokens each, given in thousands: every run alone still looks real."""
    df = _ladder(ratio=20.0, n_min=1e8)
    df["params"] /= 1e3
    err = _unit_error(df)
    assert "all 8 runs" in str(err) and "more than 1000 tokens per parameter" in str(err)
    assert "units={'params': 1000}" in err.hint and "--unit params=1000" in err.cli_hint
    assert sl.read_runs(df, units={"params": 1}).n_runs == 8  # declared raw: not checked


def test_ladder_with_tokens_in_thousands_is_caught_by_the_family_rule():
    df = _ladder(ratio=20.0, n_min=1e8)
    df["tokens"] /= 1e3  # 0.02 tokens per parameter at every size
    err = _unit_error(df)
    assert "stopped before 0.3 tokens per parameter" in str(err) and "early checkpoints" in str(err)
    assert "units={'tokens': 1}" in err.hint and "--unit tokens=1" in err.cli_hint
    assert "units={'tokens': 1000}" in err.hint
    assert sl.read_runs(df, units={"tokens": 1}).n_runs == 8  # the escape for a table of early checkpoints


def test_family_rules_name_the_family_in_thousands():
    good, bad = _ladder(ratio=20.0, n_min=1e8), _ladder(ratio=20.0, n_min=1e8)
    bad["params"] /= 1e3
    df = pd.concat([good.assign(family="a"), bad.assign(family="b", run=bad["run"] + "b")], ignore_index=True)
    assert "of family 'b'" in str(_unit_error(df))


def test_published_over_trained_families_are_not_flagged():
    """Small models of production suites are over-trained at every size, on web-scale corpora.

    Qwen3 0.6B-8B on 36e12 tokens (6e4-4.5e3 tokens per parameter; Qwen3 technical report, 2025);
    SmolLM2 135M/360M on 2e12/4e12 tokens (1.5e4, 1.1e4; Allal et al. 2025).
    """
    qwen3 = pd.DataFrame({"run": ["0.6B", "1.7B", "4B", "8B"], "params": [0.6e9, 1.7e9, 4e9, 8e9], "tokens": 36e12})
    smollm2 = pd.DataFrame({"run": ["135M", "360M"], "params": [135e6, 360e6], "tokens": [2e12, 4e12]})
    for df in (qwen3, smollm2):
        assert sl.read_runs(df, required=()).n_runs == len(df)


def test_tiny_ladder_trained_long_is_not_flagged():
    """tinylm-sized models (2.5e4 parameters up) on 300 tokens per parameter, the bundled sets' most."""
    assert sl.read_runs(_ladder(ratio=300.0, n_min=2.5e4)).n_runs == 8


def test_tracker_logs_of_runs_just_started_are_not_held_to_the_family_floor():
    """A tracker's log (in_progress) may hold only the first steps of every run: rule 10 is off there."""
    from scalinglab.data._units import check_units

    df = _ladder(ratio=0.01, n_min=1e8)  # every run at 0.01 tokens per parameter
    with pytest.raises(DataError, match="early checkpoints"):
        check_units(df, "<df>", declared=set())
    check_units(df, "<df>", declared=set(), in_progress=True)


def _isoflop(seed: int = 0, n_opt: float = 1e8) -> pd.DataFrame:
    """Three compute budgets, five sizes around each optimum, Chinchilla's law with 1% noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in (1.0, 4.0, 16.0):
        opt = n_opt * np.sqrt(c)
        for n in opt * np.geomspace(10**-0.75, 10**0.75, 5):
            d = 20 * opt**2 / n
            loss = (1.69 + 406.4 / n**0.34 + 410.7 / d**0.28) * np.exp(rng.normal(0, 0.01))
            rows.append({"params": float(round(n)), "tokens": float(round(d)), "loss": loss})
    return pd.DataFrame(rows).assign(run=[f"r{i}" for i in range(len(rows))])


def _grid(seed: int = 0, n_min: float = 2.5e4) -> pd.DataFrame:
    """Six sizes over two decades x three token budgets (5-100 tokens per parameter), 1% noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in np.geomspace(n_min, n_min * 100, 6):
        for r in (5.0, 20.0, 100.0):
            loss = (1.69 + 406.4 / n**0.34 + 410.7 / (r * n) ** 0.28) * np.exp(rng.normal(0, 0.01))
            rows.append({"params": float(round(n)), "tokens": float(round(r * n)), "loss": loss})
    return pd.DataFrame(rows).assign(run=[f"r{i}" for i in range(len(rows))])


@pytest.mark.parametrize("seed", range(5))
def test_clean_grid_and_isoflop_ladders_are_not_flagged(seed):
    """Tiny (tinylm-sized) and billion-parameter designs with several token budgets per size."""
    for df in (_isoflop(seed), _isoflop(seed, n_opt=3e9), _grid(seed), _grid(seed, n_min=1e9)):
        assert sl.read_runs(df).n_runs == len(df)


def _law_rule(df: pd.DataFrame) -> DataError:
    """Rule 11 alone (read_runs may stop at an earlier rule on the same table)."""
    from scalinglab.data._families import family_key
    from scalinglab.data._units import _check_law_consistency

    with pytest.raises(DataError) as info:
        _check_law_consistency(df, df, family_key(df), set(), set(), "<df>")
    assert info.value.kind == "unit-mismatch"
    return info.value


def test_tokens_of_some_isoflop_runs_in_thousands_are_caught_by_the_law():
    """Rule 11: the odd runs' tokens per parameter blend into the design's spread (no 100x gap)."""
    df = _isoflop()
    odd = ["r0", "r5"]  # the smallest model of two budgets: 632 tokens per parameter, 0.63 in thousands
    df.loc[df["run"].isin(odd), "tokens"] /= 1e3
    err = _law_rule(df)
    assert "L = E + A/N^a + B/D^b" in str(err) and "'r0', 'r5'" in str(err) and "multiplied by 1000" in str(err)
    assert "units={'tokens': 1000}" in err.hint and "--unit tokens=1000" in err.cli_hint
    _unit_error(df)  # read_runs flags it too (rule 7 sees it first here)


def test_params_of_most_grid_runs_in_thousands_are_caught_by_the_law():
    """Rule 11 names the runs in thousands even when they are the majority."""
    df = _grid(n_min=1e9)
    odd = [f"r{i}" for i in range(18) if i % 3 != 1]  # 12 of 18 runs
    df.loc[df["run"].isin(odd), "params"] = (df.loc[df["run"].isin(odd), "params"] / 1e3).round(1)
    err = _law_rule(df)
    assert "params of run(s) 'r0', 'r2', 'r3' and 9 more are multiplied by 1000" in str(err)
    assert "units={'params': 1000}" in err.hint and "--unit params=1000" in err.cli_hint


def test_the_law_rule_alone_catches_a_simulated_isoflop_ladder():
    """A simulated isoFLOP table (bench seed 1) with 3 of 10 runs' params in thousands: no other rule sees it."""
    spec = importlib.util.spec_from_file_location("unit_checks", Path(__file__).parents[2] / "bench" / "unit_checks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rng = np.random.default_rng(1)
    for _ in range(59):
        frame, info = mod.clean_ladder(rng)
        bad, how = mod.corrupt(frame, rng)
    assert (info["design"], how["column"], how["subset"]) == ("isoflop", "params", "some")
    err = _unit_error(bad)
    assert "L = E + A/N^a + B/D^b" in str(err) and "'r2', 'r7', 'r9' are multiplied by 1000" in str(err)


def test_an_outlier_loss_is_not_called_a_unit_mistake_by_the_law_rule():
    """A run 20% off the law fits no better at 1000x than at 100x or 10,000x: rule 11 stays quiet."""
    from scalinglab.data._families import family_key
    from scalinglab.data._units import _check_law_consistency

    df = _isoflop()
    df.loc[4, "loss"] *= 1.2
    _check_law_consistency(df, df, family_key(df), set(), set(), "<df>")
    # one run 50% worse: the other 17 runs in thousands would fit as well, and so would an outlier
    df = _grid(n_min=5e7)
    df.loc[4, "loss"] *= 1.5
    _check_law_consistency(df, df, family_key(df), set(), set(), "<df>")


def test_a_pair_within_the_noise_near_the_floor_is_not_flagged():
    """Rule 7 flags a larger run with a worse loss only beyond the scatter of the family about the law."""
    n = np.geomspace(1e9, 1e12, 10)
    d = 20 * n
    df = pd.DataFrame({"run": [f"r{i}" for i in range(10)], "params": n.round(), "tokens": d.round()})
    df["loss"] = (1.69 + 406.4 / n**0.34 + 410.7 / d**0.28) * np.exp(np.random.default_rng(3).normal(0, 0.01, 10))
    df.loc[9, "loss"] = df.loc[6, "loss"] * 1.025  # 2.5% above a run 10x smaller: flagged at a fixed 2% margin
    assert sl.read_runs(df).n_runs == 10


def test_tables_joined_with_repeated_index_labels_are_checked_per_run():
    """pd.concat keeps each part's index: the law rule reads every run's own checkpoints."""
    a, b = _grid(0, n_min=1e9), _grid(1, n_min=1e9)
    df = pd.concat([a.assign(family="a"), b.assign(family="b", run=b["run"] + "b")])
    assert sl.read_runs(df).n_runs == 36
    odd = df["run"].isin(["r0b", "r1b"]).to_numpy()
    df["tokens"] = np.where(odd, df["tokens"] / 1e3, df["tokens"])
    assert _unit_error(df).column == "tokens"
