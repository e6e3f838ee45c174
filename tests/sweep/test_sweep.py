"""End-to-end tiny sweep: valid runs table, determinism, resume, errors, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from scalinglab.errors import ConfigError
from scalinglab.sweep import COLUMNS, LocalExecutor, SerialExecutor, run

torch = pytest.importorskip("torch")

TINY = Path(__file__).resolve().parents[2] / "examples" / "sweeps" / "tiny.toml"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    res = run(TINY, out, executor=LocalExecutor(workers=2), progress=False)
    return res


@pytest.mark.slow
def test_tiny_sweep_yields_valid_runs_table(tiny):
    df = pd.read_csv(tiny.runs_csv)
    assert tuple(df.columns) == COLUMNS
    assert sorted(tiny.trained) == sorted(df["run"].unique())
    assert list(df["run"].unique()) == ["d16-l1-t16K-s0", "d16-l1-t32K-s0", "d32-l1-t32K-s0"]  # config order
    assert df["family"].eq("tinylm").all()
    for _, g in df.groupby("run"):
        assert g["final"].sum() == 1 and bool(g["final"].iloc[-1])
        assert g["tokens"].is_monotonic_increasing and len(g) >= 3
        assert g["tokens"].iloc[-1] == g["token_budget"].iloc[0]
        assert g["loss"].iloc[-1] < g["loss"].iloc[0]
        assert (g["params"] < g["params_total"]).all()
    assert (df["flops"] == 6.0 * df["params"] * df["tokens"]).all()
    assert (df["flops_counted"] > df["flops"]).all()
    assert df["loss"].between(0.5, 6.0).all()  # nats/token over 256 bytes: ln 256 = 5.55
    meta = json.loads((tiny.out / "sweep.json").read_text())
    assert len(meta["corpus"]["sha256"]) == 64 and meta["corpus"]["python_version"]
    assert meta["history"][-1]["trained"] == tiny.trained and meta["history"][-1]["workers"] == 2
    assert meta["corpus"]["train_bytes"] > 1_000_000 and meta["corpus"]["val_bytes"] > 10_000
    run_meta = json.loads((tiny.out / "runs" / "d32-l1-t32K-s0.json").read_text())
    assert run_meta["cpu_time"] > 0 and run_meta["threads"] == 1


def test_runs_table_reads_with_read_runs(tiny):
    try:
        from scalinglab import read_runs
    except ImportError:
        pytest.skip("scalinglab.read_runs not available yet")
    data = read_runs(tiny.runs_csv)
    assert len(data) == len(pd.read_csv(tiny.runs_csv))


def test_rerun_skips_finished_runs(tiny):
    res = run(TINY, tiny.out, executor=SerialExecutor(threads=1), progress=False)
    assert res.trained == [] and len(res.skipped) == 3
    history = json.loads((tiny.out / "sweep.json").read_text())["history"]
    assert len(history) >= 2 and history[-1]["trained"] == [] and history[-1]["finished"]


@pytest.mark.slow
def test_deleted_run_retrains_only_it_with_identical_losses(tiny, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(tiny.out, out)
    before = pd.read_csv(out / "runs.csv")
    (out / "runs" / "d16-l1-t32K-s0.csv").unlink()
    res = run(TINY, out, executor=SerialExecutor(threads=1), progress=False)
    assert res.trained == ["d16-l1-t32K-s0"]
    assert sorted(res.skipped) == ["d16-l1-t16K-s0", "d32-l1-t32K-s0"]
    after = pd.read_csv(out / "runs.csv")
    cols = ["run", "tokens", "loss", "train_loss", "step"]
    pd.testing.assert_frame_equal(before[cols], after[cols])  # same seed, same losses


class _Interrupting(SerialExecutor):
    """Stops the sweep (as Ctrl-C would) after the first finished run."""

    def run(self, tasks, progress=None):
        for i, m in enumerate(super().run(tasks, progress)):
            yield m
            if i == 0:
                raise KeyboardInterrupt


def test_interrupted_sweep_resumes(tmp_path):
    cfg = {
        "seq_len": 16,
        "batch_size": 4,
        "heads": 1,
        "checkpoints": 3,
        "eval_batches": 1,
        "models": [{"width": 8, "depth": 1, "budgets": [640, 1280], "seeds": [0, 1]}],
    }
    with pytest.raises(KeyboardInterrupt):
        run(cfg, tmp_path, executor=_Interrupting(threads=1), progress=False)
    first = pd.read_csv(tmp_path / "runs.csv")
    assert list(first["run"].unique()) == ["d8-l1-t640-s0"]
    res = run(cfg, tmp_path, executor=SerialExecutor(threads=1), progress=False)
    assert res.skipped == ["d8-l1-t640-s0"]
    assert res.trained == ["d8-l1-t640-s1", "d8-l1-t1280-s0", "d8-l1-t1280-s1"]
    df = pd.read_csv(tmp_path / "runs.csv")
    assert df.groupby("run")["final"].sum().eq(1).all() and df["run"].nunique() == 4
    # Different seeds give different losses.
    fin = df[df["final"]].set_index("run")["loss"]
    assert fin["d8-l1-t640-s0"] != fin["d8-l1-t640-s1"]


def test_bad_config_fails_before_training(tmp_path):
    out = tmp_path / "never"
    bad = {"seq_len": 32, "batch_size": 8, "models": [{"width": 16, "depth": 1, "budgets": [100]}]}
    with pytest.raises(ConfigError, match="less than one batch"):
        run(bad, out, progress=False)
    assert not out.exists()


def test_cli_command(tiny, tmp_path):
    typer = pytest.importorskip("typer")
    from typer.testing import CliRunner

    from scalinglab.cli.commands.sweep import sweep_command

    app = typer.Typer()
    app.command("sweep")(sweep_command)
    app.command("noop")(lambda: None)  # keep "sweep" a real subcommand
    runner = CliRunner()
    r = runner.invoke(app, ["sweep", str(TINY), "--out", str(tiny.out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["trained"] == []
    bad = tmp_path / "bad.toml"
    bad.write_text('seq_len = 32\nbatchsize = 8\n[[models]]\nwidth = 16\ndepth = 1\nbudgets = ["16K"]\n')
    r = runner.invoke(app, ["sweep", str(bad), "-o", str(tmp_path / "o")])
    assert r.exit_code == 3
    assert "unknown key 'batchsize'" in r.output and "batch_size" in r.output
    assert not (tmp_path / "o").exists()
