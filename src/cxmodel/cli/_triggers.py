"""``cxmodel check``, ``cxmodel triggers`` and ``cxmodel explain``: the trigger language on the CLI."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from typing import Any

from cxmodel.errors import (
    DataError,
    DataWarning,
    SchemaError,
    TriggerSyntaxError,
    TriggerTypeError,
    similar_ids,
)

__all__ = ["add_trigger_commands", "similar_ids"]


def _load(path: str) -> tuple[str, Any]:
    """The rules file's text (UTF-8, a byte-order mark dropped) and its rules; a file without
    a rule or an alert (empty, or comments only: the wrong file) is refused, as it would
    check "OK" and fire nothing without a word."""
    from cxmodel.io._sources import read_source
    from cxmodel.triggers import parse

    data = read_source(
        path, decompress=False, what="a rules file"
    )  # a file or a pipe, in lines of bounded length
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SchemaError(
            f"{path}: line {line}: byte {data[exc.start : exc.start + 1]!r} is not valid UTF-8; "
            "save the rules file as UTF-8"
        ) from None
    rules = parse(text)
    if not (len(rules) or rules.alerts):
        raise SchemaError(
            f"{path}: holds no rule (it is empty or only comments); expected rules such as "
            "'trigger welcome:' with their 'when' and 'emit' lines"
        )
    return text, rules


def _check(args: argparse.Namespace) -> int:
    from cxmodel.cli._main import shown
    from cxmodel.triggers import check

    try:
        text, rules = _load(args.rules)
        if args.data:
            log = _read_log(args)
            _noted(args.rules, check, rules, log, source=text)  # what the data cannot verify
    except (TriggerSyntaxError, TriggerTypeError) as exc:
        # every diagnostic, each with its line and caret; exit status 1 as for a linter
        print(shown([f"{args.rules}:", *str(exc).split("\n")]), file=sys.stderr)
        return 1
    print(f"{args.rules}: {_contents(rules)} OK")
    return 0


def _contents(rules: Any) -> str:
    """What a rules file holds, for ``check``: its rules, alerts and contact policies, each
    counted when there is one, as ``"6 rule(s) and 1 alert"`` or ``"1 alert"``."""
    counts = [
        (len(rules), "rule(s)", "rule(s)"),
        (len(rules.alerts), "alert", "alerts"),
        (len(rules.policies), "contact policy", "contact policies"),
    ]
    parts = [f"{n} {one if n == 1 else many}" for n, one, many in counts if n]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _noted(about: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``, its :class:`~cxmodel.errors.DataWarning` s printed on stderr
    as notes on the file ``about`` (a note, not an error; other warnings pass through as warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        out = call(*args, **kwargs)
    for warning in caught:
        if not issubclass(warning.category, DataWarning):  # not ours to turn into a note
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
            continue
        message = str(warning.message).replace("log.with_observed_until(...)", "--observed-until")
        print(f"{about}: note: {message}", file=sys.stderr)
    return out


def _read_log(args: argparse.Namespace) -> Any:
    """The data file's log (declared observed until ``--observed-until`` when given); rows
    set aside as unreadable are counted in a note on stderr (the rules do not see them),
    with the first one's reason."""
    from cxmodel.cli._main import _as_of, read_data

    log = read_data(args.data, args)
    until = getattr(args, "observed_until", None)
    if until is not None:
        log = log.with_observed_until(_as_of(until, args.timezone, option="--observed-until"))
    rejected = len(log.rejected)
    if rejected:
        row, reason, _ = next(iter(log.rejected))
        total = len(log) + rejected
        print(
            f"{args.data}: note: {rejected:,} of {total:,} rows set aside as unreadable; "
            f"the rules do not see them (first: row {row}: {reason})",
            file=sys.stderr,
        )
    return log


def _run(args: argparse.Namespace) -> int:
    from cxmodel.cli._main import _as_of
    from cxmodel.triggers import evaluate, write_firings

    _, rules = _load(args.rules)
    as_of = _as_of(args.as_of, args.timezone)
    log = _read_log(args)
    if not len(log):  # no output at all would read as "nobody to act on"
        print(
            f"{args.data}: note: the data hold no interaction, so no rule can fire",
            file=sys.stderr,
        )
    firings = _noted(args.data, evaluate, rules, log, as_of=as_of)
    write_firings(firings, sys.stdout, format=args.format)
    return 0


def _explain(args: argparse.Namespace) -> int:
    from cxmodel.cli._main import _as_of, shown
    from cxmodel.triggers import explain

    _, rules = _load(args.rules)
    as_of = _as_of(args.as_of, args.timezone)
    log = _read_log(args)
    ids = log.customers.tolist()
    if args.customer not in set(ids):
        raise _unknown_customer(log, ids, args.customer, args.data)
    explanation = _noted(args.data, explain, rules, log, args.customer, as_of=as_of)
    print(shown(str(explanation).split("\n")))
    return 0


def _unknown_customer(log: Any, ids: list[str], wanted: str, source: str) -> DataError:
    """The error for ``wanted``, not a customer of the data: its rows were all set aside as
    unreadable, or it names no one (with the close ids)."""
    set_aside = [
        r for r in log.rejected if isinstance(r[2], dict) and r[2].get("customer_id") == wanted
    ]
    if set_aside:
        return DataError(
            f"customer {wanted!r} has only rows set aside as unreadable in {source} "
            f"({len(set_aside):,}; first: row {set_aside[0][0]}: {set_aside[0][1]})"
        )
    close = similar_ids(wanted, ids)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    else:
        hint = f"ids look like {ids[:3]!r}" if ids else "the data have no customers"
    return DataError(f"customer {wanted!r} is not in {source} ({len(ids):,} customers); {hint}")


def _as_of_option(parser: Any, verb: str) -> None:
    """The required ``--as-of`` time of a command that evaluates rules (``verb`` says how),
    and ``--observed-until``."""
    parser.add_argument(
        "--as-of",
        required=True,
        help=f"{verb} as of this time (ISO-8601; a date or a time without offset is read in "
        "--timezone)",
    )
    parser.add_argument(
        "--observed-until",
        help="the data cover every interaction until this time, though their last one is "
        "earlier (default: their last interaction); firings after the data and up to it are "
        "then answered without a note",
    )


def add_trigger_commands(commands: Any) -> None:
    """Register ``check``, ``triggers`` and ``explain`` on the CLI's sub-command parser."""
    from cxmodel.cli._main import reading_options

    check = commands.add_parser("check", help="parse and type-check a rules file (exit 1 on error)")
    check.add_argument("rules", help="rules file (.cx)")
    check.add_argument("--data", help="check names against this data file's schema")
    reading_options(check)
    check.set_defaults(run=_check)

    run = commands.add_parser("triggers", help="evaluate rules over a data file")
    run.add_argument("rules", help="rules file (.cx)")
    run.add_argument("data", help="CSV, JSON lines or Parquet interactions")
    _as_of_option(run, "evaluate")
    run.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    reading_options(run)
    run.set_defaults(run=_run)

    why = commands.add_parser("explain", help="say why each rule fired or not for one customer")
    why.add_argument("rules", help="rules file (.cx)")
    why.add_argument("data", help="CSV, JSON lines or Parquet interactions")
    why.add_argument("customer", help="the customer id")
    _as_of_option(why, "explain")
    reading_options(why)
    why.set_defaults(run=_explain)
