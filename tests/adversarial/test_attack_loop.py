"""Did the action work, and churn risk, attacked as a statistician would.

Coverage of ``action_effect``'s intervals against planted truth, the holdout assignment,
degenerate groups, ``CoxPH`` against lifelines, and row-order invariance.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel._power import newcombe_mde
from cxmodel._stats import Z95
from cxmodel.errors import (
    ConvergenceWarning,
    CXModelError,
    DataWarning,
    SchemaError,
    ValueTypeError,
)
from cxmodel.log import InteractionLog
from cxmodel.metrics import action_effect, recovery_rate
from cxmodel.models import CoxPH, DiscreteHazard, concordance_index
from cxmodel.triggers import holdout_fraction
from cxmodel.triggers._firings import Firing

T0 = datetime(2024, 1, 1, tzinfo=UTC)
START = np.datetime64("2024-01-01T00:00", "us")
AS_OF = "2024-01-31T00:00Z"


def firing(customer: str, *, held: bool = False, trigger: str = "r", days: float = 0) -> Firing:
    """An emitted firing of ``trigger`` for ``customer`` (or one held out)."""
    at = T0 + timedelta(days=days) if days else T0
    return Firing(
        trigger, customer, at, "coupon", {}, {}, f"{trigger}-{customer}-{days}-{held}",
        "holdout" if held else None,
    )  # fmt: skip


def replicates(
    rng: np.random.Generator,
    reps: int,
    n_t: int,
    n_h: int,
    p_t: float,
    p_h: float,
    value_uplift: float = 0.0,
) -> tuple[list[Firing], InteractionLog]:
    """``reps`` independent experiments in one log, one trigger each: ``n_t`` treated and
    ``n_h`` held-out customers fire on Jan 1; a customer buys on Jan 3 with probability
    ``p_t`` (treated) or ``p_h``, spending Exponential(50) (+ ``value_uplift`` if treated);
    everybody views on Jan 31, so the log is observed to the end of the windows."""
    n = n_t + n_h
    ids = np.array([f"{k}-{i}" for k in range(reps) for i in range(n)], dtype=object)
    held = np.tile(np.arange(n) >= n_t, reps)
    trig = np.repeat(np.array([f"r{k:05d}" for k in range(reps)], dtype=object), n)
    fired = [
        firing(c, held=h, trigger=t)
        for t, c, h in zip(trig.tolist(), ids.tolist(), held.tolist(), strict=True)
    ]
    bought = rng.random(ids.size) < np.where(held, p_h, p_t)
    m, size = int(bought.sum()), ids.size
    spend = rng.exponential(50.0, m) + np.where(held[bought], 0.0, value_uplift)
    log = InteractionLog.from_arrays(
        customer_id=np.concatenate([ids, ids[bought], ids]),
        kind=np.array(["signup"] * size + ["purchase"] * m + ["view"] * size, dtype=object),
        timestamp=np.concatenate(
            [
                np.full(size, START),
                np.full(m, START + np.timedelta64(2, "D")),
                np.full(size, START + np.timedelta64(30, "D")),
            ]
        ),
        value=np.concatenate([np.zeros(size), spend, np.zeros(size)]),
    )
    return fired, log


def simulate(
    seed: int, n_t: int, n_h: int, p_t: float, p_h: float, value_uplift: float = 0.0
) -> dict[str, np.ndarray]:
    """2,000 replicated experiments (20 batches of 100 triggers: each trigger reads the whole
    log, so a batch is kept small), their effect columns; 1,000 when an experiment has more
    than 300 customers (the simulation then stays within ~10 s)."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(20 if n_t + n_h <= 300 else 10):
        fired, log = replicates(rng, 100, n_t, n_h, p_t, p_h, value_uplift)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # small groups: NaN value intervals
            effect = action_effect(
                fired, log, outcome="purchase", window="7 days", value="value", as_of=AS_OF
            )
        parts.append(effect.columns)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


