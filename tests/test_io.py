"""The bottom helpers: atomic writes with normal permissions, plain JSON, numbers for people."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

from scalinglab._io import format_number, to_jsonable, write_atomic

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


@pytest.fixture
def umask():
    """Set a umask for the test and restore the previous one."""
    previous = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_new_file_gets_the_umask_permissions(tmp_path, umask, mask):
    umask(mask)
    path = write_atomic(tmp_path / "out.json", "{}")
    assert _mode(path) == 0o666 & ~mask  # 0o644 under umask 022, like open(); not mkstemp's 0o600


@posix_only
def test_replacing_a_file_keeps_its_permissions(tmp_path, umask):
    path = tmp_path / "out.txt"
    write_atomic(path, "one")
    os.chmod(path, 0o640)
    write_atomic(path, "two")
    assert path.read_text() == "two" and _mode(path) == 0o640


def test_no_temporary_file_is_left_behind(tmp_path):
    write_atomic(tmp_path / "sub" / "a.bin", b"\x00\x01")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["a.bin"]


def test_failed_write_keeps_the_old_content(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    write_atomic(path, "old")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_to_jsonable_gives_strict_json():
    obj = {
        "x": np.float32(0.5),
        "n": np.int64(7),
        "ok": np.bool_(False),
        "bad": [np.nan, -np.inf],
        "arr": np.arange(3),
        "nested": ({"p": Path("a") / "b"},),
        1: None,
    }
    out = to_jsonable(obj)
    assert json.loads(json.dumps(out, allow_nan=False)) == {
        "x": 0.5,
        "n": 7,
        "ok": False,
        "bad": [None, None],
        "arr": [0, 1, 2],
        "nested": [{"p": str(Path("a") / "b")}],
        "1": None,
    }
    assert type(out["n"]) is int and type(out["ok"]) is bool


@pytest.mark.parametrize(
    "value, kwargs, text",
    [
        (0.0, {}, "0"),
        (1e-3, {}, "0.001"),
        (9.99e-4, {}, "9.9900e-04"),
        (99999.0, {}, "1e+05"),
        (1e5, {}, "1.0000e+05"),
        (-2.5e7, {"digits": 3}, "-2.500e+07"),
        (123456.0, {"digits": 5, "sci_digits": 4}, "1.2346e+05"),
        (float("nan"), {"show_infinity": True}, "-"),
        (float("-inf"), {"show_infinity": True}, "-inf"),
        (float("inf"), {"missing": "–"}, "–"),
        (1.4e12, {"small": 0, "large": float("inf")}, "1.4e+12"),
        ("n/a", {}, "n/a"),
        (True, {}, "True"),
        (np.int64(120), {}, "120"),
    ],
)
def test_format_number(value, kwargs, text):
    assert format_number(value, **kwargs) == text
