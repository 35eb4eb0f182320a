"""A log read from dates without a time of day is observed until the end of its last day.

A daily export (CDNOW's ``19970101``, an order export's ``2024-03-31``) covers the whole of its
last day; read as instants its dates are midnights, and without this a period ending at the
export's last day would be said to run past the data.
"""

from __future__ import annotations

import gzip
import json
import warnings
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel._time import resolve_timezone, to_us, us_to_datetime
from cxmodel.errors import DataWarning
from cxmodel.io import read_csv, read_jsonl, read_parquet
from cxmodel.log import InteractionLog
from cxmodel.log._whole_days import date_texts, day_end
from cxmodel.metrics import churn_rate

_DATA = Path(__file__).parents[2] / "src" / "cxmodel" / "datasets" / "data"
_US = 1_000_000


def _end_of(day: str, zone: str) -> int:
    """The last microsecond of ``day`` in ``zone``, written out by hand: next midnight - 1."""
    following = date.fromisoformat(day) + timedelta(days=1)
    return to_us(following.isoformat() + "T00:00", timezone_name=zone) - 1


def _log(stamps: list[str], zone: str | None = "UTC") -> InteractionLog:
    n = len(stamps)
    return InteractionLog.from_arrays(
        [f"c{i}" for i in range(n)], stamps, ["purchase"] * n, timezone=zone
    )


class TestDateTexts:
    @pytest.mark.parametrize(
        ("text", "dated", "offset"),
        [
            ("2024-03-31", True, False),
            ("20240331", True, False),
            (" 2024-03-31 ", True, False),
            ("2024-03-31Z", True, True),
            ("2024-03-31z", True, True),
            ("2024-03-31+02", True, True),
            ("2024-03-31+0200", True, True),
            ("2024-03-31+02:00", True, True),
            ("20240331-05:00", True, True),
            ("2024-W13-7", True, False),
            ("2024W137", True, False),
            ("2024-03-31T00:00", False, False),
            ("2024-03-31T00", False, False),
            ("2024-03-31 10:00:00", False, False),
            ("20240331T10", False, False),
            ("2024W13T10", False, False),
            ("2024-03-31T00:00:00+00:00", False, False),
            ("2024-03-31+02:0", False, False),
            ("2024-03", False, False),
            ("soon", False, False),
            ("", False, False),
        ],
        ids=repr,
    )
    def test_shapes(self, text: str, dated: bool, offset: bool) -> None:
        """A date alone, or with an offset, is a date; anything with a time of day is not."""
        assert ([dated], [offset]) == tuple(a.tolist() for a in date_texts([text]))

    def test_not_text(self) -> None:
        """Values that are not ``str`` are never dates, whatever they print as."""
        values = [None, date(2024, 3, 31), 20240331, float("nan")]
        assert date_texts(values)[0].tolist() == [False] * 4

    def test_empty(self) -> None:
        """No texts: nothing is a date."""
        assert date_texts([])[0].tolist() == []


class TestDayEnd:
    @pytest.mark.parametrize(
        ("day", "zone", "hours"),
        [
            ("2024-03-31", "Europe/Paris", 23),  # clocks go forward
            ("2024-10-27", "Europe/Paris", 25),  # clocks go back
            ("2024-03-10", "America/New_York", 23),
            ("2024-11-03", "America/New_York", 25),
            ("2024-06-15", "Europe/Paris", 24),
            ("2024-06-15", "+05:30", 24),
        ],
    )
    def test_dst(self, day: str, zone: str, hours: int) -> None:
        """The day ends at the next local midnight less 1 µs: 23 or 25 hours long when the
        clocks change."""
        start = to_us(day, timezone_name=zone)
        end = day_end(start, resolve_timezone(zone))  # type: ignore[arg-type]
        assert _end_of(day, zone) == end
        assert hours * 3600 * _US - 1 == end - start


