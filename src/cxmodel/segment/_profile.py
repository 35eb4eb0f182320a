"""Segment profiles: size, share, and feature means, medians and index vs the population."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import customer_table, name_sequence
from cxmodel._pieces import warn
from cxmodel._result import Result
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.segment._features import feature_columns, feature_matrix
from cxmodel.segment._segment_map import RFMSegments

if TYPE_CHECKING:
    from cxmodel.log._customer_table import CustomerTable

__all__ = ["SegmentProfile", "profile_segments"]

FloatMatrix = npt.NDArray[np.float64]


@attrs.frozen(eq=False, repr=False)
class SegmentProfile(Result):
    """Per segment: size, share and each feature's mean, median and index.

    ``index`` is the segment mean divided by the population mean, times 100 (NaN when the
    population mean is 0, and for a feature that takes negative values, where a ratio of means
    has no meaning). Matrices have one row per segment and one column per feature; NaN feature
    values are ignored.
    """

    segments: npt.NDArray[np.object_]
    size: npt.NDArray[np.int64]
    share: npt.NDArray[np.float64]
    features: tuple[str, ...]
    mean: FloatMatrix
    median: FloatMatrix
    index: FloatMatrix
    population_mean: npt.NDArray[np.float64]

    def _rows(self) -> dict[Any, Any]:
        """Wide columns: segment, size, share, then ``<feature>_mean/_median/_index``."""
        out: dict[str, npt.NDArray[Any]] = {
            "segment": self.segments,
            "size": self.size,
            "share": self.share,
        }
        for j, name in enumerate(self.features):
            out[f"{name}_mean"] = self.mean[:, j]
            out[f"{name}_median"] = self.median[:, j]
            out[f"{name}_index"] = self.index[:, j]
        return out


def _align(labels: Any, table: CustomerTable) -> npt.NDArray[np.object_]:
    if isinstance(labels, RFMSegments):
        out = np.full(len(table), None, dtype=object)
        pos = np.searchsorted(labels.customer_id, table.customer_id)
        pos = np.minimum(pos, max(len(labels) - 1, 0))
        hit = labels.customer_id[pos] == table.customer_id if len(labels) else pos < 0
        out[hit] = labels.labels[pos[hit]]
        return out
    arr = np.asarray(labels, dtype=object)
    if arr.shape != (len(table),):
        raise SchemaError(
            f"labels has shape {arr.shape}; expected ({len(table)},), one label per table row "
            "(or pass an RFMSegments to align by customer id)"
        )
    return arr


def _labelled(labels: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    """Rows with a label: not None, NaN or pandas' NA (the missing labels of a pandas column),
    which would otherwise become segments named 'nan' or '<NA>'."""
    missing = np.equal(labels, np.array([None], dtype=object)).astype(bool)
    # a label equals itself; NaN does not, and pandas' NA answers NA rather than a bool
    same = np.equal(labels, labels, dtype=object)
    itself = np.fromiter((u is True or u is np.True_ for u in same), bool, same.shape[0])
    labelled: npt.NDArray[np.bool_] = ~missing & itself
    return labelled


def _grouped_median(codes: npt.NDArray[np.int64], values: FloatMatrix, k: int) -> FloatMatrix:
    out = np.full((k, values.shape[1]), np.nan)
    for j in range(values.shape[1]):  # loop over features, not customers
        v = values[:, j]
        ok = ~np.isnan(v)
        c, v = codes[ok], v[ok]
        order = np.lexsort((v, c))
        c, v = c[order], v[order]
        counts = np.bincount(c, minlength=k)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        has = counts > 0
        lo = starts + (counts - 1) // 2
        hi = starts + counts // 2
        out[has, j] = (v[lo[has]] + v[hi[has]]) / 2
    return out


def profile_segments(
    labels: Any, table: CustomerTable, *, features: Sequence[str] | None = None
) -> SegmentProfile:
    """Describe each segment against the whole table.

    Parameters
    ----------
    labels : array-like of str or RFMSegments
        One label per table row, or RFM segments (aligned by customer id). Customers without a
        label (not in the RFM segments, or a ``None`` or NaN label) count in the population but
        in no segment, so the shares then add up to less than 1.
    table : CustomerTable
    features : sequence of str, optional
        Columns to describe; by default every bool and numeric column. A text column (a
        trait such as ``plan``) is described by the share of each of its values
        (``plan=basic``, ``plan=pro``, ...).

    Returns
    -------
    SegmentProfile
        Segments sorted by name.

    Raises
    ------
    DataError
        When no customer of a non-empty table has a label.

    Warns
    -----
    DataWarning
        When features take negative values (a sentiment, a change): their index is NaN,
        since a ratio to a mean near or below 0 would be meaningless (named).
    """
    table = customer_table(table, "profile_segments()")
    features = (
        None if features is None else name_sequence(features, "profile_segments()", "features")
    )
    aligned = _align(labels, table)
    columns = feature_columns(table, features)
    names = list(columns)
    x = feature_matrix(columns)
    labelled = _labelled(aligned)
    if len(table) and not labelled.any():
        raise DataError(
            f"profile_segments(): none of the {len(table):,} customers of the table has a "
            "label (every label is missing, or no customer id of the segments is in the "
            "table), so there is no segment to profile"
        )
    segments, codes = np.unique(aligned[labelled].astype(str), return_inverse=True)
    k = segments.shape[0]
    codes = codes.astype(np.int64)
    xs = x[labelled]
    size = np.bincount(codes, minlength=k).astype(np.int64)
    ok = ~np.isnan(xs)
    sums = np.stack(
        [
            np.bincount(codes, weights=np.where(ok[:, j], xs[:, j], 0.0), minlength=k)
            for j in range(xs.shape[1])
        ],
        axis=1,
    )
    counts = np.stack(
        [np.bincount(codes[ok[:, j]], minlength=k) for j in range(xs.shape[1])], axis=1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        population = np.array(
            [
                np.nanmean(x[:, j]) if (~np.isnan(x[:, j])).any() else np.nan
                for j in range(x.shape[1])
            ]
        )
        index = np.where(population != 0, mean / population * 100.0, np.nan)
    signed = (x < 0).any(axis=0)  # NaN compares False
    if signed.any():
        # a ratio of means needs a true zero: with a mean of -0.05 overall, a segment at -0.35
        # would read as an index of 700 and one at +0.25 as -500
        index[:, signed] = np.nan
        shown = ", ".join(repr(names[j]) for j in np.flatnonzero(signed).tolist())
        warn(
            f"profile_segments(): {int(signed.sum())} feature(s) take negative values, so "
            f"their index (segment mean / population mean x 100) is NaN: {shown}; compare "
            "their means with the population_mean instead",
            DataWarning,
        )
    return SegmentProfile(
        segments=segments.astype(object),
        size=size,
        share=size / max(len(table), 1),
        features=tuple(names),
        mean=mean,
        median=_grouped_median(codes, xs, k),
        index=index,
        population_mean=population,
    )
