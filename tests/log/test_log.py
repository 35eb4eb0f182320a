"""InteractionLog: sorting, ties, CSR offsets, derived logs, round trips."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxmodel import DataError, Interaction, InteractionLog, SchemaError
from cxmodel.errors import DataWarning, IndexOutOfRangeError, ValueTypeError
from cxmodel.io import read_csv
from cxmodel.metrics import churn_rate

KINDS = ["view", "purchase", "survey", "ticket_opened"]


@st.composite
def raw_rows(draw: st.DrawFn, unique_times: bool = False) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 40))
    customers = draw(
        st.lists(st.sampled_from(["a", "b", "c", "d10", "d9"]), min_size=n, max_size=n)
    )
    if unique_times:
        times = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n, unique=True))
    else:
        times = draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    values = draw(st.lists(st.one_of(st.none(), st.floats(0, 1000)), min_size=n, max_size=n))
    products = draw(
        st.lists(st.one_of(st.none(), st.sampled_from(["p", "q"])), min_size=n, max_size=n)
    )
    return [
        {
            "customer_id": c,
            "timestamp": np.datetime64(1_700_000_000_000_000 + t * 1_000_000, "us"),
            "kind": k,
            "value": v,
            "product": p,
        }
        for c, t, k, v, p in zip(customers, times, kinds, values, products, strict=True)
    ]


def _log(rows: list[dict[str, Any]]) -> InteractionLog:
    return InteractionLog.from_records(rows)


class TestConstruction:
    def test_sorted_by_customer_then_time(self) -> None:
        """Rows are sorted by customer id, then time, with CSR offsets per customer."""
        log = InteractionLog.from_arrays(
            customer_id=["b", "a", "b", "a"],
            timestamp=[
                "2024-01-02T00:00:00Z",
                "2024-01-05T00:00:00Z",
                "2024-01-01T00:00:00Z",
                "2024-01-03T00:00:00Z",
            ],
            kind=["view", "view", "purchase", "purchase"],
        )
        assert log.customers.tolist() == ["a", "b"]
        assert log.offsets.tolist() == [0, 2, 4]
        assert log.column("kind").tolist() == ["purchase", "view", "purchase", "view"]
        assert log.row_order.tolist() == [3, 1, 2, 0]

    def test_ties_keep_input_order(self) -> None:
        """Equal timestamps keep their input order (stable sort)."""
        log = InteractionLog.from_arrays(
            customer_id=["a"] * 4,
            timestamp=["2024-01-01T00:00:00Z"] * 4,
            kind=["search", "view", "add_to_cart", "purchase"],
        )
        assert log.column("kind").tolist() == ["search", "view", "add_to_cart", "purchase"]

    def test_columns_must_have_equal_length(self) -> None:
        """Columns of different lengths are a schema error naming the lengths."""
        with pytest.raises(SchemaError, match="same length"):
            InteractionLog.from_arrays(customer_id=["a"], timestamp=[0, 1], kind=["view"])

    def test_stage_and_channel_derived_from_catalogue(self) -> None:
        """Missing stage and channel are filled from the touchpoint catalogue."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "a"],
            timestamp=[0, 1],
            kind=["view", "ticket_opened"],
            touchpoint=["website", "ticket"],
        )
        assert log.column("stage").tolist() == ["consideration", "service"]
        assert log.column("channel").tolist() == ["web", "web"]

    def test_core_bytes_per_interaction(self) -> None:
        """The core columns stay within 40 bytes per interaction."""
        n = 100_000
        rng = np.random.default_rng(0)
        log = InteractionLog.from_arrays(
            customer_id=rng.integers(0, 5_000, n),
            timestamp=rng.integers(0, 10**15, n).astype("datetime64[us]"),
            kind=np.array(KINDS)[rng.integers(0, 4, n)],
            value=rng.random(n),
        )
        assert log.nbytes / n <= 40

    def test_from_pandas_refuses_a_polars_frame(self) -> None:
        """A polars DataFrame is named as the wrong type and sent to from_arrow (it used to
        pass a check by class name and fail inside pyarrow with an AttributeError)."""

        class DataFrame:  # another library's frame, named like pandas' (as polars' is)
            pass

        frames: list[object] = [DataFrame()]
        if importlib.util.find_spec("polars") is not None:
            import polars as pl

            frames.append(pl.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-01T00:00Z"]}))
        for frame in frames:
            with pytest.raises(ValueTypeError, match="(?s)must be a pandas DataFrame.*from_arrow"):
                InteractionLog.from_pandas(frame)

    def test_columns_that_are_not_arrays(self) -> None:
        """Scalars for every column are refused as not one-dimensional (all of them being
        equally not 1-d let them through to an IndexError)."""
        with pytest.raises(SchemaError, match="must all be one-dimensional"):
            InteractionLog.from_arrays(None, None, None)  # type: ignore[arg-type]

    @pytest.mark.parametrize(("start", "stop"), [(0, 4), (-1, None), (4, 4)])
    def test_interactions_outside_the_rows(self, start: int, stop: int | None) -> None:
        """Rows past either end are refused with the log's range (not an IndexError from
        inside the loop); an empty range is an empty list."""
        log = InteractionLog.from_arrays(["a", "a", "b"], [0, 1, 2], ["view"] * 3)
        with pytest.raises(IndexOutOfRangeError, match=r"outside the log's rows 0:3"):
            log.interactions(start, stop)
        assert log.interactions(2, 1) == [] and len(log.interactions(1)) == 2

    def test_from_pandas_takes_a_pandas_frame(self) -> None:
        pd = pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
        frame = pd.DataFrame(
            {"customer_id": ["a"], "timestamp": ["2024-01-01T00:00Z"], "kind": ["view"]}
        )
        assert len(InteractionLog.from_pandas(frame)) == 1

    def test_from_pandas_mixed_object_columns(self) -> None:
        """Object columns mixing numbers and text (an Excel export, frames concatenated) are
        read as from_arrays reads the same values, in their place, bad values rejected row by
        row; they raised pyarrow's ArrowTypeError / ArrowInvalid. The frame is not changed."""
        pd = pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
        frame = pd.DataFrame(
            {
                "user": ["a", 2, "c"],
                "timestamp": ["2024-01-01T00:00Z"] * 3,
                "kind": ["purchase"] * 3,
                "channel": ["web", 3, None],
                "value": pd.Series([1.5, "2.5", pd.NA], dtype=object),
            }
        )
        before = frame.copy()
        log = InteractionLog.from_pandas(frame, mapping={"user": "customer_id"})
        expected = InteractionLog.from_arrays(
            customer_id=np.array(["a", 2, "c"], dtype=object),
            timestamp=["2024-01-01T00:00Z"] * 3,
            kind=["purchase"] * 3,
            channel=np.array(["web", 3, None], dtype=object),
            value=np.array([1.5, "2.5", None], dtype=object),
        )
        assert log.equals(expected)
        assert log.columns == ("customer_id", "timestamp", "kind", "channel", "value")
        assert frame.equals(before)
        with pytest.raises(SchemaError, match=r"row 2: value 'x' is not a number"):
            InteractionLog.from_pandas(
                frame.assign(value=[1.5, "x", None]), mapping={"user": "customer_id"}
            )


class TestDerivedLogs:
    def _sample(self) -> InteractionLog:
        return InteractionLog.from_arrays(
            customer_id=["a", "a", "b"],
            timestamp=["2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"],
            kind=["view", "purchase", "view"],
            value=[np.nan, 10.0, np.nan],
        )

    def test_filter_drops_empty_customers(self) -> None:
        """Filtering keeps order and drops customers with no rows left."""
        log = self._sample()
        kept = log.filter(log.kind_mask("view"))
        assert kept.customers.tolist() == ["a", "b"]
        purchases = log.filter(log.kind_mask("purchase"))
        assert purchases.customers.tolist() == ["a"]
        assert purchases.offsets.tolist() == [0, 1]

    def test_between_is_half_open(self) -> None:
        """between(start, end) keeps start <= t < end."""
        log = self._sample()
        assert len(log.between("2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z")) == 2

    def test_with_column_and_select(self) -> None:
        """with_column adds a column in log order; select keeps named ones."""
        log = self._sample().with_column("segment", ["x", "y", "z"])
        assert log.column("segment").tolist() == ["x", "y", "z"]
        assert log.select(["segment"]).columns == ("customer_id", "timestamp", "kind", "segment")

    def test_filter_mask_checked(self) -> None:
        """A mask of the wrong length or type is an error."""
        with pytest.raises(SchemaError, match="boolean mask of length 3"):
            self._sample().filter(np.array([1, 0, 1]))

    def test_unknown_column_suggests(self) -> None:
        """Unknown columns get a did-you-mean."""
        with pytest.raises(SchemaError, match="did you mean 'value'"):
            self._sample().numeric("valeu")

    def test_journey_and_iteration(self) -> None:
        """journey() returns one customer's interactions; iteration yields every journey."""
        log = self._sample()
        assert log.journey("a").kinds == ("view", "purchase")
        assert [j.customer_id for j in log] == ["a", "b"]
        with pytest.raises(DataError, match="'zz' is not in the log"):
            log.journey("zz")
        with pytest.raises(DataError, match="'A' is not in the log .*; did you mean 'a'\\?"):
            log.journey("A")


class TestProperties:
    @given(raw_rows(unique_times=True), st.randoms(use_true_random=False))
    def test_shuffled_input_gives_equal_log(self, rows: list[dict[str, Any]], rnd: Any) -> None:
        """A log built from shuffled rows equals the log built from the same rows in order."""
        shuffled = list(rows)
        rnd.shuffle(shuffled)
        assert _log(shuffled) == _log(rows)

    @given(raw_rows(), st.one_of(st.none(), st.integers(0, 10**12)))
    def test_arrow_round_trip_is_lossless(
        self, rows: list[dict[str, Any]], quiet: int | None
    ) -> None:
        """to_arrow then from_arrow gives an equal log, observed until the same time: its last
        interaction, or ``quiet`` microseconds after it when declared so."""
        log = _log(rows)
        if quiet is not None:
            log = log.with_observed_until(np.datetime64(int(log.timestamps.max()) + quiet, "us"))
        back = InteractionLog.from_arrow(log.to_arrow())
        assert back == log
        assert back.observed_until == log.observed_until

    @given(raw_rows())
    def test_ties_keep_input_order_property(self, rows: list[dict[str, Any]]) -> None:
        """Within a customer and a timestamp, rows keep their input order."""
        log = _log(rows)
        same = (np.diff(log.customer_codes) == 0) & (np.diff(log.timestamps) == 0)
        assert np.all(np.diff(log.row_order)[same] > 0)

    @given(raw_rows())
    def test_from_interactions_agrees_with_from_records(self, rows: list[dict[str, Any]]) -> None:
        """Building from Interaction objects and from plain records gives the same log."""
        interactions = [
            Interaction(
                r["customer_id"],
                r["timestamp"],
                r["kind"],
                value=r["value"],
                properties={} if r["product"] is None else {"product": r["product"]},
            )
            for r in rows
        ]
        by_objects = InteractionLog.from_interactions(interactions)
        by_records = _log(rows)
        for name in ("customer_id", "timestamp", "kind", "value"):
            assert (
                np.array_equal(by_objects.column(name), by_records.column(name), equal_nan=True)
                if name == "value"
                else np.array_equal(by_objects.column(name), by_records.column(name))
            )


class TestAllMissingColumns:
    def test_float_nans_make_a_numeric_column(self) -> None:
        """A column of NaNs (every value missing) is a numeric column, so an analysis that
        needs numbers says the values are missing rather than that the column is text."""
        log = InteractionLog.from_arrays(
            ["a", "b"], ["2024-01-01T00:00Z"] * 2, ["call"] * 2, talk_seconds=[math.nan, None]
        )
        assert log.schema["talk_seconds"] == "float"
        assert np.isnan(log.numeric("talk_seconds")).all()

    def test_nones_stay_text(self) -> None:
        """With nothing but ``None`` there is no type to read: the column is text, as before."""
        log = InteractionLog.from_arrays(["a"], ["2024-01-01T00:00Z"], ["call"], note=[None])
        assert log.schema["note"] == "string"


class TestWithObservedUntil:
    def test_quiet_days_at_the_end_are_observed(self) -> None:
        """A churn period in the export's quiet last days is answered without a warning once
        the log says it was observed, and the rows, columns and rejected rows are the same."""
        with pytest.warns(DataWarning, match="1 of 3 rows rejected"):
            log = InteractionLog.from_records(
                [
                    {"customer_id": "a", "timestamp": "2024-01-02T00:00Z", "kind": "purchase"},
                    {"customer_id": "b", "timestamp": "2024-01-20T00:00Z", "kind": "purchase"},
                    {"customer_id": "c", "timestamp": "not a time", "kind": "purchase"},
                ],
                errors="quarantine",
            )
        with pytest.warns(DataWarning, match="nothing in that span was observed"):
            churn_rate(log, "2024-01-16T00:00Z", "2024-02-01T00:00Z")
        whole = log.with_observed_until("2024-02-01T00:00Z")
        quiet = churn_rate(whole, "2024-01-16T00:00Z", "2024-02-01T00:00Z")  # no warning
        assert (quiet.numerator, quiet.n) == (1, 1)  # a, active before, not during
        assert whole.observed_until == 1_706_745_600_000_000
        assert whole == log and len(whole.rejected) == len(log.rejected) == 1
        assert log.observed_until == 1_705_708_800_000_000  # the original is unchanged
        assert whole.filter(whole.kind_mask("purchase")).observed_until == whole.observed_until

    def test_before_the_last_interaction_is_refused(self) -> None:
        log = InteractionLog.from_arrays(["a"], ["2024-01-20T00:00Z"], ["view"])
        with pytest.raises(DataError, match=r"before the log's last interaction.*between"):
            log.with_observed_until("2024-01-19T00:00Z")

    def test_an_empty_log_takes_any_end(self) -> None:
        empty = InteractionLog.from_arrays([], [], [])
        assert empty.with_observed_until("2024-01-01T00:00Z").observed_until is not None


class TestBlankIdsAndKinds:
    """White space alone is no customer and no kind: a bad row in every constructor and
    reader, as the streaming engine refuses such a record."""

    @pytest.mark.parametrize("name", ["customer_id", "kind"])
    @pytest.mark.parametrize("blank", [" ", "\t", "  \u00a0"])
    def test_refused_with_the_value_as_written(self, name: str, blank: str) -> None:
        record = {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}
        record[name] = blank
        with pytest.raises(SchemaError, match=rf"row 1: {name} .* is blank \(column '{name}'\)"):
            InteractionLog.from_records([record])

    def test_quarantined_with_the_others_kept(self, tmp_path: Path) -> None:
        path = tmp_path / "blank.csv"
        path.write_text(
            "customer_id,timestamp,kind\n"
            "  ,2024-01-01T00:00:00Z,view\n"
            'a,2024-01-01T00:00:00Z," "\n'
            "b,2024-01-01T00:00:00Z,view\n"
        )
        for engine in ("pyarrow", "python"):
            with pytest.warns(DataWarning, match="2 of 3 rows rejected"):
                log = read_csv(path, errors="quarantine", engine=engine)
            assert log.customers.tolist() == ["b"]
            assert log.rejected.row.tolist() == [1, 2]


def test_ids_that_differ_only_by_spaces_are_said() -> None:
    """``"007 "`` and ``"007"`` stay two customers (ids are kept as written), with a warning
    giving the count and the first pair; ids without such twins are silent."""
    import warnings

    from cxmodel.errors import DataWarning

    rows = [
        {"customer_id": cid, "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}
        for cid in ("007 ", "007", " 8", "9")
    ]
    with pytest.warns(DataWarning, match=r"1 customer id\(s\) differ .* '007 ' and '007'"):
        log = InteractionLog.from_records(rows)
    assert sorted(log.customers.tolist()) == [" 8", "007", "007 ", "9"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        InteractionLog.from_records(rows[1:])


@pytest.mark.parametrize(
    ("ids", "pair"),
    [
        ((" a", "a", "b"), "' a' and 'a'"),
        (("a", "z", "z "), "'z ' and 'z'"),
        (("\tq", "q"), "'\\tq' and 'q'"),
    ],
    ids=["first-id-leading", "last-id-trailing", "tab"],
)
def test_spaced_ids_at_either_end_of_the_ids_are_said(ids: tuple[str, ...], pair: str) -> None:
    """The padded id of a pair is found as the first or the last of the sorted ids too, and
    with white space other than a space."""
    rows = [
        {"customer_id": cid, "timestamp": "2024-01-01T00:00:00Z", "kind": "view"} for cid in ids
    ]
    with pytest.warns(
        DataWarning, match=rf"1 customer id\(s\) differ .*\(first: {re.escape(pair)}\)"
    ):
        InteractionLog.from_records(rows)


def test_from_pandas_reads_a_named_index() -> None:
    """A frame indexed by customer (``set_index("customer_id")``) or by a property is read
    with those columns, the frame unchanged; row numbers are not a column."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "timestamp": ["2024-01-01T00:00:00Z"] * 2,
            "kind": ["view"] * 2,
            "value": [1.0, 2.0],
        }
    )
    whole = InteractionLog.from_pandas(frame)
    for index in ("customer_id", "value", ["customer_id", "kind"]):
        indexed = frame.set_index(index)
        kept = indexed.copy()
        log = InteractionLog.from_pandas(indexed)
        assert log.schema == whole.schema
        assert log.customers.tolist() == whole.customers.tolist()
        assert indexed.equals(kept)
