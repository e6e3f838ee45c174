"""``scalinglab compare``: JSON equals the API, files written, bad input is one line and a non-zero exit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglab.analyze.compare import CompareResult, compare
from scalinglab.cli import build_app

runner = CliRunner()


@pytest.fixture(scope="module")
def arms_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    D = np.geomspace(1e6, 1e9, 8)
    frames = []
    for name, (E, x0, al) in {"a": (2.0, 1e5, 0.3), "b": (1.0, 2e7, 0.2)}.items():
        y = (E + (x0 / D) ** al) * np.exp(rng.normal(0, 0.004, D.size))
        frames.append(pd.DataFrame({"run": [f"{name}{i}" for i in range(8)], "recipe": name, "D": D, "loss": y}))
    path = tmp_path_factory.mktemp("cmp") / "arms.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def invoke(*args):
    return runner.invoke(build_app(), [str(a) for a in args])


def test_json_matches_the_api_and_files_are_written(arms_csv, tmp_path):
    out, fig = tmp_path / "cmp.json", tmp_path / "cmp.png"
    res = invoke(
        "compare",
        arms_csv,
        "--by",
        "recipe",
        "--law",
        "power_floor",
        "--x",
        "D",
        "--n-resamples",
        50,
        "--json",
        "-o",
        out,
        "--figure",
        fig,
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    api = compare(pd.read_csv(arms_csv), "recipe", "power_floor", x="D", resamples=50)
    assert payload["tests"] == api.tests and payload["crossovers"] == api.crossovers
    assert out.exists() and fig.exists() and fig.stat().st_size > 0
    assert CompareResult.from_dict(json.loads(out.read_text())).to_dict() == api.to_dict()


def test_text_output(arms_csv):
    res = invoke("compare", arms_csv, "--by", "recipe", "--law", "power_floor", "--x", "D", "--n-resamples", 30)
    assert res.exit_code == 0, res.output
    assert "Arms compared by 'recipe'" in res.stdout and "overtakes" in res.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--by", "arm", "--law", "power_floor", "--x", "D"], "by='arm' is not a column"),
        (["--by", "run", "--law", "power_floor", "--x", "D"], "2 are needed"),
        (["--by", "recipe", "--law", "power_floor", "--x", "D", "--range", "5,1"], "--range"),
        (["--by", "recipe", "--law", "power_floor", "--x", "D", "--range", "abc"], "--range"),
        (["--by", "recipe", "--law", "power_floor", "--x", "D", "--reference", "zz"], "--reference"),
        (["--by", "recipe", "--law", "power_floor", "--x", "D", "--exponent", "gamma"], "--exponent"),
        (["--by", "recipe", "--law", "power_floor", "--x", "D", "--interval", "1.5"], "--interval"),
        (["--by", "recipe", "--law", "power_floor", "--x", "D", "--n-resamples", "3"], "--n-resamples"),
        (["--by", "recipe", "--law", "kaplan"], "allocation"),
        (["--by", "recipe"], "needs column 'params'"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(arms_csv, args, needle):
    res = invoke("compare", arms_csv, *args)
    assert res.exit_code != 0
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], res.output


def test_missing_file(tmp_path):
    res = invoke("compare", tmp_path / "nope.csv", "--law", "power_floor")
    assert res.exit_code == 3 and "not found" in res.output
