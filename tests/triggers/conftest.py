"""Fixtures of the trigger tests."""

from __future__ import annotations

import sys
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


@pytest.fixture(autouse=True)
def stores_closed(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that opens a SQLiteStore in its ``tmp_path`` closes it: ``close()`` removes the
    lock file beside the store (and the one in the system's temporary folder), so none may be
    left there when the test ends (Windows keeps them)."""
    if "tmp_path" not in request.fixturenames or sys.platform == "win32":
        yield
        return
    folder = request.getfixturevalue("tmp_path")
    yield
    left = sorted(str(path.relative_to(folder)) for path in folder.rglob("*.lock"))
    if left:
        pytest.fail(f"lock files left in tmp_path: {left}; close every SQLiteStore opened")
