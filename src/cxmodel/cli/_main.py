"""Command-line entry point. Errors print one clear line and exit non-zero, no traceback
(``--debug`` shows the traceback of an internal error)."""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from cxmodel._html import printable
from cxmodel._spelling import Argument, ArgumentHintError, ArgumentWarning
from cxmodel._time_format import TimeFormat
from cxmodel.errors import CXModelError, SchemaError
from cxmodel.log import InteractionLog

__all__ = ["main"]


def _parse_mapping(
    pairs: Sequence[str] | None, option: str = "--map", what: str = "column"
) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs or ():
        source, sep, target = pair.partition("=")
        if not sep or not source or not target:
            raise CXModelError(
                f"{option} expects YOUR_{what.upper()}=standard_{what} (got {pair!r})"
            )
        mapping[source] = target
    return mapping


def _as_of(text: str | None, timezone: str | None, *, option: str = "--as-of") -> Any:
    """``--as-of`` (or another time ``option``) as an aware time: a value without an offset
    is read in ``--timezone``."""
    if text is None:
        return None
    from cxmodel._time import parse_iso, resolve_timezone

    try:
        value = parse_iso(text)
    except ValueError:
        raise CXModelError(
            f"{option} {text!r} is not an ISO-8601 time; write e.g. 2025-06-01T00:00:00Z"
        ) from None
    if value.tzinfo is not None:
        return value
    if timezone is None:
        raise CXModelError(
            f"{option} {text!r} has no time zone; write it with one, e.g. "
            f"{value.isoformat()}Z, or pass --timezone"
        )
    return value.replace(tzinfo=resolve_timezone(timezone))


