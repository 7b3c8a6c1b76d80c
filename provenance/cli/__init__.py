"""The command line: one module per command; `main` parses, dispatches, prints and exits."""

from provenance.cli.main import main

__all__ = ["main"]
