"""``scalinglab prune laws | scores | simulate``: results, files, and one-line errors with exit code 3."""

from __future__ import annotations

import importlib
import json
import os

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.cli import build_app

runner = CliRunner()


def _run(*args):
    return runner.invoke(build_app(), ["prune", *map(str, args)])


def _need_sklearn():
    try:
        importlib.import_module("sklearn")
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("scikit-learn is required in CI (pip install 'scalinglab[prune]')")
        pytest.skip("scikit-learn is not installed (pip install 'scalinglab[prune]')")


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    emb = np.concatenate([5 * np.eye(6)[i] + rng.normal(0, 1, (30, 6)) for i in range(2)])
    np.save(tmp_path / "emb.npy", emb)
    np.save(tmp_path / "lab.npy", np.repeat([0, 1], 30))
    np.save(tmp_path / "lab_short.npy", np.repeat([0, 1], 20))
    bad = emb.copy()
    bad[4, 2] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    x = np.linspace(40, 640, 9)
    pd.DataFrame({"size": x, "err": 0.5 * np.exp(-x / 150)}).to_csv(tmp_path / "curve.csv", index=False)
    return tmp_path


def _one_error_line(res, *words):
    assert res.exit_code == 3, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in res.output, res.output
    for w in words:
        assert w in lines[0], lines[0]


@pytest.mark.slow
def test_laws_compares_the_forms(files):
    res = _run("laws", files / "curve.csv", "--x", "size", "--y", "err", "-l", "power_law", "-l", "exp_decay", "--json")
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["groups"][0]["verdict"] == "exponential"
    fig = files / "laws.png"
    res = _run("laws", files / "curve.csv", "--x", "size", "--y", "err", "-l", "power_law", "--figure", fig)
    assert res.exit_code == 0 and fig.stat().st_size > 5000 and "verdict" in res.output


def test_laws_bad_input(files):
    _one_error_line(_run("laws", files / "curve.csv"), "'kept'", "--x")
    _one_error_line(_run("laws", files / "curve.csv", "--x", "size", "--y", "err", "--holdout", "7"), "--holdout")
    _one_error_line(_run("laws", files / "curve.csv", "--x", "size", "--y", "err", "--by", "metric"), "--by")


def test_scores_writes_a_class_balanced_mask(files):
    _need_sklearn()
    before = (files / "emb.npy").read_bytes()
    res = _run(
        "scores",
        files / "emb.npy",
        "--labels",
        files / "lab.npy",
        "-f",
        "0.2",
        "-o",
        files / "keep.npy",
        "--scores-out",
        files / "scores.csv",
        "--json",
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["kept"] == 12 and payload["k"] == 2 and payload["class_balanced"] is True
    mask = np.load(files / "keep.npy")
    assert mask.dtype == bool and mask[:30].sum() == 6 and mask[30:].sum() == 6
    assert len(pd.read_csv(files / "scores.csv")) == 60
    assert (files / "emb.npy").read_bytes() == before
    res = _run("scores", files / "emb.npy", "-f", "0.5", "--keep", "easy", "-o", files / "keep.csv", "--k", "4")
    assert res.exit_code == 0 and "not class-balanced" in res.output
    assert len(pd.read_csv(files / "keep.csv")) == 30


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-f", "1.5", "-o", "k.npy"], ["--fraction", "(0, 1]"]),
        (["-f", "0", "-o", "k.npy"], ["--fraction"]),
        (["-f", "0.5", "-o", "k.txt"], [".npy or .csv"]),
        (["-f", "0.5", "-o", "emb.npy"], ["input file"]),
        (["-f", "0.5", "-o", "k.npy", "--keep", "middle"], ["--keep"]),
        (["-f", "0.5", "-o", "k.npy", "--labels", "lab_short.npy"], ["40 labels for 60 embeddings"]),
    ],
)
def test_scores_bad_input(files, args, words):
    args = [str(files / a) if a.endswith((".npy", ".txt")) else a for a in args]
    _one_error_line(_run("scores", files / "emb.npy", *args), *words)
    assert not (files / "k.npy").exists()


def test_scores_nan_embeddings(files):
    _one_error_line(_run("scores", files / "nan.npy", "-f", "0.5", "-o", files / "k.npy"), "row 4", "NaN")


def test_simulate_then_laws(files):
    out = files / "sim.csv"
    res = _run(
        "simulate",
        "-o",
        out,
        "--n-dim",
        "10",
        "--alpha-tot",
        "1,2,4,8,16,32",
        "--fractions",
        "0.5",
        "--keep",
        "hard",
        "--trials",
        "2",
    )
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    assert len(df) == 6 and {"kept", "error", "keep", "fraction"} <= set(df)
    _one_error_line(_run("simulate", "-o", out, "--fractions", "0,1"), "--fractions")
    _one_error_line(_run("simulate", "-o", out, "--keep", "medium"), "keep")
