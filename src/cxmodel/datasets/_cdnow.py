"""The CDNOW purchase history bundled with the package (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

import gzip
from importlib import resources
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._result import Result, column
from cxmodel.log import InteractionLog

__all__ = ["CdnowSummary", "cdnow", "cdnow_summary"]

FloatArray = npt.NDArray[np.float64]


def _read_bytes(name: str) -> bytes:
    with resources.files("cxmodel.datasets").joinpath("data").joinpath(name).open("rb") as handle:
        return gzip.decompress(handle.read())


def cdnow() -> InteractionLog:
    """Load the CDNOW master transactions (69,659 purchases by 23,570 customers).

    Each row becomes a ``purchase`` at midnight UTC of its date, with ``value`` (dollars) and
    ``quantity`` (number of CDs). The customers all made their first purchase in the first
    quarter of 1997 and are followed to 1998-06-30. The file is a date-only export, read as
    :func:`cxmodel.io.read_csv` reads it with ``timezone="UTC"``: the log is observed until the
    end of its last day (:attr:`~cxmodel.log.InteractionLog.observed_until` is
    1998-06-30T23:59:59.999999 UTC), so a period ending with that day is fully observed. See
    ``data/PROVENANCE.md``.

    Returns
    -------
    InteractionLog
        The purchases, sorted by customer and time.

    Examples
    --------
    >>> from cxmodel._time import us_to_datetime
    >>> log = cdnow()
    >>> len(log), log.n_customers
    (69659, 23570)
    >>> str(log.column("timestamp").min()), float(log.numeric("quantity").sum())
    ('1997-01-01T00:00:00.000000', 167881.0)
    >>> us_to_datetime(log.observed_until).isoformat()
    '1998-06-30T23:59:59.999999+00:00'
    """
    text = _read_bytes("cdnow_master.txt.gz").decode("ascii")
    table = np.array(text.split()[4:], dtype=object).reshape(-1, 4)
    n = table.shape[0]
    return InteractionLog.from_arrays(
        customer_id=table[:, 0].astype(str).astype(object),
        timestamp=table[:, 1],  # yyyymmdd: days, read as the readers read a date-only export
        kind=np.full(n, "purchase", dtype=object),
        value=table[:, 3].astype(np.float64),
        quantity=table[:, 2].astype(np.float64),
        timezone="UTC",
    )


@attrs.frozen(repr=False)
class CdnowSummary(Result):
    """Per-customer summary of the 2,357-customer CDNOW sample (times in weeks).

    Attributes
    ----------
    customer_id : ndarray of str
    x : ndarray of float
        Number of repeat purchases.
    t_x : ndarray of float
        Time of the last repeat purchase, in weeks since the first purchase.
    T : ndarray of float
        Length of the observation period, in weeks since the first purchase.
    zbar : ndarray of float
        Mean value of the repeat purchases (0 when ``x`` is 0).
    """

    customer_id: npt.NDArray[np.object_] = attrs.field(metadata=column())
    x: FloatArray = attrs.field(metadata=column())
    t_x: FloatArray = attrs.field(metadata=column())
    T: FloatArray = attrs.field(metadata=column())
    zbar: FloatArray = attrs.field(metadata=column())

    _dict_lists = True

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def _figures(self) -> dict[str, Any]:
        return {
            "repeat_buyers": int((self.x > 0).sum()),
            "repeat_purchases": float(self.x.sum()),
        }


def cdnow_summary() -> CdnowSummary:
    """Load the per-customer summary of the 2,357-customer CDNOW sample.

    The data behind the published BG/NBD estimates (r 0.243, alpha 4.414, a 0.793, b 2.426).

    Examples
    --------
    >>> s = cdnow_summary()
    >>> len(s), int((s.x > 0).sum()), float(s.T.max())
    (2357, 946, 38.86)
    """
    text = _read_bytes("cdnow_summary.csv.gz").decode("ascii")
    rows = np.array(text.strip().splitlines()[1:], dtype=object)
    table = np.array([line.split(",") for line in rows.tolist()], dtype=object)
    numbers = table[:, 1:].astype(np.float64)
    return CdnowSummary(
        customer_id=table[:, 0].astype(str).astype(object),
        x=numbers[:, 0].copy(),
        t_x=numbers[:, 1].copy(),
        T=numbers[:, 2].copy(),
        zbar=numbers[:, 3].copy(),
    )
