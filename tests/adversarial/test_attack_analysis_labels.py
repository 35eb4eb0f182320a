"""Breakdown labels passed as arrays (``by=[...]``) to the survey scores: labels that print
alike but are different values, and integer labels past the int64 range.

A group is a set of answers; two groups merged without a word give a number that looks
right and is not."""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
import pytest

from cxmodel import metrics
from cxmodel.errors import CXModelError
from cxmodel.metrics import SmallSampleWarning


def _quiet_nps(scores: list[int], by: npt.ArrayLike) -> dict[str, list[object]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        table = metrics.nps(scores, by=by)
    return {name: column.tolist() for name, column in table.to_dict().items()}


class TestLabelsThatDiffer:
    def test_integer_labels_keep_their_order_as_numbers(self) -> None:
        """Numeric labels sort as numbers (documented): 1, 2, 10."""
        table = _quiet_nps([10, 0, 5], by=[10, 2, 1])
        assert table["by"] == [1, 2, 10]
        assert table["value"] == [-100.0, -100.0, 100.0]

    def test_labels_that_differ_by_a_rounding_stay_apart(self) -> None:
        """0.1 + 0.2 and 0.3 are two labels: nothing rounds them together."""
        table = _quiet_nps([10, 0], by=[0.1 + 0.2, 0.3])
        assert table["n"] == [1, 1]

    @pytest.mark.xfail(
        strict=True,
        raises=AssertionError,
        reason="nps(by=[...]) merges the text label '1' with the number 1 silently",
    )
    def test_text_and_number_labels_are_not_merged(self) -> None:
        """``"1"`` and ``1`` are two labels (a reader refuses a column holding both, since they
        would merge). Today the answers of both land in one group "1" with n = 2, no warning."""
        labels = np.array(["1", 1, "a"], dtype=object)
        try:
            table = _quiet_nps([10, 9, 0], by=labels)
        except CXModelError:
            return  # refusing the mix is an answer too
        assert table["n"] == [1, 1, 1]

    @pytest.mark.xfail(
        strict=True,
        raises=AssertionError,
        reason="csat(by=[...]) merges the text label '2' with the number 2 silently",
    )
    def test_csat_text_and_number_labels_are_not_merged(self) -> None:
        """The same merge in the proportion metrics: one group of 2 answers, 50 %."""
        labels = np.array(["2", 2], dtype=object)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallSampleWarning)
                table = metrics.csat([5, 1], by=labels)
        except CXModelError:
            return
        assert table["n"].tolist() == [1, 1]

    @pytest.mark.xfail(
        strict=True,
        raises=OverflowError,
        reason="nps(by=uint64 labels past 2**63) raises a raw OverflowError",
    )
    def test_unsigned_labels_past_int64(self) -> None:
        """Labels of dtype uint64 beyond 2**63 (ids exported unsigned) are labels like any
        other; today ``OverflowError: Python int too large to convert to C long`` escapes."""
        labels = np.array([2**63 + 5, 2**63 + 6], dtype=np.uint64)
        try:
            table = _quiet_nps([10, 0], by=labels)
        except CXModelError:
            return
        assert table["n"] == [1, 1]
