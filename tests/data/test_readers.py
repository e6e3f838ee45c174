"""The reader registry: each file format is one small module, and a user adds one the same way."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import sys

import pandas as pd
import pytest

import scalinglab.data as data
from scalinglab.data.readers import _registry
from scalinglab.errors import DataError, InvalidParameterError

LADDER = pd.DataFrame(
    {
        "run": ["a", "a", "b", "b"],
        "params": [1e6, 1e6, 1e7, 1e7],
        "tokens": [1e8, 2e8, 1e8, 2e8],
        "loss": [3.5, 3.2, 3.1, 2.9],
    }
)


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry: what a test registers is gone afterwards."""
    monkeypatch.setattr(_registry, "_READERS", dict(_registry._READERS))
    monkeypatch.setattr(_registry, "_BY_SUFFIX", dict(_registry._BY_SUFFIX))
    return _registry


def _write_pipe(path):
    path.write_text("# toy format: '|'-separated, comments allowed\n" + LADDER.to_csv(sep="|", index=False))
    return path


def test_builtin_formats_are_registered_in_order():
    names = [r.name for r in data.list_readers()]
    assert names[:5] == ["csv", "tsv", "jsonl", "json", "parquet"]
    for name, suffix in [
        ("csv", ".csv"),
        ("csv", ".csv.gz"),
        ("tsv", ".tsv"),
        ("jsonl", ".ndjson"),
        ("json", ".json"),
        ("parquet", ".pq"),
    ]:
        assert data.get_reader(f"dir/runs{suffix}").name == name
        assert suffix in data.get_reader(name).suffixes
    assert data.get_reader("RUNS.CSV").name == "csv" and data.get_reader("CSV").name == "csv"


def test_a_toy_format_is_one_function(registry, tmp_path):
    @data.reader("pipe", suffixes=(".runs",), description="'|'-separated values")
    def read_pipe(path, **options):
        return pd.read_csv(path, sep="|", comment="#", **options)

    by_suffix = data.read_runs(_write_pipe(tmp_path / "ladder.runs"))
    by_name = data.read_runs(_write_pipe(tmp_path / "ladder.txt"), format="pipe")
    expected = data.read_runs(LADDER)
    pd.testing.assert_frame_equal(by_suffix.frame, expected.frame)
    pd.testing.assert_frame_equal(by_name.frame, expected.frame)
    assert by_suffix.source.endswith("ladder.runs")
    assert "pipe" in [r.name for r in data.list_readers()]


