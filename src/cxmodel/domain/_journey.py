"""One customer's interactions in time order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

import attrs

from cxmodel._arguments import got
from cxmodel._time import TimeLike, to_utc
from cxmodel.domain._interaction import Interaction
from cxmodel.errors import SchemaError, ValueTypeError

__all__ = ["Journey"]


def _ordered(value: Iterable[Interaction]) -> tuple[Interaction, ...]:
    if not isinstance(value, Iterable) or isinstance(value, str):
        raise ValueTypeError(
            f"a journey's interactions must be Interaction objects; got {got(value)}"
        )
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, Interaction):
            raise ValueTypeError(
                f"interactions[{i}] is {got(item)}; a journey holds Interaction objects"
            )
    # stable sort by time: equal timestamps keep their given order
    return tuple(sorted(items, key=lambda i: i.timestamp))


def _customer_id(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SchemaError(f"'customer_id' must be a non-empty string (got {value!r})")


@attrs.frozen
class Journey:
    """A customer's interactions in time order (ties keep the order given).

    Examples
    --------
    >>> j = Journey.from_interactions([
    ...     Interaction("c1", "2024-01-02T00:00:00Z", "purchase", touchpoint="website"),
    ...     Interaction("c1", "2024-01-01T00:00:00Z", "view", touchpoint="website"),
    ... ])
    >>> [i.kind for i in j], j.duration
    (['view', 'purchase'], datetime.timedelta(days=1))
    """

    customer_id: str = attrs.field(validator=_customer_id)
    interactions: tuple[Interaction, ...] = attrs.field(converter=_ordered)

    def __attrs_post_init__(self) -> None:
        for interaction in self.interactions:
            if interaction.customer_id != self.customer_id:
                raise SchemaError(
                    f"interaction of customer {interaction.customer_id!r} in the journey of "
                    f"{self.customer_id!r}; a journey holds one customer's interactions"
                )

    @classmethod
    def from_interactions(cls, interactions: Iterable[Interaction]) -> Journey:
        """Build a journey from one customer's interactions, in any order (a list, a tuple or
        any other iterable, e.g. a generator)."""
        interactions = _ordered(interactions)
        if not interactions:
            raise SchemaError("a journey needs at least one interaction to know its customer")
        return cls(interactions[0].customer_id, interactions)

    def __len__(self) -> int:
        return len(self.interactions)

    def __iter__(self) -> Iterator[Interaction]:
        return iter(self.interactions)

    @property
    def start(self) -> datetime | None:
        """Time of the first interaction, or ``None`` for an empty journey."""
        return self.interactions[0].timestamp if self.interactions else None

    @property
    def end(self) -> datetime | None:
        """Time of the last interaction, or ``None`` for an empty journey."""
        return self.interactions[-1].timestamp if self.interactions else None

    @property
    def duration(self) -> timedelta:
        """Time from the first to the last interaction (zero when fewer than two)."""
        if not self.interactions:
            return timedelta(0)
        return self.interactions[-1].timestamp - self.interactions[0].timestamp

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds in order."""
        return tuple(i.kind for i in self.interactions)

    @property
    def touchpoints(self) -> tuple[str, ...]:
        """Touchpoints visited in order, consecutive repeats collapsed, missing ones skipped."""
        return _collapse(i.touchpoint for i in self.interactions)

    @property
    def stages(self) -> tuple[str, ...]:
        """Journey stages visited in order, consecutive repeats collapsed, missing ones skipped."""
        return _collapse(i.stage for i in self.interactions)

    def between(self, start: TimeLike, end: TimeLike) -> Journey:
        """The interactions with ``start <= timestamp < end``."""
        lo, hi = to_utc(start), to_utc(end)
        if hi < lo:
            raise SchemaError(
                f"between(): end {hi.isoformat()!r} is before start {lo.isoformat()!r}"
            )
        return Journey(self.customer_id, [i for i in self.interactions if lo <= i.timestamp < hi])

    def first(self, kind: str) -> Interaction | None:
        """The first interaction of ``kind``, or ``None``."""
        return next((i for i in self.interactions if i.kind == kind), None)

    def last(self, kind: str) -> Interaction | None:
        """The last interaction of ``kind``, or ``None``."""
        return next((i for i in reversed(self.interactions) if i.kind == kind), None)


def _collapse(values: Iterable[str | None]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        if value is not None and (not out or out[-1] != value):
            out.append(value)
    return tuple(out)