class TestObservedUntil:
    def test_dates(self) -> None:
        """Dates in UTC: observed until 23:59:59.999999 of the last day."""
        log = _log(["2024-03-30", "2024-03-31", "2024-03-01"])
        assert to_us("2024-03-31T23:59:59.999999Z") == log.observed_until

    def test_basic_dates(self) -> None:
        """``YYYYMMDD`` dates (CDNOW's) are dates too."""
        assert _end_of("1998-06-30", "UTC") == _log(["19970101", "19980630"]).observed_until

    @pytest.mark.parametrize("day", ["2024-03-31", "2024-10-27", "2024-07-01"])
    def test_zone(self, day: str) -> None:
        """Dates read in a zone with daylight saving end at that zone's next midnight."""
        log = _log(["2024-01-01", day], zone="Europe/Paris")
        assert _end_of(day, "Europe/Paris") == log.observed_until

    def test_offset_dates(self) -> None:
        """A date written with an offset is a day at that offset, whatever ``timezone``."""
        log = _log(["2024-03-30+02:00", "2024-03-31+02:00"], zone="Europe/Paris")
        assert to_us("2024-03-31T23:59:59.999999+02:00") == log.observed_until

    def test_naive_and_offset_dates(self) -> None:
        """Naive dates and dates with an offset: the later of their days' ends."""
        log = _log(["2024-03-31", "2024-03-31-05:00"], zone="UTC")
        assert to_us("2024-03-31T23:59:59.999999-05:00") == log.observed_until

    @pytest.mark.parametrize(
        "stamps",
        [
            ["2024-03-30", "2024-03-31T10:00"],
            ["2024-03-30T10:00", "2024-03-31"],
            ["2024-03-31T00:00:00", "2024-03-30"],
        ],
        ids=["time last", "date last", "midnight written out"],
    )
    def test_mixed(self, stamps: list[str]) -> None:
        """A column with one time of day among dates is not a column of dates: the log is
        observed until its last interaction, as before."""
        log = _log(stamps)
        assert int(log.timestamps.max()) == log.observed_until

    def test_instants_unchanged(self) -> None:
        """``datetime64``, epoch numbers and Python datetimes are instants: observed until the
        last of them, even at midnight."""
        midnight = np.array(["2024-03-30", "2024-03-31"], dtype="datetime64[us]")
        py = [
            datetime(2024, 3, 30, tzinfo=timezone.utc),
            datetime(2024, 3, 31, tzinfo=timezone.utc),
        ]
        epoch = [int(to_us("2024-03-30Z") // _US), int(to_us("2024-03-31Z") // _US)]
        for stamps in (midnight, py, epoch):
            log = InteractionLog.from_arrays(["a", "b"], stamps, ["view", "view"])
            assert to_us("2024-03-31Z") == log.observed_until

    def test_rejected_row_does_not_count(self) -> None:
        """Under ``errors="quarantine"`` a rejected row neither extends the days nor makes the
        column mixed."""
        with pytest.warns(DataWarning, match="1 of 3 rows rejected"):
            log = InteractionLog.from_arrays(
                ["a", "b", ""],
                ["2024-03-30", "2024-03-31", "2024-04-05T10:00"],
                ["view"] * 3,
                timezone="UTC",
                errors="quarantine",
            )
        assert _end_of("2024-03-31", "UTC") == log.observed_until

    def test_bad_time_rejected(self) -> None:
        """A value that is no time at all is a rejected row, not a time of day."""
        with pytest.warns(DataWarning, match="rejected"):
            log = _log_quarantined(["2024-03-30", "soon"])
        assert _end_of("2024-03-30", "UTC") == log.observed_until

    def test_derived_logs(self) -> None:
        """filter, select and with_column keep the end; between(end=...) cuts it."""
        log = InteractionLog.from_arrays(
            ["a", "b"],
            ["2024-03-30", "2024-03-31"],
            ["view", "login"],
            timezone="UTC",
            value=[1.0, 2.0],
        )
        until = _end_of("2024-03-31", "UTC")
        assert until == log.filter(log.kind_mask("view")).observed_until
        assert until == log.select(["value"]).observed_until
        assert until == log.with_column("note", ["x", "y"]).observed_until
        assert until == log.between(start="2024-03-31Z").observed_until
        assert to_us("2024-03-31Z") == log.between(end="2024-03-31Z").observed_until

    @settings(max_examples=40, deadline=None)
    @given(
        days=st.lists(st.dates(date(1990, 1, 1), date(2060, 12, 31)), min_size=1, max_size=20),
        zone=st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe"]),
        basic=st.booleans(),
    )
    def test_property_last_day(self, days: list[date], zone: str, basic: bool) -> None:
        """For any dates in any zone, in either shape, the log is observed until the next
        local midnight after the latest date, less 1 µs."""
        texts = [d.strftime("%Y%m%d" if basic else "%Y-%m-%d") for d in days]
        assert _end_of(max(days).isoformat(), zone) == _log(texts, zone=zone).observed_until


def _log_quarantined(stamps: list[str]) -> InteractionLog:
    n = len(stamps)
    return InteractionLog.from_arrays(
        [f"c{i}" for i in range(n)], stamps, ["view"] * n, timezone="UTC", errors="quarantine"
    )


class TestReaders:
    rows: ClassVar[list[dict[str, Any]]] = [
        {"customer_id": "a", "timestamp": "2024-03-30", "kind": "purchase"},
        {"customer_id": "b", "timestamp": "2024-03-31", "kind": "purchase"},
    ]
    end = to_us("2024-03-31T23:59:59.999999+02:00")  # Paris, summer time from that night

    def _csv(self, tmp_path: Path) -> Path:
        path = tmp_path / "orders.csv"
        lines = ["customer_id,timestamp,kind"]
        lines += [f"{r['customer_id']},{r['timestamp']},{r['kind']}" for r in self.rows]
        path.write_text("\n".join(lines) + "\n")
        return path

    @pytest.mark.parametrize("engine", ["pyarrow", "python"])
    def test_read_csv(self, tmp_path: Path, engine: Any) -> None:
        """read_csv, with either engine."""
        if engine == "pyarrow":
            pytest.importorskip("pyarrow")
        log = read_csv(self._csv(tmp_path), timezone="Europe/Paris", engine=engine)
        assert self.end == log.observed_until

    def test_read_jsonl(self, tmp_path: Path) -> None:
        """read_jsonl."""
        path = tmp_path / "orders.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in self.rows))
        assert self.end == read_jsonl(path, timezone="Europe/Paris").observed_until

    @pytest.mark.parametrize("dictionary", [False, True], ids=["string", "dictionary"])
    def test_read_parquet(self, tmp_path: Path, dictionary: bool) -> None:
        """read_parquet of a string column, plain or dictionary-encoded."""
        pa = pytest.importorskip("pyarrow")
        pq = pytest.importorskip("pyarrow.parquet")
        table = pa.Table.from_pylist(self.rows)
        if dictionary:
            table = table.set_column(1, "timestamp", table.column(1).dictionary_encode())
        pq.write_table(table, tmp_path / "orders.parquet")
        log = read_parquet(tmp_path / "orders.parquet", timezone="Europe/Paris")
        assert self.end == log.observed_until

    def test_from_records(self) -> None:
        """InteractionLog.from_records."""
        log = InteractionLog.from_records(self.rows, timezone="Europe/Paris")
        assert self.end == log.observed_until

    def test_from_pandas(self) -> None:
        """InteractionLog.from_pandas of a text column (object and pyarrow strings)."""
        pd = pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
        frame = pd.DataFrame(self.rows)
        for stamps in (frame, frame.astype({"timestamp": "string[pyarrow]"})):
            log = InteractionLog.from_pandas(stamps, timezone="Europe/Paris")
            assert self.end == log.observed_until

    def test_from_pandas_datetimes(self) -> None:
        """A pandas datetime column is instants: unchanged."""
        pd = pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
        frame = pd.DataFrame(self.rows)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        assert to_us("2024-03-31Z") == InteractionLog.from_pandas(frame).observed_until

    def test_from_polars(self) -> None:
        """A polars frame with a text column (through InteractionLog.from_arrow)."""
        pl = pytest.importorskip("polars")
        pytest.importorskip("pyarrow")
        log = InteractionLog.from_arrow(pl.DataFrame(self.rows), timezone="Europe/Paris")
        assert self.end == log.observed_until


@pytest.fixture(scope="module", name="cdnow_log")
def _cdnow_log(tmp_path_factory: pytest.TempPathFactory) -> InteractionLog:
    """The CDNOW master file, read as its dates are written (``19970101``) from a CSV copy."""
    text = gzip.decompress((_DATA / "cdnow_master.txt.gz").read_bytes()).decode("ascii")
    fields = np.array(text.split()[4:], dtype=object).reshape(-1, 4)
    lines = ["customer_id,timestamp,kind,value"]
    lines += [f"{c},{d},purchase,{v}" for c, d, _, v in fields.tolist()]
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    path.write_text("\n".join(lines) + "\n")
    return read_csv(path, timezone="UTC")


class TestCdnow:
    """The CDNOW master file, read from text dates."""

    def test_observed_until(self, cdnow_log: InteractionLog) -> None:
        """The last date is 1998-06-30: observed until the end of that day."""
        assert (69_659, to_us("1998-06-30T23:59:59.999999Z")) == (
            len(cdnow_log),
            cdnow_log.observed_until,
        )

    def test_quarter_does_not_warn(self, cdnow_log: InteractionLog) -> None:
        """The quarter ending with the export's last day is fully observed: no warning."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = churn_rate(cdnow_log, "1998-04-01Z", "1998-07-01Z")
        assert 0.0 < result.value < 1.0

    def test_day_later_warns(self, cdnow_log: InteractionLog) -> None:
        """A period ending a day after the export still warns, naming the unobserved day."""
        with pytest.warns(DataWarning, match=r"1\.0 days after the log's observation ends"):
            churn_rate(cdnow_log, "1998-04-01Z", "1998-07-02Z")

    def test_dates_kept_as_instants(self, cdnow_log: InteractionLog) -> None:
        """Each purchase is still at midnight UTC of its date."""
        assert str(us_to_datetime(int(cdnow_log.timestamps.min()))) == "1997-01-01 00:00:00+00:00"
