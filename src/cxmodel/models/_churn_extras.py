"""Customer traits and usage counts as churn features (``churn_risk(traits=..., usage=...)``).

Numbers and booleans enter as they are (a missing value at the mean of the others); a text
trait enters as one 0/1 indicator per value but the most common (the reference), named
``plan=pro``. A usage count enters as ``log_<name>`` = log(1 + rows of the customer at or
before the snapshot).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel.log._traits import align_traits, read_traits, usage_masks

if TYPE_CHECKING:
    from cxmodel.log import InteractionLog

__all__ = ["ExtraFeatures", "extra_reason"]

FloatArray = npt.NDArray[np.float64]
MISSING_LEVEL = "(missing)"


@attrs.frozen(eq=False)
class ExtraFeatures:
    """Traits (checked once) and usage masks over the rows of one log."""

    usage: tuple[tuple[str, npt.NDArray[np.bool_]], ...]
    trait_ids: npt.NDArray[np.object_] | None
    trait_columns: dict[str, npt.NDArray[Any]]
    levels: dict[str, tuple[str, ...]]  # text trait -> the levels that get an indicator

    @classmethod
    def build(
        cls, log: InteractionLog, traits: Any, usage: Any, reserved: tuple[str, ...]
    ) -> ExtraFeatures | None:
        """Check ``traits`` and ``usage`` against ``log``; None when neither is given."""
        if traits is None and usage is None:
            return None
        masks = tuple(usage_masks(log, usage)) if usage is not None else ()
        ids: npt.NDArray[np.object_] | None = None
        columns: dict[str, npt.NDArray[Any]] = {}
        levels: dict[str, tuple[str, ...]] = {}
        if traits is not None:
            ids, columns = read_traits(traits, reserved=reserved)
            for name, values in columns.items():
                if values.dtype == object:
                    text = _level_text(values)
                    found, counts = np.unique(text, return_counts=True)
                    reference = found[int(np.argmax(counts))]
                    levels[name] = tuple(str(v) for v in found if v != reference)
        return cls(masks, ids, columns, levels)

    def columns(
        self,
        log: InteractionLog,
        customers: npt.NDArray[np.object_],
        data_end: int,
    ) -> tuple[dict[str, FloatArray], dict[str, FloatArray], dict[str, npt.NDArray[np.bool_]]]:
        """Feature columns for ``customers`` from the rows at or before ``data_end``, the raw
        values for the reasons, and where a value was imputed."""
        cols: dict[str, FloatArray] = {}
        raw: dict[str, FloatArray] = {}
        imputed: dict[str, npt.NDArray[np.bool_]] = {}
        n = customers.size
        if self.usage:
            pos = np.minimum(np.searchsorted(customers, log.customers), max(n - 1, 0))
            known = customers[pos] == log.customers if n else np.zeros(log.n_customers, bool)
            rows = (log.timestamps <= data_end) & known[log.customer_codes]
            codes = pos[log.customer_codes]
            for name, mask in self.usage:
                count = np.bincount(codes[mask & rows], minlength=n).astype(np.float64)
                cols[f"log_{name}"] = np.log1p(count)
                raw[f"log_{name}"] = count
        if self.trait_ids is not None:
            aligned = align_traits(self.trait_ids, self.trait_columns, customers)
            for name, values in aligned.items():
                if name in self.levels:
                    text = _level_text(values)
                    for level in self.levels[name]:
                        cols[f"{name}={level}"] = (text == level).astype(np.float64)
                    continue
                numbers = values.astype(np.float64)
                missing = np.isnan(numbers)
                if missing.all():
                    continue
                cols[name] = np.where(missing, np.nanmean(numbers), numbers)
                raw[name] = numbers
                if missing.any():
                    imputed[name] = missing
        return cols, raw, imputed


def _level_text(values: npt.NDArray[Any]) -> npt.NDArray[np.str_]:
    """A text trait's values as text, a missing value as ``"(missing)"``."""
    return np.where(values == None, MISSING_LEVEL, values).astype(str)  # noqa: E711


def extra_reason(name: str) -> str:
    """The phrase of a trait or usage feature in a customer's reasons ({v}: their value)."""
    if "=" in name:
        trait, level = name.split("=", 1)
        return f"{trait} is {level}"
    if name.startswith("log_"):
        return f"{name[4:]}: {{v:.0f}}"
    return f"{name} {{v:g}}"
