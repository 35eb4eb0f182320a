"""What the streaming engine takes in: records, interaction objects, logs and columns, checked
as a log's rows are and turned into :class:`Row` objects (plain Python values, no arrays)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from itertools import count
from operator import itemgetter
from types import NoneType
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from cxmodel._time import _DATETIME_SECONDS_RANGE, to_us, us_to_datetime
from cxmodel.domain._interaction import MONEY_KINDS
from cxmodel.domain._kinds import Question, QuestionType
from cxmodel.domain._touchpoint import DEFAULT_CATALOGUE
from cxmodel.errors import SchemaError
from cxmodel.log._answers import (
    ANSWER_COLUMNS,
    STANDARD_CATALOGUE,
    no_metric,
    read_answer,
    scale_refused,
    unknown_metric,
    written,
)
from cxmodel.log._columns import (
    EXACT_FLOAT_INT,
    ID_RULE_COLUMNS,
    SURROGATE,
    id_refused,
    id_text,
    is_missing_value,
    is_number,
    name_not_text,
    name_refused,
    show,
    valid_text,
    valid_texts,
)
from cxmodel.log._log import is_key_like
from cxmodel.triggers._codes import (
    first_seen_recoded,
    object_array,
    present_and_missing,
)
from cxmodel.triggers._stored import Stored

__all__ = [
    "CATALOGUE",
    "NUMBER_FIELDS",
    "STANDARD_FIELDS",
    "LogColumns",
    "RecordColumns",
    "Row",
    "bare_fields",
    "columns_from",
    "is_number",
    "record_columns",
    "record_of",
    "rows_from",
]

#: The customer of a catalogue event's :class:`Row` (an event that belongs to no customer);
#: never a customer's id, which is non-empty text.
CATALOGUE = ""

_NUMERIC = frozenset(("value", "score", "sentiment"))
#: The properties that are always numbers in the engine's rows (amounts, scores, sentiment).
NUMBER_FIELDS = _NUMERIC
_REQUIRED = frozenset(("customer_id", "timestamp", "kind"))
#: the text fields read by the ids' rule (:func:`~cxmodel.log._columns.id_text`), as a log
#: reads its standard text columns: all of them but the customer and the kind
_TEXT = frozenset(ID_RULE_COLUMNS) - _REQUIRED
_CHECKED = _NUMERIC | _TEXT
#: The fields whose type is fixed (numbers, or text), whatever an interaction sends.
STANDARD_FIELDS = _CHECKED | _REQUIRED
_OBJECT_FIELDS = (
    "interaction_id",
    "touchpoint",
    "channel",
    "stage",
    "value",
    "metric",
    "score",
    "sentiment",
)


class Row:
    """One interaction as the engine holds it: customer, time (microseconds, UTC), kind and
    fields (every property, ``kind`` included; numbers as floats, text as ``str``; a missing
    field is absent). ``seq`` is its place in the engine's release order and ``rank`` its
    position among the customer's interactions at the same time, both set on release. A
    catalogue event has the customer :data:`CATALOGUE` and ranks among the catalogue events
    at its time."""

    __slots__ = ("customer", "fields", "interaction_id", "kind", "rank", "seq", "time")

    def __init__(
        self,
        customer: str,
        time: int,
        kind: str,
        fields: dict[str, Any],
        seq: int = -1,
        rank: int = 0,
    ) -> None:
        self.customer = customer
        self.time = time
        self.kind = kind
        self.fields = fields
        self.seq = seq
        self.rank = rank
        ident = fields.get("interaction_id")
        #: The interaction's id, if it has one.
        self.interaction_id: str | None = ident if isinstance(ident, str) else None

    def bare(self) -> Row:
        """The row with only its kind and id among its fields (its customer, time, release
        number and rank kept): what a ``when inactive`` timer keeps of the interaction it
        restarted on when no clause reads that interaction's properties."""
        fields = bare_fields(self.kind, self.interaction_id)
        return Row(self.customer, self.time, self.kind, fields, self.seq, self.rank)

    def record(self) -> dict[str, Any]:
        """The row as a JSON-ready record (ISO-8601 timestamp; no ``customer_id`` for a
        catalogue event)."""
        out: dict[str, Any] = {"timestamp": us_to_datetime(self.time).isoformat()}
        if self.customer != CATALOGUE:
            out = {"customer_id": self.customer, **out}
        out.update(self.fields)
        return out

    def to_list(self) -> list[Any]:
        """The row as a JSON-ready list (see :meth:`from_list`)."""
        return [self.customer, self.time, self.fields, self.seq, self.rank]

    @staticmethod
    def from_list(data: Any) -> Row:
        """The row :meth:`to_list` wrote (checked: see :meth:`read`)."""
        return Row.read(Stored(data, "row"))

    @staticmethod
    def read(stored: Stored) -> Row:
        """The row :meth:`to_list` wrote, read from a snapshot:
        :class:`~cxmodel.triggers._stored.DamagedState` naming its path when it is not one."""
        customer, time, fields, seq, rank = stored.entries(5)
        kept = fields.mapping()
        kind = fields["kind"].text()
        # a rule held as columns keeps both in 64-bit columns: past them is damaged state
        number, tie = seq.integer(-(2**63), 2**63 - 1), rank.count(most=2**63 - 1)
        return Row(customer.text(), time.time(), kind, kept, number, tie)


def bare_fields(kind: str, interaction_id: str | None) -> dict[str, Any]:
    """The fields of a bare row (:meth:`Row.bare`): the kind, and the id if there is one."""
    if interaction_id is None:
        return {"kind": kind}
    return {"kind": kind, "interaction_id": interaction_id}


def record_of(interaction: Any) -> dict[str, Any]:
    """An :class:`~cxmodel.domain.Interaction` (or any object with its attributes) as a record."""
    if isinstance(interaction, Mapping):
        return dict(interaction)
    if not all(hasattr(interaction, name) for name in ("customer_id", "timestamp", "kind")):
        raise SchemaError(
            f"expected an Interaction (with customer_id, timestamp and kind), got "
            f"{type(interaction).__name__}: {interaction!r:.80}; pass cxmodel.domain.Interaction "
            "objects or records (mappings), an InteractionLog, or a mapping of columns"
        )
    rec: dict[str, Any] = {
        "customer_id": interaction.customer_id,
        "timestamp": interaction.timestamp,
        "kind": interaction.kind,
    }
    for name in _OBJECT_FIELDS:
        value = getattr(interaction, name, None)
        if value is not None:
            rec[name] = value
    for key, value in dict(getattr(interaction, "properties", {}) or {}).items():
        if value is not None:
            rec[key] = value
    return rec


