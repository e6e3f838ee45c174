"""Command-line interface: a thin layer over the Python API (``scalinglab --help``)."""

from scalinglab.cli._app import build_app, main

__all__ = ["build_app", "main"]
