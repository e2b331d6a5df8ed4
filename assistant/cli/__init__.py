"""The ``gdr`` command line."""

from assistant.cli.main import main

__all__ = ["main"]
