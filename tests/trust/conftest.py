from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))


def ladder_frame(seed: int = 0) -> pd.DataFrame:
    """Thirty final-checkpoint runs on Chinchilla's published law with 1% noise (a fit that can be trusted)."""
    rng = np.random.default_rng(seed)
    N = np.repeat(np.geomspace(5e7, 5e9, 6), 5)
    D = np.tile(np.geomspace(1e9, 3e11, 5), 6)
    L = (1.69 + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(rng.normal(0, 0.01, N.size))
    return pd.DataFrame({"run": [f"r{i}" for i in range(N.size)], "params": N, "tokens": D, "loss": L})


@pytest.fixture(scope="session")
def trust_dir(tmp_path_factory):
    """A folder with a clean runs file and a fit saved from it."""
    import warnings

    import scalinglab as sl

    d = tmp_path_factory.mktemp("trust")
    ladder_frame().to_csv(d / "runs.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sl.fit(ladder_frame(), "chinchilla").save(d / "fit.json")
    return d