# 2,000 replications (1,000 for the larger experiments): the simulation's standard error of a
# 95 % coverage is sqrt(0.95 * 0.05 / 2000) = 0.0049 (0.0069). Newcombe's hybrid score interval (method 10) is not exact:
# Newcombe (1998, table II) reports mean coverage 0.95 and minima near 0.93 at small sizes, and
# it is conservative (towards 0.99+) when a rate is near 0 or 1, where the discrete outcomes
# leave few possible differences. So coverage must lie in [0.925, 1]: nominal, less the
# method's documented shortfall, less 3 simulation standard errors.
RATE_SCENARIOS = [
    # n_treated, n_held_out, rate treated, rate held out
    (30, 30, 0.10, 0.10),  # small equal groups, no effect: type-I error
    (100, 20, 0.50, 0.50),  # unequal holdout fraction (17 %), no effect
    (200, 10, 0.02, 0.02),  # a 5 % holdout at a rare outcome
    (40, 40, 0.98, 0.98),  # rates near 1
    (400, 50, 0.30, 0.20),  # a planted effect of 10 points, an 11 % holdout
    (25, 75, 0.05, 0.15),  # a planted harm, holdout larger than the treated group
]


class TestRateCoverage:
    @pytest.mark.parametrize(("n_t", "n_h", "p_t", "p_h"), RATE_SCENARIOS)
    def test_newcombe_covers_the_planted_difference(
        self, n_t: int, n_h: int, p_t: float, p_h: float
    ) -> None:
        cols = simulate(1, n_t, n_h, p_t, p_h)
        low, high, diff = cols["ci_low"], cols["ci_high"], cols["difference"]
        assert not np.isnan(low).any()
        truth = p_t - p_h
        coverage = float(np.mean((low <= truth) & (truth <= high)))
        assert 0.925 <= coverage <= 1.0, coverage
        # the interval lies in the range of a difference of rates, around the estimate
        assert (low >= -1).all() and (high <= 1).all() and (low <= diff).all()
        assert (diff <= high).all()
        # the difference of two sample shares is unbiased: within 4 simulation standard errors
        assert abs(diff.mean() - truth) <= 4 * diff.std() / np.sqrt(diff.size)

    def test_type_one_error_at_the_nominal_level(self) -> None:
        """No effect, 20 % holdout of 250 customers at a 30 % rate: the interval excludes 0
        in 5 % of the experiments, within 3 simulation standard errors and Newcombe's
        documented shortfall (above)."""
        cols = simulate(2, 200, 50, 0.3, 0.3)
        rejected = float(np.mean((cols["ci_low"] > 0) | (cols["ci_high"] < 0)))
        assert rejected <= 0.075, rejected


class TestValueCoverage:
    def test_welch_covers_the_planted_value_difference(self) -> None:
        """Moderate groups with buyers in both (about 90 and 40): Welch's interval of the mean
        value per customer (0 for non-buyers) holds the planted 0.3 * 60 - 0.2 * 50 = 8 in
        95 % of 1,000 experiments; tolerance 2 points (3 simulation standard errors, 0.021,
        rounded: the t approximation is near nominal at these sizes); the estimate is
        unbiased within 4 simulation standard errors."""
        cols = simulate(3, 300, 200, 0.3, 0.2, value_uplift=10.0)
        truth = 0.3 * 60.0 - 0.2 * 50.0
        low, high, diff = cols["value_ci_low"], cols["value_ci_high"], cols["value_difference"]
        coverage = float(np.mean((low <= truth) & (truth <= high)))
        assert abs(coverage - 0.95) <= 0.02, coverage
        assert abs(diff.mean() - truth) <= 4 * diff.std() / np.sqrt(diff.size)

    def test_small_holdout_and_rare_outcome_is_covered_and_said_unreliable(self) -> None:
        """A 5 % holdout (10 customers) of a rule whose outcome has a 2 % rate: 82 % of the
        experiments have no held-out buyer, a variance of 0 that Welch's interval read as an
        exact mean (coverage 0.87). A group with fewer than 3 buyers now has at least
        the variance of 3 (the rule of three), so the interval holds the true 0 in at least 92.5 % of 2,000
        experiments (here conservatively, near 1: with no buyer among 10, a 30 % rate is
        still plausible); and every experiment is warned that its value interval is
        unreliable (fewer than 20 customers with a value in a group)."""
        cols, warned = simulate_warned(4, 200, 10, 0.02, 0.02)
        low, high = cols["value_ci_low"], cols["value_ci_high"]
        assert not np.isnan(low).any()
        coverage = float(np.mean((low <= 0) & (high >= 0)))
        assert 0.925 <= coverage <= 1.0, coverage
        assert warned == len(cols["trigger"]) == 2000

    def test_moderate_groups_are_not_warned(self) -> None:
        """Buyers in both groups (about 90 and 40 of 300 and 200): no value-interval warning,
        and the floor for fewer than 3 buyers never applies, so the interval is Welch's (its
        coverage: test_welch_covers_the_planted_value_difference)."""
        cols, warned = simulate_warned(3, 300, 200, 0.3, 0.2, value_uplift=10.0, batches=3)
        assert warned == 0
        assert len(cols["trigger"]) == 300


