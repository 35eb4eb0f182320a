"""Reading a file or a pipe with a bound on the length of a line."""

from __future__ import annotations

import gzip
import io
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import SchemaError
from cxmodel.io import _sources, read_csv

CSV = "customer_id,timestamp,kind\na,2024-01-01T00:00:00Z,view\nb,2024-01-02T00:00:00Z,purchase\n"


@pytest.fixture
def small_bound(monkeypatch: pytest.MonkeyPatch) -> int:
    """Lines of at most 100 bytes, read in chunks of 7 (so lines cross chunks)."""
    monkeypatch.setattr(_sources, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(_sources, "_CHUNK", 7)
    return 100


class TestBoundedLines:
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
