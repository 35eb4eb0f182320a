"""cxmodel used as a new analyst would on real, messy exports: slices of the bundled CDNOW
purchases and summary rewritten as real tools write them (pandas frames whose integer ids
became floats, polars categoricals, lifetimes' summary frame, a CSV with refunds as negative
amounts read by the command line), and hand-made files with the usual slips (a misspelt
mapping, kinds written in another case). Each test is a bug such a use found: an exception
that was not a ``CXModelError``, a silent wrong answer, or a typo taken without a word."""

from __future__ import annotations

import gzip
import io
import json
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import cxmodel as cx
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.metrics import SmallSampleWarning

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")


def _bundled(name: str) -> bytes:
    path = resources.files("cxmodel.datasets").joinpath("data").joinpath(name)
    with path.open("rb") as handle:
        return gzip.decompress(handle.read())


@pytest.fixture(scope="module")
def cdnow_rows() -> list[list[str]]:
    """The first 600 purchases of CDNOW's master file: id, yyyymmdd, CDs, dollars."""
    lines = _bundled("cdnow_master.txt.gz").decode("ascii").splitlines()
    return [line.split() for line in lines[1:601]]


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    """CDNOW's published 2,357-customer summary as lifetimes names its columns."""
    frame = pd.read_csv(io.BytesIO(_bundled("cdnow_summary.csv.gz")))
    return frame.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


# ------------------------------------------------------------------ frames from pandas and polars
def test_float_ids_of_a_frame_with_a_missing_id_keep_their_digits(
    cdnow_rows: list[list[str]],
) -> None:
    """pandas turns an integer id column with one missing id into floats: 1.0, 2.0, NaN. The
    ids were read as '1.0' and '2.0', so they never matched the same customers read from
    another export ('1', '2'); the missing one is a bad row, the others keep their digits."""
    rows = cdnow_rows[:20]
    frame = pd.DataFrame(
        {
            "customer_id": [int(r[0]) for r in rows],
            "timestamp": pd.to_datetime([r[1] for r in rows], format="%Y%m%d", utc=True),
            "value": [float(r[3]) for r in rows],
        }
    )
    frame.loc[3, "customer_id"] = np.nan
    assert frame["customer_id"].dtype == np.float64
    with pytest.warns(DataWarning, match="1 of 20 rows rejected"):
        log = cx.InteractionLog.from_pandas(frame, kind="purchase", errors="quarantine")
    assert set(log.customers.tolist()) == {str(int(r[0])) for i, r in enumerate(rows) if i != 3}
    with pytest.warns(DataWarning, match="1 of 3 rows rejected"):
        arrays = cx.InteractionLog.from_arrays(
            np.array([7.0, np.nan, 10.0]),
            ["2024-01-01T00:00:00Z"] * 3,
            "purchase",
            errors="quarantine",
        )
    assert arrays.customers.tolist() == ["10", "7"]


def test_a_polars_categorical_is_read_through_arrow_and_parquet(tmp_path: Path) -> None:
    """polars writes a Categorical as an Arrow dictionary with unsigned (uint32) indices, and
    keeps them in its Parquet files; filling the missing indices with -1 raised OverflowError
    out of from_arrow and read_parquet."""
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame(
        {
            "customer_id": ["00001", "00002", "00002"],
            "timestamp": ["1997-01-01T00:00:00Z", "1997-01-12T00:00:00Z", None],
            "kind": ["purchase", "purchase", None],
        }
    ).with_columns(pl.col("kind").cast(pl.Categorical))
    table = frame.to_arrow()
    assert pa.types.is_unsigned_integer(table.schema.field("kind").type.index_type)
    frame.write_parquet(tmp_path / "orders.parquet")
    with pytest.warns(DataWarning, match="1 of 3 rows rejected"):
        log = cx.InteractionLog.from_arrow(table, errors="quarantine")
    with pytest.warns(DataWarning, match="1 of 3 rows rejected"):
        again = cx.read_parquet(tmp_path / "orders.parquet", errors="quarantine")
    assert log.column("kind").tolist() == ["purchase", "purchase"]
    assert log.customers.tolist() == ["00001", "00002"]
    assert again == log