def simulate_warned(
    seed: int,
    n_t: int,
    n_h: int,
    p_t: float,
    p_h: float,
    value_uplift: float = 0.0,
    batches: int = 20,
) -> tuple[dict[str, np.ndarray], int]:
    """:func:`simulate` (``batches`` of 100 experiments), and how many experiments were
    warned that their value interval is unreliable."""
    rng = np.random.default_rng(seed)
    parts, warned = [], 0
    for _ in range(batches):
        fired, log = replicates(rng, 100, n_t, n_h, p_t, p_h, value_uplift)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            effect = action_effect(
                fired, log, outcome="purchase", window="7 days", value="value", as_of=AS_OF
            )
        parts.append(effect.columns)
        warned += len(
            {
                str(w.message).split("'")[1]
                for w in seen
                if "interval is unreliable" in str(w.message)
            }
        )
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}, warned


class TestMinimalDetectableEffect:
    def test_power_at_the_reported_mde_is_80_percent(self) -> None:
        """The table promises the smallest difference detected with 80 % power. For 400
        treated and 100 held-out customers at a 5 % rate the normal approximation with the
        pooled rate reported 0.0683, where the interval's power is 0.53; the mde is now the
        difference at which the interval's exact power is 0.80 (0.0956). Planting it, the
        95 % interval excludes 0 in 80 % of 1,000 experiments; tolerance 4 points (3.2
        simulation standard errors of 0.0126: the power itself is exact)."""
        mde = newcombe_mde(400, 100, 0.05, Z95)
        assert mde == pytest.approx(0.0956, abs=1e-4)
        cols = simulate(6, 400, 100, 0.05 + mde, 0.05)
        power = float(np.mean((cols["ci_low"] > 0) | (cols["ci_high"] < 0)))
        assert abs(power - 0.80) <= 0.04, power
        # and the table reports that mde, at each experiment's observed held-out rate
        for i in range(20):
            n_t, n_h = int(cols["n_treated"][i]), int(cols["n_held_out"][i])
            expected = newcombe_mde(n_t, n_h, float(cols["rate_held_out"][i]), Z95)
            assert cols["mde"][i] == pytest.approx(expected, nan_ok=True)


def small_log() -> InteractionLog:
    """a..d sign up on Jan 1; a buys 5.0 on Jan 3; everybody views on Jan 31."""
    ids = ["a", "b", "c", "d"]
    return InteractionLog.from_arrays(
        customer_id=[*ids, "a", *ids],
        kind=["signup"] * 4 + ["purchase"] + ["view"] * 4,
        timestamp=["2024-01-01T00:00Z"] * 4 + ["2024-01-03T00:00Z"] + ["2024-01-31T00:00Z"] * 4,
        value=[0.0] * 4 + [5.0] + [0.0] * 4,
    )


def effect_of(fired: list[Firing], **kwargs: Any) -> dict[str, Any]:
    return action_effect(
        fired, small_log(), outcome="purchase", window="7 days", as_of=AS_OF, **kwargs
    ).effect("r")


