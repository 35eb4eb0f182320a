"""Errors that ask for a reader argument are composed from the argument, so a caller with its
own names for the arguments (the command line's options) words them its own way."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cxmodel._spelling import Argument, ArgumentHintError, python_spelling
from cxmodel.errors import SchemaError
from cxmodel.io import read_csv, read_jsonl, read_parquet
from cxmodel.log import InteractionLog


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
        ],
        ids=["mapping", "kind", "kind-with-space", "kind-alone"],
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
