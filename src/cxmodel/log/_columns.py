"""Column encoding and row validation for building an InteractionLog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel.domain._interaction import MONEY_KINDS
from cxmodel.domain._kinds import METRIC_SCALES
from cxmodel.errors import SchemaError

__all__ = [
    "NUMERIC_STANDARD",
    "REQUIRED",
    "STRING_STANDARD",
    "Codes",
    "Encoded",
    "RowErrors",
    "encode_strings",
    "is_missing",
    "to_float_column",
    "validate_rows",
]

Codes = npt.NDArray[np.int32]
REQUIRED = ("customer_id", "timestamp", "kind")
STRING_STANDARD = (
    "customer_id",
    "kind",
    "interaction_id",
    "touchpoint",
    "channel",
    "stage",
    "metric",
    "purpose",
)
NUMERIC_STANDARD = ("value", "score", "sentiment")


class Encoded:
    """A column already dictionary-encoded by its source (e.g. Arrow): codes and categories.

    Codes are int32 with -1 for missing; categories need not be sorted or unique-checked.
    """

    __slots__ = ("categories", "codes")

    def __init__(self, codes: npt.NDArray[Any], categories: npt.NDArray[Any]) -> None:
        self.codes = np.asarray(codes, dtype=np.int32)
        self.categories = np.asarray(categories, dtype=object)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.codes.shape

    @property
    def ndim(self) -> int:
        return 1

    def __getitem__(self, row: int) -> Any:
        code = int(self.codes[row])
        return None if code < 0 else self.categories[code]

    def decode(self) -> npt.NDArray[np.object_]:
        """The values as an object array (``None`` for missing)."""
        lookup = np.concatenate([self.categories, np.array([None], dtype=object)])
        return lookup[self.codes]


class RowErrors:
    """Collects ``row -> reason`` for rejected rows; the first reason per row wins."""

    def __init__(self) -> None:
        self.reasons: dict[int, str] = {}

    def add(self, rows: npt.NDArray[np.intp] | list[int], make: Callable[[int], str]) -> None:
        for row in rows:
            self.reasons.setdefault(int(row), make(int(row)))

    def update(self, reasons: dict[int, str]) -> None:
        for row, reason in reasons.items():
            self.reasons.setdefault(row, reason)

    def __bool__(self) -> bool:
        return bool(self.reasons)


def is_missing(values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Missing entries of a column: ``None``, NaN, or the empty string."""
    if values.dtype.kind == "f":
        return np.asarray(np.isnan(values), dtype=bool)
    if values.dtype.kind in "US":
        return np.asarray(values == values.dtype.type(""), dtype=bool)
    if values.dtype.kind == "O":
        none = np.array([None], dtype=object)
        empty = np.array([""], dtype=object)
        with np.errstate(invalid="ignore"):
            missing = np.equal(values, none) | np.not_equal(values, values)
            missing |= np.equal(values, empty)
        return np.asarray(missing, dtype=bool)
    return np.zeros(values.shape[0], dtype=bool)


