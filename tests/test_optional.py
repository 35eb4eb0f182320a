"""Tests of the lazy import of optional dependencies and its error naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from cxmodel._optional import import_optional
from cxmodel.errors import MissingDependencyError


class TestImportOptional:
    def test_installed_module_is_returned(self) -> None:
        """An importable module is imported and returned."""
        assert import_optional("json", "the test").__name__ == "json"

    @pytest.mark.parametrize(
        ("module", "message"),
        [
            ("sklearn.cluster", 'clustering requires sklearn: pip install "cxmodel[ml]"'),
            ("pyarrow.parquet", 'clustering requires pyarrow: pip install "cxmodel[arrow]"'),
            ("matplotlib.ticker", 'clustering requires matplotlib: pip install "cxmodel[plot]"'),
            ("polars", 'clustering requires polars: pip install "cxmodel[polars]"'),
        ],
        ids=["listed-submodule", "arrow", "unlisted-submodule", "top-level"],
    )
    def test_missing_module_names_the_extra(
        self, monkeypatch: pytest.MonkeyPatch, module: str, message: str
    ) -> None:
        """A module that cannot be imported raises with the feature and the extra to install
        (an unlisted submodule takes its package's extra)."""
        real = importlib.import_module

        def absent(name: str, package: str | None = None) -> ModuleType:
            if name == module:
                raise ImportError(name)
            return real(name, package)

        monkeypatch.setattr(importlib, "import_module", absent)
        with pytest.raises(MissingDependencyError) as caught:
            import_optional(module, "clustering")
        assert message == str(caught.value)

    def test_unknown_package_is_its_own_extra(self) -> None:
        """A package cxmodel does not know is named as the extra."""
        with pytest.raises(
            MissingDependencyError, match=r'pip install "cxmodel\[no_such_package\]"'
        ):
            import_optional("no_such_package.sub", "the test")
