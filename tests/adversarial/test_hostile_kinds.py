"""Misspelt kind names given to the readers (``kinds=`` and ``kind=``, ``--kind`` and
``--all-kind``): the rows are read, and a ``DataWarning`` (a note on the command line) says
what the spelling did, instead of purchases that no analysis counts without a word."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from cxmodel.cli import main
from cxmodel.errors import DataWarning
from cxmodel.log import InteractionLog

T = "2024-01-01T00:00:00Z"


def _read(records: list[dict[str, Any]], **options: Any) -> tuple[InteractionLog, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log = InteractionLog.from_records(records, **options)
    return log, [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


class TestKindNames:
    @pytest.mark.parametrize(
        ("records", "options", "message"),
        [
            pytest.param(
                [{"customer_id": "a", "timestamp": T, "kind": "order"}],
                {"kinds": {"order": "purchse"}},
                "kinds: 'purchse' is not a standard kind; did you mean 'purchase'?",
                id="misspelt-target",
            ),
            pytest.param(
                [{"customer_id": "a", "timestamp": T}],
                {"kind": "purchases"},
                "kind: 'purchases' is not a standard kind; did you mean 'purchase'?",
                id="misspelt-kind",
            ),
            pytest.param(
                [{"customer_id": "a", "timestamp": T, "kind": "payment_done"}],
                {"kinds": {"Payment_done": "purchase"}},
                "kinds maps 'Payment_done', which no row has, so it renames nothing; did you "
                "mean 'payment_done'?",
                id="misspelt-source",
            ),
        ],
    )
    def test_warned(self, records: list[dict[str, Any]], options: Any, message: str) -> None:
        """Each was read without a word: no analysis then counted the rows as purchases."""
        log, messages = _read(records, **options)
        assert len(log) == 1
        assert len(messages) == 1 and messages[0].startswith(message)

    @pytest.mark.parametrize(
        ("records", "options"),
        [
            pytest.param(
                [{"customer_id": "a", "timestamp": T, "kind": "payment_done"}],
                {"kinds": {"payment_done": "purchase"}},
                id="standard-target",
            ),
            pytest.param(
                [{"customer_id": "a", "timestamp": T, "kind": "reopen"},
                 {"customer_id": "a", "timestamp": T, "kind": "ticket_opened"}],
                {"kinds": {"reopen": "ticket_reopened"}},
                id="own-kind-beside-the-standard-one",
            ),
            pytest.param(
                [{"customer_id": "a", "timestamp": T}],
                {"kind": "order", "kinds": {"order": "purchase"}},
                id="kind-renamed-to-a-standard-one",
            ),
        ],
    )  # fmt: skip
    def test_not_warned(self, records: list[dict[str, Any]], options: Any) -> None:
        """Standard kinds, and a kind of one's own next to the standard one it resembles."""
        assert _read(records, **options)[1] == []

    def test_notes_on_the_command_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The command line ignored the readers' warnings: it prints them as notes."""
        path = tmp_path / "events.csv"
        path.write_text(f"customer_id,timestamp,event\na,{T},payment_done\n", encoding="utf-8")
        args = ["summary", str(path), "--map", "event=kind", "--kind", "Payment_done=purchase"]
        assert main(args) == 0
        assert "note: --kind maps 'Payment_done', which no row has" in capsys.readouterr().err
        bare = tmp_path / "orders.csv"
        bare.write_text(f"customer_id,timestamp\na,{T}\n", encoding="utf-8")
        assert main(["summary", str(bare), "--all-kind", "purchases"]) == 0
        assert "note: --all-kind: 'purchases' is not a standard kind" in capsys.readouterr().err
