"""A single interaction between a customer and the business."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from numbers import Real
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np

from cxmodel._time import to_utc
from cxmodel.domain._kinds import METRIC_SCALES, Question
from cxmodel.domain._mapping import frozen_mapping
from cxmodel.errors import SchemaError, did_you_mean

__all__ = ["MONEY_KINDS", "Interaction"]

MONEY_KINDS = frozenset({"purchase", "return", "refund"})
"""Kinds whose ``value`` is money and must not be negative."""


def _non_empty_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SchemaError(
            f"'{attribute.name}' must be a non-empty string (got {value!r} that is a "
            f"{type(value).__name__})"
        )


def _optional_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _non_empty_str(instance, attribute, value)


def _optional_float(value: object) -> float | None:
    """A number (Python or numpy) as float, NaN as None; infinite numbers are refused."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise SchemaError(
            f"expected a number or None (got {value!r} that is a {type(value).__name__})"
        )
    number = float(value)
    if math.isinf(number):
        raise SchemaError(f"expected a finite number or None (got {value!r})")
    return None if math.isnan(number) else number


def _properties(value: Any) -> MappingProxyType[str, Any]:
    properties = frozen_mapping(value, "properties")
    for name in properties:
        if name in _FIELD_NAMES:  # get() and to_record() would each read a different one
            raise SchemaError(
                f"property {name!r} has the name of an Interaction field; pass it as "
                f"{name}=... instead, or rename the property"
            )
    return properties


@attrs.frozen
class Interaction:
    """One event at a touchpoint at a moment.

    ``timestamp`` is converted to an aware UTC ``datetime``; naive datetimes are rejected.
    A survey answer keeps its ``metric`` (``nps`` 0-10, ``csat`` 1-5, ``ces`` 1-7) and the
    ``score`` is validated against that scale.

    Examples
    --------
    >>> i = Interaction("c1", "2024-03-01T10:00:00+01:00", "survey", metric="nps", score=9)
    >>> i.timestamp.isoformat()
    '2024-03-01T09:00:00+00:00'
    >>> Interaction("c1", "2024-03-01T10:00:00Z", "survey", metric="nps", score=11)
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: score 11.0 is outside the NPS scale 0..10 (metric 'nps')
    """

    customer_id: str = attrs.field(validator=_non_empty_str)
    timestamp: datetime = attrs.field(converter=to_utc)
    kind: str = attrs.field(validator=_non_empty_str)
    interaction_id: str | None = attrs.field(default=None, kw_only=True, validator=_optional_str)
    touchpoint: str | None = attrs.field(default=None, kw_only=True, validator=_optional_str)
    channel: str | None = attrs.field(default=None, kw_only=True, validator=_optional_str)
    stage: str | None = attrs.field(default=None, kw_only=True, validator=_optional_str)
    value: float | None = attrs.field(default=None, kw_only=True, converter=_optional_float)
    metric: str | None = attrs.field(default=None, kw_only=True, validator=_optional_str)
    score: float | None = attrs.field(default=None, kw_only=True, converter=_optional_float)
    sentiment: float | None = attrs.field(default=None, kw_only=True, converter=_optional_float)
    properties: MappingProxyType[str, Any] = attrs.field(
        factory=dict, kw_only=True, converter=_properties, hash=False
    )

    def __attrs_post_init__(self) -> None:
        check_interaction_values(
            self.kind, self.value, self.metric, self.score, self.sentiment, where=""
        )

    def get(self, name: str, default: Any = None) -> Any:
        """Return a standard field or a property by name.

        Examples
        --------
        >>> Interaction("c1", "2024-01-01T00:00:00Z", "purchase", properties={"sku": "A"}).get("sku")
        'A'
        """
        if name in _FIELD_NAMES:
            return getattr(self, name)
        return self.properties.get(name, default)

    def to_record(self) -> dict[str, Any]:
        """A flat record (standard fields plus properties) as readers accept it."""
        record = {name: getattr(self, name) for name in _FIELD_NAMES}
        record.update(self.properties)
        return record


_FIELD_NAMES = tuple(a.name for a in attrs.fields(Interaction) if a.name != "properties")


_QUESTIONS: ContextVar[Mapping[str, Question] | None] = ContextVar("questions", default=None)


@contextmanager
def known_questions(questions: Mapping[str, Question]) -> Iterator[None]:
    """Within the block, interactions may answer ``questions`` too (a log's declared ones)."""
    token = _QUESTIONS.set(questions)
    try:
        yield
    finally:
        _QUESTIONS.reset(token)


def check_interaction_values(
    kind: str,
    value: float | None,
    metric: str | None,
    score: float | None,
    sentiment: float | None,
    *,
    where: str,
) -> None:
    """Validate the scale-bound fields of one interaction; ``where`` prefixes the message."""
    if value is not None and kind in MONEY_KINDS and value < 0:
        raise SchemaError(
            f"{where}value {value!r} is negative for a {kind!r} (column 'value'); amounts are "
            "positive, the kind says the direction"
        )
    declared = _QUESTIONS.get()
    if metric is not None and declared is not None and metric not in METRIC_SCALES:
        question = declared.get(metric)
        bounds = None if question is None else question.scale
        if score is not None and bounds is not None and not bounds[0] <= score <= bounds[1]:
            raise SchemaError(
                f"{where}score {score!r} is outside the {metric.upper()} scale "
                f"{bounds[0]}..{bounds[1]} (metric {metric!r})"
            )
        if question is not None:
            metric = None  # checked against the declared question
    if metric is not None:
        if metric not in METRIC_SCALES:
            raise SchemaError(
                f"{where}metric {metric!r} is unknown (column 'metric')"
                f"{did_you_mean(metric, METRIC_SCALES)}; expected one of {sorted(METRIC_SCALES)}"
            )
        low, high = METRIC_SCALES[metric]
        if score is not None and not (low <= score <= high):
            raise SchemaError(
                f"{where}score {score!r} is outside the {metric.upper()} scale "
                f"{low:g}..{high:g} (metric {metric!r})"
            )
    if sentiment is not None and not (-1.0 <= sentiment <= 1.0):
        raise SchemaError(f"{where}sentiment {sentiment!r} is outside -1..1 (column 'sentiment')")
