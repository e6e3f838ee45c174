"""The ``scalinglab`` Typer application: one module per command under ``commands/``.

Each command module defines ``register(app)``; this file only lists them.
"""

from __future__ import annotations

import importlib
import importlib.util

import typer

from scalinglab import __version__

_COMMANDS = (
    "laws",
    "fit",
    "predict",
    "demo",
    "backtest",
    "plan",
    "suggest",
    "sweep",
    "plot",
    "report",
    "trends",
    "downstream",
    "transfer",
    "prune",
    "compare",
    "encdec",
    "multilingual",
    "mixed_modal",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scalinglab {__version__}")
        raise typer.Exit()


def _plain_help() -> None:
    """Help that reads like a command line: flags without a ``<bool>`` type, arguments as ``DATA``
    (not ``{data}``), list options without Python types."""
    import typer.core as core

    if getattr(core, "_scalinglab_plain", False):
        return
    option_type = core.TyperOption.display_type_rich

    def display_type_rich(self, ctx):
        if self.is_flag or self.count:
            return ""
        value = option_type(self, ctx)
        return (
            value.replace("<list[str]>", "<text>")
            .replace("<list[float]>", "<number>")
            .replace("<list[path]>", "<path>")
            .replace("<str>", "<text>")
            .replace("<float>", "<number>")
            if isinstance(value, str)
            else value
        )

    def usage_name(self):
        name = (self.metavar or self.name or "").upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    def rich_name(self):
        return (self.metavar or self.name or "").upper() + ("..." if self.metavar is None and self.nargs != 1 else "")

    core.TyperOption.display_type_rich = display_type_rich
    if hasattr(core.TyperArgument, "_usage_display_name"):
        core.TyperArgument._usage_display_name = usage_name
    if hasattr(core.TyperArgument, "_rich_display_name"):
        core.TyperArgument._rich_display_name = rich_name
    core._scalinglab_plain = True


def build_app() -> typer.Typer:
    _plain_help()
    app = typer.Typer(
        name="scalinglab",
        no_args_is_help=True,
        add_completion=False,
        help="Estimate, test and apply neural scaling laws.",
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ) -> None:
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
