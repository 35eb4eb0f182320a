"""The scale-out guide's whole-customer example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("dask")

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "scale-out.md"


def test_from_dask_example_runs() -> None:
    """The python block that uses from_dask executes (synchronous scheduler, small data)."""
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    (code,) = [b for b in blocks if "from_dask" in b]
    exec(compile(code, str(GUIDE), "exec"), {})  # our own guide, not user text
