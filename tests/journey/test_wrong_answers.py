"""Bad input to the journey views: misspelt kinds, absent kinds, export session ids."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.journey import (
    attribution,
    friction,
    funnel,
    paths,
    sessions,
    step_matrix,
    transitions,
)
from cxmodel.log import InteractionLog

ROWS = [
    ("a", 0, "view", "s-a1"),
    ("a", 10, "add_to_cart", "s-a1"),
    ("a", 20, "purchase", "s-a1"),
    ("a", 5000, "view", "s-a2"),
    ("b", 0, "view", "s-b1"),
    ("b", 30, "add_to_cart", "s-b1"),
    ("c", 0, "view", "s-c1"),
]


def _log(rows: list[tuple[str, int, str, Any]] = ROWS, **extra: Any) -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] for r in rows],
        kind=[r[2] for r in rows],
        session_id=[r[3] for r in rows],
        channel=["web"] * len(rows),
        **extra,
    )


TYPOS = [
    pytest.param(
        lambda log: funnel(log, ["view", "add_to_crt", "purchase"]),
        "add_to_crt",
        "add_to_cart",
        id="funnel-step",
    ),
    pytest.param(
        lambda log: funnel(log, ["view", "purchase"], exclude=["refnd"]),
        "refnd",
        "refund",
        id="funnel-exclude",
    ),
    pytest.param(
        lambda log: funnel(log, [("kind", "purchse")]), "purchse", "purchase", id="funnel-pair"
    ),
    pytest.param(lambda log: paths(log, conversion="purchse"), "purchse", "purchase", id="paths"),
    pytest.param(
        lambda log: step_matrix(log, anchor="veiw"), "veiw", "view", id="step-matrix-anchor"
    ),
    pytest.param(
        lambda log: attribution(log, conversion="purchace"),
        "purchace",
        "purchase",
        id="attribution",
    ),
    pytest.param(
        lambda log: friction(log, errors=["payment_faild"]),
        "payment_faild",
        None,
        id="friction-errors",
    ),
    pytest.param(
        lambda log: friction(log, contact_kinds=["tiket_opened"], errors=()),
        "tiket_opened",
        "ticket_opened",
        id="friction-contacts",
    ),
    pytest.param(
        lambda log: log.kind_mask("Purchase"), "Purchase", "purchase", id="kind-mask-case"
    ),
]


class TestMisspeltKinds:
    @pytest.mark.parametrize(("call", "bad", "suggestion"), TYPOS)
    def test_named_with_did_you_mean(self, call: Any, bad: str, suggestion: str | None) -> None:
        """A kind neither in the log nor standard raises, naming it (and a close kind)."""
        match = repr(bad) + (f".*did you mean {suggestion!r}" if suggestion else "")
        with pytest.raises(SchemaError, match=match):
            call(_log())

    def test_issue_example_no_longer_zero(self) -> None:
        """The funnel of the issue used to count [n, 0, 0]."""
        with pytest.raises(SchemaError, match=r"unknown kind 'add_to_crt'.*'add_to_cart'\?"):
            funnel(_log(), ["view", "add_to_crt", "purchase"])

    def test_no_match_lists_kinds_in_log(self) -> None:
        """Without a close kind the message lists the log's kinds."""
        with pytest.raises(SchemaError, match=r"kinds in the log: \['add_to_cart', 'purchase'"):
            funnel(_log(), ["view", "zzzzzz"])

    def test_kind_mask_standard_kind_absent_matches_nothing(self) -> None:
        """log.kind_mask of a standard kind the log lacks is all False, without a warning."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert not _log().kind_mask("refund", "signup").any()

    def test_kind_from_log_vocabulary_after_filter_is_fine(self) -> None:
        """A kind a segment filtered out is no typo: zero, and no warning."""
        log = _log()
        only_c = log.customer_codes == 2
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            f = funnel(log, ["view", "purchase"], segment=only_c)
        assert f.counts.tolist() == [1, 0]


class TestAbsentStandardKinds:
    @pytest.mark.parametrize(
        ("call", "match"),
        [
            pytest.param(
                lambda log: funnel(log, ["view", "checkout"]),
                r"funnel\(\) steps: kind 'checkout' does not occur.*no unit reaches",
                id="funnel",
            ),
            pytest.param(
                lambda log: paths(log, conversion="signup"),
                r"paths\(\) conversion: kind 'signup'.*conversion rate is 0",
                id="paths",
            ),
            pytest.param(
                lambda log: attribution(log, conversion="refund"),
                r"attribution\(\) conversion: kind 'refund'.*credit is 0",
                id="attribution",
            ),
            pytest.param(
                lambda log: friction(log, errors=["refund"]),
                r"friction\(\) errors: kind 'refund'.*error_lift is NaN",
                id="friction-standard-error-kind",
            ),
            pytest.param(
                lambda log: friction(log),
                r"none of the default error kinds \('error', 'payment_failed'\)",
                id="friction-default-errors",
            ),
            pytest.param(
                lambda log: funnel(log, [("channel", "wbe")]),
                r"channel='wbe' does not occur.*did you mean 'web'",
                id="pair-value",
            ),
        ],
    )
    def test_warn_with_documented_answer(self, call: Any, match: str) -> None:
        """A standard kind the log does not hold is not a typo: the zero answer, with a warning."""
        with pytest.warns(DataWarning, match=match):
            call(_log())

    def test_funnel_counts_zero_for_absent_step(self) -> None:
        """The documented answer: nobody reaches a step whose kind never occurs."""
        with pytest.warns(DataWarning):
            f = funnel(_log(), ["view", "checkout"])
        assert f.counts.tolist() == [3, 0]

    def test_excluding_an_absent_kind_is_silent(self) -> None:
        """Excluding a kind that never occurs changes nothing, so it does not warn."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            f = funnel(_log(), ["view", "purchase"], exclude=["refund"])
        assert f.counts.tolist() == [3, 1]

    def test_errors_empty_skips_error_proximity_silently(self) -> None:
        """errors=() asks for no error analysis: no warning, NaN lifts."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            f = friction(_log(), errors=())
        assert f.n_errors == 0 and f.errors == ()

    def test_one_default_error_kind_present_is_enough(self) -> None:
        """With payment_failed in the log the default errors are used without a warning."""
        rows = [*ROWS, ("c", 10, "payment_failed", "s-c1")]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            f = friction(_log(rows), error_steps=1)
        assert f.n_errors == 1 and f.error_points()["label"] == ["view"]


class TestStringSessionIds:
    def test_funnel_counts_sessions(self) -> None:
        """count='sessions' works on an export's string session ids."""
        f = funnel(_log(), ["view", "add_to_cart"], count="sessions")
        assert f.counts.tolist() == [4, 2]

    def test_hold_session_id(self) -> None:
        """hold='session_id' keeps an attempt within one string session."""
        rows = [("a", 0, "view", "x"), ("a", 10, "add_to_cart", "y")]
        assert funnel(_log(rows), ["view", "add_to_cart"]).counts.tolist() == [1, 1]
        held = funnel(_log(rows), ["view", "add_to_cart"], hold="session_id")
        assert held.counts.tolist() == [1, 0]

    def test_transitions_by_session(self) -> None:
        """by_session=True reads string ids: a->a2 is a new session, so no view->view edge."""
        t = transitions(_log(), by_session=True, start_end=False)
        labels = t.labels.tolist()
        assert t.counts[labels.index("purchase"), labels.index("view")] == 0
        assert t.counts.sum() == 3  # view>cart, cart>purchase, view>cart

    @pytest.mark.parametrize(
        "ids",
        [
            pytest.param(["s-a1", "s-a1", "s-a1", "s-a2", "s-b1", "s-b1", "s-c1"], id="strings"),
            pytest.param([7, 7, 7, 8, 7, 7, 1], id="integers-reused-across-customers"),
            pytest.param([0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 3.0], id="floats-from-sessions"),
        ],
    )
    def test_same_units_whatever_the_id_type(self, ids: list[Any]) -> None:
        """Sessions are runs of one id within one customer, whatever the type of the ids."""
        log = InteractionLog.from_arrays(
            customer_id=[r[0] for r in ROWS],
            timestamp=[r[1] for r in ROWS],
            kind=[r[2] for r in ROWS],
            session_id=ids,
        )
        p = paths(log, by_session=True)
        assert p.n_units == 4
        assert dict(zip(p.paths, p.counts.tolist(), strict=True)) == {
            ("view",): 2,
            ("view", "add_to_cart"): 1,
            ("view", "add_to_cart", "purchase"): 1,
        }

    def test_missing_session_id_names_rows(self) -> None:
        """A missing session id raises, saying how many rows and what to do."""
        rows = [("a", 0, "view", "x"), ("a", 1, "view", None)]
        with pytest.raises(SchemaError, match=r"session_id is missing in 1 row.*overwrite=True"):
            transitions(_log(rows), by_session=True)

    def test_interleaved_ids_warn(self) -> None:
        """One id split by another id of the same customer warns with the count."""
        rows = [("a", 0, "view", "x"), ("a", 1, "view", "y"), ("a", 2, "view", "x")]
        with pytest.warns(DataWarning, match=r"1 run\(s\) of events continue a session id"):
            p = paths(_log(rows), by_session=True)
        assert p.n_units == 3


