"""Customer traits (from ``Customer`` objects or a table) and per-kind usage counts, checked
and aligned to a list of customers: the extra columns of a ``CustomerTable``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import boolean_mask, got
from cxmodel.domain import Customer
from cxmodel.errors import SchemaError, ValueTypeError
from cxmodel.log._log import InteractionLog, _kind_mask

__all__ = ["TraitsLike", "UsageLike", "align_traits", "read_traits", "usage_masks"]

#: ``Customer`` objects, or a table: a mapping of column name to values (with a
#: ``customer_id`` column), or a data frame (anything with ``columns`` and ``[name]``).
TraitsLike = Any
#: Kinds (each counted as ``<kind>_count``), or a mapping of a column name to a kind or to a
#: boolean mask with one value per log row.
UsageLike = Sequence[str] | Mapping[str, Any]


def _kind_of(value: Any) -> str | None:
    """'a boolean', 'a number', 'text', or None for a missing value; raises for others."""
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return "a boolean"
    if isinstance(value, int | float | np.integer | np.floating):
        return "a number"
    if isinstance(value, str):
        return "text"
    raise ValueTypeError(type(value).__name__)


def _columns_of(traits: TraitsLike) -> dict[str, list[Any]]:
    """The traits as columns of Python values, ``customer_id`` first."""
    if isinstance(traits, Mapping):
        table = {str(k): list(np.asarray(v, dtype=object).reshape(-1)) for k, v in traits.items()}
    elif hasattr(traits, "columns") and hasattr(traits, "__getitem__"):
        table = {str(c): list(np.asarray(traits[c], dtype=object)) for c in list(traits.columns)}
    elif isinstance(traits, Iterable) and not isinstance(traits, str):
        people = list(traits)
        for i, person in enumerate(people):
            if not isinstance(person, Customer):
                raise SchemaError(
                    f"traits[{i}] is {type(person).__name__!r}; expected Customer objects or a "
                    "table (a mapping of column to values, with 'customer_id', or a data frame)"
                )
        names = sorted({name for person in people for name in person.traits})
        table = {"customer_id": [person.customer_id for person in people]}
        for name in names:
            table[name] = [person.traits.get(name) for person in people]
    else:
        raise ValueTypeError(
            "traits must be Customer objects or a table (a mapping of column to values, with "
            f"'customer_id', or a data frame); got {got(traits)}"
        )
    if "customer_id" not in table:
        raise SchemaError(
            f"the traits table has no 'customer_id' column (columns: {list(table)}); name the "
            "customer of each row"
        )
    lengths = {len(v) for v in table.values()}
    if len(lengths) > 1:
        raise SchemaError(f"the traits table has columns of different lengths: {sorted(lengths)}")
    return table


def read_traits(
    traits: TraitsLike, reserved: Iterable[str] = ()
) -> tuple[npt.NDArray[np.object_], dict[str, npt.NDArray[Any]]]:
    """Checked trait columns: customer ids and one typed array per trait.

    A trait holds one type over the customers: booleans (a bool array, or floats 1/0 with NaN
    when some are missing), numbers (float64, NaN missing; finite) or text (object, None
    missing).

    Raises
    ------
    SchemaError
        A customer listed twice, a trait named like a built-in column (``reserved``), a value
        that is not text, a number or a boolean, an infinite number, or a trait whose
        customers hold different types; the message names the customer and the trait.

    Examples
    --------
    >>> from cxmodel.domain import Customer
    >>> ids, cols = read_traits([Customer("a", traits={"plan": "pro", "age": 31}),
    ...                          Customer("b", traits={"plan": "basic"})])
    >>> ids.tolist(), cols["plan"].tolist(), cols["age"].tolist()
    (['a', 'b'], ['pro', 'basic'], [31.0, nan])
    """
    table = _columns_of(traits)
    raw_ids = table.pop("customer_id")
    for i, cid in enumerate(raw_ids):
        if not isinstance(cid, str) or not cid:
            raise SchemaError(f"traits row {i + 1}: customer_id {cid!r} must be a non-empty string")
    ids = np.array(raw_ids, dtype=object)
    unique, counts = np.unique(ids.astype(str), return_counts=True)
    if (counts > 1).any():
        raise SchemaError(
            f"customer {str(unique[counts > 1][0])!r} appears more than once in traits"
        )
    taken = set(reserved)
    out: dict[str, npt.NDArray[Any]] = {}
    for name, values in table.items():
        if not name or name in taken:
            raise SchemaError(
                f"trait {name!r} has the name of a customer table column; rename the trait"
            )
        out[name] = _typed(name, values, raw_ids)
    return ids, out


def _typed(name: str, values: list[Any], ids: list[Any]) -> npt.NDArray[Any]:
    seen: str | None = None
    first = 0
    missing = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        try:
            kind = _kind_of(value)
        except ValueTypeError as exc:
            raise SchemaError(
                f"customer {ids[i]!r}: trait {name!r} is {value!r} ({exc}); traits are text, "
                "numbers or booleans"
            ) from None
        if kind is None:
            missing[i] = True
            continue
        if kind == "a number" and not math.isfinite(float(value)):
            raise SchemaError(f"customer {ids[i]!r}: trait {name!r} is {value!r}; numbers "
                              "must be finite")  # fmt: skip
        if seen is None:
            seen, first = kind, i
        elif kind != seen:
            raise SchemaError(
                f"customer {ids[i]!r}: trait {name!r} is {value!r} ({kind}) but customer "
                f"{ids[first]!r} has {values[first]!r} ({seen}); a trait holds one type"
            )
    if seen == "text":
        return np.array([None if m else v for v, m in zip(values, missing)], dtype=object)
    if seen == "a boolean" and not missing.any():
        return np.array(values, dtype=bool)
    return np.array([np.nan if m else float(v) for v, m in zip(values, missing)], dtype=float)


def align_traits(
    ids: npt.NDArray[np.object_],
    columns: Mapping[str, npt.NDArray[Any]],
    customers: npt.NDArray[np.object_],
) -> dict[str, npt.NDArray[Any]]:
    """Trait columns in the order of ``customers`` (sorted); customers without traits get the
    missing value (None, NaN; a boolean trait becomes 1/0 floats with NaN)."""
    if ids.size == 0:  # no customer has traits: no trait columns
        return {}
    text_ids = ids.astype(str)
    wanted = customers.astype(str)
    order = np.argsort(text_ids, kind="stable")
    sorted_ids = text_ids[order]
    pos = np.minimum(np.searchsorted(sorted_ids, wanted), sorted_ids.size - 1)
    found = sorted_ids[pos] == wanted
    rows = order[pos]
    out: dict[str, npt.NDArray[Any]] = {}
    for name, values in columns.items():
        if values.dtype == np.bool_ and not found.all():
            values = values.astype(np.float64)
        if values.dtype == object:
            column = np.full(customers.shape[0], None, dtype=object)
        elif values.dtype == np.bool_:
            column = np.zeros(customers.shape[0], dtype=bool)
        else:
            column = np.full(customers.shape[0], np.nan)
        column[found] = values[rows[found]]
        out[name] = column
    return out


def usage_masks(log: InteractionLog, usage: UsageLike) -> list[tuple[str, npt.NDArray[np.bool_]]]:
    """(column name, row mask) for each usage count: a kind (``<kind>_count`` when listed) or
    a boolean mask of the log's rows. Kinds are checked as :meth:`InteractionLog.kind_mask`
    checks them (a typo raises with a did-you-mean); one kind may be given alone."""
    if isinstance(usage, str):  # one kind, not its letters
        usage = [usage]
    if not isinstance(usage, Iterable):
        raise ValueTypeError(
            f"usage must be kinds or a mapping of column name to a kind or a row mask; got "
            f"{got(usage)}"
        )
    items = (
        list(usage.items()) if isinstance(usage, Mapping) else [(f"{k}_count", k) for k in usage]
    )
    out: list[tuple[str, npt.NDArray[np.bool_]]] = []
    for name, spec in items:
        if isinstance(spec, str):  # a typo is named as the usage it is in, not as kind_mask()'s
            mask = _kind_mask(log._rows, (spec,), f"usage {str(name)!r}")
        else:
            mask = boolean_mask(spec, len(log), f"usage {name!r}: a mask")
        out.append((str(name), mask))
    names = [name for name, _ in out]
    if len(set(names)) < len(names):
        raise SchemaError(f"usage names must be unique; got {names!r}")
    return out
