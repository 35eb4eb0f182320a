"""A rule that ``requires consent`` over data holding no consent record at all: every firing
is suppressed, which is said (a DataWarning with the count, per rule), in Python and on the
command line; any consent record, in the log or in a customer's record, silences it."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from cxmodel.cli import main
from cxmodel.domain import Consent, Customer
from cxmodel.errors import DataWarning
from cxmodel.log import InteractionLog
from cxmodel.triggers import evaluate, explain, parse

RULES = parse(
    "trigger welcome:\n    when signup\n    emit mail\n    requires consent marketing\n"
    "\ntrigger plain:\n    when signup\n    emit note\n"
)
AS_OF = "2024-01-10T00:00Z"
NOTE = (
    r"rule 'welcome' requires consent marketing, but no consent record was found .*: "
    r"2 of its firings were suppressed as 'no consent for marketing'"
)


def _log(*extra: tuple[str, str]) -> InteractionLog:
    """Two sign-ups (a, b) and the ``(customer, kind)`` rows of ``extra``, with a purpose."""
    rows = [("a", "signup"), ("b", "signup"), *extra]
    return InteractionLog.from_arrays(
        customer_id=[c for c, _ in rows],
        timestamp=[f"2024-01-0{1 + i}T00:00Z" for i in range(len(rows))],
        kind=[k for _, k in rows],
        purpose=[None, None] + ["marketing"] * len(extra),
    )


class TestEvaluate:
    def test_no_record_at_all_is_noted_with_the_count(self) -> None:
        """Both sign-ups are suppressed for want of consent: one warning, naming the rule and
        counting its 2 firings; the rule without consent is not named."""
        with pytest.warns(DataWarning, match=r"^evaluate\(\): " + NOTE) as seen:
            firings = evaluate(RULES, _log(), as_of=AS_OF)
        assert [f.reason for f in firings.suppressed] == ["no consent for marketing"] * 2
        assert len(seen) == 1 and "plain" not in str(seen[0].message)

    @pytest.mark.parametrize(
        ("extra", "customers"),
        [
            ((("a", "consent_granted"),), None),
            ((("b", "consent_revoked"),), None),
            ((), {"a": Customer("a", consent=Consent(granted={"email"}))}),
        ],
        ids=["granted-row", "revoked-row", "customer-record"],
    )
    def test_any_consent_record_is_silent(
        self, extra: tuple[tuple[str, str], ...], customers: dict[str, Customer] | None
    ) -> None:
        """A consent interaction (even a revocation) or a customer record with consent (even
        for another purpose) is data about consent: refusals then are answers, not a gap."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            firings = evaluate(RULES, _log(*extra), as_of=AS_OF, customers=customers)
        assert len(firings.suppressed) >= 1

    def test_explain_notes_it_too(self) -> None:
        """explain evaluates the customer's rules as evaluate does, and says the same (the
        count is the explained customer's)."""
        with pytest.warns(DataWarning, match=r"^explain\(\): rule 'welcome' .* 1 of its firing"):
            explain(RULES, _log(), "a", as_of=AS_OF)


@pytest.mark.parametrize("command", ["triggers", "explain"])
def test_the_command_line_prints_it_as_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """``cxmodel triggers`` and ``explain`` print the warning as a note on the data file, as
    their other notes, and no Python warning escapes."""
    rules, data = tmp_path / "rules.cx", tmp_path / "data.csv"
    rules.write_text(
        "trigger welcome:\n    when signup\n    emit mail\n    requires consent marketing\n"
    )
    data.write_text(
        "customer_id,timestamp,kind\na,2024-01-01T00:00:00Z,signup\nb,2024-01-02T00:00:00Z,signup\n",
        encoding="utf-8",
    )
    args = [command, str(rules), str(data)] + (["a"] if command == "explain" else [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main([*args, "--as-of", "2024-01-10T00:00:00Z"]) == 0
    err = capsys.readouterr().err
    n = 2 if command == "triggers" else 1
    assert f"{data}: note: " in err
    assert "rule 'welcome' requires consent marketing, but no consent record was found" in err
    assert f"{n} of its firing{'s were' if n > 1 else ' was'} suppressed" in err
