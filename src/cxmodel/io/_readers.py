"""Readers: CSV, JSON lines and Parquet into a validated InteractionLog.

Every reader follows the same rules, whichever engine parses the file:

- ids and other text stay text as written (``"007"`` and ``"7"`` are two customers, ``"NA"`` is
  a country); only ``value``, ``score``, ``sentiment`` and columns declared with ``dtypes=`` are
  numbers (JSON and Parquet numbers stay numbers unless the column is named like an id);
- an empty field is missing, and nothing else is;
- compressed files (``.gz``, ``.bz2``, ``.xz``) are read transparently, recognised by content;
- a bad row is rejected with its row number, column and value; a bad file (empty, duplicate
  column names, not a Parquet file) is a :class:`~cxmodel.errors.SchemaError`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import stat
from collections.abc import Iterable, Mapping
from datetime import tzinfo
from typing import Any, Literal

import numpy as np

from cxmodel._arguments import file_path
from cxmodel._optional import import_optional
from cxmodel._progress import progress_bar
from cxmodel._spelling import Argument, ArgumentHintError, missing_column_error
from cxmodel._spreadsheet import may_hold_marks, unmarked, unmarked_arrow
from cxmodel._time_format import TimeFormat
from cxmodel._time_format import time_format as checked_time_format
from cxmodel.domain._kinds import Question
from cxmodel.errors import SchemaError
from cxmodel.io._sources import MAGIC, file_kind, is_regular_file, read_source
from cxmodel.io._whitespace import WHITESPACE, whitespace_rows
from cxmodel.log import InteractionLog
from cxmodel.log._arrow import (
    apply_mapping,
    arrow_to_columns,
    declared_dtypes,
    declared_end,
    unique_names,
)
from cxmodel.log._columns import REQUIRED, Encoded, show

__all__ = ["MAX_FIELD_CHARS", "read_csv", "read_jsonl", "read_parquet"]

PathLike = str | os.PathLike[str]
ErrorMode = Literal["raise", "quarantine"]

MAX_FIELD_CHARS = 16 * 2**20
"""The largest CSV field read (characters); a row with a larger field is a bad row."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# ---------------------------------------------------------------------- bytes and text
def _read_start(source: str, size: int) -> bytes:
    """The file's first ``size`` bytes (:func:`~cxmodel.io._sources.read_source`)."""
    return read_source(source, size)


def _compressed(start: bytes) -> bool:
    return any(start.startswith(magic) for magic, _ in MAGIC)


def _read_bytes(source: str) -> bytes:
    """The file's bytes, decompressed when they start with a gzip, bz2 or xz header, with
    lines of at most :data:`~cxmodel.io._sources.MAX_LINE_BYTES`."""
    return read_source(source)


def _check_encoding(encoding: object) -> None:
    if encoding is None:
        return
    try:
        codecs.lookup(encoding)  # type: ignore[arg-type]
    except (LookupError, TypeError):
        raise SchemaError(
            f"encoding {encoding!r} is not a known text encoding, e.g. 'utf-8' or 'latin-1'"
        ) from None


