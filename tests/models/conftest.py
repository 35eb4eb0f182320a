"""Fixtures of the model tests."""

from __future__ import annotations

import numpy as np
import pytest

from tests.models.helpers import DATA


@pytest.fixture(scope="module")
def history() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CDNOW's (frequency, recency, T) with seeded weights in [0.5, 2)."""
    d = np.genfromtxt(
        DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True
    )
    w = np.random.default_rng(7).uniform(0.5, 2.0, d.shape[0])
    return d["x"], d["t_x"], d["T"], w
