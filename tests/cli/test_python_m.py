"""``python -m cxmodel`` runs the command line with its exit statuses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cxmodel


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m cxmodel ARGS`` in a fresh interpreter that imports this cxmodel."""
    env = {**os.environ, "PYTHONPATH": str(Path(cxmodel.__file__).parents[1])}
    return subprocess.run(
        [sys.executable, "-m", "cxmodel", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


class TestPythonDashM:
    def test_help_exits_0(self) -> None:
        """``python -m cxmodel --help`` prints the usage and exits 0."""
        done = _run("--help")
        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout.startswith("usage: cxmodel")
        assert "summary" in done.stdout

    def test_bad_input_exits_2(self, tmp_path: Path) -> None:
        """A missing file exits 2 with one line on standard error, as the ``cxmodel`` command."""
        done = _run("summary", str(tmp_path / "missing.csv"))
        assert done.returncode == 2
        assert done.stderr.startswith("cxmodel: error:") and done.stderr.count("\n") == 1
