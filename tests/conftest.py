"""Shared fixtures: synthetic ladders from known parameters, and the public datasets in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SCALINGLAB_SHARED", REPO_ROOT.parent / "shared")) / "data"

CHINCHILLA_TRUE = {"E": 1.69, "A": 406.4, "alpha": 0.34, "B": 410.7, "beta": 0.28}


def shared_file(*parts: str) -> Path:
    """Path to a public dataset file, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"public dataset not available: {path} (clone with ../shared/data beside the repo or set SCALINGLAB_SHARED)"
        )
    return path


@pytest.fixture(name="shared_file")
def shared_file_fixture():
    """The :func:`shared_file` helper as a fixture (tests are imported with --import-mode=importlib)."""
    return shared_file


@pytest.fixture
def epoch_runs():
    """Epoch AI's digitised Chinchilla runs, 5 highest-loss points dropped (240 remain)."""
    import scalinglab as sl

    df = pd.read_csv(shared_file("epoch-chinchilla", "svg_extracted_data.csv"))
    df = df.sort_values("loss").iloc[:-5]
    return sl.read_runs(df, params="Model Size", flops="Training FLOP")


def chinchilla_ladder(seed: int = 0, noise: float = 0.01, params=CHINCHILLA_TRUE) -> pd.DataFrame:
    """Synthetic final-checkpoint runs over 6 sizes x 5 budgets with multiplicative noise."""
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(5e7, 5e9, 6), 5)
    D = np.tile(np.geomspace(1e9, 3e11, 5), 6)
    L = params["E"] + params["A"] / N ** params["alpha"] + params["B"] / D ** params["beta"]
    L = L * np.exp(rng.normal(0.0, noise, L.size))
    return pd.DataFrame({"run": [f"r{i}" for i in range(L.size)], "params": N, "tokens": D, "loss": L})


@pytest.fixture
def ladder() -> pd.DataFrame:
    return chinchilla_ladder()
