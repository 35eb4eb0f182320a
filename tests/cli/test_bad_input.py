"""Bad input on the command line: one line and exit 2, bugs named as bugs, no silent overwrite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import cxmodel.cli._main as cli_main
from cxmodel.cli import main
from cxmodel.cli._triggers import similar_ids
from cxmodel.errors import SchemaError

RULES = "trigger t:\n    when purchase as p\n    emit thanks\n"
DATA = (
    "customer_id,timestamp,kind,value\n"
    "C00041,2024-01-01T00:00:00Z,purchase,5\n"
    "C00042,2024-01-02T00:00:00Z,purchase,9\n"
)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rules, data = tmp_path / "rules.cx", tmp_path / "data.csv"
    rules.write_text(RULES, encoding="utf-8")
    data.write_text(DATA, encoding="utf-8")
    return rules, data


def _explain(files: tuple[Path, Path], customer: str) -> int:
    rules, data = files
    return main(["explain", str(rules), str(data), customer, "--as-of", "2024-02-01T00:00:00Z"])


class TestExplainUnknownCustomer:
    @pytest.mark.parametrize(
        ("customer", "suggestion"),
        [
            pytest.param("c42", "'C00042'", id="case-and-zero-padding"),
            pytest.param("C0042", "'C00042'", id="zero-padding"),
            pytest.param("c00042", "'C00042'", id="case"),
            pytest.param("C00043", "'C00042' or 'C00041'", id="close-spelling"),
        ],
    )
    def test_did_you_mean(
        self,
        files: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str],
        customer: str,
        suggestion: str,
    ) -> None:
        """An id that is not in the data is named with the ids it probably meant."""
        assert _explain(files, customer) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert f"customer {customer!r} is not in" in err and f"did you mean {suggestion}?" in err

    def test_nothing_close_shows_id_shape(
        self, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without a close id the message shows what ids look like."""
        assert _explain(files, "zz") == 2
        assert "ids look like ['C00041', 'C00042']" in capsys.readouterr().err

    @pytest.mark.parametrize(
        ("wanted", "ids", "expected"),
        [
            pytest.param("42", ["00042", "00420"], ["00042"], id="digits-only"),
            pytest.param("AB-7", ["ab-0007", "ab-0070"], ["ab-0007"], id="mixed"),
            pytest.param("nobody", ["C1", "C2"], [], id="none"),
        ],
    )
    def test_similar_ids(self, wanted: str, ids: list[str], expected: list[str]) -> None:
        """Case and zero padding are ignored first; close spellings come second."""
        assert similar_ids(wanted, ids) == expected


class TestErrorsAndBugs:
    @pytest.mark.parametrize(
        ("exception", "status", "starts"),
        [
            pytest.param(
                SchemaError("bad column\nmore detail"),
                2,
                "cxmodel: error: bad column",
                id="cxmodel-error",
            ),
            pytest.param(
                FileNotFoundError("no such file"), 2, "cxmodel: error: no such file", id="os-error"
            ),
            pytest.param(
                RecursionError("deep"),
                2,
                "cxmodel: error: the input is nested too deeply",
                id="recursion",
            ),
            pytest.param(
                MemoryError(),
                2,
                "cxmodel: error: out of memory: the input is too large",
                id="memory",
            ),
            pytest.param(
                KeyError("Field exists 2 times"),
                3,
                "cxmodel: internal error (this is a bug",
                id="bug",
            ),
        ],
    )
    def test_one_line_and_exit_status(
        self,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        exception: BaseException,
        status: int,
        starts: str,
    ) -> None:
        """CXModelError and bad files exit 2, anything else exits 3 as a bug; one line each."""

        def boom(*args: Any, **kwargs: Any) -> Any:
            raise exception

        monkeypatch.setattr(cli_main, "_sample_log", boom)
        assert main(["summary", "--sample"]) == status
        err = capsys.readouterr().err
        assert err.startswith(starts) and err.count("\n") == 1 and "Traceback" not in err

    def test_bug_traceback_only_with_debug(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--debug adds the traceback of an internal error."""

        def boom(*args: Any, **kwargs: Any) -> Any:
            raise ZeroDivisionError("oops")

        monkeypatch.setattr(cli_main, "_sample_log", boom)
        assert main(["--debug", "summary", "--sample"]) == 3
        err = capsys.readouterr().err
        assert "Traceback" in err and "ZeroDivisionError: oops" in err and "--debug" not in err

    def test_deep_json_line(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A JSON line nested beyond the recursion limit is refused in one line."""
        path = tmp_path / "deep.jsonl"
        record = json.dumps(
            {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}
        )
        path.write_text(record[:-1] + ', "x": ' + "[" * 50_000 + "]" * 50_000 + "}\n")
        assert main(["summary", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("cxmodel: error:") and err.count("\n") == 1

    def test_rule_diagnostic_on_one_line(
        self, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A rule that does not parse gives its first diagnostic on one line."""
        rules, data = files
        rules.write_text("trigger t:\n    when\n", encoding="utf-8")
        assert main(["triggers", str(rules), str(data), "--as-of", "2024-02-01T00:00:00Z"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("cxmodel: error: E") and err.count("\n") == 1


class TestNoSilentOverwrite:
    @pytest.mark.parametrize(
        ("argv", "option"),
        [
            pytest.param(["sample", "--customers", "20", "--out"], "--out", id="sample-out"),
            pytest.param(
                ["report", "--sample", "--customers", "300", "--out"], "--out", id="report-out"
            ),
        ],
    )
    def test_refused_without_force(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], option: str
    ) -> None:
        """An existing output file is kept unless --force is given."""
        target = tmp_path / ("out.csv" if argv[0] == "sample" else "out.html")
        target.write_text("precious", encoding="utf-8")
        assert main([*argv, str(target)]) == 2
        err = capsys.readouterr().err
        assert f"{option} {str(target)!r} already exists; pass --force" in err
        assert target.read_text(encoding="utf-8") == "precious"
        assert main([*argv, str(target), "--force"]) == 0
        assert target.read_text(encoding="utf-8") != "precious"


class TestOutputFile:
    @pytest.mark.parametrize(
        ("argv", "name", "message"),
        [
            pytest.param(["sample", "--out"], "x.json", "written as CSV or Parquet", id="json"),
            pytest.param(["sample", "--out"], "x.csv.gz", "written as CSV or Parquet", id="gz"),
            pytest.param(
                ["report", "--sample", "--customers", "50", "--force", "--out"],
                "folder",
                "is a folder; give a file name",
                id="report-to-folder",
            ),
            pytest.param(
                ["report", "--sample", "--customers", "50", "--out"],
                "page.pdf",
                "written as an HTML page (.html) or as text (.txt)",
                id="report-pdf",
            ),
            pytest.param(
                ["report", "--sample", "--customers", "50", "--out"],
                "missing/page.html",
                "the folder",
                id="report-to-missing-folder",
            ),
        ],
    )
    def test_refused_before_the_work(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        argv: list[str],
        name: str,
        message: str,
    ) -> None:
        """An output the command cannot write as named is refused first, in one line: sample
        used to write CSV text into x.json, and report computed and printed the whole report
        before failing on a folder."""
        (tmp_path / "folder").mkdir()
        assert main([*argv, str(tmp_path / name)]) == 2
        out, err = capsys.readouterr()
        assert message in err
        assert out == ""
        assert not (tmp_path / name).is_file()
