"""End-to-end invariants of every journey view on a small synthetic world."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.datasets import synthetic
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


@pytest.fixture(scope="module")
def log() -> InteractionLog:
    """A sessionised 300-customer synthetic log."""
    return sessions(synthetic(300, seed=3).log)


class TestSynthetic:
    def test_transitions_markers(self, log: InteractionLog) -> None:
        """START leaves once per customer, END is entered once per customer."""
        t = transitions(log)
        assert t.counts[0].sum() == log.n_customers == t.counts[:, -1].sum()
        assert t.counts.sum() == len(log) + log.n_customers
        s = transitions(log, by_session=True)
        assert s.counts[0].sum() == len(np.unique(log.numeric("session_id")))

    def test_funnel_options_are_consistent(self, log: InteractionLog) -> None:
        """Strict <= loose <= any; windows and totals behave monotonically."""
        steps = ["view", "add_to_cart", "purchase"]
        loose = funnel(log, steps).counts
        strict = funnel(log, steps, order="strict").counts
        windowed = funnel(log, steps, window="1d").counts
        assert np.all(strict <= loose) and np.all(windowed <= loose)
        assert np.all(funnel(log, steps, count="totals").counts >= loose)
        held = funnel(log, steps, hold="session_id").counts
        assert np.all(held <= loose)
        assert funnel(log, steps, count="sessions").counts[0] >= loose[0]

    def test_views_sum_up(self, log: InteractionLog) -> None:
        """Step-matrix columns sum to 1; path coverage ends at 1; credit sums to total."""
        m = step_matrix(log, anchor="purchase", steps=3)
        assert np.allclose(m.shares.sum(axis=0), 1.0)
        p = paths(log, top=10_000)
        assert p.coverage[-1] == pytest.approx(1.0)
        a = attribution(log)
        assert np.allclose(a.credit.sum(axis=1), a.total)
        f = friction(log, errors=())
        assert f.events.sum() == len(log) and f.exits.sum() == log.n_customers

    def test_segment_equals_filter(self, log: InteractionLog) -> None:
        """segment= gives the same result as filtering first."""
        mask = log.customer_codes % 2 == 0
        a = funnel(log, ["view", "purchase"], segment=mask).counts
        b = funnel(log.filter(mask), ["view", "purchase"]).counts
        assert a.tolist() == b.tolist()
