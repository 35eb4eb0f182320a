"""The Dask adapter is imported lazily: importing it loads neither dask nor distributed."""

from __future__ import annotations


class TestLazyImport:
    def test_import_does_not_load_dask(self) -> None:
        """Importing cxmodel and cxmodel.dask leaves dask and distributed unimported."""
        import subprocess
        import sys

        code = (
            "import sys, cxmodel, cxmodel.dask; "
            "print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "False"
