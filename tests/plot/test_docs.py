"""The guides' plotting examples run as written, and every figure they show exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDES = ["guide/metrics.md", "guide/models.md", "guide/journeys.md", "guide/segmentation.md",
          "tutorials/triggers.md"]  # fmt: skip


def _plot_blocks(page: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    return [b for b in blocks if "plt.close" in b]


@pytest.mark.parametrize("page", [g for g in GUIDES if _plot_blocks(g)])
def test_plot_examples_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for block in _plot_blocks(page):
        exec(compile(block, str(DOCS / page), "exec"), {})  # our own docs, not user text


@pytest.mark.parametrize("page", GUIDES)
def test_figures_exist(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    shown = re.findall(r"!\[[^\]]*\]\(\.\./images/([^)]+)\)", text)
    for name in shown:
        assert (DOCS / "images" / name).is_file(), name


def test_every_figure_is_shown() -> None:
    """docs/figures.py draws no figure that no page shows."""
    shown = set()
    for page in DOCS.rglob("*.md"):
        shown |= set(re.findall(r"\(\.\./images/([^)]+)\)", page.read_text(encoding="utf-8")))
    drawn = {p.name for p in (DOCS / "images").glob("*.png")}
    assert drawn == shown
