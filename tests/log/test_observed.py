"""Questions about times the log never observed: a period after the data is refused, a period
running past it warns with the unobserved span, an ``as_of`` before the data is refused."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cxmodel import datasets, metrics, models, segment
from cxmodel.errors import DataError, DataWarning
from cxmodel.log import CustomerTable, InteractionLog
from cxmodel.log._observed import check_as_of, check_period, first_time

DAY = 86_400_000_000


@pytest.fixture(scope="module")
def log() -> InteractionLog:
    # 2024-01-06 .. 2024-12-31
    return datasets.synthetic(200, seed=1).log


def _last(log: InteractionLog) -> int:
    until = log.observed_until
    assert until is not None
    return until


def test_a_period_inside_the_data_passes_silently(log: InteractionLog) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_period(log, None, _last(log) + 1, caller="f()", unknown="x")
        check_period(log, _last(log) - DAY, _last(log), caller="f()", unknown="x")
        check_period(log, None, None, caller="f()", unknown="x")


def test_a_period_starting_at_or_after_the_end_is_refused(log: InteractionLog) -> None:
    for start in (_last(log), _last(log) + 30 * DAY):
        with pytest.raises(DataError, match=r"f\(\): the period starts at .* nothing in it"):
            check_period(log, start, None, caller="f()", unknown="x")


def test_a_period_running_past_the_end_warns_with_the_span(log: InteractionLog) -> None:
    with pytest.warns(DataWarning, match=r"f\(\): the period ends at .*, 14\.0 days after .*so x"):
        check_period(log, None, _last(log) + 14 * DAY + 1, caller="f()", unknown="x")
    with pytest.warns(DataWarning, match=r"3\.0 hours after"):
        check_period(log, None, _last(log) + 3 * 3_600_000_000 + 1, caller="f()", unknown="x")


def test_an_empty_log_observed_nothing_and_is_answered_as_documented() -> None:
    empty = InteractionLog.from_arrays([], [], [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_period(empty, 0, 10, caller="f()", unknown="x")
        check_as_of(first_time(empty), 0, caller="f()")
    assert first_time(empty) is None


def test_as_of_before_the_first_interaction_is_refused(log: InteractionLog) -> None:
    first = int(np.min(log.timestamps))
    assert first_time(log) == first
    check_as_of(first, first, caller="f()")
    with pytest.raises(DataError, match=r"f\(\): as_of 2022-12-02.* before the log's first"):
        check_as_of(first, first - 400 * DAY, caller="f()")


# -- the analyses that ask about periods and as_of times ----------------------------------------
def test_churn_after_the_data_is_refused_not_a_quiet_hundred_percent(log: InteractionLog) -> None:
    for rate in (metrics.churn_rate, metrics.retention_rate):
        with pytest.raises(DataError, match="the period starts at 2025-01-01"):
            rate(log, "2025-01-01T00:00Z", "2025-02-01T00:00Z")


def test_churn_over_a_period_running_past_the_data_warns(log: InteractionLog) -> None:
    with pytest.warns(DataWarning, match=r"churn_rate\(\).*count as churned"):
        inflated = metrics.churn_rate(log, "2024-12-15T00:00Z", "2025-01-15T00:00Z")
    with pytest.warns(DataWarning, match=r"churn_rate\(\).*cancellations then are not counted"):
        metrics.churn_rate(log, "2024-12-15T00:00Z", "2025-01-15T00:00Z", definition="cancel")
    with pytest.warns(DataWarning, match=r"retention_rate\(\)"):
        metrics.retention_rate(log, "2024-12-15T00:00Z", "2025-01-15T00:00Z")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inside = metrics.churn_rate(log, "2024-11-15T00:00Z", "2024-12-15T00:00Z")
    # what the warning is about: the unobserved half-month reads as churn
    assert inflated.value > 2 * inside.value


def test_repeat_purchase_rate_checks_its_period(log: InteractionLog) -> None:
    with pytest.raises(DataError, match=r"repeat_purchase_rate\(\): the period starts"):
        metrics.repeat_purchase_rate(log, "2025-03-01T00:00Z")
    with pytest.warns(DataWarning, match="second purchases then are not counted"):
        metrics.repeat_purchase_rate(log, "2024-06-01T00:00Z", "2025-06-01T00:00Z")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics.repeat_purchase_rate(log)
        metrics.repeat_purchase_rate(log, "2024-06-01T00:00Z", "2024-07-01T00:00Z")


@pytest.mark.parametrize(
    "call",
    [
        lambda log, t: segment.rfm_scores(log, as_of=t),
        lambda log, t: log.customers_table(t),
        lambda log, t: CustomerTable.from_log(log, as_of=t),
        lambda log, t: metrics.customer_lifetimes(log, t),
        lambda log, t: models.churn_features(log, as_of=t, p_alive=False),
        lambda log, t: models.churn_risk(log, as_of=t),
        lambda log, t: metrics.cohort_retention(log, as_of=t),
    ],
    ids=[
        "rfm_scores",
        "customers_table",
        "CustomerTable",
        "lifetimes",
        "features",
        "risk",
        "cohorts",
    ],
)
def test_as_of_before_the_data_is_refused_not_an_empty_table(call, log: InteractionLog) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match=r"as_of 2020-01-01T00:00:00Z is before the log's first"):
        call(log, "2020-01-01T00:00Z")


def test_lifetimes_after_the_data_count_the_customers_the_gap_made_churned(
    log: InteractionLog,
) -> None:
    until = _last(log)
    end = "2024-12-31T23:59Z"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        at_end = metrics.customer_lifetimes(log, end)  # minutes after: nobody flips
    later = "2025-03-01T00:00Z"
    with pytest.warns(
        DataWarning,
        match=r"customer_lifetimes\(\): as_of 2025-03-01.* (\d+) customers count as churned",
    ) as caught:
        after = metrics.customer_lifetimes(log, later)
    flipped = int((after.observed & ~at_end.observed).sum())
    assert flipped > 0
    assert f" {flipped:,} customers count as churned" in str(caught[0].message)
    assert until < after.as_of.astype(np.int64)


def test_cohorts_after_the_data_warn_with_the_periods_declared_observed(
    log: InteractionLog,
) -> None:
    at_end = metrics.cohort_retention(log)
    with pytest.warns(DataWarning, match=r"cohort_retention\(\): .* (\d+) cohort periods after"):
        later = metrics.cohort_retention(log, as_of="2025-02-15T00:00Z")
    # January and February 2025 are declared observed for each of the 12 cohorts
    assert later.rates.shape == (12, at_end.rates.shape[1] + 2)
    assert np.all(later.counts[:, at_end.rates.shape[1] :] == 0)


def test_the_warning_on_a_period_past_the_data_advises_what_keeps_the_last_day() -> None:
    """A daily export (CDNOW's shape): the calendar quarter that ends with the data's last day
    runs one day past its last interaction (midnight of that day). The warning's advice is
    what counts that day: end the period just after log.observed_until, or declare the day
    observed; ending the period at observed_until would leave out the customer who came back
    on the last day."""
    days = np.array(["2024-01-10", "2024-02-10", "2024-04-02", "2024-06-30"])
    log = InteractionLog.from_arrays(
        customer_id=["a", "b", "a", "b"],
        timestamp=days.astype("datetime64[D]").astype("datetime64[us]"),
        kind=["purchase"] * 4,
    )
    with pytest.warns(
        DataWarning,
        match=r"end it just after log\.observed_until .*"
        r"log\.with_observed_until\(\.\.\.\)",
    ) as caught:
        quarter = metrics.churn_rate(log, "2024-04-01T00:00Z", "2024-07-01T00:00Z")
    assert len(caught) == 1
    assert (quarter.numerator, quarter.n) == (0, 2)
    until = np.datetime64(_last(log), "us")  # 2024-06-30T00:00, the last interaction
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        just_after = metrics.churn_rate(log, "2024-04-01T00:00Z", until + np.timedelta64(1, "us"))
        declared = metrics.churn_rate(
            log.with_observed_until("2024-07-01T00:00Z"), "2024-04-01T00:00Z", "2024-07-01T00:00Z"
        )
    assert (just_after.numerator, declared.numerator) == (0, 0)
    at_the_end = metrics.churn_rate(log, "2024-04-01T00:00Z", until)
    assert at_the_end.numerator == 1  # b's return on the last day is left out
