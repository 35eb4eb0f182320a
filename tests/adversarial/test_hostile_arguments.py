"""Impossible requests, out-of-range parameters and degenerate inputs to the analyses: each
is a ``CXModelError`` naming the argument (or, where an answer is undefined but asked for, NaN
with a ``DataWarning``), never an empty result, a NaN or another exception without a word."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cxmodel import datasets, journey, metrics, models, segment
from cxmodel.errors import ConvergenceError, CXModelError, DataError, DataWarning, SchemaError
from cxmodel.log import CustomerTable

AS_OF = "2024-10-01T00:00:00Z"


@pytest.fixture(scope="module")
def log() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return datasets.synthetic(30, seed=1).log


class TestEmptySelections:
    @pytest.mark.parametrize(
        ("call", "message"),
        [
            pytest.param(lambda log: metrics.cohort_retention(log, kinds=()), "no kind given",
                         id="cohort_retention-kinds"),
            pytest.param(lambda log: metrics.average_handle_time(log, kinds=(), components=["reply_hours"]),
                         "no kind given",
                         id="average_handle_time-kinds"),
            pytest.param(lambda log: metrics.average_handle_time(log, components=()),
                         "components names nothing", id="average_handle_time-components"),
            pytest.param(lambda log: segment.rfm_scores(log, as_of=AS_OF, kind=()),
                         "no kind given", id="rfm_scores-kind"),
            pytest.param(lambda log: metrics.experience_drivers(log, kinds=()),
                         "no candidate driver", id="experience_drivers-kinds"),
            pytest.param(lambda log: metrics.driver_model(log, drivers=[]), "no driver",
                         id="driver_model-drivers"),
            pytest.param(lambda log: metrics.driver_model(log, drivers=["view"], activity=[]),
                         "activity names nothing", id="driver_model-activity"),
            pytest.param(lambda log: journey.attribution(log, model=[]), "model names nothing",
                         id="attribution-model"),
            pytest.param(lambda log: models.churn_features(log, as_of=AS_OF, activity=[]),
                         "activity names nothing", id="churn_features-activity"),
        ],
    )  # fmt: skip
    def test_nothing_asked_is_refused(self, log: Any, call: Any, message: str) -> None:
        """An empty selection gave an empty table (or an R² of 0) as if it were an answer."""
        with pytest.raises(SchemaError, match=message):
            call(log)


class TestIntervals:
    @pytest.mark.parametrize(
        ("call", "message"),
        [
            pytest.param(lambda: segment.wilson_interval(6, 5), "no share", id="wilson-x>n"),
            pytest.param(lambda: segment.wilson_interval(-1, 5), "no share", id="wilson-x<0"),
            pytest.param(lambda: segment.wilson_interval(1, 5, z=-1), "z must be positive",
                         id="wilson-z<0"),
            pytest.param(lambda: segment.newcombe_interval(6, 5, 1, 5), "no share",
                         id="newcombe-x>n"),
            pytest.param(lambda: segment.welch_interval(np.array([np.nan, 1.0]),
                                                        np.array([1.0, 2.0])),
                         r"a\[0\] is nan", id="welch-nan"),
            pytest.param(lambda: segment.welch_interval(np.array([1.0, 2.0]),
                                                        np.array([1.0, 3.0]), level=1.0),
                         "open interval", id="welch-level"),
        ],
    )  # fmt: skip
    def test_refused(self, call: Any, message: str) -> None:
        """6 successes of 5 gave (nan, 1.0), z = -1 an interval with low > high, a NaN sample
        (nan, nan) and level=1 (-inf, inf)."""
        with pytest.raises(SchemaError, match=message):
            call()

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(
        x=st.integers(-3, 60),
        n=st.integers(-3, 60),
        z=st.floats(-3, 5, allow_nan=False),
    )
    def test_wilson_is_a_share_or_an_error(self, x: int, n: int, z: float) -> None:
        """Any counts and quantile: an interval inside [0, 1] holding x / n, or an error."""
        try:
            low, high = segment.wilson_interval(x, n, z)
        except SchemaError:
            assert not (0 <= x <= n) or z <= 0
            return
        if n == 0:
            assert np.isnan(low) and np.isnan(high)
            return
        assert 0.0 <= low <= x / n + 1e-12 and x / n - 1e-12 <= high <= 1.0


class TestRanksAndChains:
    def test_rank_scores_huge_n_bins(self) -> None:
        """n_bins=10**20 was an OverflowError."""
        with pytest.raises(SchemaError, match="n_bins must be at most"):
            segment.rank_scores([1.0, 2.0], 10**20)

    @pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
    def test_markov_counts_are_counts(self, bad: float) -> None:
        """Negative or NaN counts gave a conversion probability of 0 without a word."""
        counts = np.ones((3, 3))
        counts[0, 1] = bad
        with pytest.raises(SchemaError, match=r"counts\[0, 1\]"):
            journey.markov_removal_effects(counts, 0, 1, 2)

    def test_markov_loop_never_left(self) -> None:
        """START -> A -> B -> A forever was numpy's LinAlgError (a singular matrix): the loop
        never converts; its states are lost, and a way out of it is credited."""
        looping = [[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 1, 0, 0, 0], [0] * 5, [0] * 5]
        base, effects = journey.markov_removal_effects(looping, 0, 3, 4)
        assert (base, effects.tolist()) == (0.0, [0.0] * 5)
        escaping = [[0, 1, 1, 0, 0], [0, 0, 1, 1, 0], [0, 1, 0, 0, 0], [0] * 5, [0] * 5]
        base, effects = journey.markov_removal_effects(escaping, 0, 3, 4)
        assert base == pytest.approx(1.0)
        assert effects.tolist() == pytest.approx([0.0, 1.0, 0.75, 0.0, 0.0])

    def test_shapley_weights_are_finite(self) -> None:
        """A NaN weight made every Shapley value NaN."""
        with pytest.raises(SchemaError, match=r"weights\[0\] is nan"):
            journey.shapley_values([1], [np.nan], 2)

    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(counts=hnp.arrays(np.int64, (5, 5), elements=st.integers(0, 3)))
    def test_any_chain(self, counts: np.ndarray[Any, Any]) -> None:
        """Any non-negative counts: a conversion probability in [0, 1] and finite effects."""
        base, effects = journey.markov_removal_effects(counts, 0, 3, 4)
        assert 0.0 <= base <= 1.0 + 1e-9
        assert np.all(np.isfinite(effects))


class TestModelScores:
    @pytest.mark.parametrize(
        ("labels", "scores", "message"),
        [
            pytest.param([0, 2, 1], [0.1, 0.2, 0.3], r"labels\[1\] is 2\.0", id="label-2"),
            pytest.param([0, 1], [np.nan, 0.2], r"scores\[0\] is nan", id="nan-score"),
        ],
    )
    def test_auc_refuses(self, labels: Any, scores: Any, message: str) -> None:
        """A label 2 counted as a positive; a NaN score gave an AUC of 0.0."""
        with pytest.raises(SchemaError, match=message):
            models.auc_score(labels, scores)

    @pytest.mark.parametrize("labels", [[1, 1, 1], []], ids=["one-class", "empty"])
    def test_auc_undefined_warns(self, labels: list[int]) -> None:
        """Without both classes the AUC is NaN, now with a DataWarning saying why."""
        with pytest.warns(DataWarning, match="AUC is NaN"):
            assert np.isnan(models.auc_score(labels, [0.5] * len(labels)))

    def test_concordance_empty_and_nan(self) -> None:
        """No durations was an IndexError; a NaN risk was ranked as a number."""
        with pytest.raises(DataError, match="no comparable pairs"):
            models.concordance_index([], [])
        with pytest.raises(SchemaError, match=r"risk\[0\] is nan"):
            models.concordance_index([1, 2, 3], [np.nan, 0.2, 0.3])


class TestFits:
    def test_cox_covariates_too_large(self) -> None:
        """Covariates of 1e200 were a ValueError from scipy ('array must not contain infs')."""
        x = np.random.default_rng(0).normal(size=(10, 1)) * 1e200
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(ConvergenceError, match="rescale them"):
                models.CoxPH().fit(x, np.arange(1.0, 11.0), np.ones(10))

    @pytest.mark.parametrize(
        ("survivors", "message"),
        [([0, 0, 0], "the cohort is empty"), ([100.5, 50, 20], "whole")],
        ids=["empty-cohort", "fractional"],
    )
    def test_shifted_beta_geo_needs_counts(self, survivors: list[float], message: str) -> None:
        """A cohort of 0 customers was fitted (alpha = beta = 1) as if it said something."""
        with pytest.raises(DataError, match=message):
            models.ShiftedBetaGeo().fit(survivors=survivors)


class TestForwardedOptions:
    @pytest.mark.parametrize(
        ("call", "message"),
        [
            pytest.param(lambda log, a: journey.compare_funnels(log, ["view", "purchase"], a, ~a,
                                                                windw="1d"),
                         "compare_funnels.*did you mean 'window'", id="compare_funnels"),
            pytest.param(lambda log, a: journey.compare_friction(log, a, ~a, levl="kind"),
                         "compare_friction.*did you mean 'level'", id="compare_friction"),
            pytest.param(lambda log, a: journey.compare_step_matrices(log, a, ~a, stps=3),
                         "compare_step_matrices.*did you mean 'steps'", id="compare_steps"),
            pytest.param(lambda log, a: journey.compare_transitions(log, a, ~a, x=1),
                         "compare_transitions.*unknown option 'x'", id="compare_transitions"),
            pytest.param(lambda log, a: journey.compare_paths(log, a, ~a, lvl="kind"),
                         "compare_paths.*unknown option 'lvl'", id="compare_paths"),
            pytest.param(lambda log, a: models.validate_churn(log, split="2024-08-01T00:00Z",
                                                              horizon="60 days", peniliser=1),
                         "validate_churn.*did you mean 'penalizer'", id="validate_churn"),
        ],
    )  # fmt: skip
    def test_misspelt_option(self, log: Any, call: Any, message: str) -> None:
        """A misspelt option was Python's TypeError naming the inner function."""
        half = log.customer_codes % 2 == 0
        with pytest.raises(SchemaError, match=message):
            call(log, half)


