"""``scalinglab fit``: fit a law to a runs table, print the summary, optionally save it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import (
    DuplicatesOption,
    FinalOnlyOption,
    FormatOption,
    JsonOption,
    MapOption,
    MinTokensOption,
    UnitOption,
    WindowOption,
    XOption,
    YOption,
    checkpoint_rule,
    cli_errors,
    emit,
    load_runs_for_cli,
    parse_pairs,
    parse_window,
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
        decompose: bool = typer.Option(False, "--decompose", help="Irreducible (floor) and reducible loss at the "
                                                                  "fitted points, with intervals (laws with a floor)."),
        json_output: bool = JsonOption,
    ) -> None:
        """Fit a scaling law to runs and print the summary."""
        import warnings

        from scalinglab.fit import fit

        with cli_errors(json_output):
            runs = load_runs_for_cli(data, maps, units, duplicates, file_format)
            runs = checkpoint_rule(min_tokens, window, final_only).apply(runs)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # diagnostics are printed with the summary
                result = fit(runs, law, x=parse_x(x), y=y, loss=loss, delta=delta,
                             fixed=parse_pairs(fix, "--fix", numeric=True) or None)
            if output is not None:
                result.save(output)
            payload = {k: v for k, v in result.to_dict().items() if k not in ("data", "cov", "start_objectives")}
            if output is not None:
                payload["saved_to"] = str(output)
            text = result.summary().as_text() + (f"\n\nSaved to {output}" if output else "")
            if decompose:
                parts = result.decompose()
                payload["decomposition"] = parts.to_dict()
                text += "\n\n" + parts.summary()
            emit(payload, json_output, text)
