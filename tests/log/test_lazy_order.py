"""A log is sorted when its rows are first read in log order; a summary of one kind of row
reads those rows alone, in log order, and gives what it gives on a sorted log."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel import InteractionLog
from cxmodel.errors import DataError
from cxmodel.models import rfm_summary


def _columns(
    seed: int, n: int, customers: int, span_days: int, purchases: float = 1 / 3
) -> dict[str, np.ndarray]:
    """Shuffled interactions with ties: few customers, few distinct times, same-day buys;
    about ``purchases`` of them purchases, the rest views and refunds."""
    rng = np.random.default_rng(seed)
    other = np.array(["view", "refund"], dtype=object)[rng.integers(0, 2, n)]
    kind = np.where(rng.random(n) < purchases, "purchase", other).astype(object)
    return {
        "customer_id": np.array([f"c{i}" for i in rng.integers(0, customers, n)], dtype=object),
        "timestamp": (rng.integers(0, span_days * 4, n) * 6 * 3600).astype("datetime64[s]"),
        "kind": kind,
        "value": np.where(kind == "view", np.nan, np.round(rng.gamma(2.0, 7.3, n), 2)),
    }


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    customers=st.integers(1, 30),
    span_days=st.integers(1, 40),
    freq=st.sampled_from(["D", "W", "M", "h"]),
    purchases=st.sampled_from([1 / 3, 0.8, 1.0]),
)
def test_rfm_summary_without_the_sort_equals_it_after(
    seed: int, n: int, customers: int, span_days: int, freq: str, purchases: float
) -> None:
    """Bit for bit, whether or not the log was sorted before, whether the purchases are sorted
    alone (a third of the rows) or with the whole log (most of it)."""
    columns = _columns(seed, n, customers, span_days, purchases)
    if not (columns["kind"] == "purchase").any():
        return
    fresh = InteractionLog.from_arrays(**columns)
    sorted_first = InteractionLog.from_arrays(**columns)
    sorted_first.timestamps  # noqa: B018 (read in log order: sorts)
    a, b = rfm_summary(fresh, freq=freq), rfm_summary(sorted_first, freq=freq)
    assert a.customer_id.tolist() == b.customer_id.tolist()
    for name in ("frequency", "recency", "T", "monetary_value"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes()


class TestWhenTheLogIsSorted:
    def test_a_summary_leaves_the_log_unsorted(self) -> None:
        """rfm_summary reads the purchases alone: the log is still not sorted after it."""
        log = InteractionLog.from_arrays(**_columns(3, 500, 20, 10))
        rfm_summary(log)
        assert len(log) == 500 and log.n_customers == 20 and "value" in log.columns
        assert log._sorted is None

    def test_a_summary_of_most_of_the_log_sorts_it_once(self) -> None:
        """When purchases are most of the rows, rfm_summary sorts the whole log, once: a
        second summary reads the same sorted rows instead of sorting the purchases again."""
        log = InteractionLog.from_arrays(**_columns(3, 500, 20, 10, purchases=0.8))
        first = rfm_summary(log)
        rows = log._sorted
        assert rows is not None and log._input is None
        second = rfm_summary(log)
        assert log._sorted is rows
        assert first.frequency.tolist() == second.frequency.tolist()

    def test_reading_in_log_order_sorts_once(self) -> None:
        """The first read of a row-aligned column sorts; later reads share the arrays."""
        log = InteractionLog.from_arrays(**_columns(4, 500, 20, 10))
        first = log.customer_codes
        assert log._sorted is not None and log._input is None
        assert log.customer_codes is first
        assert np.all(np.diff(first) >= 0)

    def test_threads_reading_a_fresh_log_agree(self) -> None:
        """Threads sorting the same log at once all read the same rows."""
        from concurrent.futures import ThreadPoolExecutor

        columns = _columns(5, 20_000, 300, 30)
        expected = InteractionLog.from_arrays(**columns).customer_codes.tolist()
        for _ in range(5):
            logs = [InteractionLog.from_arrays(**columns)] * 8  # one fresh log, read 8 times
            with ThreadPoolExecutor(4) as pool:
                seen = list(pool.map(lambda log: log.customer_codes.tolist(), logs))
            assert all(codes == expected for codes in seen)


def _surveys(seed: int, n: int, customers: int) -> dict[str, np.ndarray]:
    """Shuffled interactions with NPS and CSAT answers on some rows and a text column."""
    columns = _columns(seed, n, customers, 60)
    rng = np.random.default_rng(seed + 1)
    survey = rng.random(n) < 0.4
    metric = np.where(rng.random(n) < 0.7, "nps", "csat").astype(object)
    columns["kind"] = np.where(survey, "survey", columns["kind"]).astype(object)
    columns["metric"] = np.where(survey, metric, None).astype(object)
    columns["score"] = np.where(
        survey, np.where(metric == "nps", rng.integers(0, 11, n), rng.integers(1, 6, n)), np.nan
    )
    columns["value"] = np.where(columns["kind"] == "view", np.nan, columns["value"])
    channels = np.array(["web", "app", "store", None], dtype=object)
    columns["channel"] = channels[rng.integers(0, 4, n)]
    return columns


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), customers=st.integers(1, 25))
def test_rows_of_kinds_equal_the_filtered_sorted_log(seed: int, n: int, customers: int) -> None:
    """The survey rows taken from a fresh log, sorted alone, equal those the sorted log keeps."""
    columns = _surveys(seed, n, customers)
    fresh = InteractionLog.from_arrays(**columns)
    whole = InteractionLog.from_arrays(**columns)
    expected = whole.filter(whole.kind_mask("survey"))
    for log in (fresh, whole):  # not sorted yet, then sorted
        got = log._of_kinds(("survey",), "kind_mask()")
        assert got.equals(expected)
        assert got.row_order.tolist() == expected.row_order.tolist()
        assert got.observed_until == expected.observed_until
        assert got.categorical("channel")[1].tolist() == expected.categorical("channel")[1].tolist()
    assert fresh._sorted is None


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    customers=st.integers(1, 25),
    by=st.sampled_from([None, "channel", "customer_id", "kind"]),
    period=st.sampled_from([None, "week", "month"]),
)
def test_survey_metrics_without_the_sort_equal_them_after(
    seed: int, n: int, customers: int, by: str | None, period: str | None
) -> None:
    """NPS and CSAT by group and period are the same whether or not the log was sorted, and
    only a grouping by customer sorts it."""
    import warnings

    from cxmodel.metrics import csat, nps

    columns = _surveys(seed, n, customers)
    for metric in (nps, csat):
        fresh = InteractionLog.from_arrays(**columns)
        sorted_first = InteractionLog.from_arrays(**columns)
        sorted_first.timestamps  # noqa: B018 (read in log order: sorts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                a = metric(fresh, by=by, period=period)
            except DataError as error:  # no answer to the metric: refused either way
                with pytest.raises(DataError, match=re.escape(str(error))):
                    metric(sorted_first, by=by, period=period)
                continue
            b = metric(sorted_first, by=by, period=period)
        assert repr(a.to_dict()) == repr(b.to_dict())
        assert (fresh._sorted is None) == (by != "customer_id")
