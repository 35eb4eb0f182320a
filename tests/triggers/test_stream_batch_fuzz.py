"""What a fuzzer of the stream-batch contract found: the streaming engine (one interaction at
a time, micro-batches on the per-interaction path and on the columnar path) returns exactly
the firings of batch ``evaluate`` over the same interactions, compared whole (payloads by
``repr``, so ``-0.0`` and ``0.0`` differ).

- A ``min`` or ``max`` over values that tie at zero with different signs (``-0.0`` and
  ``0.0``, equal numbers) kept the first in streaming and the later in batch, so a payload
  read ``-0.0`` in one and ``0.0`` in the other. Both now give ``0.0``.
- The objects input form carries every property of a record (the shared ``interaction``
  helper used to drop all but four, and so a stream of objects differed from batch over the
  records by the harness's fault); a seeded sweep over custom, missing and NaN properties in
  every input form checks it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from cxmodel.log import InteractionLog
from cxmodel.triggers import TriggerEngine, parse
from tests.triggers.helpers import T0, evaluate_complete, interaction

AS_OF = T0 + timedelta(days=5)


def rec(hours: float, **fields: Any) -> dict[str, Any]:
    """A purchase of customer ``a`` ``hours`` after T0."""
    return {
        "customer_id": "a",
        "timestamp": T0 + timedelta(hours=hours),
        "kind": "purchase",
        **fields,
    }


def whole(firings: Any) -> list[tuple[str, ...]]:
    """Firings compared whole, values by ``repr`` (``-0.0`` is not ``0.0``), sorted."""
    fields = ("trigger", "customer_id", "time", "payload", "because", "firing_id")
    return sorted(tuple(repr(getattr(f, name)) for name in fields) for f in firings)


def form(part: list[dict[str, Any]], how: str) -> Any:
    """``part`` in one of the input forms ``process_many`` takes."""
    if how == "objects":
        return [interaction(r) for r in part]
    if how == "columns":
        names = sorted({name for r in part for name in r})
        return {name: [r.get(name) for r in part] for name in names}
    if how == "log":
        return InteractionLog.from_records(part)
    return part


def streamed(rules: Any, recs: list[dict[str, Any]], as_of: datetime, path: str) -> list[Any]:
    """The firings of ``recs`` streamed one at a time (``"single"``) or as one micro-batch in
    each input form on the per-interaction (``"rows-FORM"``) or columnar (``"columns-FORM"``)
    path, then ``advance_to(as_of)``."""
    engine = TriggerEngine(rules, max_future=None)
    out: list[Any] = []
    if path == "single":
        for r in recs:
            out.extend(engine.process(r))
    else:
        how, _, shape = path.partition("-")
        engine._columnar_from = 1 if how == "columns" else None
        out.extend(engine.process_many(form(recs, shape)))
    out.extend(engine.advance_to(as_of))
    return out


PATHS = ["single"] + [
    f"{how}-{shape}"
    for how in ("rows", "columns")
    for shape in ("records", "objects", "columns", "log")
]


class TestSignedZero:
    """A ``min`` or ``max`` that ties ``-0.0`` with ``0.0`` is ``0.0`` in every engine."""

    @pytest.mark.parametrize("path", PATHS)
    @pytest.mark.parametrize("scope", ["", " within 1 days", ' where product == "p"'])
    @pytest.mark.parametrize("func", ["min", "max"])
    @pytest.mark.parametrize("values", [(-0.0, 0.0), (0.0, -0.0), (-0.0,)], ids=repr)
    def test_tie_at_zero(self, func: str, scope: str, path: str, values: tuple[float, ...]) -> None:
        """Stream and batch give the same payload, ``0.0``, whatever order the zeros come in."""
        rules = parse(
            f"trigger t:\n    when purchase\n    emit a(m = {func}(purchase.tier{scope}))"
        )
        recs = [rec(i + 1, tier=v, product="p") for i, v in enumerate(values)]
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=AS_OF)
        assert [f.payload["m"] for f in batch] == [0.0] * len(values)
        assert all(repr(f.payload["m"]) == "0.0" for f in batch)
        assert whole(streamed(rules, recs, AS_OF, path)) == whole(batch)

    def test_condition_unchanged(self) -> None:
        """The sign was only ever visible in values: ``-0.0 == 0.0``, so a condition on a
        ``min`` of zeros fires in both engines, as before."""
        rules = parse("trigger t:\n    when purchase\n    if min(purchase.tier) == 0\n    emit a")
        recs = [rec(1, tier=-0.0), rec(2, tier=0.0)]
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=AS_OF)
        assert len(batch) == 2
        assert whole(streamed(rules, recs, AS_OF, "single")) == whole(batch)


#: rules reading custom properties (numbers, text, bools) that a record may lack or hold NaN in
CUSTOM = """trigger high_tier:
    when purchase as p where p.tier >= 2 and not p.vip
    if distinct(purchase.segment within 7 days) >= 1
    emit a(t = p.tier, s = last(purchase.segment), m = median(purchase.tier))

trigger follow:
    when product_view as v then purchase where segment == v.segment within 3 days
    emit b(n = count(purchase where vip), x = max(purchase.tier before v))

trigger silence:
    when purchase as p then no ticket_opened where tier > p.tier for 2 days
    emit c(f = first(ticket_opened.segment))
"""


def custom_records(seed: int, n: int) -> list[dict[str, Any]]:
    """Random interactions with custom properties: ``tier`` (a number, sometimes NaN or
    absent), ``segment`` (text, sometimes absent) and ``vip`` (a bool, sometimes absent)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r: dict[str, Any] = {
            "customer_id": f"c{rng.randrange(3)}",
            "timestamp": T0 + timedelta(hours=6 * rng.randrange(40)),
            "kind": rng.choice(["product_view", "purchase", "ticket_opened"]),
            "interaction_id": f"i{i}",
        }
        draw = rng.random()
        if draw < 0.7:
            r["tier"] = float(rng.randrange(1, 4))
        elif draw < 0.85:
            r["tier"] = float("nan")
        if rng.random() < 0.8:
            r["segment"] = rng.choice(["a", "b"])
        if rng.random() < 0.7:
            r["vip"] = rng.random() < 0.5
        out.append(r)
    return sorted(out, key=lambda r: r["timestamp"])


@pytest.mark.parametrize("path", PATHS)
def test_custom_properties_every_form(path: str) -> None:
    """Custom, missing and NaN properties reach the rules the same way in every input form and
    path as in batch (a seeded sweep; the objects form carries every property)."""
    rules = parse(CUSTOM)
    fired = 0
    for seed in range(12):
        recs = custom_records(seed, 40)
        as_of = T0 + timedelta(days=12)
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
        fired += len(batch)
        assert whole(streamed(rules, recs, as_of, path)) == whole(batch), seed
    assert fired > 20  # the sweep reaches the rules
