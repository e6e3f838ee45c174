"""``scalinglab sweep CONFIG``: train a ladder of tiny language models (thin layer over ``scalinglab.sweep.run``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from scalinglab.errors import ConfigError


def sweep_command(
    config: Path = typer.Argument(..., help="Sweep config (.toml, .yaml or .yml)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output directory (default: config 'out' or sweeps/<name>)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Runs trained at once (default: number of CPUs)."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary instead of a progress bar."),
) -> None:
    """Train a ladder of byte-level transformer LMs; finished runs are skipped, so re-running resumes."""
    from scalinglab.sweep import run

    try:
        result = run(config, out, workers=workers, progress=not json_output)
    except ConfigError as e:
        if json_output:
            typer.echo(json.dumps({"error": e.to_dict()}))
        else:
            typer.echo(f"error: {str(e).replace(chr(10), ' ')}", err=True)
        raise typer.Exit(3) from None
    if json_output:
        typer.echo(json.dumps(result.to_dict()))
    else:
        typer.echo(f"trained {len(result.trained)} run(s), skipped {len(result.skipped)}; runs table: {result.runs_csv}")
