"""Group-wise fits on synthetic families with known parameters; the pooled-table warning."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.cli import build_app
from scalinglab.errors import DataError
from scalinglab.fit import FitSet, PooledFamiliesWarning, fit

TRUTHS = {
    "a": dict(E=1.7, A=400.0, alpha=0.34, B=410.0, beta=0.28),
    "b": dict(E=2.1, A=250.0, alpha=0.30, B=900.0, beta=0.33),
}


def family(name: str, sizes=(1e7, 3e7, 1e8, 3e8, 1e9), ckpts=6) -> pd.DataFrame:
    t = TRUTHS[name]
    rows = []
    for N in sizes:
        for f in np.linspace(0.2, 1.0, ckpts):
            D = 20 * N * f
            rows.append(
                {
                    "family": name,
                    "run": f"{name}-{N:g}",
                    "params": N,
                    "tokens": D,
                    "loss": t["E"] + t["A"] / N ** t["alpha"] + t["B"] / D ** t["beta"],
                }
            )
    return pd.DataFrame(rows)


def test_fit_by_family_recovers_each_group():
    runs = pd.concat([family("a"), family("b")], ignore_index=True)
    fs = fit(runs, "chinchilla", by="family")
    assert isinstance(fs, FitSet) and set(fs) == {"a", "b"} and not fs.failures
    for g, truth in TRUTHS.items():
        for p in ("E", "alpha", "beta"):
            assert fs[g].params[p] == pytest.approx(truth[p], rel=2e-3), (g, p)
    table = fs.table()
    assert list(table["family"]) == ["a", "b"] and (table["runs"] == 5).all()
    assert "Fits of chinchilla by 'family'" in fs.summary()


def test_fit_by_records_a_group_that_cannot_be_fitted():
    runs = pd.concat([family("a"), family("b", sizes=(1e8,), ckpts=2)], ignore_index=True)
    fs = fit(runs, "chinchilla", by="family")
    assert list(fs.fits) == ["a"] and "b" in fs.failures
    assert "FAILED" in fs.summary()
    with pytest.raises(DataError, match="by='nope'"):
        fit(runs, "chinchilla", by="nope")


def test_pooled_table_warns_naming_column_and_by():
    runs = pd.concat([family("a"), family("b")], ignore_index=True)
    with pytest.warns(PooledFamiliesWarning, match=r"'family'.*by='family'.*--by family"):
        fit(runs, "chinchilla")
    # same sizes with different curves and no family column: the curves give it away
    with pytest.warns(PooledFamiliesWarning, match="same size"):
        fit(runs.drop(columns="family").assign(run=lambda d: d["run"]), "chinchilla")
    # one family: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", PooledFamiliesWarning)
        fit(family("a"), "chinchilla")


def test_cli_fit_by(tmp_path):
    path = tmp_path / "runs.csv"
    pd.concat([family("a"), family("b")], ignore_index=True).to_csv(path, index=False)
    res = CliRunner().invoke(build_app(), ["fit", str(path), "--by", "family"])
    assert res.exit_code == 0, res.output
    assert "2 fitted, 0 failed" in res.output
    res = CliRunner().invoke(build_app(), ["fit", str(path)])
    assert res.exit_code == 0 and "--by family" in res.output
