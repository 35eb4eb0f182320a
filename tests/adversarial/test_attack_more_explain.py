"""``explain`` and the ``check`` / ``triggers`` / ``explain`` commands attacked, with the
did-it-work reading of a holdout: explain must say what evaluate did for every customer, a
rules file of alerts must not be reported as empty, and an outcome at the edges of its window
counts as the docs say."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import cxmodel as cx
from cxmodel.cli import main
from cxmodel.log import InteractionLog
from cxmodel.metrics import action_effect
from cxmodel.triggers import EXAMPLE_RULES, evaluate, explain, holdout_fraction, parse

DATA = (
    "customer_id,timestamp,kind\n"
    "c1,2024-01-01T10:00:00Z,signup\n"
    "c1,2024-01-02T10:00:00Z,purchase\n"
    "c2,2024-01-03T10:00:00Z,signup\n"
)
AS_OF = "2024-01-10T00:00:00Z"
ALERT = "alert surge:\n    when count(signup within 1 hours) > 0\n    emit page\n"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Two customers who signed up; c1 also bought."""
    path = tmp_path / "data.csv"
    path.write_text(DATA, encoding="utf-8")
    return path


def _rules_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.cx"
    path.write_text(text, encoding="utf-8")
    return path


class TestExplainAgreesWithEvaluate:
    def test_every_customer_every_rule(self) -> None:
        """The six example rules and a 30 % holdout on 40 synthetic customers: for each
        customer and rule, explain's emitted and suppressed firings are evaluate's."""
        extra = "\ntrigger welcome:\n    when signup\n    emit coupon\n    holdout 30%\n"
        rules = parse(EXAMPLE_RULES + extra)
        log = cx.datasets.synthetic(40, seed=4).log
        as_of = "2025-03-01T00:00Z"  # after the data: waiting rules fire in the span
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the span after the data is noted, in both
            found = evaluate(rules, log, as_of=as_of)
            told = {c: explain(rules, log, c, as_of=as_of) for c in log.customers.tolist()}
        for customer, explanation in told.items():
            for rule in explanation.rules:
                emitted = [
                    f.firing_id
                    for f in found
                    if f.customer_id == customer and f.trigger == rule.trigger
                ]
                stopped = [
                    f.firing_id
                    for f in found.suppressed
                    if f.customer_id == customer and f.trigger == rule.trigger
                ]
                assert sorted(f.firing_id for f in rule.fired) == sorted(emitted)
                assert sorted(f.firing_id for f in rule.suppressed) == sorted(stopped)


class TestCommands:
    def test_unknown_customer_names_the_close_one(
        self, tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """'C1' is not 'c1': exit 2 with a did-you-mean, not an empty explanation."""
        rules = _rules_file(tmp_path, "trigger w:\n    when signup\n    emit a\n")
        status = main(["explain", str(rules), str(data), "C1", "--as-of", AS_OF])
        assert status == 2
        assert "did you mean 'c1'" in capsys.readouterr().err

    def test_check_counts_alerts(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A file with one alert holds something to check; '0 rule(s) OK' reads as the empty
        file that _load refuses."""
        assert main(["check", str(_rules_file(tmp_path, ALERT))]) == 0
        out = capsys.readouterr().out
        assert "0 rule(s)" not in out and out.endswith(": 1 alert OK\n")

    def test_explain_says_something_about_alerts(
        self, tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Alerts are over all customers, so a customer's explanation cannot list them; it
        must say so (or refuse), not answer an empty explanation: in Python and on the
        command line."""
        log = cx.read_csv(data)
        found = explain(parse(ALERT), log, "c1", as_of=AS_OF)
        assert found.alerts == ("surge",)
        assert str(found).splitlines()[1:] == [
            "  alert surge: over all customers, so not explained per customer (evaluate "
            "gives its firings)"
        ]
        rules = _rules_file(tmp_path, ALERT)
        assert main(["explain", str(rules), str(data), "c1", "--as-of", AS_OF]) == 0
        assert "alert surge: over all customers" in capsys.readouterr().out


class TestEffectWindowEdges:
    def test_strictly_after_and_at_most_window_later(self) -> None:
        """Eight sign-ups on Jan 1, 50 % holdout. c0 buys at the sign-up instant (not after
        it), c1 exactly 14 days later (counts), c2 one microsecond past 14 days (does not)."""
        ids = [f"c{i}" for i in range(8)]
        buyers = ["c0", "c1", "c2"]
        bought = ["2024-01-01T00:00Z", "2024-01-15T00:00Z", "2024-01-15T00:00:00.000001Z"]
        log = InteractionLog.from_arrays(
            customer_id=ids + buyers + ids,
            kind=["signup"] * 8 + ["purchase"] * 3 + ["view"] * 8,
            timestamp=["2024-01-01T00:00Z"] * 8 + bought + ["2024-02-01T00:00Z"] * 8,
        )
        rules = parse("trigger welcome:\n    when signup\n    emit coupon\n    holdout 50%")
        firings = evaluate(rules, log, as_of="2024-02-01T00:00Z")
        row = action_effect(
            firings, log, outcome="purchase", window="14 days", as_of="2024-02-01T00:00Z"
        ).effect("welcome")
        held = {c for c in ids if holdout_fraction("welcome", None, c) < 0.5}
        hits = {"c1"}  # the only purchase inside its window
        treated = set(ids) - held
        assert (row["n_treated"], row["n_held_out"]) == (len(treated), len(held))
        assert row["rate_treated"] == pytest.approx(len(hits & treated) / len(treated))
        assert row["rate_held_out"] == pytest.approx(len(hits & held) / len(held))
