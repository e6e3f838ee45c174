"""Options and output helpers shared by every CLI command (parse -> call the API -> render)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from scalinglab._io import to_jsonable
from scalinglab.errors import ScalingLabError

if TYPE_CHECKING:
    from rich.console import Console

    from scalinglab.data import CheckpointRule

__all__ = [
    "JsonOption",
    "BorrowScaleOption",
    "MapOption",
    "UnitOption",
    "XOption",
    "YOption",
    "DuplicatesOption",
    "MinTokensOption",
    "WindowOption",
    "FinalOnlyOption",
    "IntervalOption",
    "NResamplesOption",
    "n_resamples_option",
    "parse_pairs",
    "parse_point",
    "parse_window",
    "parse_groups",
    "checkpoint_rule",
    "deprecated_flag",
    "hidden_alias",
    "resolve_alias",
    "emit",
    "cli_errors",
    "console",
    "load_runs_for_cli",
    "target_column",
    "StrictOption",
    "check_output",
    "check_level",
    "save_figure_of",
    "FigureOption",
    "FIGURE_SUFFIXES",
    "progress_line",
    "error_line",
    "read_points",
    "ReaderOption",
    "parse_reader_options",
    "runs_source",
]

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")
StrictOption = typer.Option(
    False,
    "--strict",
    help="Exit 1 when the fit cannot be trusted: a parameter the data "
    "cannot pin down, at a bound, not converged, or a row that alone sets the fit.",
)
MapOption = typer.Option(
    None, "--map", metavar="CANONICAL=YOURS", help="Map a canonical column to yours: params=num_params (repeatable)."
)
UnitOption = typer.Option(
    None, "--unit", metavar="COLUMN=FACTOR", help="Multiply a column: params=1e6, flops=8.64e19 (repeatable)."
)
XOption = typer.Option(
    None, "--x", metavar="COLUMN|SYMBOL=COLUMN", help="Input column(s): 'flops' or N=params (repeatable)."
)
YOption = typer.Option("loss", "--y", help="Target column.")
FormatOption = typer.Option(
    None,
    "--format",
    help="File format, overriding the suffix (see read_runs: csv, tsv, jsonl, json, parquet or a registered reader).",
)
DuplicatesOption = typer.Option(
    "raise", "--duplicates", help="Repeated evaluations of one (run, tokens): raise, mean or last."
)

#: How borrowed coefficients are put on the borrowing group's loss scale (backtest and fit with --borrow-from).
BorrowScaleOption = typer.Option(
    "relative",
    "--borrow-scale",
    help="With --borrow-from: relative (put each lender on the borrowing group's loss scale) | absolute.",
)

# The one checkpoint rule (scalinglab.data.CheckpointRule), with the same three flags on every command.
MinTokensOption = typer.Option(None, "--min-tokens", help="Drop checkpoints below this many tokens (1e10 = 10B cut).")
WindowOption = typer.Option(
    None,
    "--window",
    metavar="LO,HI",
    help="Keep checkpoints within this fraction of each run's training, e.g. 0.7,1 (the last 30%).",
)
FinalOnlyOption = typer.Option(False, "--final-only", help="Keep only the last checkpoint of each run.")

# Options of the reader that reads DATA (scalinglab.data.list_readers), on every command that reads runs.
ReaderOption = typer.Option(
    None,
    "--reader-option",
    metavar="KEY=VALUE",
    help="An option of DATA's reader, e.g. tokens_per_step=4e6 (W&B, MLflow, trainer logs) or "
    "experiment=NAME (MLflow) (repeatable; VALUE as JSON when it parses).",
)

IntervalOption = typer.Option(0.9, "--interval", help="Interval level, e.g. 0.9; 0 for none.")
FigureOption = typer.Option(None, "--figure", help="Save the figure here (.png/.svg/.pdf).")
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def n_resamples_option(default: int = 200) -> Any:
    """``--n-resamples``: how many resamples (bootstrap or parameter draws) the intervals rest on."""
    return typer.Option(default, "--n-resamples", help="Resamples (bootstrap or parameter draws) behind the intervals.")


NResamplesOption = n_resamples_option(200)

EXIT_CHECK_FAILED = 1
EXIT_DATA_ERROR = 3
EXIT_BUG = 4


def console(stderr: bool = False) -> Console:
    """A rich console (imported here: ``scalinglab --help`` does not need rich's console module)."""
    from rich.console import Console

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


def parse_groups(text: Optional[str]) -> str | list[str] | None:
    """``--borrow-from``: ``"others"`` stays ``"others"``; ``"a, b"`` -> ``["a", "b"]``; ``None`` stays ``None``.

    >>> parse_groups("others"), parse_groups("pythia, OPT")
    ('others', ['pythia', 'OPT'])
    """
    if text is None:
        return None
    names = [v.strip() for v in text.split(",") if v.strip()]
    return "others" if names == ["others"] else names


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
        raise typer.BadParameter(
            f"--window expects 'lo,hi' fractions such as 0.7,1.0; got {text!r}", param_hint="'--window'"
        ) from None
    return lo, hi


def checkpoint_rule(
    min_tokens: Optional[float] = None,
    window: Optional[str] = None,
    final_only: bool = False,
    base: CheckpointRule | None = None,
) -> CheckpointRule:
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

    return CheckpointRule.coerce(
        base, min_tokens=min_tokens, window=parse_window(window), final_only=True if final_only else None
    )


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


def _click():
    """The click that typer runs on (recent typer vendors its own copy)."""
    import typer.core

    return getattr(typer.core, "_click", None) or __import__("click")


def _command_flags() -> set[str] | None:
    """The options of the command being run (for checking that a hint names real flags)."""
    click = _click()
    getter = getattr(click, "get_current_context", None)
    if getter is None:
        import importlib

        getter = importlib.import_module(click.__name__ + ".globals").get_current_context
    try:
        ctx = getter(silent=True)
    except Exception:  # no context: nothing to check against
        return None
    if ctx is None:
        return None
    return {o for p in ctx.command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")} | {"--help"}


_FLAG = r"(?<![\w-])--[a-z][a-z0-9-]*"
#: Python syntax that has no place in a hint shown on the command line.
PYTHON_SYNTAX = r"\w\(|\w=\{|\w='|\w=\[|\w=\(|\bdf\.|\bpd\.|\bnp\."


def cli_hint(exc: ScalingLabError) -> str | None:
    """The fix as it reads on the command line: the error's ``cli_hint``, else the ``(CLI: ...)`` part of
    its hint, else the hint when it holds no Python syntax; a hint naming a flag that the running command
    lacks becomes a pointer to ``--help``."""
    import re

    flags = _command_flags()

    def runs_here(text: str) -> bool:  # every flag it names exists on the running command
        return flags is None or not (set(re.findall(_FLAG, text)) - flags)

    hint = exc.cli_hint
    if hint is None and exc.hint:
        m = re.search(r"\(CLI: ([^)]*)\)", exc.hint)
        # the whole hint with each "arg=... (CLI: --flag)" read as "--flag", so that its context (the
        # columns or values to choose from) stays; just the flag when Python syntax would remain
        whole = re.sub(r"[^\s;,]+=\S*\s*\(CLI: ([^)]*)\)", r"\1", exc.hint) if m else exc.hint
        if "(CLI:" not in whole and not re.search(PYTHON_SYNTAX, whole) and runs_here(whole):
            hint = whole
        elif m:
            hint = m.group(1)
        else:
            hint = "see --help for the options of this command"
    if hint and not runs_here(hint):
        hint = "see --help for the options of this command"
    return hint


def error_line(exc: ScalingLabError) -> str:
    """One line: the message and the fix as it reads on the command line."""
    hint = cli_hint(exc)
    msg = exc.message.replace("\n", " ")
    return f"error: {msg}" + (f" Fix: {hint}" if hint else "")


@contextmanager
def cli_errors(json_output: bool = False) -> Iterator[None]:
    """Turn scalinglab errors into a one-line message (or JSON) and a non-zero exit code.

    Inside, numpy's floating-point RuntimeWarnings are silenced (the results are checked instead) and
    scalinglab warnings are printed once each as ``warning: ...`` lines on stderr (never on stdout).
    Any other exception is reported as one line naming it as a bug (exit code 4), never a traceback.
    """
    import warnings

    import numpy as np

    from scalinglab.errors import ScalingLabWarning

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
            warnings.simplefilter("always")
            yield
    except ScalingLabError as exc:
        if json_output:
            payload = exc.to_dict()
            if cli_hint(exc):
                payload["hint"] = cli_hint(exc)
            sys.stdout.write(json.dumps({"error": to_jsonable(payload)}) + "\n")
        else:
            console(stderr=True).print(error_line(exc), markup=False)
        raise typer.Exit(EXIT_DATA_ERROR) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # a bug must still be one readable line, not a traceback
        if isinstance(exc, _click().exceptions.ClickException):
            raise
        text = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]
        if isinstance(exc, OSError):
            line = f"error: {exc.strerror or exc} ({exc.filename or 'file'})"
            code = EXIT_DATA_ERROR
        else:
            line = f"error: unexpected failure ({text}); this is a bug in scalinglab, please report it with the command"
            code = EXIT_BUG
        if json_output:
            sys.stdout.write(
                json.dumps({"error": {"kind": "unexpected" if code == EXIT_BUG else "os-error", "message": line[7:]}})
                + "\n"
            )
        else:
            console(stderr=True).print(line, markup=False)
        raise typer.Exit(code) from None
    finally:
        seen = set()
        for w in caught:
            if issubclass(w.category, ScalingLabWarning) and str(w.message) not in seen:
                seen.add(str(w.message))
                if not json_output:
                    console(stderr=True).print(f"warning: {w.message}", markup=False)


def check_level(interval: float) -> None:
    """Refuse an ``--interval`` outside (0, 1) for a command that always reports intervals."""
    from scalinglab.errors import InvalidParameterError

    if not 0 < interval < 1:
        raise InvalidParameterError(f"--interval must lie in (0, 1), got {interval}", hint="e.g. --interval 0.9")


def save_figure_of(result: Any, figure: Optional[Path], payload: dict) -> str:
    """Save ``result.figure()`` to ``--figure`` (when given), note it in ``payload``; the line for the text output."""
    if figure is None:
        return ""
    from scalinglab.render import save_figure

    save_figure(result.figure(), figure)
    payload["figure"] = str(figure)
    return f"\n\nFigure saved to {figure}"


def check_output(path: Optional[Path], suffixes: tuple[str, ...] = (), flag: str = "-o") -> None:
    """Refuse an output path that cannot be written, before any work is done: a directory, a missing
    folder (not created silently), a folder that cannot be written, or a wrong suffix.  ``flag``: the option
    that names it, for the message."""
    import os

    from scalinglab.errors import InvalidParameterError

    if path is None:
        return
    if str(path).strip() == "":
        raise InvalidParameterError(
            f"{flag}: the output path is empty", hint=f"give a file name, e.g. {flag} out{(suffixes or ('.json',))[0]}"
        )
    if path.is_dir():
        raise InvalidParameterError(
            f"{flag} {path}: is a directory, not a file",
            hint=f"name a file in it, e.g. {flag} {path / ('out' + (suffixes[0] if suffixes else ''))}",
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise InvalidParameterError(
            f"{flag} {path}: the folder {parent} does not exist",
            hint=f"create it first (mkdir -p {parent}) or write elsewhere",
        )
    if not parent.is_dir():
        raise InvalidParameterError(f"{flag} {path}: {parent} is a file, not a folder", hint="choose another path")
    if not os.access(parent, os.W_OK):
        raise InvalidParameterError(f"{flag} {path}: the folder {parent} cannot be written", hint="choose another path")
    if suffixes and path.suffix.lower() not in suffixes:
        raise InvalidParameterError(
            f"{flag} {path}: expected a file ending in {' or '.join(suffixes)}",
            hint=f"e.g. {flag} {path.with_suffix(suffixes[0]).name}",
        )


@contextmanager
def progress_line(label: str, json_output: bool) -> Iterator[Callable[[int, int], None]]:
    """A transient progress display on stderr while a long job runs (only on a terminal, never with --json).

    Yields ``progress(done, total)``: pass it to an API's ``progress=`` and the display becomes a bar
    with done/total, elapsed and remaining time; until the first call (or if the job never reports
    steps) it pulses.
    """
    con = console(stderr=True)
    if json_output or not con.is_terminal:
        yield lambda done, total: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), TimeRemainingColumn(), console=con, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield progress


def parse_reader_options(items: Optional[list[str]]) -> dict[str, Any]:
    """``--reader-option KEY=VALUE`` (repeatable) -> keyword options of the reader; VALUE is read as JSON when
    it parses (numbers, true/false, lists), else kept as text.

    Examples
    --------
    >>> parse_reader_options(["tokens_per_step=4e6", "experiment=ladder"])
    {'tokens_per_step': 4000000.0, 'experiment': 'ladder'}
    """
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(
                f"expected KEY=VALUE, got {item!r}; e.g. --reader-option tokens_per_step=4e6",
                param_hint="'--reader-option'",
            )
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


_MANGLED_URI = r"^([A-Za-z][A-Za-z0-9+.-]+):/(?!/)(.*)$"


def runs_source(path: Any) -> Any:
    """DATA as the reader should see it: the name of a bundled dataset (``tinylm``, see
    ``scalinglab.datasets.list_datasets()``) when no file has that name; a URI (``http://host:5000``,
    ``file:///srv/mlruns``) that the CLI's path type collapsed to ``http:/host:5000`` is given back as the
    URI; any other path is unchanged.

    The command line's own words are used when one of them is the URI; otherwise ``scheme:/rest`` becomes
    ``scheme://rest`` (``file:/x`` becomes ``file:///x``).  An existing file of that name stays a path.

    Examples
    --------
    >>> from pathlib import Path
    >>> runs_source(Path("http://localhost:5000")), runs_source(Path("file:///tmp/mlruns")), runs_source(Path("runs.csv"))
    ('http://localhost:5000', 'file:///tmp/mlruns', PosixPath('runs.csv'))
    """
    import re

    text = str(path)
    if not Path(text).exists():
        from scalinglab import datasets

        if text in datasets.list_datasets():
            return datasets.data_path(text)
    m = re.match(_MANGLED_URI, text)
    if m is None or Path(text).exists():
        return path
    for word in sys.argv[1:]:  # the exact words typed, when this is the command line
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+://", word) and str(Path(word)) == text:
            return word
    scheme, rest = m.groups()
    return f"{scheme}:///{rest}" if scheme.lower() == "file" else f"{scheme}://{rest}"


def load_runs_for_cli(
    path: Path,
    maps: Optional[list[str]],
    units: Optional[list[str]] = None,
    duplicates: str = "raise",
    file_format: Optional[str] = None,
    required: tuple[str, ...] = ("loss",),
    reader_options: Optional[list[str]] = None,
):
    """read_runs with the CLI's --map / --unit / --duplicates / --format / --reader-option options.

    ``required``: the columns the command needs (e.g. its ``--y`` target), after mapping.  DATA may be a
    URI for the readers that take one (MLflow tracking servers): :func:`runs_source`.
    """
    from scalinglab.data import read_runs
    from scalinglab.errors import DataError

    try:
        return read_runs(
            runs_source(path),
            units=parse_pairs(units, "--unit", numeric=True) or None,
            duplicates=duplicates,
            format=file_format,
            required=required,
            reader_options=parse_reader_options(reader_options) or None,
            **parse_pairs(maps, "--map"),
        )
    except DataError as exc:
        if exc.kind == "file-not-found" and exc.cli_hint is None:
            from scalinglab import datasets

            exc.cli_hint = f"check the path, or name a bundled dataset ({', '.join(datasets.list_datasets())})"
        raise


def target_column(y: str, maps: Optional[list[str]]) -> str:
    """The column ``--y`` names after ``--map``: ``--map loss=acc --y acc`` -> ``"loss"`` (the renamed column).

    Examples
    --------
    >>> target_column("acc", ["loss=acc"]), target_column("accuracy", None)
    ('loss', 'accuracy')
    """
    renamed = {user: canonical for canonical, user in parse_pairs(maps, "--map").items()}
    return renamed.get(y, y)


def read_points(path: Path):
    """``predict --points FILE``: a CSV of points, read with every failure as one DataError."""
    import pandas as pd

    from scalinglab.errors import DataError

    where = str(path)
    if not path.exists():
        raise DataError(
            "points file not found",
            source=where,
            kind="file-not-found",
            hint="check the path, or give points with --at params=...,tokens=...",
        )
    if path.is_dir():
        raise DataError(
            "expected a CSV file of points, got a directory",
            source=where,
            kind="not-a-file",
            hint="pass the path of a CSV file with one column per input",
        )
    try:
        frame = pd.read_csv(path)
    except UnicodeDecodeError:
        raise DataError(
            "the points file is not UTF-8 text",
            source=where,
            kind="malformed-file",
            hint="save it as a UTF-8 CSV with one column per input (e.g. params,tokens)",
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            "the points file is empty",
            source=where,
            kind="malformed-file",
            hint="write a header row (e.g. params,tokens) and one row per point",
        ) from None
    except Exception as exc:  # pandas raises many types for malformed CSV
        raise DataError(
            f"could not parse the points file ({type(exc).__name__}: {str(exc)[:100]})",
            source=where,
            kind="malformed-file",
            hint="write a CSV with a header row and one row per point",
        ) from None
    if frame.empty:
        raise DataError(
            "the points file has no rows",
            source=where,
            kind="malformed-file",
            hint="add one row per point under the header",
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in frame.columns:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna()
        if bad.any() and col in ("params", "tokens", "flops"):
            i = int(bad.to_numpy().nonzero()[0][0])
            raise DataError(
                f"cannot read {frame[col].iloc[i]!r} as a number",
                source=where,
                row=i + 1,
                column=col,
                kind="unparseable-number",
                hint="write plain numbers such as 7e10",
            )
        if not bad.any():
            frame[col] = values.astype(float)
    return frame
