"""Data in and analyses on it, attacked as a hostile user and a careless analyst would: CSV
read by either engine, frames of pandas' own dtypes (periods, sparse and nullable columns),
Parquet and Arrow data that pyarrow or polars write, zones given as pytz objects, and group
labels holding pandas' missing values. Each test is a failure found so: an exception that was
not a ``CXModelError``, a silent wrong answer, or engines that disagree on one file."""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxmodel as cx
from cxmodel import metrics
from cxmodel.errors import CXModelError, SchemaError, ValueTypeError

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

T = "2024-01-01T00:00:00Z"


def _frame(**columns: Any) -> Any:
    base: dict[str, Any] = {
        "customer_id": ["a", "b"],
        "timestamp": [T, "2024-01-02T00:00:00Z"],
        "kind": ["purchase", "purchase"],
    }
    base.update(columns)
    return pd.DataFrame(base)


# ------------------------------------------------------------------ epoch seconds as text
class TestEpochSecondsAsText:
    """docs/guide/bad-input.md: epoch seconds written as text (nine or more digits) are read
    as the same number is, "whichever engine parses the file"."""

    @pytest.mark.parametrize("stamp", ["1704067200", "1704067200.5", "-100000000", "+1704067200"])
    def test_both_csv_engines_read_them(self, tmp_path: Path, stamp: str) -> None:
        """A CSV whose timestamps are epoch seconds: pyarrow read them, the standard-library
        engine refused each row as 'not an ISO-8601 time'."""
        path = tmp_path / "epoch.csv"
        path.write_text(f"customer_id,timestamp,kind\na,{stamp},purchase\n")
        arrow = cx.read_csv(path, engine="pyarrow")
        python = cx.read_csv(path, engine="python")
        assert python.timestamps.tolist() == arrow.timestamps.tolist()
        assert arrow.timestamps[0] == round(float(stamp) * 1_000_000)

    def test_records_read_them_as_the_readers_do(self) -> None:
        """from_records with the text '1704067200' (a JSON export that quotes its numbers)
        refused the row; it is the instant the number 1704067200 is."""
        log = cx.InteractionLog.from_records(
            [{"customer_id": "a", "timestamp": "1704067200", "kind": "purchase"}]
        )
        assert log.timestamps.tolist() == [1_704_067_200_000_000]

    def test_milliseconds_as_text_say_so_in_either_engine(self, tmp_path: Path) -> None:
        """Thirteen digits are milliseconds: a bad row naming the unit in both engines."""
        path = tmp_path / "millis.csv"
        path.write_text("customer_id,timestamp,kind\na,1704067200000,purchase\n")
        for engine in ("python", "pyarrow"):
            with pytest.raises(SchemaError, match="divide by 1,000"):
                cx.read_csv(path, engine=engine)


_STAMPS = st.one_of(
    st.sampled_from(
        [
            "2024-01-01T10:00:00Z",
            "2024-01-01 10:00:00+01:00",
            "2024-01-01t10:00:00z",
            "1704067200",
            "1704067200.25",
            "-100000000",
            "+1704067200",
            "1704067200000",
            "20240101",
            "2024-01-01",
            "2024-01-01T10:00:00.1234567Z",
            " 2024-01-01T10:00:00Z",
            "0001-01-01T00:00:00Z",
            "1e9",
            "",
        ]
    ),
    st.integers(-(10**12), 10**12).map(str),
    st.floats().map(repr),
)
_NUMBERS = st.one_of(
    st.sampled_from(["1", "1.5", "-0", "+1", "1_000", "1e3", " 2 ", "nan", "", "1,5", "1e400"]),
    st.floats().map(repr),
    st.integers(-(10**20), 10**20).map(str),
)
_IDS = st.one_of(
    st.sampled_from(["a", "007", "7.0", "NA", "nan", " a"]),
    st.text(max_size=5).filter(lambda t: not set(t) & set('\r\n",')),
)
_ROWS = st.lists(
    st.tuples(_IDS, _STAMPS, st.sampled_from(["purchase", "view", "Purchase", ""]), _NUMBERS),
    min_size=1,
    max_size=6,
)