class TestPathsPerSession:
    def test_conversion_per_session(self) -> None:
        """A session converts when it holds the conversion kind."""
        p = paths(_log(), by_session=True, conversion="purchase")
        rates = dict(zip(p.paths, p.conversion_rate.tolist(), strict=True))  # type: ignore[union-attr]
        assert rates[("view", "add_to_cart", "purchase")] == 1.0
        assert rates[("view",)] == 0.0

    def test_by_groups_sessions(self) -> None:
        """With by= each session is in the group of its first event."""
        log = _log()
        by = np.array(["x", "x", "x", "y", "x", "x", "y"], dtype=object)
        p = paths(log, by_session=True, by=by)
        assert p.groups is not None
        assert sum(g.n_units for g in p.groups) == p.n_units == 4
        assert p.group("y").n_units == 2

    def test_collapse_and_max_length(self) -> None:
        """collapse_repeats and max_length apply within each session."""
        rows = [("a", 0, "view", "x"), ("a", 1, "view", "x"), ("a", 2, "search", "x")]
        p = paths(_log(rows), by_session=True, collapse_repeats=True, max_length=1)
        assert p.paths == (("view",),)


class TestSessionsOverwrite:
    def test_refuses_to_replace_export_ids(self) -> None:
        """An export's session_id is not silently replaced."""
        with pytest.raises(SchemaError, match=r"already has a 'session_id' column.*overwrite=True"):
            sessions(_log())

    @pytest.mark.parametrize(
        ("kwargs", "column", "expected"),
        [
            pytest.param(
                {"overwrite": True},
                "session_id",
                [0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 3.0],
                id="overwrite",
            ),
            pytest.param(
                {"name": "gap_session_id"},
                "gap_session_id",
                [0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 3.0],
                id="other-name",
            ),
        ],
    )
    def test_asked_for(self, kwargs: dict[str, Any], column: str, expected: list[float]) -> None:
        """overwrite=True replaces; another name keeps the export's ids next to the new ones."""
        out = sessions(_log(), **kwargs)
        assert out.numeric(column).tolist() == expected
        if column != "session_id":
            assert out.column("session_id").tolist()[0] == "s-a1"

    @pytest.mark.parametrize("name", ["kind", "", 3])
    def test_bad_name(self, name: Any) -> None:
        """Required columns and non-strings are refused as a session column name."""
        with pytest.raises(SchemaError, match="name="):
            sessions(_log(), name=name)
