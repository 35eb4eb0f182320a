"""``time_format=``: timestamps in an export's own layout, read by every reader and constructor
exactly as their ISO-8601 equivalents, with no guessing of day and month."""

from __future__ import annotations

import json
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cxmodel as cx
from cxmodel._time import to_us, us_to_datetime
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.io import read_csv, read_jsonl, read_parquet
from cxmodel.log import InteractionLog

US_LAYOUT = "%m/%d/%Y %H:%M"
RETAIL = (
    "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
    "536365,6,12/1/2010 8:26,2.55,17850\n"
    "536366,6,12/1/2010 8:28,1.85,17850\n"
    "581587,12,12/9/2011 12:50,0.85,12680\n"
)
RETAIL_MAPPING = {
    "CustomerID": "customer_id",
    "InvoiceDate": "timestamp",
    "UnitPrice": "value",
    "InvoiceNo": "order_id",
}
RETAIL_ISO = ["2010-12-01T08:26:00Z", "2010-12-01T08:28:00Z", "2011-12-09T12:50:00Z"]


def _times(log: InteractionLog) -> list[int]:
    return sorted(log.timestamps.tolist())


def _until(log: InteractionLog) -> str:
    assert log.observed_until is not None
    return us_to_datetime(log.observed_until).isoformat()


def _iso_us(texts: list[str]) -> list[int]:
    return sorted(to_us(t) for t in texts)


class TestEveryReader:
    """The same export through each reader gives the times its ISO-8601 text gives."""

    @pytest.mark.parametrize("engine", ["pyarrow", "python"])
    def test_csv(self, tmp_path: Path, engine: Any) -> None:
        path = tmp_path / "retail.csv"
        path.write_text(RETAIL)
        log = read_csv(
            path,
            kind="purchase",
            mapping=RETAIL_MAPPING,
            timezone="UTC",
            time_format=US_LAYOUT,
            engine=engine,
        )
        assert _times(log) == _iso_us(RETAIL_ISO)

    def test_jsonl(self, tmp_path: Path) -> None:
        path = tmp_path / "retail.jsonl"
        rows = [
            {"customer_id": "a", "timestamp": "01.12.2010 08:26", "kind": "purchase"},
            {"customer_id": "b", "timestamp": "09.12.2011 12:50", "kind": "purchase"},
        ]
        path.write_text("\n".join(json.dumps(r) for r in rows))
        log = read_jsonl(path, timezone="UTC", time_format="%d.%m.%Y %H:%M")
        assert _times(log) == _iso_us(["2010-12-01T08:26:00Z", "2011-12-09T12:50:00Z"])

    def test_parquet(self, tmp_path: Path) -> None:
        pa = pytest.importorskip("pyarrow")
        pq = pytest.importorskip("pyarrow.parquet")
        table = pa.table(
            {"customer_id": ["a", "b"], "timestamp": ["1/2/2024 10:00", "2/1/2024 10:00"],
             "kind": ["view", "view"]}
        )  # fmt: skip
        path = tmp_path / "t.parquet"
        pq.write_table(table, path)
        log = read_parquet(path, timezone="UTC", time_format=US_LAYOUT)
        assert _times(log) == _iso_us(["2024-01-02T10:00:00Z", "2024-02-01T10:00:00Z"])

    def test_constructors(self) -> None:
        stamps = ["1/2/2024 10:00", "2/1/2024 10:00"]
        expected = _iso_us(["2024-01-02T10:00:00Z", "2024-02-01T10:00:00Z"])
        arrays = InteractionLog.from_arrays(
            ["a", "b"], stamps, "view", timezone="UTC", time_format=US_LAYOUT
        )
        records = InteractionLog.from_records(
            [{"customer_id": c, "timestamp": t, "kind": "view"} for c, t in zip("ab", stamps)],
            timezone="UTC",
            time_format=US_LAYOUT,
        )
        assert _times(arrays) == _times(records) == expected
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame({"customer_id": ["a", "b"], "timestamp": stamps, "kind": "view"})
        from_pandas = InteractionLog.from_pandas(frame, timezone="UTC", time_format=US_LAYOUT)
        assert _times(from_pandas) == expected


