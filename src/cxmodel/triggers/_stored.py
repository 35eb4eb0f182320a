"""The snapshot a store holds, read back checked: every value the engine restores is read
through :class:`Stored`, which knows the value's path in the snapshot and refuses a value of
the wrong type or range with :class:`DamagedState` naming that path (the restore adds the
store's name). A store's JSON may decode and still hold text where a time was written, or a
time past the year 9999; read unchecked, such a value would surface later as a raw
``TypeError`` or ``OverflowError`` from the first call that uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cxmodel._arguments import got, is_integer
from cxmodel._time import _DATETIME_SECONDS_RANGE, US_PER_SECOND
from cxmodel.errors import StoreError

__all__ = ["DUE_RANGE_US", "TIME_RANGE_US", "DamagedState", "Stored"]

#: the times a snapshot may hold, in microseconds since the epoch: years 1 to 9999 (UTC)
TIME_RANGE_US = (
    _DATETIME_SECONDS_RANGE[0] * US_PER_SECOND,
    (_DATETIME_SECONDS_RANGE[1] + 1) * US_PER_SECOND - 1,
)

#: the due times of pending timers a snapshot may hold: from year 1 to the last 64-bit
#: microsecond. A timer set near the end of year 9999 (``then after 2 days``) is due past it
#: and never falls due, as batch never fires it (no ``as_of`` is past 9999-12-31T23:59:59)
DUE_RANGE_US = (TIME_RANGE_US[0], 2**63 - 1)


class DamagedState(StoreError):
    """A value in a store's snapshot that is not what the engine writes there; the message
    names its path in the snapshot, the value and what was expected."""


class Stored:
    """One value of a snapshot and its path (``meta.watermark``,
    ``customers['c1'].rules['ask'].last_emitted``), read with a check of its type.

    A missing key reads as ``None``, which the optional readers take and the others refuse.

    Examples
    --------
    >>> meta = Stored({"watermark": 5, "seq": "x"}, "meta")
    >>> meta["watermark"].optional_time(), meta["closed"].optional_time()
    (5, None)
    >>> meta["seq"].count()
    Traceback (most recent call last):
    ...
    cxmodel.triggers._stored.DamagedState: meta.seq is str 'x'; expected a count (an integer of at least 0)
    """

    __slots__ = ("_dotted", "_key", "_parent", "value")

    def __init__(
        self, value: Any, key: str | int, parent: Stored | None = None, *, dotted: bool = False
    ) -> None:
        self.value = value
        # the path is built only for a message, from ``key``: the root's name, or where the
        # value sits in ``parent`` (a key, shown '.key' when ``dotted`` and a name, else
        # '[key]'; an index)
        self._key = key
        self._parent = parent
        self._dotted = dotted

    @property
    def path(self) -> str:
        """Where the value sits in the snapshot, e.g. ``customers['c1'].rules['ask']``."""
        key, parent = self._key, self._parent
        if parent is None:
            return str(key)
        if self._dotted and isinstance(key, str) and key.isidentifier():
            return f"{parent.path}.{key}"
        return f"{parent.path}[{key!r}]"

    def _integer(self, expected: str, low: int | None = None, high: int | None = None) -> int:
        """This value as an int when it is an integer (not a bool nor a float) within ``low``
        to ``high`` (``None``: unbounded); else refused as not ``expected``."""
        value = self.value
        if type(value) is int or is_integer(value):
            number = int(value)
            if (low is None or low <= number) and (high is None or number <= high):
                return number
        raise self._refuse(expected)

    def _refuse(self, expected: str) -> DamagedState:
        return DamagedState(f"{self.path} is {got(self.value)}; expected {expected}")

    def _dict(self) -> dict[Any, Any]:
        """This value as a mapping (a ``dict``, as JSON gives, or a host store's subclass)."""
        if not isinstance(self.value, dict):
            raise self._refuse("a mapping")
        return self.value

    def __getitem__(self, key: str) -> Stored:
        """The value under ``key`` of this mapping (``None`` when it has none)."""
        return Stored(self._dict().get(key), key, self, dotted=True)

    def items(self) -> Iterator[tuple[str, Stored]]:
        """The keys and values of this mapping (``None``: an empty one)."""
        if self.value is None:
            return
        for key, value in self._dict().items():
            yield str(key), Stored(value, key, self)

    def entries(self, length: int | None = None) -> list[Stored]:
        """The items of this list (``None``: an empty one); with ``length``, the list must
        have exactly that many."""
        value = self.value
        if value is None and length is None:
            return []
        if not isinstance(value, (list, tuple)) or (length is not None and len(value) != length):
            size = "a list" if length is None else f"a list of {length} items"
            raise self._refuse(size)
        return [Stored(item, i, self) for i, item in enumerate(value)]

    def mapping(self) -> dict[str, Any]:
        """This mapping, copied (``None``: an empty one)."""
        if self.value is None:
            return {}
        return dict(self._dict())

    def integer(self, low: int | None = None, high: int | None = None) -> int:
        """This integer (a bool or a float is refused), within ``low`` to ``high`` when
        given."""
        if low is None and high is None:
            return self._integer("an integer")
        return self._integer(f"an integer from {low} to {high}", low, high)

    def count(self, default: int | None = None, most: int | None = None) -> int:
        """This integer of at least 0, and at most ``most`` when given (``None`` reads as
        ``default`` when given).

        Examples
        --------
        >>> Stored(3, "n").count(most=2**63 - 1)
        3
        >>> Stored(2**63, "n").count(most=2**63 - 1)
        Traceback (most recent call last):
        ...
        cxmodel.triggers._stored.DamagedState: n is int 9223372036854775808; expected a count (an integer from 0 to 9223372036854775807)
        """
        if self.value is None and default is not None:
            return default
        if most is None:
            return self._integer("a count (an integer of at least 0)", 0)
        return self._integer(f"a count (an integer from 0 to {most})", 0, most)

    def time(self) -> int:
        """This time in microseconds since the epoch, within years 1 to 9999."""
        return self._integer(
            "a time (an integer of microseconds since 1970-01-01, within years 1 to 9999)",
            *TIME_RANGE_US,
        )

    def optional_time(self) -> int | None:
        """This time (see :meth:`time`), or ``None``."""
        return None if self.value is None else self.time()

    def due(self) -> int:
        """This due time of a pending timer in microseconds since the epoch, within
        :data:`DUE_RANGE_US`: a time, or one past the year 9999 that never falls due.

        Examples
        --------
        >>> Stored(253402408800000000, "due").due()  # 10000-01-02: written by the engine
        253402408800000000
        >>> Stored(2**63, "due").due()
        Traceback (most recent call last):
        ...
        cxmodel.triggers._stored.DamagedState: due is int 9223372036854775808; expected a due time (an integer of microseconds since 1970-01-01, from year 1 to 2**63 - 1)
        """
        return self._integer(
            "a due time (an integer of microseconds since 1970-01-01, from year 1 to 2**63 - 1)",
            *DUE_RANGE_US,
        )

    def optional_due(self) -> int | None:
        """This due time (see :meth:`due`), or ``None``."""
        return None if self.value is None else self.due()

    def text(self) -> str:
        """This text."""
        if not isinstance(self.value, str):
            raise self._refuse("text")
        return self.value

    def flag(self) -> bool:
        """This bool."""
        if not isinstance(self.value, bool):
            raise self._refuse("true or false")
        return self.value

    def optional_flag(self) -> bool | None:
        """This bool, or ``None``."""
        return None if self.value is None else self.flag()
