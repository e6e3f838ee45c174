"""The package version (a module of its own, so that nothing inside the package imports the root package)."""

__version__ = "0.1.0"
