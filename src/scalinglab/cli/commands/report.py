"""``scalinglab report DATA --law LAW -o report.html``: one self-contained HTML report (a thin layer over build_report).

Also home of :func:`command_line`, the shell-quoted command shown in the report's Reproduce section.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import typer

from scalinglab.cli._common import (
    DuplicatesOption,
    FinalOnlyOption,
    FormatOption,
    JsonOption,
    MapOption,
    MinTokensOption,
    ReaderOption,
    UnitOption,
    WindowOption,
    XOption,
    YOption,
    check_output,
    cli_errors,
    emit,
    load_runs_for_cli,
)


def parse_target(text: Optional[str]):
    """``largest`` / a run id stay strings; ``params=7e10,tokens=1.4e12`` becomes a point."""
    from scalinglab.cli._common import parse_point

    if text is None or "=" not in text:
        return text
    return parse_point(text)


def parse_analyses(names: Optional[list[str]], options: Optional[list[str]]) -> dict[str, dict[str, Any]]:
    """``--analysis NAME`` (repeatable) and ``--analysis-option NAME.KEY=VALUE`` (repeatable; implies
    ``--analysis NAME``) as build_report's ``analyses`` mapping.  VALUE is read as JSON when it parses
    (numbers, true/false, ["a", "b"]), else kept as text.

    Examples
    --------
    >>> parse_analyses(["trends"], ["trends.metric=acc", "trends.alpha=0.01"])
    {'trends': {'metric': 'acc', 'alpha': 0.01}}
    """
    import json

    out: dict[str, dict[str, Any]] = {str(n).strip(): {} for n in names or []}
    for item in options or []:
        head, sep, value = str(item).partition("=")
        name, dot, key = head.partition(".")
        if not (sep and dot and name.strip() and key.strip()):
            raise typer.BadParameter(
                f"expected NAME.KEY=VALUE, got {item!r}; e.g. --analysis-option trends.metric=acc",
                param_hint="'--analysis-option'",
            )
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
        out.setdefault(name.strip(), {})[key.strip()] = parsed
    return out


def command_line(ctx: Any = None, argv: Sequence[str] | None = None) -> str:
    """The command that produced the report, shell-quoted (for the Reproduce section).

    The process's own argv when it is the scalinglab CLI; otherwise (e.g. the command
    invoked in-process) it is rebuilt from the click context's parsed parameters.
    """
    argv = list(sys.argv if argv is None else argv)
    name = getattr(ctx, "info_name", None)
    prog = Path(argv[0]).name if argv else ""
    if (
        argv
        and (prog in ("scalinglab", "__main__.py") or prog.startswith("scalinglab"))
        and (name is None or name in argv[1:])
    ):
        return " ".join(["scalinglab"] + [shlex.quote(str(a)) for a in argv[1:]])
    if ctx is None:
        return " ".join(shlex.quote(str(a)) for a in argv)
    words = ["scalinglab", name or ""]
    for p in ctx.command.params:
        value = ctx.params.get(p.name)
        if p.param_type_name == "argument":
            words += [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
            continue
        if value == p.default or value is None or (isinstance(value, (list, tuple)) and not value):
            continue
        if p.is_flag:
            opts = p.opts if value else (p.secondary_opts or p.opts)
            words.append(opts[0])
            continue
        for v in value if isinstance(value, (list, tuple)) else [value]:
            words += [p.opts[0], str(v)]
    return " ".join(shlex.quote(w) for w in words if w != "")


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_command(
        ctx: typer.Context,
        data: Path = typer.Argument(..., help="Runs table: CSV, JSON Lines or Parquet."),
        law: Optional[list[str]] = typer.Option(None, "--law", "-l", help="Law to fit (repeatable; first = main)."),
        target: Optional[str] = typer.Option(
            None, "--target", "-t", help="'largest', a run id (held out), or params=..,tokens=.."
        ),
        output: Path = typer.Option(Path("report.html"), "--output", "-o", help="HTML file to write."),
        x: Optional[list[str]] = XOption,
        y: str = YOption,
        maps: Optional[list[str]] = MapOption,
        units: Optional[list[str]] = UnitOption,
        duplicates: str = DuplicatesOption,
        file_format: Optional[str] = FormatOption,
        reader_options: Optional[list[str]] = ReaderOption,
        min_tokens: Optional[float] = MinTokensOption,
        window: Optional[str] = WindowOption,
        final_only: bool = FinalOnlyOption,
        interval: float = typer.Option(0.9, "--interval", help="Interval level, e.g. 0.9."),
        method: str = typer.Option(
            "auto", "--method", help="Uncertainty: auto (run bootstrap with >= 5 runs), delta or bootstrap."
        ),
        backtest: bool = typer.Option(True, "--backtest/--no-backtest", help="Include the backtest section."),
        plan: bool = typer.Option(True, "--plan/--no-plan", help="Include compute-optimal planning."),
        analysis: Optional[list[str]] = typer.Option(
            None,
            "--analysis",
            help="Switch on an analysis section by name, e.g. trends (repeatable; see --analysis-option).",
        ),
        analysis_option: Optional[list[str]] = typer.Option(
            None,
            "--analysis-option",
            help="An analysis section's option as NAME.KEY=VALUE, e.g. trends.metric=acc (repeatable; "
            "VALUE as JSON when it parses).",
        ),
        title: Optional[str] = typer.Option(None, "--title", help="Report title."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress on stderr."),
        json_output: bool = JsonOption,
    ) -> None:
        """Fit, backtest and plan; write one HTML report that opens offline (figures inline as SVG)."""
        from scalinglab.cli.commands.fit import parse_window, parse_x
        from scalinglab.report import build_report

        with cli_errors(json_output):
            check_output(output, (".html", ".htm"))
            analyses = parse_analyses(analysis, analysis_option)
            runs = load_runs_for_cli(data, maps, units, duplicates, file_format, reader_options=reader_options)
            report = build_report(
                runs,
                list(law or ["chinchilla"]),
                target=parse_target(target),
                x=parse_x(x),
                y=y,
                min_tokens=min_tokens,
                window=parse_window(window),
                final_only=final_only,
                interval=interval,
                method=method,
                backtest=backtest,
                plan=plan,
                analyses=analyses,
                title=title,
                command=command_line(ctx),
                progress=progress and not json_output,
                path=output,
            )
            payload = {**report.to_dict(), "output": str(output)}
            left = "; left out: " + ", ".join(report.left_out) if report.left_out else ""
            emit(
                payload,
                json_output,
                f"wrote {output} ({payload['bytes'] / 1e6:.2f} MB, {payload['figures']} figures{left})",
            )
