"""Feature selection and group alignment over a CustomerTable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cxmodel.errors import SchemaError

if TYPE_CHECKING:
    from cxmodel.log._customer_table import CustomerTable

__all__ = ["feature_matrix", "group_mask", "numeric_features"]


def numeric_features(table: CustomerTable, features: Sequence[str] | None) -> list[str]:
    """The named features, or by default every bool / numeric column of the table."""
    if features is None:
        return [name for name in table.columns[1:] if table.column(name).dtype.kind in "biuf"]
    names = list(features)
    if not names:
        raise SchemaError("features must name at least one column (got an empty list)")
    for name in names:
        kind = table.column(name).dtype.kind
        if kind not in "biuf":
            raise SchemaError(
                f"feature {name!r} has dtype {table.column(name).dtype}; expected a bool or "
                "numeric column"
            )
    return names


def feature_matrix(table: CustomerTable, features: Sequence[str]) -> npt.NDArray[np.float64]:
    """An (n_customers, n_features) float matrix of the named columns."""
    return np.column_stack([table.column(name).astype(np.float64) for name in features])


def group_mask(table: CustomerTable, group: Any, what: str) -> npt.NDArray[np.bool_]:
    """A boolean mask over the table from a mask or a collection of customer ids."""
    arr = np.asarray(group)
    if arr.dtype == np.bool_:
        if arr.shape != (len(table),):
            raise SchemaError(
                f"{what} is a boolean mask of shape {arr.shape}; expected ({len(table)},), one "
                "value per table row"
            )
        return arr
    ids = arr.astype(object).ravel()
    mask = np.isin(table.customer_id, ids)
    if ids.size and not mask.any():
        raise SchemaError(f"{what} names no customer of the table (e.g. {ids[0]!r})")
    return mask