class TestDegenerateGroups:
    def test_customer_both_treated_and_held_out_is_in_neither_group(self) -> None:
        """Customer a has an emitted and a held-out firing of one rule (firings of two runs
        with different salts put together): it was not assigned to one group, and counting it
        in both makes the groups share a customer. Expected: left out of both, with a warning
        counting it. Got: counted as treated and as held out, silently."""
        fired = [firing("a"), firing("a", held=True), firing("b"), firing("c", held=True)]
        with pytest.warns(DataWarning, match="1 customers have both emitted and held-out"):
            row = effect_of(fired)
        assert (row["n_treated"], row["n_held_out"]) == (1, 1)
        assert row["rate_treated"] == 0.0 and row["rate_held_out"] == 0.0

    def test_recovery_rate_customer_in_both_groups(self) -> None:
        """The same for recovery_rate: a customer with an emitted and a held-out firing is
        left out of every group, with a warning."""
        fired = [firing("a"), firing("a", held=True), firing("b"), firing("c", held=True)]
        with pytest.warns(DataWarning, match="1 customers have both emitted and held-out"):
            rates = recovery_rate(fired, small_log(), retention=("7 days",), as_of=AS_OF)
        assert rates.row("r", "emitted", "retained_7_days")["n"] == 1
        assert rates.row("r", "held out", "retained_7_days")["n"] == 1

    def test_no_treated_customer_says_why_the_difference_is_nan(self) -> None:
        """Every firing held out (or every treated window still open): the difference is NaN.
        Expected: a warning saying the treated group is empty. Got: a silent NaN row."""
        fired = [firing("a", held=True), firing("b", held=True)]
        with pytest.warns(DataWarning, match="0 treated and 2 held-out customers"):
            row = effect_of(fired)
        assert np.isnan(row["difference"]) and np.isnan(row["ci_low"])
        assert row["rate_held_out"] == 0.5

    def test_recovery_rate_with_held_out_firings_only(self) -> None:
        fired = [firing("a", held=True), firing("b", held=True)]
        with pytest.warns(DataWarning, match="no emitted firings, only held-out ones"):
            rates = recovery_rate(fired, small_log(), retention=("7 days",), as_of=AS_OF)
        assert np.isnan(rates.row("r", "emitted", "retained_7_days")["difference"])

    def test_one_customer_per_group_says_why_the_value_interval_is_nan(self) -> None:
        """One treated and one held-out customer: the rate interval exists (Newcombe), the
        value interval cannot (Welch needs 2 per group). Expected: a warning. Got: a silent
        NaN beside a finite rate interval."""
        fired = [firing("a"), firing("b", held=True)]
        with pytest.warns(DataWarning, match="value interval needs 2 customers in each group"):
            row = effect_of(fired, value="value")
        assert np.isnan(row["value_ci_low"]) and not np.isnan(row["ci_low"])
        assert row["value_difference"] == 5.0

    def test_nobody_and_everybody_converts(self) -> None:
        """Nobody buys: rates 0, a finite interval around 0, no MDE and no lift (documented
        NaN); everybody buys: rates 1 and the interval still inside [-1, 1]."""
        fired = [firing("b"), firing("c"), firing("d", held=True)]
        row = effect_of(fired)
        assert row["difference"] == 0 and row["ci_low"] < 0 < row["ci_high"] <= 1
        assert np.isnan(row["mde"]) and np.isnan(row["lift"])
        log = InteractionLog.from_arrays(
            customer_id=["a", "b", "c", "a", "b", "c"],
            kind=["signup"] * 3 + ["purchase"] * 3,
            timestamp=["2024-01-01T00:00Z"] * 3 + ["2024-01-31T00:00Z"] * 3,
        )
        effect = action_effect(
            [firing("a"), firing("b"), firing("c", held=True)],
            log, outcome="purchase", window="30 days", as_of=AS_OF,
        ).effect("r")  # fmt: skip
        assert effect["rate_treated"] == effect["rate_held_out"] == 1.0
        assert -1 <= effect["ci_low"] < 0 < effect["ci_high"] <= 1
        assert effect["lift"] == 0.0

    def test_expected_effect_true_is_refused(self) -> None:
        """expected_effect=True was read as a difference of 1 (100 points) and compared with
        the MDE; a bool is no difference in rate."""
        with pytest.raises(SchemaError, match="expected_effect must be a positive number"):
            effect_of([firing("a"), firing("b", held=True)], expected_effect=True)

    def test_duplicate_firings_count_the_customer_once(self) -> None:
        fired = [firing("a"), firing("a", days=1), firing("b", held=True), firing("c")]
        row = effect_of(fired)
        assert (row["n_treated"], row["n_held_out"]) == (2, 1)
        assert row["rate_treated"] == 0.5

    def test_firing_after_as_of_is_pending(self) -> None:
        fired = [firing("a"), firing("c"), firing("b", held=True), firing("d", held=True)]
        fired.append(firing("e", held=True, days=40))
        with pytest.warns(DataWarning, match="1 customers fired less than 7 days"):
            row = effect_of(fired)
        assert row["n_pending"] == 1 and row["n_held_out"] == 2


