"""rfm_summary and calibration_holdout_split: hand cases and lifetimes on CDNOW_master."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cxmodel.datasets
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.models import RFMSummary, calibration_holdout_split, rfm_summary

# the bundled copy of CDNOW_master.txt (see src/cxmodel/datasets/data/PROVENANCE.md)
MASTER = Path(cxmodel.datasets.__file__).parent / "data" / "cdnow_master.txt.gz"


def _log(
    ids: list[str], times: list[str], values: list[float], kinds: list[str] | None = None
) -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=np.array(ids),
        timestamp=np.array(times, dtype="datetime64[us]"),
        kind=np.array(kinds or ["purchase"] * len(ids)),
        value=np.array(values),
    )


@pytest.fixture(scope="module")
def master() -> tuple[InteractionLog, Any]:
    raw = np.loadtxt(MASTER, skiprows=1, dtype=str)
    ymd = raw[:, 1].astype(np.int64)
    dates = ((ymd // 10000 - 1970) * 12 + (ymd // 100 % 100 - 1)).astype("datetime64[M]").astype(
        "datetime64[D]"
    ) + (ymd % 100 - 1).astype("timedelta64[D]")
    dates = dates.astype("datetime64[us]")
    values = raw[:, 3].astype(float)
    log = InteractionLog.from_arrays(
        customer_id=raw[:, 0], timestamp=dates, kind=np.full(raw.shape[0], "purchase"), value=values
    )
    return log, (raw[:, 0], dates, values)


class TestHandCases:
    def test_same_period_collapse_and_monetary(self) -> None:
        """Same-day purchases collapse (values summed); monetary = mean of repeat periods."""
        log = _log(
            ["a", "a", "a", "a", "b"],
            ["2024-01-01T08", "2024-01-01T20", "2024-01-03", "2024-01-06", "2024-01-02"],
            [1.0, 2.0, 4.0, 8.0, 5.0],
        )
        s = rfm_summary(log, as_of="2024-01-06T00:00Z")
        assert s.customer_id.tolist() == ["a", "b"]
        assert s.frequency.tolist() == [2.0, 0.0]
        assert s.recency.tolist() == [5.0, 0.0]
        assert s.T.tolist() == [5.0, 4.0]
        assert s.monetary_value.tolist() == [6.0, 0.0]

    @pytest.mark.parametrize(
        ("freq", "as_of", "unseen"),
        [
            ("D", "2024-01-11T00:00Z", "5 days"),
            ("W", "2024-01-22T00:00Z", "3 weeks"),
            ("M", "2024-02-01T00:00Z", "1 month"),
        ],
    )
    def test_as_of_after_the_data_warns(self, freq: str, as_of: str, unseen: str) -> None:
        """An as_of period after the data's last one warns (as customer_lifetimes does), with
        the customers whose T counts the unobserved periods; the summary stands."""
        log = _log(["a", "a", "b"], ["2024-01-01", "2024-01-06", "2024-01-02"], [1.0, 2.0, 3.0])
        with pytest.warns(DataWarning, match=f"each of the 2 customers counts {unseen} nobody"):
            s = rfm_summary(log, as_of=as_of, freq=freq)
        assert (s.T - rfm_summary(log, freq=freq).T).tolist() == [float(unseen.split()[0])] * 2

    def test_as_of_in_the_last_period_is_quiet(self) -> None:
        """An as_of later than the last interaction but in its period adds nothing: no warning."""
        log = _log(["a", "a"], ["2024-01-01", "2024-01-03"], [1.0, 2.0])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            s = rfm_summary(log, as_of="2024-01-03T23:00Z", freq="D")
        assert s.T.tolist() == [2.0]

    def test_kind_filter_and_as_of_cut(self) -> None:
        """Only the chosen kind counts; rows after the as_of period are ignored; default as_of = last."""
        log = _log(
            ["a", "a", "a", "b"],
            ["2024-01-01", "2024-01-02", "2024-01-09", "2024-01-05"],
            [1.0, 2.0, 3.0, 4.0],
            ["purchase", "view", "purchase", "purchase"],
        )
        s = rfm_summary(log, as_of="2024-01-05T23:00Z")
        assert s.frequency.tolist() == [0.0, 0.0]
        assert s.T.tolist() == [4.0, 0.0]
        s2 = rfm_summary(log)
        assert s2.T.tolist() == [8.0, 4.0] and s2.recency.tolist() == [8.0, 0.0]

    def test_weeks_run_monday_to_sunday(self) -> None:
        """Weekly periods are pandas 'W' (W-SUN): Sunday and the next Monday differ by one week."""
        log = _log(["a", "a", "a"], ["2024-01-07", "2024-01-08", "2024-01-14"], [1.0, 1.0, 1.0])
        s = rfm_summary(log, freq="W")
        assert s.frequency.tolist() == [1.0] and s.recency.tolist() == [1.0]

    def test_to_pandas(self) -> None:
        """to_pandas has lifetimes' columns indexed by customer_id."""
        s = rfm_summary(_log(["a", "a"], ["2024-01-01", "2024-01-03"], [1.0, 2.0]))
        df = s.to_pandas()
        assert list(df.columns) == ["frequency", "recency", "T", "monetary_value"]
        assert df.index.name == "customer_id" and df.loc["a", "monetary_value"] == 2.0
        assert isinstance(s, RFMSummary) and len(s) == 1 and s.to_dict()["recency"] == [2.0]

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"freq": "Q"}, SchemaError),
            ({"kind": "refund"}, DataError),
            ({"as_of": "2023-01-01T00:00Z"}, DataError),
        ],
    )
    def test_bad_input(self, kwargs: dict[str, Any], error: type) -> None:
        """Unknown period unit, no purchases of the kind, or as_of before all data raise."""
        log = _log(["a", "a"], ["2024-01-01", "2024-01-03"], [1.0, 2.0])
        with pytest.raises(error):
            rfm_summary(log, **kwargs)


