"""Package hygiene: light imports, exported names, documentation."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import cxmodel

OPTIONAL = ("pandas", "pyarrow", "polars", "dask", "matplotlib", "sklearn", "vaderSentiment")
PACKAGES = (
    "cxmodel",
    "cxmodel.domain",
    "cxmodel.log",
    "cxmodel.io",
    "cxmodel.errors",
    "cxmodel.text",
)


def test_import_is_light() -> None:
    """`import cxmodel` imports none of the optional dependencies."""
    code = f"import sys, cxmodel; print([m for m in {OPTIONAL!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module_name", PACKAGES)
def test_public_names_exported_and_documented(module_name: str) -> None:
    """Every name in __all__ exists once, and public callables have docstrings.

    The order of ``__all__`` is enforced by ruff (RUF022).
    """
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    assert len(names) == len(set(names))
    for name in names:
        obj = getattr(module, name)
        if callable(obj):
            assert obj.__doc__, f"{module_name}.{name} has no docstring"


def test_version() -> None:
    """The package has a version string."""
    assert isinstance(cxmodel.__version__, str)
