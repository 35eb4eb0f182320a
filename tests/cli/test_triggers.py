"""The trigger commands: check (exit 1 on error), triggers, explain."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from cxmodel.cli import main

RULES = """trigger detractor_follow_up:
    when survey as r where r.metric == "nps" and r.score <= 6
    emit follow_up_task(score = r.score)
"""
DATA = (
    "customer_id,timestamp,kind,metric,score\n"
    "a,2024-01-01T00:00:00Z,survey,nps,3\n"
    "b,2024-01-02T00:00:00Z,survey,nps,9\n"
)
AS_OF = "2024-02-01T00:00:00Z"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rules, data = tmp_path / "rules.cx", tmp_path / "data.csv"
    rules.write_text(RULES, encoding="utf-8")
    data.write_text(DATA, encoding="utf-8")
    return rules, data


def _rule_command(
    command: str, rules: Path, data: Path, *, customer: str = "a", as_of: str = AS_OF
) -> list[str]:
    """The command line of ``command`` on ``rules`` and ``data``: check reads the data with
    --data, explain explains ``customer``."""
    if command == "check":
        return ["check", str(rules), "--data", str(data)]
    if command == "triggers":
        return ["triggers", str(rules), str(data), "--as-of", as_of]
    return ["explain", str(rules), str(data), customer, "--as-of", as_of]


def test_check_ok(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """A valid rules file checks against the data's schema."""
    rules, data = files
    assert main(["check", str(rules), "--data", str(data)]) == 0
    assert "1 rule(s) OK" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "counted"),
    [
        ("", "1 rule(s) OK"),
        (
            "\nalert surge:\n    when count(survey within 1 hours) > 5\n    emit page\n",
            "1 rule(s) and 1 alert OK",
        ),
        (
            "\ntrigger again:\n    when survey\n    emit x\n"
            "\ncontact policy cap:\n    at most 1 per 1 days\n    rules again\n"
            "\nalert surge:\n    when count(survey within 1 hours) > 5\n    emit page\n"
            "\nalert drop:\n    when count(survey within 1 hours) < 1\n    emit page\n",
            "2 rule(s), 2 alerts and 1 contact policy OK",
        ),
    ],
    ids=["rules", "and-an-alert", "rules-alerts-policy"],
)
def test_check_counts_what_the_file_holds(
    tmp_path: Path, extra: str, counted: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """check counts the rules, alerts and contact policies it checked, each when present."""
    rules = tmp_path / "rules.cx"
    rules.write_text(RULES + extra, encoding="utf-8")
    assert main(["check", str(rules)]) == 0
    assert capsys.readouterr().out == f"{rules}: {counted}\n"


def test_check_notes_properties_the_data_cannot_verify(
    tmp_path: Path, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A property of a kind the data lacks is a note on stderr, and the check passes."""
    _, data = files
    rules = tmp_path / "tickets.cx"
    rules.write_text(
        'trigger t:\n    when ticket_opened as t where t.topic == "payment"\n    emit x\n',
        encoding="utf-8",
    )
    assert main(["check", str(rules), "--data", str(data)]) == 0
    captured = capsys.readouterr()
    assert "1 rule(s) OK" in captured.out
    assert "note: properties not checked" in captured.err and "'topic'" in captured.err


def test_check_passes_other_warnings_on(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only DataWarnings become notes; any other warning during the check is warned as it was."""
    import cxmodel.triggers

    def check(*args: object, **kwargs: object) -> None:
        warnings.warn("from somewhere else", RuntimeWarning, stacklevel=1)

    monkeypatch.setattr(cxmodel.triggers, "check", check)
    rules, data = files
    with pytest.warns(RuntimeWarning, match="from somewhere else"):
        assert main(["check", str(rules), "--data", str(data)]) == 0
    assert "note" not in capsys.readouterr().err


def test_check_error_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A rule with a typo exits 1 and shows the line with a caret."""
    bad = tmp_path / "bad.cx"
    bad.write_text("trigger t:\n    when inactive for days\n    emit x\n", encoding="utf-8")
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 2" in err and "^" in err


def test_check_reads_a_byte_order_mark(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A rules file saved as UTF-8 with a byte-order mark checks like one without."""
    rules = tmp_path / "bom.cx"
    rules.write_bytes(b"\xef\xbb\xbf" + RULES.encode("utf-8"))
    assert main(["check", str(rules)]) == 0
    assert "1 rule(s) OK" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["check", "triggers", "explain"])
def test_rules_not_in_utf8_are_named(
    tmp_path: Path,
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """A rules file that is not UTF-8 exits 2 naming the line and byte, not as an internal
    error."""
    _, data = files
    rules = tmp_path / "latin.cx"
    rules.write_bytes(RULES.replace("\n    emit", "  # caf\xe9\n    emit").encode("latin-1"))
    assert main(_rule_command(command, rules, data)) == 2
    err = capsys.readouterr().err
    assert "line 2: byte b'\\xe9' is not valid UTF-8" in err
    assert "internal error" not in err


def test_triggers_jsonl(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """`cxmodel triggers` prints one JSON firing per line."""
    rules, data = files
    assert main(_rule_command("triggers", rules, data)) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["customer_id"] for line in lines] == ["a"]


def test_explain(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """`cxmodel explain` names the rule for the customer."""
    rules, data = files
    assert main(_rule_command("explain", rules, data, customer="b")) == 0
    assert "detractor_follow_up" in capsys.readouterr().out


BAD_ROWS = DATA + "c,not a time,survey,nps,2\n,2024-01-03T00:00:00Z,survey,nps,1\n"


@pytest.mark.parametrize("command", ["check", "triggers", "explain"])
def test_rows_set_aside_are_counted(
    tmp_path: Path, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Unreadable rows of the data file are set aside with a note on stderr counting them and
    naming the first, not dropped quietly (their firings would be missing)."""
    rules, _ = files
    data = tmp_path / "bad.csv"
    data.write_text(BAD_ROWS, encoding="utf-8")
    assert main(_rule_command(command, rules, data)) == 0
    err = capsys.readouterr().err
    assert "note: 2 of 4 rows set aside as unreadable" in err
    assert "first: row 3: timestamp 'not a time'" in err


def test_explain_a_customer_whose_rows_were_set_aside(
    tmp_path: Path, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A customer whose every row was unreadable is said to be so, not "not in the data"."""
    rules, _ = files
    data = tmp_path / "bad.csv"
    data.write_text(BAD_ROWS, encoding="utf-8")
    assert main(_rule_command("explain", rules, data, customer="c")) == 2
    assert "customer 'c' has only rows set aside as unreadable" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("as_of", "zone", "customers"),
    [
        ("2024-01-01T12:00:00+00:00", None, ["a"]),
        ("2024-01-01", "UTC", ["a"]),  # midnight: a's survey at that instant is seen
        ("2023-12-31", "UTC", "2023-12-31T00:00:00Z"),  # before the data: refused, in UTC
        ("2024-01-01T08:00:00", "Asia/Tokyo", "2023-12-31T23:00:00Z"),
        ("2023-12-31T20:00:00", "America/New_York", ["a"]),  # 01:00 on the 1st, UTC
    ],
)
def test_as_of_without_offset_is_read_in_timezone(
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    as_of: str,
    zone: str | None,
    customers: list[str] | str,
) -> None:
    """`--as-of` may be a date or a time without offset when `--timezone` names the zone
    (one before the data's first interaction is refused, naming it in UTC)."""
    rules, data = files
    extra = [] if zone is None else ["--timezone", zone]
    _check_firing_customers(
        main(["triggers", str(rules), str(data), "--as-of", as_of, *extra]), capsys, customers
    )


def _check_firing_customers(
    status: int, capsys: pytest.CaptureFixture[str], customers: list[str] | str
) -> None:
    """The command printed firings for ``customers``, or (text) refused that UTC as_of as
    before the data."""
    if isinstance(customers, str):
        assert status == 2
        assert f"as_of {customers} is before the log's first interaction" in (
            capsys.readouterr().err
        )
        return
    assert status == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["customer_id"] for line in lines] == customers


@pytest.mark.parametrize(
    ("as_of", "customers"),
    [
        ("2024-01-01Z", ["a"]),  # midnight UTC: a's survey at that instant is seen
        ("2024-01-01+02:00", "2023-12-31T22:00:00Z"),  # 22:00 the day before, UTC
        ("2024-01-01-02:00", ["a"]),  # 02:00 UTC
    ],
)
def test_date_with_offset_is_midnight_at_that_offset(
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    as_of: str,
    customers: list[str] | str,
) -> None:
    """`--as-of` as a date with an offset is midnight there, whatever `--timezone` says."""
    rules, data = files
    command = ["triggers", str(rules), str(data), "--as-of", as_of, "--timezone", "UTC"]
    _check_firing_customers(main(command), capsys, customers)


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2024-02-01", "--as-of '2024-02-01' has no time zone"),
        ("yesterday", "--as-of 'yesterday' is not an ISO-8601 time"),
    ],
)
def test_bad_as_of_is_named(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], as_of: str, message: str
) -> None:
    """A naive or unreadable `--as-of` exits 2 with a one-line error saying what to write."""
    rules, data = files
    assert main(["triggers", str(rules), str(data), "--as-of", as_of]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["triggers", "explain"])