def test_a_user_format_module_registers_on_import(registry, tmp_path, monkeypatch):
    module = tmp_path / "pipe_runs.py"
    module.write_text(
        "import pandas as pd\n"
        "from scalinglab.data import reader\n\n"
        "@reader('pipe', suffixes=('.runs',))\n"
        "def read_pipe(path, **options):\n"
        "    '''Pipe-separated runs tables.'''\n"
        "    return pd.read_csv(path, sep='|', comment='#', **options)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "pipe_runs", raising=False)
    importlib.import_module("pipe_runs")
    assert data.get_reader("pipe").description == "Pipe-separated runs tables."
    runs = data.read_runs(_write_pipe(tmp_path / "ladder.runs"))
    assert runs.n_runs == 2 and runs.frame["loss"].tolist() == [3.5, 3.2, 3.1, 2.9]


def test_format_overrides_the_suffix(tmp_path):
    path = tmp_path / "runs.json"  # a misnamed CSV
    LADDER.to_csv(path, index=False)
    with pytest.raises(DataError, match="could not parse"):
        data.read_runs(path)
    assert len(data.read_runs(path, format="csv")) == 4
    tsv = tmp_path / "runs.dat"
    LADDER.to_csv(tsv, sep="\t", index=False)
    assert len(data.read_runs(tsv, format="tsv")) == 4


def test_unknown_format_name_suggests_the_close_one(tmp_path):
    path = tmp_path / "runs.csv"
    LADDER.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        data.read_runs(path, format="cvs")
    msg = str(info.value)
    assert info.value.kind == "unknown-format" and str(path) in msg
    assert "did you mean 'csv'" in msg and "--format" in msg and "format=" in msg


def test_unknown_suffix_names_file_formats_and_fix(tmp_path):
    bad = tmp_path / "runs.xlsx"
    bad.write_text("x")
    with pytest.raises(DataError) as info:
        data.read_runs(bad)
    msg = str(info.value)
    assert info.value.kind == "unsupported-file" and "unsupported file type '.xlsx'" in msg
    assert str(bad) in msg and "csv (.csv" in msg and "parquet (.parquet" in msg
    assert "format='csv'" in msg and "--format" in msg
    bare = tmp_path / "runs"
    bare.write_text("x")
    with pytest.raises(DataError, match="no file extension"):
        data.read_runs(bare)


def test_format_needs_a_file():
    with pytest.raises(InvalidParameterError, match="format= applies to files"):
        data.read_runs(LADDER, format="csv")


def test_empty_file_each_format(tmp_path):
    for suffix in (".csv", ".jsonl", ".json", ".parquet"):
        path = tmp_path / f"empty{suffix}"
        path.write_bytes(b"")
        with pytest.raises(DataError, match="could not parse the file: it is empty") as info:
            data.read_runs(path)
        assert info.value.kind == "malformed-file" and info.value.source == str(path)


def test_not_utf8_names_the_byte(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_bytes(b"run,params,tokens,loss\na,1e6,1e8,3.0\n\xff\xfe,1e7,1e8,2.9\n")
    with pytest.raises(DataError) as info:
        data.read_runs(path)
    assert info.value.kind == "malformed-file"
    assert "not UTF-8" in str(info.value) and "0xff" in str(info.value) and "encoding=" in str(info.value)


def test_directory_instead_of_file_points_inside(tmp_path):
    folder = tmp_path / "ladder"
    folder.mkdir()
    LADDER.to_csv(folder / "runs.csv", index=False)
    (folder / "notes.md").write_text("x")
    with pytest.raises(DataError) as info:
        data.read_runs(folder)
    assert info.value.kind == "not-a-file" and "directory" in str(info.value)
    assert str(folder / "runs.csv") in info.value.hint and "notes.md" not in info.value.hint


def test_malformed_hint_names_the_reader(tmp_path):
    path = tmp_path / "runs.parquet"
    path.write_text("run,params\na,1\n")
    pytest.importorskip("pyarrow")
    with pytest.raises(DataError) as info:
        data.read_runs(path)
    assert info.value.kind == "malformed-file" and "Apache Parquet (reader 'parquet')" in info.value.hint


def test_parquet_without_pyarrow_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "runs.parquet"
    path.write_bytes(b"PAR1 not really")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    with pytest.raises(DataError) as info:
        data.read_runs(path)
    assert info.value.kind == "missing-dependency" and "scalinglab[parquet]" in info.value.hint


def test_gzip_and_json_formats_round_trip(tmp_path):
    LADDER.to_csv(tmp_path / "r.csv.gz", index=False)
    LADDER.to_json(tmp_path / "r.json", orient="records")
    LADDER.to_json(tmp_path / "r.ndjson", orient="records", lines=True)
    LADDER.to_csv(tmp_path / "r.tsv", sep="\t", index=False)
    frames = [data.read_runs(tmp_path / n).frame for n in ("r.csv.gz", "r.json", "r.ndjson", "r.tsv")]
    for f in frames[1:]:
        pd.testing.assert_frame_equal(f, frames[0])


def test_reader_must_return_a_dataframe(registry, tmp_path):
    data.register_reader("listy", lambda path, **kw: [1, 2], suffixes=(".listy",))
    path = tmp_path / "x.listy"
    path.write_text("1 2")
    with pytest.raises(InvalidParameterError, match="returned list, not a pandas DataFrame"):
        data.read_runs(path)


def test_registration_rules(registry):
    def read(path, **kw):
        return pd.DataFrame()

    with pytest.raises(InvalidParameterError, match="already registered"):
        data.register_reader("csv", read)
    with pytest.raises(InvalidParameterError, match=r"suffix '\.csv' is already read by the 'csv' reader"):
        data.register_reader("mycsv", read, suffixes=(".csv",))
    with pytest.raises(InvalidParameterError, match="must start with a dot"):
        data.register_reader("toy", read, suffixes=("toy",))
    with pytest.raises(InvalidParameterError, match="lower-case word"):
        data.register_reader("My Format", read)
    with pytest.raises(InvalidParameterError, match="not callable"):
        data.register_reader("toy", "read")
    # overwrite=True takes a suffix over; the old reader keeps the rest of its suffixes
    mine = data.register_reader("mycsv", read, suffixes=(".csv",), overwrite=True)
    assert data.get_reader("runs.csv") is mine
    assert ".csv" not in data.get_reader("csv").suffixes and ".csv.gz" in data.get_reader("csv").suffixes
    assert data.unregister_reader("mycsv") is mine
    with pytest.raises(DataError, match="unsupported file type"):
        data.get_reader("runs.csv")
    with pytest.raises(InvalidParameterError, match="no reader named"):
        data.unregister_reader("mycsv")


@pytest.mark.parametrize(
    "name",
    [
        "scalinglab.data.readers",
        "scalinglab.data.readers._registry",
        "scalinglab.data.readers._csv",
        "scalinglab.data.readers._jsonl",
        "scalinglab.data.readers._json",
        "scalinglab.data.readers._parquet",
    ],
)
def test_reader_docstring_examples(name):
    if name.endswith("_parquet"):
        pytest.importorskip("pyarrow")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
