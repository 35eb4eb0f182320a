"""Clusters, preferences and next best actions attacked: features constant up to rounding,
clusterers that answer labels which are not integers, preferences and rankings checked by
hand on a log of two customers."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from cxmodel.datasets import synthetic
from cxmodel.errors import CXModelError
from cxmodel.log import CustomerTable, InteractionLog
from cxmodel.personalize import Action, next_best_action, preferences
from cxmodel.segment import cluster, standardise

AS_OF = "2024-02-01T00:00Z"


def _answer_or_refusal(call: Callable[[], object]) -> object:
    """The value of ``call()``, or the string "refused" for a CXModelError."""
    try:
        return call()
    except CXModelError:
        return "refused"


@pytest.fixture(scope="module")
def table() -> CustomerTable:
    """The customer table of 80 synthetic customers at the start of 2025."""
    return CustomerTable.from_log(synthetic(80, seed=0).log, as_of="2025-01-01T00:00Z")


class _Labels:
    """A clusterer answering fixed labels: negative first feature -> ``low``, else ``high``."""

    def __init__(self, low: Any, high: Any) -> None:
        self.low, self.high = low, high

    def fit_predict(self, x: np.ndarray) -> np.ndarray:
        return np.where(x[:, 0] > 0, self.high, self.low)


class TestStandardise:
    def test_by_hand(self) -> None:
        """(1, 3, NaN): centre 2, population sd 1; NaN at the mean; a constant column is 0."""
        z, centre, scale = standardise(np.array([[1.0, 5.0], [3.0, 5.0], [np.nan, 5.0]]))
        assert z.tolist() == [[-1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]
        assert centre.tolist() == [2.0, 5.0] and scale.tolist() == [1.0, 1.0]

    def test_rounding_noise_is_not_spread(self) -> None:
        """0.1 + 0.2 differs from 0.3 by one ulp; the spread is rounding, not data: the
        column is constant (z-scores 0, scale 1), as in scikit-learn's StandardScaler."""
        z, _, scale = standardise(np.array([[0.3], [0.1 + 0.2], [0.3]]))
        assert z.tolist() == [[0.0], [0.0], [0.0]] and scale.tolist() == [1.0]


class TestClusterLabels:
    def test_sizes_and_means_match_the_labels(self, table: CustomerTable) -> None:
        """size counts each label; mean is the plain per-cluster mean of the raw feature."""
        found = cluster(table, ["monetary", "frequency"], estimator=_Labels(0, 1))
        monetary = table.column("monetary").astype(np.float64)
        for k in (0, 1):
            members = found.labels == k
            assert found.size[k] == members.sum()
            assert found.mean[k, 0] == pytest.approx(np.nanmean(monetary[members]))

    def test_fractional_labels(self, table: CustomerTable) -> None:
        """A clusterer answering 0.7 and 1.2 is not answering cluster numbers: refuse."""
        answer = _answer_or_refusal(
            lambda: cluster(table, ["monetary", "frequency"], estimator=_Labels(1.2, 0.7))
        )
        assert answer == "refused"

    def test_nan_labels(self, table: CustomerTable) -> None:
        """NaN labels are no clusters; today numpy's cast warning leaks and the customers
        become noise silently."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            answer = _answer_or_refusal(
                lambda: cluster(
                    table, ["monetary", "frequency"], estimator=_Labels(1.0, float("nan"))
                )
            )
        assert answer == "refused"

    def test_text_labels(self, table: CustomerTable) -> None:
        """Text labels: a SchemaError naming the estimator's answer."""
        with pytest.raises(CXModelError):
            cluster(table, ["monetary", "frequency"], estimator=_Labels("a", "b"))


def _two_customers() -> InteractionLog:
    """a: four order lines (two at one instant), one email sent and opened twice;
    b: one push sent and opened, two emails sent, no purchase."""
    rows: list[tuple[str, str, str, float | None, str | None]] = [
        ("a", "2024-01-01T10:00Z", "purchase", 10.0, "books"),
        ("a", "2024-01-01T10:00Z", "purchase", 5.0, "toys"),
        ("a", "2024-01-11T10:00Z", "purchase", 5.0, "toys"),
        ("a", "2024-01-31T10:00Z", "purchase", 5.0, "books"),
        ("a", "2024-01-02T08:00Z", "email_sent", None, None),
        ("a", "2024-01-02T09:00Z", "email_opened", None, None),
        ("a", "2024-01-02T09:30Z", "email_opened", None, None),
        ("b", "2024-01-05T10:00Z", "push_sent", None, None),
        ("b", "2024-01-05T11:00Z", "push_opened", None, None),
        ("b", "2024-01-06T10:00Z", "email_sent", None, None),
        ("b", "2024-01-06T10:00Z", "email_sent", None, None),
    ]
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] for r in rows],
        kind=[r[2] for r in rows],
        value=[r[3] for r in rows],
        category=[r[4] for r in rows],
    )


class TestPreferencesByHand:
    def test_two_customers(self) -> None:
        """Email: 3 sent, 1 response once a's two opens are capped at its one send, so
        p = 1/3 and a's rate (1 + 2/3) / 3, b's (0 + 2/3) / 4; push: b (1 + 2) / 3. a's
        orders at Jan 1 (two lines), 11, 31: gaps 10 and 20 days, median 15; books and
        toys tie, books first; a engages at 09:00 on a Tuesday."""
        prefs = preferences(_two_customers(), as_of=AS_OF).to_pandas()
        a, b = prefs.iloc[0], prefs.iloc[1]
        assert a["response_rate_email"] == pytest.approx(5 / 9)
        assert b["response_rate_email"] == pytest.approx(1 / 6)
        assert b["response_rate_push"] == pytest.approx(1.0)
        assert (a["preferred_channel"], b["preferred_channel"]) == ("email", "push")
        assert a["favourite_category"] == "books"
        assert a["purchase_interval_days"] == pytest.approx(15.0)
        assert (a["best_hour"], a["best_weekday"]) == (9, 1)

    def test_renamed_customers_keep_their_preferences(self) -> None:
        """Preferences are per customer: renaming the ids changes nothing else."""
        log = _two_customers()
        frame = log.to_pandas()
        frame["customer_id"] = frame["customer_id"].map({"a": "zz-a", "b": "00-b"})
        renamed = preferences(InteractionLog.from_pandas(frame), as_of=AS_OF).to_pandas()
        original = preferences(log, as_of=AS_OF).to_pandas()
        renamed = renamed.set_index("customer_id").loc[["zz-a", "00-b"]].reset_index(drop=True)
        original = original.drop(columns="customer_id")
        assert renamed.equals(original)


class TestNextBestActionTies:
    def test_ties_go_to_the_action_declared_first(self, table: CustomerTable) -> None:
        """Two actions of equal value for everyone: the first declared wins, whichever it is."""
        x = Action("x", "monetary >= 0", "5", needs_consent=False)
        y = Action("y", "monetary >= 0", "5", needs_consent=False)
        assert set(next_best_action(table, [x, y]).action.tolist()) == {"x"}
        assert set(next_best_action(table, [y, x]).action.tolist()) == {"y"}

    def test_holdout_splits_firings(self, table: CustomerTable) -> None:
        """With holdout=50 every customer with an action is either emitted or held out."""
        x = Action("x", "monetary >= 0", "5", needs_consent=False)
        result = next_best_action(table, [x], holdout=50)
        firings = result.to_firings()
        held = sum(f.reason == "holdout" for f in firings.suppressed)
        assert held == int(result.held_out.sum())
        assert len(firings) + held == len(table)
