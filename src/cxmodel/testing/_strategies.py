"""Hypothesis strategies for interactions and interaction logs (needs hypothesis)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from cxmodel._optional import import_optional
from cxmodel.domain import (
    DEFAULT_CATALOGUE,
    METRIC_SCALES,
    MONEY_KINDS,
    STANDARD_KINDS,
    Interaction,
)
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog

__all__ = ["interaction_logs", "interactions"]

_EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)
_SPAN_SECONDS = 5 * 365 * 86400


def _st() -> Any:
    return import_optional("hypothesis.strategies", "cxmodel.testing")


def interactions(
    *,
    customer_ids: Sequence[str] | None = None,
    kinds: Sequence[str] = STANDARD_KINDS,
) -> Any:
    """A strategy for valid :class:`~cxmodel.domain.Interaction` objects.

    Timestamps are whole seconds in 2020-2024 (UTC), touchpoints come from the default
    catalogue, money kinds get non-negative values and ``survey`` rows a metric with a score on
    its scale.

    Parameters
    ----------
    customer_ids
        The customer ids to draw from (default: ``c0`` .. ``c9``).
    kinds
        The kinds to draw from (default: the standard kinds).

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(interactions(kinds=["survey"]))
    ... def test(i):
    ...     assert i.metric in ("nps", "csat", "ces")
    >>> test()
    """
    st = _st()
    if not kinds:
        raise SchemaError("kinds must name at least one interaction kind (got an empty sequence)")
    ids = list(customer_ids) if customer_ids is not None else [f"c{i}" for i in range(10)]
    if not ids:
        raise SchemaError("customer_ids must name at least one customer (got an empty sequence)")

    @st.composite  # type: ignore[untyped-decorator]
    def build(draw: Any) -> Interaction:
        kind = draw(st.sampled_from(list(kinds)))
        seconds = draw(st.integers(0, _SPAN_SECONDS))
        touchpoint = draw(st.none() | st.sampled_from(sorted(DEFAULT_CATALOGUE)))
        value = None
        if kind in MONEY_KINDS:
            cents = draw(st.none() | st.integers(0, 100_000))
            value = None if cents is None else cents / 100
        metric = score = None
        if kind == "survey":
            metric = draw(st.sampled_from(sorted(METRIC_SCALES)))
            low, high = METRIC_SCALES[metric]
            score = float(draw(st.integers(int(low), int(high))))
        return Interaction(
            draw(st.sampled_from(ids)),
            _EPOCH + timedelta(seconds=seconds),
            kind,
            touchpoint=touchpoint,
            value=value,
            metric=metric,
            score=score,
        )

    return build()


def interaction_logs(
    *,
    min_customers: int = 1,
    max_customers: int = 5,
    max_rows_per_customer: int = 8,
    kinds: Sequence[str] = STANDARD_KINDS,
) -> Any:
    """A strategy for small valid :class:`~cxmodel.log.InteractionLog` objects.

    Every customer has at least one row. Rows are drawn with :func:`interactions` and built with
    :meth:`InteractionLog.from_interactions`, so ties in time keep their drawn order.

    Parameters
    ----------
    min_customers, max_customers : int, default 1 and 5
        Bounds on the number of customers.
    max_rows_per_customer : int, default 8
        Most rows of one customer (each has at least one).
    kinds : sequence of str
        The kinds to draw from (default: the standard kinds).

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(interaction_logs(min_customers=2, max_customers=3, kinds=["purchase"]))
    ... def test(log):
    ...     assert 2 <= log.n_customers <= 3
    >>> test()
    """
    st = _st()
    if min_customers < 1 or max_customers < min_customers:
        raise SchemaError(
            "need 1 <= min_customers <= max_customers "
            f"(got min_customers={min_customers!r}, max_customers={max_customers!r})"
        )
    if max_rows_per_customer < 1:
        raise SchemaError(f"max_rows_per_customer must be >= 1 (got {max_rows_per_customer!r})")

    @st.composite  # type: ignore[untyped-decorator]
    def build(draw: Any) -> InteractionLog:
        count = draw(st.integers(min_customers, max_customers))
        rows: list[Interaction] = []
        for i in range(count):
            own = interactions(customer_ids=[f"c{i:03d}"], kinds=kinds)
            rows.extend(draw(st.lists(own, min_size=1, max_size=max_rows_per_customer)))
        order = draw(st.permutations(range(len(rows))))
        return InteractionLog.from_interactions([rows[j] for j in order])

    return build()
