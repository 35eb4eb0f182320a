"""Tests of the shared fitting machinery: BFGS, row compression, argument checks."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataError, NotFittedError, ValueTypeError
from cxmodel.models import GammaGamma
from cxmodel.models._base import (
    as_float_array,
    check_fitted,
    compress,
    fit_columns,
    params_repr,
    straddle_one,
)


class TestCompress:
    @settings(max_examples=50, deadline=None)
    @given(st.integers(0, 2**32 - 1), st.integers(0, 60))
    def test_same_as_numpy_unique(self, seed: int, n: int) -> None:
        """compress returns numpy's unique rows (same order) and the summed weights."""
        rng = np.random.default_rng(seed)
        cols = [rng.integers(0, k, n).astype(float) for k in (3, 4, 2)]
        w = rng.random(n)
        got = compress(*cols, weights=w)
        uniq, inv = np.unique(np.column_stack(cols).reshape(n, 3), axis=0, return_inverse=True)
        np.testing.assert_array_equal(np.column_stack(got[:3]).reshape(-1, 3), uniq)
        np.testing.assert_allclose(got[3], np.bincount(inv.ravel(), weights=w, minlength=len(uniq)))


class TestBfgs:
    def test_rosenbrock(self) -> None:
        """The fused-objective BFGS finds the Rosenbrock minimum and reports success."""
        from cxmodel.models._base import _bfgs

        def rosen(v: np.ndarray) -> tuple[float, np.ndarray]:
            x, y = v
            f = (1 - x) ** 2 + 100 * (y - x * x) ** 2
            g = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
            return float(f), g

        res = _bfgs(rosen, np.array([-1.2, 1.0]), gtol=1e-9, maxiter=2000)
        assert res.success
        np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)

    def test_flat_objective_stops(self) -> None:
        """A constant objective with a non-zero gradient stops as not converged, not at maxiter."""
        from cxmodel.models._base import _bfgs

        res = _bfgs(lambda v: (0.0, np.ones(2)), np.zeros(2), gtol=1e-9, maxiter=2000)
        assert not res.success
        assert res.nit < 2000


class TestCompressHandComputed:
    def test_repeated_rows_sum_their_weights(self) -> None:
        """(1, 2) twice and (0, 5) once: sorted unique rows with weights 3 + 4 and 1."""
        x, y, w = compress(np.array([1.0, 0.0, 1.0]), np.array([2.0, 5.0, 2.0]),
                           weights=np.array([3.0, 1.0, 4.0]))  # fmt: skip
        assert (x.tolist(), y.tolist(), w.tolist()) == ([0.0, 1.0], [5.0, 2.0], [1.0, 7.0])

    def test_unweighted_and_empty(self) -> None:
        """Without weights each row counts 1; no rows give empty columns."""
        x, w = compress(np.array([2.0, 2.0, 1.0]))
        assert (x.tolist(), w.tolist()) == ([1.0, 2.0], [1.0, 2.0])
        x, w = compress(np.zeros(0))
        assert (x.size, w.size) == (0, 0)


class TestChecks:
    def test_check_fitted(self) -> None:
        """A model without params_ is not fitted: the message names its class."""

        class Model:
            params_ = None

        with pytest.raises(NotFittedError, match="This Model instance is not fitted yet"):
            check_fitted(Model())
        fitted = Model()
        fitted.params_ = {"r": 1.0}  # type: ignore[assignment]
        check_fitted(fitted)

    def test_as_float_array(self) -> None:
        """A scalar becomes a one-element float array; negatives pass when allowed."""
        assert as_float_array("T", 3).tolist() == [3.0]
        assert as_float_array("x", [-1, 2], nonnegative=False).tolist() == [-1.0, 2.0]

    @pytest.mark.parametrize(
        ("value", "match"),
        [
            ([[1.0, 2.0]], r"T must be one-dimensional, got shape \(1, 2\)"),
            ([1.0, np.nan], "T must be finite, got .*nan"),
            ([1.0, -2.0], "T must be >= 0, got .*-2.0"),
        ],
        ids=["two-d", "nan", "negative"],
    )
    def test_as_float_array_rejects(self, value: object, match: str) -> None:
        """Bad values raise DataError naming the argument and the value."""
        with pytest.raises(DataError, match=match):
            as_float_array("T", value)

    def test_params_repr(self) -> None:
        """Parameters print to four significant digits; an unfitted model says so."""
        assert params_repr("BetaGeo", {"r": 0.24312, "a": 12.3456}) == "BetaGeo(r=0.2431, a=12.35)"
        assert params_repr("BetaGeo", None) == "BetaGeo(unfitted)"


class TestFitColumns:
    def test_from_keywords(self) -> None:
        """Without a summary the keyword arrays come back in order."""
        assert fit_columns(None, {"frequency": [1], "T": [2]}) == [[1], [2]]

    def test_from_summary_fields(self) -> None:
        """A summary's fields, named by ``fields`` when they differ from the keywords."""
        summary = SimpleNamespace(frequency=[1], recency=[0], T=[5])
        given = {"frequency": None, "recency": None, "n_periods": None}
        assert fit_columns(summary, given, ("frequency", "recency", "T")) == [[1], [0], [5]]

    def test_missing_keyword(self) -> None:
        """A missing array names every keyword the fit needs."""
        with pytest.raises(DataError, match=r"^fit needs a summary or frequency=, recency= and T="):
            fit_columns(None, {"frequency": [1], "recency": None, "T": [2]})

    def test_not_a_summary(self) -> None:
        """An object without the fields is refused, naming them."""
        with pytest.raises(ValueTypeError, match="have frequency, monetary_value; got"):
            fit_columns(object(), {"frequency": None, "monetary_value": None})


class TestStraddleOne:
    def test_far_from_one(self) -> None:
        """A parameter 1e-7 or more away from 1: no copies."""
        model = GammaGamma()
        model.params_ = {"p": 1.0 + 1e-7, "q": 2.0, "gamma": 3.0}
        assert straddle_one(model, "p") is None

    def test_near_one(self) -> None:
        """Within 1e-7 of 1: two copies of the same class at 1 -/+ 1e-6, the rest unchanged."""
        model = GammaGamma()
        model.params_ = {"p": 1.0 + 1e-8, "q": 2.0, "gamma": 3.0}
        pair = straddle_one(model, "p")
        assert pair is not None
        assert [type(m) for m in pair] == [GammaGamma, GammaGamma]
        assert [m.params_ for m in pair] == [
            {"p": 1.0 - 1e-6, "q": 2.0, "gamma": 3.0},
            {"p": 1.0 + 1e-6, "q": 2.0, "gamma": 3.0},
        ]

    def test_unfitted(self) -> None:
        """An unfitted model is refused as everywhere else."""
        with pytest.raises(NotFittedError):
            straddle_one(GammaGamma(), "p")
