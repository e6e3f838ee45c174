"""``scalinglab downstream DATA --loss BPB --y ACC``: two-step (N, D) -> task loss -> accuracy, backtested on the
largest model size, beside the direct baseline (:mod:`scalinglab.analyze.downstream`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import (
    FormatOption,
    IntervalOption,
    JsonOption,
    MapOption,
    ReaderOption,
    cli_errors,
    deprecated_flag,
    emit,
    n_resamples_option,
    parse_pairs,
    parse_reader_options,
    runs_source,
)

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("downstream")
    def downstream_command(
        data: Path = typer.Argument(
            ...,
            metavar="DATA",
            help="Ladder table: params, tokens, task loss, accuracy (the largest size is held out and predicted).",
        ),
        loss: str = typer.Option(..., "--loss", help="Task-loss column (bits per byte, log-perplexity)."),
        y: str = typer.Option(..., "--y", help="Accuracy column to predict."),
        step2: Optional[Path] = typer.Option(
            None,
            "--step2",
            help="Table of (loss, accuracy) pairs for step 2 "
            "(every checkpoint of the ladder runs, with a run column); default DATA.",
        ),
        link: str = typer.Option(
            "sigmoid", "--link", help="sigmoid (Bhagia et al. 2024) or exponential (Gadre et al. 2024)."
        ),
        chance: Optional[float] = typer.Option(
            None,
            "--chance",
            help="Chance accuracy: the link's lower anchor (with --no-anchors, the sigmoid's fixed floor).",
        ),
        ceiling: float = typer.Option(1.0, "--ceiling", help="Accuracy at zero task loss (the upper anchor)."),
        anchors: bool = typer.Option(
            True,
            "--anchors/--no-anchors",
            help="Anchor step 2 at (0, ceiling) and (largest loss, chance), as Bhagia et al. 2024 do.",
        ),
        skip_first: float = typer.Option(
            0.1, "--skip-first", help="Fraction of each run's first checkpoints left out of step 2 (with --step2)."
        ),
        smooth: int = typer.Option(
            1,
            "--smooth",
            help="Trailing moving average of the task loss over this many "
            "checkpoints of a run, for step 2 (with --step2; the paper uses 20).",
        ),
        extrapolation: str = typer.Option(
            "chained",
            "--extrapolation",
            help="Extrapolation error in the intervals: chained (both steps refitted without the ladder's "
            "largest sizes predict them; the error per decade beyond the ladder is calibrated on those), "
            "step1 (step 1's drift only) or none.",
        ),
        drift: Optional[bool] = typer.Option(
            None, "--drift/--no-drift", hidden=True, help="Deprecated: use --extrapolation step1 / none."
        ),
        law: str = typer.Option("chinchilla", "--law", help="Step-1 law in (N, D) (also the direct baseline)."),
        maps: Optional[list[str]] = MapOption,
        file_format: Optional[str] = FormatOption,
        reader_options: Optional[list[str]] = ReaderOption,
        interval: float = IntervalOption,
        n_draws: int = n_resamples_option(300),
        json_output: bool = JsonOption,
    ) -> None:
        """Backtest two-step downstream prediction on the largest model size, against the direct baseline."""
        from scalinglab.analyze.downstream import backtest_downstream
        from scalinglab.data import read_runs

        with cli_errors(json_output):
            if link not in ("sigmoid", "exponential"):
                raise typer.BadParameter(f"--link must be sigmoid or exponential; got {link!r}", param_hint="'--link'")
            if not 0 <= skip_first < 1:
                raise typer.BadParameter("--skip-first must be in [0, 1), e.g. 0.1", param_hint="'--skip-first'")
            if smooth < 1:
                raise typer.BadParameter("--smooth must be 1 or more checkpoints, e.g. 20", param_hint="'--smooth'")
            if n_draws < 20:
                raise typer.BadParameter("--n-resamples must be 20 or more, e.g. 300", param_hint="'--n-resamples'")
            if not 0 < interval < 1:
                raise typer.BadParameter("--interval must be in (0, 1) here, e.g. 0.9", param_hint="'--interval'")
            if drift is not None:
                deprecated_flag("--drift/--no-drift", "--extrapolation step1 / none")
                extrapolation = "step1" if drift else "none"
            if extrapolation not in ("chained", "step1", "none"):
                raise typer.BadParameter(
                    f"--extrapolation must be chained, step1 or none; got {extrapolation!r}",
                    param_hint="'--extrapolation'",
                )
            mapping = parse_pairs(maps, "--map")
            opts = {"required": (loss, y), "duplicates": "last", "format": file_format}
            ropts = parse_reader_options(reader_options) or None
            runs = read_runs(runs_source(data), reader_options=ropts, **opts, **mapping)
            s2 = read_runs(runs_source(step2), reader_options=ropts, **opts, **mapping) if step2 else None
            result = backtest_downstream(
                runs,
                loss=loss,
                metric=y,
                step2_runs=s2,
                link=link,
                chance=chance,
                ceiling=ceiling,
                anchors=anchors,
                skip_first=skip_first,
                smooth=smooth,
                extrapolation=extrapolation,
                step1_law=law,
                interval=interval,
                n_draws=n_draws,
                task=y,
            )
            emit(result.to_dict(), json_output, result.summary())
