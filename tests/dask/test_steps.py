"""StepVocabulary: what partitions know of funnel steps, merged exactly, and checked once as
the one-process funnel checks its steps."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("pandas")

import pandas as pd

from cxmodel.dask._steps import StepVocabulary
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog


def log_of(kinds: list[str], channels: list[str]) -> InteractionLog:
    """One event per kind, customer ``c<i>``, with the given channels."""
    return InteractionLog.from_pandas(
        pd.DataFrame(
            {
                "customer_id": [f"c{i}" for i in range(len(kinds))],
                "timestamp": pd.to_datetime(list(range(len(kinds))), unit="s", utc=True),
                "kind": kinds,
                "channel": channels,
            }
        )
    )


def fields(v: StepVocabulary) -> tuple[frozenset[str], dict[Any, Any]]:
    return v.kinds, v.seen


class TestOf:
    def test_no_partition_is_the_empty_state(self) -> None:
        """An empty partition (None) knows nothing: no kinds, no step values."""
        expected = (frozenset(), {})
        assert expected == fields(StepVocabulary.of(None, ["view", ("channel", "web")]))
        assert expected == fields(StepVocabulary.empty())

    def test_kinds_and_column_steps(self) -> None:
        """Kind steps record nothing of their own (the kinds cover them); a column step
        records whether its value occurs, the closest value and the sorted values; a step on
        a column the log lacks records nothing."""
        log = log_of(["view", "search", "view"], ["web", "app", "web"])
        steps: list[Any] = ["view", ("channel", "web"), ("channel", "wbe"), ("region", "north")]
        got = StepVocabulary.of(log, steps)
        expected = (
            frozenset({"search", "view"}),
            {
                ("channel", "web"): (True, "web", ("app", "web")),
                ("channel", "wbe"): (False, "web", ("app", "web")),
            },
        )
        assert expected == fields(got)

    def test_no_close_value(self) -> None:
        """A value like none of the column's has no closest value."""
        got = StepVocabulary.of(log_of(["view"], ["app"]), [("channel", "zzzz")])
        expected = {("channel", "zzzz"): (False, None, ("app",))}
        assert expected == got.seen


class TestMerge:
    def test_value_in_one_partition(self) -> None:
        """One partition lacks 'web', the other holds it: together they hold it, the closest
        is 'web', and the values are both partitions' values sorted."""
        a = StepVocabulary.of(log_of(["view"], ["app"]), [("channel", "web")])
        b = StepVocabulary.of(log_of(["search"], ["web"]), [("channel", "web")])
        expected = (
            frozenset({"search", "view"}),
            {("channel", "web"): (True, "web", ("app", "web"))},
        )
        assert expected == fields(a.merge(b))
        assert expected == fields(b.merge(a))

    def test_closest_of_the_closest(self) -> None:
        """'webb' is closer to 'web' (ratio 6/7) than to 'wb' (4/6): the merge keeps the
        closer of the partitions' closest values, as one process over both would."""
        a = StepVocabulary.of(log_of(["view"], ["wb"]), [("channel", "webb")])
        b = StepVocabulary.of(log_of(["view"], ["web"]), [("channel", "webb")])
        expected = {("channel", "webb"): (False, "web", ("wb", "web"))}
        assert expected == a.merge(b).seen
        assert expected == b.merge(a).seen

    def test_first_twenty_values(self) -> None:
        """v00..v14 and v10..v24: the union's first 20 in sorted order are v00..v19."""
        step = ("channel", "v99")
        a = StepVocabulary.of(log_of(["view"] * 15, [f"v{i:02d}" for i in range(15)]), [step])
        b = StepVocabulary.of(log_of(["view"] * 15, [f"v{i:02d}" for i in range(10, 25)]), [step])
        expected = tuple(f"v{i:02d}" for i in range(20))
        assert expected == a.merge(b).seen[step][2]

    def test_empty_is_the_identity(self) -> None:
        """Merging with the empty state, on either side, changes nothing."""
        a = StepVocabulary.of(log_of(["view"], ["app"]), ["view", ("channel", "web")])
        assert fields(a) == fields(StepVocabulary.empty().merge(a))
        assert fields(a) == fields(a.merge(StepVocabulary.empty()))


class TestRequire:
    def test_misspelt_kind_raises(self) -> None:
        """A kind step neither in any partition nor standard raises with a did-you-mean."""
        v = StepVocabulary.of(log_of(["view", "purchase"], ["web", "web"]), ["purchse"])
        with pytest.raises(SchemaError, match="did you mean 'purchase'"):
            v.require(["view", "purchse"])

    def test_nothing_to_check_without_rows(self) -> None:
        """With no partition holding rows, any step passes (as the empty log does)."""
        StepVocabulary.empty().require(["purchse"])
        StepVocabulary.empty().check(["purchse"], argument="steps", meaning="it counts 0")

    def test_column_steps_are_not_required(self) -> None:
        """Only kind steps are checked; a column step with an absent value passes."""
        StepVocabulary.of(log_of(["view"], ["web"]), []).require([("channel", "nowhere")])


def web_and_app() -> StepVocabulary:
    """A partition with kinds view and search, channels web and app, and three column steps."""
    steps: list[Any] = [("channel", "wbe"), ("channel", "zzzz"), ("channel", "(missing)")]
    return StepVocabulary.of(log_of(["view", "search"], ["web", "app"]), steps)


class TestCheck:
    def test_absent_value_warns_with_the_closest(self) -> None:
        with pytest.warns(DataWarning) as record:
            web_and_app().check([("channel", "wbe")], argument="steps", meaning="its step counts 0")
        expected = [
            "steps: channel='wbe' does not occur in the log, so its step counts 0; "
            "did you mean 'web'?"
        ]
        assert expected == [str(w.message) for w in record]

    def test_absent_value_without_a_close_one_lists_the_values(self) -> None:
        with pytest.warns(DataWarning) as record:
            web_and_app().check([("channel", "zzzz")], argument="steps", meaning="it counts 0")
        expected = [
            "steps: channel='zzzz' does not occur in the log, so it counts 0; "
            "values: ['app', 'web']"
        ]
        assert expected == [str(w.message) for w in record]

    def test_absent_standard_kind_warns_once(self) -> None:
        """'refund' is a standard kind no partition holds: one warning, not an error."""
        with pytest.warns(DataWarning) as record:
            web_and_app().check(
                ["view", "refund", "refund"], argument="steps", meaning="it counts 0"
            )
        assert len(record) == 1
        assert "kind 'refund' does not occur in the log" in str(record[0].message)

    def test_silent_cases(self) -> None:
        """No warning for a present value, the missing label, or when there is no meaning to
        state; a misspelt kind still raises then."""
        v = web_and_app()
        v.check(["view", ("channel", "(missing)")], argument="steps", meaning="it counts 0")
        v.check([("channel", "zzzz")], argument="exclude", meaning=None)
        with pytest.raises(SchemaError, match="did you mean 'search'"):
            v.check(["serch"], argument="exclude", meaning=None)
