"""The package version, in one place (the root package and saved fits read it)."""

__version__ = "0.1.0"
