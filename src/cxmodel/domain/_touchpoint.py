"""Touchpoints and the catalogue that maps each to its channel and journey stage."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from typing import TypeVar

import attrs

from cxmodel._arguments import got
from cxmodel.domain._kinds import Channel, Stage
from cxmodel.errors import NotFoundError, SchemaError, ValueTypeError, did_you_mean

__all__ = ["DEFAULT_CATALOGUE", "Touchpoint", "TouchpointCatalogue"]

_E = TypeVar("_E", bound=Enum)


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SchemaError(f"'{attribute.name}' must be a non-empty string (got {value!r})")


def _channel(value: object) -> Channel:
    return _member(Channel, value, "channel")


def _stage(value: object) -> Stage:
    return _member(Stage, value, "stage")


def _member(enum: type[_E], value: object, field: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        known = [m.value for m in enum]
        raise SchemaError(
            f"'{field}' must be one of {known!r} (got {value!r}){did_you_mean(value, known)}"
        ) from None


@attrs.frozen
class Touchpoint:
    """A place where customer and business meet.

    Examples
    --------
    >>> Touchpoint("website", Channel.WEB, Stage.CONSIDERATION).stage
    <Stage.CONSIDERATION: 'consideration'>
    """

    name: str = attrs.field(validator=_non_empty)
    channel: Channel = attrs.field(converter=_channel)
    stage: Stage = attrs.field(converter=_stage)


def _as_tuple(values: Iterable[Touchpoint]) -> tuple[Touchpoint, ...]:
    """The touchpoints, checked: Touchpoint objects with distinct names."""
    if not isinstance(values, Iterable) or isinstance(values, str):
        raise ValueTypeError(f"touchpoints must be Touchpoint objects; got {got(values)}")
    items = tuple(values)
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, Touchpoint):
            raise ValueTypeError(f"touchpoints[{i}] is {got(item)}; expected a Touchpoint")
        if item.name in seen:
            raise SchemaError(
                f"touchpoint {item.name!r} is declared twice in the catalogue; keep one (extend() "
                "replaces a touchpoint of the same name)"
            )
        seen.add(item.name)
    return items


@attrs.frozen
class TouchpointCatalogue(Mapping[str, Touchpoint]):
    """An immutable mapping ``touchpoint name -> Touchpoint``; ``extend`` returns a new one.

    Examples
    --------
    >>> catalogue = DEFAULT_CATALOGUE.extend([Touchpoint("kiosk", "store", "purchase")])
    >>> catalogue["kiosk"].channel.value
    'store'
    >>> "kiosk" in DEFAULT_CATALOGUE
    False
    """

    touchpoints: tuple[Touchpoint, ...] = attrs.field(converter=_as_tuple)
    _index: dict[str, Touchpoint] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", {t.name: t for t in self.touchpoints})

    def __getitem__(self, name: str) -> Touchpoint:
        try:
            return self._index[name]
        except KeyError:
            raise NotFoundError(
                f"touchpoint {name!r} is not in the catalogue" + did_you_mean(name, self._index)
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def extend(self, touchpoints: list[Touchpoint] | tuple[Touchpoint, ...]) -> TouchpointCatalogue:
        """Return a catalogue with ``touchpoints`` added (replacing same-named ones)."""
        merged = dict(self._index)
        merged.update({t.name: t for t in _as_tuple(touchpoints)})
        return TouchpointCatalogue(tuple(merged.values()))


DEFAULT_CATALOGUE = TouchpointCatalogue(
    (
        Touchpoint("advert", Channel.SOCIAL, Stage.AWARENESS),
        Touchpoint("social_media", Channel.SOCIAL, Stage.AWARENESS),
        Touchpoint("website", Channel.WEB, Stage.CONSIDERATION),
        Touchpoint("mobile_app", Channel.APP, Stage.CONSIDERATION),
        Touchpoint("search", Channel.WEB, Stage.CONSIDERATION),
        Touchpoint("cart", Channel.WEB, Stage.PURCHASE),
        Touchpoint("checkout", Channel.WEB, Stage.PURCHASE),
        Touchpoint("store", Channel.STORE, Stage.PURCHASE),
        Touchpoint("delivery", Channel.DELIVERY, Stage.SERVICE),
        Touchpoint("phone_support", Channel.PHONE, Stage.SERVICE),
        Touchpoint("ticket", Channel.WEB, Stage.SERVICE),
        Touchpoint("chat", Channel.CHAT, Stage.SERVICE),
        Touchpoint("email", Channel.EMAIL, Stage.LOYALTY),
        Touchpoint("push", Channel.PUSH, Stage.LOYALTY),
        Touchpoint("sms", Channel.SMS, Stage.LOYALTY),
        Touchpoint("loyalty_programme", Channel.WEB, Stage.LOYALTY),
        Touchpoint("survey", Channel.SURVEY, Stage.ADVOCACY),
        Touchpoint("review", Channel.WEB, Stage.ADVOCACY),
        Touchpoint("referral", Channel.WEB, Stage.ADVOCACY),
    )
)
"""The default touchpoint catalogue; extend it with :meth:`TouchpointCatalogue.extend`."""
