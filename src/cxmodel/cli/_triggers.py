"""``cxmodel check`` and ``cxmodel triggers``: the trigger language on the command line."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from cxmodel.errors import CXModelError

__all__ = ["add_trigger_commands"]


def _triggers() -> Any:
    try:
        return importlib.import_module("cxmodel.triggers")
    except ImportError as exc:  # pragma: no cover - the package ships with cxmodel
        raise CXModelError(f"the trigger language is not available: {exc}") from exc


def _check(args: argparse.Namespace) -> int:
    triggers = _triggers()
    with open(args.rules, encoding="utf-8") as handle:
        text = handle.read()
    rules = triggers.parse(text)
    if args.data:
        from cxmodel.cli._main import _read

        log = _read(args.data, args.timezone, "quarantine")
        triggers.check(rules, log)
    print(f"{args.rules}: {len(rules)} rule(s) OK")
    return 0


def _run(args: argparse.Namespace) -> int:
    import sys

    from cxmodel.cli._main import _read

    triggers = _triggers()
    with open(args.rules, encoding="utf-8") as handle:
        rules = triggers.parse(handle.read())
    log = _read(args.data, args.timezone, "quarantine")
    firings = triggers.evaluate(rules, log, as_of=args.as_of)
    triggers.write_firings(firings, sys.stdout, format=args.format)
    return 0


def add_trigger_commands(commands: Any) -> None:
    """Register ``check`` and ``triggers`` on the CLI's sub-command parser."""
    check = commands.add_parser("check", help="parse and type-check a rules file")
    check.add_argument("rules", help="rules file (.cx)")
    check.add_argument("--data", help="check names against this data file's schema")
    check.add_argument("--timezone", help="time zone of naive timestamps in --data")
    check.set_defaults(run=_check)

    run = commands.add_parser("triggers", help="evaluate rules over a data file")
    run.add_argument("rules", help="rules file (.cx)")
    run.add_argument("data", help="CSV, JSON lines or Parquet interactions")
    run.add_argument("--as-of", required=True, help="evaluate as of this time (ISO-8601)")
    run.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    run.add_argument("--timezone", help="time zone of naive timestamps in the data")
    run.set_defaults(run=_run)