# ------------------------------------------------------------------ times as exports write them
def test_a_csv_of_epoch_seconds_can_be_read(cdnow_rows: list[list[str]], tmp_path: Path) -> None:
    """Analytics exports (Segment, Mixpanel, many databases' CSV dumps) write epoch seconds;
    the same instants as JSON numbers are read, as CSV text they are a bad row each."""
    lines = ["customer_id,timestamp,amount"]
    for customer, day, _, dollars in cdnow_rows[:10]:
        stamp = pd.Timestamp(day, tz="UTC").timestamp()
        lines.append(f"{customer},{int(stamp)},{dollars}")
    path = tmp_path / "events.csv"
    path.write_text("\n".join(lines) + "\n")
    log = cx.read_csv(path, kind="purchase", mapping={"amount": "value"})
    assert len(log) == 10
    expected = [pd.Timestamp(day, tz="UTC") for _, day, _, _ in cdnow_rows[:10]]
    assert sorted(log.column("timestamp").tolist()) == sorted(
        t.tz_convert(None).to_datetime64().astype("datetime64[us]").item() for t in expected
    )
    # milliseconds written as text are a bad row that says so, as the same number is
    millis = tmp_path / "millis.csv"
    millis.write_text("customer_id,timestamp\na,1704067200000\nb,1704067200\n")
    with pytest.warns(DataWarning, match="divide by 1,000"):
        kept = cx.read_csv(millis, kind="view", errors="quarantine")
    assert len(kept) == 1 and len(kept.rejected) == 1


def test_dates_of_a_frame_are_days_of_the_zone_given(cdnow_rows: list[list[str]]) -> None:
    """A daily export in a frame holds dates (pandas ``.dt.date``, polars ``Date``, Arrow
    ``date32``). They were read as midnight UTC without ``timezone=`` (text dates are
    refused), so analysed in America/New_York every purchase fell on the day before: the
    one of 1 March counted in February. Read with the zone, they are that zone's days, and
    the log is observed to the end of its last day, as from the same dates written as text."""
    rows = [r for r in cdnow_rows if r[0] in ("00004", "00006")]
    frame = pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": pd.to_datetime([r[1] for r in rows], format="%Y%m%d").date,
            "value": [float(r[3]) for r in rows],
        }
    )
    with pytest.raises(SchemaError, match=r"row 1: timestamp '1997-01-01' has no time zone"):
        cx.InteractionLog.from_pandas(frame, kind="purchase")
    days = cx.InteractionLog.from_pandas(frame, kind="purchase", timezone="America/New_York")
    texts = cx.InteractionLog.from_pandas(
        frame.assign(timestamp=[d.isoformat() for d in frame["timestamp"]]),
        kind="purchase",
        timezone="America/New_York",
    )
    assert days == texts
    assert days.observed_until == texts.observed_until
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # order lines of one day
        by_day = cx.models.rfm_summary(days, freq="M", timezone="America/New_York")
        by_text = cx.models.rfm_summary(texts, freq="M", timezone="America/New_York")
    assert by_day.frequency.tolist() == by_text.frequency.tolist()


# ------------------------------------------------------------------ JSON as exports write it
@pytest.mark.parametrize("indent", [None, 2], ids=["one-line", "indented"])
@pytest.mark.parametrize("errors", ["raise", "quarantine"])
def test_a_json_array_given_as_json_lines_is_named(
    cdnow_rows: list[list[str]], tmp_path: Path, indent: int | None, errors: str
) -> None:
    """Most JSON exports are one array of objects. read_jsonl rejected every line and then
    said "required column 'customer_id' is missing (keys: [])", asking for a mapping that
    could not help."""
    records = [
        {"customer_id": c, "timestamp": f"{d[:4]}-{d[4:6]}-{d[6:]}T00:00:00Z", "value": float(v)}
        for c, d, _, v in cdnow_rows[:5]
    ]
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(records, indent=indent))
    with pytest.raises(SchemaError, match=r"line 1: .*one JSON array, not JSON lines"):
        cx.read_jsonl(path, kind="purchase", errors=errors)  # type: ignore[arg-type]


# ------------------------------------------------------------------ misspelt arguments
def test_a_mapping_onto_a_misspelt_standard_column_is_said(cdnow_rows: list[list[str]]) -> None:
    """mapping={"dollar_value": "vaule"} read the amounts as a text property 'vaule': every
    monetary value of rfm_summary was then 0, without a word."""
    text = "customer_id date number_of_cds dollar_value\n" + "\n".join(
        " ".join(r) for r in cdnow_rows[:30]
    )
    with pytest.warns(DataWarning, match=r"'vaule'.*did you mean 'value'\?"):
        cx.InteractionLog.from_pandas(
            pd.read_csv(io.StringIO(text), sep=" ", dtype=str),
            kind="purchase",
            timezone="UTC",
            time_format="%Y%m%d",
            mapping={"date": "timestamp", "dollar_value": "vaule"},
        )


