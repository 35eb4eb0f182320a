"""Hand-computed tests of attribution()."""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pytest

from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.journey import attribution, markov_removal_effects, shapley_values
from cxmodel.log import InteractionLog

DAY = 86_400


def _log(
    rows: list[tuple[str, int, str, str | None]], values: list[float] | None = None
) -> InteractionLog:
    extra = {} if values is None else {"value": values}
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] for r in rows],
        kind=[r[2] for r in rows],
        channel=[r[3] for r in rows],
        **extra,
    )


# journeys: A > B > conv, A > null, B > C > conv
MARKOV_ROWS = [
    ("p", 0, "email_clicked", "A"),
    ("p", 1, "view", "B"),
    ("p", 2, "purchase", None),
    ("q", 0, "email_clicked", "A"),
    ("r", 0, "view", "B"),
    ("r", 1, "chat", "C"),
    ("r", 2, "purchase", None),
]


class TestRuleBased:
    def test_first_last_linear_position(self) -> None:
        """Four touches before one purchase: hand-computed shares per model."""
        rows = [("a", i, "view", ch) for i, ch in enumerate("ABCD")] + [("a", 10, "purchase", None)]
        a = attribution(_log(rows), model=("first", "last", "linear", "position"))
        assert a.channels.tolist() == ["A", "B", "C", "D"]
        expected = [[1, 0, 0, 0], [0, 0, 0, 1], [0.25] * 4, [0.4, 0.1, 0.1, 0.4]]
        np.testing.assert_allclose(a.credit, expected)

    def test_position_with_one_and_two_touches(self) -> None:
        """One touch takes everything; two split 50/50."""
        rows = [("a", 0, "view", "A"), ("a", 1, "purchase", None)]
        rows += [("b", 0, "view", "A"), ("b", 1, "view", "B"), ("b", 2, "purchase", None)]
        a = attribution(_log(rows), model="position")
        assert a.credit[0].tolist() == pytest.approx([1.5, 0.5])

    def test_time_decay_and_lookback(self) -> None:
        """Weights 2^(-age/half_life); touches older than the lookback are ignored."""
        rows = [
            ("a", 0, "view", "X"),
            ("a", 8 * DAY, "view", "A"),
            ("a", 9 * DAY, "view", "B"),
            ("a", 10 * DAY, "purchase", None),
        ]
        a = attribution(_log(rows), model="time_decay", half_life="1d", lookback="5d")
        assert a.credit[0].tolist() == pytest.approx([1 / 3, 2 / 3, 0.0])
        assert a.total == 1.0 and a.unattributed == 0.0

    def test_time_decay_of_touches_many_half_lives_old(self) -> None:
        """A journey whose touches are all 1,440 half-lives old (2^-1440 underflows to 0)
        still splits its conversion by the relative weights, not 0 / 0 = NaN."""
        rows = [
            ("a", 0, "view", "A"),
            ("a", 3_600, "view", "B"),
            ("a", 60 * DAY + 3_600, "purchase", None),
        ]
        a = attribution(_log(rows), model="time_decay", half_life="1h", lookback="90d")
        assert a.credit[0].tolist() == pytest.approx([1 / 3, 2 / 3])
        single = attribution(_log(rows[1:]), model="time_decay", half_life="1h", lookback="90d")
        assert single.credit[0].tolist() == [1.0]

    def test_previous_conversion_resets_and_revenue(self) -> None:
        """Touches credit only the next conversion; revenue weights by value."""
        rows = [
            ("a", 0, "view", "A"),
            ("a", 1, "purchase", None),
            ("a", 2, "view", "B"),
            ("a", 3, "purchase", None),
            ("a", 4, "purchase", None),
        ]
        a = attribution(_log(rows, values=[0, 10, 0, 30, 5]), model="last", revenue=True)
        assert a.credit[0].tolist() == pytest.approx([10.0, 30.0])
        assert a.total == 40.0 and a.unattributed == 5.0


class TestMarkov:
    def test_hand_computed_removal_effects(self) -> None:
        """P(conv) = 2/3; removing A leaves 1/3, B leaves 0, C leaves 1/3: effects 1/2, 1, 1/2."""
        a = attribution(_log(MARKOV_ROWS), model="markov")
        assert a.p_conversion == pytest.approx(2 / 3)
        assert a.removal_effects is not None
        assert a.removal_effects.tolist() == pytest.approx([0.5, 1.0, 0.5])
        assert a.credit[0].tolist() == pytest.approx([0.5, 1.0, 0.5])

    def test_self_loop_chain(self) -> None:
        """Self loops are allowed: START>A, A>A, A>CONV and START>B>NULL gives P = 1/2."""
        c = np.zeros((5, 5))
        c[0, 1], c[1, 1], c[1, 3], c[0, 2], c[2, 4] = 1, 1, 1, 1, 1
        p, re = markov_removal_effects(c, start=0, conv=3, null=4)
        assert p == pytest.approx(0.5)
        assert re.tolist() == pytest.approx([0, 1, 0, 0, 0])


def _brute_shapley(sets: list[set[int]], n: int) -> list[float]:
    def v(s: set[int]) -> float:
        return float(sum(1 for j in sets if j <= s))

    phi = []
    for i in range(n):
        others = [p for p in range(n) if p != i]
        total = 0.0
        for k in range(n):
            for sub in combinations(others, k):
                s = set(sub)
                w = factorial(k) * factorial(n - k - 1) / factorial(n)
                total += w * (v(s | {i}) - v(s))
        phi.append(total)
    return phi


