"""``scalinglab backtest DATA --law LAW``: hold out the largest models, predict them, score the extrapolation."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import JsonOption, MapOption, UnitOption, cli_errors, emit, load_runs_for_cli


def register(app: typer.Typer) -> None:
    @app.command("backtest")
    def backtest_command(
        data: Path = typer.Argument(..., metavar="DATA", help="Runs table (CSV/JSONL/Parquet): run, params, tokens, loss."),
        law: Optional[list[str]] = typer.Option(None, "--law", help="Law to backtest (repeatable: a leaderboard)."),
        maps: Optional[list[str]] = MapOption,
        units: Optional[list[str]] = UnitOption,
        y: str = typer.Option("loss", "--y", help="Target column."),
        holdout: str = typer.Option("largest", "--holdout", help="largest | largest:K | compute>C (FLOPs)."),
        fit_models: str = typer.Option("all", "--fit-models", help="all | smallest:K | window:K (sizes below the held-out)."),
        fraction: float = typer.Option(1.0, "--fraction", help="Fit on the first FRACTION of each run's training."),
        skip_fraction: Optional[float] = typer.Option(None, "--skip-fraction",
                                                      help="Drop the first FRACTION of each fit run's training (default 0.2)."),
        min_tokens: Optional[float] = typer.Option(None, "--min-tokens", help="Drop fit checkpoints below this (1e10 = 10B cut)."),
        final_only: bool = typer.Option(False, "--final-only", help="Fit on final checkpoints only."),
        target: str = typer.Option("last30", "--target", help="last30 | last:F | final."),
        interval: float = typer.Option(0.9, "--interval", help="Prediction-interval level scored as coverage; 0 for none."),
        interval_method: str = typer.Option("auto", "--interval-method", help="delta | bootstrap | calibrated | auto (= calibrated: bootstrap widened by measured extrapolation error)."),
        json_output: bool = JsonOption,
    ) -> None:
        """Backtest one or more laws: fit the smaller models, score predictions of the held-out ones."""
        from scalinglab.data import CheckpointRule
        from scalinglab.evaluate import DEFAULT_POLICY, Policy, backtest

        with cli_errors(json_output):
            runs = load_runs_for_cli(data, maps, units)
            lo = (DEFAULT_POLICY.checkpoints.window or (0.0, 1.0))[0] if skip_fraction is None else skip_fraction
            rule = CheckpointRule(min_tokens=min_tokens, final_only=final_only,
                                  window=(lo, fraction) if (lo > 0 or fraction < 1) else None)
            policy = Policy(holdout=holdout, fit_models=fit_models, checkpoints=rule, target=target)
            bt = backtest(runs, law or ["chinchilla"], policy, y=y, interval=interval or None, method=interval_method)
            emit(bt.to_dict(), json_output, bt.summary())