class TestAgainstLifetimes:
    @pytest.mark.parametrize(
        ("freq", "as_of"), [("D", None), ("W", "1998-01-01"), ("D", "1997-09-30")]
    )
    def test_cdnow_master(
        self, master: tuple[InteractionLog, Any], freq: str, as_of: str | None
    ) -> None:
        """Equal to lifetimes' summary_data_from_transaction_data: counts/times exact, money 1e-9."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            utils = pytest.importorskip("lifetimes.utils")
            pd = pytest.importorskip("pandas")
            log, (ids, dates, values) = master
            df = pd.DataFrame({"id": ids, "date": dates.astype("datetime64[ns]"), "value": values})
            want = utils.summary_data_from_transaction_data(
                df, "id", "date", "value", freq=freq, observation_period_end=as_of
            ).sort_index()
        got = rfm_summary(log, freq=freq, as_of=as_of, timezone="UTC")  # naive, as lifetimes
        assert got.customer_id.tolist() == want.index.tolist()
        np.testing.assert_array_equal(got.frequency, want["frequency"].to_numpy())
        np.testing.assert_array_equal(got.recency, want["recency"].to_numpy())
        np.testing.assert_array_equal(got.T, want["T"].to_numpy())
        np.testing.assert_allclose(
            got.monetary_value, want["monetary_value"].to_numpy(), rtol=1e-9, atol=1e-9
        )

    def test_calibration_holdout(self, master: tuple[InteractionLog, Any]) -> None:
        """Equal to lifetimes' calibration_and_holdout_data (daily periods)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            utils = pytest.importorskip("lifetimes.utils")
            pd = pytest.importorskip("pandas")
            log, (ids, dates, values) = master
            df = pd.DataFrame({"id": ids, "date": dates.astype("datetime64[ns]"), "value": values})
            want = utils.calibration_and_holdout_data(
                df,
                "id",
                "date",
                calibration_period_end="1997-09-30",
                observation_period_end="1998-06-30",
                freq="D",
                monetary_value_col="value",
            ).sort_index()
        cal, holdout, duration = calibration_holdout_split(
            log, "1997-09-30", "1998-06-30", timezone="UTC"
        )
        assert cal.customer_id.tolist() == want.index.tolist()
        np.testing.assert_array_equal(cal.frequency, want["frequency_cal"].to_numpy())
        np.testing.assert_array_equal(cal.T, want["T_cal"].to_numpy())
        np.testing.assert_array_equal(holdout, want["frequency_holdout"].to_numpy())
        assert duration == want["duration_holdout"].iloc[0]

    def test_split_ends_name_whole_periods(self) -> None:
        """A weekly split at a Tuesday keeps that whole week (Monday 1 to Sunday 7 January) in
        the calibration, and the hold-out is whole weeks: no customer has more hold-out
        purchase weeks than the hold-out has weeks. lifetimes 0.11.3
        (calibration_and_holdout_data, freq="W", the same five purchases) cuts at the
        instant and returns frequency_holdout [2, 1] with duration_holdout 1: Wednesday 3
        and Friday 5 January count as a hold-out week the hold-out duration leaves out."""
        log = _log(
            ["a", "a", "a", "b", "b"],
            ["2024-01-01", "2024-01-03", "2024-01-11", "2024-01-02", "2024-01-05"],
            [1.0] * 5,
        ).with_observed_until("2024-01-15T00:00Z")
        cal, holdout, weeks = calibration_holdout_split(
            log, "2024-01-02T00:00Z", "2024-01-14T00:00Z", freq="W"
        )
        assert (cal.frequency.tolist(), cal.T.tolist()) == ([0.0, 0.0], [0.0, 0.0])
        assert (holdout.tolist(), weeks) == ([1.0, 0.0], 1.0)

    def test_split_rejects_reversed_dates(self, master: tuple[InteractionLog, Any]) -> None:
        """observation_end must follow calibration_end."""
        with pytest.raises(DataError, match="observation_end"):
            calibration_holdout_split(master[0], "1998-01-01Z", "1997-06-01Z")


