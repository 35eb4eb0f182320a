"""How an error names the arguments it asks the caller to set, in the caller's own words.

A reader's error about a file without a kind column says what to pass: in Python
``kind='purchase'``, on the command line ``--all-kind purchase``. Such a message is composed
from the :class:`Argument` and its value by a :data:`Spelling`, so the command line (or any
other front end) words it with its own options by composing it again, never by editing the
text. ``str(error)`` is the message as Python code writes the arguments.

The same holds for a rejected row's reason that asks for an argument (an
:class:`ArgumentReason`, such as a naive time read without ``timezone=``) and for a warning
about what an argument did (an :class:`ArgumentWarning`, led by the argument's name): they
carry the argument itself, never a text to be recognised.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeAlias

from cxmodel.errors import DataWarning, SchemaError

__all__ = [
    "Argument",
    "ArgumentHintError",
    "ArgumentReason",
    "ArgumentWarning",
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
    KINDS = "kinds"
    """Your event name -> a standard kind; its value is the standard kind."""
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
    if argument in (Argument.MAPPING, Argument.KINDS):
        return f"{argument.value}={{'your_name': {value!r}}}"
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

    def reason(self) -> ArgumentReason:
        """The message as a rejected row's reason, which keeps how it was composed."""
        return ArgumentReason(self._compose)

    def __reduce__(self) -> tuple[object, ...]:  # the composing function does not pickle
        return (SchemaError, (str(self),))


class ArgumentReason(str):
    """A rejected row's reason that asks the caller to set arguments: the text as Python
    code words it, which keeps ``compose`` (as :class:`ArgumentHintError` does) so that an
    error quoting the reason can be worded again in a caller's own words.

    Across processes it travels as a plain ``str``.

    Examples
    --------
    >>> reason = ArgumentReason(lambda say: f"no zone; pass {say(Argument.TIMEZONE, 'UTC')}")
    >>> reason, reason.compose(lambda argument, value: f"--{argument.value} {value}")
    ("no zone; pass timezone='UTC'", 'no zone; pass --timezone UTC')
    """

    compose: Callable[[Spelling], str]

    def __new__(cls, compose: Callable[[Spelling], str]) -> ArgumentReason:
        reason = super().__new__(cls, compose(python_spelling))
        reason.compose = compose
        return reason

    def __reduce__(self) -> tuple[object, ...]:  # the composing function does not pickle
        return (str, (str(self),))


class ArgumentWarning(DataWarning):
    """A :class:`~cxmodel.errors.DataWarning` about what a reader argument did to the data,
    led by the argument's name: made by :meth:`about`, it keeps ``argument`` and ``detail``
    (the rest of the message), so :meth:`spelled` leads it with a caller's own name for the
    argument. Made from a message alone (as a distributed analysis raises its pieces'
    warnings again), it has no ``argument`` and is spelled as it reads.

    Examples
    --------
    >>> warning = ArgumentWarning.about(Argument.KINDS, " maps 'x', which no row has")
    >>> str(warning), warning.spelled(lambda argument, value=None: "--kind")
    ("kinds maps 'x', which no row has", "--kind maps 'x', which no row has")
    """

    argument: Argument | None = None
    detail: str = ""

    @classmethod
    def about(cls, argument: Argument, detail: str) -> ArgumentWarning:
        """The warning ``detail`` about ``argument``, which leads the message."""
        warning = cls(f"{argument.value}{detail}")
        warning.argument = argument
        warning.detail = detail
        return warning

    def spelled(self, spelling: Spelling) -> str:
        """The message led by the argument alone as ``spelling`` writes it."""
        if self.argument is None:
            return str(self)
        return f"{spelling(self.argument, None)}{self.detail}"

    def __reduce__(self) -> tuple[object, ...]:
        if self.argument is None:
            return (type(self), (str(self),))
        return (_argument_warning, (self.argument, self.detail))


def _argument_warning(argument: Argument, detail: str) -> ArgumentWarning:
    """:meth:`ArgumentWarning.about`, for unpickling."""
    return ArgumentWarning.about(argument, detail)


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
