"""The example notebooks run top to bottom and draw their figures."""

from __future__ import annotations

from pathlib import Path

import pytest

nbclient = pytest.importorskip(
    "nbclient", reason="nbclient is not installed; pip install 'cxmodel[dev]' to run the notebooks"
)
nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (cxmodel[dev])")
pytest.importorskip("matplotlib", reason="the notebook draws figures (cxmodel[plot])")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"


def test_getting_started_notebook_is_committed_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOKS / "getting-started.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(not c.outputs and c.execution_count is None for c in code)


def test_getting_started_notebook_runs(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOKS / "getting-started.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},  # any file it writes lands here
    )
    client.execute()  # raises CellExecutionError, naming the cell, when one fails
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # every cell that calls .plot() shows its figure as an image
    plot_cells = [c for c in nb.cells if c.cell_type == "code" and ".plot(" in c.source]
    assert len(plot_cells) >= 2
    for cell in plot_cells:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert images, f"no figure from cell:\n{cell.source}"
    # the results render as HTML, and the report prints its text
    assert any("text/html" in o.get("data", {}) for o in outputs)
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "CX report" in text