def _decode(data: bytes, encoding: str | None, source: str, errors: ErrorMode) -> str:
    """Decode with the named encoding, or UTF-8 with a byte-order mark (UTF-8/16/32) honoured.

    Under ``errors="raise"`` undecodable bytes raise naming the line; under ``"quarantine"`` they
    are kept as surrogate escapes so that only the rows holding them are rejected.
    """
    chosen = encoding
    if chosen is None or codecs.lookup(chosen).name == "utf-8":
        chosen = "utf-8"
        for bom, name in _BOMS:
            if data.startswith(bom):
                chosen = name
                break
    try:
        text = data.decode(chosen)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        if errors == "raise":
            raise SchemaError(
                f"{source}: line {line}: byte {data[exc.start : exc.start + 1]!r} is not valid "
                f"{chosen}; pass the file's encoding, e.g. encoding='latin-1' or "
                "encoding='utf-16', or errors='quarantine' to set such rows aside"
            ) from None
        try:
            text = data.decode(chosen, "surrogateescape")
        except UnicodeDecodeError:
            text = data.decode(chosen, "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if encoding is None:
        sample = text[:4000]
        if sample and sample.count("\x00") > len(sample) // 10:
            raise SchemaError(
                f"{source}: the file is full of NUL characters: it is probably UTF-16 or UTF-32 "
                "without a byte-order mark; pass encoding='utf-16-le' (or the file's encoding)"
            )
    return text


def _check_errors(errors: object) -> None:
    if errors not in ("raise", "quarantine"):
        raise SchemaError(f"errors must be 'raise' or 'quarantine' (got {errors!r})")


# ---------------------------------------------------------------------- CSV
def read_csv(
    path: PathLike,
    *,
    mapping: Mapping[str, str] | None = None,
    timezone: str | tzinfo | None = None,
    time_format: str | None = None,
    errors: ErrorMode = "raise",
    delimiter: str = ",",
    engine: Literal["auto", "pyarrow", "python"] = "auto",
    encoding: str | None = None,
    dtypes: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    kind: str | None = None,
    questions: Iterable[Question] | None = None,
    progress: bool = False,
) -> InteractionLog:
    """Read interactions from a CSV file with a header row.

    Parameters
    ----------
    path
        The file; gzip, bz2 and xz compression are recognised by content and read transparently.
    mapping
        Your column names to the standard ones, e.g. ``{"user": "customer_id"}``. Naming a column
        that is not in the file, or sending two columns to one name, is an error.
    timezone
        The zone of naive timestamps: ``"UTC"``, an IANA name (``"Europe/Paris"``) or a fixed
        offset (``"+02:00"``). Without it naive timestamps are rejected; so is a naive time that
        a daylight-saving change skips or repeats in that zone (it names no single instant:
        write it with its offset).
    time_format
        The layout of timestamps that are not ISO-8601, as a ``strptime`` format:
        ``"%m/%d/%Y %H:%M"`` reads ``12/1/2010 8:26`` and ``"%d.%m.%Y"`` reads ``01.12.2010``.
        Every timestamp must then match it (a row that does not is a bad row, with the format
        and an example in its reason). Day and month are never guessed from the data. A format
        without a time of day reads dates, and the log is observed until the end of its last
        day, as for ISO dates.
    errors
        ``"raise"`` stops at the first bad row; ``"quarantine"`` keeps the valid rows and lists the
        others with their row numbers and reasons in ``log.rejected`` (a
        :class:`~cxmodel.errors.DataWarning` gives the count; if no row is valid it is an error).
    delimiter
        Field separator: one character (quotes follow the CSV rules), or ``"whitespace"`` for
        fields separated by runs of spaces and tabs, as in CDNOW's files and aligned
        command-line output: white space at the start and end of a line is ignored and quotes
        are not special (a field cannot hold a space; such a row has too many fields).
    engine
        ``"pyarrow"`` (multithreaded, needs the ``arrow`` extra), ``"python"`` (the standard
        library), or ``"auto"``: pyarrow when installed. Both give the same log; a file pyarrow
        cannot parse (ragged rows, huge fields) is re-read by the standard library so each bad
        row is reported. A ``"whitespace"`` file is split by the standard library whatever
        the engine.
    encoding
        The text encoding; by default UTF-8, or UTF-16/32 when the file starts with their
        byte-order mark. A UTF-8 byte-order mark is always dropped.
    dtypes
        Column name -> ``"string"`` or ``"float"``. Only ``value``, ``score``, ``sentiment`` and
        the columns declared here are numbers; every other column stays text as written.
    kinds
        Your event names -> the kinds to log them as, e.g. ``{"payment_done": "purchase"}``.
    kind
        The kind of every row, for a file without a kind column: ``kind="purchase"`` reads an
        order export (customer, date, amount) as purchases. Non-empty text; a file that has a
        ``kind`` column (after ``mapping``) as well is an error.
    questions
        Survey questions besides the standard ``nps``, ``csat`` and ``ces``
        (:class:`~cxmodel.domain.Question`); each survey answer is checked against the question
        its ``metric`` names, and a bad answer is a bad row (its row number and the value as
        written). Yes/no answers may be written yes/no, true/false or 1/0; several choices are
        separated by ``|``.
    progress
        Show a progress bar on standard error with one step per stage (read, parse, validate)
        and the rows parsed (needs the ``progress`` extra). The file is read whole, not in
        chunks; the log is the same.

    A field that starts with a single quote followed by ``=``, ``+``, ``-``, ``@``, a tab, a
    carriage return or another single quote loses that first quote: it is the mark
    :func:`~cxmodel.io.write_csv` (and spreadsheets' CSV-injection defences) put before text
    a spreadsheet would run as a formula, so a file written by ``write_csv`` reads back as the
    text it was written from. Any other field keeps its quotes (``'t Hooft``).

    Returns
    -------
    InteractionLog
        Row numbers count data records from 1: the header and blank lines are not rows.

    Raises
    ------
    SchemaError
        Empty file, duplicate column names, missing required column, bad mapping, an encoding
        error (under ``"raise"``), a bad row under ``errors="raise"``, or no valid row.
    MissingDependencyError
        ``progress=True`` without tqdm installed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "export.csv"
    >>> _ = path.write_text("\\ufeffcustomer_id,timestamp,kind,country\\n"
    ...     "007,2024-01-01T10:00:00Z,payment_done,NA\\n7,2024-01-02T10:00:00Z,view,\\n")
    >>> log = read_csv(path, kinds={"payment_done": "purchase"})
    >>> log.customers.tolist(), log.column("country").tolist(), log.column("kind").tolist()
    (['007', '7'], ['NA', None], ['purchase', 'view'])
    """
    _check_errors(errors)
    _check_encoding(encoding)
    layout = checked_time_format(time_format)
    source = file_path(path, "read_csv()")
    if delimiter != WHITESPACE and (
        not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"'
    ):
        raise SchemaError(
            f"delimiter must be one character, not a quote or newline, or {WHITESPACE!r} "
            f"for fields separated by runs of spaces and tabs (got {delimiter!r})"
        )
    if engine not in ("auto", "pyarrow", "python"):
        raise SchemaError(f"engine must be 'auto', 'pyarrow' or 'python' (got {engine!r})")
    with _stages(progress, "read_csv") as bar:
        options = {
            "timezone": timezone,
            "time_format": layout,
            "errors": errors,
            "dtypes": declared_dtypes(dtypes, mapping),
            "kinds": kinds,
            "kind": kind,
            "questions": questions,
            "source": source,
        }
        use_arrow = delimiter != WHITESPACE and (
            engine == "pyarrow" or (engine == "auto" and _has_pyarrow())
        )
        # an uncompressed UTF-8 file goes to pyarrow from disk as it is, and is read and decoded
        # whole only if pyarrow cannot read it (then its errors are named as before)
        head = None
        # the python engine reads the file once, whole; so is a pipe (it cannot be read twice)
        if use_arrow and _has_pyarrow() and is_regular_file(source):
            start = _read_start(source, _HEAD_BYTES + 1)
            if not _compressed(start):
                head = _utf8_head(start, encoding)
        if head is not None:
            _stage_done(bar, "parse")
            columns = _csv_with_arrow(head, source, delimiter, mapping, source)
            if columns is not None:
                return _validated(columns, bar, options)
        data = _read_bytes(source)
        text = _decode(data, encoding, source, errors)
        if head is None:
            _stage_done(bar, "parse")
        if not text or text.isspace():
            raise SchemaError(
                f"{source}: the file is empty; expected a header row naming customer_id, timestamp, kind"
            )
        if use_arrow and head is None:
            columns = _csv_with_arrow(text, None, delimiter, mapping, source)
            if columns is not None:
                return _validated(columns, bar, options)
        columns, numbers, bad, records = _csv_with_python(text, delimiter, mapping, source)
        _stage_done(bar, "validate", len(numbers))
        log = InteractionLog._from_columns(
            columns,
            row_numbers=numbers,
            pre_errors=bad,
            pre_records=records,
            **options,  # type: ignore[arg-type]
        )
        _stage_done(bar, "done", len(log))
        return log


def _validated(columns: dict[str, Any], bar: Any, options: dict[str, Any]) -> InteractionLog:
    """The log of the columns pyarrow read, advancing ``bar``."""
    _stage_done(bar, "validate", _rows(columns))
    log = InteractionLog._from_columns(columns, **options)
    _stage_done(bar, "done", len(log))
    return log


_STAGES = ("read", "parse", "validate")


def _stages(progress: bool, reader: str) -> Any:
    """A bar of the reader's three stages (read, parse, validate), or a NullBar."""
    bar = progress_bar(progress, desc=reader, total=len(_STAGES), unit="stage")
    bar.set_postfix_str("read")
    return bar


def _stage_done(bar: Any, next_stage: str, rows: int | None = None) -> None:
    """Advance ``bar`` past a stage, naming the next one and the rows parsed so far."""
    bar.set_postfix_str(next_stage if rows is None else f"{next_stage}, {rows:,} rows")
    bar.update(1)


def _rows(columns: Mapping[str, Any]) -> int:
    """The number of rows parsed (arrow text columns are ``Encoded``, which have a shape but no len)."""
    if not columns:
        return 0
    first = next(iter(columns.values()))
    return int(np.shape(first)[0])


def _has_pyarrow() -> bool:
    try:
        import_optional("pyarrow.csv", "read_csv()")
    except ImportError:
        return False
    return True


_DELIMITERS = (",", ";", "\t", "|")


def _clean_header(fields: list[str], source: str) -> list[str]:
    """Header names stripped of spaces; an empty name becomes ``column_<n>``.

    A header of one name holding another usual separator is a file read with the wrong
    ``delimiter`` (no log has one column): that is said, with the delimiter to pass.
    """
    if len(fields) == 1:
        found = [d for d in _DELIMITERS if len(fields[0].split(d)) >= 3]
        if not found and len(fields[0].split()) >= 3:
            found = [WHITESPACE]  # names in columns aligned with runs of spaces
        if found:
            how = "runs of spaces" if found[0] == WHITESPACE else repr(found[0])
            stem = (
                f"{source}: the header is one column, {show(fields[0])}, whose names look "
                f"separated by {how}"
            )
            raise ArgumentHintError(lambda say: f"{stem}; pass {say(Argument.DELIMITER, found[0])}")
    names = [name.strip() or f"column_{j + 1}" for j, name in enumerate(fields)]
    bad = next((n for n in names if any("\ud800" <= ch <= "\udfff" for ch in n)), None)
    if bad is not None:
        stem = f"{source}: header name {show(bad)} is not valid text"
        raise ArgumentHintError(
            lambda say: (
                f"{stem}; pass the file's encoding, e.g. {say(Argument.ENCODING, 'latin-1')}"
            )
        )
    return names


def _blank(fields: list[str]) -> bool:
    """Whether a record is a blank line: no field holds anything but white space (an empty
    line, or a row of only separators, ``,,,``, as spreadsheets write below the data)."""
    return not any(field.strip() for field in fields)


def _csv_with_python(
    text: str, delimiter: str, mapping: Mapping[str, str] | None, source: str
) -> tuple[dict[str, Any], np.ndarray[Any, np.dtype[np.int64]], dict[int, str], dict[int, Any]]:
    """Parse with the standard library (or split on white space), keeping bad records as rows."""
    bad: dict[int, str]
    records: dict[int, Any]
    rows: list[list[str] | None]
    if delimiter == WHITESPACE:
        names, split = whitespace_rows(text)
        header = None if names is None else _clean_header(names, source)
        rows, bad, records = list(split), {}, {}  # every line splits: no unparsable record
    else:
        header, rows, bad, records = _csv_rows(text, delimiter, source)
    if header is None:
        raise SchemaError(f"{source}: the file is empty; expected a header row")
    renamed = apply_mapping(header, mapping)
    width = len(header)
    data = [np.empty(len(rows), dtype=object) for _ in header]
    for number, fields in enumerate(rows):
        if fields is None:
            continue
        if len(fields) != width:
            bad[number] = (
                f"the row has {len(fields)} field{'s' if len(fields) != 1 else ''}, expected "
                f"{width} like the header; check for a missing or extra delimiter or quote"
            )
            record: dict[str, Any] = dict(zip(header, fields, strict=False))
            if len(fields) > width:
                record["_extra_fields"] = fields[width:]
            records[number] = record
            continue
        for j, value in enumerate(fields):
            data[j][number] = value if value != "" else None
    marks = may_hold_marks(text)  # most files hold none: no pass over every cell then
    columns = {
        renamed[name]: unmarked(data[j]) if marks else data[j] for j, name in enumerate(header)
    }
    numbers = np.arange(1, len(rows) + 1, dtype=np.int64)
    return columns, numbers, bad, records


def _csv_rows(
    text: str, delimiter: str, source: str
) -> tuple[list[str] | None, list[list[str] | None], dict[int, str], dict[int, Any]]:
    """The header and the records of CSV ``text`` as the standard library reads them; a record
    that cannot be parsed is ``None``, with its reason (third) and its line (fourth) by its
    position among the records."""
    bad: dict[int, str] = {}
    records: dict[int, Any] = {}
    previous = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header: list[str] | None = None
        rows: list[list[str] | None] = []
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if header is None:
                    raise SchemaError(
                        f"{source}: the header row cannot be parsed ({exc})"
                    ) from None
                reason = str(exc)
                if "field larger" in reason:
                    reason = (
                        f"a field is longer than {MAX_FIELD_CHARS:,} characters, the largest "
                        "read; shorten it or store it elsewhere"
                    )
                bad[len(rows)] = f"the row cannot be parsed as CSV ({reason})"
                records[len(rows)] = {"line": reader.line_num}
                rows.append(None)
                continue
            if _blank(fields):
                continue
            if header is None:
                header = _clean_header(fields, source)
                continue
            rows.append(fields)
    finally:
        csv.field_size_limit(previous)
    return header, rows, bad, records


_HEAD_BYTES = 1_000_000
"""Bytes decoded to find the header of a file pyarrow reads as it is."""


def _utf8_head(data: bytes, encoding: str | None) -> str | None:
    """The text of the first megabyte of ``data`` (a file's start, or the whole file if it is
    shorter) read as UTF-8 without a byte-order mark (a character cut at the end left out), or
    ``None`` when the file is read otherwise, or its start does not decode, is blank or is full
    of NUL characters: such a file is decoded whole first, which names its problem. The rest of a
    file is not decoded: pyarrow checks that it is UTF-8.
    """
    if encoding is not None and codecs.lookup(encoding).name != "utf-8":
        return None
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        head = decoder.decode(data[:_HEAD_BYTES], final=len(data) <= _HEAD_BYTES)
    except UnicodeDecodeError:
        return None
    sample = head[:4000]
    if not head or head.isspace() or sample.count("\x00") > len(sample) // 10:
        return None
    return head


def _csv_with_arrow(
    text: str,
    body: str | None,
    delimiter: str,
    mapping: Mapping[str, str] | None,
    source: str,
) -> dict[str, Any] | None:
    """Parse with pyarrow, every column as text; ``None`` when pyarrow cannot parse the file.

    ``body`` is the path of an uncompressed UTF-8 file, which pyarrow reads as it is (``text`` is
    then only its start, enough for the header); else ``text`` is the whole file, encoded here.
    """
    pa = import_optional("pyarrow", "read_csv(engine='pyarrow')")
    pa_csv = import_optional("pyarrow.csv", "read_csv(engine='pyarrow')")
    first = _first_record(text, delimiter)
    if first is None:
        return None
    header = _clean_header(first, source)
    if body is None:
        try:
            stream = pa.BufferReader(text.encode("utf-8"))
        except UnicodeEncodeError:  # undecodable bytes kept as surrogates: report them row by row
            return None
    else:
        stream = pa.OSFile(body)
    try:
        table = pa_csv.read_csv(
            stream,
            read_options=pa_csv.ReadOptions(column_names=header, skip_rows=0, block_size=1 << 22),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, ValueError, OSError):
        return None
    finally:
        stream.close()
    if (
        table.num_rows == 0
        or ["" if v is None else str(v) for v in table.slice(0, 1).to_pylist()[0].values()] != first
    ):
        return None  # the first record is not the header as the standard library reads it
    table = _without_blank_rows(table.slice(1))
    renamed = apply_mapping(header, mapping)  # duplicate names and bad mappings raise here
    return {
        renamed[name]: Encoded.from_arrow(unmarked_arrow(table.column(j)))
        for j, name in enumerate(header)
    }


def _without_blank_rows(table: Any) -> Any:
    """``table`` without its blank records (:func:`_blank`: every field empty or white space),
    which the standard library's path skips too. Columns are looked at until one leaves no
    row blank (usually the first)."""
    pc = import_optional("pyarrow.compute", "read_csv(engine='pyarrow')")
    blank = None
    for column in table.columns:
        empty = pc.equal(pc.utf8_trim_whitespace(column), "").fill_null(True)  # null: empty
        blank = empty if blank is None else pc.and_(blank, empty)
        if not pc.any(blank).as_py():
            return table
    return table if blank is None else table.filter(pc.invert(blank))


def _first_record(text: str, delimiter: str) -> list[str] | None:
    """The header as the standard library reads it; ``None`` if it cannot be read quickly."""
    head = text[:1_000_000]
    if "\x00" in head:
        return None
    previous = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        for fields in csv.reader(io.StringIO(head, newline=""), delimiter=delimiter):
            if not _blank(fields):
                return fields
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(previous)
    return None


# ---------------------------------------------------------------------- JSON lines
class _DuplicateKeyError(SchemaError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def read_jsonl(
    path: PathLike,
    *,
    mapping: Mapping[str, str] | None = None,
    timezone: str | tzinfo | None = None,
    time_format: str | None = None,
    errors: ErrorMode = "raise",
    encoding: str | None = None,
    dtypes: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    kind: str | None = None,
    questions: Iterable[Question] | None = None,
    progress: bool = False,
) -> InteractionLog:
    """Read interactions from JSON lines (one object per line; blank lines are skipped).

    Takes the ``mapping``, ``timezone``, ``time_format``, ``errors``, ``encoding``, ``dtypes``,
    ``kinds``, ``kind``, ``questions`` and ``progress`` of :func:`read_csv` (a multiple-choice answer may be a JSON list). Row numbers are line numbers. A line that is not a JSON object, repeats a
    key, or nests too deeply is a bad row; so is a list, object or bool where text or a number is
    expected, and a number where the same column holds the same digits as text (``1`` and
    ``"1"``). JSON numbers stay numbers unless the column is text by name (ids).

    Parameters
    ----------
    path
        The file; gzip, bz2 and xz compression are recognised by content.
    mapping
        Your column names to the standard ones, e.g. ``{"user": "customer_id"}``.
    timezone
        The zone of naive timestamps (as :func:`read_csv`); without it naive timestamps are
        rejected.
    time_format
        The layout of text timestamps that are not ISO-8601, a ``strptime`` format (as
        :func:`read_csv`).
    errors
        ``"raise"`` stops at the first bad row; ``"quarantine"`` keeps the valid rows and lists
        the others in ``log.rejected``.
    encoding
        The text encoding; by default UTF-8, or UTF-16/32 when the file starts with their
        byte-order mark.
    dtypes
        Column name -> ``"string"`` or ``"float"``.
    kinds
        Your event names -> the kinds to log them as, e.g. ``{"payment_done": "purchase"}``.
    kind
        The kind of every row, for a file without a kind column (as :func:`read_csv`).
    questions
        Survey questions besides the standard ``nps``, ``csat`` and ``ces``
        (:class:`~cxmodel.domain.Question`); answers are checked against them.
    progress
        Show a progress bar on standard error with one step per stage (needs the ``progress``
        extra); the log is the same.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.jsonl"
    >>> _ = path.write_text(
    ...     '{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}\\n'
    ...     '{"customer_id": {"id": 1}, "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}\\n')
    >>> import warnings
    >>> from cxmodel.errors import DataWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DataWarning)
    ...     log = read_jsonl(path, errors="quarantine")
    >>> len(log), log.rejected.row.tolist()
    (1, [2])
    >>> print(log.rejected.reason[0])  # doctest: +ELLIPSIS
    customer_id {'id': 1} is a JSON object (dict) (column 'customer_id'); expected text or ...
    """
    _check_errors(errors)
    _check_encoding(encoding)
    layout = checked_time_format(time_format)
    source = file_path(path, "read_jsonl()")
    bar = _stages(progress, "read_jsonl")
    try:
        return _jsonl(
            source, mapping, timezone, layout, errors, encoding, dtypes, kinds, kind, questions, bar
        )
    finally:
        bar.close()


def _jsonl(
    source: str,
    mapping: Mapping[str, str] | None,
    timezone: str | tzinfo | None,
    time_format: TimeFormat | None,
    errors: ErrorMode,
    encoding: str | None,
    dtypes: Mapping[str, str] | None,
    kinds: Mapping[str, str] | None,
    kind: str | None,
    questions: Iterable[Question] | None,
    bar: Any,
) -> InteractionLog:
    """The body of :func:`read_jsonl`, advancing ``bar`` at each stage."""
    text = _decode(_read_bytes(source), encoding, source, errors)
    _stage_done(bar, "parse")
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    bad: dict[int, str] = {}
    raw_bad: dict[int, Any] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        reason = None
        try:
            record = json.loads(line, object_pairs_hook=_no_duplicate_keys)
        except RecursionError:
            reason = "the JSON is nested too deeply to read"
        except _DuplicateKeyError as exc:
            reason = f"key {show(exc.args[0])} appears twice in the object; keep one"
        except ValueError as exc:  # JSONDecodeError, or an integer of more than 4300 digits
            reason = f"the line is not valid JSON ({getattr(exc, 'msg', str(exc))})"
        else:
            if not isinstance(record, dict):
                reason = f"the line is a JSON {type(record).__name__}, not an object"
        if reason is not None:
            bad[len(records)] = reason
            raw_bad[len(records)] = {"line": line if len(line) <= 1000 else line[:1000] + "..."}
            record = {}
        records.append(record)
        numbers.append(number)
    if not records:
        raise SchemaError(f"{source}: the file is empty; expected one JSON object per line")
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    if not names and bad:  # no line is a JSON object: not JSON lines at all
        raise _not_json_lines(source, text, numbers[min(bad)], bad[min(bad)])
    renamed = apply_mapping(list(names), mapping)
    columns: dict[str, Any] = {}
    for name in names:
        column = np.empty(len(records), dtype=object)
        column[:] = [r.get(name) for r in records]
        columns[renamed[name]] = column
    for required in ("customer_id", "timestamp") if kind is not None else REQUIRED:
        if required not in columns:
            raise missing_column_error(required, f"keys: {list(names)[:20]}", where=f"{source}: ")
    _stage_done(bar, "validate", len(records))
    log = InteractionLog._from_columns(
        columns,
        timezone=timezone,
        time_format=time_format,
        errors=errors,
        dtypes=declared_dtypes(dtypes, mapping),
        kinds=kinds,
        kind=kind,
        questions=questions,
        row_numbers=np.asarray(numbers, dtype=np.int64),
        pre_errors=bad,
        pre_records=raw_bad,
        source=source,
    )
    _stage_done(bar, "done", len(log))
    return log


def _not_json_lines(source: str, text: str, line: int, reason: str) -> SchemaError:
    """The error for a file none of whose lines is a JSON object, naming the first bad line;
    a file that opens a JSON array (``[{...}, {...}]``, as most JSON exports write) is said to
    be one."""
    if text.lstrip().startswith("["):
        what = (
            "it is one JSON array, not JSON lines (one object per line); load it with "
            "json.load and pass the list to InteractionLog.from_records(), or write one "
            "object per line"
        )
    else:
        what = "it is not JSON lines (one JSON object per line); for CSV use read_csv()"
    return SchemaError(f"{source}: no line is a JSON object (line {line}: {reason}): {what}")


# ---------------------------------------------------------------------- Parquet
def read_parquet(
    path: PathLike,
    *,
    mapping: Mapping[str, str] | None = None,
    timezone: str | tzinfo | None = None,
    time_format: str | None = None,
    errors: ErrorMode = "raise",
    dtypes: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    kind: str | None = None,
    questions: Iterable[Question] | None = None,
    progress: bool = False,
) -> InteractionLog:
    """Read interactions from a Parquet file (needs the ``arrow`` extra).

    Takes the ``mapping``, ``timezone``, ``time_format``, ``errors``, ``dtypes``, ``kinds``,
    ``kind``, ``questions`` and ``progress`` of :func:`read_csv`; row numbers count the file's rows from 1. Floating columns are numbers;
    integer columns are numbers unless named like an id (``order_id``) or beyond 2**53, which
    stay text with their exact digits; lists, structs and maps are rejected row by row. A file
    written by :func:`~cxmodel.io.write_parquet` is observed until the ``observed_until`` kept
    in its metadata, as :meth:`~cxmodel.log.InteractionLog.from_arrow` reads it.

    Parameters
    ----------
    path
        The file.
    mapping
        Your column names to the standard ones, e.g. ``{"user": "customer_id"}``.
    timezone
        The zone of naive timestamps (as :func:`read_csv`); without it naive timestamps are
        rejected.
    time_format
        The layout of text timestamps that are not ISO-8601, a ``strptime`` format (as
        :func:`read_csv`).
    errors
        ``"raise"`` stops at the first bad row; ``"quarantine"`` keeps the valid rows and lists
        the others in ``log.rejected``.
    dtypes
        Column name -> ``"string"`` or ``"float"``.
    kinds
        Your event names -> the kinds to log them as, e.g. ``{"payment_done": "purchase"}``.
    kind
        The kind of every row, for a file without a kind column (as :func:`read_csv`).
    questions
        Survey questions besides the standard ``nps``, ``csat`` and ``ces``
        (:class:`~cxmodel.domain.Question`); answers are checked against them.
    progress
        Show a progress bar on standard error with one step per stage (needs the ``progress``
        extra); the log is the same.
    """
    _check_errors(errors)
    layout = checked_time_format(time_format)
    pa = import_optional("pyarrow", "read_parquet()")
    pq = import_optional("pyarrow.parquet", "read_parquet()")
    source = file_path(path, "read_parquet()")
    mode = os.stat(source).st_mode
    if not stat.S_ISREG(mode):  # Parquet is read from its end: a pipe or device cannot be
        raise SchemaError(
            f"{source}: is {file_kind(mode)}, not a file; a Parquet file is read from its end, "
            "so save the data to a file and read that"
        )
    if os.path.getsize(source) == 0:
        raise SchemaError(f"{source}: the file is empty; expected a Parquet file")
    with _stages(progress, "read_parquet") as bar:
        try:
            names = pq.read_schema(source).names
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise _not_parquet(source, exc) from None
        try:  # before the table: pyarrow refuses a repeated name as if the file were bad
            unique_names(names)
        except SchemaError as exc:
            raise SchemaError(f"{source}: {exc}") from None
        try:
            table = pq.read_table(source)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise _not_parquet(source, exc) from None
        _stage_done(bar, "parse", table.num_rows)
        columns, types = arrow_to_columns(table, mapping=mapping)
        _stage_done(bar, "validate", table.num_rows)
        log = InteractionLog._from_columns(
            columns,
            timezone=timezone,
            time_format=layout,
            errors=errors,
            dtypes={**types, **(declared_dtypes(dtypes, mapping) or {})},
            kinds=kinds,
            kind=kind,
            questions=questions,
            source=source,
            observed_until=declared_end(table, source),
        )
        _stage_done(bar, "done", len(log))
        return log


def _not_parquet(source: str, exc: BaseException) -> SchemaError:
    return SchemaError(
        f"{source}: not a readable Parquet file ({str(exc)[:200]}); for CSV or JSON lines use "
        "read_csv() or read_jsonl()"
    )