class TestHoldoutAssignment:
    def test_customer_id_of_another_type_is_refused(self) -> None:
        """The engine reads customer ids as text; holdout_fraction('r', None, 123) hashed the
        JSON number 123, not the text '123', so a host checking an int id got another
        customer's place (0.0147 against 0.1262). Expected: a ValueTypeError naming it."""
        with pytest.raises(ValueTypeError, match="customer_id must be text; got int 123"):
            holdout_fraction("r", None, 123)  # type: ignore[arg-type]
        with pytest.raises(ValueTypeError, match="salt must be text or None; got int 5"):
            holdout_fraction("r", 5, "c1")  # type: ignore[arg-type]
        with pytest.raises(ValueTypeError, match="rule must be text; got NoneType"):
            holdout_fraction(None, None, "c1")  # type: ignore[arg-type]
        with pytest.raises(CXModelError):
            holdout_fraction(["r"], None, "c1")  # type: ignore[arg-type]

    def test_deterministic_across_hash_seeds(self) -> None:
        """The fractions of 50 customers are equal in two interpreters with different
        PYTHONHASHSEED (SHA-256, not Python's salted hash)."""
        code = (
            "from cxmodel.triggers import holdout_fraction as h\n"
            "print([h('rule', 's', f'c{i}') for i in range(50)])"
        )
        outs = set()
        for seed in ("1", "987654"):
            env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": "src"}
            run = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            outs.add(run.stdout)
        assert len(outs) == 1
        assert eval(outs.pop()) == [holdout_fraction("rule", "s", f"c{i}") for i in range(50)]

    @pytest.mark.parametrize("share", [0.01, 0.2, 0.5, 0.95])
    def test_realised_share_within_binomial_error(self, share: float) -> None:
        """Over 20,000 ids the held-out count is within 4 binomial standard deviations of
        n * share (a false alarm once in ~16,000 runs of a fair assignment)."""
        n = 20_000
        held = sum(holdout_fraction("exp", "v3", f"id-{i}") < share for i in range(n))
        assert abs(held - n * share) <= 4 * np.sqrt(n * share * (1 - share))

    def test_fractions_are_uniform(self) -> None:
        """Kolmogorov-Smirnov against U(0, 1) over 20,000 ids: p above 0.001."""
        from scipy import stats

        u = [holdout_fraction("exp", None, f"id-{i}") for i in range(20_000)]
        assert stats.kstest(u, "uniform").pvalue > 0.001

    def test_salts_assign_independently(self) -> None:
        """Two salts of one rule at 30 %: held out by both in 9 % of ids, within 4 standard
        deviations of a binomial(20,000, 0.09)."""
        n = 20_000
        a = np.array([holdout_fraction("exp", "a", f"id-{i}") < 0.3 for i in range(n)])
        b = np.array([holdout_fraction("exp", "b", f"id-{i}") < 0.3 for i in range(n)])
        both = int((a & b).sum())
        assert abs(both - n * 0.09) <= 4 * np.sqrt(n * 0.09 * 0.91)


