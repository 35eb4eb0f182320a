"""Tests of the check every analysis runs on the kinds it is asked for: known kinds pass, absent
standard kinds are reported, anything else is a typo with a did-you-mean."""

from __future__ import annotations

import warnings

import pytest

from cxmodel import metrics, segment
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._kinds import (
    absent_kinds,
    check_kinds,
    kind_rows,
    lookalike_kinds,
    read_kinds,
    warn_absent_kinds,
)

VOCABULARY = ["view", "purchase", "add_to_cart"]


class TestKindRows:
    def test_rows_of_the_kinds_asked(self) -> None:
        """Rows of any of the kinds; a kind the log lacks selects nothing."""
        log = InteractionLog.from_arrays(["a", "a", "b"], [0, 1, 2], ["view", "order", "view"])
        assert kind_rows(log, ["view", "refund"]).tolist() == [True, False, True]

    def test_empty_log(self) -> None:
        """An empty log has no rows of any kind."""
        log = InteractionLog.from_arrays([], [], [])
        assert kind_rows(log, ["view"]).tolist() == []


class TestCheckKinds:
    def test_known_kinds_pass(self) -> None:
        """Kinds of the log: nothing absent."""
        assert check_kinds(VOCABULARY, ["view", "purchase"], argument="steps") == ()

    def test_absent_standard_kinds_are_returned_once_in_order(self) -> None:
        """Standard kinds the log lacks are not typos: returned, first occurrence order."""
        got = check_kinds(VOCABULARY, ["refund", "view", "survey", "refund"], argument="steps")
        assert got == ("refund", "survey")

    @pytest.mark.parametrize(
        ("kind", "match"),
        [
            ("purchse", r"steps: unknown kind 'purchse' .*did you mean 'purchase'\?"),
            ("VIEW", r"did you mean 'view'\?"),
            ("zzzzzz", r"kinds in the log: \['add_to_cart', 'purchase', 'view'\]"),
            (3, r"steps: kind 3 is a int; expected a kind name \(str\)"),
        ],
        ids=["typo", "case", "no-close-kind", "not-a-string"],
    )
    def test_typos_and_non_strings(self, kind: object, match: str) -> None:
        """A typo names the argument and the kind, with the closest kind or the log's kinds."""
        with pytest.raises(SchemaError, match=match):
            check_kinds(VOCABULARY, [kind], argument="steps")


class TestLookalikeKinds:
    @pytest.mark.parametrize(
        ("vocabulary", "expected"),
        [
            (["PURCHASE", " view", "checkout"], {"purchase": ("PURCHASE",), "view": (" view",)}),
            (
                ["purchse", "purchases", "chekout"],
                {"checkout": ("chekout",), "purchase": ("purchases", "purchse")},
            ),
            (["purchase", "Purchase"], {"purchase": ("Purchase",)}),
            (["ticket_opened", "ticket_reopened", "returns", "return"], {}),
            (["veiw", "order", "page_view", "email_bounced", "review"], {}),
        ],
        ids=["case-and-space", "misspelt", "case-next-to-standard", "own-kinds", "not-close"],
    )
    def test_table(self, vocabulary: list[str], expected: dict[str, tuple[str, ...]]) -> None:
        """A case or space variant always looks like its standard kind (its rows are not
        counted as it); a close spelling only when the standard kind is absent."""
        assert lookalike_kinds(vocabulary) == expected


class TestAbsentKinds:
    def test_no_validation_order_kept(self) -> None:
        """Any kind not in the vocabulary, typo or not, once each."""
        assert absent_kinds(VOCABULARY, ["purchse", "view", "refund", "purchse"]) == (
            "purchse",
            "refund",
        )

    def test_warning_wording(self) -> None:
        """One kind "does not", several "do not" occur; nothing absent, no warning."""
        with pytest.warns(
            DataWarning, match=r"steps: kind 'refund' does not occur in the log, so they count 0"
        ):
            warn_absent_kinds(("refund",), argument="steps", meaning="they count 0")
        with pytest.warns(DataWarning, match=r"kinds 'refund', 'survey' do not occur"):
            warn_absent_kinds(("refund", "survey"), argument="steps", meaning="they count 0")
        warn_absent_kinds((), argument="steps", meaning="they count 0")  # warnings are errors


def test_read_kinds_raises_typos_and_warns_absent_standard_kinds() -> None:
    with pytest.raises(SchemaError, match="did you mean 'purchase'"):
        read_kinds(["purchase"], ["purchse"], argument="a", meaning="m")
    with pytest.warns(DataWarning, match="a: kind 'purchase' does not occur in the log, so m"):
        read_kinds(["order"], ["purchase"], argument="a", meaning="m")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_kinds(["purchase"], ["purchase"], argument="a", meaning="m")
        read_kinds(["purchase"], ["purchase", "refund"], argument="a", meaning="m")


def test_analyses_of_purchases_warn_on_a_log_without_them() -> None:
    orders = InteractionLog.from_arrays(
        ["a", "b", "c"],
        ["2024-01-01T00:00Z", "2024-02-01T00:00Z", "2024-03-01T00:00Z"],
        ["order"] * 3,
        value=[9.0, 3.0, 10.0],
    )
    with pytest.warns(DataWarning, match=r"rfm_scores\(\) kind: kind 'purchase'.*no customer"):
        assert len(segment.rfm_scores(orders, as_of="2024-10-01T00:00Z").customer_id) == 0
    with pytest.warns(DataWarning, match=r"cohort_retention\(\) kinds: .*matrix is empty"):
        metrics.cohort_retention(orders)
    with pytest.warns(DataWarning, match=r"repeat_purchase_rate\(\): .*rate is NaN"):
        assert metrics.repeat_purchase_rate(orders).n == 0
