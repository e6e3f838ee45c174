"""Group-wise fits on synthetic families with known parameters; the pooled-table warning."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.cli import build_app
from scalinglab.errors import DataError, InvalidParameterError, ScalingLabWarning
from scalinglab.fit import FitSet, PooledFamiliesWarning, fit, load_fit, load_fitset

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


def _ladder(name: str, E: float, alpha: float, sizes=(1e7, 3e7, 1e8, 3e8, 1e9), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for N in sizes:
        for f in np.linspace(0.125, 1.0, 8):
            D = 20 * N * f
            loss = E + 400 * 1e7 ** (alpha - 0.34) / N**alpha + 410 / D**0.28
            rows.append({"family": name, "run": f"{name}-{N:g}", "params": N, "tokens": D, "loss": loss})
    d = pd.DataFrame(rows)
    return d.assign(loss=d["loss"] * np.exp(rng.normal(0, 0.002, len(d))))


def test_fit_by_borrows_the_size_term_for_a_one_size_family(tmp_path):
    # four ladders whose size exponents differ (0.30-0.38) and a new family with one model size:
    # its size term is borrowed from the others, its prediction of a 30x larger model lands near the
    # truth, and the interval of that prediction carries the lenders' disagreement
    runs = pd.concat(
        [
            _ladder(n, E, al, seed=i)
            for i, (n, E, al) in enumerate((("a", 1.7, 0.30), ("b", 2.0, 0.34), ("c", 1.8, 0.38), ("d", 1.9, 0.32)))
        ]
        + [_ladder("new", 1.75, 0.34, sizes=(3e8,), seed=9)],
        ignore_index=True,
    )
    plain = fit(runs, "chinchilla", by="family")
    assert "Fitted on one model size: new" in plain.summary() and "--borrow-from others" in plain.summary()
    fs = fit(runs, "chinchilla", by="family", borrow_from="others")
    assert set(fs.borrowed) == {"new"} and fs.borrowed["new"]["reason"] == "one model size"
    assert fs.borrowed["new"]["lenders"] == ["a", "b", "c", "d"]
    assert fs["new"].options["fixed"].keys() == {"A", "alpha"}
    assert not any("distinct value" in m for m in fs.warnings.get("new", []))  # the exponents are given
    N, D = 1e10, 2e11
    truth = 1.75 + 400 / N**0.34 + 410 / D**0.28
    alone = fs["new"].predict(params=N, tokens=D, interval=0.9, kind="new")
    wide = fs.predict("new", params=N, tokens=D, interval=0.9, kind="new")
    assert float(wide["estimate"].iloc[0]) == pytest.approx(truth, rel=0.03)
    assert wide["lower"].iloc[0] < alone["lower"].iloc[0] and wide["upper"].iloc[0] > alone["upper"].iloc[0]
    assert wide["lower"].iloc[0] <= truth <= wide["upper"].iloc[0]
    assert (wide["method"] == "delta+lenders").all() and wide["lender_sd"].iloc[0] > 1e-3
    assert "Borrowed size parameters" in fs.summary() and "lent by a, b, c, d" in fs.summary()
    # a family with five sizes keeps its own fit; a saved set reloads with what it borrowed
    assert "a" not in fs.borrowed
    back = load_fitset(fs.save(tmp_path / "fits.json"))
    assert back.borrowed == fs.borrowed and back["new"].params == fs["new"].params
    again = back.predict("new", params=N, tokens=D, interval=0.9, kind="new")
    assert again["upper"].iloc[0] == pytest.approx(wide["upper"].iloc[0])
    # one lender: its disagreement with other families is unknown, and the output says so
    solo = fit(runs[runs["family"].isin(["a", "new"])], "chinchilla", by="family", borrow_from="others")
    with pytest.warns(ScalingLabWarning, match="1 lending family"):
        p = solo.predict("new", params=N, tokens=D, interval=0.9)
    assert (p["method"] == "delta+one lender").all() and "one lending family" in solo.summary()
    with pytest.raises(InvalidParameterError, match="needs by="):
        fit(runs, "chinchilla", borrow_from="others")
    with pytest.raises(InvalidParameterError, match=r"\['zz'\]"):
        fit(runs, "chinchilla", by="family", borrow_from=["zz"])


def test_cli_fit_by_borrow_then_predict_a_group(tmp_path):
    runs = pd.concat(
        [
            _ladder("a", 1.7, 0.32, seed=1),
            _ladder("b", 1.9, 0.36, seed=2),
            _ladder("new", 1.8, 0.34, sizes=(3e8,), seed=3),
        ],
        ignore_index=True,
    )
    path, out = tmp_path / "runs.csv", tmp_path / "fits.json"
    runs.to_csv(path, index=False)
    app = build_app()
    res = CliRunner().invoke(app, ["fit", str(path), "--by", "family", "--borrow-from", "others", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "(borrowed A, alpha)" in res.output and "lent by a, b" in res.output
    res = CliRunner().invoke(app, ["predict", str(out), "--group", "new", "--at", "params=1e10,tokens=2e11"])
    assert res.exit_code == 0, res.output
    assert "chinchilla (new)" in res.output and "lending families' disagreement" in res.output
    res = CliRunner().invoke(app, ["predict", str(out), "--at", "params=1e10,tokens=2e11"])
    assert res.exit_code != 0 and "pick one with --group" in res.output and "groups: a, b, new" in res.output
    assert "Traceback" not in res.output
    single = tmp_path / "one.json"
    fit(runs[runs["family"] == "a"], "chinchilla").save(single)
    res = CliRunner().invoke(app, ["predict", str(single), "--group", "a", "--at", "params=1e10,tokens=2e11"])
    assert res.exit_code != 0 and "needs a set of fits" in res.output
    with pytest.raises(DataError, match="set of fits"):
        load_fit(out)
    # a set saved before it had its own format ({group: fit}) still reads
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({g: f.to_dict() for g, f in load_fitset(out).items()}))
    res = CliRunner().invoke(app, ["predict", str(earlier), "--group", "a", "--at", "params=1e10,tokens=2e11"])
    assert res.exit_code == 0 and "chinchilla (a)" in res.output, res.output
    with pytest.raises(DataError, match="set of fits"):
        load_fit(earlier)
    tampered = tmp_path / "tampered.json"
    tampered.write_text(out.read_text().replace('"reason": "one model size"', '"reason": "edited"'))
    res = CliRunner().invoke(app, ["predict", str(tampered), "--group", "new", "--at", "params=1e10,tokens=2e11"])
    assert res.exit_code == 3 and "checksum" in res.output and "Traceback" not in res.output
