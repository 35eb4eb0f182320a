"""The pyarrow and the standard-library CSV engines read every file into the same log.

pyarrow parses times and numbers itself where it reads them as Python does, and leaves the
rest to the Python rules; whatever the file holds, both engines give the same rows, values,
rejected rows and messages.
"""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxmodel as cx
from cxmodel.errors import CXModelError, DataWarning
from cxmodel.io import read_csv

pytest.importorskip("pyarrow")

TIMES = st.one_of(
    st.datetimes().map(lambda d: d.isoformat(sep=" ", timespec="seconds") + "Z"),
    st.datetimes().map(lambda d: d.isoformat(timespec="milliseconds") + "+05:30"),
    st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),  # naive
    st.sampled_from(["2024-02-30T00:00:00Z", "2024-01-01t10:00Z", " 2024-01-01T10Z", "", "x"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12),
)
NUMBERS = st.one_of(
    st.just(""),
    st.floats(-5, 1e6).map(repr),
    st.integers(-2, 12).map(str),
    st.sampled_from(["1_0", " 7", "nan", "inf", "1e999", "NA", "-0", ".5", "5."]),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=6),
)
FIELDS = ("customer_id", "timestamp", "kind", "value", "metric", "score", "country")
ROW = st.tuples(
    st.sampled_from(["a", "b", "007", "", "é"]),
    TIMES,
    st.sampled_from(["view", "purchase", "survey", "refund", ""]),
    NUMBERS,
    st.sampled_from(["", "nps", "csat", "ces", "nope"]),
    NUMBERS,
    st.sampled_from(["NA", "", "fr", "007"]),
)


def _read(path: Path, engine: str, mode: str, zone: str | None) -> Any:
    """The log and its rejected rows, or the error's message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        try:
            log = read_csv(path, engine=engine, errors=mode, timezone=zone)  # type: ignore[arg-type]
        except CXModelError as exc:
            return str(exc)
    return log, log.rejected.to_dict()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(ROW, min_size=1, max_size=30),
    zone=st.sampled_from([None, "UTC", "-03:30", "Europe/Paris"]),
)
def test_both_engines_read_the_same(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, ...]], zone: str | None
) -> None:
    """Same log, input positions, rejected rows and reasons; or the same error."""
    out = io.StringIO()
    csv.writer(out).writerows([FIELDS, *rows])
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    for mode in ("raise", "quarantine"):
        fast = _read(path, "pyarrow", mode, zone)
        slow = _read(path, "python", mode, zone)
        if isinstance(slow, str) or isinstance(fast, str):
            assert fast == slow
            continue
        assert fast[0] == slow[0]
        assert fast[0].row_order.tolist() == slow[0].row_order.tolist()
        assert fast[1] == slow[1]


def test_a_large_file_with_one_bad_time(tmp_path: Path) -> None:
    """One bad time among 20,000 rows: only that row is rejected, named by its row number."""
    lines = ["customer_id,timestamp,kind,value"]
    lines += [f"c{i % 97},2024-01-01T00:{i % 60:02d}:00Z,view,{i}.5" for i in range(20_000)]
    lines[12_346] = "c1,2024-01-01T00:00:00,view,1"
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.warns(DataWarning, match="1 of 20,000 rows rejected"):
        log = read_csv(path, errors="quarantine")
    assert log.rejected.row.tolist() == [12_346]
    assert "'2024-01-01T00:00:00' has no time zone" in log.rejected.reason[0]
    assert isinstance(log, cx.InteractionLog) and len(log) == 19_999


def _big(tmp_path: Path, row: bytes, at: int, name: str = "big.csv") -> tuple[Path, int]:
    """A CSV of about 1.2 MB whose data row ``at`` (1-based) is ``row``; returns its line."""
    lines = [b"customer_id,timestamp,kind,country"]
    lines += [b"c%d,2024-01-01T00:00:00Z,view,fr" % (i % 50) for i in range(40_000)]
    lines[at] = row
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, at + 1


class TestPastTheFirstMegabyte:
    """pyarrow reads a UTF-8 file's bytes as they are; only their start is decoded first."""

    def test_a_bad_byte_is_named_by_its_line(self, tmp_path: Path) -> None:
        path, line = _big(tmp_path, b"c1,2024-01-01T00:00:00Z,view,f\xffr", 38_000)
        with pytest.raises(CXModelError, match=f"line {line}: byte b'\\\\xff' is not valid"):
            read_csv(path)

    def test_a_bad_byte_rejects_its_row_in_quarantine(self, tmp_path: Path) -> None:
        path, line = _big(tmp_path, b"c1,2024-01-01T00:00:00Z,view,f\xffr", 38_000)
        with pytest.warns(DataWarning, match="1 of 40,000 rows rejected"):
            log = read_csv(path, errors="quarantine")
        assert log.rejected.row.tolist() == [line - 1]

    @pytest.mark.parametrize("cut", [1, 2])
    def test_a_character_cut_by_the_first_megabyte(self, tmp_path: Path, cut: int) -> None:
        """A two-byte character across the first megabyte's end reads as any other."""
        path, _ = _big(tmp_path, b"c1,2024-01-01T00:00:00Z,view,\xc3\xa9", 1)
        data = path.read_bytes()
        pad = 1_000_000 - cut - data.index(b"\xc3\xa9")  # put the character across byte 1e6
        path.write_bytes(data.replace(b"view,\xc3\xa9", b"view," + b"x" * pad + b"\xc3\xa9", 1))
        fast, slow = read_csv(path), read_csv(path, engine="python")
        assert fast == slow and fast.column("country")[fast.row_order == 0][0].endswith("é")


@pytest.mark.parametrize("engine", ["pyarrow", "python"])
def test_rows_of_only_separators_are_blank_lines(tmp_path: Path, engine: str) -> None:
    """Rows of only separators (and white space), as a spreadsheet writes below or between
    its data, are skipped as blank lines on both engines: the file reads under the default
    errors="raise", and a bad row later is numbered without them."""
    pytest.importorskip("pyarrow")
    path = tmp_path / "sheet.csv"
    path.write_text(
        "customer_id,timestamp,kind\na,2024-01-01T00:00:00Z,view\n,,\n , ,\n"
        "b,2024-01-02T00:00:00Z,view\n,,\n"
    )
    assert len(read_csv(path, engine=engine)) == 2
    path.write_text("customer_id,timestamp,kind\na,2024-01-01T00:00:00Z,view\n,,\nb,soon,view\n")
    with pytest.raises(CXModelError, match="row 2: timestamp 'soon'"):
        read_csv(path, engine=engine)


@pytest.mark.parametrize("engine", ["pyarrow", "python"])
def test_a_row_with_one_field_filled_is_not_blank(tmp_path: Path, engine: str) -> None:
    """A row whose only filled field is its last is a row (here a bad one),
    not a blank line, on both engines."""
    pytest.importorskip("pyarrow")
    path = tmp_path / "sheet.csv"
    path.write_text("customer_id,timestamp,kind\na,2024-01-01T00:00:00Z,view\n, ,view\n")
    with pytest.raises(CXModelError, match="row 2: "):
        read_csv(path, engine=engine)
