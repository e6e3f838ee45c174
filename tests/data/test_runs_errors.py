"""Every validation error names where the problem is and how to fix it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scalinglab as sl
from scalinglab.errors import DataError


def _frame(**over):
    df = pd.DataFrame(
        {
            "run": ["a", "a", "b", "b"],
            "params": [1e6, 1e6, 1e7, 1e7],
            "tokens": [1e8, 2e8, 1e8, 2e8],
            "loss": [3.5, 3.2, 3.1, 2.9],
        }
    )
    for k, v in over.items():
        df[k] = v
    return df


def test_missing_required_column_suggests_mapping():
    df = _frame().rename(columns={"loss": "val_loss"})
    with pytest.raises(DataError) as info:
        sl.read_runs(df)
    msg = str(info.value)
    assert "'loss'" in msg and "loss='val_loss'" in msg and "--map loss=val_loss" in msg
    assert info.value.kind == "missing-column"


def test_mapping_to_absent_column_lists_close_names():
    with pytest.raises(DataError, match=r"(?s)column 'num_parms'.*did you mean"):
        sl.read_runs(_frame().rename(columns={"params": "num_params"}), params="num_parms")


def test_nan_names_row_and_column():
    with pytest.raises(DataError) as info:
        sl.read_runs(_frame(loss=[3.5, np.nan, 3.1, 2.9]))
    assert info.value.row == 2 and info.value.column == "loss"
    assert "row 2" in str(info.value) and "NaN" in str(info.value) and "Fix:" in str(info.value)


def test_infinite_value():
    with pytest.raises(DataError, match="infinite"):
        sl.read_runs(_frame(tokens=[1e8, np.inf, 1e8, 2e8]))


@pytest.mark.parametrize("column", ["params", "tokens", "loss"])
def test_non_positive_value(column):
    df = _frame()
    df.loc[2, column] = -3.0
    with pytest.raises(DataError) as info:
        sl.read_runs(df)
    assert info.value.kind == "non-positive-value"
    assert info.value.row == 3 and info.value.column == column and "> 0" in str(info.value)


def test_unparseable_number(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("run,params,tokens,loss\na,1.2B,1e9,3.0\nb,1e9,2e9,2.9\n")
    with pytest.raises(DataError) as info:
        sl.read_runs(path)
    assert info.value.kind == "unparseable-number"
    assert str(path) in str(info.value) and "row 1" in str(info.value) and "'1.2B'" in str(info.value)


def test_duplicate_checkpoints_and_merge():
    df = pd.concat([_frame(), _frame().iloc[:1]], ignore_index=True)
    with pytest.raises(DataError, match="(?s)repeat a checkpoint.*duplicates='mean'"):
        sl.read_runs(df)
    merged = sl.read_runs(df, duplicates="mean")
    assert len(merged) == 4 and any("merged" in n for n in merged.notes)


def test_flops_in_pf_days_is_detected():
    df = _frame()
    df["flops"] = 6 * df["params"] * df["tokens"] / 8.64e19
    with pytest.raises(DataError, match="(?s)PF-days.*units=\\{'flops': 8.64e19\\}"):
        sl.read_runs(df)
    fixed = sl.read_runs(df, units={"flops": 8.64e19})
    np.testing.assert_allclose(fixed.frame["flops"], 6 * fixed.frame["params"] * fixed.frame["tokens"])


def test_params_in_millions_is_detected():
    with pytest.raises(DataError, match="(?s)millions.*units=\\{'params': 1e6\\}"):
        sl.read_runs(_frame(params=[1.0, 1.0, 10.0, 10.0]))


def test_malformed_file(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"params": 1e6, "tokens": 1e8, "loss": 3.0}\n{not json\n')
    with pytest.raises(DataError, match="could not parse"):
        sl.read_runs(path)


def test_missing_file_and_bad_suffix(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        sl.read_runs(tmp_path / "nope.csv")
    bad = tmp_path / "runs.xlsx"
    bad.write_text("x")
    with pytest.raises(DataError, match="unsupported file type"):
        sl.read_runs(bad)


def test_input_file_is_not_modified(tmp_path):
    path = tmp_path / "runs.csv"
    _frame().drop(columns=["run"]).to_csv(path, index=False)
    before = path.read_bytes()
    runs = sl.read_runs(path)
    assert path.read_bytes() == before
    assert "flops" in runs.frame and any("6*params*tokens" in n for n in runs.notes)


def test_formats_round_trip(tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet support is the optional extra scalinglab[parquet]")
    df = _frame()
    df.to_json(tmp_path / "r.jsonl", orient="records", lines=True)
    df.to_parquet(tmp_path / "r.parquet")
    a, b = sl.read_runs(tmp_path / "r.jsonl"), sl.read_runs(tmp_path / "r.parquet")
    pd.testing.assert_frame_equal(a.frame, b.frame)


def test_derives_tokens_from_flops():
    df = pd.DataFrame({"params": [1e6, 1e7], "flops": [6e14, 6e16], "loss": [3.0, 2.8]})
    runs = sl.read_runs(df)
    np.testing.assert_allclose(runs.frame["tokens"], [1e8, 1e9])


def test_select_checkpoints_rules():
    df = pd.DataFrame(
        {
            "run": ["a"] * 5 + ["b"] * 5,
            "params": [1e8] * 5 + [1e9] * 5,  # 200 and 20 tokens per parameter at the end
            "tokens": list(np.linspace(2e9, 2e10, 5)) * 2,
            "loss": np.linspace(4, 3, 10),
        }
    )
    assert len(sl.select_checkpoints(df, min_tokens=1e10)) == 6
    assert len(sl.select_checkpoints(df, window=(0.7, 1.0))) == 4
    final = sl.select_checkpoints(df, final_only=True)
    assert sorted(final.frame["tokens"]) == [2e10, 2e10]
    with pytest.raises(DataError, match="no checkpoints left"):
        sl.select_checkpoints(df, min_tokens=1e12)
