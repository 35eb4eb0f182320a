"""Preferences and next best actions attacked: number arguments that Python or numpy hold but
a float cannot (an int past 1e308, numpy scalars), and favourites over a large catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError, ValueTypeError
from cxmodel.log import CustomerTable, InteractionLog
from cxmodel.personalize import Action, next_best_action, preferences

AS_OF = "2024-02-01T00:00Z"


def _one_purchase() -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=["a"], timestamp=["2024-01-01T00:00Z"], kind=["purchase"]
    )


@pytest.fixture(scope="module")
def table() -> CustomerTable:
    """Two buyers, neither with marketing consent, seen until June."""
    log = InteractionLog.from_arrays(
        customer_id=["a", "b"],
        timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z"],
        kind=["purchase", "purchase"],
        value=[10.0, 20.0],
    ).with_observed_until("2024-06-01T00:00Z")
    return CustomerTable.from_log(log, as_of="2024-06-01T00:00Z")


CALL = [Action("call", "frequency >= 1", "3", needs_consent=False)]


class TestSmoothing:
    def test_an_int_too_large_for_a_float_is_refused(self) -> None:
        """10**400 is a finite int that no float holds: a SchemaError, not an OverflowError."""
        with pytest.raises(SchemaError, match="smoothing"):
            preferences(_one_purchase(), as_of=AS_OF, smoothing=10**400)

    def test_a_bool_is_not_a_pseudo_count(self) -> None:
        """smoothing=True would silently be a pseudo-count of 1."""
        with pytest.raises(ValueTypeError, match="smoothing"):
            preferences(_one_purchase(), as_of=AS_OF, smoothing=True)

    def test_a_numpy_integer_is_a_number(self) -> None:
        """np.int64(2) (a count read from an array) smooths as 2 does."""
        numpy_two = preferences(_one_purchase(), as_of=AS_OF, smoothing=np.int64(2))
        python_two = preferences(_one_purchase(), as_of=AS_OF, smoothing=2)
        assert numpy_two.to_pandas().equals(python_two.to_pandas())


class TestHoldout:
    @pytest.mark.parametrize(
        "holdout", [np.int64(50), np.float32(50.0), np.float64(50.0)], ids=repr
    )
    def test_numpy_numbers_are_percentages(self, table: CustomerTable, holdout: object) -> None:
        """A numpy 50 was refused as 'not strictly between 0 and 100'; it is the same
        experiment as a Python 50."""
        held = next_best_action(table, CALL, holdout=holdout, salt="s")  # type: ignore[arg-type]
        assert (
            held.held_out.tolist()
            == next_best_action(table, CALL, holdout=50, salt="s").held_out.tolist()
        )

    def test_an_int_too_large_for_a_float_is_refused(self, table: CustomerTable) -> None:
        with pytest.raises(SchemaError, match="strictly between 0 and 100"):
            next_best_action(table, CALL, holdout=10**400)


def _purchases(customers: list[str], products: list[str]) -> InteractionLog:
    """One purchase per row, a day apart, of ``products[i]`` by ``customers[i]``, in a log
    observed until 2200."""
    start = np.datetime64("2024-01-01T00:00", "us")
    days = np.arange(len(customers)).astype("timedelta64[D]").astype("timedelta64[us]")
    return InteractionLog.from_arrays(
        customer_id=customers,
        timestamp=start + days,
        kind=["purchase"] * len(customers),
        product=products,
        timezone="UTC",
    ).with_observed_until("2200-01-01T00:00Z")


class TestFavourites:
    def test_a_large_catalogue_fits_in_memory(self) -> None:
        """60,000 customers each buying one of 60,000 products: the favourites were counted
        in a dense customers x products table (29 GB, a raw MemoryError); each customer's
        favourite is the one product they bought."""
        n = 60_000
        customers = [f"c{i:05d}" for i in range(n)]
        products = [f"p{(7 * i) % n:05d}" for i in range(n)]
        prefs = preferences(_purchases(customers, products), as_of="2200-01-01T00:00Z")
        bought = dict(zip(customers, products, strict=True))
        assert prefs.favourite_product.tolist() == [bought[c] for c in prefs.customer_id]

    def test_matches_a_count_by_hand(self) -> None:
        """The most bought product per customer, ties to the alphabetically first, against a
        plain count over random baskets."""
        rng = np.random.default_rng(3)
        customers = [f"c{i}" for i in rng.integers(0, 40, 400)]
        products = [f"p{i}" for i in rng.integers(0, 9, 400)]
        prefs = preferences(_purchases(customers, products), as_of="2200-01-01T00:00Z")
        counts: dict[str, dict[str, int]] = {}
        for c, p in zip(customers, products, strict=True):
            counts.setdefault(c, {})
            counts[c][p] = counts[c].get(p, 0) + 1
        expected = [min(counts[c], key=lambda p: (-counts[c][p], p)) for c in prefs.customer_id]
        assert prefs.favourite_product.tolist() == expected