def reading_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that reads a data file takes."""
    parser.add_argument("--timezone", help="time zone of naive timestamps, e.g. UTC")
    parser.add_argument(
        "--time-format",
        metavar="FORMAT",
        help="layout of timestamps that are not ISO-8601, a strptime format, e.g. "
        "'%%m/%%d/%%Y %%H:%%M' for 12/1/2010 8:26 (day and month are never guessed)",
    )
    parser.add_argument(
        "--delimiter",
        default=",",
        help="CSV field separator (default ','), or 'whitespace' for fields separated by runs "
        "of spaces and tabs",
    )
    parser.add_argument("--encoding", default="utf-8", help="text encoding (default utf-8)")
    parser.add_argument(
        "--kind",
        action="append",
        metavar="YOURS=STANDARD",
        help="read your event name as a standard kind, e.g. Purchase=purchase (repeatable)",
    )
    parser.add_argument(
        "--all-kind",
        metavar="KIND",
        help="every row is of this kind, for a file without a kind column, e.g. an order "
        "export read with --all-kind purchase",
    )
    parser.add_argument(
        "--map",
        action="append",
        metavar="YOURS=STANDARD",
        help="read your column as a standard one, e.g. date=timestamp (repeatable)",
    )


_OPTIONS = {
    Argument.MAPPING: "--map",
    Argument.KIND: "--all-kind",
    Argument.KINDS: "--kind",
    Argument.TIMEZONE: "--timezone",
    Argument.DELIMITER: "--delimiter",
    Argument.ENCODING: "--encoding",
}
"""The option that sets each reader argument."""


def as_option(argument: Argument, value: str | None = None) -> str:
    """How the command line writes a reader argument: its option, with ``value`` as typed in
    a shell (``--map YOUR_COLUMN=timestamp``, ``--all-kind purchase``), or alone.

    Examples
    --------
    >>> as_option(Argument.MAPPING, "timestamp"), as_option(Argument.KIND, "big order")
    ('--map YOUR_COLUMN=timestamp', "--all-kind 'big order'")
    """
    option = _OPTIONS[argument]
    if value is None:
        return option
    if argument is Argument.MAPPING:
        return f"{option} YOUR_COLUMN={shlex.quote(value)}"
    if argument is Argument.KINDS:
        return f"{option} YOUR_KIND={shlex.quote(value)}"
    return f"{option} {shlex.quote(value)}"


def read_data(path: str, args: argparse.Namespace) -> InteractionLog:
    """Read ``path`` with the reading options in ``args``, keeping rejected rows aside.

    An error that asks for a reader argument (a missing required column, a bad kind of every
    row, naive times, the wrong delimiter or encoding) names the options that set it
    (``--map``, ``--all-kind``, ``--timezone``, ...), as :func:`as_option` spells them, not
    the Python arguments."""
    try:
        return _read(
            path,
            args.timezone,
            "quarantine",
            _parse_mapping(args.map) or None,
            delimiter=args.delimiter,
            encoding=args.encoding,
            kinds=_parse_mapping(args.kind, "--kind", "kind") or None,
            kind=args.all_kind,
            time_format=_time_format(args.time_format),
        )
    except ArgumentHintError as exc:
        raise SchemaError(exc.spelled(as_option)) from None


def _time_format(text: str | None) -> str | None:
    """``--time-format``, checked (its errors name the option)."""
    if text is not None:
        TimeFormat(text, "--time-format")
    return text


def _read(
    path: str,
    timezone: str | None,
    errors: str,
    mapping: dict[str, str] | None = None,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    kinds: dict[str, str] | None = None,
    kind: str | None = None,
    time_format: str | None = None,
) -> InteractionLog:
    from cxmodel._pieces import as_piece, first_count_is_zero, warn
    from cxmodel.errors import DataWarning
    from cxmodel.io import read_csv, read_jsonl, read_parquet

    suffixes = [s.lower() for s in Path(path).suffixes]
    while suffixes and suffixes[-1] in (".gz", ".bz2", ".xz"):  # read transparently
        suffixes.pop()
    suffix = suffixes[-1] if suffixes else ""
    mode: Any = errors
    options: dict[str, Any] = {
        "mapping": mapping,
        "timezone": timezone,
        "time_format": time_format,
        "errors": mode,
        "kinds": kinds,
        "kind": kind,
    }
    with as_piece() as caught:
        if suffix == ".parquet":
            log = read_parquet(path, **options)
        elif suffix in (".jsonl", ".ndjson", ".json"):  # .json: JSON lines, or told it is not
            log = read_jsonl(path, encoding=encoding, **options)
        else:
            log = read_csv(path, delimiter=delimiter, encoding=encoding, **options)
    # the commands print the rejected rows themselves; what --kind and --all-kind did not
    # do (a name no row has, a kind that only looks standard) is a note on stderr, in the
    # words of the command line; any other warning reaches the caller
    for warning in caught:
        if isinstance(warning, ArgumentWarning):
            print(f"{path}: note: {warning.spelled(as_option)}", file=sys.stderr)
        elif not isinstance(warning, DataWarning) and not first_count_is_zero(
            getattr(warning, "counts", {})
        ):
            warn(warning)
    return log


def _sample_log(customers: int, seed: int) -> InteractionLog:
    datasets = importlib.import_module("cxmodel.datasets")
    log: InteractionLog = datasets.synthetic(customers=customers, seed=seed).log
    return log


def _format_counts(counts: dict[str, int], limit: int = 12) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{name} {count:,}" for name, count in items[:limit] if count)
    more = len(items) - limit
    return shown + (f", ... ({more} more)" if more > 0 else "")


_SAMPLE_CUSTOMERS = 2000
"""The customers of ``--sample`` of ``summary`` and ``report`` without ``--customers``."""


def _one_source(args: argparse.Namespace) -> None:
    """Refuse a PATH given with ``--sample`` (the sample would be read and the file ignored),
    and ``--customers`` or ``--seed`` without ``--sample`` (they would be ignored)."""
    if args.sample and args.path:
        raise CXModelError(
            f"{args.command} reads a PATH or --sample, not both (got {args.path!r} and --sample)"
        )
    given = [
        f"{option} {value}"
        for option, value in (("--customers", args.customers), ("--seed", args.seed))
        if value is not None
    ]
    if given and not args.sample:
        one = len(given) == 1
        raise CXModelError(
            f"{' and '.join(given)} {'sets' if one else 'set'} the synthetic sample, which "
            f"{args.command} reads only with --sample; drop {'it' if one else 'them'} to read "
            "the file, or pass --sample instead of the file"
        )


def _sample_of(args: argparse.Namespace) -> tuple[InteractionLog, str]:
    """The synthetic sample ``--sample`` asks for, and its title."""
    customers = _SAMPLE_CUSTOMERS if args.customers is None else args.customers
    seed = 0 if args.seed is None else args.seed
    title = f"synthetic sample ({customers:,} customers, seed {seed})"
    return _sample_log(customers, seed), title


def _summary(args: argparse.Namespace) -> int:
    _one_source(args)
    if args.sample:
        log, title = _sample_of(args)
    elif args.path:
        log = read_data(args.path, args)
        title = args.path
    else:
        raise CXModelError("summary needs a PATH or --sample")
    s = log.summary()
    lines = [
        f"cxmodel summary of {title}",
        f"  rows         {s['rows']:,}",
        f"  customers    {s['customers']:,}",
    ]
    if s["rows"]:
        lines.append(
            f"  date range   {s['first']:%Y-%m-%d %H:%M} .. {s['last']:%Y-%m-%d %H:%M} UTC"
        )
    lines.append(f"  kinds        {_format_counts(s['kinds'])}")
    for name in ("touchpoints", "channels", "stages"):
        if name in s:
            lines.append(f"  {name:<12} {_format_counts(s[name])}")
    lines.append(f"  rejected     {s['rejected']:,} rows")
    for row, reason, _ in list(log.rejected)[:5]:
        lines.append(f"    row {row}: {reason}")
    print(shown(lines))
    return 0


def shown(lines: Sequence[str]) -> str:
    """``lines`` as one text for the terminal, the data's characters that are not printable
    (escape sequences, carriage returns) written as their escapes."""
    return "\n".join(printable(line) for line in lines)


def _report(args: argparse.Namespace) -> int:
    from cxmodel.report import cx_report

    _one_source(args)
    if args.out is not None and not args.out.strip():
        raise CXModelError("--out needs a file name, e.g. --out report.html (got '')")
    if args.sample:
        log, _ = _sample_of(args)
    elif args.path:
        log = read_data(args.path, args)
    else:
        raise CXModelError("report needs a PATH or --sample")
    out = Path(args.out) if args.out is not None else None
    if out is not None:
        _check_out(out, "--out", args.force)
        if out.suffix.lower() not in (".html", ".htm", ".txt"):
            raise CXModelError(
                f"--out {args.out!r}: the report is written as an HTML page (.html) or as "
                "text (.txt); name the file with one of them"
            )
    report = cx_report(log, as_of=_as_of(args.as_of, args.timezone))
    print(report)
    if out is not None and out.suffix.lower() == ".txt":
        out.write_text(f"{report}\n", encoding="utf-8")
        print(f"\ntext report written to {args.out}")
    elif out is not None:
        page = report.to_html()
        out.write_text(page, encoding="utf-8")
        where = out.resolve().as_uri()
        print(f"\nHTML report written to {args.out} (open {where} in a browser)")
        if "<svg" not in page and any(s.figures for s in report.sections):
            print('(no figures: install matplotlib with pip install "cxmodel[plot]")')
    return 0


def _sample(args: argparse.Namespace) -> int:
    from cxmodel.io import write_csv, write_parquet

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise CXModelError(
            f"--out {args.out!r}: the sample is written as CSV or Parquet; name the file "
            "with .csv or .parquet"
        )
    _check_out(out, "--out", args.force)
    log = _sample_log(args.customers, args.seed)
    if out.suffix.lower() == ".parquet":
        write_parquet(log, out)
    else:
        write_csv(log, out)
    print(f"wrote {len(log):,} interactions of {log.n_customers:,} customers to {out}")
    return 0


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, naming the command's ``--help``."""

    def error(self, message: str) -> NoReturn:
        first = message.splitlines()[0] if message.strip() else "bad arguments"
        self.exit(2, f"{self.prog}: error: {first} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cxmodel", description="Customer-experience modelling.")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an internal error"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    summary = commands.add_parser("summary", help="summarise an interaction file or the sample")
    summary.add_argument("path", nargs="?", help="CSV, JSON lines or Parquet file")
    summary.add_argument("--sample", action="store_true", help="summarise synthetic sample data")
    summary.add_argument(
        "--customers", type=int, help=f"sample size (--sample; default {_SAMPLE_CUSTOMERS})"
    )
    summary.add_argument("--seed", type=int, help="sample seed (--sample; default 0)")
    reading_options(summary)
    summary.set_defaults(run=_summary)

    report = commands.add_parser("report", help="print the CX report of a file or the sample")
    report.add_argument("path", nargs="?", help="CSV, JSON lines or Parquet file")
    report.add_argument("--sample", action="store_true", help="report on synthetic sample data")
    report.add_argument(
        "--customers", type=int, help=f"sample size (--sample; default {_SAMPLE_CUSTOMERS})"
    )
    report.add_argument("--seed", type=int, help="sample seed (--sample; default 0)")
    report.add_argument("--as-of", help="report as of this time (default: the last interaction)")
    report.add_argument(
        "--out",
        metavar="FILE",
        help="also write the report: FILE.html as one "
        "self-contained HTML page, FILE.txt as the text printed",
    )
    report.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    reading_options(report)
    report.set_defaults(run=_report)

    sample = commands.add_parser("sample", help="write synthetic interaction data")
    sample.add_argument(
        "--customers", type=int, default=1000, help="customers to simulate (default 1000)"
    )
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.add_argument("--out", required=True, help="output file: .csv or .parquet")
    sample.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    sample.set_defaults(run=_sample)

    _add_trigger_commands(commands)
    return parser


