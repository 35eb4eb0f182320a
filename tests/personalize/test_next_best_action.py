"""Next best action: eligibility, consent, value ranking and reasons."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel._holdout import holdout_percent
from cxmodel._time import to_us
from cxmodel.errors import DataWarning, SchemaError, TriggerTypeError, ValueTypeError
from cxmodel.log import CustomerTable, InteractionLog
from cxmodel.metrics import action_effect
from cxmodel.personalize import HOLDOUT_NAME, Action, next_best_action
from cxmodel.triggers import holdout_fraction

DAY = 86_400_000_000


@pytest.fixture(scope="module")
def table() -> CustomerTable:
    rng = np.random.default_rng(0)
    n = 4000
    kinds = rng.choice(
        np.array(["purchase", "consent_granted", "consent_revoked", "login"], dtype=object),
        n,
        p=[0.6, 0.1, 0.05, 0.25],
    )
    log = InteractionLog.from_arrays(
        customer_id=np.array([f"c{i:03d}" for i in rng.integers(0, 400, n)], dtype=object),
        timestamp=(rng.integers(0, 365, n) * DAY).astype("datetime64[us]"),
        kind=kinds,
        value=np.where(kinds == "purchase", rng.uniform(5, 100, n), np.nan),
        order_id=np.array([f"o{j}" for j in range(n)], dtype=object),  # one order per row
    )
    return CustomerTable.from_log(log, as_of=np.datetime64(365 * DAY, "us"))


ACTIONS = [
    Action("win-back", "recency_days > 60", "0.2 * aov"),
    Action("upsell", "frequency >= 5", "0.05 * monetary"),
    Action("thank-you call", "frequency >= 8", "4", needs_consent=False),
]


class TestNextBestAction:
    def test_matches_numpy_reference(self, table: CustomerTable) -> None:
        """Best action and value equal a hand-written numpy computation."""
        nba = next_best_action(table, ACTIONS)
        rec, freq = table.column("recency_days"), table.column("frequency")
        aov, mon = table.column("aov"), table.column("monetary")
        consent = table.column("consent_marketing")
        vals = np.column_stack(
            [
                np.where((rec > 60) & consent & ~np.isnan(aov), 0.2 * aov, -np.inf),
                np.where((freq >= 5) & consent, 0.05 * mon, -np.inf),
                np.where(freq >= 8, 4.0, -np.inf),
            ]
        )
        best = vals.argmax(axis=1)
        has = np.isfinite(vals.max(axis=1))
        names = np.array([a.name for a in ACTIONS], dtype=object)
        assert nba.action[has].tolist() == names[best[has]].tolist()
        assert all(a is None for a in nba.action[~has])
        np.testing.assert_allclose(nba.value[has], vals.max(axis=1)[has])
        assert has.any() and (~has).any()
        assert ((nba.rank > 0) == np.isfinite(vals)).all()
        assert all(r.startswith("no action") for r in nba.reason[~has])
        i = int(np.flatnonzero(has)[0])
        assert nba.reason[i].startswith(str(nba.action[i]))

    def test_consent_blocks_marketing(self, table: CustomerTable) -> None:
        """Without marketing consent, consent-needing actions are never chosen."""
        nba = next_best_action(table, ACTIONS)
        no = ~table.column("consent_marketing")
        assert set(nba.action[no].tolist()) <= {None, "thank-you call"}

    @pytest.mark.parametrize(
        ("actions", "error", "match"),
        [
            ([], SchemaError, "at least one"),
            ([ACTIONS[0], ACTIONS[0]], SchemaError, "unique"),
            (["x"], SchemaError, "Action objects"),
            ([Action("a", "frequency > 1", '"text"')], TriggerTypeError, "expected a number"),
            ([Action("a", "frequncy > 1")], TriggerTypeError, "did you mean frequency"),
        ],
    )
    def test_bad_actions(
        self, table: CustomerTable, actions: list[Action], error: type, match: str
    ) -> None:
        """Bad action lists and expressions are rejected naming the problem."""
        with pytest.raises(error, match=match):
            next_best_action(table, actions)

    def test_empty_action_fields(self) -> None:
        """An action needs a name and a condition."""
        with pytest.raises(SchemaError, match="Action.eligible"):
            Action("a", " ")


class TestHoldout:
    def test_held_out_customers_get_no_action(self, table: CustomerTable) -> None:
        """Held-out customers get no action; the one withheld is the action they would have
        got, with the same value and ranks; the others are unchanged."""
        plain = next_best_action(table, ACTIONS)
        held = next_best_action(table, ACTIONS, holdout=30, salt="q1")
        h = held.held_out
        assert h.any() and (~h).any()
        assert all(a is None for a in held.action[h])
        assert held.withheld[h].tolist() == plain.action[h].tolist()
        assert held.action[~h].tolist() == plain.action[~h].tolist()
        assert all(w is None for w in held.withheld[~h])
        np.testing.assert_array_equal(held.value, plain.value)
        np.testing.assert_array_equal(held.rank, plain.rank)
        stopped = h & (plain.action != None)  # noqa: E711 (element-wise)
        assert all(r.startswith("held out (holdout 30%): withheld ") for r in held.reason[stopped])
        assert held.reason[~h].tolist() == plain.reason[~h].tolist()

    def test_assignment_is_the_shared_hash(self, table: CustomerTable) -> None:
        """A customer is held out when holdout_fraction("next best action", salt, id) < P/100,
        whatever the actions."""
        held = next_best_action(table, ACTIONS, holdout=25, salt="v2").held_out
        expected = [holdout_fraction(HOLDOUT_NAME, "v2", c) < 0.25 for c in table.customer_id]
        assert held.tolist() == expected
        other = next_best_action(table, ACTIONS[:1], holdout=25, salt="v2").held_out
        assert (other == held).all()
        assert (next_best_action(table, ACTIONS, holdout=25, salt="v3").held_out != held).any()

    def test_share_within_binomial_error(self, table: CustomerTable) -> None:
        n = len(table)
        for salt in ("a", "b", "c"):
            k = int(next_best_action(table, ACTIONS, holdout=20, salt=salt).held_out.sum())
            assert abs(k - 0.2 * n) < 4 * np.sqrt(n * 0.2 * 0.8)

    @pytest.mark.parametrize(
        ("holdout", "salt", "match"),
        [
            (0, None, "strictly between 0 and 100"),
            (100, None, "strictly between 0 and 100"),
            (-5, None, "got int -5"),
            (float("nan"), None, "got float nan"),
            (True, None, "got bool True"),
            ("10", None, "got str '10': did you mean holdout=10 "),
            ("150%", None, "got str '150%'"),
            ("half", None, "got str 'half'"),
            (float("inf"), None, "got float inf"),
            (None, "v2", "give holdout=P too"),
            (10, 3, "salt must be a string"),
        ],
        ids=[
            "zero",
            "hundred",
            "negative",
            "nan",
            "bool",
            "text",
            "text-percent-out-of-range",
            "words",
            "inf",
            "salt-alone",
            "salt-int",
        ],
    )
    def test_bad_holdout(
        self, table: CustomerTable, holdout: object, salt: object, match: str
    ) -> None:
        with pytest.raises(SchemaError, match=match):
            next_best_action(table, ACTIONS, holdout=holdout, salt=salt)  # type: ignore[arg-type]

    @pytest.mark.parametrize("share", [0.5, 0.1, np.float64(0.25), 0.999])
    def test_a_share_warns_naming_the_value_and_both_spellings(
        self, table: CustomerTable, share: float
    ) -> None:
        """0.5 is 0.5 % of customers, not a half: it still holds that percentage out, and
        warns how to write a half and how to keep the small percentage."""
        with pytest.warns(DataWarning) as seen:
            held = next_best_action(table, ACTIONS, holdout=share, salt="s")
        (message,) = [str(w.message) for w in seen]
        assert f"holdout={float(share):g} is read as {float(share):g} %" in message
        assert "write holdout=50" in message
        assert f"holdout='{float(share):g}%'" in message
        explicit = next_best_action(table, ACTIONS, holdout=f"{float(share):g}%", salt="s")
        assert held.held_out.tolist() == explicit.held_out.tolist()

    @pytest.mark.parametrize("holdout", [1, 1.0, 50, 99.5, "0.5%", " 2.5 %", "50%"])
    def test_percentages_do_not_warn(self, table: CustomerTable, holdout: object) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            next_best_action(table, ACTIONS, holdout=holdout, salt="s")  # type: ignore[arg-type]

    def test_text_with_its_sign_is_the_same_experiment(self, table: CustomerTable) -> None:
        by_number = next_best_action(table, ACTIONS, holdout=30, salt="q1")
        by_text = next_best_action(table, ACTIONS, holdout="30%", salt="q1")
        assert by_text.held_out.tolist() == by_number.held_out.tolist()
        assert by_text.reason.tolist() == by_number.reason.tolist()

    @settings(max_examples=60, deadline=None)
    @given(percent=st.floats(min_value=0.0, max_value=100.0, exclude_min=True, exclude_max=True))
    def test_number_and_text_agree_and_only_shares_warn(self, percent: float) -> None:
        """For any percentage in (0, 100), the number and its text with a sign read the same,
        the text never warns, and the number warns exactly when it lies below 1."""
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            number = holdout_percent(percent, "f()")
        assert number == percent
        assert bool(seen) == (percent < 1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert holdout_percent(f"{percent!r}%", "f()") == percent

    def test_to_firings(self, table: CustomerTable) -> None:
        """One firing per customer with an action (emitted) or a withheld one (suppressed as
        holdout), at the table's as_of, named after the action."""
        nba = next_best_action(table, ACTIONS, holdout=30)
        firings = nba.to_firings()
        acted = nba.action != None  # noqa: E711
        withheld = nba.withheld != None  # noqa: E711
        assert len(firings) == int(acted.sum())
        assert len(firings.suppressed) == int(withheld.sum())
        assert {f.reason for f in firings.suppressed} == {"holdout"}
        one = next(iter(firings))
        i = nba.customer_id.tolist().index(one.customer_id)
        assert (one.trigger, one.action) == (nba.action[i], nba.action[i])
        assert one.payload == {"value": nba.value[i]}
        assert to_us(one.time) == table.as_of
        ids = [f.firing_id for f in [*firings, *firings.suppressed]]
        assert len(set(ids)) == len(ids)
        assert [f.firing_id for f in nba.to_firings()] == [f.firing_id for f in firings]

    def test_effect_is_measured_per_action(self) -> None:
        """action_effect reads to_firings: treated against withheld customers, per action."""
        n = 400
        ids = np.array([f"c{i}" for i in range(n)], dtype=object)
        log = InteractionLog.from_arrays(
            customer_id=ids,
            timestamp=np.full(n, 0, dtype="datetime64[us]"),
            kind=np.full(n, "purchase", dtype=object),
            value=np.full(n, 10.0),
        )
        table = CustomerTable.from_log(log, as_of=np.datetime64(DAY, "us"))
        nba = next_best_action(table, [Action("call", "frequency >= 1", needs_consent=False)],
                               holdout=50)  # fmt: skip
        buyers = nba.customer_id[nba.action == "call"]  # every treated customer buys again
        later = InteractionLog.from_arrays(  # observed until day 30: everyone browses then
            customer_id=np.concatenate([ids, buyers, ids]),
            timestamp=np.concatenate(
                [np.full(n, 0), np.full(len(buyers), 3 * DAY), np.full(n, 30 * DAY)]
            ).astype("datetime64[us]"),
            kind=np.array(["purchase"] * (n + len(buyers)) + ["view"] * n, dtype=object),
        )
        row = action_effect(
            nba.to_firings(), later, outcome="purchase", window="7 days",
            as_of=np.datetime64(30 * DAY, "us"),
        ).effect("call")  # fmt: skip
        assert (row["n_treated"], row["n_held_out"]) == (len(buyers), n - len(buyers))
        assert (row["rate_treated"], row["rate_held_out"]) == (1.0, 0.0)


