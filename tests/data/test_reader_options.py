"""Reader options through read_runs and the CLI (--reader-option), and tracking URIs on the command line."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import scalinglab as sl
from scalinglab.cli import build_app
from scalinglab.cli._common import parse_reader_options, runs_source
from scalinglab.errors import DataError, InvalidParameterError


def _chart_export(path: Path) -> Path:
    """A W&B chart export: Step and '<run> - <metric>' columns (with __MIN/__MAX companions), four sizes."""
    steps = np.arange(100, 1100, 100)
    cols = {"Step": steps}
    for name, n in (("m-20M", 2e7), ("m-50M", 5e7), ("m-120M", 1.2e8), ("m-300M", 3e8)):
        loss = 1.8 + 400 / n**0.34 + 160 / (steps * 1e6) ** 0.28
        cols[f"{name} - train/loss"] = loss
        cols[f"{name} - train/loss__MIN"] = loss
        cols[f"{name} - train/loss__MAX"] = loss
    pd.DataFrame(cols).to_csv(path, index=False)
    return path


def test_reader_options_reach_the_reader(tmp_path):
    p = _chart_export(tmp_path / "export.csv")
    plain = sl.read_runs(p, format="wandb", loss="train/loss", required=("loss",))
    assert "tokens" not in plain.frame  # W&B charts carry no token count
    runs = sl.read_runs(p, format="wandb", loss="train/loss", reader_options={"tokens_per_step": 1e6})
    assert runs.frame.groupby("run")["tokens"].max().tolist() == [1e9] * 4 and runs.n_runs == 4


def test_an_unknown_reader_option_names_the_reader_and_the_closest(tmp_path):
    p = _chart_export(tmp_path / "export.csv")
    with pytest.raises(DataError, match="the 'wandb' reader has no option 'token_per_step'") as err:
        sl.read_runs(p, format="wandb", loss="train/loss", reader_options={"token_per_step": 1e6})
    assert "'tokens_per_step'" in err.value.hint and "tokens_per_step" in str(err.value)
    with pytest.raises(InvalidParameterError, match="reader_options"):
        sl.read_runs(pd.read_csv(p), reader_options={"tokens_per_step": 1e6})


def test_cli_reader_option_on_fit(tmp_path):
    p = _chart_export(tmp_path / "export.csv")
    base = ["fit", str(p), "--format", "wandb", "--map", "loss=train/loss", "--law", "chinchilla", "--json"]
    ok = CliRunner().invoke(build_app(), base + ["--reader-option", "tokens_per_step=1e6"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["n_points"] == 40
    typo = CliRunner().invoke(build_app(), base + ["--reader-option", "token_per_step=1e6"])
    assert typo.exit_code != 0 and "--reader-option" in typo.output and "Traceback" not in typo.output
    bad = CliRunner().invoke(build_app(), base + ["--reader-option", "tokens_per_step"])
    assert bad.exit_code != 0 and "KEY=VALUE" in bad.output


def test_uris_survive_the_cli_path_type_and_files_stay_paths(tmp_path):
    assert runs_source(Path("http://localhost:5000")) == "http://localhost:5000"
    assert runs_source(Path("https://mlflow.example.org/api")) == "https://mlflow.example.org/api"
    assert runs_source(Path("file:///srv/mlruns")) == "file:///srv/mlruns"
    assert runs_source(Path("runs.csv")) == Path("runs.csv") and runs_source(Path("/a/b:/c")) == Path("/a/b:/c")
    assert parse_reader_options(["experiment=7", "x=a=b"]) == {"experiment": 7, "x": "a=b"}
    missing = CliRunner().invoke(build_app(), ["fit", str(tmp_path / "nope.csv")])
    assert missing.exit_code != 0 and "file not found" in missing.output


@pytest.mark.slow
def test_cli_reads_an_mlflow_tracking_uri(tmp_path, monkeypatch):
    try:
        mlflow = importlib.import_module("mlflow")
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("mlflow is required in CI (pip install 'scalinglab[mlflow]')")
        pytest.skip("mlflow is not installed (pip install 'scalinglab[mlflow]')")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = tmp_path / "mlruns"
    mlflow.set_tracking_uri(store.as_uri())
    mlflow.set_experiment("ladder")
    for n in (2e7, 5e7, 1.2e8, 3e8):
        with mlflow.start_run(run_name=f"m-{n:.0e}"):
            mlflow.log_params({"n_params": n})
            for step in (100, 200, 400, 800):
                mlflow.log_metric("eval/loss", 1.8 + 400 / n**0.34 + 160 / (step * 1e6) ** 0.28, step=step)
    mlflow.set_tracking_uri(None)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")
    uri = store.as_uri()  # file:///...: the CLI's path type would collapse it to file:/...
    args = ["fit", uri, "--format", "mlflow", "--map", "loss=eval/loss", "--json"]
    res = CliRunner().invoke(build_app(), args + ["--reader-option", "tokens_per_step=1e6", "--law", "chinchilla"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["n_points"] == 16
    wrong = CliRunner().invoke(build_app(), args + ["--reader-option", "experiment=ladr"])
    assert wrong.exit_code != 0 and "ladder" in wrong.output
