"""Fixtures of the trigger tests."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from cxmodel.errors import DataWarning


@pytest.fixture
def quiet() -> Iterator[None]:
    """DataWarnings about late interactions are expected where the test is about them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        yield
