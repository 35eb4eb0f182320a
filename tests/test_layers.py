"""The package's layers: each analysis imports only the core layers, never another analysis.

The layers follow the architecture: the core (``domain``, ``log``, ``io``, ``expr``, ``errors`` and the
private modules at the top of the package such as ``_stats``, ``_time``, ``_tables``), then the
analyses, independent of each other, then the integrations (``dask``, ``plot``, ``report``,
``cli``) and the data sets and test strategies built on everything else.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CORE = ("domain", "expr", "io", "log")
ANALYSES = ("journey", "metrics", "models", "personalize", "segment", "text", "triggers")
INTEGRATIONS = ("cli", "dask", "datasets", "plot", "report", "testing")


def _imported_packages(module: str) -> set[str]:
    """The ``cxmodel`` subpackages loaded by importing ``module`` in a fresh interpreter."""
    code = (
        f"import json, sys, {module}; "
        "print(json.dumps(sorted({m.split('.')[1] for m in sys.modules "
        "if m.startswith('cxmodel.')})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_layers_cover_every_package() -> None:
    """Every subpackage of cxmodel is placed in exactly one layer."""
    from pathlib import Path

    import cxmodel

    root = Path(cxmodel.__file__).parent
    packages = {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}
    placed = [*CORE, *ANALYSES, *INTEGRATIONS]
    assert len(placed) == len(set(placed))
    assert packages == set(placed)


@pytest.mark.parametrize("analysis", ANALYSES)
def test_analysis_imports_only_the_core(analysis: str) -> None:
    """Importing an analysis loads no other analysis and no integration."""
    loaded = _imported_packages(f"cxmodel.{analysis}")
    others = (set(ANALYSES) - {analysis}) | set(INTEGRATIONS)
    assert sorted(loaded & others) == []


@pytest.mark.parametrize("core", CORE)
def test_core_imports_no_analysis(core: str) -> None:
    """Importing a core layer loads no analysis and no integration."""
    loaded = _imported_packages(f"cxmodel.{core}")
    assert sorted(loaded & (set(ANALYSES) | set(INTEGRATIONS))) == []
