"""``scalinglab demo``: fit the bundled tiny-LM ladder and predict its largest model."""

from __future__ import annotations

import typer

from scalinglab.cli._common import JsonOption, cli_errors, emit


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_command(json_output: bool = JsonOption) -> None:
        """Fit Chinchilla to the bundled ladder (all but the largest model) and predict the largest."""
        from scalinglab.demo import run_demo

        with cli_errors(json_output):
            result = run_demo()
            emit(result.to_dict(), json_output, result.as_text())