def test_step_matrix_steps_bounded(log: Any) -> None:
    """steps=10**9 was a MemoryError (156 GiB)."""
    with pytest.raises(SchemaError, match="at most 10,000"):
        journey.step_matrix(log, steps=10**9)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    labels=st.lists(st.sampled_from([0, 1, 2, True, False, 0.5]), max_size=12),
    data=st.data(),
)
def test_auc_any_input(labels: list[Any], data: st.DataObject) -> None:
    """Any labels and scores: the Mann-Whitney AUC in [0, 1], NaN with a warning, or an error
    naming the first label that is not a boolean (or, all labels boolean, the first missing
    score) by its position and value."""
    scores = data.draw(st.lists(st.floats(-5, 5) | st.just(float("nan")), min_size=len(labels),
                                max_size=len(labels)))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        try:
            auc = models.auc_score(labels, scores)
        except CXModelError as exc:
            odd = [i for i, label in enumerate(labels) if label not in (0, 1)]
            if odd:
                named = f"labels[{odd[0]}] is {float(labels[odd[0]])!r}; expected booleans"
            else:
                missing = [i for i, score in enumerate(scores) if np.isnan(score)]
                assert missing, f"labels {labels} and scores {scores} are valid, yet refused"
                named = f"scores[{missing[0]}] is nan; expected finite numbers"
            assert str(exc).startswith(f"auc_score(): {named}")
            return
    y = np.asarray(labels, dtype=float)
    assert set(y.tolist()) <= {0.0, 1.0} and not np.isnan(scores).any()
    assert np.isnan(auc) == (y.all() or not y.any())
    if not np.isnan(auc):
        assert 0.0 <= auc <= 1.0