def rows_of(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    t = np.ceil(rng.exponential(np.exp(-(0.7 * x[:, 0] - 0.3 * x[:, 1]))) * 4)  # ties
    c = np.ceil(rng.exponential(3.0, n) * 4)
    return x, np.minimum(t, c), t <= c


class TestCoxAgainstLifelines:
    @pytest.mark.parametrize(("n", "seed"), [(60, 0), (300, 1), (1000, 2)])
    def test_coefficients_errors_and_concordance(self, n: int, seed: int) -> None:
        """Efron ties, tied censoring times: coefficients within 1e-4 (lifelines stops at its
        own tolerance), standard errors within 1e-5, concordance within 1e-4 and the log
        partial likelihood within 1e-6 of lifelines' CoxPHFitter on the same rows."""
        pd = pytest.importorskip("pandas")
        lifelines = pytest.importorskip("lifelines")
        x, t, e = rows_of(n, seed)
        frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "T": t, "E": e})
        theirs = lifelines.CoxPHFitter().fit(frame, "T", "E")
        ours = CoxPH().fit(x, t, e, names=["a", "b"])
        np.testing.assert_allclose(ours.coef_, theirs.params_.to_numpy(), atol=1e-4)
        np.testing.assert_allclose(
            ours.standard_errors_, theirs.standard_errors_.to_numpy(), atol=1e-5
        )
        assert abs(ours.concordance_ - theirs.concordance_index_) <= 1e-4
        assert abs(ours.log_likelihood_ - theirs.log_likelihood_) <= 1e-6

    def test_concordance_index_equals_lifelines_with_ties(self) -> None:
        """Tied times, tied risks, censored rows tied with events: equal to lifelines'
        concordance_index (which takes survival-like scores: 1 - C of the risk) to 1e-12."""
        lifelines_utils = pytest.importorskip("lifelines.utils")
        rng = np.random.default_rng(5)
        for _ in range(100):
            n = int(rng.integers(3, 50))
            t = rng.integers(0, 6, n).astype(float)
            e = rng.random(n) < 0.6
            e[0] = True
            t[0] = 0.0  # an event before a later time: a comparable pair
            risk = rng.integers(0, 4, n).astype(float)
            theirs = 1 - lifelines_utils.concordance_index(t, risk, e)
            assert concordance_index(t, risk, e) == pytest.approx(theirs, abs=1e-12)

    def test_separating_covariate_warns(self) -> None:
        """Everybody with x = 1 has the event before everybody with x = 0: the estimate is
        infinite. Expected (R's coxph, the docs): a ConvergenceWarning naming the covariate
        and convergence_.converged false, not a large number returned quietly."""
        x = np.r_[np.ones(20), np.zeros(20)][:, None]
        t = np.arange(1.0, 41.0)
        with pytest.warns(ConvergenceWarning, match="'x0'"):
            model = CoxPH().fit(x, t, np.ones(40))
        assert not model.convergence_.converged

    def test_constant_and_collinear_covariates_are_refused(self) -> None:
        from cxmodel.errors import DataError

        x, t, e = rows_of(80, 3)
        with pytest.raises(DataError, match="'c' is the same in every row"):
            CoxPH().fit(np.c_[x, np.ones(80)], t, e, names=["a", "b", "c"])
        with pytest.raises(DataError, match="collinear"):
            CoxPH().fit(np.c_[x, 2 * x[:, 0]], t, e, names=["a", "b", "c"])
        with pytest.raises(DataError, match="at least one observed event"):
            CoxPH().fit(x, t, np.zeros(80))


class TestRowOrder:
    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(st.randoms(use_true_random=False))
    def test_cox_does_not_depend_on_row_order(self, random: Any) -> None:
        """Permuting the subjects leaves coefficients, errors and concordance as they were
        (to 1e-9: sums taken in another order round differently)."""
        x, t, e = rows_of(120, 7)
        order = np.array(random.sample(range(120), 120))
        a = CoxPH().fit(x, t, e)
        b = CoxPH().fit(x[order], t[order], e[order])
        np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-9)
        np.testing.assert_allclose(a.standard_errors_, b.standard_errors_, atol=1e-9)
        assert a.concordance_ == pytest.approx(b.concordance_, abs=1e-12)

    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(st.randoms(use_true_random=False))
    def test_action_effect_does_not_depend_on_firing_order(self, random: Any) -> None:
        """Shuffling the firings (with duplicates at equal times) changes nothing."""
        rng = np.random.default_rng(11)
        fired, log = replicates(rng, 3, 12, 8, 0.4, 0.2)
        fired += fired[:5]  # duplicates
        shuffled = random.sample(fired, len(fired))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # a few buyers: value interval warned
            a = action_effect(fired, log, outcome="purchase", window="7 days", value="value",
                              as_of=AS_OF).to_dict()  # fmt: skip
            b = action_effect(shuffled, log, outcome="purchase", window="7 days",
                              value="value", as_of=AS_OF).to_dict()  # fmt: skip
        for name, column in a.items():
            np.testing.assert_array_equal(np.asarray(column), np.asarray(b[name]))


