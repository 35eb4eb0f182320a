"""Known-answer tests of friction()."""

from __future__ import annotations

import pytest

from cxmodel.errors import SchemaError
from cxmodel.journey import friction
from cxmodel.log import InteractionLog

DAY = 86_400


def _log(rows: list[tuple[str, int, str]], **extra: list[str | None]) -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] for r in rows],
        kind=[r[2] for r in rows],
        **extra,
    )


class TestFriction:
    def test_exit_self_loop_backtrack(self) -> None:
        """Hand-counted exits, self-loops and back-tracks, ranked by exits."""
        rows = [
            ("a", 0, "view"),
            ("a", 1, "search"),
            ("a", 2, "search"),
            ("a", 3, "view"),  # back-track search -> view (seen before)
            ("b", 0, "search"),
            ("b", 1, "view"),
        ]
        f = friction(_log(rows))
        table = {lab: i for i, lab in enumerate(f.labels.tolist())}
        assert f.labels.tolist() == ["view", "search"]
        s, v = table["search"], table["view"]
        assert f.exits[v] == 2 and f.exit_rate[v] == pytest.approx(2 / 3)
        assert f.self_loop_rate[s] == pytest.approx(1 / 3)
        assert f.backtrack_rate[s] == pytest.approx(1 / 3)
        assert f.backtrack_rate[v] == 0.0

    def test_slow_edges(self) -> None:
        """Gaps above the quantile threshold count as slow for their source label."""
        rows = [("a", 0, "view"), ("a", 1, "search"), ("a", 2, "view"), ("a", 1000, "purchase")]
        f = friction(_log(rows), slow_quantile=0.5)
        table = dict(zip(f.labels.tolist(), f.slow_rate.tolist(), strict=True))
        assert f.slow_seconds == 1.0
        assert table["view"] == 0.5 and table["search"] == 0.0

    def test_repeated_contacts_with_key(self) -> None:
        """A contact repeated within the window about the same order counts once as repeated."""
        rows = [
            ("a", 0, "ticket_opened"),
            ("a", 2 * DAY, "call"),
            ("a", 20 * DAY, "call"),
            ("b", 0, "ticket_opened"),
            ("b", 1, "ticket_opened"),
        ]
        order = ["o1", "o1", "o1", "o2", "o3"]
        f = friction(_log(rows, order_id=order), repeat_key="order_id", repeat_window="7d")
        assert f.contacts["ticket_opened"]["contacts"] == 3.0
        assert f.contacts["ticket_opened"]["repeated"] == 1.0  # a's ticket, then a call on o1
        assert f.contacts["call"]["repeated"] == 0.0
        g = friction(_log(rows, order_id=order), repeat_window="7d")
        assert g.contacts["ticket_opened"]["repeated"] == 2.0
        assert len(g.to_pandas()) == 2 and "contacts" in g.to_dict()

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [({"slow_quantile": 1.5}, "slow_quantile"), ({"repeat_window": "x"}, "repeat_window")],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], match: str) -> None:
        """Bad options raise SchemaError naming the argument."""
        with pytest.raises(SchemaError, match=match):
            friction(_log([("a", 0, "view")]), **kwargs)  # type: ignore[arg-type]
