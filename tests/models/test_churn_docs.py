"""The python blocks of the "Churn risk" section of docs/guide/models.md run as written."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "models.md"


def _blocks() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("## Churn risk") :]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.parametrize("index", range(6))
def test_churn_guide_blocks_run(index: int) -> None:
    blocks = _blocks()
    assert len(blocks) == 6
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[index], f"{GUIDE}:block{index}", "exec"), {})  # our own docs
    assert out.getvalue().strip()
