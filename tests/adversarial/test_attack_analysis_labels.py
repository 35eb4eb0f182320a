"""Breakdown labels passed as arrays (``by=[...]``) to the survey scores: labels that print
alike but are different values, and integer labels past the int64 range.

A group is a set of answers; two groups merged without a word give a number that looks
right and is not."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from cxmodel import metrics
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
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

    @pytest.mark.parametrize(
        ("metric", "scores", "labels", "text", "number"),
        [
            (metrics.nps, [10, 9, 0], ["1", 1, "a"], "'1'", "1"),
            (metrics.csat, [5, 1], ["2", 2], "'2'", "2"),
            (metrics.ces, [7, 1], [2.5, "2.5"], "'2.5'", "2.5"),
            (metrics.nps, [10, 0, 5], ["b", np.int64(3), "3"], "'3'", "3"),
        ],
        ids=["nps", "csat", "ces-float", "nps-numpy-int"],
    )
    def test_text_and_number_labels_are_refused(
        self,
        metric: Callable[..., object],
        scores: list[int],
        labels: list[object],
        text: str,
        number: str,
    ) -> None:
        """``"1"`` and ``1`` are two labels that would be one group (before, the answers of
        both landed in one group "1" with n = 2, no warning): refused naming both, as a reader
        refuses a column holding both."""
        given = np.array(labels, dtype=object)
        with pytest.raises(
            SchemaError,
            match=rf"by holds the text {text} and the number {number}, which would merge.*"
            "all as text or all as numbers",
        ):
            metric(scores, by=given)

    def test_text_and_number_labels_refused_on_a_log(self) -> None:
        """The same labels given per row of a log are refused alike."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b"],
            timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z"],
            kind="survey",
            metric=["nps", "nps"],
            score=[10, 0],
        )
        with pytest.raises(SchemaError, match="by holds the text '1' and the number 1"):
            metrics.nps(log, by=np.array([1, "1"], dtype=object))

    def test_text_and_number_labels_that_differ_stay_apart(self) -> None:
        """Numbers mixed with text that none of them spells are read as text, one group
        each: "a", "1" and 2 are three groups."""
        table = _quiet_nps([10, 9, 0], by=np.array(["a", "1", 2], dtype=object))
        assert table["by"] == ["1", "2", "a"]
        assert table["n"] == [1, 1, 1]

    def test_kaplan_meier_by_refuses_merging_groups(self) -> None:
        """``kaplan_meier_by`` shares the rule: groups ``"1"`` and ``1`` are refused."""
        with pytest.raises(SchemaError, match=r"groups holds the text '1' and the number 1"):
            metrics.kaplan_meier_by([1, 2], groups=np.array(["1", 1], dtype=object))

    def test_unsigned_labels_past_int64(self) -> None:
        """Labels of dtype uint64 beyond 2**63 (ids exported unsigned) are labels like any
        other, kept exact (before, ``OverflowError: Python int too large to convert to C
        long`` escapes)."""
        labels = np.array([2**63 + 6, 2**63 + 5, 2**63 + 6], dtype=np.uint64)
        table = _quiet_nps([10, 0, 9], by=labels)
        assert table["by"] == [2**63 + 5, 2**63 + 6]
        assert table["n"] == [1, 2]
        assert table["value"] == [-100.0, 100.0]

    def test_unsigned_labels_past_int64_in_a_proportion_metric(self) -> None:
        """The proportion metrics group the same ids."""
        labels = np.array([2**64 - 1, 2**63], dtype=np.uint64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            table = metrics.csat([5, 1], by=labels)
        assert table["by"].tolist() == [2**63, 2**64 - 1]
        assert table["n"].tolist() == [1, 1]

    def test_two_dimensional_labels_are_refused(self) -> None:
        """A 2-d array of labels is not one label per score."""
        with pytest.raises(SchemaError, match=r"nps\(\): by must be a flat list.*shape \(2, 2\)"):
            metrics.nps([10, 9, 0, 1], by=np.array([["a", "b"], ["a", "b"]]))
