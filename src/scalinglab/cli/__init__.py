"""Command-line interface: a thin layer over the Python API (``scalinglab --help``).

``main`` answers the root ``--help`` from a static page (no Typer, rich or numpy imported) and
hands everything else to the Typer app built in ``_app``.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["build_app", "main"]


def main() -> None:
    """The ``scalinglab`` entry point."""
    from scalinglab.cli._root_help import root_help, wants_root_help

    if wants_root_help(sys.argv[1:]):
        sys.stdout.write(root_help())
        return
    from scalinglab.cli._app import main as run_app

    run_app()


def __getattr__(name: str) -> Any:
    if name == "build_app":
        from scalinglab.cli._app import build_app

        return build_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