def test_an_infinite_value_does_not_hide_the_other_actions() -> None:
    """An expected value that overflows to infinity (aov 1e308 * 10) made the action rank
    first but count as ineligible, so customer a got no action at all although "small" was
    eligible; now that action is left out for a, with a warning counting it."""
    log = InteractionLog.from_arrays(
        customer_id=["a", "b"],
        timestamp=["2024-01-01T00:00Z"] * 2,
        kind=["purchase"] * 2,
        value=[1e308, 20.0],
    )
    t = CustomerTable.from_log(log, as_of="2024-01-01T00:00Z")
    actions = [
        Action("big", "true", "aov * 10", needs_consent=False),
        Action("small", "true", "1", needs_consent=False),
    ]
    with pytest.warns(DataWarning, match="'aov \\* 10' is infinite for 1 customers"):
        nba = next_best_action(t, actions)
    assert nba.action.tolist() == ["small", "big"]
    assert nba.value.tolist() == [1.0, 200.0]


class TestQuietlyIneligible:
    @staticmethod
    def _table(kinds: list[str]) -> CustomerTable:
        log = InteractionLog.from_arrays(
            customer_id=["a", "a", "b"],
            timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z", "2024-01-03T00:00Z"],
            kind=kinds,
            value=[None, 50.0, None],
        )
        return CustomerTable.from_log(log, as_of="2024-02-01T00:00Z")

    def test_a_missing_value_is_counted(self) -> None:
        """b meets the condition but has no aov (no purchase): left out, now with a count."""
        t = self._table(["consent_granted", "purchase", "login"])
        action = Action("call", "tenure_days > 0", "0.1 * aov", needs_consent=False)
        with pytest.warns(DataWarning, match=r"missing \(NaN\) for 1 of the 2 customers"):
            nba = next_best_action(t, [action])
        assert nba.action.tolist() == ["call", None]

    def test_no_consent_among_the_suited_customers_warns(self) -> None:
        """A log without consent rows: every marketing action went to nobody, silently."""
        t = self._table(["login", "purchase", "login"])
        with pytest.warns(DataWarning, match="none of the 2 customers it suits has marketing"):
            nba = next_best_action(t, [Action("mail", "tenure_days > 0", "1")])
        assert nba.action.tolist() == [None, None]

    def test_some_consent_is_quiet(self) -> None:
        """When a customer it suits has consent, the others' lack of it is the normal case."""
        t = self._table(["consent_granted", "purchase", "login"])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            nba = next_best_action(t, [Action("mail", "tenure_days > 0", "1")])
        assert nba.action.tolist() == ["mail", None]

    def test_needs_consent_is_a_boolean(self) -> None:
        """needs_consent="no" was truthy, so the action needed consent after all."""
        expected = r"^Action\(\): needs_consent must be True or False; got str 'no'$"
        with pytest.raises(ValueTypeError, match=expected):
            Action("call", "true", needs_consent="no")  # type: ignore[arg-type]
        with pytest.raises(ValueTypeError, match=r"^Action\(\): needs_consent .* got int 0$"):
            Action("call", "true", needs_consent=0)  # type: ignore[arg-type]
        assert not Action("call", "true", needs_consent=np.False_).needs_consent
