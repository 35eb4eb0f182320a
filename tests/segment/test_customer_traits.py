"""Segments use customer traits and usage counts by name (rules, contrasts, profiles)."""

from __future__ import annotations

import numpy as np

from cxmodel.log import CustomerTable
from cxmodel.segment import contrast, profile_segments, rule_segments
from tests.log.helpers import AS_OF, PEOPLE, traits_log


class TestSegmentsUseThem:
    def _table(self) -> CustomerTable:
        log = traits_log()
        late = log.kind_mask("delivery") & (log.column("late") == "yes")
        return log.customers_table(AS_OF, traits=PEOPLE, usage={"late_deliveries": late})

    def test_rule_segments(self) -> None:
        """Rules read traits and usage counts by name."""
        t = self._table()
        seg = rule_segments({"pro, late": 'plan == "pro" and late_deliveries > 0'}, t)
        assert seg.labels.tolist() == ["pro, late", "other", "other", "pro, late"]

    def test_contrast_and_profile(self) -> None:
        """A text trait compares level by level; a usage count as a mean."""
        t = self._table()
        pro = t.column("plan") == "pro"
        c = contrast(t, pro, ~pro, features=["plan", "late_deliveries"])
        row = dict(zip(c.feature.tolist(), zip(c.a.tolist(), c.b.tolist(), strict=True),
                       strict=True))  # fmt: skip
        assert row["plan=pro"] == (1.0, 0.0)
        assert row["late_deliveries"] == (1.5, 0.0)
        prof = profile_segments(np.where(pro, "pro", "other"), t, features=["plan"])
        assert prof.features == ("plan=(missing)", "plan=basic", "plan=pro")
        assert prof.mean[:, 2].tolist() == [0.0, 1.0]
