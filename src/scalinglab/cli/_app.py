"""The ``scalinglab`` Typer application: one module per command under ``commands/``.

Each command module defines ``register(app)``; this file only lists them.
"""

from __future__ import annotations

import importlib
import importlib.util

import typer

from scalinglab import __version__

_COMMANDS = ("laws", "fit", "predict", "demo", "backtest", "plan", "suggest", "sweep", "plot", "report", "transfer")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scalinglab {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(name="scalinglab", no_args_is_help=True, add_completion=False,
                      help="Estimate, test and apply neural scaling laws.",
                      pretty_exceptions_enable=False)

    @app.callback()
    def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                                     help="Show the version and exit.")) -> None:
        """Estimate, test and apply neural scaling laws."""

    for name in _COMMANDS:
        module_name = f"scalinglab.cli.commands.{name}"
        if importlib.util.find_spec(module_name) is None:  # command not built in this version
            continue
        module = importlib.import_module(module_name)
        if hasattr(module, "register"):
            module.register(app)
        else:
            app.command(name)(getattr(module, f"{name}_command"))
    return app


def main() -> None:
    build_app()()