class TestNoGuessing:
    def test_a_value_of_another_layout_is_a_bad_row(self) -> None:
        """Day-first text under a month-first format: the 13th month is named, with the format
        and an example of it; the other rows are kept under quarantine."""
        stamps = ["12/1/2010 8:26", "13/1/2010 8:26", "2010-12-01T08:26:00Z"]
        with pytest.raises(SchemaError, match=r"row 2: timestamp '13/1/2010 8:26' does not match"):
            InteractionLog.from_arrays(
                ["a"] * 3, stamps, "view", timezone="UTC", time_format=US_LAYOUT
            )
        with pytest.warns(DataWarning, match="2 of 3 rows rejected"):
            log = InteractionLog.from_arrays(
                ["a"] * 3, stamps, "view", timezone="UTC", time_format=US_LAYOUT,
                errors="quarantine",
            )  # fmt: skip
        assert len(log) == 1
        reasons = log.rejected.reason.tolist()
        assert "time_format '%m/%d/%Y %H:%M' (e.g. '03/01/2024 10:00')" in reasons[0]
        assert "'2010-12-01T08:26:00Z' does not match" in reasons[1]  # ISO is not a fallback

    def test_naive_values_need_a_zone(self) -> None:
        with pytest.raises(SchemaError, match=r"'12/1/2010 8:26' has no time zone; pass timezone"):
            InteractionLog.from_arrays(["a"], ["12/1/2010 8:26"], "view", time_format=US_LAYOUT)

    def test_an_offset_in_the_format_needs_no_zone(self) -> None:
        log = InteractionLog.from_arrays(
            ["a"], ["2024-03-01 10:00 +0200"], "view", time_format="%Y-%m-%d %H:%M %z"
        )
        assert _times(log) == _iso_us(["2024-03-01T08:00:00Z"])

    def test_wall_times_daylight_saving_skips_are_refused(self) -> None:
        """As for ISO-8601 text: 02:30 on the night Paris moves its clocks forward names no
        instant."""
        with pytest.raises(SchemaError, match="does not exist"):
            InteractionLog.from_arrays(
                ["a"], ["31/03/2024 02:30"], "view", timezone="Europe/Paris",
                time_format="%d/%m/%Y %H:%M",
            )  # fmt: skip

    def test_datetimes_and_numbers_are_instants_already(self) -> None:
        moment = datetime(2024, 1, 2, 10, tzinfo=timezone.utc)
        log = InteractionLog.from_arrays(
            ["a", "b"], np.array([moment, 1_704_189_600.0], dtype=object), "view",
            time_format=US_LAYOUT,
        )  # fmt: skip
        assert _times(log) == [to_us(moment)] * 2

    def test_white_space_around_a_value_is_ignored(self) -> None:
        log = InteractionLog.from_arrays(
            ["a"], ["  1/2/2024 10:00 "], "view", timezone="UTC", time_format=US_LAYOUT
        )
        assert _times(log) == _iso_us(["2024-01-02T10:00:00Z"])


class TestTheFormat:
    @pytest.mark.parametrize(
        ("layout", "match"),
        [
            ("dd/mm/yyyy", "must be a strptime format"),
            ("", "must be a strptime format"),
            ("%Q/%d", "is not a strptime format"),
            (12, "must be a strptime format"),
        ],
    )
    def test_a_wrong_format_is_refused_before_reading(
        self, tmp_path: Path, layout: Any, match: str
    ) -> None:
        missing = tmp_path / "not-there.csv"  # the format is checked first
        with pytest.raises(SchemaError, match=match):
            read_csv(missing, time_format=layout)
        with pytest.raises(SchemaError, match=match):
            InteractionLog.from_arrays(["a"], ["1/2/2024"], "view", time_format=layout)