#: a UTC time as JavaScript's ``toISOString`` and Python's ``isoformat`` write it: whole
#: seconds or 3 or 6 decimals, then ``Z`` or ``+00:00``, hours, minutes and seconds in range
_UTC_TEXT = re.compile(
    r"(\d{4}-\d\d-\d\dT(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{3}|\.\d{6})?)(?:Z|\+00:00)",
    re.ASCII,
)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_FIRST_SECOND_US = _DATETIME_SECONDS_RANGE[0] * 1_000_000
_LAST_SECOND_US = _DATETIME_SECONDS_RANGE[1] * 1_000_000


def _utc_text_us(text: str) -> int | None:
    """The microseconds of a timestamp in the common UTC shape of :data:`_UTC_TEXT` (what
    :func:`~cxmodel._time.to_us` gives it, read without its general parsing); ``None`` for
    any other text, or an impossible date, which ``to_us`` then reads or refuses."""
    shape = _UTC_TEXT.fullmatch(text)
    if shape is None:
        return None
    try:
        since = datetime.fromisoformat(shape[1]) - _NAIVE_EPOCH
    except ValueError:  # e.g. February 30th: to_us says so
        return None
    us = (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds
    return us if us <= _LAST_SECOND_US else None  # to_us refuses what follows 9999-12-31T23:59:59


_KEY_NAMES: dict[str, bool] = {}  # property name -> named like an id (a bounded cache)

#: what :func:`row_from_record` keeps as given of a field by its name: nothing (a required
#: field, read apart), non-empty valid text, a finite float (else the field is checked by
#: :func:`_field_value`)
_REQUIRED_FIELD, _TEXT_AS_GIVEN, _FLOAT_AS_GIVEN = -1, 1, 2
# field name -> the above, a bounded cache (the required names in it from the start: every
# record has them)
_KEEPS: dict[Any, int] = dict.fromkeys(_REQUIRED, _REQUIRED_FIELD)


def _keeps(name: Any) -> int:
    """What :func:`row_from_record` keeps as given of field ``name`` (:data:`_KEEPS`):
    only a name of valid text (``str`` itself) keeps anything as given.

    Examples
    --------
    >>> _keeps("kind") == _REQUIRED_FIELD, _keeps("value") == _FLOAT_AS_GIVEN
    (True, True)
    >>> _keeps("order_id") == _TEXT_AS_GIVEN, _keeps("note") == _TEXT_AS_GIVEN | _FLOAT_AS_GIVEN
    (True, True)
    >>> _keeps("a" + chr(0xD800)), _keeps(3)
    (0, 0)
    """
    if name in _REQUIRED:
        return _REQUIRED_FIELD
    keeps = 0
    if type(name) is str and (name.isascii() or not SURROGATE.search(name)):
        if name not in _NUMERIC:
            keeps |= _TEXT_AS_GIVEN
        if name not in _TEXT and (name in _NUMERIC or not _key_like(name)):
            keeps |= _FLOAT_AS_GIVEN
        if len(_KEEPS) < 10_000:
            _KEEPS[name] = keeps
    return keeps


def _key_like(name: str) -> bool:
    """Whether a property is named like an id (``order_id``, ``sku``, ``zip``): a log reads
    its numbers as text (their digits), and so does the engine."""
    known = _KEY_NAMES.get(name)
    if known is None:
        known = is_key_like(name)
        if len(_KEY_NAMES) < 10_000:
            _KEY_NAMES[name] = known
    return known


def _number_text(value: Any) -> str | None:
    """A number in a property named like an id, as a log reads it: an integer's digits, a
    float's shortest text (``None`` for NaN, a missing value)."""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    number = float(value)
    return None if number != number else repr(number)


def _fail(where: str, message: str) -> SchemaError:
    return SchemaError(f"{where}: {message}")


def _not_valid_text(name: str, value: str, where: str) -> SchemaError:
    return _fail(
        where,
        f"{name} {value!r} is not valid text: it holds an unpaired surrogate or an undecodable "
        f"byte (field {name!r}); send valid UTF-8 text",
    )


def _text_id(value: Any, name: str, where: str) -> str:
    """A customer id (``name`` "customer_id", read by :func:`~cxmodel.log._columns.id_text`,
    as a log reads it) or a kind (text alone: a kind is a name), non-empty."""
    if type(value) is str and value.isascii() and value.strip():  # the common case, at once
        return value
    if isinstance(value, str):
        if value.strip():
            if not valid_text(value):
                raise _not_valid_text(name, value, where)
            return value
    elif name == "customer_id":
        text = id_text(value)
        if text is not None:
            return text
    elif value is not None:
        raise _fail(where, name_refused(name, value, "field"))
    what = ("empty" if value == "" else "blank") if isinstance(value, str) else "not text"
    raise _fail(
        where,
        f"{name} {value!r} is {what} (field {name!r}); every interaction needs a non-empty "
        "text " + ("id" if name == "customer_id" else "kind"),
    )


def _finite(name: str, value: Any, where: str) -> float | None:
    """A number as a finite float (NaN: missing); infinite or too large: an error."""
    try:
        number = float(value)
    except OverflowError:
        message = f"{name} {str(value)[:40]}... is too large for a number (field {name!r})"
        raise _fail(where, message) from None
    if number != number:
        return None
    if number - number != 0.0:
        raise _fail(where, f"{name} {value!r} is not a finite number (field {name!r})")
    return number


def _field_value(name: str, value: Any, where: str) -> Any:
    """One field's value as the engine keeps it: text, a finite float, a bool, or ``None``
    for missing (:func:`~cxmodel.log._columns.is_missing_value`: the empty text, NaN,
    ``NaT``); an interaction id and the other standard text fields (touchpoint, channel,
    stage, metric, purpose, answer, rates) are text (a whole number given as one is its
    digits: :func:`~cxmodel.log._columns.id_text`), and so are numbers in a property named
    like an id and whole numbers a float would round, as a log reads them
    (:meth:`InteractionLog.from_records <cxmodel.log.InteractionLog.from_records>`)."""
    if value is None or (isinstance(value, (float, np.floating)) and value != value):
        return None
    if name in _NUMERIC:
        if is_number(value):
            return _finite(name, value, where)
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                if number != number:  # the text 'nan' is not a missing value, as in a log
                    raise _fail(where, f"{name} {value!r} is not a finite number (field {name!r})")
                return _finite(name, value, where)
        refusal = f"{name} {value!r:.60} is not a number (field {name!r})"
    elif isinstance(value, str):
        if not valid_text(value):
            raise _not_valid_text(name, value, where)
        return value or None
    elif name in _TEXT:
        text = id_text(value)  # a whole number's digits, as a log reads its text columns
        if text is not None:
            return text
        refusal = id_refused(name, value, "field")
    elif isinstance(value, (bool, np.bool_)):
        return bool(value)
    elif is_number(value):
        if _key_like(name):
            return _number_text(value)
        if isinstance(value, (int, np.integer)) and abs(int(value)) >= EXACT_FLOAT_INT:
            return str(int(value))  # a float would round it: its digits, as a log keeps them
        return _finite(name, value, where)
    else:
        refusal = (
            f"field {name!r} holds {value!r:.60}, a {type(value).__name__}; properties are "
            "text, numbers or booleans"
        )
    if is_missing_value(value):  # the empty text, a Decimal's NaN, NaT: missing, as in a log
        return None
    raise _fail(where, refusal)


def row_from_record(
    rec: Mapping[str, Any],
    where: str,
    questions: Mapping[str, Question] | None = None,
    catalogue: Collection[str] = (),
) -> Row:
    """A checked :class:`Row` from one record (see :func:`rows_from`); a record without
    ``customer_id`` (or with ``None``) of a kind in ``catalogue`` is a catalogue event."""
    try:
        kind_given = rec.get("kind")
        if (
            rec.get("customer_id") is None
            and isinstance(kind_given, str)
            and kind_given in catalogue
        ):
            return _catalogue_row(rec, where, questions)
        customer_raw, time_raw, kind_raw = rec["customer_id"], rec["timestamp"], rec["kind"]
    except KeyError as missing:
        also = (
            f" (only catalogue events, of kinds {sorted(catalogue)}, come without a customer)"
            if missing.args[0] == "customer_id" and catalogue
            else ""
        )
        raise _fail(
            where, f"field {missing.args[0]!r} is missing; every interaction needs one{also}"
        ) from None
    except (TypeError, AttributeError):
        raise _fail(where, f"expected a mapping, got {type(rec).__name__}") from None
    customer = _text_id(customer_raw, "customer_id", where)
    kind = _text_id(kind_raw, "kind", where)
    time = _utc_text_us(time_raw) if type(time_raw) is str else None
    if time is None:
        if isinstance(time_raw, date) and not isinstance(time_raw, datetime):
            raise _fail(  # as a log reads a date without timezone=: no instant yet
                where,
                f"timestamp {time_raw.isoformat()!r} is a date, which names no instant until "
                f"its time zone is said; give a datetime with an offset, e.g. "
                f"'{time_raw.isoformat()}T00:00:00Z'",
            )
        try:
            time = to_us(time_raw)
        except SchemaError as error:
            raise _fail(where, str(error)) from None
    fields: dict[str, Any] = {"kind": kind}
    for name, raw in rec.items():
        keeps = _KEEPS.get(name)
        if keeps is None:
            keeps = _keeps(name)
        if keeps is _REQUIRED_FIELD:
            continue
        kind_of = type(raw)
        # the common cases, checked cheaply (as _field_value does): non-empty valid text
        # (isascii looks at a flag: text that is not ASCII is searched for surrogates), a
        # finite float
        if kind_of is str:
            if keeps & _TEXT_AS_GIVEN and raw and (raw.isascii() or not SURROGATE.search(raw)):
                fields[name] = raw
                continue
        elif kind_of is float and keeps & _FLOAT_AS_GIVEN and raw - raw == 0.0:
            fields[name] = raw
            continue
        if not isinstance(name, str):
            raise _fail(where, f"field name {name!r} is not text")
        if not valid_text(name):  # as a log refuses the column's name
            raise _fail(where, name_not_text("field name", name))
        if name in ANSWER_COLUMNS:  # read with the question its metric names (_answer)
            continue
        value = _field_value(name, raw, where)
        if value is not None:
            fields[name] = value
    asked = STANDARD_CATALOGUE if questions is None else questions
    if "metric" in fields or "score" in rec or "answer" in rec:
        _answer(rec, fields, where, asked)
    if "value" in fields or "sentiment" in fields or "touchpoint" in fields:  # what it reads
        _check_row(fields, kind, where)
    return Row(customer, time, kind, fields)


def _catalogue_row(
    rec: Mapping[str, Any], where: str, questions: Mapping[str, Question] | None
) -> Row:
    """A catalogue event's row: checked as a customer's is, with no customer."""
    row = row_from_record({**rec, "customer_id": "-"}, where, questions)
    return Row(CATALOGUE, row.time, row.kind, row.fields)


def _answer(
    rec: Mapping[str, Any], fields: dict[str, Any], where: str, questions: Mapping[str, Question]
) -> None:
    """The record's survey answer (``score``, ``answer``) in ``fields``, read as a log reads
    it: by :func:`~cxmodel.log._answers.read_answer` against the question its metric names,
    a scale's score checked by :func:`~cxmodel.log._answers.scale_refused`; a score or an
    answer without a metric, or with a metric no question has, is refused."""
    metric = fields.get("metric")
    question = None if metric is None else questions.get(metric)
    if question is None:  # each value read as any field's first, as a log reads its columns
        given = {c: rec.get(c) for c in ANSWER_COLUMNS}
        read = {c: _field_value(c, v, where) for c, v in given.items()}
        if metric is not None:
            raise _fail(where, unknown_metric(metric, questions, "field"))
        for column, value in read.items():
            if value is not None:
                shown = written(given[column]) if column == "score" else show(given[column])
                raise _fail(where, no_metric(column, shown, questions, "field"))
        return
    given_score = rec.get("score")
    if question.type is QuestionType.SCALE and "score" in fields and rec.get("answer") is None:
        # the common case: a finite number (the loop kept it), no answer beside it
        refused = scale_refused(fields["score"], question, given_score, "field")
        if refused is not None:
            raise _fail(where, refused)
        return
    score, answer, reason = read_answer(question, given_score, rec.get("answer"), "field")
    if reason is not None:
        raise _fail(where, reason)
    if score is not None and question.type is QuestionType.SCALE:
        score = _field_value("score", score, where)
        refused = None if score is None else scale_refused(score, question, given_score, "field")
        if refused is not None:
            raise _fail(where, refused)
    if answer is not None and question.type is QuestionType.TEXT:
        answer = _field_value("answer", answer, where)
    for column, value in (("score", score), ("answer", answer)):
        if value is None:
            fields.pop(column, None)
        else:
            fields[column] = value


def _check_row(fields: dict[str, Any], kind: str, where: str) -> None:
    """The log's checks on one row but its survey answer (:func:`_answer`): amounts,
    sentiment, catalogue-derived channel and stage."""
    value = fields.get("value")
    if value is not None and value < 0 and kind in MONEY_KINDS:
        raise _fail(
            where,
            f"value {value!r} is negative for a {kind!r} (field 'value'); amounts are positive, "
            "the kind says the direction",
        )
    sentiment = fields.get("sentiment")
    if sentiment is not None and not -1 <= sentiment <= 1:
        raise _fail(where, f"sentiment {sentiment:g} is outside -1..1 (field 'sentiment')")
    touchpoint = fields.get("touchpoint")
    if touchpoint is not None and touchpoint in DEFAULT_CATALOGUE:
        entry = DEFAULT_CATALOGUE[touchpoint]
        fields.setdefault("channel", entry.channel.value)
        fields.setdefault("stage", entry.stage.value)


class LogColumns:
    """A log's interactions in its input order as columns, made into :class:`Row` objects
    only where asked (:meth:`rows`): the columnar micro-batch path reads times, customers,
    kinds and ids as arrays, and the few properties its rules test as columns.

    ``ids`` (``None``: the log's own ``interaction_id`` column, if any) are ids given apart
    from the log, set last in each row's fields (see :func:`rows_from`).
    """

    def __init__(self, log: Any, ids: list[str | None] | None = None) -> None:
        # row_order: each sorted row's input position (filtered logs keep gaps): sort by it
        row_order = np.asarray(log.row_order, dtype=np.int64)
        order: Any = (
            slice(None)  # in input order already (no copy made)
            if bool(np.all(row_order[1:] > row_order[:-1]))
            else np.argsort(row_order, kind="stable")
        )
        self.n = len(row_order)
        self._customer_labels = np.asarray(log.customers, dtype=object)
        self._customer_codes = np.asarray(log.customer_codes, dtype=np.int64)[order]
        #: customer ids, times (microseconds) and kinds, in input order
        self.customers: Any = self._customer_labels[self._customer_codes]
        self.times: Any = np.asarray(log.timestamps, dtype=np.int64)[order]
        # each property's (type, values in input order: codes or floats, categories)
        self._columns: dict[str, tuple[str, Any, Any]] = {}
        for name, typ in log.schema.items():
            if name in ("customer_id", "timestamp"):
                continue
            if typ == "string":
                codes, cats = log.categorical(name)
                values = np.asarray(codes, dtype=np.int64)[order]
                self._columns[name] = (typ, values, np.asarray(cats, dtype=object))
            else:  # numbers, and bools stored as 1.0/0.0 (held as True/False), NaN missing
                numbers = np.asarray(log.numeric(name), dtype=np.float64)[order]
                self._columns[name] = (typ, numbers, None)
        self.kinds: Any = self.column("kind", np.arange(self.n))
        # ids given apart are the interaction_id column the rules read
        self._given_ids = None if ids is None else np.array(ids, dtype=object)
        if ids is None:
            own = self.column("interaction_id", np.arange(self.n))
            ids = own.tolist() if own is not None else [None] * self.n
        #: each interaction's id (``None``: it has none)
        self.ids: list[str | None] = ids

    def first_seen(self, name: str) -> tuple[npt.NDArray[np.int64], dict[Any, int]]:
        """The customers (``name`` "customer_id") or kinds ("kind") coded in order of first
        appearance, and the codes by value (:func:`~cxmodel.triggers._codes.first_seen_codes`)."""
        if name == "customer_id":
            return first_seen_recoded(self._customer_codes, self._customer_labels)
        _, codes, labels = self._columns["kind"]
        return first_seen_recoded(codes, labels)

    def one_class(self, name: str) -> bool:
        """Whether the values :meth:`column` gives are of one class: a log's column holds
        numbers, text or true/false (ids given apart are read as records' are: not known)."""
        return name != "interaction_id" or self._given_ids is None

    def column(self, name: str, positions: Any) -> Any:
        """The values of property ``name`` at ``positions``: floats (NaN missing) for
        numbers, objects (``None`` missing) otherwise; ``None`` if the log has no such
        column."""
        if name == "interaction_id" and self._given_ids is not None:
            return self._given_ids[positions]
        if name not in self._columns:
            return None
        typ, values, cats = self._columns[name]
        picked = values[positions]
        if typ == "string":
            out = np.full(len(picked), None, dtype=object)
            present = picked >= 0
            out[present] = cats[picked[present]]
            return out
        if typ == "bool":
            out = np.full(len(picked), None, dtype=object)
            present = ~np.isnan(picked)
            out[present] = picked[present] == 1.0
            return out
        return picked

    def stand_ins(self, name: str) -> list[int]:
        """The positions of the first interaction with property ``name`` and the first
        without, those there are."""
        values = self.column(name, np.arange(self.n))
        return [] if values is None else present_and_missing(values)

    def rows(self, positions: Any) -> list[Row]:
        """New rows for the interactions at ``positions`` (an integer array), in that order."""
        positions = np.asarray(positions, dtype=np.int64)
        n = len(positions)
        fields: list[dict[str, Any]] = [{} for _ in range(n)]
        # column by column, only where a value is present: a row holds a few of the log's
        # columns (its kind's), and each present value is set once, without testing the rest
        for name, (typ, values, cats) in self._columns.items():
            if typ == "string":
                codes = values[positions]
                present = np.flatnonzero(codes >= 0)
                picked = cats[codes[present]].tolist()
            else:
                numbers = values[positions]
                present = np.flatnonzero(~np.isnan(numbers))
                chosen = numbers[present]
                picked = (chosen == 1.0).tolist() if typ == "bool" else chosen.tolist()
            for j, value in zip(present.tolist(), picked, strict=True):
                fields[j][name] = value
        cust = self.customers[positions].tolist()
        times = self.times[positions].tolist()
        out = [
            Row(str(c), t, str(f["kind"]), f) for c, t, f in zip(cust, times, fields, strict=True)
        ]
        if self._given_ids is not None:
            given = self._given_ids[positions].tolist()
            for row, ident in zip(out, given, strict=True):
                if ident is not None:
                    row.fields["interaction_id"] = row.interaction_id = ident
        return out


def _rows_from_log(log: Any) -> list[Row]:
    """The rows of an :class:`~cxmodel.log.InteractionLog` in its input order (checked when
    the log was built)."""
    columns = LogColumns(log)
    return columns.rows(np.arange(columns.n))


def columns_from(
    interactions: Any, questions: Mapping[str, Question] | None = None
) -> LogColumns | None:
    """An :class:`~cxmodel.log.InteractionLog` or a mapping of columns (checked as
    :func:`rows_from` checks them) as :class:`LogColumns`; ``None`` for anything else."""
    from cxmodel.log import InteractionLog

    if isinstance(interactions, InteractionLog):
        return LogColumns(interactions)
    if isinstance(interactions, Mapping):
        return _columns_of_mapping(interactions, questions)
    return None


def rows_from(
    interactions: Any,
    questions: Mapping[str, Question] | None = None,
    catalogue: Collection[str] = (),
) -> list[Row]:
    """Checked rows from an :class:`~cxmodel.log.InteractionLog` (its input order), a mapping of
    columns (as for :meth:`InteractionLog.from_arrays <cxmodel.log.InteractionLog.from_arrays>`),
    or an iterable of :class:`~cxmodel.domain.Interaction` objects and records (mappings as
    decoded from JSON).

    A record is checked as a row of :meth:`InteractionLog.from_records
    <cxmodel.log.InteractionLog.from_records>` is: a non-empty ``customer_id`` and ``kind``,
    a ``timestamp`` with an offset, numbers where numbers belong, a survey answer read against
    the question its ``metric`` names (:func:`~cxmodel.log._answers.read_answer`).
    A record without ``customer_id`` of a kind in ``catalogue`` is a catalogue event.

    Raises
    ------
    SchemaError
        Naming the record (its 1-based position in the call) and the field.
    """
    from cxmodel.log import InteractionLog

    if isinstance(interactions, InteractionLog):
        return _rows_from_log(interactions)
    if isinstance(interactions, Mapping):
        return _rows_of_columns(interactions, questions)
    if isinstance(interactions, (str, bytes)) or not isinstance(interactions, Iterable):
        raise SchemaError(
            f"expected interactions (an InteractionLog, a mapping of columns, or Interaction "
            f"objects and records), got {type(interactions).__name__}"
        )
    out = []
    for j, item in enumerate(interactions):
        where = f"record {j + 1}"
        if type(item) is dict:  # as decoded from JSON: read, never changed, so not copied
            out.append(row_from_record(item, where, questions, catalogue))
            continue
        try:
            record = record_of(item)
        except SchemaError as error:
            raise SchemaError(f"{where}: {error}") from None
        out.append(row_from_record(record, where, questions, catalogue))
    return out


#: ``InteractionLog.from_arrays`` options, which a mapping of columns cannot use as names
_OPTIONS = ("timezone", "errors", "catalogue", "dtypes", "kinds", "questions")


def _rows_of_columns(
    columns: Mapping[Any, Any], questions: Mapping[str, Question] | None
) -> list[Row]:
    """The rows of a mapping of columns, in their order (see :func:`_columns_of_mapping`)."""
    table = _columns_of_mapping(columns, questions)
    return table.rows(np.arange(table.n))


def _columns_of_mapping(
    columns: Mapping[Any, Any], questions: Mapping[str, Question] | None
) -> LogColumns:
    """A mapping of columns as :class:`LogColumns`. Interaction ids are read as a record's
    are and kept apart from the log, which would refuse an id given twice: the engine
    ignores a repeated id of a customer, as it does one by one, so a poll that holds a
    message twice is the same whatever its form."""
    ids = columns.get("interaction_id")
    size = None
    if ids is not None and not isinstance(ids, (str, bytes)):
        try:
            size, other = len(ids), len(columns["customer_id"])
        except (TypeError, KeyError):
            size = other = None
        if size != other:
            size = None
    if size is None:  # no ids, or not a column of them: the log says what is wrong
        return LogColumns(_log_of_columns(columns, questions))
    assert ids is not None
    given = np.asarray(ids, dtype=object).tolist()
    texts = [_field_value("interaction_id", v, f"row {j + 1}") for j, v in enumerate(given)]
    rest = {k: v for k, v in columns.items() if k != "interaction_id"}
    return LogColumns(_log_of_columns(rest, questions), texts)


def _log_of_columns(columns: Mapping[Any, Any], questions: Mapping[str, Question] | None) -> Any:
    """A mapping of columns as a log, its names checked first: the three every interaction
    needs must be there, and a name that is an option of ``from_arrays`` cannot be a column."""
    from cxmodel.log import InteractionLog

    names = [str(name) for name in columns]
    missing = [name for name in ("customer_id", "timestamp", "kind") if name not in names]
    if missing:
        raise SchemaError(
            f"columns {', '.join(map(repr, missing))} are missing (got {names}); every "
            "interaction needs customer_id, timestamp and kind"
        )
    clashes = [name for name in names if name in _OPTIONS]
    if clashes:
        raise SchemaError(
            f"column {clashes[0]!r} has the name of an option of InteractionLog.from_arrays; "
            "rename the column"
        )
    return InteractionLog.from_arrays(
        **{str(k): v for k, v in columns.items()},
        questions=None if questions is None else questions.values(),
    )


def row_of(
    interaction: Any,
    questions: Mapping[str, Question] | None = None,
    catalogue: Collection[str] = (),
) -> Row:
    """One checked row from an Interaction object or a record (a catalogue event: see
    :func:`rows_from`)."""
    # a dict (as decoded from JSON) is read, never changed, so not copied
    record = interaction if type(interaction) is dict else record_of(interaction)
    return row_from_record(record, "record", questions, catalogue)


# -- records of a large micro-batch, checked and read as columns -----------------------------
class RecordColumns:
    """Records checked as columns by :func:`record_columns`: customers, times
    (microseconds), kinds and ids as arrays and lists, properties as columns (floats with NaN
    missing for numbers, objects with ``None`` missing otherwise), and rows made from the
    records, as one by one makes them, only where asked. ``empty_ids`` false says that no
    interaction id is empty text (which is then not looked for)."""

    def __init__(
        self,
        records: list[dict[str, Any]],
        customers: Coded,
        times: npt.NDArray[np.int64],
        kinds: Coded,
        columns: dict[str, Column],
        empty_ids: bool = True,
    ) -> None:
        self.records = records
        self.n = len(records)
        self.customers, customer_codes, customer_names = customers
        self.times = times
        self.kinds, kind_codes, kind_names = kinds
        self._coding = {
            "customer_id": (customer_codes, customer_names),
            "kind": (kind_codes, kind_names),
        }
        self._columns = columns
        ids = columns.get("interaction_id")  # text: a list (see _property_column)
        self.ids: list[str | None] = (
            [None] * self.n
            if not isinstance(ids, list)
            else [v or None for v in ids]
            if empty_ids and "" in ids
            else ids
        )

    def first_seen(self, name: str) -> tuple[npt.NDArray[np.int64], dict[Any, int]]:
        """The customers (``name`` "customer_id") or kinds ("kind") coded in order of first
        appearance, and the codes by value (:func:`~cxmodel.triggers._codes.first_seen_codes`)."""
        return self._coding[name]

    def one_class(self, name: str) -> bool:
        """Whether the values :meth:`column` gives are of one class: always (a column is
        read from the records only when they are all numbers, all text or all true/false)."""
        return True

    def column(self, name: str, positions: npt.NDArray[np.integer[Any]]) -> npt.NDArray[Any] | None:
        """Property ``name`` at ``positions``: floats (NaN missing) for numbers, objects
        (``None`` missing) otherwise; ``None`` when no record has it."""
        values = self._columns.get(name)
        if values is None or isinstance(values, np.ndarray):
            return None if values is None else values[positions]
        return _objects(values, positions.tolist())

    def stand_ins(self, name: str) -> list[int]:
        """The positions of the first record with property ``name`` and the first without,
        those there are."""
        values = self._columns.get(name)
        if values is None or isinstance(values, np.ndarray):
            return [] if values is None else present_and_missing(values)
        present = next((j for j, v in enumerate(values) if v is not None and v != ""), None)
        missing = next((j for j, v in enumerate(values) if v is None or v == ""), None)
        return [j for j in (present, missing) if j is not None]

    def rows(self, positions: npt.ArrayLike) -> list[Row]:
        """The rows of the records at ``positions``, as one by one makes them: the checks
        passed for every record, so each row keeps its record's fields as given, but for
        the missing ones (``None``, empty text, NaN) and whole numbers, which are floats."""
        records, customers, times, kinds = self.records, self.customers, self.times, self.kinds
        out: list[Row] = []
        for p in np.asarray(positions, dtype=np.int64).tolist():
            kind = kinds[p]
            fields: dict[str, Any] = {"kind": kind}
            for name, value in records[p].items():
                of = type(value)
                if of is str:
                    if value and name not in _REQUIRED:
                        fields[name] = value
                elif of is float:
                    if value == value:
                        fields[name] = value
                elif of is int:
                    fields[name] = float(value)
                elif value is not None:  # true or false
                    fields[name] = value
            out.append(Row(customers[p], int(times[p]), kind, fields))
        return out


def record_columns(
    interactions: Any,
    questions: Mapping[str, Question] | None,
    catalogue: Collection[str] = (),
) -> RecordColumns | None:
    """A list of records read as columns, when checking them a column at a time accepts
    every one of them.

    :func:`rows_from` checks each record and makes a :class:`Row` of it; the columnar
    micro-batch path needs only a few columns (customers, times, kinds, ids, the properties
    its rules test) and a few rows. The check here is conservative: it accepts only what
    :func:`rows_from` accepts and keeps as given (non-blank text customer ids and kinds,
    timestamps in the common UTC shape, each property's values of one type kept as given,
    amounts and survey answers as the log checks and stores them, no touchpoint to fill
    channel and stage from, no record of a catalogue event's kind); anything else is read one by one, which
    names the record and the field of an error.

    Parameters
    ----------
    interactions
        What ``process_many`` was given.
    questions
        The survey questions by metric (``None``: the standard ones).
    catalogue
        The kinds of catalogue events.

    Returns
    -------
    RecordColumns or None
        The records as columns; ``None`` when ``interactions`` is not a non-empty list of
        plain ``dict`` records, or when a record is to be read one by one.
    """
    if type(interactions) is not list or not interactions:
        return None
    records: list[dict[str, Any]] = interactions
    read = _Blocks(len(records))
    for start in range(0, len(records), _BLOCK):
        if not read.block(records[start : start + _BLOCK], start):
            return None  # not a plain record, or one to check one by one
    fields = read.fields
    if set(map(type, fields)) != {str} or not valid_texts(list(fields)):
        return None  # a name one by one refuses
    customers = read.customers.coded()
    kinds = read.kinds.coded()
    times = read.times.us(fields["timestamp"])
    if customers is None or kinds is None or times is None:
        return None  # a catalogue event among them, or a record to check one by one
    if any(kind in kinds.names for kind in catalogue):  # read as one by one does
        return None
    columns: dict[str, Column] = {}
    for name in fields.keys() - _REQUIRED:
        values = _property_column(name, fields[name], read.types[name])
        if values is None:
            return None
        columns[name] = values
    if not _pass_log_checks(
        kinds.objects, columns, STANDARD_CATALOGUE if questions is None else questions
    ):
        return None
    return RecordColumns(records, customers, times, kinds, columns, read.empty_ids)


#: Records are read this many at a time (:class:`_Blocks`): each block's values are checked
#: and coded while they are still in the processor's cache, where reading a column of the
#: whole micro-batch at a time fetches every value from memory once per pass. A block of
#: decoded records holds about a kilobyte of objects a record: 512 of them stay in a core's
#: cache where 1,024 measured a few percent slower.
_BLOCK = 512
_ID_TYPES = frozenset((str, NoneType))  # ids are compared with "" only when of these types
_ONLY_TEXT = frozenset((str,))


class _Blocks:
    """The records of a micro-batch read as columns a block at a time: the fields as
    columns (``None`` where missing), each property's types, customers and kinds coded in
    order of first appearance, timestamps as the text of their common shape."""

    def __init__(self, n: int) -> None:
        self.n = n
        #: each field's values, ``None`` where a record lacks it
        self.fields: dict[Any, list[Any]] = {}
        #: each field's types but ``customer_id``, ``timestamp`` and ``kind``'s
        self.types: dict[Any, set[type]] = {}
        #: whether an interaction id is empty text (missing, as ``None``)
        self.empty_ids = False
        self.customers = _FirstSeen(n)
        self.kinds = _FirstSeen(n)
        self.times = _UtcTexts()

    def block(self, records: list[Any], start: int) -> bool:
        """Read ``records``, the micro-batch's from position ``start`` on; whether they are
        plain records (``dict``) whose customers, kinds and timestamps are text (see
        :meth:`_FirstSeen.read` and :meth:`_UtcTexts.read`)."""
        if set(map(type, records)) != {dict}:
            return False
        fields, n = self.fields, self.n
        for j, record in enumerate(records, start):
            for name, value in record.items():
                try:
                    fields[name][j] = value
                except KeyError:  # the first record with this field
                    fields[name] = [None] * n
                    fields[name][j] = value
        stop = start + len(records)
        try:
            customers = fields["customer_id"][start:stop]
            kinds = fields["kind"][start:stop]
            times = fields["timestamp"][start:stop]
        except KeyError:
            return False
        if not (
            self.customers.read(customers, start)
            and self.kinds.read(kinds, start)
            and self.times.read(times)
        ):
            return False
        types = self.types
        for name, values in fields.items():
            if name in _REQUIRED:
                continue
            block = values[start:stop]
            seen = set(map(type, block))
            types.setdefault(name, set()).update(seen)
            # text is checked while it is in the cache (ids, fetched from memory again over
            # the whole micro-batch, would cost as much again)
            if seen <= _ID_TYPES:
                if not valid_texts(block, seen):
                    return False  # an unpaired surrogate: one by one refuses it
                if name == "interaction_id" and not self.empty_ids:
                    # text alone holds the empty text where one is falsy (a test of length)
                    self.empty_ids = not all(block) if seen == _ONLY_TEXT else "" in block
        return True


class _FirstSeen:
    """Texts (customer ids, kinds) coded in order of first appearance, read a block at a
    time (:meth:`read`), as :func:`~cxmodel.triggers._codes.first_seen_codes` codes them."""

    def __init__(self, n: int) -> None:
        self._first: dict[str, int] = {}  # each distinct text's first position
        self._at = np.empty(n, dtype=np.int64)  # each text's first position

    def read(self, texts: list[Any], start: int) -> bool:
        """Read the texts at positions ``start`` on; whether they are all text (``str``
        exactly: nothing else is compared with them)."""
        if set(map(type, texts)) != {str}:
            return False
        firsts = map(self._first.setdefault, texts, count(start))
        self._at[start : start + len(texts)] = np.fromiter(firsts, np.int64, len(texts))
        return True

    def coded(self) -> Coded | None:
        """The texts read, coded (:class:`Coded`); ``None`` when one of them is blank."""
        first = self._first
        if not all(map(str.strip, first)) or not valid_texts(list(first)):
            return None
        rank = np.empty(len(self._at), dtype=np.int64)  # a first position's code
        rank[np.fromiter(first.values(), np.int64, len(first))] = np.arange(len(first))
        codes = rank[self._at]
        names = dict(zip(first, range(len(first))))
        return Coded(object_array(list(names))[codes], codes, names)


class _UtcTexts:
    """Timestamps read a block at a time (:meth:`read`): while all are of one length of a
    common UTC shape, their characters, one byte each."""

    def __init__(self) -> None:
        self._widths: set[int] = set()
        self._chars: list[bytes] = []

    def read(self, texts: list[Any]) -> bool:
        """Read a block of timestamps; whether they are all text (``str`` exactly) and, as
        long as all are of one length of a common shape, ASCII."""
        if set(map(type, texts)) != {str}:
            return False
        widths = self._widths
        widths.update(map(len, texts))
        if len(widths) == 1 and next(iter(widths)) in _UTC_SHAPES:
            try:
                self._chars.append("".join(texts).encode("ascii"))
            except UnicodeEncodeError:  # not the common shape: one by one says why
                return False
        return True

    def us(self, texts: list[Any]) -> npt.NDArray[np.int64] | None:
        """The microseconds of the timestamps read (all of them, ``texts``), when all are
        in the common UTC shape (:func:`_utc_text_us`), else ``None``."""
        widths = self._widths
        if len(widths) == 1 and (width := next(iter(widths))) in _UTC_SHAPES:
            return _one_shape_us(b"".join(self._chars), width)
        if not all(map(_UTC_TEXT.fullmatch, texts)):
            return None
        naive = [text[:-1] if text[-1] == "Z" else text[:-6] for text in texts]
        try:
            us = np.array(naive, dtype="datetime64[us]").astype(np.int64)
        except ValueError:  # an impossible date: one by one says which
            return None
        if len(us) and (int(us.min()) < _FIRST_SECOND_US or int(us.max()) > _LAST_SECOND_US):
            return None  # year 0, or past 9999: one by one refuses it
        return us


class Coded(NamedTuple):
    """A column of text (customer ids, kinds) coded by :class:`_FirstSeen`."""

    #: the values as objects, one object per distinct text (equal ids are the same object,
    #: so the dictionaries keyed by them compare them at once)
    objects: npt.NDArray[Any]
    #: each value's code, in order of first appearance
    codes: npt.NDArray[np.int64]
    #: the codes by value
    names: dict[Any, int]


def _utc_texts_us(values: list[Any]) -> npt.NDArray[np.int64] | None:
    """The microseconds of timestamps all in the common UTC shape (:func:`_utc_text_us`),
    else ``None``: :class:`_UtcTexts` reading them as one block."""
    texts = _UtcTexts()
    return texts.us(values) if texts.read(values) else None


#: The common UTC shapes by length ("d" a digit): seconds, milliseconds or microseconds,
#: then ``Z`` or ``+00:00`` (:data:`_UTC_TEXT`).
_UTC_SHAPES = {
    len(shape): shape
    for fraction in ("", ".ddd", ".dddddd")
    for zone in ("Z", "+00:00")
    if (shape := f"dddd-dd-ddTdd:dd:dd{fraction}{zone}")
}


def _calendar() -> tuple[npt.NDArray[np.int64], ...]:
    """Tables of the proleptic Gregorian calendar read by :func:`_one_shape_us`: for each
    year 0..9999, the days from 1970-01-01 to its January 1st and whether it is a leap year
    (1 or 0); at ``13 * leap + month``, each month's length and the days of the year before
    it."""
    years = np.arange(10_000, dtype=np.int64)
    leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
    before = np.concatenate(([0], np.cumsum(365 + leap[:-1])))
    lengths = np.array([[0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]] * 2, dtype=np.int64)
    lengths[1, 2] = 29
    starts = np.concatenate((np.zeros((2, 1), np.int64), np.cumsum(lengths, axis=1)[:, :-1]), 1)
    return before - before[1970], leap.astype(np.int64), lengths.ravel(), starts.ravel()


_YEAR_DAYS, _LEAP, _MONTH_DAYS, _MONTH_START = _calendar()
#: each digit as "d", and a "d" as something else, as a shape's characters are compared
_DIGITS_AS_D = bytes.maketrans(b"0123456789d", b"d" * 10 + b"x")
#: each common UTC shape as its length's texts are compared with it, every digit a "d"
#: (the zeros of "+00:00" too: they are looked at apart)
_SHAPE_CODES = {w: shape.replace("0", "d").encode("ascii") for w, shape in _UTC_SHAPES.items()}
_FRACTION_DIGITS = {width: shape.count("d") - 14 for width, shape in _UTC_SHAPES.items()}


def _one_shape_us(chars: bytes, width: int) -> npt.NDArray[np.int64] | None:
    """The microseconds of timestamps all of the common UTC shape of length ``width``,
    their ASCII characters one after the other; ``None`` when one is not of that shape or
    names an impossible time (read one by one, which says which).

    Examples
    --------
    >>> _one_shape_us(b"2024-02-29T23:59:59.250Z1970-01-01T00:00:01.000Z", 24).tolist()
    [1709251199250000, 1000000]
    >>> _one_shape_us(b"2023-02-29T00:00:00Z", 20) is None  # no such day
    True
    """
    # every character at once: each digit where the shape has one, the rest as it has it
    if chars.translate(_DIGITS_AS_D) != _SHAPE_CODES[width] * (len(chars) // width):
        return None
    digits = np.frombuffer(chars, dtype=np.uint8).reshape(-1, width) - np.uint8(ord("0"))
    if _UTC_SHAPES[width].endswith("+00:00") and (digits[:, -5:-3] | digits[:, -2:]).any():
        return None  # another offset than +00:00

    def two(at: int) -> npt.NDArray[np.uint8]:  # the two digits from ``at`` as a number
        number: npt.NDArray[np.uint8] = digits[:, at] * np.uint8(10) + digits[:, at + 1]
        return number

    month, day, hour, minute, second = two(5), two(8), two(11), two(14), two(17)
    # in bytes, 0 - 1 is 255: one comparison says whether a month or day is from 1 on
    if ((month - 1 > 11) | (day - 1 > 30) | (hour > 23) | (minute > 59) | (second > 59)).any():
        return None
    year = two(0).astype(np.int32) * 100 + two(2)
    month_at = _LEAP[year] * 13 + month  # in the month tables
    if not year.all() or (day > _MONTH_DAYS[month_at]).any():  # year 0, or e.g. February 30th
        return None
    days = _YEAR_DAYS[year] + _MONTH_START[month_at] + day - 1
    clock = (hour.astype(np.int32) * 60 + minute) * 60 + second
    us: npt.NDArray[np.int64] = (days * 86_400 + clock) * 1_000_000
    fraction = _FRACTION_DIGITS[width]  # after the seconds and a "."
    if fraction:
        micro = digits[:, 20].astype(np.int64)
        for k in range(21, 20 + fraction):
            micro = micro * 10 + digits[:, k]
        us += micro * 10 ** (6 - fraction)
    if len(us) and int(us.max()) > _LAST_SECOND_US:
        return None  # past 9999-12-31T23:59:59: one by one refuses it
    return us


#: A property of a micro-batch's records: floats (NaN missing) for numbers; for text or
#: true/false, the values as given (``None`` or empty text missing), made into an array
#: only where a rule reads them (:func:`_objects`).
Column = npt.NDArray[np.float64] | list[Any]


def _objects(values: list[Any], positions: list[int]) -> npt.NDArray[Any]:
    """Text or true/false values of a :data:`Column` at ``positions`` as objects, ``None``
    missing."""
    # one call gathers them (a tuple), in half the time of a call a value
    picked = (
        itemgetter(*positions)(values) if len(positions) > 1 else [values[p] for p in positions]
    )
    return object_array([v or None for v in picked] if "" in picked else picked)


def _property_column(name: str, values: list[Any], types: set[type]) -> Column | None:
    """Property ``name`` as :func:`row_from_record` keeps it (``None`` and empty text
    missing), when all its values (of ``types``) are of one type it keeps as given; else
    ``None``."""
    types = types - {NoneType}
    if types <= {str} and name not in _NUMERIC:
        return values
    if types <= {bool} and name not in _NUMERIC and name not in _TEXT:
        return values
    if types <= {float, int} and name not in _TEXT and (name in _NUMERIC or not _key_like(name)):
        try:
            numbers = np.fromiter(values, np.float64, len(values))  # None: NaN
        except OverflowError:  # an integer no float holds: one by one says which
            return None
        present = numbers[~np.isnan(numbers)]
        if not np.isfinite(present).all():
            return None
        # an integer a float would round is at least 2**53 as a float too; only then are
        # the integers looked at one by one
        if (
            int in types
            and len(present)
            and np.abs(present).max() >= EXACT_FLOAT_INT
            and not all(-EXACT_FLOAT_INT < v < EXACT_FLOAT_INT for v in values if type(v) is int)
        ):
            return None  # digits a float would round: one by one
        return numbers
    return None


def _pass_log_checks(
    kinds: npt.NDArray[Any], columns: dict[str, Column], questions: Mapping[str, Question]
) -> bool:
    """Whether the rows pass the log's checks (:func:`_check_row`, :func:`_answer`) and need
    nothing filled in or rewritten: positive amounts, sentiment in -1..1, no touchpoint,
    survey answers as the log stores them (:func:`_pass_answer_checks`)."""
    value = columns.get("value")  # numbers (see _property_column)
    if isinstance(value, np.ndarray):
        negative = np.flatnonzero(value < 0)  # NaN (missing) is not
        if len(negative) and not MONEY_KINDS.isdisjoint(kinds[negative].tolist()):
            return False
    if any(columns.get("touchpoint", ())):  # a present touchpoint is non-empty text
        return False
    sentiment = columns.get("sentiment")
    if sentiment is not None and (np.abs(sentiment[~np.isnan(sentiment)]) > 1).any():
        return False
    return _pass_answer_checks(columns, questions)


def _pass_answer_checks(columns: dict[str, Column], questions: Mapping[str, Question]) -> bool:
    """Whether the survey answers pass the log's checks (:func:`_answer`) as given: each
    score and answer has a metric naming a question and is in the field its question is
    answered in, a scale's (or yes/no question's) scores are whole points of it, checked a
    question at a time over arrays, and each distinct answer to a choice question is what
    :func:`~cxmodel.log._answers.read_answer` reads it as (its choices once each, in the
    question's order)."""
    score, named_by = columns.get("score"), columns.get("metric")  # numbers; text: a list
    answers = columns.get("answer")  # text: a list
    scored = np.zeros(0, dtype=np.int64) if score is None else np.flatnonzero(~np.isnan(score))
    answered = np.zeros(0, dtype=np.int64)
    if isinstance(answers, list):  # a present answer is non-empty text
        answered = np.flatnonzero(np.fromiter(map(bool, answers), bool, len(answers)))
    if not isinstance(named_by, list):
        return not len(scored) and not len(answered)
    survey = scored if not len(answered) else np.union1d(scored, answered)
    # the metric of each row holding a score or an answer ("" is missing, as None)
    metric = object_array(list(map(named_by.__getitem__, survey.tolist())))
    if not all(metric):
        return False
    for name in set(filter(None, named_by)):  # text or None: those present
        question = questions.get(name)
        if question is None:
            return False
        rows = survey[metric == name]
        if question.in_score:  # a scale's or a yes/no question's: whole points of its scale
            if len(answered) and np.isin(rows, answered).any():
                return False  # an answer in the other field
            if score is None:
                continue
            given = score[rows]
            given = given[~np.isnan(given)]
            low, high = question.scale  # type: ignore[misc]
            if ((given != np.round(given)) | (given < low) | (given > high)).any():
                return False
            continue
        if len(scored) and np.isin(rows, scored).any():
            return False  # a score in the other field
        if question.type is QuestionType.TEXT or not isinstance(answers, list):
            continue
        # each distinct choice answer once: stored as given (no choice repeated, reordered)
        for text in set(map(answers.__getitem__, rows.tolist())):
            if read_answer(question, None, text, "field") != (None, text, None):
                return False
    return True
