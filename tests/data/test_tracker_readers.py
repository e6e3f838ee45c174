"""Readers for experiment trackers: W&B CSV exports (the real OLMo and LLM360 exports), TensorBoard event files
written by torch's SummaryWriter, a real local MLflow store, and trainer JSON Lines logs.

Tests that need tensorboard / mlflow / torch skip with the reason when absent, except in CI (CI=true).
"""

from __future__ import annotations

import importlib
import json
import os
import sys

import numpy as np
import pandas as pd
import pytest

import scalinglab as sl
from scalinglab.data import get_reader
from scalinglab.data.readers._tracking import closest_names, size_from_name
from scalinglab.errors import DataError


def _need(module: str, extra: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{module} is required in CI (pip install 'scalinglab[{extra}]')")
        pytest.skip(f"{module} is not installed (pip install 'scalinglab[{extra}]')")


OLMO_C4 = "eval/c4_en-validation/CrossEntropyLoss"


# --------------------------------------------------------------------------- W&B exports


def test_a_real_olmo_chart_export_reads_as_runs_with_a_short_error(shared_file):
    path = shared_file("hitchhiker", "colpret", "raw_data", "OLMO", "wandb_export_2024-02-23T14_58_09.703-05_00.csv")
    with pytest.raises(DataError) as err:
        sl.read_runs(path)  # read as csv: recognised as a W&B export, 'loss' has to be mapped
    text = str(err.value)
    assert "required column 'loss' is missing" in text and "eval/ice-validation/CrossEntropyLoss" in text
    assert "OLMo-7B-run-038" not in text and len(text) < 400  # no dump of the ~100 raw columns
    assert "--map loss=eval/ice-validation/CrossEntropyLoss" in err.value.hint
    runs = sl.read_runs(path, loss="eval/ice-validation/CrossEntropyLoss")
    f = runs.frame
    assert set(f["run"]) == {"OLMo-7B"} and (f["params"] == 7e9).all()  # 36 segments, one run
    assert f["step"].is_monotonic_increasing and f["step"].is_unique
    assert any("joined from 36 restart segments" in n for n in runs.notes)


def test_olmo_restart_segments_join_in_step_order(shared_file):
    folder = shared_file("hitchhiker", "colpret", "raw_data", "OLMO")
    raw = pd.read_csv(folder / "wandb_export_2024-02-23T14_58_09.703-05_00.csv")
    seg_cols = [c for c in raw.columns if c.startswith("OLMo-7B-run-") and c.endswith("CrossEntropyLoss")]
    expected = sum(int(raw[c].notna().sum()) for c in seg_cols)
    table = get_reader("wandb").func(folder)  # the whole directory of chart exports
    olmo7 = table[table["run"] == "OLMo-7B"].dropna(subset=["eval/ice-validation/CrossEntropyLoss"])
    # every logged point of the 36 segments is kept once (segments do not overlap in this export)
    assert len(olmo7) == expected and olmo7["step"].is_monotonic_increasing and olmo7["step"].is_unique
    assert olmo7["segment"].is_monotonic_increasing
    assert OLMO_C4 in table.columns and not any(c.endswith(("__MIN", "__MAX")) for c in table.columns)
    assert table.groupby("run")["params"].first().to_dict() == {"OLMo-1B": 1e9, "OLMo-7B": 7e9, "OLMo-7B-Twin-2T": 7e9}
    runs = sl.read_runs(folder, loss=OLMO_C4)  # a directory of exports is recognised without --format
    assert runs.n_runs >= 1 and (runs.frame["loss"] > 0).all()


def test_lm360_k2_export(shared_file):
    folder = shared_file("hitchhiker", "colpret", "raw_data", "lm360", "K2")
    table = get_reader("wandb").func(folder)
    assert {"k2 training", "k2 eval"} <= set(table["run"]) and "lm loss" in table.columns
    runs = sl.read_runs(folder, format="wandb", loss="lm loss", required=("loss",))
    assert "k2 training" in set(runs.frame["run"]) and "params" not in runs.frame  # no size in 'k2 training'


def test_a_wandb_history_export_names_the_run_after_the_file(tmp_path):
    p = tmp_path / "pythia-160m.csv"
    pd.DataFrame({"_step": [0, 100, 200], "_runtime": [1, 2, 3], "train/loss": [9.0, 4.0, 3.5]}).to_csv(p, index=False)
    table = get_reader("wandb").func(p, tokens_per_step=2e6)
    assert table["run"].unique().tolist() == ["pythia-160m"] and table["params"].iloc[0] == 1.6e8
    assert table["tokens"].tolist() == [2e8, 4e8] and "_runtime" not in table  # step 0 (0 tokens) dropped


# --------------------------------------------------------------------------- TensorBoard


def _write_tb(root):
    _need("tensorboard", "tensorboard")
    _need("torch", "train")
    from torch.utils.tensorboard import SummaryWriter

    for name, n in (("ladder/tiny-20M", None), ("ladder/small", 8e7)):
        w = SummaryWriter(str(root / name))
        for step in (0, 100, 200, 300):
            w.add_scalar("eval/loss", 4.0 - step / 1000 - (n or 2e7) / 1e9, step)
            if step:
                w.add_scalar("train/lr", 1e-3, step)
        hp = {"batch_size": 8, "seq_len": 128} | ({"n_params": n} if n else {})
        w.add_hparams(hp, {"hparam/final_loss": 1.0}, run_name=".")
        w.close()


def test_tensorboard_event_files_written_by_torch(tmp_path):
    _write_tb(tmp_path / "logs")
    runs = sl.read_runs(tmp_path / "logs", loss="eval/loss")  # detected: *tfevents* below the directory
    f = runs.frame
    assert sorted(f["run"].unique()) == ["ladder/small", "ladder/tiny-20M"]
    assert f.groupby("run")["params"].first().to_dict() == {"ladder/small": 8e7, "ladder/tiny-20M": 2e7}
    assert f["tokens"].tolist() == [1024 * s for s in (100, 200, 300)] * 2  # batch_size*seq_len*step (hparams)
    small = f[f["run"] == "ladder/small"]
    assert small["loss"].to_numpy() == pytest.approx([3.82, 3.72, 3.62])
    assert "hparam/final_loss" not in f  # the hparams summary is not a curve


def test_tensorboard_missing_package_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "events.out.tfevents.1.host").write_bytes(b"\0")
    monkeypatch.setitem(sys.modules, "tensorboard.backend.event_processing.event_accumulator", None)
    with pytest.raises(DataError, match="needs the optional dependency tensorboard") as err:
        sl.read_runs(tmp_path)
    assert "scalinglab[tensorboard]" in err.value.hint