def _add_trigger_commands(commands: Any) -> None:
    from cxmodel.cli._triggers import add_trigger_commands

    add_trigger_commands(commands)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status.

    0: done (``--help`` too, and output cut short by its reader, as ``| head`` does). 2: the
    input or the request is wrong (a wrong command line, every
    :class:`~cxmodel.errors.CXModelError`, unreadable files, input nested too deeply or too
    large for memory): one line
    on stderr saying what and what to do. 3: anything else, which is a bug in cxmodel: one line
    saying so, and the traceback with ``--debug``.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0), or a wrong command line, said in one line (2)
        return done.code if isinstance(done.code, int) else 2
    try:
        status: int = args.run(args)
    except BrokenPipeError:  # the reader took what it wanted (| head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit does not fail again
        return 0
    except (CXModelError, OSError) as exc:
        print(f"cxmodel: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except RecursionError:  # deeply nested input: a JSON value, an expression
        print(
            "cxmodel: error: the input is nested too deeply to read (beyond Python's recursion "
            "limit): flatten the nested JSON value or split the long expression",
            file=sys.stderr,
        )
        return 2
    except MemoryError:  # the input is larger than this machine's memory: no bug to report
        print(
            "cxmodel: error: out of memory: the input is too large to analyse on this machine; "
            "read part of it (a shorter period, fewer customers), or use cxmodel.dask for data "
            "larger than memory",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:  # a bug: say so, never a bare traceback
        if args.debug:
            traceback.print_exc(file=sys.stderr)
        hint = "" if args.debug else "; rerun with --debug for the traceback"
        print(
            f"cxmodel: internal error (this is a bug in cxmodel; please report it with the "
            f"command you ran): {type(exc).__name__}: {_one_line(exc)}{hint}",
            file=sys.stderr,
        )
        return 3
    return status


def _one_line(exc: BaseException) -> str:
    """The message on one line.

    Rule diagnostics give their first diagnostic (code, position, message, hint) and a count
    of the others; other messages their first line and a count of the lines left out. The
    characters that are not printable (the escape sequences of a file's or a rule's name) are
    written as their escapes, so the line shows on the terminal as written.
    """
    found = getattr(exc, "errors", None)
    if isinstance(found, tuple) and found and hasattr(found[0], "message"):
        d = found[0]
        text = f"{d.code} line {d.line}, column {d.column}: {d.message}"
        if getattr(d, "hint", None):
            text += f" ({d.hint})"
        more = f" (+{len(found) - 1} more error(s))" if len(found) > 1 else ""
        return printable(text) + more
    lines = [line for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
    more = f" (+{len(lines) - 1} more line(s))" if len(lines) > 1 else ""
    return printable(lines[0]) + more


def _check_out(path: Path, option: str, force: bool) -> None:
    """Raise unless ``path`` can be written: a file that is new (or ``force`` given) in a folder
    that exists; checked before the work, so a report is not computed for nothing."""
    if path.is_dir():
        raise CXModelError(f"{option} {str(path)!r} is a folder; give a file name in it")
    if not path.parent.is_dir():
        raise CXModelError(
            f"{option} {str(path)!r}: the folder {str(path.parent)!r} does not exist"
        )
    if path.exists() and not force:
        raise CXModelError(
            f"{option} {str(path)!r} already exists; pass --force to overwrite it or choose "
            "another file name"
        )
