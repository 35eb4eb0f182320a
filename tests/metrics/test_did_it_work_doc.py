"""The python blocks of docs/guide/did-it-work.md run as written, in order, and print what
the page says they print."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "did-it-work.md"


def test_did_it_work_guide_runs() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 5
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, str(GUIDE), "exec"), namespace)  # our own docs, not user text
    printed = out.getvalue()
    assert "difference +0.041 [+0.014, +0.064]" in printed
    assert "value per customer +4.51 [+2.68, +6.33]" in printed
    assert "difference of about +0.041 [+0.014, +0.064]" in text
    shown = re.search(r"```text\n(.*?)```", text, re.S)
    assert shown is not None and shown.group(1) in printed  # the recovery table as printed
