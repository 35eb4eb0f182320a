"""action_effect: treated against held-out customers recovers a planted effect."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import numpy as np
import pytest

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import ActionEffect, action_effect
from cxmodel.triggers import TriggerEngine, evaluate, parse
from cxmodel.triggers._firings import Firing
from tests.metrics.holdout_sim import simulate

RULE = parse("trigger welcome:\n    when signup\n    emit coupon\n    holdout 20%")
AS_OF = "2024-03-15T00:00Z"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def run(seed: int, **kwargs: float) -> ActionEffect:
    log, _ = simulate(seed, **kwargs)
    firings = evaluate(RULE, log, as_of=AS_OF)
    return action_effect(firings, log, outcome="purchase", value="value", as_of=AS_OF)


class TestPlantedEffect:
    def test_coverage_over_200_seeds(self) -> None:
        """The planted uplift of 5 points (and its value) lies in the 95 % interval in 95 %
        of the seeds, within 2.5 points; the estimates are unbiased."""
        base, uplift, value_uplift = 0.10, 0.05, 10.0
        planted_value = uplift * 50.0 + (base + uplift) * value_uplift
        hits, value_hits, diffs, value_diffs = [], [], [], []
        for seed in range(200):
            row = run(seed, base=base, uplift=uplift, value_uplift=value_uplift).effect("welcome")
            hits.append(row["ci_low"] <= uplift <= row["ci_high"])
            value_hits.append(row["value_ci_low"] <= planted_value <= row["value_ci_high"])
            diffs.append(row["difference"])
            value_diffs.append(row["value_difference"])
        assert abs(np.mean(hits) - 0.95) <= 0.025
        assert abs(np.mean(value_hits) - 0.95) <= 0.025
        assert abs(np.mean(diffs) - uplift) < 3 * np.std(diffs) / np.sqrt(200)
        assert abs(np.mean(value_diffs) - planted_value) < 3 * np.std(value_diffs) / np.sqrt(200)

    def test_no_effect_no_lift(self) -> None:
        """With nothing planted, the interval covers zero about 95 % of the time."""
        covered = [run(seed, uplift=0.0).effect("welcome") for seed in range(60)]
        share = np.mean([r["ci_low"] <= 0 <= r["ci_high"] for r in covered])
        assert share >= 0.88

    def test_sizes_and_columns(self) -> None:
        log, info = simulate(3)
        firings = evaluate(RULE, log, as_of=AS_OF)
        effect = action_effect(firings, log, outcome="purchase", as_of=AS_OF)
        row = effect.effect("welcome")
        assert row["n_held_out"] == int(info["held"].sum())
        assert row["n_treated"] + row["n_held_out"] == 2000
        assert row["lift"] == pytest.approx(row["rate_treated"] / row["rate_held_out"] - 1)
        assert "value_mde" not in effect.names
        assert row["mde"] > 0 and row["n_pending"] == 0
        assert effect.outcome == "purchase" and effect.window == "14 days"
        frame = effect.to_pandas()
        assert list(frame["trigger"]) == ["welcome"]
        assert set(effect.to_dict()) == set(effect.names)
        assert "action_effect" in effect._repr_html_()


def small_log() -> InteractionLog:
    """c0..c9 sign up on Jan 1; c0, c1 buy on Jan 5, c2 on Jan 20 (after 14 days)."""
    ids = [f"c{i}" for i in range(10)]
    return InteractionLog.from_arrays(
        customer_id=[*ids, "c0", "c1", "c2", "c3"],
        kind=["signup"] * 10 + ["purchase"] * 3 + ["call"],
        timestamp=["2024-01-01T00:00Z"] * 10 + ["2024-01-05T00:00Z"] * 2
        + ["2024-01-20T00:00Z", "2024-01-02T00:00Z"],
        value=[0.0] * 10 + [10.0, 30.0, 99.0, 0.0],
        channel=[None] * 13 + ["phone"],
    )  # fmt: skip


HALF = parse("trigger welcome:\n    when signup\n    emit coupon\n    holdout 50%")


class TestDefinition:
    def test_window_and_exact_rates(self) -> None:
        log = small_log()
        firings = evaluate(HALF, log, as_of="2024-03-01T00:00Z")
        with pytest.warns(DataWarning, match="value interval is unreliable"):  # 10 customers
            effect = action_effect(
                firings, log, outcome="purchase", value="value", as_of="2024-03-01T00:00Z"
            )
        row = effect.effect("welcome")
        treated = {f.customer_id for f in firings}
        bought = {"c0", "c1"} & treated  # c2's purchase is after the window
        assert row["rate_treated"] == pytest.approx(len(bought) / len(treated))
        worth = sum({"c0": 10.0, "c1": 30.0}[c] for c in bought)
        assert row["value_treated"] == pytest.approx(worth / len(treated))
        with pytest.warns(DataWarning, match="10 customers' windows end in it"):
            longer = action_effect(  # windows to Jan 31; the data end on Jan 20
                firings, log, outcome="purchase", window="30 days", as_of="2024-03-01T00:00Z"
            ).effect("welcome")
        assert longer["rate_treated"] * len(treated) == len({"c0", "c1", "c2"} & treated)

    def test_column_value_outcome(self) -> None:
        log = small_log()
        firings = evaluate(HALF, log, as_of="2024-03-01T00:00Z")
        row = action_effect(
            firings, log, outcome=("channel", "phone"), as_of="2024-03-01T00:00Z"
        ).effect("welcome")
        arm = "rate_treated" if "c3" in {f.customer_id for f in firings} else "rate_held_out"
        assert row[arm] > 0

    def test_streamed_firings(self) -> None:
        log, _ = simulate(5, n=300)
        batch = action_effect(
            evaluate(RULE, log, as_of=AS_OF), log, outcome="purchase", as_of=AS_OF
        )
        engine = TriggerEngine(RULE)
        streamed = engine.process_many(log)
        got = action_effect(streamed, log, outcome="purchase", as_of=AS_OF)
        assert got.to_dict().keys() == batch.to_dict().keys()
        for name in batch.names:
            assert got[name].tolist() == batch[name].tolist()
        as_list = action_effect(
            [*streamed.firings, *streamed.suppressed_firings], log, outcome="purchase", as_of=AS_OF
        )
        assert as_list["difference"].tolist() == batch["difference"].tolist()


class TestWarnings:
    def test_open_windows(self) -> None:
        log = small_log()
        firings = evaluate(HALF, log, as_of="2024-03-01T00:00Z")
        with (
            pytest.warns(DataWarning, match="left out until their window closes"),
            pytest.warns(DataWarning, match="with a group empty the difference"),
        ):
            row = action_effect(firings, log, outcome="purchase", window="30 days").effect(
                "welcome"
            )
        assert row["n_pending"] == 10 and row["n_treated"] == 0

    def test_expected_effect_above_mde(self) -> None:
        log, _ = simulate(1, n=400)
        firings = evaluate(RULE, log, as_of=AS_OF)
        with pytest.warns(DataWarning, match="minimal detectable effect"):
            action_effect(firings, log, outcome="purchase", as_of=AS_OF, expected_effect=0.01)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            action_effect(firings, log, outcome="purchase", as_of=AS_OF, expected_effect=0.9)

    def test_consent_mixes_groups(self) -> None:
        rules = parse(
            "trigger welcome:\n    when signup\n    emit coupon\n    requires consent marketing"
            "\n    holdout 50%"
        )
        log = small_log()
        with pytest.warns(DataWarning, match="no consent record was found"):  # none in the log
            firings = evaluate(rules, log, as_of="2024-03-01T00:00Z")
        with (
            pytest.warns(DataWarning, match="consent"),
            pytest.warns(DataWarning, match="0 treated and 5 held-out customers"),
        ):
            action_effect(firings, log, outcome="purchase", as_of="2024-03-01T00:00Z")

    def test_contact_policy_mixes_groups(self) -> None:
        """Held-out customers are decided before the contact policy, so a rule whose firings
        a policy stopped compares groups that differ by more than the action."""
        rules = parse(
            "trigger call:\n    when signup\n    emit call\n\n"
            "trigger welcome:\n    when signup\n    emit coupon\n    holdout 50%\n\n"
            "contact policy daily:\n    at most 1 per 1 days\n    rules call > welcome"
        )
        log = small_log()
        firings = evaluate(rules, log, as_of="2024-03-01T00:00Z")
        with (
            pytest.warns(DataWarning, match="stopped by a contact policy"),
            pytest.warns(DataWarning, match="0 treated and 5 held-out customers"),
        ):
            action_effect(firings, log, outcome="purchase", as_of="2024-03-01T00:00Z")

    def test_no_holdout(self) -> None:
        rules = parse("trigger welcome:\n    when signup\n    emit coupon")
        log = small_log()
        firings = evaluate(rules, log, as_of="2024-03-01T00:00Z")
        with pytest.warns(DataWarning, match="no firing was held out"):
            effect = action_effect(firings, log, outcome="purchase", as_of="2024-03-01T00:00Z")
        assert len(effect) == 0

    def test_as_of_after_the_data(self) -> None:
        """The data end on Jan 20; an as_of of Mar 1 reads 30-day windows (to Jan 31) as if
        nothing happened after Jan 20, and says so with the count (all 10 customers). Read
        up to the data's end (the default as_of), the same customers are pending instead."""
        log = small_log()
        firings = evaluate(HALF, log, as_of="2024-03-01T00:00Z")
        with pytest.warns(DataWarning, match=r"as_of 2024-03-01.*10 customers' windows end"):
            action_effect(
                firings, log, outcome="purchase", window="30 days", as_of="2024-03-01T00:00Z"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            action_effect(
                firings, log, outcome="purchase", window="14 days", as_of="2024-03-01T00:00Z"
            )

    def test_customers_missing_from_the_log(self) -> None:
        """Firings measured on a log that lacks their customers: a warning counts them
        (c4..c9 of the 10), since they count as without the outcome."""
        log = small_log()
        firings = evaluate(HALF, log, as_of="2024-03-01T00:00Z")
        part = log.filter(np.isin(log.column("customer_id"), ["c0", "c1", "c2", "c3"]))
        with pytest.warns(DataWarning, match="6 of the 10 customers measured never occur"):
            action_effect(firings, part, outcome="purchase", as_of="2024-01-20T00:00Z")

    def test_values_missing(self) -> None:
        """A purchase without a value is summed as 0, and a warning counts it (c1's, in its
        window)."""
        log = small_log()
        log = log.with_column("value", np.where(log.column("value") == 30.0, np.nan,
                                                log.column("value")))  # fmt: skip
        firings = evaluate(HALF, log, as_of="2024-03-01T00:00Z")
        with (
            pytest.warns(DataWarning, match="1 outcome interactions in the windows have no"),
            pytest.warns(DataWarning, match="value interval is unreliable"),
        ):
            row = action_effect(
                firings, log, outcome="purchase", value="value", as_of="2024-01-20T00:00Z"
            ).effect("welcome")
        arm = "value_treated" if "c0" in {f.customer_id for f in firings} else "value_held_out"
        assert row[arm] > 0

    def test_outcome_typo(self) -> None:
        """A misspelt outcome kind is an error with a did-you-mean, with no warning first."""
        log = small_log()
        firings = evaluate(HALF, log, as_of="2024-03-01T00:00Z")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(SchemaError, match="did you mean 'purchase'"):
                action_effect(firings, log, outcome="purchse", as_of="2024-01-20T00:00Z")

    def test_bad_arguments(self) -> None:
        log = small_log()
        firings = evaluate(HALF, log, as_of="2024-03-01T00:00Z")
        for kwargs in ({"outcome": 3}, {"outcome": "purchase", "value": "nope"},
                       {"outcome": "purchase", "expected_effect": -1},
                       {"outcome": "purchase", "level": 2.0}):  # fmt: skip
            with pytest.raises(SchemaError):
                action_effect(firings, log, as_of="2024-03-01T00:00Z", **kwargs)  # type: ignore[arg-type]


class TestMinimalDetectableEffectWithoutVariance:
    def test_no_outcome_in_either_group_has_no_mde(self) -> None:
        """400 customers bought before the coupon and never after: the rate is 0 in both
        groups, so the pooled SE is 0. The mde was then 0 ("any effect is detectable") and
        expected_effect=0.01 passed without a word; now mde and value_mde are NaN and the
        expected effect is said to be uncheckable."""
        n = 400
        ids = [f"c{i}" for i in range(n)]
        log = InteractionLog.from_arrays(
            customer_id=ids * 3,
            kind=["purchase"] * n + ["signup"] * n + ["view"] * n,
            timestamp=["2023-12-01T00:00Z"] * n + ["2024-01-01T00:00Z"] * n
            + ["2024-02-01T00:00Z"] * n,
            value=[20.0] * n + [0.0] * (2 * n),
        )  # fmt: skip
        firings = evaluate(HALF, log, as_of="2024-02-01T00:00Z")
        with (
            pytest.warns(DataWarning, match=r"unknown \(NaN\): the outcome rate is 0 in both"),
            pytest.warns(
                DataWarning, match="value interval is unreliable: no customer has a non-zero"
            ),
        ):
            effect = action_effect(
                firings, log, outcome="purchase", value="value", expected_effect=0.01,
                as_of="2024-02-01T00:00Z",
            )  # fmt: skip
        row = effect.effect("welcome")
        assert row["n_treated"] > 100 and row["n_held_out"] > 100
        assert (row["rate_treated"], row["rate_held_out"]) == (0.0, 0.0)
        assert np.isnan(row["mde"]) and np.isnan(row["value_mde"])
        assert row["ci_low"] < 0 < row["ci_high"]  # Newcombe's interval still has width

    def test_too_few_customers_for_any_difference(self) -> None:
        """3 treated and 3 held-out customers, one buyer in each group: even a treated rate
        of 1 against 1/3 is detected less than 80 % of the time, so the mde is NaN and the
        expected effect is said to be uncheckable, for that reason."""
        ids = [f"c{i}" for i in range(6)]
        fired = [
            Firing("r", c, T0, "coupon", {}, {}, f"r-{c}", "holdout" if i >= 3 else None)
            for i, c in enumerate(ids)
        ]
        log = InteractionLog.from_arrays(
            customer_id=[*ids, "c0", "c3", *ids],
            kind=["signup"] * 6 + ["purchase"] * 2 + ["view"] * 6,
            timestamp=["2024-01-01T00:00Z"] * 6 + ["2024-01-03T00:00Z"] * 2
            + ["2024-02-01T00:00Z"] * 6,
        )  # fmt: skip
        with pytest.warns(DataWarning, match="even a treated rate of 1 against the held-out"):
            row = action_effect(
                fired, log, outcome="purchase", expected_effect=0.5, as_of="2024-02-01T00:00Z"
            ).effect("r")
        assert (row["n_treated"], row["n_held_out"]) == (3, 3)
        assert np.isnan(row["mde"]) and not np.isnan(row["ci_low"])
