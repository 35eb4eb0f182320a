"""Helpers shared by the attack tests."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable

from cxmodel.errors import CXModelError


def foreign_warnings(call: Callable[[], object]) -> list[str]:
    """Names of the warnings ``call()`` lets out that are not cxmodel's own (numpy's and
    scipy's RuntimeWarning, LinAlgWarning ...); a CXModelError raised by the call is fine."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(CXModelError):
            call()
    return sorted(
        {
            type(w.message).__name__
            for w in caught
            if not type(w.message).__module__.startswith("cxmodel")
        }
    )
