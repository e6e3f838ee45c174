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


def _noisy(d: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return d.assign(loss=d["loss"] * np.exp(rng.normal(0, 0.003, len(d))))


def test_fit_by_says_which_group_cannot_be_trusted(tmp_path):
    # a family of one model size: its size term is arbitrary, and the set of fits must say so,
    # as the group's own fit would (it used to print a clean-looking row)
    one = family("b", sizes=(3e8,), ckpts=8).assign(family="one", run="one-3e8")
    runs = pd.concat([_noisy(family("a"), 0), _noisy(family("b"), 1), _noisy(one, 2)], ignore_index=True)
    fs = fit(runs, "chinchilla", by="family")
    assert set(fs.warnings) == {"one"} and not fs.trusted
    assert any("only 1 distinct value" in m for m in fs.warnings["one"])
    text = fs.summary()
    assert "Warnings" in text and "  one:" in text and "only 1 distinct value" in text
    assert fs.table().set_index("family")["diagnostics"].to_dict()["a"] == 0
    assert fs.to_dict()["trusted"] is False
    path = tmp_path / "runs.csv"
    runs.to_csv(path, index=False)
    res = CliRunner().invoke(build_app(), ["fit", str(path), "--by", "family"])
    assert res.exit_code == 0 and "only 1 distinct value" in res.output
    res = CliRunner().invoke(build_app(), ["fit", str(path), "--by", "family", "--strict"])
    assert res.exit_code == 1 and "--strict: 1 of 3 group fits" in res.output and "(one;" in res.output
    good = tmp_path / "good.csv"
    runs[runs["family"] != "one"].to_csv(good, index=False)
    res = CliRunner().invoke(build_app(), ["fit", str(good), "--by", "family", "--strict"])
    assert res.exit_code == 0, res.output
    assert "no problems found in any group" in res.output
