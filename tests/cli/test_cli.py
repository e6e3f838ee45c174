"""The CLI is a thin layer: `--json` output equals the Python API's result; errors exit non-zero."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scalinglab as sl
from scalinglab.cli import build_app

runner = CliRunner()


@pytest.fixture
def runs_csv(ladder, tmp_path):
    path = tmp_path / "runs.csv"
    ladder.rename(columns={"params": "num_params"}).to_csv(path, index=False)
    return path


def test_fit_json_matches_api(runs_csv, ladder, tmp_path):
    out = tmp_path / "fit.json"
    result = runner.invoke(
        build_app(),
        ["fit", str(runs_csv), "--law", "chinchilla", "--map", "params=num_params", "-o", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api = sl.fit(ladder, "chinchilla")
    assert payload["law"] == "chinchilla" and payload["n_points"] == len(ladder)
    for k, v in api.params.items():
        assert payload["params"][k] == pytest.approx(v, rel=1e-9)
    assert payload["objective"] == pytest.approx(api.objective, rel=1e-9)
    assert "diagnostics" in payload and out.exists()
    assert sl.load_fit(out).params == pytest.approx(api.params, rel=1e-9)


def test_predict_from_saved_fit(runs_csv, tmp_path):
    out = tmp_path / "fit.json"
    assert (
        runner.invoke(build_app(), ["fit", str(runs_csv), "--map", "params=num_params", "-o", str(out)]).exit_code == 0
    )
    result = runner.invoke(build_app(), ["predict", str(out), "--at", "params=7e10,tokens=1.4e12", "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["predictions"][0]
    expected = sl.load_fit(out).predict(params=7e10, tokens=1.4e12, warn=False)
    assert row["loss"] == pytest.approx(float(expected))
    assert row["lower"] < row["loss"] < row["upper"]


def test_laws_lists_registry():
    result = runner.invoke(build_app(), ["laws", "--json"])
    names = [lw["name"] for lw in json.loads(result.stdout)["laws"]]
    assert {"chinchilla", "kaplan", "power_floor", "bnsl", "M4"} <= set(names)
    text = runner.invoke(build_app(), ["laws"]).stdout
    assert "L = E + A/N^alpha + B/D^beta" in text


def test_bad_input_exits_non_zero_with_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("params,tokens,loss\n1e9,2e10,nan\n2e9,2e10,2.5\n")
    result = runner.invoke(build_app(), ["fit", str(bad)])
    assert result.exit_code == 3
    assert "row 1" in result.output and "column 'loss'" in result.output
    result = runner.invoke(build_app(), ["fit", str(bad), "--json"])
    assert result.exit_code == 3 and json.loads(result.stdout)["error"]["kind"] == "non-finite-value"


def test_unknown_law_and_missing_file(runs_csv, tmp_path):
    result = runner.invoke(build_app(), ["fit", str(runs_csv), "--law", "chinchila", "--map", "params=num_params"])
    assert result.exit_code == 3 and "did you mean chinchilla" in result.output
    assert runner.invoke(build_app(), ["fit", str(tmp_path / "nope.csv")]).exit_code == 3


def test_version():
    result = runner.invoke(build_app(), ["--version"])
    assert result.exit_code == 0 and sl.__version__ in result.stdout


def test_user_law_from_a_module_path(tmp_path):
    import numpy as np
    import pandas as pd

    module = tmp_path / "mylaw.py"
    module.write_text(
        "import numpy as np\nimport scalinglab as sl\n"
        "shifted = sl.define_law(lambda x, E, A, alpha: E + A * (x + 1e6) ** -alpha, name='shifted_power',\n"
        "    inputs={'x': 'params'}, params={'E': sl.Param(0, 10), 'A': sl.Param(0, np.inf),\n"
        "    'alpha': sl.Param(0, 2, grid=(0.1, 0.3, 0.7))}, linear=('E', 'A'), formula='E + A (x+1e6)^-alpha')\n"
    )
    x = np.geomspace(1e6, 1e9, 12)
    data = tmp_path / "runs.csv"
    pd.DataFrame({"params": x, "loss": 2 + 30 * (x + 1e6) ** -0.25}).to_csv(data, index=False)
    out = tmp_path / "fit.json"
    result = runner.invoke(build_app(), ["fit", str(data), "--law", f"{module}:shifted", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["params"]["alpha"] == pytest.approx(0.25, rel=1e-6)
    assert sl.load_fit(out).law.name == "shifted_power"  # resolved again from the recorded module path


# ------------------------------------------------------------------ one checkpoint rule, one set of flag names
def _checkpointed(tmp_path, repeat_first: bool = False):
    """Five sizes, ten checkpoints each, on an exact Chinchilla law (optionally one evaluation repeated)."""
    import numpy as np
    import pandas as pd

    rows = [(f"m{N:g}", N, 20 * N * f) for N in (1e7, 3e7, 1e8, 3e8, 1e9) for f in np.linspace(0.1, 1, 10)]
    df = pd.DataFrame(rows, columns=["run", "params", "tokens"])
    df["loss"] = 1.8 + 400 / df.params**0.34 + 410 / df.tokens**0.28
    if repeat_first:
        df = pd.concat([df, df.iloc[[0]].assign(loss=df.loss.iloc[0] + 0.2)], ignore_index=True)
    path = tmp_path / "ckpts.csv"
    df.to_csv(path, index=False)
    return path


def test_checkpoint_rule_parsing_is_shared():
    from scalinglab.cli._common import checkpoint_rule, parse_window
    from scalinglab.cli.commands.fit import parse_window as fit_parse_window
    from scalinglab.data import CheckpointRule
    from scalinglab.evaluate import DEFAULT_POLICY

    assert fit_parse_window is parse_window  # plot and report import it from commands.fit
    assert checkpoint_rule(1e9, "0.7,1", True) == CheckpointRule(min_tokens=1e9, window=(0.7, 1.0), final_only=True)
    assert checkpoint_rule() == CheckpointRule()
    # given flags replace the base rule's fields one by one
    rule = checkpoint_rule(min_tokens=1e9, base=DEFAULT_POLICY.checkpoints)
    assert rule == CheckpointRule(min_tokens=1e9, window=(0.2, 1.0))


def test_fit_window_and_final_only_select_checkpoints(tmp_path):
    path = _checkpointed(tmp_path)
    args = ["fit", str(path), "--law", "power_law", "--json"]
    assert json.loads(runner.invoke(build_app(), [*args, "--final-only"]).stdout)["n_points"] == 5
    assert json.loads(runner.invoke(build_app(), [*args, "--window", "0.65,1"]).stdout)["n_points"] == 20
    min_tokens = runner.invoke(build_app(), [*args, "--min-tokens", "1e10"])
    assert json.loads(min_tokens.stdout)["n_points"] == 6  # the 1e9 model from half its training on
    bad = runner.invoke(build_app(), [*args, "--window", "0.7"])
    assert bad.exit_code == 2 and "--window" in bad.output
    out_of_range = runner.invoke(build_app(), [*args, "--window", "0.7,1.5"])
    assert out_of_range.exit_code == 3 and "0 <= lo <= hi <= 1" in out_of_range.stdout


def test_backtest_checkpoint_flags_replace_the_default_rule(tmp_path):
    path = _checkpointed(tmp_path)
    base = ["backtest", str(path), "--law", "power_law", "--interval", "0", "--json"]

    def rule(*flags):
        result = runner.invoke(build_app(), [*base, *flags])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["policy"]["checkpoints"]

    assert rule() == {"min_tokens": None, "window": [0.2, 1.0], "final_only": False, "runs": None}
    assert rule("--min-tokens", "1e9") == {"min_tokens": 1e9, "window": [0.2, 1.0], "final_only": False, "runs": None}
    assert rule("--window", "0,1")["window"] == [0.0, 1.0]
    assert rule("--final-only", "--window", "0.5,1") == {
        "min_tokens": None,
        "window": [0.5, 1.0],
        "final_only": True,
        "runs": None,
    }


def test_duplicates_option_on_every_runs_command(tmp_path):
    path = _checkpointed(tmp_path, repeat_first=True)
    raised = runner.invoke(build_app(), ["backtest", str(path), "--interval", "0", "--json"])
    assert raised.exit_code == 3 and json.loads(raised.stdout)["error"]["kind"] == "duplicate-rows"
    for flag in ("mean", "last"):
        ok = runner.invoke(
            build_app(),
            ["backtest", str(path), "--law", "power_law", "--interval", "0", "--duplicates", flag, "--json"],
        )
        assert ok.exit_code == 0, ok.output
    # suggest reads the table the same way: the duplicates flag and the checkpoint rule apply before fitting
    common = ["suggest", str(path), "--target", "params=1e10,tokens=2e11", "--budget", "1e20", "--json"]
    dup = runner.invoke(build_app(), common)
    assert dup.exit_code == 3 and json.loads(dup.stdout)["error"]["kind"] == "duplicate-rows"
    empty = runner.invoke(build_app(), [*common, "--duplicates", "mean", "--min-tokens", "1e30"])
    assert empty.exit_code == 3 and json.loads(empty.stdout)["error"]["kind"] == "empty-selection"


def test_cli_hint_keeps_the_context_and_reads_python_arguments_as_flags():
    from scalinglab.cli._common import cli_hint
    from scalinglab.errors import DataError

    def hint(text):
        return cli_hint(DataError("x", hint=text))

    # the values to choose from stay; the Python argument reads as its flag
    assert hint("metrics in this table: ['acc']; choose one with metric= (CLI: --metric)") == (
        "metrics in this table: ['acc']; choose one with --metric"
    )
    assert hint("map it with loss='flops' (CLI: --map loss=flops)") == "map it with --map loss=flops"
    assert hint("e.g. n_resamples=200 (CLI: --n-resamples 200)") == "e.g. --n-resamples 200"
    # Python syntax that cannot be read as a flag: the CLI part alone
    assert hint("plan instead: compute_optimal(fit, flops) (CLI: --flops C)") == "--flops C"


def test_every_runs_command_reads_a_bundled_dataset_by_name():
    from scalinglab.cli._common import runs_source
    from scalinglab.datasets import data_path

    assert runs_source(Path("tinylm")) == data_path("tinylm")
    res = CliRunner().invoke(build_app(), ["fit", "no-such-runs"])
    assert res.exit_code != 0 and "bundled dataset (tinylm" in res.output


@pytest.mark.parametrize("command", ["encdec", "multilingual", "transfer", "mixed-modal", "trends", "compare"])
def test_a_figure_that_cannot_be_written_is_refused_before_any_work(command, tmp_path):
    extra = ["--metric", "acc"] if command == "trends" else (["--by", "arm"] if command == "compare" else [])
    for figure, words in ((tmp_path / "no" / "f.png", "the folder"), (tmp_path / "f.txt", "expected a file ending")):
        res = runner.invoke(build_app(), [command, str(tmp_path / "absent.csv"), *extra, "--figure", str(figure)])
        assert res.exit_code != 0 and f"--figure {figure}" in res.output and words in res.output, res.output
