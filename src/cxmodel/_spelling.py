"""How an error names the arguments it asks the caller to set, in the caller's own words.

A reader's error about a file without a kind column says what to pass: in Python
``kind='purchase'``, on the command line ``--all-kind purchase``. Such a message is composed
from the :class:`Argument` and its value by a :data:`Spelling`, so the command line (or any
other front end) words it with its own options by composing it again, never by editing the
text. ``str(error)`` is the message as Python code writes the arguments.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeAlias

from cxmodel.errors import SchemaError

__all__ = [
    "Argument",
    "ArgumentHintError",
    "Spelling",
    "missing_column_error",
    "python_spelling",
]


class Argument(enum.Enum):
    """A reader argument an error can ask the caller to set."""

    MAPPING = "mapping"
    """Your column name -> a standard one; its value is the standard column."""
    KIND = "kind"
    """The kind of every row, for data without a kind column; its value is the kind."""
    TIMEZONE = "timezone"
    """The zone of naive timestamps; its value is the zone."""
    DELIMITER = "delimiter"
    """The field separator of a text file; its value is the separator."""
    ENCODING = "encoding"
    """The text encoding of a file; its value is the encoding."""


Spelling: TypeAlias = Callable[[Argument, "str | None"], str]
"""How a caller writes an argument set to a value, or (``None``) the argument alone."""


def python_spelling(argument: Argument, value: str | None = None) -> str:
    """``argument`` as Python code passes it: set to ``value``, or its name alone.

    Examples
    --------
    >>> python_spelling(Argument.MAPPING, "timestamp")
    "mapping={'your_name': 'timestamp'}"
    >>> python_spelling(Argument.KIND, "purchase"), python_spelling(Argument.KIND)
    ("kind='purchase'", 'kind=')
    """
    if value is None:
        return f"{argument.value}="
    if argument is Argument.MAPPING:
        return f"mapping={{'your_name': {value!r}}}"
    return f"{argument.value}={value!r}"


class ArgumentHintError(SchemaError):
    """A :class:`~cxmodel.errors.SchemaError` whose message asks the caller to set arguments;
    :meth:`spelled` words it with the caller's own names for them.

    ``compose`` builds the message from a :data:`Spelling`; the error's text is the message
    for Python code. Across processes the error travels as a plain ``SchemaError`` of that
    text.

    Examples
    --------
    >>> error = ArgumentHintError(lambda say: f"pass {say(Argument.KIND, 'purchase')}")
    >>> str(error), error.spelled(lambda argument, value: f"--{argument.value} {value}")
    ("pass kind='purchase'", 'pass --kind purchase')
    """

    def __init__(self, compose: Callable[[Spelling], str]) -> None:
        super().__init__(compose(python_spelling))
        self._compose = compose

    def spelled(self, spelling: Spelling) -> str:
        """The message with the arguments written as ``spelling`` writes them."""
        return self._compose(spelling)

    def __reduce__(self) -> tuple[object, ...]:  # the composing function does not pickle
        return (SchemaError, (str(self),))


def _one_kind_hint(say: Spelling) -> str:
    """The end of the message about a missing ``kind`` column: data of one kind need none.

    Examples
    --------
    >>> _one_kind_hint(python_spelling)
    ", or pass kind='purchase' if every row is of one kind"
    """
    return f", or pass {say(Argument.KIND, 'purchase')} if every row is of one kind"


def missing_column_error(name: str, present: str, *, where: str = "") -> ArgumentHintError:
    """The error for data without the required column ``name``: map one of their columns to
    it, or, for ``kind``, name the kind of every row. ``present`` lists what the data have
    (``"columns: ['user', 'ts']"``) and ``where`` names them (``"orders.jsonl: "``).

    Examples
    --------
    >>> error = missing_column_error("timestamp", "columns: ['user', 'ts']")
    >>> print(error)
    required column 'timestamp' is missing (columns: ['user', 'ts']); map yours with mapping={'your_name': 'timestamp'}
    """

    def compose(say: Spelling) -> str:
        tail = _one_kind_hint(say) if name == "kind" else ""
        return (
            f"{where}required column {name!r} is missing ({present}); map yours with "
            f"{say(Argument.MAPPING, name)}{tail}"
        )

    return ArgumentHintError(compose)
