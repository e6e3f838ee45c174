"""`scalinglab plan` and `scalinglab suggest`: thin layers whose --json equals the Python API."""

from __future__ import annotations

import json
import warnings

import pytest
from typer.testing import CliRunner

import scalinglab as sl
from scalinglab import plan
from scalinglab.cli import build_app

runner = CliRunner()


def test_plan_published_key_matches_golden():
    pytest.importorskip("scalinglab.published")
    result = runner.invoke(build_app(), ["plan", "hoffmann2022", "--flops", "1e21", "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["rows"][0]
    assert row["params"] == pytest.approx(1.824e9, rel=5e-4) and row["loss"] == pytest.approx(2.3289, abs=1e-4)


def test_plan_saved_fit_json_equals_api(ladder, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = sl.fit(ladder, "chinchilla")
    path = f.save(tmp_path / "fit.json")
    args = ["plan", str(path), "--flops", "1e21", "--method", "delta", "--n-resamples", "200", "--json"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)["rows"][0]
    api = plan.compute_optimal(sl.load_fit(path), 1e21, method="delta", n_resamples=200).table.iloc[0]
    assert cli["params"] == pytest.approx(api["params"]) and cli["params_upper"] == pytest.approx(api["params_upper"])
    text = runner.invoke(build_app(), ["plan", str(path), "--loss", "2.2", "--interval", "0"])
    assert text.exit_code == 0 and "Compute needed" in text.stdout


def test_plan_errors_are_one_line_with_exit_code_3():
    pytest.importorskip("scalinglab.published")
    result = runner.invoke(build_app(), ["plan", "hoffmann2022", "--loss", "1.5"])
    assert result.exit_code == 3 and "irreducible loss" in result.output
    result = runner.invoke(build_app(), ["plan", "hoffmann2022", "--loss", "1.5", "--json"])
    assert json.loads(result.stdout)["error"]["kind"] == "plan-error"
    assert runner.invoke(build_app(), ["plan", "hoffmann2022"]).exit_code == 3


def test_suggest_cli(ladder, tmp_path):
    path = tmp_path / "runs.csv"
    ladder.to_csv(path, index=False)
    result = runner.invoke(
        build_app(),
        [
            "suggest",
            str(path),
            "--law",
            "chinchilla",
            "--target",
            "params=7e10,tokens=1.4e12",
            "--budget",
            "1e22",
            "--max-runs",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert 1 <= len(payload["runs"]) <= 3 and payload["spent"] <= 1e22 * (1 + 1e-9)
    assert payload["width_after"] < payload["width_before"]
