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

    def test_output_cut_short_by_its_reader_exits_quietly(self, tmp_path: Path) -> None:
        """``cxmodel triggers ... | head -1``: the reader closes the pipe after one line;
        the command stops with status 0 and nothing on standard error (it said "error:
        Broken pipe" and exited 2)."""
        from cxmodel.datasets import synthetic
        from cxmodel.io import write_csv
        from cxmodel.triggers import EXAMPLE_RULES

        rules, data = tmp_path / "rules.cx", tmp_path / "data.csv"
        rules.write_text(EXAMPLE_RULES)
        write_csv(synthetic().log, data)
        env = {**os.environ, "PYTHONPATH": str(Path(cxmodel.__file__).parents[1])}
        command = [sys.executable, "-m", "cxmodel", "triggers", str(rules), str(data),
                   "--as-of", "2025-01-01T00:00:00Z"]  # fmt: skip
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        ) as running:
            assert running.stdout is not None and running.stderr is not None
            first = running.stdout.readline()
            running.stdout.close()  # as head does after its line
            error = running.stderr.read()
            status = running.wait(timeout=120)
        assert first
        assert (status, error) == (0, b"")
