"""The table of rows a reader or builder rejected, with their reasons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._result import Result, column

__all__ = ["RejectedRows"]


@attrs.frozen(eq=False, repr=False)
class RejectedRows(Result):
    """Rows rejected under ``errors="quarantine"``: 1-based row numbers, reasons, raw values.

    Accepted rows plus rejected rows always equal the rows read.

    Examples
    --------
    >>> rejected = RejectedRows.empty()
    >>> len(rejected)
    0
    """

    row: npt.NDArray[np.int64] = attrs.field(metadata=column())
    reason: npt.NDArray[np.object_] = attrs.field(metadata=column())
    records: tuple[dict[str, Any], ...] = attrs.field(metadata=column("record"))

    _dict_lists = True
    _frame_spread = "record"  # to_pandas: one column per raw value

    @classmethod
    def empty(cls) -> RejectedRows:
        """No rejected rows."""
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=object), ())

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def __iter__(self) -> Iterator[tuple[int, str, dict[str, Any]]]:
        for row, reason, record in zip(self.row, self.reason, self.records):
            yield int(row), str(reason), record