def encode_strings(values: npt.NDArray[Any]) -> tuple[Codes, npt.NDArray[np.object_]]:
    """Dictionary-encode a column: int32 codes (-1 = missing) and sorted string categories.

    Examples
    --------
    >>> codes, cats = encode_strings(np.array(["b", None, "a", "b"], dtype=object))
    >>> codes.tolist(), cats.tolist()
    ([1, -1, 0, 1], ['a', 'b'])
    """
    if isinstance(values, Encoded):
        return _sort_categories(values.codes, values.categories)
    n = values.shape[0]
    codes = np.full(n, -1, dtype=np.int32)
    if n == 0:
        return codes, np.empty(0, dtype=object)
    if values.dtype.kind in "iu" and n:
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * n:  # dense integer ids: O(n) encoding by presence
            present = np.zeros(high - low + 1, dtype=bool)
            present[values - low] = True
            uniq_ints = np.flatnonzero(present) + low
            dense = (np.cumsum(present) - 1).astype(np.int32)
            return _sort_categories(dense[values - low], uniq_ints.astype(str).astype(object))
    if values.dtype.kind in "iub":
        uniq, inverse = np.unique(values, return_inverse=True)
        labels = uniq.astype(str)
        order = np.argsort(labels, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return rank[inverse.ravel()].astype(np.int32), labels[order].astype(object)
    hashed = _arrow_encode(values)
    if hashed is not None:
        return hashed
    missing = is_missing(values)
    present = values[~missing] if missing.any() else values
    if present.dtype.kind == "O":
        present = present.astype(str)
    few = _few_categories(present)
    if few is not None:
        codes[~missing] = few[0]
        return codes, few[1]
    uniq, inverse = np.unique(present, return_inverse=True)
    codes[~missing] = inverse.ravel()
    return codes, uniq.astype(object)


def _arrow_encode(values: npt.NDArray[Any]) -> tuple[Codes, npt.NDArray[np.object_]] | None:
    """Hash-based dictionary encoding through pyarrow (O(n)) for large string columns.

    ``None`` when pyarrow is not installed, the column is small, or it holds non-strings; the
    caller then sorts with numpy. Empty strings count as missing, as everywhere else.
    """
    if values.shape[0] < 50_000 or values.dtype.kind not in "OU":
        return None
    try:
        import pyarrow as pa
    except ImportError:
        return None
    try:
        encoded = pa.array(values, type=pa.string()).dictionary_encode()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None  # mixed types (numbers, NaN) take the general path
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int32)
    categories = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    return _sort_categories(codes, categories)


