"""The python blocks of the guide's "Any survey question" section run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "metrics.md"


def _blocks() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("## Any survey question")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], re.S)


def test_section_has_examples() -> None:
    """The section shows at least the catalogue and the synthetic-world examples."""
    assert len(_blocks()) >= 2


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_block_runs(index: int) -> None:
    """Each block executes (its asserts are the expected results)."""
    code = _blocks()[index]
    exec(compile(code, f"{GUIDE}:block{index}", "exec"), {})  # our own guide, not user text
