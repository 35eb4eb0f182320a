"""The table of rows a reader or builder rejected, with their reasons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._optional import import_optional

__all__ = ["RejectedRows"]


@attrs.frozen(eq=False)
class RejectedRows:
    """Rows rejected under ``errors="quarantine"``: 1-based row numbers, reasons, raw values.

    Accepted rows plus rejected rows always equal the rows read.

    Examples
    --------
    >>> rejected = RejectedRows.empty()
    >>> len(rejected)
    0
    """

    row: npt.NDArray[np.int64]
    reason: npt.NDArray[np.object_]
    records: tuple[dict[str, Any], ...]

    @classmethod
    def empty(cls) -> RejectedRows:
        """No rejected rows."""
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=object), ())

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def __iter__(self) -> Iterator[tuple[int, str, dict[str, Any]]]:
        for row, reason, record in zip(self.row, self.reason, self.records):
            yield int(row), str(reason), record

    def to_dict(self) -> dict[str, Any]:
        """Columns as lists."""
        return {
            "row": self.row.tolist(),
            "reason": self.reason.tolist(),
            "record": list(self.records),
        }

    def to_pandas(self) -> Any:
        """A pandas DataFrame with ``row``, ``reason`` and the raw values."""
        pd = import_optional("pandas", "RejectedRows.to_pandas()")
        frame = pd.DataFrame(list(self.records))
        frame.insert(0, "reason", self.reason)
        frame.insert(0, "row", self.row)
        return frame

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{r}</td><td>{reason}</td></tr>" for r, reason, _ in list(self)[:20]
        )
        return (
            f"<p>{len(self)} rejected rows</p><table><tr><th>row</th><th>reason</th></tr>"
            f"{rows}</table>"
        )
