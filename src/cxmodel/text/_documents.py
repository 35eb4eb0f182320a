"""The documents of a log: rows with a text, optionally restricted to some kinds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from cxmodel.log import InteractionLog

__all__ = ["Documents", "documents", "pick", "spread"]


class Documents:
    """Rows of ``log`` holding a non-empty text: row indices, text codes and distinct texts.

    Texts are dictionary-encoded in the log, so each distinct text is processed once.
    """

    def __init__(
        self,
        rows: npt.NDArray[np.int64],
        codes: npt.NDArray[np.int64],
        texts: npt.NDArray[np.object_],
        n_rows: int,
    ) -> None:
        self.rows = rows
        self.codes = codes
        self.texts = texts
        self.n_rows = n_rows

    def __len__(self) -> int:
        return len(self.rows)


def documents(log: InteractionLog, text: str, kinds: Sequence[str] | None) -> Documents:
    """The rows of ``log`` whose ``text`` column is present and not blank."""
    codes, cats = log.categorical(text)
    mask = codes >= 0
    if kinds is not None:
        mask &= log.kind_mask(*kinds)
    blank = np.array([not str(c).strip() for c in cats], dtype=bool)
    if blank.any():
        mask &= ~np.append(blank, False)[codes]
    rows = np.flatnonzero(mask).astype(np.int64)
    return Documents(rows, codes[rows].astype(np.int64), cats, len(log))


def spread(
    n_rows: int, rows: npt.NDArray[np.int64], values: npt.NDArray[np.object_]
) -> npt.NDArray[np.object_]:
    """A column of length ``n_rows``: ``values`` at ``rows``, ``None`` elsewhere."""
    out = np.full(n_rows, None, dtype=object)
    out[rows] = values
    return out


def pick(labels: npt.NDArray[np.object_], index: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """``labels[index]`` with ``None`` where ``index`` is -1."""
    padded = np.empty(len(labels) + 1, dtype=object)
    padded[:-1] = labels
    padded[-1] = None
    out: npt.NDArray[np.object_] = padded[index]
    return out
