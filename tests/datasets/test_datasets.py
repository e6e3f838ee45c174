"""The bundled tinylm ladder: present, well-shaped, and documented by its card."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglab import datasets
from scalinglab.errors import InvalidParameterError
from scalinglab.sweep import COLUMNS, load_config


def test_list_and_unknown():
    assert "tinylm" in datasets.list_datasets()
    with pytest.raises(InvalidParameterError, match="unknown dataset 'nope'"):
        datasets.load("nope")


def test_tinylm_shape_matches_issue():
    df = datasets.load("tinylm")
    assert tuple(df.columns) == COLUMNS
    assert df["final"].dtype == bool
    fin = df[df["final"]]
    assert fin["run"].is_unique and set(fin["run"]) == set(df["run"])
    sizes = fin.groupby("params")
    assert sizes.ngroups >= 6
    assert np.log10(fin["params"].max() / fin["params"].min()) >= 1.5
    budgets = fin.groupby("params")["token_budget"].nunique().sort_index()
    assert (budgets.iloc[:3] >= 3).all()  # N and D vary independently
    seeds = fin.groupby(["params", "token_budget"])["seed"].nunique()
    assert seeds.groupby(level=0).max().ge(2).sum() >= 2  # seed noise at two sizes
    assert df.groupby("run").size().min() >= 8  # intermediate checkpoints
    # Largest model trained last (extrapolation target).
    assert df["run"].iloc[-1] in set(fin.loc[fin["params"] == fin["params"].max(), "run"])
    assert df["loss"].between(0.3, 5.6).all()
    assert (df["flops"] == 6.0 * df["params"] * df["tokens"]).all()


def test_tinylm_card_and_config():
    text = datasets.card("tinylm")
    for needle in ("sha256", "scalinglab sweep", "Python", "torch", "CPU", "Chinchilla", "seed"):
        assert needle.lower() in text.lower(), needle
    cfg = load_config(datasets.config_path("tinylm"))
    df = datasets.load("tinylm")
    assert {r.run_id for r in cfg.runs()} == set(df["run"])


def test_tinylm_reads_with_read_runs():
    try:
        from scalinglab import read_runs
    except ImportError:
        pytest.skip("read_runs not available")
    read_runs(datasets.data_path("tinylm"))


def test_example_config_is_the_bundled_one():
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "sweeps" / "tinylm.toml"
    if not example.exists():
        pytest.skip("examples/ not present (installed package)")
    assert example.read_text() == datasets.config_path("tinylm").read_text()