@pytest.fixture(scope="module")
def fitted(log: Any) -> Any:
    """Fitted BetaGeo, GammaGamma and DiscreteHazard models and their data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = models.rfm_summary(log, as_of=AS_OF, freq="W")
        bg = models.BetaGeo(penalizer_coef=0.01).fit(summary)
        gg = models.GammaGamma(penalizer_coef=0.01).fit(summary)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    periods = rng.integers(0, 4, size=40)
    hazard = models.DiscreteHazard().fit(x, (rng.random(40) < 0.5).astype(float), periods=periods)
    return summary, bg, gg, hazard, x


class TestSweepOfExtremeValues:
    """Found by passing 2**70, 1e308, 10**9 and odd mappings to every public parameter."""

    @pytest.mark.parametrize(
        ("call", "error", "message"),
        [
            pytest.param(lambda log, f: segment.cluster(log.customers_table(AS_OF), ["frequency"],
                                                        n_clusters=2, random_state=2**70),
                         SchemaError, "below 2\\*\\*32", id="cluster-seed"),
            pytest.param(lambda log, f: models.churn_risk(log, as_of=AS_OF, horizon=1e308),
                         SchemaError, "days in \\(0, 36525\\]", id="churn-horizon"),
            pytest.param(lambda log, f: models.customer_lifetime_value(
                             f[1], f[2], f[0], horizon=2**70, freq="W", discount_rate=0.01),
                         DataError, "at most 36,525 periods", id="clv-horizon"),
            pytest.param(lambda log, f: f[1].sample(10**9, T=10.0), DataError,
                         "at most 10,000,000", id="sample-n"),
            pytest.param(lambda log, f: f[1].sample(5, T=1e308), DataError, "at most 1,000,000 time units",
                         id="sample-T"),
            pytest.param(lambda log, f: f[2].sample(5, frequency=[1.0] * 5, random_state=-1),
                         SchemaError, "random_state", id="spend-sample-seed"),
            pytest.param(lambda log, f: CustomerTable.from_log(log, as_of=AS_OF, models={"m": 1}),
                         CXModelError, "must be a function", id="table-models"),
        ],
    )  # fmt: skip
    def test_refused(self, log: Any, fitted: Any, call: Any, error: type, message: str) -> None:
        """Each was an OverflowError, a MemoryError, numpy's or scikit-learn's ValueError, or a
        TypeError ('int' object is not callable)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            with pytest.raises(error, match=message):
                call(log, fitted)

    def test_hazard_past_the_last_period(self, fitted: Any) -> None:
        """periods=1e308 wrapped to a negative index (IndexError); it is the last period."""
        hazard, x = fitted[3], fitted[4]
        last = hazard.predict_hazard(x, periods=hazard.n_periods_ - 1)
        np.testing.assert_array_equal(hazard.predict_hazard(x, periods=1e308), last)

    def test_smoothing_past_int64(self, log: Any) -> None:
        """smoothing=2**70 was numpy's TypeError in isfinite; it is a (large) number."""
        from cxmodel import personalize

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            result = personalize.preferences(log, as_of=AS_OF, smoothing=2**70)
        assert result.customer_id.size > 0  # the customers seen by as_of

    def test_plot_mappings_hold_results(self) -> None:
        """plot_survival({'a': 1}) was an AttributeError deep in the plot."""
        pytest.importorskip("matplotlib").use("Agg")
        from cxmodel import plot

        with pytest.raises(CXModelError, match=r"curve\['a'\] must be a SurvivalCurve"):
            plot.plot_survival({"a": 1})
        with pytest.raises(CXModelError, match=r"comparison\['a'\] must be a Comparison"):
            plot.plot_comparison({"a": 1})
