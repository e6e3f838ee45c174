"""RunsTable.subset: rows of a validated table, fitted without a second check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglab import fit, read_runs
from scalinglab.errors import InvalidParameterError
from scalinglab.fit import fit_many


def _ladder() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for n in (2e7, 5e7, 1e8, 2e8, 4e8):
        for d in np.geomspace(2e9, 4e10, 8):
            loss = (1.8 + 400 / n**0.34 + 410 / d**0.28) * np.exp(rng.normal(0, 0.004))
            rows.append({"run": f"m{n:.0e}", "params": n, "tokens": d, "loss": loss})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # rows in no particular order


def test_subset_keeps_the_tables_order_and_each_row_once():
    runs = read_runs(_ladder())
    part = runs.subset(np.array([7, 3, 3, 0]))
    assert len(part) == 3
    pd.testing.assert_frame_equal(part.frame, runs.frame.iloc[[0, 3, 7]].reset_index(drop=True))
    masked = runs.subset(runs.frame["params"] < 1e8)
    assert sorted(masked.frame["params"].unique()) == [2e7, 5e7]
    assert masked.notes == runs.notes and masked.source == runs.source


@pytest.mark.parametrize("rows", [np.array([True, False]), np.array([0, 10_000]), np.array([-1]), np.array([0.5])])
def test_subset_rejects_masks_and_positions_that_are_not_rows(rows):
    with pytest.raises(InvalidParameterError, match="RunsTable.subset"):
        read_runs(_ladder()).subset(rows)


def test_fits_of_subsets_equal_fits_of_the_same_rows_as_dataframes():
    runs = read_runs(_ladder())
    masks = [runs.frame["tokens"] <= q * runs.frame["tokens"].max() for q in (0.5, 1.0)]
    from_tables = fit_many([(runs.subset(m.to_numpy()), "chinchilla") for m in masks])
    from_frames = [fit(runs.frame[m].reset_index(drop=True), "chinchilla") for m in masks]
    for a, b in zip(from_tables, from_frames):
        assert a.ok
        assert a.value.objective == pytest.approx(b.objective, rel=1e-12)
        assert a.value.params == pytest.approx(b.params, rel=1e-9)
