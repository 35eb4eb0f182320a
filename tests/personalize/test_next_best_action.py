"""Next best action: eligibility, consent, value ranking and reasons."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError, TriggerTypeError
from cxmodel.log import CustomerTable, InteractionLog
from cxmodel.personalize import Action, next_best_action

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
