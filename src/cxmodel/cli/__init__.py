"""The ``cxmodel`` command line: sample data, summaries, rule checks and trigger runs."""

from cxmodel.cli._main import main

__all__ = ["main"]
