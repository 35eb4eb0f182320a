"""Aggregates reduced over (query, row) pairs: known answers and a per-query reference."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.expr import Aggregate, parse_expr
from cxmodel.log import InteractionLog
from cxmodel.triggers import _context
from cxmodel.triggers._context import LogContext

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
DAY = timedelta(days=1)
HOUR_US = 3_600_000_000


def _purchase(i: str, who: str, day: int, product: str | None, value: float | None) -> Any:
    rec: dict[str, Any] = {
        "interaction_id": i,
        "customer_id": who,
        "timestamp": T0 + day * DAY,
        "kind": "purchase",
    }
    if product is not None:
        rec["product"] = product
    if value is not None:
        rec["value"] = value
    return rec


# customer a: six rows over six days (one view, a missing value, a missing product); b: one row
KNOWN = [
    _purchase("a0", "a", 1, "p2", 10.0),
    {"interaction_id": "a1", "customer_id": "a", "timestamp": T0 + 2 * DAY, "kind": "view"},
    _purchase("a2", "a", 3, "p1", None),
    _purchase("a3", "a", 4, None, 5.0),
    _purchase("a4", "a", 5, "p2", 7.0),
    _purchase("a5", "a", 6, "p3", 1.0),
    _purchase("b0", "b", 1, "p9", 100.0),
]


@pytest.fixture(scope="module")
def known() -> tuple[LogContext, dict[str, int]]:
    ctx = LogContext(InteractionLog.from_records(KNOWN))
    ids = ctx.column("interaction_id").tolist()
    return ctx, {name: ids.index(name) for name in ids}


def _at(ctx: LogContext, text: str, anchors: list[int]) -> list[Any]:
    """``text`` evaluated for interactions bound as ``v`` at ``anchors``."""
    rows = np.asarray(anchors, dtype=np.int64)
    got = ctx.evaluate(parse_expr(text), rows, alias="v", alias_rows=rows)
    return [None if isinstance(x, float) and math.isnan(x) else x for x in got.tolist()]


@pytest.mark.parametrize(
    ("text", "anchors", "expected"),
    [
        ("count(purchase before v)", ["a5", "a0", "b0"], [4.0, 0.0, 0.0]),
        ("count(purchase where product == v.product before v)", ["a4", "a5"], [1.0, 0.0]),
        ("count(purchase where value > v.value before v)", ["a5", "a4"], [3.0, 1.0]),
        ("distinct(purchase.product before v)", ["a5", "a2", "b0"], [2.0, 1.0, 0.0]),
        ("distinct(purchase.value before v)", ["a5", "b0"], [3.0, 0.0]),
        ("distinct(purchase.product where value < v.value before v)", ["a4", "a5"], [0.0, 0.0]),
        ("distinct(purchase.product within 2 days)", ["a5", "a3"], [2.0, 1.0]),
        ("first(purchase.product before v)", ["a5", "a0", "b0"], ["p2", None, None]),
        ("last(purchase.product before v)", ["a5", "a4", "a3"], ["p2", "p1", "p1"]),
        ("min(purchase.product before v)", ["a5", "a2"], ["p1", "p2"]),
        ("max(purchase.product before v)", ["a5", "a2", "b0"], ["p2", "p2", None]),
        ("min(purchase.product within 2 days)", ["a5", "a4"], ["p2", "p1"]),
        ("max(purchase.product within 2 days)", ["a5", "a3"], ["p3", "p1"]),
        ("first(purchase.product where value > v.value before v)", ["a5", "a4"], ["p2", "p2"]),
        ("last(purchase.product where value > v.value before v)", ["a5", "a0"], ["p2", None]),
        ("min(purchase.product where value >= v.value before v)", ["a5", "a3"], ["p2", "p2"]),
        ("max(purchase.product where product != v.product before v)", ["a5", "a4"], ["p2", "p1"]),
        ("last(purchase.value before v)", ["a4", "a3"], [5.0, 10.0]),
        ("first(purchase.value where product == v.product before v)", ["a4", "a5"], [10.0, None]),
        ("min(purchase.value where value > v.value before v)", ["a5", "a4"], [5.0, 10.0]),
        ("max(purchase.value where value < v.value before v)", ["a4", "a0"], [5.0, None]),
        ("sum(purchase.value where product == v.product before v)", ["a4", "a5"], [10.0, 0.0]),
        ("avg(purchase.value where value > v.value before v)", ["a5", "a4"], [22 / 3, 10.0]),
        ("avg(purchase.value where product == v.product before v)", ["a5", "b0"], [None, None]),
        ("sum(purchase.value where value > v.value)", ["a5", "b0"], [22.0, 0.0]),
    ],
)
def test_known_answers(
    known: tuple[LogContext, dict[str, int]], text: str, anchors: list[str], expected: list[Any]
) -> None:
    ctx, row = known
    assert _at(ctx, text, [row[a] for a in anchors]) == expected


def test_result_types(known: tuple[LogContext, dict[str, int]]) -> None:
    ctx, row = known
    anchors = np.asarray([row["a5"], row["b0"]], dtype=np.int64)
    for func in ("first", "last", "min", "max"):
        for field, dtype in (("product", np.dtype(object)), ("value", np.dtype(float))):
            text = f"{func}(purchase.{field} where product != v.product before v)"
            got = ctx.evaluate(parse_expr(text), anchors, alias="v", alias_rows=anchors)
            assert got.dtype == dtype, text
            assert got[1] is None if field == "product" else np.isnan(got[1]), text
    for text in (
        "distinct(purchase.product before v)",
        "count(purchase where product == v.product before v)",
        "sum(purchase.value where product == v.product before v)",
    ):
        got = ctx.evaluate(parse_expr(text), anchors, alias="v", alias_rows=anchors)
        assert got.dtype == np.float64 and got[1] == 0.0, text


def test_no_queries(known: tuple[LogContext, dict[str, int]]) -> None:
    ctx, _ = known
    none = np.zeros(0, dtype=np.int64)
    for text in ("distinct(purchase.product)", "max(purchase.product where product == v.product)"):
        got = ctx.evaluate(parse_expr(text), none, alias="v", alias_rows=none)
        assert got.shape == (0,)


def test_unorderable_values_name_the_aggregate() -> None:
    node = parse_expr("distinct(purchase.product)")
    assert isinstance(node, Aggregate)
    with pytest.raises(
        TypeError, match=r"distinct\(purchase.product\).*'product'.*\['int', 'str'\]"
    ):
        _context._ranked(np.array(["p1", 3], dtype=object), node)


# ---------------------------------------------------------------------------- the reference

PRODUCTS = [None, "p1", "p2", "p3", "p10"]
VALUES = [None, 0.1, 0.2, 3.0, 1.5, 1e16, 7.25]
WHERES = {  # where clause -> (row, anchor) predicate over the decoded columns
    "": None,
    " where product == v.product": lambda c, r, a: _eq(c["product"][r], c["product"][a]),
    " where value > v.value": lambda c, r, a: _gt(c["value"][r], c["value"][a]),
    " where product != v.product and value < 5": lambda c, r, a: (
        _ne(c["product"][r], c["product"][a]) and _gt(5.0, c["value"][r])
    ),
    " where value >= 0.2": lambda c, r, a: _gt(c["value"][r], 0.2) or c["value"][r] == 0.2,
}
WINDOWS = ["", " before v", " within 3 days", " within 30 hours"]
SHAPES = [("count", None)] + [
    (func, field)
    for func in ("distinct", "first", "last", "min", "max")
    for field in ("product", "value")
] + [("sum", "value"), ("avg", "value")]  # fmt: skip


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _eq(x: Any, y: Any) -> bool:
    return not _missing(x) and not _missing(y) and x == y


def _ne(x: Any, y: Any) -> bool:
    return not _missing(x) and not _missing(y) and x != y


def _gt(x: Any, y: Any) -> bool:
    return not _missing(x) and not _missing(y) and x > y


def reference(
    ctx: LogContext,
    func: str,
    field: str | None,
    where: str,
    window: str,
    query: tuple[int, int, int],
) -> Any:
    """One query by hand: the customer's purchase rows up to ``end`` in the window, filtered
    by ``where`` with ``anchor`` bound, reduced."""
    anchor, end, now = query
    cols = {"product": ctx.column("product").tolist(), "value": ctx.column("value").tolist()}
    kinds = ctx.column("kind").tolist()
    ts = ctx.ts.tolist()
    cust = int(ctx.codes[anchor])
    rows = []
    for r in range(int(ctx.offsets[cust]), end + 1):
        if kinds[r] != "purchase":
            continue
        if window == " before v" and r >= anchor:
            continue
        if window == " within 3 days" and ts[r] < now - 72 * HOUR_US:
            continue
        if window == " within 30 hours" and ts[r] < now - 30 * HOUR_US:
            continue
        test = WHERES[where]
        if test is not None and not test(cols, r, anchor):
            continue
        rows.append(r)
    if func == "count":
        return float(len(rows))
    assert field is not None
    got = [cols[field][r] for r in rows if not _missing(cols[field][r])]
    if func in ("distinct", "sum") and not got:
        return 0.0
    if not got:
        return None
    if func == "distinct":
        return float(len(set(got)))
    if func == "first":
        return got[0]
    if func == "last":
        return got[-1]
    if func == "min":
        return min(got)
    if func == "max":
        return max(got)
    total = math.fsum(float(g) for g in got)  # every sum is exact (correctly rounded)
    return total if func == "sum" else total / len(got)


@st.composite
def logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 30))
    out = []
    for i in range(n):
        rec: dict[str, Any] = {
            "interaction_id": f"i{i}",
            "customer_id": draw(st.sampled_from(["a", "b", "c"])),
            "timestamp": T0 + timedelta(hours=12 * draw(st.integers(0, 12))),
            "kind": draw(st.sampled_from(["purchase", "purchase", "view"])),
        }
        product, value = draw(st.sampled_from(PRODUCTS)), draw(st.sampled_from(VALUES))
        if product is not None:
            rec["product"] = product
        if value is not None:
            rec["value"] = value
        out.append(rec)
    out.append({**out[0], "interaction_id": "text", "product": "p1"})  # both columns exist
    out.append({**out[0], "interaction_id": "number", "value": 1.0})
    return out


@settings(max_examples=150, deadline=None)
@given(
    records=logs(),
    shape=st.sampled_from(SHAPES),
    where=st.sampled_from(sorted(WHERES)),
    window=st.sampled_from(WINDOWS),
    picks=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 3), st.integers(0, 40))),
    chunk=st.sampled_from([1, 2, 5, 1 << 21]),
)
def test_matches_per_query_reference(
    records: list[dict[str, Any]],
    shape: tuple[str, str | None],
    where: str,
    window: str,
    picks: list[tuple[int, int, int]],
    chunk: int,
) -> None:
    func, field = shape
    ctx = LogContext(InteractionLog.from_records(records))
    queries = []
    for pick, later, hours in picks:  # anchor, the last row seen (same customer), now
        anchor = pick % ctx.n
        last_row = int(ctx.offsets[ctx.codes[anchor] + 1]) - 1
        end = min(anchor + later, last_row)
        queries.append((anchor, end, int(ctx.ts[end]) + hours * HOUR_US))
    rows = np.asarray([q[0] for q in queries], dtype=np.int64)
    text = f"{func}(purchase{'' if field is None else '.' + field}{where}{window})"
    with mock.patch.object(_context, "_PAIR_CHUNK", chunk):
        got = ctx.evaluate(
            parse_expr(text),
            rows,
            alias="v",
            alias_rows=rows,
            end=np.asarray([q[1] for q in queries], dtype=np.int64),
            now=np.asarray([q[2] for q in queries], dtype=np.int64),
        )
    text_valued = field == "product" and func in ("first", "last", "min", "max")
    assert got.dtype == (object if text_valued else np.float64)
    assert got.shape == (len(queries),)
    for q, value in zip(queries, got.tolist(), strict=True):
        expected = reference(ctx, func, field, where, window, q)
        if expected is None:
            assert value is None if text_valued else math.isnan(value), (text, q)
        else:
            assert value == expected and type(value) is type(expected), (text, q, value)


def test_sums_do_not_carry_other_customers_rounding() -> None:
    """A huge value of one customer leaves another's sum and mean exact."""
    log = InteractionLog.from_arrays(
        customer_id=["a", "b", "b", "b"],
        timestamp=[f"2024-01-0{d}T00:00:00Z" for d in (1, 2, 3, 4)],
        kind=["purchase", "purchase", "purchase", "view"],
        value=[1e17, 3.0, 4.25, None],
    )
    ctx = LogContext(log)
    view = np.array([3])
    assert ctx.evaluate(parse_expr("sum(purchase.value)"), view).tolist() == [7.25]
    assert ctx.evaluate(parse_expr("avg(purchase.value)"), view).tolist() == [3.625]