def test_a_mapping_of_a_misspelt_column_says_which_was_meant(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,date,kind\n00001,1997-01-01,purchase\n")
    with pytest.raises(SchemaError, match=r"'dat'.*did you mean 'date'\?"):
        cx.read_csv(path, mapping={"dat": "timestamp"}, timezone="UTC")


def test_kinds_written_in_another_case_are_said_when_counted() -> None:
    """A survey tool that writes 'Survey' for most answers and 'survey' for a few: nps()
    answered over the one 'survey' row (n = 1, NPS 100) and never mentioned the 40 others;
    rfm_summary() left out the 'Purchase' rows the same way."""
    records = [
        {
            "customer_id": f"{i:05d}",
            "timestamp": "2024-01-01T00:00:00Z",
            "kind": "Survey",
            "metric": "nps",
            "score": i % 11,
        }
        for i in range(40)
    ]
    records.append(
        {
            "customer_id": "99999",
            "timestamp": "2024-01-01T00:00:00Z",
            "kind": "survey",
            "metric": "nps",
            "score": 10,
        }
    )
    records += [
        {"customer_id": "00001", "timestamp": "2024-01-02T00:00:00Z", "kind": kind, "value": 5.0}
        for kind in ("purchase", " Purchase")
    ]
    log = cx.InteractionLog.from_records(records)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)  # the one 'survey' answer
        with pytest.warns(DataWarning, match=r"holds 'Survey' \(40 rows\).*'Survey': 'survey'"):
            cx.metrics.nps(log)
    with pytest.warns(DataWarning, match=r"holds ' Purchase' \(1 row\)"):
        cx.models.rfm_summary(log)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the kinds as written: no word
        log.kind_mask("Survey", "view")


# ------------------------------------------------------------------ the models on a frame
def test_a_lifetimes_summary_frame_fits_by_its_columns(cdnow_summary: pd.DataFrame) -> None:
    """lifetimes' summary is a DataFrame with columns frequency, recency, T: ``frame.T`` is
    its transpose, so fit(frame) raised 'T must be one-dimensional, got shape (5, 2357)'."""
    frame = cdnow_summary
    fitted = cx.models.BetaGeo().fit(frame)
    expected = cx.models.BetaGeo().fit(
        frequency=frame["frequency"], recency=frame["recency"], T=frame["T"]
    )
    assert fitted.params_ == pytest.approx(expected.params_)
    assert fitted.params_["r"] == pytest.approx(0.243, abs=1e-3)


def test_lifetime_value_of_a_lifetimes_summary_frame(cdnow_summary: pd.DataFrame) -> None:
    """customer_lifetime_value read ``summary.T`` too (the transpose of a frame), and with a
    calendar ``freq`` blamed an empty 'summary unit' without saying that a frame has none."""
    frame = cdnow_summary.rename(columns={"ID": "customer_id"}).head(300)
    bg = cx.models.BetaGeo().fit(cdnow_summary)
    gg = cx.models.GammaGamma().fit(cdnow_summary[cdnow_summary["frequency"] > 0])
    summary = cx.models.RFMSummary(
        customer_id=frame["customer_id"].to_numpy(dtype=object),
        frequency=frame["frequency"].to_numpy(float),
        recency=frame["recency"].to_numpy(float),
        T=frame["T"].to_numpy(float),
        monetary_value=frame["monetary_value"].to_numpy(float),
        freq="W",
    )
    weeks = 365.25 / 12 / 7
    expected = cx.models.customer_lifetime_value(
        bg, gg, summary, horizon=6, freq="M", discount_rate=0.01
    )
    got = cx.models.customer_lifetime_value(
        bg, gg, frame, horizon=6, freq=weeks, discount_rate=0.01
    )
    assert got.value == pytest.approx(expected.value)
    assert got.customer_id.tolist() == frame["customer_id"].tolist()
    with pytest.raises(SchemaError, match="give freq as a number of summary time units"):
        cx.models.customer_lifetime_value(bg, gg, frame, horizon=6, freq="M", discount_rate=0.01)


# ------------------------------------------------------------------ the command line report
def test_the_report_of_a_file_says_how_many_rows_it_set_aside(
    cdnow_rows: list[list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cxmodel report` reads with errors='quarantine' and keeps the warning to itself: an
    export whose refunds are negative purchase amounts lost those rows from every figure of
    the report, which never said so."""
    lines = ["customer_id,date,amount"]
    for i, (customer, day, _, dollars) in enumerate(cdnow_rows[:200]):
        lines.append(f"{customer},{day[:4]}-{day[4:6]}-{day[6:]},{dollars}")
        if i % 20 == 0:
            lines.append(f"{customer},{day[:4]}-{day[4:6]}-{day[6:]},-{dollars}")
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n")
    from cxmodel.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(
            [
                "report",
                str(path),
                "--all-kind",
                "purchase",
                "--map",
                "date=timestamp",
                "--map",
                "amount=value",
                "--timezone",
                "UTC",
            ]
        )
    assert code == 0
    out = capsys.readouterr().out
    assert "rejected rows" in out and "10" in out.split("rejected rows")[1].splitlines()[0]
