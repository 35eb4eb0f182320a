"""``cxmodel check``, ``cxmodel triggers`` and ``cxmodel explain``: the trigger language on the CLI."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cxmodel.errors import TriggerSyntaxError, TriggerTypeError

__all__ = ["add_trigger_commands"]


def _load(path: str) -> tuple[str, Any]:
    from cxmodel.triggers import parse

    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return text, parse(text)


def _check(args: argparse.Namespace) -> int:
    from cxmodel.triggers import check

    try:
        text, rules = _load(args.rules)
        if args.data:
            from cxmodel.cli._main import _read

            check(rules, _read(args.data, args.timezone, "quarantine"), source=text)
    except (TriggerSyntaxError, TriggerTypeError) as exc:
        # every diagnostic, each with its line and caret; exit status 1 as for a linter
        print(f"{args.rules}:\n{exc}", file=sys.stderr)
        return 1
    print(f"{args.rules}: {len(rules)} rule(s) OK")
    return 0


def _run(args: argparse.Namespace) -> int:
    from cxmodel.cli._main import _as_of, _read
    from cxmodel.triggers import evaluate, write_firings

    _, rules = _load(args.rules)
    as_of = _as_of(args.as_of, args.timezone)
    log = _read(args.data, args.timezone, "quarantine")
    write_firings(evaluate(rules, log, as_of=as_of), sys.stdout, format=args.format)
    return 0


def _explain(args: argparse.Namespace) -> int:
    from cxmodel.cli._main import _as_of, _read
    from cxmodel.triggers import explain

    _, rules = _load(args.rules)
    as_of = _as_of(args.as_of, args.timezone)
    log = _read(args.data, args.timezone, "quarantine")
    print(explain(rules, log, args.customer, as_of=as_of))
    return 0


def add_trigger_commands(commands: Any) -> None:
    """Register ``check``, ``triggers`` and ``explain`` on the CLI's sub-command parser."""
    check = commands.add_parser("check", help="parse and type-check a rules file (exit 1 on error)")
    check.add_argument("rules", help="rules file (.cx)")
    check.add_argument("--data", help="check names against this data file's schema")
    check.add_argument("--timezone", help="time zone of naive timestamps in --data")
    check.set_defaults(run=_check)

    run = commands.add_parser("triggers", help="evaluate rules over a data file")
    run.add_argument("rules", help="rules file (.cx)")
    run.add_argument("data", help="CSV, JSON lines or Parquet interactions")
    run.add_argument(
        "--as-of",
        required=True,
        help="evaluate as of this time (ISO-8601; a date or a time without offset is read in --timezone)",
    )
    run.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    run.add_argument("--timezone", help="time zone of naive timestamps in the data")
    run.set_defaults(run=_run)

    why = commands.add_parser("explain", help="say why each rule fired or not for one customer")
    why.add_argument("rules", help="rules file (.cx)")
    why.add_argument("data", help="CSV, JSON lines or Parquet interactions")
    why.add_argument("customer", help="the customer id")
    why.add_argument(
        "--as-of",
        required=True,
        help="explain as of this time (ISO-8601; a date or a time without offset is read in --timezone)",
    )
    why.add_argument("--timezone", help="time zone of naive timestamps in the data")
    why.set_defaults(run=_explain)
