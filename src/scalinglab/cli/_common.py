"""Options and output helpers shared by every CLI command (parse -> call the API -> render)."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

import typer
from rich.console import Console

from scalinglab._io import to_jsonable
from scalinglab.errors import ScalingLabError

if TYPE_CHECKING:
    from scalinglab.data import CheckpointRule

__all__ = [
    "JsonOption", "MapOption", "UnitOption", "XOption", "YOption", "DuplicatesOption", "MinTokensOption",
    "WindowOption", "FinalOnlyOption", "IntervalOption", "NResamplesOption", "n_resamples_option",
    "parse_pairs", "parse_point", "parse_window", "checkpoint_rule", "deprecated_flag", "hidden_alias",
    "resolve_alias", "emit", "cli_errors", "console", "load_runs_for_cli", "target_column",
]

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")
MapOption = typer.Option(None, "--map", help="Map a canonical column to yours: params=num_params (repeatable).")
UnitOption = typer.Option(None, "--unit", help="Multiply a column: params=1e6, flops=8.64e19 (repeatable).")
XOption = typer.Option(None, "--x", help="Input column(s): 'flops' or N=params (repeatable).")
YOption = typer.Option("loss", "--y", help="Target column.")
FormatOption = typer.Option(None, "--format", help="File format, overriding the suffix (see read_runs: csv, tsv, "
                            "jsonl, json, parquet or a registered reader).")
DuplicatesOption = typer.Option("raise", "--duplicates",
                                help="Repeated evaluations of one (run, tokens): raise, mean or last.")

# The one checkpoint rule (scalinglab.data.CheckpointRule), with the same three flags on every command.
MinTokensOption = typer.Option(None, "--min-tokens", help="Drop checkpoints below this many tokens (1e10 = 10B cut).")
WindowOption = typer.Option(None, "--window", metavar="LO,HI",
                            help="Keep checkpoints within this fraction of each run's training, e.g. 0.7,1 "
                                 "(the last 30%).")
FinalOnlyOption = typer.Option(False, "--final-only", help="Keep only the last checkpoint of each run.")

IntervalOption = typer.Option(0.9, "--interval", help="Interval level, e.g. 0.9; 0 for none.")


def n_resamples_option(default: int = 200) -> Any:
    """``--n-resamples``: how many resamples (bootstrap or parameter draws) the intervals rest on."""
    return typer.Option(default, "--n-resamples", help="Resamples (bootstrap or parameter draws) behind the intervals.")


NResamplesOption = n_resamples_option(200)

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


def parse_window(text: Optional[str]) -> tuple[float, float] | None:
    """``"0.7,1"`` -> ``(0.7, 1.0)``; ``None`` stays ``None``.

    Examples
    --------
    >>> parse_window("0.2,1")
    (0.2, 1.0)
    """
    if text is None:
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"--window expects 'lo,hi' fractions such as 0.7,1.0; got {text!r}",
                                 param_hint="'--window'") from None
    return lo, hi


def checkpoint_rule(min_tokens: Optional[float] = None, window: Optional[str] = None, final_only: bool = False,
                    base: "CheckpointRule | None" = None) -> "CheckpointRule":
    """The :class:`~scalinglab.data.CheckpointRule` of ``--min-tokens``, ``--window LO,HI``, ``--final-only``.

    Flags that are given replace the fields of ``base`` (default: the rule that keeps every checkpoint).

    Examples
    --------
    >>> checkpoint_rule(min_tokens=1e10, window="0.2,1").describe()
    'drop checkpoints < 1e+10 tokens; drop the first 20% of each run'
    >>> checkpoint_rule().is_noop
    True
    """
    from scalinglab.data import CheckpointRule

    return CheckpointRule.coerce(base, min_tokens=min_tokens, window=parse_window(window),
                                 final_only=True if final_only else None)


def deprecated_flag(old: str, new: str) -> None:
    """One line on stderr: ``old`` still works but ``new`` replaces it."""
    verb = "are" if " and " in old else "is"
    console(stderr=True).print(f"warning: {old} {verb} deprecated; use {new}", markup=False)


def hidden_alias(flag: str, replacement: str) -> Any:
    """A deprecated option (default ``None``), still accepted but hidden from ``--help``; read it with
    :func:`resolve_alias` or report it with :func:`deprecated_flag`."""
    return typer.Option(None, flag, hidden=True, help=f"Deprecated: use {replacement}.")


def resolve_alias(ctx: typer.Context, name: str, value: Any, old_flag: str, old_value: Any) -> Any:
    """The value of option ``name``, or of its deprecated alias ``old_flag`` when that one is given.

    Giving the alias prints one deprecation line on stderr; giving both with different values is a usage error.
    """
    if old_value is None:
        return value
    param = next(p for p in ctx.command.params if p.name == name)
    flag = max(param.opts, key=len)
    deprecated_flag(old_flag, flag)
    source = ctx.get_parameter_source(name)
    if source is not None and source.name != "DEFAULT" and value != old_value:
        raise typer.BadParameter(f"give {flag} or the deprecated {old_flag}, not both", param_hint=f"'{flag}'")
    return old_value


def emit(payload: dict[str, Any], json_output: bool, text: str | None = None) -> None:
    """Print ``payload`` as JSON (``--json``) or ``text`` for people."""
    if json_output:
        sys.stdout.write(json.dumps(to_jsonable(payload), indent=2) + "\n")
    elif text is not None:
        console().print(text, markup=False)


@contextmanager
def cli_errors(json_output: bool = False) -> Iterator[None]:
    """Turn scalinglab errors into a one-line message (or JSON) and a non-zero exit code."""
    try:
        yield
    except ScalingLabError as exc:
        if json_output:
            sys.stdout.write(json.dumps({"error": to_jsonable(exc.to_dict())}) + "\n")
        else:
            msg = str(exc).replace("\n", " ")
            console(stderr=True).print(f"error: {msg}", markup=False)
        raise typer.Exit(EXIT_DATA_ERROR) from None


def load_runs_for_cli(path: Path, maps: Optional[list[str]], units: Optional[list[str]] = None,
                      duplicates: str = "raise", file_format: Optional[str] = None,
                      required: tuple[str, ...] = ("loss",)):
    """read_runs with the CLI's --map / --unit / --duplicates / --format options.

    ``required``: the columns the command needs (e.g. its ``--y`` target), after mapping.
    """
    from scalinglab.data import read_runs

    return read_runs(path, units=parse_pairs(units, "--unit", numeric=True) or None, duplicates=duplicates,
                     format=file_format, required=required, **parse_pairs(maps, "--map"))


def target_column(y: str, maps: Optional[list[str]]) -> str:
    """The column ``--y`` names after ``--map``: ``--map loss=acc --y acc`` -> ``"loss"`` (the renamed column).

    Examples
    --------
    >>> target_column("acc", ["loss=acc"]), target_column("accuracy", None)
    ('loss', 'accuracy')
    """
    renamed = {user: canonical for canonical, user in parse_pairs(maps, "--map").items()}
    return renamed.get(y, y)
