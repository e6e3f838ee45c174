"""Options and output helpers shared by every CLI command (parse -> call the API -> render)."""

from __future__ import annotations

import json
import math
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

import numpy as np
import typer
from rich.console import Console

from scalinglab.errors import ScalingLabError

__all__ = ["JsonOption", "MapOption", "UnitOption", "XOption", "YOption", "DuplicatesOption", "MinTokensOption",
           "WindowOption", "FinalOnlyOption", "parse_pairs", "parse_point", "emit", "cli_errors",
           "console", "load_runs_for_cli"]

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")
MapOption = typer.Option(None, "--map", help="Map a canonical column to yours: params=num_params (repeatable).")
UnitOption = typer.Option(None, "--unit", help="Multiply a column: params=1e6, flops=8.64e19 (repeatable).")
XOption = typer.Option(None, "--x", help="Input column(s): 'flops' or N=params (repeatable).")
YOption = typer.Option("loss", "--y", help="Target column.")
DuplicatesOption = typer.Option("raise", "--duplicates", help="Repeated evaluations: raise, mean or last.")
MinTokensOption = typer.Option(None, "--min-tokens", help="Drop checkpoints below this many tokens.")
WindowOption = typer.Option(None, "--window", help="Keep this fraction of each run, e.g. 0.7,1.0.")
FinalOnlyOption = typer.Option(False, "--final-only", help="Fit only the last checkpoint of each run.")

EXIT_CHECK_FAILED = 1
EXIT_DATA_ERROR = 3


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def parse_pairs(items: Optional[list[str]], what: str, numeric: bool = False) -> dict[str, Any]:
    """Parse ``["a=b", "c=d"]`` (or ``"a=b,c=d"``) into a dict."""
    out: dict[str, Any] = {}
    for item in items or []:
        for part in str(item).split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise typer.BadParameter(f"{what} expects name=value, got {part!r}")
            key, value = (s.strip() for s in part.split("=", 1))
            if numeric:
                try:
                    out[key] = float(value)
                except ValueError:
                    raise typer.BadParameter(f"{what}: {value!r} is not a number (in {part!r})") from None
            else:
                out[key] = value
    return out


def parse_point(text: str) -> dict[str, float]:
    """``"params=7e10,tokens=1.4e12"`` -> ``{"params": 7e10, "tokens": 1.4e12}``."""
    return parse_pairs([text], "--at", numeric=True)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def emit(payload: dict[str, Any], json_output: bool, text: str | None = None) -> None:
    """Print ``payload`` as JSON (``--json``) or ``text`` for people."""
    if json_output:
        sys.stdout.write(json.dumps(_jsonable(payload), indent=2) + "\n")
    elif text is not None:
        console().print(text, markup=False)


@contextmanager
def cli_errors(json_output: bool = False) -> Iterator[None]:
    """Turn scalinglab errors into a one-line message (or JSON) and a non-zero exit code."""
    try:
        yield
    except ScalingLabError as exc:
        if json_output:
            sys.stdout.write(json.dumps({"error": _jsonable(exc.to_dict())}) + "\n")
        else:
            msg = str(exc).replace("\n", " ")
            console(stderr=True).print(f"error: {msg}", markup=False)
        raise typer.Exit(EXIT_DATA_ERROR) from None


def load_runs_for_cli(path: Path, maps: Optional[list[str]], units: Optional[list[str]] = None,
                      duplicates: str = "raise"):
    """read_runs with the CLI's --map / --unit / --duplicates options."""
    from scalinglab.data import read_runs

    return read_runs(path, units=parse_pairs(units, "--unit", numeric=True) or None, duplicates=duplicates,
                     **parse_pairs(maps, "--map"))
