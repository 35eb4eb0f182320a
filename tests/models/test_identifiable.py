"""Coefficients the data cannot determine: refused before a Cox fit, or warned after it.

lifelines 0.30.3 on the same inputs (``CoxPHFitter().fit``): a constant column and collinear
columns raise its ``ConvergenceError``; the separated data return -16.5 (se 2240) with
a warning that the Newton-Raphson step is still large. Before these checks CoxPH returned a
coefficient of 0 for the constant column, an arbitrary split of the collinear pair with
standard errors of 6.7e7, and -29.7 for the separated data, each as ``converged``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cxmodel.errors import ConvergenceWarning, DataError
from cxmodel.models import CoxPH
from cxmodel.models._identifiable import check_identifiable, infinite_coefficients


class TestCheckIdentifiable:
    @pytest.mark.parametrize(
        ("design", "message"),
        [
            pytest.param(
                [[1.0, 0.0], [1.0, 1.0], [1.0, 3.0]],
                "covariate 'a' is the same in every row",
                id="constant",
            ),
            pytest.param([[2.0, 5.0]], "covariate 'a' is the same", id="one-row"),
            pytest.param(
                [[1.0, 2.0], [2.0, 4.0], [4.0, 8.0], [0.5, 1.0]],
                r"covariates 'a', 'b' are collinear \(1 a - 0.5 b is the same in every row",
                id="multiple",
            ),
            pytest.param(
                [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]],
                r"covariates 'a', 'b' are collinear \(1 a \+ 1 b is the same",
                id="dummies-summing-to-one",
            ),
            pytest.param(
                [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                r"covariates 'a', 'b', 'c' are collinear \(1 a \+ 1 b \+ 1 c",
                id="three-rows-three-covariates",
            ),
        ],
    )
    def test_refused(self, design: list[list[float]], message: str) -> None:
        """A constant covariate, or a combination constant in every row, is a DataError
        naming the covariates (and the combination)."""
        with pytest.raises(DataError, match=message):
            check_identifiable(np.array(design), ["a", "b", "c"][: len(design[0])], "f()")

    def test_more_covariates_than_rows(self) -> None:
        """Three covariates on two rows cannot be told apart: refused, not a crash."""
        with pytest.raises(DataError, match="collinear"):
            check_identifiable(np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 5.0]]), ["a", "b", "c"], "f()")

    def test_ordinary_design_passes(self) -> None:
        """Independent covariates (here standard normal) pass without a sound."""
        x = np.random.default_rng(0).normal(size=(50, 4))
        check_identifiable(x, ["a", "b", "c", "d"], "f()")


class TestInfiniteCoefficients:
    def test_flags_a_large_remaining_step(self) -> None:
        """At a finite optimum the next Newton step is tiny; at an infinite one it is not."""
        cov = np.diag([0.04, 2.6e12, np.nan])
        grad = np.array([1e-11, 3.9e-13, 1e-13])
        got = infinite_coefficients(np.array([0.3, -29.7, 1.0]), cov, grad, 1e-9)
        assert got.tolist() == [False, True, True]

    def test_no_coefficients(self) -> None:
        """An empty model has nothing to flag."""
        assert (
            infinite_coefficients(np.zeros(0), np.zeros((0, 0)), np.zeros(0), 1e-9).tolist() == []
        )


class TestCoxPH:
    def test_constant_covariate_is_refused(self) -> None:
        """A covariate the same for every subject has no Cox coefficient: DataError."""
        with pytest.raises(DataError, match="covariate 'plan' is the same in every row"):
            CoxPH().fit({"plan": [1.0] * 4}, [1, 2, 3, 4], [1, 1, 0, 1])

    def test_collinear_covariates_are_refused(self) -> None:
        """Two covariates in a fixed ratio cannot share an effect: DataError naming both."""
        X = {"x": [1.0, 2.0, 3.0, 0.5, 2.0], "y": [2.0, 4.0, 6.0, 1.0, 4.0]}
        with pytest.raises(DataError, match=r"'x', 'y' are collinear \(1 x - 0.5 y"):
            CoxPH().fit(X, [1, 2, 3, 4, 5], [1, 1, 0, 1, 1])

    def test_a_penalty_makes_them_estimable(self) -> None:
        """With penalizer > 0 the ridge term determines every coefficient: no error."""
        X = {"x": [1.0, 2.0, 3.0, 0.5, 2.0], "y": [2.0, 4.0, 6.0, 1.0, 4.0]}
        m = CoxPH(penalizer=0.1).fit(X, [1, 2, 3, 4, 5], [1, 1, 0, 1, 1])
        assert m.convergence_ is not None and m.convergence_.converged
        assert m.coef_ is not None and m.coef_[1] == pytest.approx(2 * m.coef_[0])

    @pytest.mark.parametrize(
        ("x", "durations", "events"),
        [
            pytest.param([0.0, 0.0, 1.0, 1.0], [1, 2, 3, 4], [1, 1, 0, 0], id="events-vs-censored"),
            pytest.param(
                [3.0, 2.0, 1.0, 0.0, -1.0], [1, 2, 3, 4, 5], [1, 1, 1, 1, 0], id="ordered"
            ),
        ],
    )
    def test_separation_warns_and_is_not_converged(
        self, x: list[float], durations: list[int], events: list[int]
    ) -> None:
        """A covariate that orders the events perfectly has an infinite estimate: the fit
        warns ConvergenceWarning naming it and reports converged=False."""
        with pytest.warns(ConvergenceWarning, match="still rising along 'x'.*infinite"):
            m = CoxPH().fit({"x": x}, durations, events)
        assert m.convergence_ is not None and not m.convergence_.converged

    def test_ordinary_fit_stays_quiet(self) -> None:
        """A fit with a finite optimum neither warns nor is marked unconverged."""
        rng = np.random.default_rng(1)
        x = rng.normal(size=(100, 2))
        t = rng.exponential(np.exp(-0.5 * x[:, 0]))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m = CoxPH().fit(x, t, t < 1.5)
        assert m.convergence_ is not None and m.convergence_.converged