class TestDiscreteHazard:
    def test_equals_a_logistic_glm_on_person_periods(self) -> None:
        """The model is a logistic regression with one intercept per period: coefficients,
        baselines and standard errors equal statsmodels' binomial GLM on the same rows to 1e-8
        (both are Newton on the same likelihood)."""
        sm = pytest.importorskip("statsmodels.api")
        from cxmodel.models import expand_person_period

        rng = np.random.default_rng(0)
        x = rng.normal(size=(400, 2))
        hazard = 1 / (1 + np.exp(-(-1.5 + 0.6 * x[:, 0] - 0.4 * x[:, 1])))
        t, c = rng.geometric(hazard), rng.integers(1, 8, 400)
        subject, period, event = expand_person_period(np.minimum(t, c), t <= c)
        ours = DiscreteHazard().fit(x[subject], event, periods=period)
        design = np.column_stack([np.eye(int(period.max()) + 1)[period], x[subject]])
        theirs = sm.GLM(event, design, family=sm.families.Binomial()).fit(tol=1e-12)
        np.testing.assert_allclose(ours.coef_, theirs.params[-2:], atol=1e-8)
        np.testing.assert_allclose(ours.baseline_, theirs.params[:-2], atol=1e-8)
        np.testing.assert_allclose(ours.standard_errors_, theirs.bse[-2:], atol=1e-8)

    def test_separating_covariate_warns(self) -> None:
        """Every row with x = 1 has the event: the estimate of x is infinite. Expected (as
        CoxPH, R's glm): a ConvergenceWarning naming x. Got: coefficient 37.7 with a NaN
        standard error and convergence_.converged true, silently."""
        rng = np.random.default_rng(0)
        x = np.r_[np.ones(10), np.zeros(30)][:, None]
        y = np.r_[np.ones(10), rng.random(30) < 0.3]
        with pytest.warns(ConvergenceWarning, match=r"still rising along 'x' \(at \+"):
            model = DiscreteHazard().fit(x, y, names=["x"])
        assert not model.convergence_.converged
        assert "intercept" not in model.convergence_.message  # finite at covariates 0

    def test_period_with_only_events_warns(self) -> None:
        """Every row of period 0 has the event: its baseline is infinite. Expected: a warning
        naming that period's baseline, and not the others."""
        rng = np.random.default_rng(0)
        periods = np.r_[np.zeros(10, int), np.ones(30, int)]
        y = np.r_[np.ones(10), rng.random(30) < 0.3]
        with pytest.warns(ConvergenceWarning, match="along 'period 0 baseline' \\(at"):
            model = DiscreteHazard().fit(rng.normal(size=(40, 1)), y, periods=periods)
        assert "period 1" not in model.convergence_.message
        assert "'x0'" not in model.convergence_.message

    @pytest.mark.parametrize(
        ("events", "periods", "error"),
        [
            (["a", "b", "c"], None, ValueTypeError),  # was numpy's ValueError
            ([1, 0, 0], ["a", "b", "c"], ValueTypeError),  # was numpy's UFuncTypeError
            ([1, 0, 0], [0, np.nan, 1], SchemaError),  # and numpy's RuntimeWarning before it
        ],
    )
    def test_events_and_periods_that_are_not_numbers(
        self, events: Any, periods: Any, error: type[Exception]
    ) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no numpy warning on the way
            with pytest.raises(error):
                DiscreteHazard().fit([[1.0], [2.0], [3.0]], events, periods=periods)


class TestCoxFlatLikelihood:
    def test_one_event_alone_in_its_risk_set(self) -> None:
        """The only event is the last time, with nobody else at risk: the partial likelihood
        is the same for every coefficient. Expected: a warning that the data do not determine
        it. Got: "still rising along 'x0' (at +0), whose estimate is infinite"."""
        x = np.random.default_rng(1).normal(size=(20, 1))
        with pytest.warns(ConvergenceWarning, match="flat along 'x0', which the data do not"):
            model = CoxPH().fit(x, np.arange(1.0, 21.0), np.r_[np.zeros(19), 1])
        assert not model.convergence_.converged


