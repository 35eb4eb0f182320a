"""Readers: every kind of bad input has a clear error, and quarantine loses nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cxmodel as cx
from cxmodel.errors import CXModelError, DataWarning, SchemaError
from cxmodel.io import read_csv, read_jsonl, read_parquet, write_csv, write_parquet

HEADER = "customer_id,timestamp,kind,value,metric,score,interaction_id"
GOOD = "c1,2024-01-01T10:00:00+00:00,view,,,,i1"

# (id, bad line, the fragments the message must contain: row, column, value)
BAD_ROWS = [
    ("nps-11", "c2,2024-01-02T00:00:00Z,survey,,nps,11,i2", ["row 2", "'score'", "11", "NPS"]),
    ("csat-0", "c2,2024-01-02T00:00:00Z,survey,,csat,0,i2", ["row 2", "'score'", "CSAT"]),
    ("bad-time", "c2,yesterday,view,,,,i2", ["row 2", "timestamp", "'yesterday'"]),
    ("naive-time", "c2,2024-01-02T00:00:00,view,,,,i2", ["row 2", "timestamp", "timezone="]),
    ("missing-id", ",2024-01-02T00:00:00Z,view,,,,i2", ["row 2", "'customer_id'", "missing"]),
    (
        "duplicate-id",
        "c2,2024-01-02T00:00:00Z,view,,,,i1",
        ["row 2", "'interaction_id'", "'i1'", "row 1"],
    ),
    ("negative-purchase", "c2,2024-01-02T00:00:00Z,purchase,-3,,,i2", ["row 2", "'value'", "-3"]),
    (
        "unknown-metric",
        "c2,2024-01-02T00:00:00Z,survey,,stars,3,i2",
        ["row 2", "'metric'", "'stars'"],
    ),
    (
        "value-not-number",
        "c2,2024-01-02T00:00:00Z,purchase,abc,,,i2",
        ["row 2", "'value'", "'abc'"],
    ),
]


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("engine", ["pyarrow", "python"])
@pytest.mark.parametrize(
    ("line", "fragments"), [r[1:] for r in BAD_ROWS], ids=[r[0] for r in BAD_ROWS]
)
class TestBadRows:
    def test_raise_names_row_column_value(
        self, tmp_path: Path, engine: str, line: str, fragments: list[str]
    ) -> None:
        """errors='raise' raises SchemaError (a ValueError) naming row, column and value."""
        path = _write(tmp_path, [HEADER, GOOD, line])
        with pytest.raises(SchemaError) as info:
            read_csv(path, engine=engine)  # type: ignore[arg-type]
        assert isinstance(info.value, ValueError) and isinstance(info.value, CXModelError)
        for fragment in fragments:
            assert fragment in str(info.value)

    def test_quarantine_keeps_everything(
        self, tmp_path: Path, engine: str, line: str, fragments: list[str]
    ) -> None:
        """errors='quarantine' keeps the good row, rejects the bad one, loses nothing."""
        path = _write(tmp_path, [HEADER, GOOD, line])
        with pytest.warns(DataWarning, match="1 of 2 rows rejected"):
            log = read_csv(path, errors="quarantine", engine=engine)  # type: ignore[arg-type]
        assert len(log) == 1 and len(log.rejected) == 1
        assert log.rejected.row.tolist() == [2]
        assert fragments[1].strip("'") in log.rejected.reason[0]


class TestFileErrors:
    def test_empty_file(self, tmp_path: Path) -> None:
        """An empty file is an error that says what was expected."""
        path = tmp_path / "empty.csv"
        path.write_text("")
        with pytest.raises(SchemaError, match="the file is empty"):
            read_csv(path)

    @pytest.mark.parametrize("engine", ["pyarrow", "python"])
    def test_mapping_names_absent_column(self, tmp_path: Path, engine: str) -> None:
        """A mapping naming a column that is not there is an error naming it."""
        path = _write(tmp_path, [HEADER, GOOD])
        with pytest.raises(SchemaError, match="mapping names column 'user'"):
            read_csv(path, mapping={"user": "customer_id"}, engine=engine)  # type: ignore[arg-type]

    def test_missing_required_column(self, tmp_path: Path) -> None:
        """A file without a required column says how to map one."""
        path = _write(tmp_path, ["user,timestamp,kind", "c1,2024-01-01T00:00:00Z,view"])
        with pytest.raises(SchemaError, match="'customer_id' is missing.*mapping="):
            read_csv(path)

    @pytest.mark.parametrize("engine", ["pyarrow", "python"])
    @pytest.mark.parametrize(
        ("written", "given"),
        [(";", ","), ("\t", ","), (",", ";"), ("|", ",")],
        ids=["semicolon", "tab", "comma-read-as-semicolon", "pipe"],
    )
    def test_wrong_delimiter_names_the_right_one(
        self, tmp_path: Path, written: str, given: str, engine: str
    ) -> None:
        """A header read as one column that holds another usual separator names the delimiter
        to pass (it said 'customer_id' was missing, showing one long column name)."""
        names = written.join(["customer_id", "timestamp", "kind"])
        row = written.join(["c1", "2024-01-01T00:00:00Z", "view"])
        path = _write(tmp_path, [names, row])
        with pytest.raises(
            SchemaError, match=re.escape(f"separated by {written!r}; pass delimiter=")
        ):
            read_csv(path, delimiter=given, engine=engine)  # type: ignore[arg-type]
        assert len(read_csv(path, delimiter=written, engine=engine)) == 1  # type: ignore[arg-type]

    @pytest.mark.parametrize("engine", ["pyarrow", "python"])
    def test_aligned_columns_name_whitespace(self, tmp_path: Path, engine: str) -> None:
        """A header of names aligned with runs of spaces (as CDNOW's text files are) read as
        one column names ``delimiter='whitespace'`` (it said 'customer_id' was missing)."""
        path = _write(tmp_path, [" customer_id  timestamp   kind", " c1 2024-01-01T00:00:00Z view"])
        with pytest.raises(
            SchemaError, match=r"separated by runs of spaces; pass delimiter='whitespace'"
        ):
            read_csv(path, engine=engine)  # type: ignore[arg-type]
        assert len(read_csv(path, delimiter="whitespace")) == 1

    def test_mixed_offsets_are_converted(self, tmp_path: Path) -> None:
        """Mixed UTC offsets are accepted and converted to UTC."""
        path = _write(
            tmp_path,
            [
                "customer_id,timestamp,kind",
                "c1,2024-01-01T10:00:00+02:00,view",
                "c1,2024-01-01T08:30:00Z,view",
            ],
        )
        log = read_csv(path)
        assert (
            log.column("timestamp").tolist()[0] == np.datetime64("2024-01-01T08:00:00", "us").item()
        )

    def test_naive_times_with_timezone(self, tmp_path: Path) -> None:
        """Naive timestamps are read in the zone the caller names."""
        path = _write(tmp_path, ["customer_id,timestamp,kind", "c1,2024-07-01T10:00:00,view"])
        log = read_csv(path, timezone="Europe/Paris")
        assert str(log.column("timestamp")[0]) == "2024-07-01T08:00:00.000000"

    @pytest.mark.parametrize("engine", ["pyarrow", "python"])
    def test_daylight_saving_wall_times_are_quarantined(self, tmp_path: Path, engine: str) -> None:
        """Naive times skipped or repeated by a daylight-saving change are bad rows, counted
        and kept in log.rejected, not read with a guessed offset."""
        path = _write(
            tmp_path,
            [
                "customer_id,timestamp,kind",
                "a,2024-11-03T01:30:00,view",
                "b,2024-03-10T02:30:00,view",
                "c,2024-03-10T03:30:00,view",
            ],
        )
        with pytest.warns(DataWarning, match="2 of 3 rows rejected"):
            log = read_csv(path, timezone="America/New_York", errors="quarantine", engine=engine)
        assert log.customers.tolist() == ["c"]
        assert log.rejected.row.tolist() == [1, 2]
        assert "happens twice" in log.rejected.reason[0]
        assert "does not exist" in log.rejected.reason[1]


class TestQuarantineIdentity:
    @pytest.mark.filterwarnings("ignore::cxmodel.errors.DataWarning")
    @settings(max_examples=25)
    @given(
        st.lists(
            st.sampled_from(
                [GOOD.replace("i1", "{}")]
                + [r[1].replace("i2", "{}") for r in BAD_ROWS if r[0] != "duplicate-id"]
            ),
            min_size=1,
            max_size=30,
        )
    )
    def test_accepted_plus_rejected_equals_read(self, lines: list[str]) -> None:
        """accepted + rejected = rows read, whatever the mix of good and bad rows."""
        import tempfile

        numbered = [line.format(f"id{i}") for i, line in enumerate(lines)]
        with tempfile.TemporaryDirectory() as folder:
            path = _write(Path(folder), [HEADER, *numbered])
            if not any(line.startswith(GOOD[:3]) for line in lines):
                with pytest.raises(SchemaError, match="no row was accepted"):
                    read_csv(path, errors="quarantine")
                return
            log = read_csv(path, errors="quarantine")
        assert len(log) + len(log.rejected) == len(lines)


class TestOtherFormats:
    def _log(self) -> cx.InteractionLog:
        return cx.InteractionLog.from_arrays(
            customer_id=["a", "b", "a"],
            timestamp=["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T12:30:00.5Z"],
            kind=["view", "purchase", "survey"],
            value=[np.nan, 12.5, np.nan],
            metric=[None, None, "nps"],
            score=[np.nan, np.nan, 9],
            product=[None, "p1", None],
        )

    def test_csv_round_trip(self, tmp_path: Path) -> None:
        """write_csv then read_csv gives an equal log."""
        log = self._log()
        write_csv(log, tmp_path / "x.csv")
        assert read_csv(tmp_path / "x.csv") == log
        assert read_csv(tmp_path / "x.csv", engine="python") == log

    def test_parquet_round_trip(self, tmp_path: Path) -> None:
        """write_parquet then read_parquet gives an equal log."""
        log = self._log()
        write_parquet(log, tmp_path / "x.parquet")
        assert read_parquet(tmp_path / "x.parquet") == log

    def test_jsonl(self, tmp_path: Path) -> None:
        """JSON lines are read with mapping; a broken line is quarantined with its line number."""
        path = tmp_path / "x.jsonl"
        lines = [
            json.dumps({"user": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}),
            "{not json",
            json.dumps(
                {"user": "b", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase", "value": 3}
            ),
        ]
        path.write_text("\n".join(lines))
        with pytest.warns(DataWarning, match="1 of 3 rows"):
            log = read_jsonl(path, mapping={"user": "customer_id"}, errors="quarantine")
        assert len(log) == 2 and len(log.rejected) == 1
        assert "the line is not valid JSON" in log.rejected.reason[0]
        assert log.rejected.row.tolist() == [2]
        with pytest.raises(SchemaError, match="row 2: the line is not valid JSON"):
            read_jsonl(path, mapping={"user": "customer_id"})

    def test_from_pandas_converts_aware_times(self) -> None:
        """tz-aware pandas timestamps are converted to UTC."""
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame(
            {
                "customer_id": ["a"],
                "timestamp": pd.to_datetime(["2024-01-01T10:00:00+02:00"]),
                "kind": ["view"],
            }
        )
        log = cx.InteractionLog.from_pandas(frame)
        assert str(log.column("timestamp")[0]) == "2024-01-01T08:00:00.000000"
