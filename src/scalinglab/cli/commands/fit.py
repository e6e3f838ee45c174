"""``scalinglab fit``: fit a law to a runs table, print the summary, optionally save it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import (
    EXIT_CHECK_FAILED,
    DuplicatesOption,
    FinalOnlyOption,
    FormatOption,
    JsonOption,
    MapOption,
    MinTokensOption,
    StrictOption,
    UnitOption,
    WindowOption,
    XOption,
    YOption,
    check_output,
    checkpoint_rule,
    cli_errors,
    emit,
    load_runs_for_cli,
    parse_pairs,
    parse_window,
    progress_line,
)

__all__ = ["register", "parse_x", "parse_window"]  # parse_window lives in cli._common; re-exported for plot/report


def parse_x(values: Optional[list[str]]):
    """``--x flops`` -> "flops"; ``--x N=params --x D=tokens`` -> mapping."""
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return values[0]
    return parse_pairs(values, "--x")


def register(app: typer.Typer) -> None:
    @app.command("fit")
    def fit_command(
        data: Path = typer.Argument(..., help="Runs table: CSV, JSON Lines or Parquet."),
        law: str = typer.Option("chinchilla", "--law", "-l", help="Law name (see `scalinglab laws`) or module:object."),
        x: Optional[list[str]] = XOption,
        y: str = YOption,
        maps: Optional[list[str]] = MapOption,
        units: Optional[list[str]] = UnitOption,
        duplicates: str = DuplicatesOption,
        file_format: Optional[str] = FormatOption,
        min_tokens: Optional[float] = MinTokensOption,
        window: Optional[str] = WindowOption,
        final_only: bool = FinalOnlyOption,
        loss: str = typer.Option("huber", "--loss", help="huber or squared."),
        delta: float = typer.Option(1e-3, "--delta", help="Huber threshold (log-loss units)."),
        fix: Optional[list[str]] = typer.Option(None, "--fix", help="Hold a parameter fixed: E=1.69 (repeatable)."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Save the fit as JSON here."),
        strict: bool = StrictOption,
        json_output: bool = JsonOption,
    ) -> None:
        """Fit a scaling law to runs and print the summary.

        The summary says which parameters the data cannot pin down; --strict makes that exit 1.
        """
        import warnings

        from scalinglab.fit import fit

        with cli_errors(json_output):
            check_output(output, (".json",))
            runs = load_runs_for_cli(data, maps, units, duplicates, file_format)
            runs = checkpoint_rule(min_tokens, window, final_only).apply(runs)
            with warnings.catch_warnings(), progress_line(f"fitting {law} to {len(runs)} rows...", json_output):
                warnings.simplefilter("ignore")  # diagnostics are printed with the summary
                result = fit(runs, law, x=parse_x(x), y=y, loss=loss, delta=delta,
                             fixed=parse_pairs(fix, "--fix", numeric=True) or None)
                summary = result.summary()  # the run bootstrap: before anything is written
            payload = {k: v for k, v in result.to_dict().items() if k not in ("data", "cov", "start_objectives")}
            payload["summary"] = summary.as_dict()
            payload["trusted"] = summary.trusted
            if output is not None:  # written last: an interrupted command leaves no complete-looking file
                result.save(output)
                payload["saved_to"] = str(output)
            text = summary.as_text() + (f"\n\nSaved to {output}" if output else "")
            emit(payload, json_output, text)
        if strict and not summary.trusted:
            if not json_output:
                typer.echo(f"--strict: the fit cannot be trusted ({len(summary.warnings)} diagnostic(s) above)",
                           err=True)
            raise typer.Exit(EXIT_CHECK_FAILED)
