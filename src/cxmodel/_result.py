"""The one result base: ``to_dict``, ``to_pandas``, ``_repr_html_`` and a short ``__repr__``
from a result's declared fields.

A result is a **table** (one row per customer, step, group ...) or a **record** (named
figures). Its attrs fields say which is which: a field declared with :func:`column` (or a
mapping of columns declared with :func:`columns`) is a column of the table; a field holding a
scalar (number, string, ``None``, a tuple of scalars) is a figure. A result with no column
field is a record.

=============  ==============================================  ==================================
               table                                           record
=============  ==============================================  ==================================
``to_dict``    the columns (then :meth:`Result._details`)      the figures (then ``_details``)
``to_pandas``  one row per table row                           one row; ``(low, high)`` pairs
                                                               become ``_low`` / ``_high``
HTML           the first 20 rows under a caption               the figures, then nested results
``repr``       a summary line and the first 5 rows             a summary line
=============  ==============================================  ==================================

A result whose table is computed (renamed, reshaped, derived) overrides
:meth:`Result._rows`; what differs between results is declared with the class variables
``_dict_lists``, ``_dict_rows_key``, ``_frame_index``, ``_frame_figures`` and ``_frame_spread``
(``_dict_*`` shape ``to_dict``, ``_frame_*`` shape ``to_pandas``). attrs writes a
``__repr__`` of its own unless told not to, so result classes are declared with
``@attrs.frozen(eq=False, repr=False)``.
"""

from __future__ import annotations

import datetime as _dt
import textwrap
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import numpy as np

from cxmodel._html import (
    MAX_ROWS,
    TEXT_ROWS,
    TEXT_WIDTH,
    clip,
    format_value,
    html_record,
    html_table,
    is_number,
    n_rows,
    text_table,
)
from cxmodel._optional import import_optional

__all__ = ["Result", "column", "columns", "plain", "record_frame"]

_COLUMN = "cxmodel.column"
_SUMMARY_VALUE = 40  # characters of one figure in a summary line


def column(name: str | None = None) -> dict[str, Any]:
    """attrs field metadata: the field is a column of the result's table, named ``name``
    (default: the field's name).

    Examples
    --------
    >>> @attrs.frozen(repr=False)
    ... class Lifetimes(Result):
    ...     customers: list[str] = attrs.field(metadata=column("customer_id"))
    ...     days: list[float] = attrs.field(metadata=column())
    >>> Lifetimes(["a", "b"], [3.0, 40.5]).to_dict()
    {'customer_id': ['a', 'b'], 'days': [3.0, 40.5]}
    """
    return {_COLUMN: (name, False)}


def columns(prefix: str = "") -> dict[str, Any]:
    """attrs field metadata: the field is a mapping of columns; each entry is a column of the
    result's table, named ``prefix`` + its key.

    Examples
    --------
    >>> @attrs.frozen(repr=False)
    ... class Rates(Result):
    ...     customer_id: list[str] = attrs.field(metadata=column())
    ...     rate: dict[str, list[float]] = attrs.field(metadata=columns("rate_"))
    >>> list(Rates(["a"], {"email": [0.5], "push": [0.1]}).to_dict())
    ['customer_id', 'rate_email', 'rate_push']
    """
    return {_COLUMN: (prefix, True)}


