"""``scalinglab suggest DATA``: the next runs that most shrink the prediction interval at a target."""

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
    ReaderOption,
    UnitOption,
    WindowOption,
    checkpoint_rule,
    cli_errors,
    emit,
    load_runs_for_cli,
    parse_point,
    read_points,
)


def register(app: typer.Typer) -> None:
    @app.command("suggest")
    def suggest_command(
        data: Path = typer.Argument(
            ...,
            metavar="DATA",
            help="Existing runs (CSV/JSONL/Parquet): one row per finished "
            "run; a run with several checkpoints counts with its final one unless "
            "--min-tokens/--window/--final-only choose.",
        ),
        law: str = typer.Option("chinchilla", "--law", help="Law to fit (see `scalinglab laws`)."),
        target: str = typer.Option(..., "--target", help="Where the prediction matters: params=7e9,tokens=1.4e11."),
        budget: float = typer.Option(..., "--budget", help="FLOPs available for the new runs (6ND each)."),
        candidates: Optional[Path] = typer.Option(None, "--candidates", help="CSV of allowed runs (params, tokens)."),
        max_runs: int = typer.Option(8, "--max-runs", help="Most runs to propose."),
        interval: float = typer.Option(0.9, "--interval", help="Level of the interval the designs are scored on."),
        maps: Optional[list[str]] = MapOption,
        units: Optional[list[str]] = UnitOption,
        duplicates: str = DuplicatesOption,
        file_format: Optional[str] = FormatOption,
        reader_options: Optional[list[str]] = ReaderOption,
        min_tokens: Optional[float] = MinTokensOption,
        window: Optional[str] = WindowOption,
        final_only: bool = FinalOnlyOption,
        json_output: bool = JsonOption,
    ) -> None:
        """Propose runs (sizes x tokens within --budget) that most shrink the interval at --target."""
        from scalinglab.plan import suggest

        with cli_errors(json_output):
            runs = load_runs_for_cli(data, maps, units, duplicates, file_format, reader_options=reader_options)
            rule = checkpoint_rule(min_tokens, window, final_only)
            if rule.is_noop and runs.frame["run"].duplicated().any():
                rule = checkpoint_rule(final_only=True)
                if not json_output:
                    typer.echo(
                        "note: runs have several checkpoints; using the final checkpoint of each run "
                        "(one row per finished run; --min-tokens/--window choose others)",
                        err=True,
                    )
            runs = rule.apply(runs)
            cand = read_points(candidates) if candidates is not None else None
            result = suggest(
                runs,
                law,
                target=parse_point(target),
                budget=budget,
                candidates=cand,
                max_runs=max_runs,
                interval=interval,
            )
            emit(result.to_dict(), json_output, str(result.summary()))
