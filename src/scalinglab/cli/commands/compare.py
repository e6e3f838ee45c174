"""``scalinglab compare DATA --by arm --law LAW``: arms compared by their scaling (analyze.compare)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import (
    FIGURE_SUFFIXES,
    DuplicatesOption,
    FigureOption,
    FinalOnlyOption,
    FormatOption,
    JsonOption,
    MapOption,
    MinTokensOption,
    UnitOption,
    WindowOption,
    XOption,
    YOption,
    check_level,
    check_output,
    checkpoint_rule,
    cli_errors,
    emit,
    load_runs_for_cli,
    n_resamples_option,
    progress_line,
    save_figure_of,
    target_column,
)


def _range(text: Optional[str]):
    from scalinglab.errors import InvalidParameterError

    if text is None:
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidParameterError(
            f"--range must be two numbers LO,HI; got {text!r}", hint="e.g. --range 1e18,1e22"
        ) from None
    if not 0 < lo < hi:
        raise InvalidParameterError(f"--range needs 0 < LO < HI; got {text!r}", hint="e.g. --range 1e18,1e22")
    return lo, hi


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare_command(
        data: str = typer.Argument(
            ..., metavar="DATA", help="Runs table with an arm column (or a bundled dataset name)."
        ),
        by: str = typer.Option("arm", "--by", help="The column naming each row's arm (arm, family, ...)."),
        law: str = typer.Option(
            "chinchilla",
            "--law",
            "-l",
            help="A two-input law with a compute-optimal allocation (compared along compute), or a one-input "
            "law with --x COLUMN (e.g. --law power_floor --x tokens).",
        ),
        x: Optional[list[str]] = XOption,
        y: str = YOption,
        exponent: Optional[list[str]] = typer.Option(
            None, "--exponent", help="Parameter to test (repeatable; default: the law's exponents)."
        ),
        reference: Optional[str] = typer.Option(
            None, "--reference", help="Arm the multipliers are relative to (default: the first)."
        ),
        scale_range: Optional[str] = typer.Option(
            None, "--range", help="LO,HI: where crossovers are looked for (default: data range, a decade beyond)."
        ),
        interval: float = typer.Option(0.9, "--interval", help="Interval level, e.g. 0.9."),
        n_resamples: int = n_resamples_option(1000),
        seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
        maps: Optional[list[str]] = MapOption,
        units: Optional[list[str]] = UnitOption,
        duplicates: str = DuplicatesOption,
        file_format: Optional[str] = FormatOption,
        min_tokens: Optional[float] = MinTokensOption,
        window: Optional[str] = WindowOption,
        final_only: bool = FinalOnlyOption,
        figure: Optional[Path] = FigureOption,
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Save the result as JSON here."),
        json_output: bool = JsonOption,
    ) -> None:
        """Per-arm fits, exponent tests, crossovers and compute (or data) multipliers between arms."""
        from scalinglab.analyze.compare import compare
        from scalinglab.cli.commands.fit import parse_x
        from scalinglab.errors import InvalidParameterError

        with cli_errors(json_output):
            check_level(interval)
            check_output(figure, FIGURE_SUFFIXES, "--figure")
            if n_resamples < 20:
                raise InvalidParameterError(
                    f"--n-resamples must be at least 20, got {n_resamples}", hint="e.g. --n-resamples 1000"
                )
            check_output(output, (".json",))
            rng = _range(scale_range)
            y = target_column(y, maps)
            runs = load_runs_for_cli(Path(data), maps, units, duplicates, file_format, required=(y,))
            runs = checkpoint_rule(min_tokens, window, final_only).apply(runs)
            with progress_line(f"comparing arms of '{by}' with {law}...", json_output):
                result = compare(
                    runs,
                    by,
                    law,
                    x=parse_x(x),
                    y=y,
                    exponents=exponent or None,
                    reference=reference,
                    scale_range=rng,
                    interval=interval,
                    resamples=n_resamples,
                    seed=seed,
                )
            text = result.summary()
            payload = result.to_dict()
            payload.pop("fits")  # every fit in full is in --output
            text += save_figure_of(result, figure, payload)
            if output is not None:  # written last
                from scalinglab._io import write_atomic

                write_atomic(output, json.dumps(result.to_dict()))
                payload["saved_to"] = str(output)
                text += f"\nSaved to {output}"
            emit(payload, json_output, text)
