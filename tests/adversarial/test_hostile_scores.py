"""Survey metrics and numeric arguments given arrays of any dtype: a result whose counts are
the answers' or a ``CXModelError``; never a bool counted as a score, text read as a number, a
2-D array flattened or a complex number stripped of its imaginary part without a word."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cxmodel import metrics, models
from cxmodel.errors import CXModelError, SchemaError, ValueTypeError

SCORES = [0, 5, 9, 10, 7]


def _quiet(call: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


class TestScoreArrays:
    def test_unsigned_scores(self) -> None:
        """uint64 scores were a TypeError from numpy's mixed-sign subtraction."""
        result = _quiet(lambda: metrics.nps(np.array([9, 10, 3], dtype=np.uint64)))
        assert (result.promoters, result.detractors) == (2, 1)

    @pytest.mark.parametrize(
        ("data", "error", "message"),
        [
            pytest.param([True, False], SchemaError, "holds True/False", id="bools"),
            pytest.param([[9, 10], [3, 4]], SchemaError, r"shape \(2, 2\)", id="2-d"),
            pytest.param(["9", "10"], ValueTypeError, "text is not a number", id="text"),
            pytest.param(np.array([9 + 0j]), ValueTypeError, "complex", id="complex"),
        ],
    )
    def test_refused(self, data: Any, error: type[Exception], message: str) -> None:
        """Bools were counted as scores 1 and 0 (two detractors), a 2-D array was flattened,
        text was read as numbers and a complex number lost its imaginary part."""
        for metric in (metrics.nps, metrics.csat, metrics.ces):
            with pytest.raises(error, match=message):
                metric(data)

    @pytest.mark.parametrize("seed", [-1, 1.5, "0"])
    def test_bootstrap_seed(self, seed: Any) -> None:
        """A negative or fractional random_state was numpy's ValueError or TypeError."""
        with pytest.raises(CXModelError, match="random_state"):
            metrics.nps(SCORES, ci="bootstrap", random_state=seed)

    def test_huge_scale(self) -> None:
        """scale=(0, 10**30) was numpy's 'Maximum allowed dimension exceeded'."""
        with pytest.raises(SchemaError, match="at most 1,001"):
            metrics.csat([1, 2], scale=(0, 10**30))


class TestNumbersAreNotText:
    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda: metrics.kaplan_meier(["1", "2"], [1, 1]), id="kaplan_meier"),
            pytest.param(lambda: metrics.kaplan_meier([1, 2], ["1", "0"]), id="km-observed"),
            pytest.param(lambda: models.concordance_index(["1", "2"], [0.1, 0.2]), id="c-index"),
            pytest.param(lambda: models.auc_score([0, 1], ["0.1", "0.2"]), id="auc"),
        ],
    )
    def test_text_numbers_are_refused(self, call: Any) -> None:
        """Text such as '1' was read as the number 1 where numbers are expected, unlike the
        readers' rule that text stays text."""
        with pytest.raises(ValueTypeError, match="text is not a number"):
            call()


_SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def _refusal(scores: np.ndarray[Any, Any], metric: str) -> str:
    """What the error refusing ``scores`` must say; fails when nothing in them is wrong."""
    if scores.ndim > 1:
        return f"got an array of shape {scores.shape}"
    if scores.dtype.kind == "b":
        return f"{metric}(): data holds True/False"
    if scores.dtype.kind == "c":
        return "a complex number is not a real number"
    low, high = _SCALES[metric]
    flat = scores.reshape(-1).astype(np.float64)
    with np.errstate(invalid="ignore"):
        good = np.isfinite(flat) & (flat >= low) & (flat <= high) & (flat == np.round(flat))
    assert not good.all(), f"{scores!r} are valid {metric} scores, yet refused"
    row = int(np.flatnonzero(~good)[0]) + 1  # rows count from 1 (docs/guide/bad-input.md)
    if np.isnan(flat[row - 1]):
        return f"row {row}: score is missing (None or NaN) among {metric!r} scores"
    return (
        f"row {row}: score {float(flat[row - 1])!r} is outside the {metric.upper()} scale {low}..{high} "
        f"(column 'score', metric {metric!r})"
    )


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    scores=hnp.arrays(
        st.one_of(
            hnp.integer_dtypes(),
            hnp.unsigned_integer_dtypes(),
            hnp.floating_dtypes(),
            hnp.boolean_dtypes(),
            hnp.complex_number_dtypes(),
        ),
        hnp.array_shapes(min_dims=0, max_dims=2, max_side=6),
    ),
    metric=st.sampled_from(["nps", "csat", "ces"]),
)
def test_any_score_array(scores: np.ndarray[Any, Any], metric: str) -> None:
    """Any numeric array: a result whose counts are the answers' own, or a CXModelError that
    names what is wrong (the shape, the dtype, or the first bad score and its row)."""
    function = getattr(metrics, metric)
    try:
        result = _quiet(lambda: function(scores))
    except CXModelError as exc:
        assert _refusal(scores, metric) in str(exc)
        return
    flat = np.asarray(scores).reshape(-1).astype(np.float64)
    assert scores.dtype.kind in "iuf" and scores.ndim <= 1
    assert result.n == flat.size
    if metric == "nps":
        assert result.promoters == int(np.sum(flat >= 9))
        assert result.detractors == int(np.sum(flat <= 6))
