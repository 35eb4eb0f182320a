"""Inputs without an end: a device given as the data file, a line of gigabytes, a gzip bomb.
Each ran the readers (and so the command line) out of memory; each is a ``SchemaError`` naming
the file (and the line), read no further than the bound on one line. Pipes are still read."""

from __future__ import annotations

import gzip
import io
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.cli import main
from cxmodel.errors import SchemaError
from cxmodel.io import _sources, read_csv, read_jsonl, read_parquet

CSV = "customer_id,timestamp,kind\na,2024-01-01T00:00:00Z,view\nb,2024-01-02T00:00:00Z,purchase\n"
DEVICE = "is a character device (such as /dev/zero or a terminal), not a file"
needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")


@pytest.fixture
def small_bound(monkeypatch: pytest.MonkeyPatch) -> int:
    """Lines of at most 100 bytes, read in chunks of 7 (so lines cross chunks)."""
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

    def test_a_line_at_the_bound_is_read(self, tmp_path: Path, small_bound: int) -> None:
        """Exactly the bound is a line (the newline not counted)."""
        path = tmp_path / "edge.csv"
        path.write_text(CSV + "c,2024-01-03T00:00:00Z," + "v" * 77 + "\n", encoding="utf-8")
        assert len(path.read_text().splitlines()[-1]) == small_bound
        assert len(read_csv(path)) == 3

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(st.integers(0, 30), max_size=12),
        st.booleans(),
        st.integers(1, 9),
        st.integers(5, 25),
    )
    def test_bounded_reading_equals_reading(
        self, lengths: list[int], end_newline: bool, chunk: int, bound: int
    ) -> None:
        """Over any lines and chunk size, the bounded read is the bytes themselves when every
        line is within the bound, else the error names the first line past it."""
        data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if end_newline else b"")
        old = (_sources.MAX_LINE_BYTES, _sources._CHUNK)
        _sources.MAX_LINE_BYTES, _sources._CHUNK = bound, chunk
        try:
            too_long = [i for i, n in enumerate(data.split(b"\n"), 1) if n and len(n) > bound]
            if not too_long:
                assert _sources._bounded(io.BytesIO(data), "f") == data
            else:
                with pytest.raises(SchemaError, match=f"^f: line {too_long[0]} is longer"):
                    _sources._bounded(io.BytesIO(data), "f")
        finally:
            _sources.MAX_LINE_BYTES, _sources._CHUNK = old


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
class TestPipes:
    @pytest.mark.parametrize("compress", [False, True], ids=["text", "gzip"])
    def test_a_named_pipe_is_read(self, tmp_path: Path, compress: bool) -> None:
        """A named pipe (what a shell's <(...) or /dev/stdin fed by a command gives) is read
        once, as the file with its bytes is."""
        fifo = tmp_path / "data.csv"
        os.mkfifo(fifo)
        data = CSV.encode()
        payload = gzip.compress(data) if compress else data

        def write() -> None:
            with open(fifo, "wb") as handle:
                handle.write(payload)

        writer = threading.Thread(target=write)
        writer.start()
        try:
            log = read_csv(fifo)
        finally:
            writer.join(timeout=10)
        assert log.customers.tolist() == ["a", "b"]