class TestSilentInputs:
    """Inputs that used to give a quiet, wrong summary."""

    @pytest.mark.parametrize(("freq", "meant"), [("month", "M"), ("weekly", "W"), ("hour", "h")])
    def test_freq_in_words_names_the_code(self, freq: str, meant: str) -> None:
        """freq='month' is refused with the code it means, 'M'."""
        log = InteractionLog.from_arrays(["a"], ["2024-01-01T00:00Z"], ["purchase"])
        with pytest.raises(SchemaError, match=f"got '{freq}'; did you mean '{meant}'"):
            rfm_summary(log, freq=freq)

    def test_value_column_typo_is_an_error(self) -> None:
        """A value= column the log lacks is a typo (did-you-mean), not zero monetary values."""
        log = InteractionLog.from_arrays(
            ["a", "a"], ["2024-01-01T00:00Z", "2024-01-03T00:00Z"], ["purchase"] * 2,
            amount=[5.0, 7.0],
        )  # fmt: skip
        with pytest.raises(SchemaError, match="'amout' is not in the log.*did you mean 'amount'"):
            rfm_summary(log, value="amout")
        with pytest.raises(SchemaError, match="did you mean 'amount'"):
            calibration_holdout_split(log, "2024-01-01Z", "2024-01-03Z", value="amout")

    def test_default_value_column_absent_gives_zeros(self) -> None:
        """Without the default 'value' column the summary is counts with zero monetary value."""
        log = InteractionLog.from_arrays(
            ["a", "a"], ["2024-01-01T00:00Z", "2024-01-03T00:00Z"], ["purchase"] * 2
        )
        assert rfm_summary(log).monetary_value.tolist() == [0.0]

    def test_missing_values_are_counted(self) -> None:
        """Purchases without a value count as 0 and a DataWarning says how many."""
        log = _log(
            ["a", "a", "a", "b"],
            ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-02"],
            [1.0, float("nan"), 4.0, float("nan")],
        )
        with pytest.warns(DataWarning, match="2 of 4 'purchase' rows have no 'value'"):
            s = rfm_summary(log)
        assert s.monetary_value.tolist() == [2.0, 0.0]

    def test_holdout_after_the_data_warns(self) -> None:
        """An observation_end after the log's last interaction inflates holdout_duration: it
        is answered with a DataWarning naming the unobserved span."""
        log = _log(["a", "a", "b"], ["2024-01-01", "2024-01-20", "2024-01-02"], [1.0, 2.0, 3.0])
        with pytest.warns(DataWarning, match=r"10\.0 days after the log's last interaction"):
            _, counts, duration = calibration_holdout_split(log, "2024-01-10Z", "2024-01-30Z")
        assert (counts.tolist(), duration) == ([1.0, 0.0], 20.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            calibration_holdout_split(log, "2024-01-10Z", "2024-01-20Z")  # ends with the data

    @pytest.mark.parametrize("freq", ["D", "W", "M", "h"])
    def test_holdout_after_the_observation_is_refused(self, freq: str) -> None:
        """A hold-out that starts after the last interaction observed nothing: DataError."""
        log = _log(["a", "a"], ["2024-01-01", "2024-03-05"], [1.0, 2.0])
        with pytest.raises(DataError, match="observation has ended"):
            calibration_holdout_split(log, "2024-03-31Z", "2024-09-30Z", freq=freq)


def _reference(
    ids: list[str], days: list[int], values: list[float], end: int
) -> dict[str, tuple[float, ...]]:
    """Plain-Python lifetimes semantics, daily periods."""
    per: dict[str, dict[int, float]] = {}
    for c, d, v in zip(ids, days, values):
        if d <= end:
            per.setdefault(c, {}).setdefault(d, 0.0)
            per[c][d] += v
    out = {}
    for c, periods in per.items():
        ks = sorted(periods)
        rep = [periods[k] for k in ks[1:]]
        out[c] = (
            float(len(ks) - 1),
            float(ks[-1] - ks[0]),
            float(end - ks[0]),
            float(np.mean(rep)) if rep else 0.0,
        )
    return out


class TestProperties:
    @settings(max_examples=60, deadline=None)
    @given(
        rows=st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c", "d"]),
                st.integers(0, 30),
                st.integers(0, 23),
                st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 2)),
            ),
            min_size=1,
            max_size=40,
        ),
        end=st.integers(0, 40),
    )
    def test_matches_reference(self, rows: list[tuple[str, int, int, float]], end: int) -> None:
        """Random logs: equal to a plain-Python implementation of the semantics; 0 <= recency <= T."""
        ids = [r[0] for r in rows]
        base = np.datetime64("2024-03-01T00", "h")
        times = [str(base + np.timedelta64(24 * d + h, "h")) for _, d, h, _ in rows]
        values = [r[3] for r in rows]
        want = _reference(ids, [r[1] for r in rows], values, end)
        log = _log(ids, times, values)
        as_of = str(np.datetime64("2024-03-01", "D") + np.timedelta64(end, "D")) + "T00:00Z"
        if not want:
            with pytest.raises(DataError):
                rfm_summary(log, as_of=as_of)
            return
        with warnings.catch_warnings():  # an as_of after the random data warns; tested above
            warnings.filterwarnings("ignore", r"rfm_summary\(\): as_of", DataWarning)
            got = rfm_summary(log, as_of=as_of)
        assert got.customer_id.tolist() == sorted(want)
        for i, c in enumerate(got.customer_id):
            f, r, t, m = want[c]
            assert (got.frequency[i], got.recency[i], got.T[i]) == (f, r, t)
            assert got.monetary_value[i] == pytest.approx(m, abs=1e-9)
        assert np.all((got.recency >= 0) & (got.recency <= got.T) & (got.frequency <= got.recency))


