"""``scalinglab laws``: the registry with formulas and sources."""

from __future__ import annotations

import typer

from scalinglab.cli._common import JsonOption, emit


def register(app: typer.Typer) -> None:
    @app.command("laws")
    def laws_command(json_output: bool = JsonOption) -> None:
        """List the registered scaling laws with their formulas, inputs and sources."""
        from scalinglab.laws import list_laws

        laws = list_laws()
        lines = []
        for lw in laws:
            inputs = ", ".join(f"{s}<-{c}" for s, c in lw.inputs.items())
            alias = f" (alias {', '.join(lw.aliases)})" if lw.aliases else ""
            lines.append(
                f"{lw.name}{alias}\n    {lw.formula}\n    inputs: {inputs}; target: {lw.target}; "
                f"params: {', '.join(lw.params)}\n    {lw.reference}"
            )
        emit({"laws": [lw.describe() for lw in laws]}, json_output, "\n".join(lines))
