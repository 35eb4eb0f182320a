"""Inputs without an end: a device given as the data file, a line of gigabytes, a gzip bomb.
Each ran the readers (and so the command line) out of memory; each is a ``SchemaError`` naming
the file (and the line), read no further than the bound on one line. Pipes are still read."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path
from typing import Any

import pytest

from cxmodel.cli import main
from cxmodel.errors import SchemaError
from cxmodel.io import _sources, read_csv, read_jsonl, read_parquet

CSV = "customer_id,timestamp,kind\na,2024-01-01T00:00:00Z,view\nb,2024-01-02T00:00:00Z,purchase\n"
DEVICE = "is a character device (such as /dev/zero or a terminal), not a file"
needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")


@pytest.fixture
def small_bound(monkeypatch: pytest.MonkeyPatch) -> int:
    """Lines of at most 100 bytes, read in chunks of 7 (so lines cross chunks); the bound
    itself is tested in tests/io/test_sources.py."""
    monkeypatch.setattr(_sources, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(_sources, "_CHUNK", 7)
    return 100


@needs_dev_zero
class TestDevices:
    @pytest.mark.parametrize(
        "reader",
        [
            pytest.param(read_csv, id="read_csv"),
            pytest.param(lambda p: read_csv(p, engine="python"), id="read_csv-python"),
            pytest.param(read_jsonl, id="read_jsonl"),
            pytest.param(read_parquet, id="read_parquet"),
        ],
    )
    def test_dev_zero_is_refused(self, reader: Any) -> None:
        """/dev/zero never ends: it was read until memory ran out."""
        with pytest.raises(SchemaError, match=f"^/dev/zero: {re.escape(DEVICE)}"):
            reader("/dev/zero")

    @pytest.mark.parametrize(
        "command",
        [
            pytest.param(["summary", "/dev/zero"], id="summary"),
            pytest.param(["report", "/dev/zero", "--out", "never.html"], id="report"),
            pytest.param(["check", "/dev/zero"], id="rules"),
        ],
    )
    def test_the_command_line_says_so(
        self, command: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """Exit status 2 and one line naming the file, for data and rules files alike."""
        if "--out" in command:
            command[-1] = str(tmp_path / "never.html")
        assert main(command) == 2
        assert f"/dev/zero: {DEVICE}" in capsys.readouterr().err


class TestLongLines:
    def test_a_line_past_the_bound_names_the_line(self, tmp_path: Path, small_bound: int) -> None:
        """A line longer than the bound is refused, naming the file and its line number."""
        path = tmp_path / "long.csv"
        path.write_text(CSV + "c," + "x" * small_bound + "\n", encoding="utf-8")
        for read in (read_csv, read_jsonl):
            with pytest.raises(SchemaError, match=r"long\.csv: line 4 is longer than"):
                read(path)

    def test_a_gzip_bomb_stops_at_the_bound(self, tmp_path: Path, small_bound: int) -> None:
        """A gzip file of one long run of zeros (tiny on disk) is not decompressed whole."""
        path = tmp_path / "bomb.csv.gz"
        path.write_bytes(gzip.compress(b"\0" * 10_000))
        with pytest.raises(SchemaError, match=r"bomb\.csv\.gz: line 1 is longer than"):
            read_csv(path)