class TestShapley:
    def test_hand_computed_three_channels(self) -> None:
        """Sets {A,B}, {B,C}, {C}: A = 1/2, B = 1, C = 3/2."""
        rows = [*MARKOV_ROWS, ("s", 0, "chat", "C"), ("s", 1, "purchase", None)]
        a = attribution(_log(rows), model="shapley")
        assert a.credit[0].tolist() == pytest.approx([0.5, 1.0, 1.5])

    def test_matches_brute_force(self) -> None:
        """The zeta-transform computation equals a brute-force coalition sum."""
        rng = np.random.default_rng(7)
        masks = rng.integers(1, 32, size=25)
        sets = [{i for i in range(5) if (m >> i) & 1} for m in masks.tolist()]
        got = shapley_values(masks, np.ones(25), 5)
        assert got.tolist() == pytest.approx(_brute_shapley(sets, 5))

    def test_too_many_channels(self) -> None:
        """Exact Shapley refuses more channels than the limit."""
        with pytest.raises(DataError, match="Shapley"):
            shapley_values([1], [1.0], 25)


class TestSideBySideAndErrors:
    def test_all_models_sum_to_total(self) -> None:
        """Every model's credit sums to the attributed total."""
        a = attribution(_log(MARKOV_ROWS))
        assert a.credit.sum(axis=1).tolist() == pytest.approx([2.0] * len(a.models))
        assert a.to_pandas().shape == (3, 7) and "<table>" in a._repr_html_()

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"model": "magic"}, "model"),
            ({"channel": "nope"}, "channel"),
            ({"lookback": "soon"}, "lookback"),
            ({"revenue": True}, "value"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], match: str) -> None:
        """Bad options raise SchemaError naming the argument."""
        with pytest.raises(SchemaError, match=match):
            attribution(_log(MARKOV_ROWS), **kwargs)  # type: ignore[arg-type]


# journeys: A > B > conv (100), A > conv (20), C > conv (60), B > null
REVENUE_ROWS = [
    ("p", 0, "email_clicked", "A"),
    ("p", 1, "view", "B"),
    ("p", 2, "purchase", None),
    ("q", 0, "email_clicked", "A"),
    ("q", 1, "purchase", None),
    ("r", 0, "chat", "C"),
    ("r", 1, "purchase", None),
    ("s", 0, "view", "B"),
]
REVENUE_VALUES = [0.0, 0.0, 100.0, 0.0, 20.0, 0.0, 60.0, 0.0]


class TestRevenueWeighting:
    def test_markov_value_removal_effects(self) -> None:
        """Chain START>A 1/2, >B 1/4, >C 1/4; A>B 1/2, A>CONV 1/2 (worth 20); B>CONV 1/2
        (worth 100), B>NULL 1/2; C>CONV 1 (worth 60). V(B) = 50, V(A) = 10 + 25 = 35,
        V(C) = 60, V = 17.5 + 12.5 + 15 = 45. Without A: 27.5, effect 7/18; without B:
        A is worth 10 and V = 20, effect 5/9; without C: 30, effect 1/3. Credit of the 180
        attributed: 180 x (7, 10, 6) / 23."""
        a = attribution(_log(REVENUE_ROWS, values=REVENUE_VALUES), model="markov", revenue=True)
        assert a.removal_effects is not None
        assert a.removal_effects.tolist() == pytest.approx([7 / 18, 5 / 9, 1 / 3])
        assert a.total == 180.0
        assert a.credit[0].tolist() == pytest.approx([180 * 7 / 23, 180 * 10 / 23, 180 * 6 / 23])
        assert a.p_conversion == pytest.approx(3 / 4)

    def test_markov_counts_without_revenue(self) -> None:
        """The same journeys by count: P = 3/4; without A 3/8, without B 1/2, without C 1/2:
        effects 1/2, 1/3, 1/3."""
        a = attribution(_log(REVENUE_ROWS, values=REVENUE_VALUES), model="markov")
        assert a.removal_effects is not None
        assert a.removal_effects.tolist() == pytest.approx([1 / 2, 1 / 3, 1 / 3])

    def test_value_effects_are_scale_free(self) -> None:
        """Multiplying every revenue by 7 leaves the value removal effects unchanged."""
        a = attribution(_log(REVENUE_ROWS, values=REVENUE_VALUES), model="markov", revenue=True)
        b = attribution(
            _log(REVENUE_ROWS, values=[7 * v for v in REVENUE_VALUES]),
            model="markov",
            revenue=True,
        )
        assert a.removal_effects is not None and b.removal_effects is not None
        np.testing.assert_allclose(a.removal_effects, b.removal_effects)

    def test_shapley_revenue(self) -> None:
        """v(S) sums revenue: {A, B} 100 split 50/50, {A} 20, {C} 60: A 70, B 50, C 60."""
        a = attribution(_log(REVENUE_ROWS, values=REVENUE_VALUES), model="shapley", revenue=True)
        assert a.credit[0].tolist() == pytest.approx([70.0, 50.0, 60.0])

    def test_conversions_without_value_are_counted(self) -> None:
        """A conversion without a value counts as 0 revenue, and a DataWarning says how many
        of the conversions that is (it used to earn its channel nothing, silently)."""
        rows = [("a", 0, "view", "email"), ("a", 10, "purchase", None)]
        rows += [("b", 0, "view", "ads"), ("b", 5, "purchase", None)]
        log = _log(rows, values=[float("nan"), 10.0, float("nan"), float("nan")])
        with pytest.warns(DataWarning, match="1 of 2 conversion"):
            a = attribution(log, model="last", revenue=True)
        assert a.channels.tolist() == ["ads", "email"]
        assert a.credit[0].tolist() == [0.0, 10.0]

    def test_conv_value_shape_is_checked(self) -> None:
        """A reward vector of the wrong length raises."""
        with pytest.raises(SchemaError, match="conv_value"):
            markov_removal_effects(np.zeros((5, 5)), 0, 3, 4, conv_value=[1.0, 2.0])
