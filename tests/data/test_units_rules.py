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