def _few_categories(
    values: npt.NDArray[Any], limit: int = 32
) -> tuple[Codes, npt.NDArray[np.object_]] | None:
    """Encode a low-cardinality string column by comparisons instead of a full sort.

    Candidates come from a sample; ``None`` when the sample shows many values or some row
    matches no candidate (the caller then sorts).
    """
    if values.shape[0] < 10_000:
        return None
    candidates = np.unique(values[:: max(values.shape[0] // 2000, 1)])
    if candidates.size > limit:
        return None
    codes = np.full(values.shape[0], -1, dtype=np.int32)
    for code, candidate in enumerate(candidates):
        codes[values == candidate] = code
    if (codes < 0).any():
        return None
    return codes, candidates.astype(object)


def _sort_categories(
    codes: npt.NDArray[np.int32], categories: npt.NDArray[Any]
) -> tuple[Codes, npt.NDArray[np.object_]]:
    """Sort categories as strings (merging duplicates) and remap codes; -1 stays -1."""
    labels = np.array([None if c is None else str(c) for c in categories], dtype=object)
    valid = np.array([c is not None and c == c and c != "" for c in labels], dtype=bool)
    if labels.size == 0:
        return np.asarray(codes, dtype=np.int32), np.empty(0, dtype=object)
    uniq, inverse = np.unique(labels[valid].astype(str), return_inverse=True)
    remap = np.full(labels.size + 1, -1, dtype=np.int32)
    remap[np.flatnonzero(valid)] = inverse.ravel()
    out = remap[np.where(codes < 0, labels.size, codes)]
    return out.astype(np.int32), uniq.astype(object)


def to_float_column(
    values: npt.NDArray[Any], column: str, errors: RowErrors
) -> npt.NDArray[np.float64]:
    """Convert a column to float64 (NaN = missing), recording rows that are not numbers."""
    if isinstance(values, Encoded):
        values = values.decode()
    if values.dtype.kind in "fiu":
        return values.astype(np.float64)
    if values.dtype.kind == "b":
        return values.astype(np.float64)
    out = np.full(values.shape[0], np.nan)
    missing = is_missing(values)
    present = np.flatnonzero(~missing)
    if present.size == 0:
        return out
    uniq, inverse = np.unique(values[present].astype(str), return_inverse=True)
    converted = np.empty(uniq.size)
    bad: list[int] = []
    for j, text in enumerate(uniq):
        try:
            converted[j] = float(text)
        except ValueError:
            converted[j] = np.nan
            bad.append(j)
    out[present] = converted[inverse.ravel()]
    if bad:
        bad_rows = present[np.isin(inverse.ravel(), bad)]
        errors.add(
            bad_rows,
            lambda row: f"{column} {values[row]!r} is not a number (column {column!r})",
        )
    return out


def validate_rows(
    n: int,
    strings: dict[str, tuple[Codes, npt.NDArray[np.object_]]],
    numeric: dict[str, npt.NDArray[np.float64]],
    errors: RowErrors,
) -> None:
    """Check the required columns and the scales of score, value and sentiment, vectorised."""
    for name in ("customer_id", "kind"):
        codes, _ = strings[name]
        message = f"{name} is missing (column {name!r}); every row needs one"
        errors.add(np.flatnonzero(codes < 0), lambda row, message=message: message)  # type: ignore[misc]
    kind_codes, kinds = strings["kind"]
    if "value" in numeric:
        money = np.isin(kinds, list(MONEY_KINDS))
        value = numeric["value"]
        is_money = (
            (kind_codes >= 0) & money[np.maximum(kind_codes, 0)] if kinds.size else kind_codes < -1
        )
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(is_money & (value < 0))
        errors.add(
            bad,
            lambda row: (
                f"value {value[row]!r} is negative for a "
                f"{kinds[kind_codes[row]]!r} (column 'value'); amounts are positive, the kind says "
                "the direction"
            ),
        )
    if "metric" in strings:
        metric_codes, metrics = strings["metric"]
        known = np.array([m in METRIC_SCALES for m in metrics], dtype=bool)
        unknown = (
            (metric_codes >= 0) & ~known[np.maximum(metric_codes, 0)]
            if metrics.size
            else metric_codes < -1
        )
        errors.add(
            np.flatnonzero(unknown),
            lambda row: (
                f"metric {metrics[metric_codes[row]]!r} is unknown (column 'metric'); "
                f"expected one of {sorted(METRIC_SCALES)}"
            ),
        )
        if "score" in numeric and metrics.size:
            score = numeric["score"]
            low = np.array([METRIC_SCALES.get(m, (-np.inf, np.inf))[0] for m in metrics])
            high = np.array([METRIC_SCALES.get(m, (-np.inf, np.inf))[1] for m in metrics])
            code = np.maximum(metric_codes, 0)
            with np.errstate(invalid="ignore"):
                off = (metric_codes >= 0) & ((score < low[code]) | (score > high[code]))
            errors.add(
                np.flatnonzero(off),
                lambda row: (
                    f"score {score[row]:g} is outside the "
                    f"{metrics[metric_codes[row]].upper()} scale {low[metric_codes[row]]:g}.."
                    f"{high[metric_codes[row]]:g} (column 'score', metric "
                    f"{metrics[metric_codes[row]]!r})"
                ),
            )
    if "sentiment" in numeric:
        sentiment = numeric["sentiment"]
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero((sentiment < -1) | (sentiment > 1))
        errors.add(
            bad, lambda row: f"sentiment {sentiment[row]:g} is outside -1..1 (column 'sentiment')"
        )
    if "interaction_id" in strings:
        codes, ids = strings["interaction_id"]
        present = np.flatnonzero(codes >= 0)
        if present.size:
            order = present[np.argsort(codes[present], kind="stable")]
            sorted_codes = codes[order]
            dup = order[1:][sorted_codes[1:] == sorted_codes[:-1]]
            first_of = {}
            for row in dup:
                c = int(codes[row])
                if c not in first_of:
                    first_of[c] = int(order[np.searchsorted(sorted_codes, c)])
            errors.add(
                np.sort(dup),
                lambda row: (
                    f"interaction_id {ids[codes[row]]!r} is a duplicate of row "
                    f"{first_of[int(codes[row])] + 1} (column 'interaction_id'); ids must be unique"
                ),
            )
    del n


def raise_first(errors: RowErrors) -> None:
    """Raise a SchemaError for the first rejected row (1-based data row number)."""
    if errors:
        row = min(errors.reasons)
        more = len(errors.reasons) - 1
        suffix = (
            f" ({more} more row{'s' if more != 1 else ''} rejected; pass errors='quarantine' "
            "to keep the valid rows and inspect log.rejected)"
            if more
            else ""
        )
        raise SchemaError(f"row {row + 1}: {errors.reasons[row]}{suffix}")
