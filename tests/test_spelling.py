"""Errors that ask for a reader argument are composed from the argument, so a caller with its
own names for the arguments (the command line's options) words them its own way."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cxmodel._pieces import as_piece
from cxmodel._spelling import (
    Argument,
    ArgumentHintError,
    ArgumentReason,
    ArgumentWarning,
    python_spelling,
)
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.io import read_csv, read_jsonl, read_parquet
from cxmodel.log import InteractionLog
from cxmodel.log._columns import RowErrors
from cxmodel.log._log import _raise_nothing_accepted
from cxmodel.log._rejected import RejectedRows


def _options(argument: Argument, value: str | None = None) -> str:
    """A spelling that shares no text with Python's."""
    return f"<{argument.name}>" if value is None else f"<{argument.name} {value}>"


CSV = {
    "no-kind": "customer_id,timestamp\na,2024-01-01T00:00:00Z\n",
    "no-timestamp": "customer_id,date,kind\na,19970101,view\n",
    "no-customer": "user,timestamp,kind\na,2024-01-01T00:00:00Z,view\n",
    "complete": "customer_id,timestamp,kind\na,2024-01-01T00:00:00Z,view\n",
}
RECORDS = {
    "no-kind": {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z"},
    "no-timestamp": {"customer_id": "a", "date": "19970101", "kind": "view"},
    "no-customer": {"user": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"},
    "complete": {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"},
}


def _csv(tmp_path: Path, case: str) -> Path:
    path = tmp_path / "d.csv"
    path.write_text(CSV[case], encoding="utf-8")
    return path


def _jsonl(tmp_path: Path, case: str) -> Path:
    import json

    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(RECORDS[case]) + "\n", encoding="utf-8")
    return path


def _parquet(tmp_path: Path, case: str) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pylist([RECORDS[case]]), path)
    return path


def _arrow(tmp_path: Path, case: str) -> Any:
    pa = pytest.importorskip("pyarrow")
    return pa.Table.from_pylist([RECORDS[case]])


READERS: dict[str, tuple[Callable[[Path, str], Any], Callable[..., InteractionLog]]] = {
    "read_csv": (_csv, read_csv),
    "read_jsonl": (_jsonl, read_jsonl),
    "read_parquet": (_parquet, read_parquet),
    "from_arrow": (_arrow, InteractionLog.from_arrow),
}
CASES = [
    pytest.param("no-kind", {}, "'kind' is missing", id="no-kind-column"),
    pytest.param("no-timestamp", {}, "'timestamp' is missing", id="no-timestamp-column"),
    pytest.param("no-customer", {}, "'customer_id' is missing", id="no-customer-column"),
    pytest.param("complete", {"kind": "purchase"}, "'kind' column too", id="kind-twice"),
    pytest.param("no-kind", {"kind": " "}, "non-empty text", id="blank-kind"),
]


@pytest.mark.parametrize(("case", "options", "about"), CASES)
@pytest.mark.parametrize("reader", sorted(READERS))
def test_every_reader_composes_its_hints(
    tmp_path: Path, reader: str, case: str, options: dict[str, str], about: str
) -> None:
    """Each reader's error about a missing column or the kind of every row is composed: its
    text is the Python wording, and another spelling leaves no Python argument in it."""
    make, read = READERS[reader]
    with pytest.raises(ArgumentHintError, match=about) as caught:
        read(make(tmp_path, case), **options)
    assert str(caught.value) == caught.value.spelled(python_spelling)
    spelled = caught.value.spelled(_options)
    assert "<" in spelled and "mapping=" not in spelled and "kind=" not in spelled


class TestSpellings:
    @pytest.mark.parametrize(
        ("argument", "value", "python"),
        [
            (Argument.MAPPING, "timestamp", "mapping={'your_name': 'timestamp'}"),
            (Argument.KIND, "purchase", "kind='purchase'"),
            (Argument.KIND, "big order", "kind='big order'"),
            (Argument.KIND, None, "kind="),
            (Argument.KINDS, "purchase", "kinds={'your_name': 'purchase'}"),
        ],
        ids=["mapping", "kind", "kind-with-space", "kind-alone", "kinds"],
    )
    def test_python_spelling(self, argument: Argument, value: str | None, python: str) -> None:
        """Python code sets an argument as a keyword with the value's repr."""
        assert python_spelling(argument, value) == python

    def test_a_message_without_arguments_is_unchanged(self) -> None:
        """The words around the arguments are the same in every spelling."""
        error = ArgumentHintError(lambda say: f"pass {say(Argument.KIND, 'x')} or not")
        assert (str(error), error.spelled(_options)) == (
            "pass kind='x' or not",
            "pass <KIND x> or not",
        )

    def test_pickles_as_its_text(self) -> None:
        """Across processes the error is a SchemaError of its Python text (its composing
        function does not pickle)."""
        error = ArgumentHintError(lambda say: f"pass {say(Argument.KIND, 'x')}")
        back = pickle.loads(pickle.dumps(error))
        assert (type(back), str(back)) == (SchemaError, "pass kind='x'")


class TestNaiveTimes:
    def test_a_naive_time_is_a_composed_reason(self) -> None:
        """A reader's row with a naive time keeps, in its reason, the argument it asks for."""
        with as_piece():
            log = InteractionLog.from_records(
                [
                    {"customer_id": "a", "timestamp": "2024-01-01 10:00", "kind": "view"},
                    {"customer_id": "a", "timestamp": "2024-01-02T10:00Z", "kind": "view"},
                ],
                errors="quarantine",
            )
        (reason,) = log.rejected.reason.tolist()
        assert "has no time zone; pass timezone='UTC' (or the zone" in reason
        with pytest.raises(ArgumentHintError) as caught:
            InteractionLog.from_records(
                [{"customer_id": "a", "timestamp": "2024-01-01 10:00", "kind": "view"}],
                errors="quarantine",
            )
        assert "pass <TIMEZONE UTC> (or the zone" in caught.value.spelled(_options)

    def test_the_hint_does_not_depend_on_the_reasons_words(self) -> None:
        """Every row rejected: the error is composed from the reason's argument, whatever the
        reason says (it used to be recognised by the end of its text)."""
        reason = ArgumentReason(
            lambda say: f"any words at all, then {say(Argument.TIMEZONE, 'UTC')}!"
        )
        errors = RowErrors()
        errors.reasons[0] = reason
        rejected = RejectedRows(np.array([1]), np.array([str(reason)], dtype=object), ({},))
        with pytest.raises(ArgumentHintError) as caught:
            _raise_nothing_accepted(rejected, errors, np.array([0]), "f.csv")
        assert str(caught.value).endswith("is like: any words at all, then timezone='UTC'!")
        assert caught.value.spelled(_options).endswith("then <TIMEZONE UTC>!")

    def test_a_plain_reason_is_a_plain_error(self) -> None:
        """A reason that asks for no argument makes a plain SchemaError."""
        errors = RowErrors()
        errors.reasons[0] = "value 'x' is not a number"
        rejected = RejectedRows(np.array([1]), np.array([errors.reasons[0]], dtype=object), ({},))
        with pytest.raises(SchemaError) as caught:
            _raise_nothing_accepted(rejected, errors, np.array([0]), None)
        assert type(caught.value) is SchemaError

    def test_a_reason_pickles_as_its_text(self) -> None:
        """Across processes a reason is the str of its Python text."""
        back = pickle.loads(pickle.dumps(ArgumentReason(lambda say: say(Argument.KIND, "x"))))
        assert (type(back), back) == (str, "kind='x'")


class TestArgumentWarnings:
    @pytest.mark.parametrize(
        ("options", "argument", "detail"),
        [
            ({"kinds": {"Payment_done": "purchase"}}, Argument.KINDS, " maps 'Payment_done'"),
            ({"kinds": {"payment_done": "purchse"}}, Argument.KINDS, ": 'purchse' is not"),
            ({"kind": "purchses"}, Argument.KIND, ": 'purchses' is not a standard kind"),
        ],
        ids=["unused-rename", "lookalike-rename", "lookalike-kind"],
    )
    def test_kind_warnings_carry_their_argument(
        self, options: dict[str, Any], argument: Argument, detail: str
    ) -> None:
        """The readers' warnings about kinds= and kind= carry the argument, so the command
        line leads them with its own option without reading their text."""
        record = {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z"}
        if "kinds" in options:
            record["kind"] = "payment_done"
        with as_piece() as kept:
            InteractionLog.from_records([record], **options)
        (warning,) = [w for w in kept if isinstance(w, ArgumentWarning)]
        assert warning.argument is argument and warning.detail.startswith(detail)
        assert str(warning) == argument.value + warning.detail
        assert warning.spelled(_options) == f"<{argument.name}>{warning.detail}"

    def test_pickles_with_its_argument(self) -> None:
        """Across processes the warning keeps its argument and detail."""
        back = pickle.loads(pickle.dumps(ArgumentWarning.about(Argument.KIND, ": 'x' is odd")))
        assert isinstance(back, ArgumentWarning) and isinstance(back, DataWarning)
        assert (back.argument, back.detail, str(back)) == (
            Argument.KIND,
            ": 'x' is odd",
            "kind: 'x' is odd",
        )

    def test_made_from_its_text_it_reads_as_it_is(self) -> None:
        """Raised again from its text (a distributed analysis merges its pieces' warnings by
        text), the warning has no argument and reads as written in every spelling."""
        warning = ArgumentWarning("kinds maps 'x'")
        assert (warning.argument, warning.spelled(_options)) == (None, "kinds maps 'x'")
        assert str(pickle.loads(pickle.dumps(warning))) == "kinds maps 'x'"