class TestWholeDays:
    def test_dates_are_observed_to_the_end_of_the_last_day(self) -> None:
        """A format of dates alone is a daily export, observed to the end of its last day in
        the zone it was read in; 31 March 2024 lasts 23 hours in Paris."""
        log = InteractionLog.from_arrays(
            ["a", "b"], ["30.03.2024", "31.03.2024"], "view", timezone="Europe/Paris",
            time_format="%d.%m.%Y",
        )  # fmt: skip
        iso = InteractionLog.from_arrays(
            ["a", "b"], ["2024-03-30", "2024-03-31"], "view", timezone="Europe/Paris"
        )
        assert log.observed_until == iso.observed_until
        assert _until(log) == "2024-03-31T21:59:59.999999+00:00"

    def test_dates_at_an_offset_last_24_hours(self) -> None:
        log = InteractionLog.from_arrays(
            ["a"], ["31.03.2024 +0200"], "view", time_format="%d.%m.%Y %z"
        )
        assert _until(log) == "2024-03-31T21:59:59.999999+00:00"

    def test_times_of_day_are_instants(self) -> None:
        log = InteractionLog.from_arrays(
            ["a"], ["31/03/2024 10:00"], "view", timezone="UTC", time_format="%d/%m/%Y %H:%M"
        )
        assert _until(log) == "2024-03-31T10:00:00+00:00"

    def test_rejected_rows_do_not_count(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            log = InteractionLog.from_arrays(
                ["a", "b"], ["30.03.2024", "31.13.2024"], "view", timezone="UTC",
                time_format="%d.%m.%Y", errors="quarantine",
            )  # fmt: skip
        assert _until(log) == "2024-03-30T23:59:59.999999+00:00"


LAYOUTS = ["%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y%m%d %H%M%S", "%d %b %Y %I:%M %p"]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    moments=st.lists(
        st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31)),
        min_size=1,
        max_size=8,
    ),
    layout=st.sampled_from(LAYOUTS),
)
def test_written_with_a_format_reads_back_as_the_iso_text(
    moments: list[datetime], layout: str
) -> None:
    """Any time written with a format reads back equal to its ISO-8601 text (to the format's
    precision), row for row."""
    cut = [m.replace(microsecond=0) for m in moments]
    if "%S" not in layout:
        cut = [m.replace(second=0) for m in cut]
    texts = [m.strftime(layout) for m in cut]
    log = InteractionLog.from_arrays(
        [f"c{i}" for i in range(len(cut))], texts, "view", timezone="UTC", time_format=layout
    )
    expected = [to_us(m.replace(tzinfo=timezone.utc)) for m in cut]
    by_customer = dict(zip(log.column("customer_id").tolist(), log.timestamps.tolist()))
    assert [by_customer[f"c{i}"] for i in range(len(cut))] == expected


def test_an_order_export_in_its_own_layout(tmp_path: Path) -> None:
    """End to end: an order export in US layout, observed until its last order."""
    path = tmp_path / "retail.csv"
    path.write_text(RETAIL)
    log = cx.read_csv(
        path, kind="purchase", mapping=RETAIL_MAPPING, timezone="UTC", time_format=US_LAYOUT
    )
    assert _until(log) == "2011-12-09T12:50:00+00:00"


def test_dask_partitions_read_the_layout() -> None:
    """``cxmodel.dask.from_dask(time_format=)`` builds the one-process log's times."""
    pd = pytest.importorskip("pandas")
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    from cxmodel import dask as cxd

    stamps = ["1/2/2024 10:00", "2/1/2024 10:00", "2/3/2024 09:30"]
    frame = pd.DataFrame({"customer_id": ["a", "b", "a"], "timestamp": stamps, "kind": "view"})
    with dask.config.set(scheduler="synchronous"):
        parts = cxd.from_dask(
            dd.from_pandas(frame, npartitions=2), timezone="UTC", time_format=US_LAYOUT
        )
        logs = [log for log in dask.compute(*parts.logs) if log is not None]
        with pytest.raises(SchemaError, match="must be a strptime format"):
            cxd.from_dask(dd.from_pandas(frame, npartitions=2), time_format="mm/dd/yyyy")
    one = InteractionLog.from_pandas(frame, timezone="UTC", time_format=US_LAYOUT)
    assert sorted(t for log in logs for t in log.timestamps.tolist()) == _times(one)
