"""Tests of traits and usage counts as churn features: indicator levels, imputation, usage
counts cut at the snapshot, and the phrases of the reasons (hand-computed)."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.domain import Customer
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.models import churn_risk
from cxmodel.models._churn_extras import ExtraFeatures, extra_reason
from tests.journey.helpers import log_of

#: a buys at 0 s and 10 s and searches at 20 s; b buys at 5 s; c searches at 1 s.
ROWS = [
    ("a", 0, "purchase"),
    ("a", 10, "purchase"),
    ("a", 20, "search"),
    ("b", 5, "purchase"),
    ("c", 1, "search"),
]
TRAITS = {"customer_id": ["a", "b", "c"], "plan": ["pro", "free", "free"], "age": [30, None, 50]}
CUSTOMERS = np.array(["a", "b", "c"], dtype=object)
SECOND = 1_000_000


class TestExtraFeatures:
    def test_nothing_asked_is_none(self) -> None:
        """Without traits and usage there are no extra features."""
        assert ExtraFeatures.build(log_of(ROWS), None, None, ()) is None

    def test_text_trait_gets_an_indicator_per_level_but_the_most_common(self) -> None:
        """ "free" is the most common plan, so only "plan=pro" is a feature."""
        extra = ExtraFeatures.build(log_of(ROWS), TRAITS, None, ())
        assert extra is not None
        assert extra.levels == {"plan": ("pro",)}
        cols, _, _ = extra.columns(log_of(ROWS), CUSTOMERS, 30 * SECOND)
        assert cols["plan=pro"].tolist() == [1.0, 0.0, 0.0]

    def test_missing_number_is_imputed_at_the_mean(self) -> None:
        """b's missing age enters as the mean of 30 and 50; the raw value stays missing."""
        log = log_of(ROWS)
        extra = ExtraFeatures.build(log, TRAITS, None, ())
        assert extra is not None
        cols, raw, imputed = extra.columns(log, CUSTOMERS, 30 * SECOND)
        assert cols["age"].tolist() == [30.0, 40.0, 50.0]
        assert np.isnan(raw["age"][1])
        assert imputed["age"].tolist() == [False, True, False]

    def test_usage_counts_rows_up_to_the_snapshot(self) -> None:
        """At 5 s a has bought once (not yet at 10 s) and b once: log(1 + count)."""
        log = log_of(ROWS)
        extra = ExtraFeatures.build(log, None, {"buys": "purchase"}, ())
        assert extra is not None
        cols, raw, imputed = extra.columns(log, CUSTOMERS, 5 * SECOND)
        assert raw["log_buys"].tolist() == [1.0, 1.0, 0.0]
        np.testing.assert_allclose(cols["log_buys"], np.log1p([1.0, 1.0, 0.0]))
        assert imputed == {}

    def test_customers_not_in_the_log_count_zero(self) -> None:
        """A customer of the snapshot without rows has no usage."""
        log = log_of(ROWS)
        extra = ExtraFeatures.build(log, None, {"buys": "purchase"}, ())
        assert extra is not None
        _, raw, _ = extra.columns(log, np.array(["a", "z"], dtype=object), 30 * SECOND)
        assert raw["log_buys"].tolist() == [2.0, 0.0]


class TestExtraReason:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [("plan=pro", "plan is pro"), ("log_buys", "buys: {v:.0f}"), ("age", "age {v:g}")],
        ids=["level", "usage", "number"],
    )
    def test_phrases(self, name: str, expected: str) -> None:
        """A level reads "trait is level", a usage count its name and count, a number its value."""
        assert expected == extra_reason(name)


def test_a_trait_that_decides_churn() -> None:
    """On a small log where trial customers seldom come back, the trial level gets a clear
    effect (Cox on the time to the next activity: a lower return rate) and is named in the
    reasons; a bad trait value names the customer and the trait."""
    rows, people = [], []
    for i in range(90):
        c = f"c{i:02d}"
        trial = i % 3 == 0
        people.append(Customer(c, traits={"plan": "trial" if trial else "paid"}))
        for day in ("01-03", "01-17", "02-01", "02-15", "03-01"):
            rows.append((c, f"2024-{day}T00:00Z", "login"))
        back = i % 4 == 0 if trial else i % 5 != 1  # trial 1 in 4, paid 4 in 5
        if back:
            rows.append((c, f"2024-03-{10 + i % 15:02d}T00:00Z", "login"))
    log = InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows], timestamp=[r[1] for r in rows], kind=[r[2] for r in rows]
    )
    after = "8.0 days after the log's last interaction"  # the last return is on Mar 24
    with pytest.warns(DataWarning, match=after):
        r = churn_risk(log, as_of="2024-04-01T00:00Z", horizon="30 days", p_alive=False,
                       traits=people)  # fmt: skip
    assert "plan=trial" in r.features and "plan=paid" not in r.features
    summary = r.model.summary
    j = summary.covariate.index("plan=trial")
    assert summary.coef[j] < 0 and summary.p[j] < 0.01
    trial = r.features["plan=trial"] == 1
    assert r.risk[trial].mean() > r.risk[~trial].mean() + 0.2
    assert any("plan is trial" in why for i in np.flatnonzero(trial) for why in r.reasons[i])
    with (
        pytest.warns(DataWarning, match=after),
        pytest.raises(SchemaError, match="customer 'c01': trait 'plan'"),
    ):
        churn_risk(log, as_of="2024-04-01T00:00Z", horizon="30 days", p_alive=False,
                   traits=[Customer("c00", traits={"plan": "x"}),
                           Customer("c01", traits={"plan": 2})])  # fmt: skip