# --------------------------------------------------------------------------- MLflow


@pytest.fixture
def mlruns(tmp_path, monkeypatch):
    mlflow = _need("mlflow", "mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = tmp_path / "mlruns"
    mlflow.set_tracking_uri(store.as_uri())
    mlflow.set_experiment("ladder")
    for name, n in (("m-20M", None), ("m-80M", 8e7)):
        with mlflow.start_run(run_name=name):
            mlflow.log_params({"batch_size": 8, "seq_len": 128} | ({"n_params": n} if n else {}))
            for step in (0, 100, 200):
                mlflow.log_metric("eval/loss", 4 - step / 1000 - (n or 2e7) / 1e9, step=step)
                mlflow.log_metric("train/loss", 4.1 - step / 1000, step=step)
    mlflow.set_tracking_uri(None)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")
    return store


def test_mlflow_local_store_and_uri(mlruns):
    runs = sl.read_runs(mlruns, loss="eval/loss")  # a store directory is detected
    f = runs.frame
    assert sorted(f["run"].unique()) == ["m-20M", "m-80M"] and set(f["experiment"]) == {"ladder"}
    assert f.groupby("run")["params"].first().to_dict() == {"m-20M": 2e7, "m-80M": 8e7}  # name, then params
    assert f["tokens"].tolist() == [102400.0, 204800.0] * 2
    via_uri = sl.read_runs(mlruns.as_uri(), format="mlflow", loss="eval/loss")
    pd.testing.assert_frame_equal(via_uri.frame, f)
    assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ  # set for the read only


def test_mlflow_unknown_experiment_names_the_closest(mlruns):
    with pytest.raises(DataError, match="no MLflow experiment named 'lader'") as err:
        get_reader("mlflow").func(mlruns, experiment="lader")
    assert "'ladder'" in err.value.hint


# --------------------------------------------------------------------------- trainer JSON Lines


def test_trainer_logs_with_nested_keys_and_a_config_record(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    for name, n in (("m-70M", 7e7), ("m-160M", 1.6e8)):
        lines = [{"config": {"model": {"n_params": n}, "batch_size": 16, "seq_len": 256}}]
        for step in (0, 50, 100, 150):
            lines.append({"step": step, "loss": 5 - step / 100, "lr": 1e-3, "note": "ok"})
            if step % 100 == 0:
                lines.append({"step": step, "eval": {"loss": 5.1 - step / 100 - n / 1e9}})
        (logs / f"{name}.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    runs = sl.read_runs(logs, loss="eval/loss")  # a directory of .jsonl logs
    f = runs.frame
    assert f[["run", "step", "params", "tokens"]].values.tolist() == [
        ["m-160M", 100.0, 1.6e8, 409600.0],
        ["m-70M", 100.0, 7e7, 409600.0],
    ]
    assert f["loss"].to_numpy() == pytest.approx([4.1 - 0.16, 4.1 - 0.07])
    assert any("without loss dropped" in n for n in runs.notes)
    table = get_reader("trainer-log").func(logs / "m-70M.jsonl")
    assert {"loss", "lr", "eval/loss"} <= set(table.columns) and "note" not in table


def test_trainer_log_bad_line_names_the_line(tmp_path):
    p = tmp_path / "run.jsonl"
    p.write_text('{"step": 1, "loss": 3}\n{"step": 2, "loss": \n')
    with pytest.raises(DataError, match="line 2 is not valid JSON") as err:
        sl.read_runs(p, format="trainer-log")
    assert err.value.row == 2


# --------------------------------------------------------------------------- shared pieces


def test_closest_names_and_sizes():
    cols = ["Step"] + [f"eval/set{i}/Perplexity" for i in range(50)] + ["eval/c4/CrossEntropyLoss"]
    assert closest_names("loss", cols) == ["eval/c4/CrossEntropyLoss"]
    assert size_from_name("OLMo-7B-Twin-2T") == 7e9 and size_from_name("d16-l1-t32K-s0") is None
    assert np.isclose(size_from_name("gpt2-1.5B"), 1.5e9)


def test_a_mapped_column_that_is_absent_lists_a_few_names_only(shared_file):
    folder = shared_file("hitchhiker", "colpret", "raw_data", "OLMO")
    with pytest.raises(DataError, match="'eval/c4-validation/CrossEntropyLoss' \\(mapped to 'loss'\\)") as err:
        sl.read_runs(folder, loss="eval/c4-validation/CrossEntropyLoss")
    assert OLMO_C4 in err.value.hint and len(err.value.hint) < 600