def plain(value: Any, nan: Any = None) -> Any:
    """A numpy scalar as the plain Python value it holds; NaN becomes ``nan`` (``None`` by
    default, JSON's null); anything else is returned as it is.

    Examples
    --------
    >>> plain(np.int64(3)), plain(np.float64("nan")), plain(float("nan"), nan=-1.0), plain("a")
    (3, None, -1.0, 'a')
    >>> type(plain(np.bool_(True))).__name__
    'bool'
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return nan
    return value


def record_frame(figures: Mapping[str, Any], feature: str) -> Any:
    """A one-row DataFrame of named figures; a ``(low, high)`` pair becomes two columns,
    ``<name>_low`` and ``<name>_high`` (needs pandas).

    Examples
    --------
    >>> record_frame({"value": 0.3, "ci": (0.2, 0.4)}, "the example").columns.tolist()
    ['value', 'ci_low', 'ci_high']
    """
    pd = import_optional("pandas", feature)
    row: dict[str, Any] = {}
    for name, value in figures.items():
        if isinstance(value, tuple) and len(value) == 2 and all(map(is_number, value)):
            row[f"{name}_low"], row[f"{name}_high"] = value
        else:
            row[name] = value
    return pd.DataFrame([row])


class Result:
    """Base of every result: ``to_dict``, ``to_pandas``, ``_repr_html_`` and a short
    ``__repr__`` from the declared fields (see the module docstring).

    Class variables declare how a result differs from the default:

    - ``_dict_lists``: ``to_dict`` gives columns as lists (JSON-ready; datetimes as ISO text)
      instead of arrays;
    - ``_dict_rows_key``: ``to_dict`` gives the figures, with the columns under this key;
    - ``_frame_index``: the column ``to_pandas`` uses as the DataFrame's index;
    - ``_frame_figures``: ``to_pandas`` puts the figures in ``DataFrame.attrs``;
    - ``_frame_spread``: a column of mappings that ``to_pandas`` spreads into one column per key.

    Examples
    --------
    >>> @attrs.frozen(repr=False)
    ... class Steps(Result):
    ...     step: tuple[str, ...] = attrs.field(metadata=column())
    ...     count: list[int] = attrs.field(metadata=column())
    ...     window: str
    >>> steps = Steps(("view", "cart", "buy"), [120, 30, 9], "7d")
    >>> steps
    Steps(3 rows, window=7d)
    step  count
    view    120
    cart     30
    buy       9
    >>> steps.to_dict()["count"], steps.to_pandas().shape
    ([120, 30, 9], (3, 2))
    """

    __slots__ = ()

    _dict_lists: ClassVar[bool] = False
    _dict_rows_key: ClassVar[str | None] = None
    _frame_index: ClassVar[str | None] = None
    _frame_figures: ClassVar[bool] = False
    _frame_spread: ClassVar[str | None] = None

    # ------------------------------------------------------------------ what a result declares
    def _rows(self) -> dict[Any, Any] | None:
        """The table: equal-length columns by name, or ``None`` for a record.

        Default: the fields declared with :func:`column` and :func:`columns`, in order.
        """
        declared = [f for f in _fields(self) if _COLUMN in f.metadata]
        if not declared:
            return None
        out: dict[Any, Any] = {}
        for field in declared:
            name, many = field.metadata[_COLUMN]
            value = getattr(self, field.name)
            if many:
                out.update({f"{name}{key}": values for key, values in value.items()})
            else:
                out[field.name if name is None else name] = value
        return out

    def _figures(self) -> dict[str, Any]:
        """The figures: the fields holding a scalar (not columns, not ``repr=False``).

        Shown in the summary line and the HTML; a record's ``to_dict`` and ``to_pandas``.
        """
        return {
            f.name: value
            for f in _fields(self)
            if f.repr and _COLUMN not in f.metadata and _is_scalar(value := getattr(self, f.name))
        }

    def _details(self) -> dict[str, Any]:
        """Entries ``to_dict`` adds after the columns (or the figures); none by default."""
        return {}

    def _summary(self, n_rows: int | None) -> str:
        """One line: the class name, the number of rows of a table (``n_rows``, ``None`` for
        a record) and the figures (not ``None`` or ``()``)."""
        parts = [] if n_rows is None else [f"{n_rows:,} rows"]
        parts += [
            f"{name}={clip(format_value(value), _SUMMARY_VALUE)}"
            for name, value in self._figures().items()
            if not (value is None or (isinstance(value, tuple) and not value))
        ]
        return f"{type(self).__name__}({', '.join(parts)})"

    def _caption(self) -> str:
        """The caption of a record's HTML table: the class name."""
        return type(self).__name__

    def _preview(self, limit: int) -> tuple[dict[Any, Any], int] | None:
        """The first ``limit`` rows the HTML and the ``repr`` show, and the number of rows
        (``None`` for a record). Override when the whole table is costly to build."""
        rows = self._rows()
        if rows is None:
            return None
        return {name: values[:limit] for name, values in rows.items()}, n_rows(rows)

    def _nested(self) -> list[Any]:
        """Results a record's HTML shows under its figures: fields holding one."""
        return [
            value
            for f in _fields(self)
            if f.repr and hasattr(value := getattr(self, f.name), "_repr_html_")
        ]

    # ------------------------------------------------------------------ what the base gives
    def to_dict(self) -> dict[str, Any]:
        """The result as a dict: a table's columns, or a record's figures."""
        rows = self._rows()
        if rows is None:
            return {**self._figures(), **self._details()}
        table = {k: _as_list(v) for k, v in rows.items()} if self._dict_lists else dict(rows)
        if self._dict_rows_key is not None:
            return {**self._figures(), self._dict_rows_key: table, **self._details()}
        return {**table, **self._details()}

    def to_pandas(self) -> Any:
        """The result as a pandas DataFrame: one row per table row, or one row of figures
        (needs pandas)."""
        feature = f"{type(self).__name__}.to_pandas()"
        rows = self._rows()
        if rows is None:
            return record_frame(self._figures(), feature)
        pd = import_optional("pandas", feature)
        spread = rows.pop(self._frame_spread) if self._frame_spread is not None else None
        frame = pd.DataFrame(rows)
        if spread is not None:
            frame = pd.concat([frame, pd.DataFrame(list(spread))], axis=1)
        if self._frame_index is not None:
            frame = frame.set_index(self._frame_index)
            frame.columns = pd.Index(frame.columns.tolist())  # labels typed without the index's
        if self._frame_figures:
            frame.attrs.update(self._figures())
        return frame

    def _repr_html_(self) -> str:
        preview = self._preview(MAX_ROWS)
        if preview is None:
            return html_record(self._caption(), self._figures()) + "".join(
                nested._repr_html_() for nested in self._nested()
            )
        head, total = preview
        return html_table(self._summary(total), head, total)

    def __repr__(self) -> str:
        preview = self._preview(TEXT_ROWS)
        summary = textwrap.fill(
            self._summary(None if preview is None else preview[1]),
            TEXT_WIDTH,
            subsequent_indent="    ",
            break_long_words=False,
            break_on_hyphens=False,
        )
        if preview is None:
            return summary
        return "\n".join([summary, *text_table(*preview)])


def _fields(result: object) -> tuple[attrs.Attribute[Any], ...]:
    """The attrs fields of a result's class (none for a class that is not an attrs class)."""
    cls = type(result)
    return tuple(attrs.fields(cls)) if attrs.has(cls) else ()


def _is_scalar(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_is_scalar(v) and not isinstance(v, tuple) for v in value)
    return value is None or isinstance(
        value, str | int | float | np.generic | _dt.datetime | _dt.date | _dt.timedelta
    )


def _as_list(values: Any) -> Any:
    """A column as a list of plain values (datetimes as ISO text)."""
    if isinstance(values, np.ndarray):
        return (values.astype(str) if values.dtype.kind == "M" else values).tolist()
    if isinstance(values, list | tuple):
        return list(values)
    return values
