"""The command line: summary, sample, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import cxmodel as cx
from cxmodel.cli import main
from cxmodel.errors import SchemaError


def test_summary_of_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """summary prints rows, customers, date range, kinds and rejected rows."""
    path = tmp_path / "d.csv"
    path.write_text(
        "user,timestamp,kind\nu1,2024-01-01T00:00:00Z,view\nu2,bad,view\n", encoding="utf-8"
    )
    assert main(["summary", str(path), "--map", "user=customer_id"]) == 0
    out = capsys.readouterr().out
    assert "rows         1" in out and "rejected     1 rows" in out and "row 2:" in out


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file exits non-zero with one line on stderr and no traceback."""
    assert main(["summary", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cxmodel: error:") and err.count("\n") == 1


def test_bad_mapping_argument(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--map without '=' is explained."""
    path = tmp_path / "d.csv"
    path.write_text("customer_id,timestamp,kind\nu1,2024-01-01T00:00:00Z,view\n")
    assert main(["summary", str(path), "--map", "oops"]) == 2
    assert "--map expects" in capsys.readouterr().err


def test_delimiter_and_encoding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A semicolon-separated Latin-1 export reads with --delimiter and --encoding."""
    path = tmp_path / "export.csv"
    path.write_bytes(
        "customer_id;timestamp;kind;country\n"
        "c1;2024-01-01T00:00:00Z;purchase;España\n"
        "c2;2024-01-02T00:00:00Z;view;Österreich\n".encode("latin-1")
    )
    assert main(["summary", str(path), "--delimiter", ";", "--encoding", "latin-1"]) == 0
    out = capsys.readouterr().out
    assert "customers    2" in out and "purchase 1, view 1" in out
    assert main(["summary", str(path)]) == 2  # comma and UTF-8 by default: refused, one line


def test_kinds_of_your_own_are_read_as_standard_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--kind maps an export's event names to standard kinds (repeatable); a pair without
    '=' is explained."""
    path = tmp_path / "d.csv"
    path.write_text(
        "customer_id,timestamp,kind\n"
        "u1,2024-01-01T00:00:00Z,Purchase\n"
        "u2,2024-01-02T00:00:00Z,page_view\n",
        encoding="utf-8",
    )
    assert (
        main(["summary", str(path), "--kind", "Purchase=purchase", "--kind", "page_view=view"]) == 0
    )
    assert "purchase 1, view 1" in capsys.readouterr().out
    assert main(["summary", str(path), "--kind", "Purchase"]) == 2
    assert "--kind expects YOUR_KIND=standard_kind" in capsys.readouterr().err


class TestHintsNameTheOptions:
    def test_the_hint_names_the_option(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A file whose every time is naive is refused with the command line's own option
        (``--timezone UTC``), not Python's ``timezone='UTC'``; with it, the file reads."""
        path = tmp_path / "naive.csv"
        path.write_text("customer_id,timestamp,kind\nc1,2024-01-01 10:00,view\n", encoding="utf-8")
        assert main(["summary", str(path)]) == 2
        err = capsys.readouterr().err
        assert "has no time zone; pass --timezone UTC (or the zone" in err
        assert "timezone='UTC'" not in err
        assert main(["summary", str(path), "--timezone", "UTC"]) == 0

    @pytest.mark.parametrize(
        ("content", "hint"),
        [
            (b"customer_id;timestamp;kind\nc1;2024-01-01T00:00:00Z;view\n", "pass --delimiter ';'"),
            (
                b" customer_id  timestamp    kind\n c1  2024-01-01T00:00:00Z  view\n",
                "separated by runs of spaces; pass --delimiter whitespace",
            ),
            (
                b"customer_id,timestamp,kind,caf\xe9\nc1,2024-01-01T00:00:00Z,view,1\n",
                "e.g. --encoding latin-1",
            ),
        ],
        ids=["delimiter", "aligned columns", "encoding"],
    )
    def test_reading_hints_name_the_option(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, hint: str
    ) -> None:
        """A file read with the wrong delimiter or encoding is refused with the option that
        reads it (it said Python's delimiter=';' and encoding='latin-1')."""
        path = tmp_path / "data.csv"
        path.write_bytes(content)
        assert main(["summary", str(path)]) == 2
        assert hint in capsys.readouterr().err

    def test_python_keeps_its_own_words(self) -> None:
        """The same refusal in Python names the argument as Python passes it."""
        with pytest.raises(SchemaError, match=r"no row was accepted.*pass timezone='UTC'"):
            cx.InteractionLog.from_records(
                [{"customer_id": "c1", "timestamp": "2024-01-01 10:00", "kind": "view"}],
                errors="quarantine",
            )


class TestAllKind:
    def test_an_order_export_reads_as_purchases(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--all-kind purchase reads a file without a kind column as purchases."""
        path = tmp_path / "orders.csv"
        path.write_text("customer,date,value\nc1,2024-01-01T00:00:00Z,11.77\n", encoding="utf-8")
        options = ["--map", "customer=customer_id", "--map", "date=timestamp"]
        assert main(["summary", str(path), *options, "--all-kind", "purchase"]) == 0
        assert "kinds        purchase 1" in capsys.readouterr().out
        assert main(["summary", str(path), *options]) == 2
        assert "or pass --all-kind purchase if every row" in capsys.readouterr().err

    @pytest.mark.parametrize(
        ("header", "kind", "message"),
        [
            ("customer_id,timestamp,kind", "purchase", "--all-kind purchase says every row"),
            ("customer_id,timestamp,value", "", "e.g. --all-kind purchase (got '')"),
        ],
        ids=["kind-column-too", "empty"],
    )
    def test_errors_name_the_option(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        header: str,
        kind: str,
        message: str,
    ) -> None:
        """A kind column as well, or an empty kind, is one line naming --all-kind."""
        path = tmp_path / "d.csv"
        path.write_text(f"{header}\nc1,2024-01-01T00:00:00Z,view\n", encoding="utf-8")
        assert main(["summary", str(path), "--all-kind", kind]) == 2
        assert message in capsys.readouterr().err

    def test_a_kind_is_written_as_a_shell_takes_it(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A kind with a space is quoted, as it is typed after --all-kind."""
        path = tmp_path / "d.csv"
        path.write_text("customer_id,timestamp,kind\nc1,2024-01-01T00:00:00Z,view\n")
        assert main(["summary", str(path), "--all-kind", "big order"]) == 2
        assert "error: --all-kind 'big order' says every row" in capsys.readouterr().err

    def test_the_data_are_quoted_as_they_are(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Only the arguments are worded as options: a column named ``kind=v2`` is listed
        under its own name in the error about the missing customer column."""
        path = tmp_path / "d.csv"
        path.write_text("user,timestamp,kind=v2\nc1,2024-01-01T00:00:00Z,view\n")
        assert main(["summary", str(path)]) == 2
        assert (
            "(columns: ['user', 'timestamp', 'kind=v2']); map yours with --map "
            "YOUR_COLUMN=customer_id\n"
        ) in capsys.readouterr().err


class TestTimeFormat:
    def test_an_export_in_its_own_layout(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--time-format reads month-first times; a day-first one is a rejected row."""
        path = tmp_path / "retail.csv"
        path.write_text(
            "CustomerID,InvoiceDate,UnitPrice\n"
            "17850,12/1/2010 8:26,2.55\n"
            "12680,12/9/2011 12:50,0.85\n"
            "12680,13/9/2011 12:50,0.85\n",
            encoding="utf-8",
        )
        options = ["--map", "CustomerID=customer_id", "--map", "InvoiceDate=timestamp"]
        options += ["--all-kind", "purchase", "--timezone", "UTC"]
        assert main(["summary", str(path), *options, "--time-format", "%m/%d/%Y %H:%M"]) == 0
        out = capsys.readouterr().out
        assert "2010-12-01 08:26 .. 2011-12-09 12:50 UTC" in out
        assert "row 3: timestamp '13/9/2011 12:50' does not match time_format" in out

    def test_a_wrong_format_names_the_option(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "d.csv"
        path.write_text("customer_id,timestamp,kind\nc1,1/2/2024,view\n", encoding="utf-8")
        assert main(["summary", str(path), "--time-format", "mm/dd/yyyy"]) == 2
        assert "--time-format must be a strptime format" in capsys.readouterr().err