def test_firings_after_the_data_are_a_note_until_declared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """A waiting rule's firing after the data's last interaction is printed with a note on
    stderr naming --observed-until; declaring the data observed that long silences it and
    changes no firing; an --observed-until before the data is refused."""
    rules, data = tmp_path / "rules.cx", tmp_path / "data.csv"
    rules.write_text("trigger lapsed:\n    when inactive for 10 days\n    emit nudge\n")
    data.write_text(DATA, encoding="utf-8")
    base = _rule_command(command, rules, data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(base) == 0
        noted = capsys.readouterr()
        assert main([*base, "--observed-until", "2024-02-01"]) == 2
        assert "--observed-until '2024-02-01' has no time zone" in capsys.readouterr().err
        assert main([*base, "--observed-until", "2024-02-01T00:00:00Z"]) == 0
        declared = capsys.readouterr()
        assert main([*base, "--observed-until", "2023-12-01T00:00:00Z"]) == 2
        assert "before the log's last interaction" in capsys.readouterr().err
    assert f"{data}: note: " in noted.err
    fired = "2 firings fall in it (lapsed: 2)" if command == "triggers" else "1 firing falls in it"
    assert fired in noted.err and "--observed-until" in noted.err
    assert declared.err == "" and declared.out == noted.out


@pytest.mark.parametrize("command", ["check", "triggers", "explain"])
def test_every_rule_command_maps_columns(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """check, triggers and explain take --map as summary and report do: a purchase export with
    a ``date`` column is read as the timestamp."""
    rules = tmp_path / "rules.cx"
    rules.write_text("trigger t:\n    when purchase as p\n    emit thanks\n", encoding="utf-8")
    data = tmp_path / "orders.csv"
    data.write_text("customer_id,date,kind\n00001,19970101,purchase\n", encoding="utf-8")
    args = _rule_command(command, rules, data, customer="00001", as_of="1997-01-02")
    assert main([*args, "--timezone", "UTC", "--map", "date=timestamp"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert command != "triggers" or '"customer_id": "00001"' in captured.out


def test_a_missing_column_names_the_map_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file without a timestamp column is explained with --map, the option the command line
    has, not with the reader's Python argument."""
    rules = tmp_path / "rules.cx"
    rules.write_text("trigger t:\n    when purchase as p\n    emit thanks\n", encoding="utf-8")
    data = tmp_path / "orders.csv"
    data.write_text("customer_id,date,kind\n00001,19970101,purchase\n", encoding="utf-8")
    assert main(["triggers", str(rules), str(data), "--as-of", "1997-01-02Z"]) == 2
    err = capsys.readouterr().err
    assert "--map YOUR_COLUMN=timestamp" in err and "mapping=" not in err
