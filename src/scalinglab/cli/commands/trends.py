"""``scalinglab trends DATA --metric acc``: label every (task, family) curve positive, inverse, U, inverted-U,
emergent, flat or insufficient, with the evidence (:func:`scalinglab.analyze.trends`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import (
    FIGURE_SUFFIXES,
    FigureOption,
    FormatOption,
    JsonOption,
    check_output,
    cli_errors,
    emit,
    n_resamples_option,
    parse_pairs,
    save_figure_of,
)

__all__ = ["register"]


def _chance(values: Optional[list[str]]):
    """``--chance 0.5`` (every curve), ``--chance memo-trap=0.5`` (per group) or ``--chance <column>``."""
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        try:
            return float(values[0])
        except ValueError:
            return values[0]  # a column name
    return parse_pairs(values, "--chance", numeric=True)


def register(app: typer.Typer) -> None:
    @app.command("trends")
    def trends_command(
        data: Path = typer.Argument(
            ...,
            metavar="DATA",
            help="Evaluation table (CSV/JSONL/Parquet), wide or long (metric/value/stderr columns).",
        ),
        metric: str = typer.Option("acc", "--metric", help="Metric column (or value of a long table's 'metric')."),
        x: str = typer.Option("params", "--x", help="Scale column: params, flops, tokens or any positive column."),
        by: Optional[str] = typer.Option(
            None,
            "--by",
            help="Grouping columns, comma-separated (default: task, subtask, family / model_family when present).",
        ),
        chance: Optional[list[str]] = typer.Option(
            None, "--chance", help="Chance level: 0.5, task=0.25 pairs (repeatable), or a column name."
        ),
        chance_band: float = typer.Option(
            0.02, "--chance-band", help="Points within 2 SE + this of chance are at chance."
        ),
        lower_is_better: Optional[bool] = typer.Option(
            None, "--lower-is-better/--higher-is-better", help="Metric direction (default: from the name)."
        ),
        se: Optional[str] = typer.Option(
            None, "--se", help="Standard-error column (default: <metric>_stderr, stderr or se)."
        ),
        n_items: Optional[str] = typer.Option(None, "--n-items", help="Items per evaluation (binomial SE)."),
        tau: Optional[float] = typer.Option(None, "--tau", help="Between-model scatter (default: estimated)."),
        replicates: Optional[str] = typer.Option(
            None, "--replicates", help="Column telling replicates apart (e.g. seed)."
        ),
        twins: Optional[list[str]] = typer.Option(
            None, "--twins", help="Twin families for tau, e.g. pythia=pythia-deduped (repeatable)."
        ),
        continuous: Optional[str] = typer.Option(
            None, "--continuous", help="A continuous metric of the same models (e.g. ppl, Brier) for the metric check."
        ),
        covariate: Optional[str] = typer.Option(
            None, "--covariate", help="Second scale whose checkpoints all enter the slope test (e.g. tokens)."
        ),
        all_checkpoints: bool = typer.Option(
            False, "--all-checkpoints", help="Keep every checkpoint (default: each model's last)."
        ),
        alpha: float = typer.Option(0.05, "--alpha", help="Test level after Benjamini-Hochberg."),
        n_boot: int = n_resamples_option(999),
        seed: int = typer.Option(0, "--seed"),
        figure: Optional[Path] = FigureOption,
        file_format: Optional[str] = FormatOption,
        json_output: bool = JsonOption,
    ) -> None:
        """Label each curve's trend with scale (positive, inverse, U, inverted-U, emergent, flat, insufficient)."""
        import time

        from scalinglab.analyze.trends import trends
        from scalinglab.data.readers import read_table

        with cli_errors(json_output):
            check_output(figure, FIGURE_SUFFIXES, "--figure")
            t0 = time.perf_counter()
            table = read_table(data, file_format) if file_format else data
            if n_boot < 0:
                raise typer.BadParameter("--n-resamples must be >= 0", param_hint="'--n-resamples'")
            result = trends(
                table,
                metric,
                x=x,
                by=[b for b in by.split(",")] if by else None,
                higher_is_better=None if lower_is_better is None else not lower_is_better,
                chance=_chance(chance),
                chance_band=chance_band,
                se=se,
                n_items=n_items,
                tau="auto" if tau is None else tau,
                replicates=replicates,
                twins=parse_pairs(twins, "--twins") or None,
                continuous=continuous,
                checkpoint="all" if all_checkpoints else "final",
                covariate=covariate,
                alpha=alpha,
                n_boot=n_boot,
                seed=seed,
            )
            seconds = time.perf_counter() - t0
            payload = {**result.to_dict(), "seconds": seconds}
            text = result.summary() + f"\n({seconds:.1f} s)" + save_figure_of(result, figure, payload)
            emit(payload, json_output, text)
