"""The damped Newton-Raphson shared by CoxPH and DiscreteHazard, on hand-computed cases."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from cxmodel.errors import ConvergenceWarning
from cxmodel.models._newton import inverse_information, newton_raphson, warn_unconverged


def _quadratic(
    centre: float, curvature: float = 2.0
) -> Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]:
    """-curvature/2 * (x - centre)^2: one Newton step lands on the maximum."""

    def evaluate(x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        d = x - centre
        return (
            float(-0.5 * curvature * (d**2).sum()),
            -curvature * d,
            -curvature * np.eye(x.size),
        )

    return evaluate


class TestNewtonRaphson:
    def test_quadratic_in_one_step_then_stops(self) -> None:
        """A quadratic is maximised by the first step; the second moves nothing and stops."""
        fit = newton_raphson(_quadratic(3.0), np.zeros(2), tol=1e-9, max_iter=10)
        assert fit.theta.tolist() == [3.0, 3.0]
        assert (fit.converged, fit.iterations, fit.message) == (True, 2, "converged")
        assert fit.log_likelihood == 0.0

    def test_gradient_test_stops_early(self) -> None:
        """With ``gradient_tol`` a zero gradient after the first step is convergence."""
        fit = newton_raphson(
            _quadratic(3.0), np.zeros(1), tol=1e-9, max_iter=10, gradient_tol=1e-12
        )
        assert (fit.converged, fit.iterations) == (True, 1)

    def test_iteration_limit(self) -> None:
        """Out of iterations: not converged, at the last point reached."""
        fit = newton_raphson(_quadratic(3.0), np.zeros(1), tol=1e-9, max_iter=1)
        assert (fit.converged, fit.iterations) == (False, 1)
        assert fit.message == "maximum number of iterations reached"
        assert fit.theta.tolist() == [3.0]

    def test_step_halving_fails_names_the_objective(self) -> None:
        """A value that falls in every direction stops halving and names ``objective``."""

        def rising_hessian(x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            # the gradient points away from a value that only falls off 0
            return (0.0 if not x.any() else -1.0), np.ones(1), -np.eye(1)

        fit = newton_raphson(
            rising_hessian, np.zeros(1), tol=1e-9, max_iter=5, objective="partial likelihood"
        )
        assert not fit.converged
        assert fit.message == "step halving could not increase the partial likelihood"
        assert fit.theta.tolist() == [0.0]

    def test_no_parameters(self) -> None:
        """An empty parameter vector converges at once (nothing moves)."""
        fit = newton_raphson(
            lambda x: (-1.0, np.zeros(0), np.zeros((0, 0))), np.zeros(0), tol=1e-9, max_iter=5
        )
        assert (fit.converged, fit.iterations, fit.theta.size) == (True, 1, 0)


class TestInverseInformation:
    def test_diagonal(self) -> None:
        """inv(-H) and the square roots of its diagonal."""
        cov, se = inverse_information(np.diag([-4.0, -0.25]))
        np.testing.assert_allclose(cov, np.diag([0.25, 4.0]))
        assert se.tolist() == [0.5, 2.0]

    def test_negative_variance_is_nan(self) -> None:
        """A variance that is not positive gives a NaN standard error."""
        _, se = inverse_information(np.diag([-4.0, 1.0]))
        assert se[0] == 0.5 and np.isnan(se[1])

    @pytest.mark.parametrize("hessian", [np.zeros((2, 2)), np.full((2, 2), np.nan)])
    def test_singular_is_all_nan(self, hessian: np.ndarray) -> None:
        """A Hessian that cannot be inverted: every entry NaN, shapes kept."""
        cov, se = inverse_information(hessian)
        assert cov.shape == (2, 2) and np.isnan(cov).all()
        assert se.shape == (2,) and np.isnan(se).all()


class TestWarnUnconverged:
    def test_warns_at_the_callers_line(self) -> None:
        """Not converged: one ConvergenceWarning naming the method, the reason and the hint,
        attributed to the code that called the model's ``fit``."""
        fit = newton_raphson(_quadratic(3.0), np.zeros(1), tol=1e-9, max_iter=1)

        def model_fit() -> None:
            warn_unconverged(fit, "Model: Newton", "try a penalizer")

        with pytest.warns(ConvergenceWarning) as record:
            model_fit()
        assert str(record[0].message) == (
            "Model: Newton did not converge (maximum number of iterations reached after 1 "
            "iterations); try a penalizer"
        )
        assert record[0].filename == __file__

    def test_silent_when_converged(self) -> None:
        """A converged fit warns nothing (warnings are errors in this suite)."""
        fit = newton_raphson(_quadratic(3.0), np.zeros(1), tol=1e-9, max_iter=10)
        warn_unconverged(fit, "Model: Newton", "try a penalizer")