def _read_with(path: Path, engine: str, mode: str) -> tuple[Any, ...]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            log = cx.read_csv(path, engine=engine, errors=mode, timezone="UTC")  # type: ignore[arg-type]
    except CXModelError as error:
        return ("error", type(error).__name__, str(error))
    return (
        log.customers.tolist(),
        log.timestamps.tolist(),
        log.column("kind").tolist(),
        [repr(v) for v in log.column("value").tolist()],
        sorted((row, reason) for row, reason, _ in log.rejected),
    )


@settings(deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=_ROWS)
def test_csv_engines_agree(rows: list[tuple[str, str, str, str]]) -> None:
    """Any file of ids, times as exports write them (ISO-8601 variants, epoch seconds and
    milliseconds as text, dates, garbage) and numbers: the standard-library engine and
    pyarrow give the same log, the same rejected rows with the same reasons, or the same
    error (docs/guide/bad-input.md: "whichever engine parses the file")."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        lines = "".join(f'"{a}",{b},{c},{d}\n' for a, b, c, d in rows)
        path.write_text("customer_id,timestamp,kind,value\n" + lines, encoding="utf-8")
        for mode in ("raise", "quarantine"):
            assert _read_with(path, "python", mode) == _read_with(path, "pyarrow", mode)


# ------------------------------------------------------------------ zones as tzinfo objects
class TestPytzZones:
    """``timezone=`` takes a ``tzinfo``; a pytz zone attached with ``replace`` is its first
    entry in the tz database, local mean time (Paris +00:09, New York -04:56)."""

    @pytest.mark.parametrize("name", ["Europe/Paris", "America/New_York", "Asia/Kolkata"])
    def test_a_pytz_zone_reads_as_its_name(self, name: str) -> None:
        """A naive 12:00 in pytz's Europe/Paris was read 51 minutes off (as +00:09): every
        time of the log silently wrong; it is the instant the zone's name gives."""
        pytz = pytest.importorskip("pytz")
        record = [{"customer_id": "a", "timestamp": "2024-01-15T12:00:00", "kind": "purchase"}]
        by_object = cx.InteractionLog.from_records(record, timezone=pytz.timezone(name))
        by_name = cx.InteractionLog.from_records(record, timezone=name)
        assert by_object.timestamps.tolist() == by_name.timestamps.tolist()

    def test_a_pytz_zone_in_a_reader(self, tmp_path: Path) -> None:
        """The same through read_csv."""
        pytz = pytest.importorskip("pytz")
        path = tmp_path / "naive.csv"
        path.write_text("customer_id,timestamp,kind\na,2024-07-01 09:00:00,purchase\n")
        by_object = cx.read_csv(path, timezone=pytz.timezone("America/New_York"))
        assert by_object.timestamps.tolist() == [pd.Timestamp("2024-07-01T13:00:00Z").value // 1000]


# ------------------------------------------------------------------ pandas dtypes
class TestPandasFrames:
    def test_periods_are_not_epoch_seconds(self) -> None:
        """A column of pandas Periods (``to_period("M")``) went through Arrow as its ordinals,
        months since 1970, read as epoch seconds: January 2024 was 1970-01-01 00:10:48,
        silently. A period is a span, not an instant: refused, naming the column and the
        conversion to write."""
        frame = _frame(timestamp=pd.period_range("2024-01", periods=2, freq="M"))
        with pytest.raises(SchemaError, match=r"'timestamp'.*period.*to_timestamp"):
            cx.InteractionLog.from_pandas(frame)

    def test_a_period_property_is_refused_too(self) -> None:
        """In a property column the ordinal would be a number (648 for January 2024)."""
        frame = _frame(month=pd.period_range("2024-01", periods=2, freq="M"))
        with pytest.raises(SchemaError, match="'month'"):
            cx.InteractionLog.from_pandas(frame)

    def test_periods_in_a_parquet_file(self, tmp_path: Path) -> None:
        """pandas writes its Period type into Parquet; read back, days since 1970 were read
        as seconds (2024-01-01 became 1970-01-01 05:28:43)."""
        frame = _frame(timestamp=pd.period_range("2024-01-01", periods=2, freq="D"))
        path = tmp_path / "periods.parquet"
        frame.to_parquet(path)
        with pytest.raises(SchemaError, match="period"):
            cx.read_parquet(path)

    def test_duplicate_column_names(self) -> None:
        """A frame with two columns named 'kind' (a concat along columns) was pyarrow's
        ValueError; it is the SchemaError a CSV with that header gets."""
        frame = pd.DataFrame(
            [["a", T, "purchase", "view"]], columns=["customer_id", "timestamp", "kind", "kind"]
        )
        with pytest.raises(SchemaError, match=r"column 'kind' appears twice \(columns 3 and 4\)"):
            cx.InteractionLog.from_pandas(frame)

    def test_sparse_columns_are_read_as_dense(self) -> None:
        """A sparse column (``pd.arrays.SparseArray``, as ``get_dummies(sparse=True)`` makes)
        was pyarrow's TypeError; its values are the column's values."""
        frame = _frame(value=pd.arrays.SparseArray([12.5, 0.0]))
        log = cx.InteractionLog.from_pandas(frame)
        assert log.column("value").tolist() == [12.5, 0.0]


# ------------------------------------------------------------------ Parquet and Arrow
class TestArrowInputs:
    def test_parquet_with_duplicate_column_names(self, tmp_path: Path) -> None:
        """A Parquet file with two 'kind' columns was called 'not a readable Parquet file'
        with pyarrow's dataset message; the file is fine, a column appears twice."""
        table = pa.table(
            [pa.array(["a"]), pa.array([T]), pa.array(["purchase"]), pa.array(["view"])],
            names=["customer_id", "timestamp", "kind", "kind"],
        )
        path = tmp_path / "dup.parquet"
        pq.write_table(table, path)
        with pytest.raises(SchemaError, match=r"column 'kind' appears twice \(columns 3 and 4\)"):
            cx.read_parquet(path)

    def test_a_stream_pyarrow_cannot_import(self) -> None:
        """A polars frame with an Int128 column: pyarrow's ArrowInvalid ('unsupported format
        string') escaped from_arrow."""
        pl = pytest.importorskip("polars")
        frame = pl.DataFrame(
            {
                "customer_id": pl.Series([2**100], dtype=pl.Int128),
                "timestamp": [T],
                "kind": ["purchase"],
            }
        )
        with pytest.raises(SchemaError, match="Arrow"):
            cx.InteractionLog.from_arrow(frame)


# ------------------------------------------------------------------ group labels
class TestLabelsWithPandasMissing:
    """pandas' nullable arrays hold ``pd.NA``, whose truth value raises: comparing labels
    with themselves to find NaN was a TypeError ('boolean value of NA is ambiguous')."""

    @pytest.mark.parametrize(
        "labels",
        [
            pytest.param(lambda: pd.array(["a", None, "b"], dtype="string"), id="string"),
            pytest.param(lambda: pd.array(["a", None, "b"], dtype="string[pyarrow]"), id="arrow"),
            pytest.param(lambda: pd.array([True, None, False], dtype="boolean"), id="boolean"),
            pytest.param(lambda: ["a", pd.NA, "b"], id="list"),
        ],
    )
    def test_na_is_the_missing_group(self, labels: Any) -> None:
        """pd.NA is a missing label, the group '(missing)', as None and NaN are."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.SmallSampleWarning)
            table = metrics.nps([9, 0, 7], by=labels())
        assert "(missing)" in [str(x) for x in table.to_pandas()["by"]]

    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda g: metrics.csat([5, 1, 4], by=g), id="csat"),
            pytest.param(lambda g: metrics.ces([5, 1, 4], by=g), id="ces"),
            pytest.param(
                lambda g: metrics.kaplan_meier_by([1, 2, 3], [1, 1, 1], groups=g), id="km"
            ),
            pytest.param(lambda g: metrics.multivariate_logrank_test([1, 2, 3], g), id="logrank"),
        ],
    )
    def test_every_grouping_takes_na(self, call: Any) -> None:
        """The same labels in the other functions taking groups: an answer or a
        CXModelError, never pandas' TypeError."""
        labels = pd.array(["a", None, "b"], dtype="string")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.SmallSampleWarning)
            with contextlib.suppress(CXModelError):
                call(labels)

    def test_nan_in_a_list_of_text_is_missing(self) -> None:
        """``by=["a", float("nan"), "b"]``: numpy turns the list into text, NaN into 'nan',
        so the answer stood in a group named 'nan'; a NaN label is missing, as in an array
        of objects or a pandas Series of the same labels."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.SmallSampleWarning)
            listed = metrics.nps([9, 0, 7], by=["a", float("nan"), "b"])
            series = metrics.nps([9, 0, 7], by=pd.Series(["a", np.nan, "b"]))
        assert listed.to_pandas()["by"].tolist() == series.to_pandas()["by"].tolist()


# ------------------------------------------------------------------ group columns named as results
def _survey_log() -> Any:
    rows = [("a", 9, "x", 1.0, "p"), ("b", 0, "y", 2.0, "q"), ("c", 10, "x", 1.0, "p")]
    return cx.InteractionLog.from_records(
        [
            {
                "customer_id": c,
                "timestamp": T,
                "kind": "survey",
                "metric": "nps",
                "score": s,
                "n": g,
                "value": v,
                "period": p,
            }
            for c, s, g, v, p in rows
        ]
    )


class TestGroupColumnsNamedAsResults:
    """A table's key columns and its statistics share one mapping of names: a ``by=`` column
    named as a statistic was overwritten by it, and the groups lost their labels."""

    @pytest.mark.parametrize("by", ["n", "value"])
    def test_by_a_column_named_as_a_statistic(self, by: str) -> None:
        """nps(log, by="n") gave two rows whose 'n' column held the counts (2 and 1): which
        group was which was gone. Refused, naming the clash and the way out."""
        with pytest.raises(SchemaError, match=rf"by='{by}'.*NPS table.*with_column"):
            metrics.nps(_survey_log(), by=by)

    def test_by_period_with_a_period(self) -> None:
        """by="period" (a column of the export) with period="month": the column's labels were
        replaced by the months, one row for groups 'p' and 'q' together."""
        with pytest.raises(SchemaError, match="period"):
            metrics.nps(_survey_log(), by="period", period="month")

    def test_a_rate_table(self) -> None:
        """The same in a rate's table: on_time_delivery_rate by a column named 'n'."""
        log = cx.InteractionLog.from_records(
            [
                {"customer_id": "a", "timestamp": T, "kind": "delivery", "late": 0.0, "n": "x"},
                {"customer_id": "b", "timestamp": T, "kind": "delivery", "late": 2.0, "n": "y"},
            ]
        )
        with pytest.raises(SchemaError, match="by='n'"):
            metrics.on_time_delivery_rate(log, by="n")

    @pytest.mark.parametrize(
        ("name", "call"),
        [
            ("n", lambda log, by: metrics.question_summary(log, "nps", by=by)),
            ("revenue", lambda log, by: metrics.value_summary(log, by=by)),
            ("n", lambda log, by: metrics.ticket_times(metrics.ticket_lifecycles(log), by=by)),
            ("tickets", lambda log, by: metrics.ticket_volume(log, by=by)),
        ],
    )
    def test_every_breakdown(self, name: str, call: Any) -> None:
        """question_summary, value_summary, ticket_times and ticket_volume lost their groups'
        labels alike to a statistic of the by= column's name."""
        log = cx.datasets.synthetic(customers=40, seed=3).log
        log = log.with_column(name, log.column("channel"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.SmallSampleWarning)
            with pytest.raises(SchemaError, match=rf"by='{name}'"):
                call(log, name)

    def test_sentiment_trend(self) -> None:
        """The text module's sentiment trend by a column named 'n'."""
        log = cx.InteractionLog.from_arrays(
            customer_id=list("abcd"),
            timestamp=[T] * 4,
            kind=["ticket_opened"] * 4,
            n=["x", "x", "y", "y"],
            sentiment=[-0.5, -0.3, 0.2, 0.4],
        )
        with pytest.raises(SchemaError, match="by='n'"):
            cx.text.sentiment_trend(log, by="n")


# ------------------------------------------------------------------ numbers that are times
class TestDurationsThatAreTimes:
    def test_timedeltas_are_not_numbers_of_an_unknown_unit(self) -> None:
        """kaplan_meier(pd.to_timedelta([1, 2], unit="D")) read the durations as nanoseconds:
        a median of 86,400,000,000,000 for one day, without a word. Refused, saying how to
        give the unit."""
        with pytest.raises(ValueTypeError, match=r"timedelta64.*np\.timedelta64\(1, 'D'\)"):
            metrics.kaplan_meier(pd.to_timedelta([1, 2], unit="D"), [1, 1])

    def test_times_are_not_scores(self) -> None:
        """Datetimes given where numbers are expected were their ticks since 1970."""
        with pytest.raises(ValueTypeError, match="datetime64"):
            metrics.kaplan_meier(np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"))

    def test_timedeltas_divided_by_a_unit(self) -> None:
        """The way the message gives: the durations in days."""
        durations = pd.to_timedelta([1, 2], unit="D") / np.timedelta64(1, "D")
        assert metrics.kaplan_meier(durations, [1, 1]).median == 1.0


# ------------------------------------------------------------------ as_of before the data
class TestSummaryBeforeThePurchases:
    def test_rfm_summary_as_of_before_every_purchase(self) -> None:
        """rfm_summary(as_of=2000) of a log of 2024 said "no 'purchase' interactions to
        summarise", as if the log held none; it names as_of and the first purchase, as the
        other analyses taking as_of do."""
        log = cx.InteractionLog.from_records(
            [{"customer_id": "a", "timestamp": T, "kind": "purchase", "value": 5.0}]
        )
        with pytest.raises(CXModelError, match=r"as_of 2000-01-01.*before.*2024-01-01"):
            cx.models.rfm_summary(log, as_of="2000-01-01T00:00:00Z")


# ------------------------------------------------------------------ pandas' NaT and NA elsewhere
class TestPandasMissingTimes:
    @pytest.mark.parametrize(
        "build",
        [
            pytest.param(
                lambda: cx.InteractionLog.from_records(
                    [
                        {"customer_id": "a", "timestamp": pd.NaT, "kind": "purchase"},
                        {"customer_id": "a", "timestamp": T, "kind": "purchase"},
                    ]
                ),
                id="records",
            ),
            pytest.param(
                lambda: cx.InteractionLog.from_arrays(
                    ["a", "b"],
                    pd.to_datetime([T, None], utc=True),
                    ["view", "view"],
                ),
                id="arrays",
            ),
        ],
    )
    def test_nat_is_a_missing_time(self, build: Any) -> None:
        """pandas' NaT was read as a naive time: "timestamp 'NaT' has no time zone; pass
        timezone='UTC'", advice that cannot help (docs/guide/bad-input.md: NaT is missing)."""
        with pytest.raises(SchemaError, match="timestamp is missing") as caught:
            build()
        assert "time zone" not in str(caught.value)

    def test_nat_among_survey_timestamps(self) -> None:
        """nps(timestamps=...) with a NaT said to write it with an offset, 'NaTZ'."""
        times = pd.to_datetime([T, None], utc=True)
        with pytest.raises(SchemaError, match="row 2: timestamps is missing"):
            metrics.nps([9, 0], timestamps=times, period="month")


class TestPandasMissingLabelsElsewhere:
    def test_journey_by_labels_with_na(self) -> None:
        """paths(log, by=<string array with NA>) was pandas' TypeError; NA is the group
        '(missing)', as None is."""
        log = cx.datasets.synthetic(customers=20, seed=3).log
        labels = pd.array(["a"] * (len(log) - 1) + [None], dtype="string")
        by_na = cx.journey.paths(log, by=labels)
        by_none = cx.journey.paths(log, by=np.array(["a"] * (len(log) - 1) + [None], object))
        assert by_na.to_pandas().equals(by_none.to_pandas())

    def test_contrast_of_a_nullable_mask_with_na(self) -> None:
        """contrast(table, <boolean array with NA>, ...) was pandas' TypeError from np.isin;
        a mask needs True or False for every customer: refused, naming the first NA."""
        table = cx.datasets.synthetic(customers=20, seed=3).log.customers_table(
            as_of="2025-01-01T00:00:00Z"
        )
        n = len(table)
        group_a = pd.array([True] * (n - 1) + [None], dtype="boolean")
        group_b = pd.array([False] * (n - 1) + [True], dtype="boolean")
        with pytest.raises(SchemaError, match=rf"group_a\[{n - 1}\] is missing"):
            cx.segment.contrast(table, group_a, group_b)


# ------------------------------------------------------------------ models
class TestCoxCovariateNames:
    @pytest.mark.parametrize(
        "fit",
        [
            pytest.param(
                lambda X, d, e: cx.models.CoxPH().fit(X, d, e, names=["a", "a"]), id="names"
            ),
            pytest.param(
                lambda X, d, e: cx.models.CoxPH().fit(pd.DataFrame(X, columns=["a", "a"]), d, e),
                id="frame",
            ),
            pytest.param(
                lambda X, d, e: cx.models.CoxPH().fit({1: X[:, 0], "1": X[:, 1]}, d, e),
                id="mapping",
            ),
        ],
    )
    def test_two_covariates_of_one_name(self, fit: Any) -> None:
        """Two columns named 'a' were fitted, and params_ (a mapping by name) kept one
        coefficient of the two without a word: CoxPH(a=-0.7552). Refused, naming both."""
        X = np.array([[1.0, 2.0], [2.0, 1.0], [0.5, 0.1], [0.3, 3.0], [1.5, 0.2]])
        with pytest.raises(SchemaError, match=r"columns 1 and 2"):
            fit(X, [5.0, 3.0, 2.0, 4.0, 1.0], [1, 1, 0, 1, 1])


# ------------------------------------------------------------------ segments
class TestClustersOfFewDistinctCustomers:
    @pytest.mark.parametrize("features", [["consent_marketing"], ["preferred_channel"]])
    def test_fewer_distinct_customers_than_clusters(self, features: list[str]) -> None:
        """cluster(table, ["consent_marketing"]) with the default 4 clusters: a true/false
        feature has two distinct customers, and scikit-learn's ConvergenceWarning ("Number of
        distinct clusters (2) found smaller than n_clusters (4)") leaked. A cxmodel
        DataWarning says it, and as many clusters as distinct customers are formed."""
        table = cx.datasets.synthetic(customers=40, seed=3).log.customers_table(
            as_of="2025-01-01T00:00:00Z"
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clusters = cx.segment.cluster(table, features)
        modules = {type(w.message).__module__ for w in caught}
        assert modules == {"cxmodel.errors"}
        assert "distinct values" in str(caught[0].message)
        assert clusters.size.sum() == len(table) and (clusters.size > 0).all()


# ------------------------------------------------------------------ journeys
class TestSessionsOverAStandardColumn:
    @pytest.mark.parametrize("name", ["value", "score", "channel"])
    def test_a_standard_column_is_not_replaced(self, name: str) -> None:
        """sessions(log, name="value", overwrite=True) replaced every purchase value by a
        session number: value_summary and rfm_summary then summed session numbers. A
        standard column is refused as the required ones are."""
        log = cx.datasets.synthetic(customers=10, seed=3).log
        with pytest.raises(SchemaError, match=rf"name='{name}' is a standard column"):
            cx.journey.sessions(log, name=name, overwrite=True)


# ------------------------------------------------------------------ confidence levels
class TestConfidenceLevels:
    def test_a_numpy_level_is_a_level(self) -> None:
        """level=np.float32(0.95) (read from an array or a config parsed by numpy) was
        refused as "not a number in the open interval (0, 1)"; it is 0.95."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.SmallSampleWarning)
            low, high = metrics.nps([9, 0, 7], level=np.float32(0.95)).ci
            expected = metrics.nps([9, 0, 7], level=0.95).ci
        assert low == pytest.approx(expected[0], rel=1e-6)
        assert high == pytest.approx(expected[1], rel=1e-6)

    def test_a_percentage_says_the_share(self) -> None:
        """level=95 is refused, saying the share meant."""
        with pytest.raises(SchemaError, match=r"did you mean level=0\.95"):
            metrics.kaplan_meier([1, 2, 3], level=95)

    def test_a_bool_is_no_level(self) -> None:
        """np.True_ and True are refused as before."""
        for flag in (True, np.bool_(True)):
            with pytest.raises(SchemaError, match="open interval"):
                metrics.kaplan_meier([1, 2, 3], level=flag)


# ------------------------------------------------------------------ the log's own methods
class TestLogMethods:
    def test_with_column_of_a_nullable_string_array(self) -> None:
        """log.with_column("plan", <string array with NA>) stored the text '<NA>' as a plan:
        a group of its own in every breakdown. NA is missing, as in from_pandas."""
        log = cx.datasets.synthetic(customers=10, seed=3).log
        values = pd.array(["a"] * (len(log) - 1) + [None], dtype="string")
        column = log.with_column("plan", values).column("plan")
        assert column[-1] is None and "<NA>" not in column.tolist()

    def test_between_an_end_before_the_start(self) -> None:
        """log.between("2024-06-01...", "2024-01-01...") (the bounds swapped) gave an empty
        log, which every analysis then reads as "nothing happened"; refused as the rates
        refuse such a period."""
        log = cx.datasets.synthetic(customers=10, seed=3).log
        with pytest.raises(SchemaError, match=r"between\(\): end .* is not after start"):
            log.between("2024-06-01T00:00:00Z", "2024-01-01T00:00:00Z")

    @pytest.mark.parametrize(
        ("values", "what"),
        [
            ([[1], [2]], "is a list"),
            ([{"a": 1}, {"b": 2}], "JSON object"),
            ([b"x", b"y"], "is bytes"),
        ],
    )
    def test_with_column_takes_what_from_arrays_takes(self, values: Any, what: str) -> None:
        """with_column("p", [[1], [2]]) was numpy's ValueError ('setting an array element
        with a sequence'); dicts and bytes were stored as their repr ("{'a': 1}"), which
        from_arrays refuses row by row. The same rule now holds in both."""
        log = cx.InteractionLog.from_arrays(["a", "b"], [T, T], ["view", "view"])
        with pytest.raises(SchemaError, match=what):
            log.with_column("p", values)


# ------------------------------------------------------------------ declared questions
class TestQuestionTypes:
    @pytest.mark.parametrize(("given", "meant"), [("scal", "scale"), ("SCALE", "scale")])
    def test_a_misspelt_type(self, given: str, meant: str) -> None:
        """Question("rating", "scal", ...) was Enum's ValueError ("'scal' is not a valid
        QuestionType"); it is a SchemaError listing the types, with the one meant."""
        from cxmodel.domain import Question

        with pytest.raises(SchemaError, match=rf"did you mean '{meant}'"):
            Question("rating", given, low=1, high=5)