class TestTimezone:
    # Europe/Paris moves to summer time at 01:00 UTC on 31 March 2024 (a day of 23 hours);
    # the times are UTC
    TIMES: ClassVar[list[str]] = ["2024-03-30T23:30", "2024-03-31T21:30", "2024-03-31T22:15"]

    def test_days_are_the_zones_across_a_dst_change(self) -> None:
        """In Paris the first two purchases are on 31 March (00:30 CET, 23:30 CEST) and the
        third on 1 April (00:15 CEST): periods (3, 4); in UTC on 30 and 31 March: (1, 6). A
        fixed +01:00 offset would put all three on 31 March."""
        log = _log(["a"] * 3, self.TIMES, [1.0, 2.0, 4.0])
        paris = rfm_summary(log, timezone="Europe/Paris")
        utc = rfm_summary(log)
        assert (paris.frequency.tolist(), paris.monetary_value.tolist()) == ([1.0], [4.0])
        assert (utc.frequency.tolist(), utc.monetary_value.tolist()) == ([1.0], [6.0])
        fixed = rfm_summary(log, timezone="+01:00")
        assert fixed.frequency.tolist() == [0.0]

    def test_as_of_is_cut_in_the_zone(self) -> None:
        """as_of 23:00 UTC on 31 March is 1 April in Paris: the as_of month is April there (T
        one month after the first purchase's March), March in UTC (T 0)."""
        log = _log(["a"] * 3, self.TIMES, [1.0, 2.0, 4.0])
        as_of = "2024-03-31T23:00Z"
        assert rfm_summary(log, as_of=as_of, freq="M", timezone="Europe/Paris").T.tolist() == [1.0]
        assert rfm_summary(log, as_of=as_of, freq="M").T.tolist() == [0.0]

    def test_calibration_holdout_is_cut_in_the_zone(self) -> None:
        """The purchase at 23:30 UTC on 31 January is in February in Paris: in the hold-out
        (February) there; in UTC it is in January with the first one, one calibration period,
        and the hold-out holds nothing. The hold-out starts at midnight of
        1 February in Paris, 23:00 UTC, which the log observed."""
        log = _log(["a", "a"], ["2024-01-10T12:00", "2024-01-31T23:30"], [1.0, 2.0])
        log = log.with_observed_until("2024-02-29T12:00Z")
        ends = ("2024-01-31T12:00Z", "2024-02-29T12:00Z")
        cal, holdout, months = calibration_holdout_split(
            log, *ends, freq="M", timezone="Europe/Paris"
        )
        assert (cal.frequency.tolist(), holdout.tolist(), months) == ([0.0], [1.0], 1.0)
        cal, holdout, months = calibration_holdout_split(log, *ends, freq="M")
        assert (cal.frequency.tolist(), holdout.tolist(), months) == ([0.0], [0.0], 1.0)
        early = log.between(end="2024-01-31T23:00Z")  # observed until Paris' 1 February
        with pytest.raises(DataError, match="the period starts at 2024-01-31T23:00:00Z"):
            calibration_holdout_split(early, *ends, freq="M", timezone="Europe/Paris")

    @pytest.mark.parametrize("freq", ["D", "h"])
    def test_unknown_zone_is_named_with_did_you_mean(self, freq: str) -> None:
        """An unknown zone is a SchemaError with a did-you-mean, whatever the unit."""
        log = _log(["a"], self.TIMES[:1], [1.0])
        with pytest.raises(SchemaError, match="did you mean 'Europe/Paris'"):
            rfm_summary(log, freq=freq, timezone="Europe/Pariss")


def test_an_order_total_past_the_float_range_is_refused() -> None:
    """Two lines of one order, each 1e308, on different days: the order's value is past the
    float range, a DataError naming the function, column and customer (it was inf)."""
    log = InteractionLog.from_arrays(
        ["a", "a"], [0, 3 * 86_400], ["purchase"] * 2, order_id=["o1", "o1"], value=[1e308, 1e308]
    )
    with pytest.raises(
        DataError, match=r"rfm_summary\(\): the sum of column 'value' for customer 'a'"
    ):
        rfm_summary(log)
