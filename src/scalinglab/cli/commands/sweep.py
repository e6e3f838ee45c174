"""``scalinglab sweep CONFIG``: train a ladder of tiny language models (thin layer over ``scalinglab.sweep.run``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from scalinglab.errors import ConfigError


def sweep_command(
    config: Path = typer.Argument(..., help="Sweep config (.toml, .yaml or .yml)."),
    out: Optional[Path] = typer.Option(
        None, "--out", "-o", help="Output directory (default: config 'out' or sweeps/<name>)."
    ),
    workers: Optional[int] = typer.Option(None, "--workers", help="Runs trained at once (default: number of CPUs)."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary instead of a progress bar."),
    backend: str = typer.Option(
        "local",
        "--backend",
        help="Where runs train: local (process pool), serial, or ray "
        "(a Ray cluster; one run per task, a GPU per run when the config asks for cuda).",
    ),
    address: Optional[str] = typer.Option(
        None,
        "--address",
        help="Ray cluster address (with --backend ray), e.g. "
        "ray://head:10001 or auto; default: start a local Ray instance.",
    ),
) -> None:
    """Train a ladder of byte-level transformer LMs; finished runs are skipped, so re-running resumes."""
    from scalinglab.sweep import run
    from scalinglab.sweep.executor import RayExecutor, SerialExecutor

    try:
        if backend not in ("local", "serial", "ray"):
            raise ConfigError(f"unknown --backend {backend!r}", hint="use --backend local, serial or ray")
        if address is not None and backend != "ray":
            raise ConfigError("--address applies to --backend ray", hint="add --backend ray, or drop --address")
        executor = (
            RayExecutor(workers, address=address)
            if backend == "ray"
            else SerialExecutor()
            if backend == "serial"
            else None
        )
        result = run(config, out, workers=workers, executor=executor, progress=not json_output)
    except ConfigError as e:
        if json_output:
            typer.echo(json.dumps({"error": e.to_dict()}))
        else:
            typer.echo(f"error: {str(e).replace(chr(10), ' ')}", err=True)
        raise typer.Exit(3) from None
    if json_output:
        typer.echo(json.dumps(result.to_dict()))
    else:
        typer.echo(
            f"trained {len(result.trained)} run(s), skipped {len(result.skipped)}; runs table: {result.runs_csv}"
        )