class TestRecoveryScoreRange:
    def test_next_score_intervals_stay_on_the_scale(self) -> None:
        """Next NPS answers 0 and 10 (treated), 5 and 6 (held out). Expected: the mean's
        interval within 0..10 and the difference's within -10..10, as the survey metrics clip
        theirs (mean_t_bounds' limits). Got: [-58.5, 68.5] and [-61.5, 60.5]."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b", "c", "d"] * 2,
            kind=["survey"] * 8,
            timestamp=["2024-01-01T00:00Z"] * 4 + ["2024-01-05T00:00Z"] * 4,
            metric=["nps"] * 8,
            score=[3.0, 2.0, 4.0, 1.0, 0.0, 10.0, 5.0, 6.0],
        )
        fired = [firing("a"), firing("b"), firing("c", held=True), firing("d", held=True)]
        rates = recovery_rate(
            fired, log, metric="nps", window="4 days", retention=(), as_of="2024-01-05T00:00Z"
        )
        treated = rates.row("r", "emitted", "next_score")
        held = rates.row("r", "held out", "next_score")
        assert treated["value"] == 5.0 and treated["difference"] == -0.5
        assert 0 <= treated["ci_low"] <= 5.0 <= treated["ci_high"] <= 10
        assert 0 <= held["ci_low"] <= 5.5 <= held["ci_high"] <= 10
        assert -10 <= treated["diff_ci_low"] < -0.5 < treated["diff_ci_high"] <= 10


def activity_log(order: np.ndarray | None = None) -> InteractionLog:
    """60 customers' views and purchases over 2024-01..06 at distinct instants, rows given
    in ``order`` (default as generated)."""
    rng = np.random.default_rng(21)
    counts = rng.integers(1, 9, 60)
    ids = np.repeat(np.array([f"c{i:02d}" for i in range(60)], dtype=object), counts)
    minutes = rng.choice(182 * 24 * 60, ids.size, replace=False)  # distinct instants
    times = START + minutes.astype("timedelta64[m]").astype("timedelta64[us]")
    kinds = np.where(rng.random(ids.size) < 0.3, "purchase", "view").astype(object)
    values = np.where(kinds == "purchase", rng.exponential(40.0, ids.size), 0.0)
    at = np.arange(ids.size) if order is None else order
    return InteractionLog.from_arrays(
        customer_id=ids[at], kind=kinds[at], timestamp=times[at], value=values[at]
    )


class TestChurnRowOrder:
    @settings(max_examples=5, deadline=None, derandomize=True)
    @given(st.randoms(use_true_random=False), st.sampled_from(["cox", "discrete"]))
    def test_churn_risk_does_not_depend_on_row_order(self, random: Any, model: str) -> None:
        """Rows at distinct instants given in another order: the same risks (to 1e-9)."""
        from cxmodel.models import churn_risk

        size = len(activity_log())
        order = np.array(random.sample(range(size), size))
        kwargs: dict[str, Any] = {"as_of": "2024-05-15T00:00Z", "horizon": "30 days"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            a = churn_risk(activity_log(), model=model, **kwargs)
            b = churn_risk(activity_log(order), model=model, **kwargs)
        assert a.customer_id.tolist() == b.customer_id.tolist()
        assert len(a.customer_id) >= 50 and 0 < float(np.mean(a.risk)) < 1
        np.testing.assert_allclose(a.risk, b.risk, atol=1e-9)

    @settings(max_examples=20, deadline=None, derandomize=True)
    @given(st.randoms(use_true_random=False))
    def test_discrete_hazard_does_not_depend_on_row_order(self, random: Any) -> None:
        from cxmodel.models import expand_person_period

        rng = np.random.default_rng(2)
        x = rng.normal(size=(150, 2))
        t = rng.geometric(1 / (1 + np.exp(1.5 - 0.5 * x[:, 0])))
        subject, period, event = expand_person_period(np.minimum(t, 5), t <= 5)
        order = np.array(random.sample(range(subject.size), subject.size))
        a = DiscreteHazard().fit(x[subject], event, periods=period)
        b = DiscreteHazard().fit(x[subject][order], event[order], periods=period[order])
        np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-9)
        np.testing.assert_allclose(a.baseline_, b.baseline_, atol=1e-9)
        np.testing.assert_allclose(a.standard_errors_, b.standard_errors_, atol=1e-9)
