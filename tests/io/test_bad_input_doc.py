"""The python blocks of docs/guide/bad-input.md run as written, in order."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "bad-input.md"


def test_bad_input_guide_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every python block executes; the quarantine block prints the rejected rows."""
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, str(GUIDE), "exec"), namespace)  # our own docs, not user text
    assert "2 score 6.5 is not a whole number" in out.getvalue()
    assert "3 the row has 2 fields, expected 5" in out.getvalue()
