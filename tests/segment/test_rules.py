"""Rule segments in the shared expression syntax over CustomerTable columns."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError, TriggerSyntaxError, TriggerTypeError
from cxmodel.log import CustomerTable, InteractionLog
from cxmodel.segment import rule_segments

DAY = 86_400_000_000


@pytest.fixture(scope="module")
def table() -> CustomerTable:
    rng = np.random.default_rng(0)
    n = 3000
    kinds = rng.choice(np.array(["purchase", "ticket_opened", "login"], dtype=object), n)
    log = InteractionLog.from_arrays(
        customer_id=np.array([f"c{i:03d}" for i in rng.integers(0, 300, n)], dtype=object),
        timestamp=(rng.integers(0, 400, n) * DAY).astype("datetime64[us]"),
        kind=kinds,
        value=np.where(kinds == "purchase", rng.uniform(10, 200, n), np.nan),
        channel=rng.choice(np.array(["email", "web"], dtype=object), n),
        order_id=np.array([f"o{j}" for j in range(n)], dtype=object),  # one order per row
    )
    return CustomerTable.from_log(log, as_of=np.datetime64(400 * DAY, "us"))


class TestRuleSegments:
    def test_first_match_equals_numpy(self, table: CustomerTable) -> None:
        """Labels equal a hand-written numpy first-match over the same predicates."""
        rules = {
            "lapsed VIP": "recency_days > 60 and monetary > 500",
            "VIP": "monetary > 500",
            "web fans": 'preferred_channel == "web"',
        }
        seg = rule_segments(rules, table)
        rec, mon = table.column("recency_days"), table.column("monetary")
        a = (rec > 60) & (mon > 500)
        b = mon > 500
        c = table.column("preferred_channel") == "web"
        expected = np.select([a, b, c], ["lapsed VIP", "VIP", "web fans"], "other")
        assert seg.labels.tolist() == expected.tolist()
        assert seg.shadowed["VIP"] == int((a & b).sum())
        assert sum(seg.counts().values()) == len(table)

    def test_unknown_column_did_you_mean(self, table: CustomerTable) -> None:
        """A misspelt column is a type error naming the rule, with a suggestion."""
        with pytest.raises(TriggerTypeError, match=r"(?s)rule 'x'.*did you mean monetary"):
            rule_segments({"x": "monetery > 5"}, table)

    def test_syntax_error_names_rule(self, table: CustomerTable) -> None:
        """Unparsable text is a syntax error naming the rule."""
        with pytest.raises(TriggerSyntaxError, match="rule 'broken'"):
            rule_segments({"broken": "monetary >"}, table)

    @pytest.mark.parametrize(
        ("rules", "default", "match"),
        [({}, "other", "at least one"), ({"other": "frequency > 1"}, "other", "default label")],
    )
    def test_bad_arguments(
        self, table: CustomerTable, rules: dict[str, str], default: str, match: str
    ) -> None:
        """Empty rule sets and a default clashing with a rule name are rejected."""
        with pytest.raises(SchemaError, match=match):
            rule_segments(rules, table, default=default)
