"""Holdout assignment: a customer's place in [0, 1) for a named experiment is deterministic,
the same in every process, and independent between experiments and salts."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from cxmodel.triggers import holdout_fraction

IDS = [f"cust-{i}" for i in range(20_000)]


def assigned(rule: str, percent: float, salt: str | None = None) -> np.ndarray:
    return np.array([holdout_fraction(rule, salt, c) < percent / 100 for c in IDS])


class TestAssignment:
    def test_stable_value(self) -> None:
        """The hash is SHA-256 based: a fixed value, whatever the run."""
        assert holdout_fraction("win_back", None, "c1") == pytest.approx(0.175059, abs=1e-6)
        assert 0 <= holdout_fraction("r", "s", "") < 1

    def test_same_in_another_process(self) -> None:
        """Not Python's salted ``hash``: another interpreter with another hash seed agrees."""
        code = "from cxmodel.triggers import holdout_fraction as h; print(repr(h('r', 'v2', 'c9')))"
        env = {**os.environ, "PYTHONHASHSEED": "12345"}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert float(out.stdout) == holdout_fraction("r", "v2", "c9")

    @pytest.mark.parametrize("percent", [10, 25, 2.5])
    def test_share_within_binomial_error(self, percent: float) -> None:
        held = assigned("welcome", percent)
        p, n = percent / 100, len(IDS)
        assert abs(held.sum() - n * p) < 4 * np.sqrt(n * p * (1 - p))

    def test_rules_assign_independently(self) -> None:
        """Chi-square test of the joint assignment of two rules (30 % each)."""
        a, b = assigned("rule_a", 30), assigned("rule_b", 30)
        table = np.array([[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]])
        assert stats.chi2_contingency(table)[1] > 0.001

    def test_salt_draws_a_new_assignment(self) -> None:
        a, b = assigned("welcome", 30), assigned("welcome", 30, "v2")
        assert (a != b).any()
        agree = float((a == b).mean())  # independent draws agree with p^2 + (1 - p)^2 = 0.58
        assert abs(agree - 0.58) < 0.03
        assert (assigned("welcome", 30, "") == a).all()  # no salt is the empty salt


class TestHeldOutCustomers:
    def test_agrees_with_the_fraction(self) -> None:
        """A customer is held out exactly when its fraction is below the share (0.175 < 0.2
        for 'c1' in 'win_back'); share 0 holds out nobody and share 1 everybody."""
        from cxmodel._holdout import held_out_customers

        ids = IDS[:500]
        got = held_out_customers("win_back", "s", 0.3, ids)
        assert got.tolist() == [holdout_fraction("win_back", "s", c) < 0.3 for c in ids]
        assert held_out_customers("win_back", None, 0.2, ["c1"]).tolist() == [True]
        assert not held_out_customers("win_back", None, 0.0, ids).any()
        assert held_out_customers("win_back", None, 1.0, ids).all()
        assert held_out_customers("win_back", None, 0.5, []).shape == (0,)
