"""Fits on data without information raise; fits that stop short of converging warn."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from cxmodel.errors import ConvergenceWarning, DataError
from cxmodel.models import BetaGeo, ModifiedBetaGeo, ParetoNBD

MODELS = [
    pytest.param(BetaGeo, id="BetaGeo"),
    pytest.param(ModifiedBetaGeo, id="ModifiedBetaGeo"),
    pytest.param(ParetoNBD, id="ParetoNBD"),
]

NO_INFORMATION = [
    pytest.param({"frequency": [0, 0, 0], "recency": [0, 0, 0], "T": [0, 0, 0]}, id="all-T-zero"),
    pytest.param({"frequency": [0.0], "recency": [0.0], "T": [0.0]}, id="one-new-customer"),
    pytest.param(
        {"frequency": [0, 2], "recency": [0, 5], "T": [0, 9], "weights": [4, 0]},
        id="only-weighted-customers-count",
    ),
]


class TestNoInformation:
    @pytest.mark.parametrize("model", MODELS)
    @pytest.mark.parametrize("data", NO_INFORMATION)
    def test_raises_data_error(self, model: type, data: dict[str, Any]) -> None:
        """Every T = 0: the likelihood is flat, so the fit refuses instead of 'converging'."""
        with pytest.raises(DataError, match=r"every one of the \d+ customers has T = 0"):
            model().fit(**data)

    @pytest.mark.parametrize("model", MODELS)
    def test_one_observed_customer_is_enough_to_try(self, model: type) -> None:
        """A single customer with T > 0 carries information: no DataError."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m = model().fit(frequency=[0, 0, 1], recency=[0, 0, 3], T=[0, 0, 8])
        assert m.params_ is not None


class TestConvergenceWarning:
    @pytest.mark.parametrize("model", [BetaGeo, ParetoNBD], ids=["BetaGeo", "ParetoNBD"])
    def test_boundary_fit_warns_and_reports(self, model: type) -> None:
        """Identical histories drive the parameters to a boundary: a warning, converged False."""
        with pytest.warns(ConvergenceWarning, match=r"did not converge.*convergence_"):
            m = model().fit(
                frequency=np.full(200, 3.0), recency=np.full(200, 5.0), T=np.full(200, 10.0)
            )
        assert m.convergence_ is not None and not m.convergence_.converged

    def test_converged_fit_is_silent(self) -> None:
        """A well-posed fit does not warn."""
        rng = np.random.default_rng(1)
        n = 300
        big_t = rng.uniform(20, 40, n)
        x = rng.poisson(2.0, n).astype(float)
        t_x = np.where(x > 0, big_t * rng.uniform(0.2, 1.0, n), 0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m = BetaGeo().fit(frequency=x, recency=t_x, T=big_t)
        assert m.convergence_ is not None and m.convergence_.converged
