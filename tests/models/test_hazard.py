"""DiscreteHazard: IRLS against statsmodels' Logit (hard-coded, statsmodels 0.15.0), recovery of
a planted discrete-time hazard, the person-period expansion. Tolerances: 1e-7 absolute on
coefficients and standard errors against the reference; 3 standard errors for recovery."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    DataWarning,
    NotFittedError,
    SchemaError,
)
from cxmodel.models import DiscreteHazard, expand_person_period


def _logit_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    n = 2000
    X = rng.normal(size=(n, 3))
    per = rng.integers(0, 4, n)
    eta = -1 + 0.3 * per + X @ [0.5, -0.8, 0.2]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, per, y


def test_matches_logistic_regression() -> None:
    X, per, y = _logit_data()
    m = DiscreteHazard().fit(X, y, periods=per)
    # statsmodels 0.15.0: sm.Logit(y, [period dummies, X]).fit(tol=1e-12)
    np.testing.assert_allclose(
        m.baseline_, [-1.06536904, -0.65331474, -0.45144831, -0.30598922], atol=1e-7
    )
    np.testing.assert_allclose(m.coef_, [0.52252138, -0.76052495, 0.18235551], atol=1e-7)
    np.testing.assert_allclose(m.standard_errors_, [0.05270151, 0.05621415, 0.0508248], atol=1e-7)
    assert m.log_likelihood_ == pytest.approx(-1147.0559817157637, abs=1e-7)
    assert m.convergence_.converged


def test_against_statsmodels_when_installed() -> None:
    sm = pytest.importorskip("statsmodels.api")
    X, per, y = _logit_data()
    ref = sm.Logit(y, np.column_stack([np.eye(4)[per], X])).fit(disp=0, tol=1e-12)
    m = DiscreteHazard().fit(X, y, periods=per)
    np.testing.assert_allclose(np.r_[m.baseline_, m.coef_], ref.params, atol=1e-7)
    np.testing.assert_allclose(m.standard_errors_, ref.bse[4:], atol=1e-7)


def test_recovers_a_planted_discrete_hazard() -> None:
    rng = np.random.default_rng(5)
    n, periods = 4000, 6
    x = rng.normal(size=n)
    base = np.array([-2.0, -1.5, -1.2, -1.0, -1.0, -0.8])
    # event period drawn period by period; censored after `periods`
    duration = np.full(n, periods)
    observed = np.zeros(n, dtype=bool)
    alive = np.ones(n, dtype=bool)
    for k in range(periods):
        h = 1 / (1 + np.exp(-(base[k] + 0.7 * x)))
        hit = alive & (rng.random(n) < h)
        duration[hit] = k + 1
        observed[hit] = True
        alive &= ~hit
    subject, period, event = expand_person_period(duration, observed)
    m = DiscreteHazard().fit(x[subject][:, None], event, periods=period, names=["x"])
    assert abs(m.coef_[0] - 0.7) < 3 * m.standard_errors_[0]
    assert np.all(np.abs(m.baseline_ - base) < 0.2)
    s = m.summary
    assert s.covariate == ("x",) and s.ci_low[0] < 0.7 < s.ci_high[0]
    # survival over the periods for x = 0 against the planted hazards
    expected = np.cumprod(1 - 1 / (1 + np.exp(-base)))
    got = m.predict_survival(np.zeros((1, periods, 1)))[0]
    np.testing.assert_allclose(got, expected, atol=0.03)


def test_time_varying_covariates() -> None:
    # the covariate of each row is its own period's value; the effect is found
    rng = np.random.default_rng(9)
    rows = 6000
    per = rng.integers(0, 3, rows)
    z = rng.normal(size=rows)
    y = (rng.random(rows) < 1 / (1 + np.exp(-(-1.0 + 1.2 * z)))).astype(float)
    m = DiscreteHazard().fit({"z": z}, y, periods=per)
    assert m.feature_names_ == ("z",)
    assert abs(m.coef_[0] - 1.2) < 3 * m.standard_errors_[0]


def test_expand_person_period() -> None:
    subject, period, event = expand_person_period([2, 0, 3], [0, 1, 1])
    assert subject.tolist() == [0, 0, 2, 2, 2]
    assert period.tolist() == [0, 1, 0, 1, 2]
    assert event.tolist() == [0, 0, 0, 0, 1]
    with pytest.raises(SchemaError):
        expand_person_period([1.5])
    with pytest.raises(SchemaError):
        expand_person_period([1, 2], [1])


def test_contract_and_validation() -> None:
    m = DiscreteHazard()
    assert repr(m) == "DiscreteHazard(unfitted)"
    with pytest.raises(NotFittedError):
        m.predict_hazard([[0.0]])
    with pytest.raises(DataError):
        m.fit([[0.0], [1.0]], [0, 0])
    with pytest.raises(SchemaError):
        m.fit([[0.0], [1.0]], [0, 2])
    with pytest.raises(SchemaError):
        m.fit([[0.0], [1.0]], [0, 1], periods=[0, -1])
    with pytest.raises(SchemaError):
        DiscreteHazard(penalizer=-1).fit([[0.0], [1.0]], [0, 1])
    with pytest.warns(ConvergenceWarning):
        DiscreteHazard(max_iter=5).fit([[0.0], [0.0], [1.0], [1.0]], [0, 0, 1, 1])
    ridge = DiscreteHazard(penalizer=1.0).fit([[0.0], [0.0], [1.0], [1.0]], [0, 0, 1, 1])
    assert np.isfinite(ridge.coef_).all()
    assert ridge.predict_hazard([[1.0]])[0] > ridge.predict_hazard([[0.0]])[0]
    with pytest.raises(SchemaError):
        ridge.predict_survival([[1.0]])
    assert repr(ridge).startswith("DiscreteHazard(x0=")


def test_refusals_name_the_value_and_where_it_is() -> None:
    """A bad duration or event is named with its position and the count of bad ones."""
    with pytest.raises(SchemaError, match=r"got 1\.5 at position 1 \(2 of 3 durations are not\)"):
        expand_person_period([2, 1.5, -1], [1, 0, 1])
    with pytest.raises(SchemaError, match=r"got nan at position 0"):
        expand_person_period([float("nan")], None)
    with pytest.raises(SchemaError, match=r"got 2 at row 1 \(1 of 3 events are not\)"):
        DiscreteHazard().fit([[0.0], [1.0], [0.0]], [0, 2, 1])
    with pytest.raises(SchemaError, match=r"DiscreteHazard\.fit\(\): X has 2 rows and events 3"):
        DiscreteHazard().fit([[0.0], [1.0]], [0, 1, 1])


@pytest.mark.parametrize("period", [1e20, 2.0**63, 1e300], ids=["1e20", "2**63", "1e300"])
def test_period_past_any_index_refused(period: float) -> None:
    """A period too large for an index is refused, not cast to a negative one."""
    with pytest.raises(SchemaError, match=r"periods must be one whole number >= 0 per row"):
        DiscreteHazard().fit([[0.0], [1.0], [0.0], [1.0]], [0, 1, 1, 0], periods=[period, 0, 1, 0])


class TestOnlyOwnWarnings:
    def test_separation_warns_once_and_only_through_cxmodel(self) -> None:
        """Quasi-separation: one ConvergenceWarning, no scipy LinAlgWarning on each step
        (warnings are errors under pytest, so a leaked one fails the test)."""
        with pytest.warns(ConvergenceWarning) as seen:
            DiscreteHazard().fit([[0.0], [1.0], [0.0], [1.0]], [0, 1, 0, 1], periods=[0, 0, 1, 1])
        assert [type(w.message) for w in seen] == [ConvergenceWarning]

    @pytest.mark.parametrize("big", [1e200, 1.7e308], ids=["1e200", "float-max"])
    def test_huge_covariates_refused_without_numpy_warnings(self, big: float) -> None:
        """Covariates whose products overflow are a ConvergenceError saying to rescale."""
        with pytest.raises(ConvergenceError, match="rescale"):
            DiscreteHazard().fit([[big], [-big], [0.0], [1.0]], [1, 0, 1, 0])

    @pytest.mark.parametrize("period", [float("nan"), float("inf")], ids=["nan", "inf"])
    def test_period_that_is_not_a_number_refused(self, period: float) -> None:
        """predict_hazard at a NaN or infinite period is a SchemaError, with no numpy warning."""
        subject, periods, event = expand_person_period([1, 2, 3, 3, 2, 1], [1, 1, 1, 0, 0, 1])
        x = np.array([0.0, 1.0, 1.0, 1.0, 0.0, 0.0])[subject, None]
        m = DiscreteHazard().fit(x, event, periods=periods)
        with pytest.raises(SchemaError, match="periods must be whole numbers"):
            m.predict_hazard([[0.0]], [period])


class TestWhatTheDataDetermine:
    @pytest.mark.parametrize(
        ("X", "periods", "match"),
        [
            ([[1.0]] * 4, None, "'x0' is the same in every row:"),
            ([[1.0]] * 4, [0, 0, 1, 1], "'x0' is the same in every row of each period"),
            ([[2.0], [2.0], [5.0], [5.0]], [0, 0, 1, 1], "the period baselines absorb it"),
            (
                [[1.0, 2.0], [0.0, 3.0], [2.0, 5.0], [1.0, 6.0]],
                [0, 0, 1, 1],
                "'x0', 'x1' are collinear .* is the same in every row of each period",
            ),
        ],
        ids=["constant", "constant-with-periods", "period-only", "sum-period-only"],
    )
    def test_absorbed_covariates_refused(
        self, X: list[list[float]], periods: list[int] | None, match: str
    ) -> None:
        """Without a penalty, covariates the baselines absorb are a DataError naming them, as
        CoxPH refuses a constant one; a penalty fits them."""
        with pytest.raises(DataError, match=match):
            DiscreteHazard().fit(X, [1, 0, 1, 0], periods=periods)
        assert DiscreteHazard(penalizer=1.0).fit(X, [1, 0, 1, 0], periods=periods).coef_.size

    def test_empty_periods_leave_the_others_as_they_are(self) -> None:
        """Periods 0 and 5 with nobody at risk in 1..4 fit as periods 0 and 1 do."""
        X, y = [[0.0], [1.0], [0.5], [0.3], [0.2], [0.9]], [1, 0, 1, 0, 0, 1]
        with pytest.warns(DataWarning, match="periods 1, 2, 3, 4"):
            gappy = DiscreteHazard().fit(X, y, periods=[0, 0, 0, 5, 5, 5])
        dense = DiscreteHazard().fit(X, y, periods=[0, 0, 0, 1, 1, 1])
        assert gappy.coef_.tolist() == pytest.approx(dense.coef_.tolist(), rel=1e-12)
        assert gappy.baseline_[[0, 5]].tolist() == pytest.approx(dense.baseline_.tolist())
        assert np.isnan(gappy.predict_survival([[[0.0]] * 3])[0, 1:]).all()


class TestExpandPersonPeriodLimits:
    def test_flags_as_bools_or_numbers(self) -> None:
        """True/False and 1/0 give the same rows."""
        as_bools = expand_person_period([2, 1], [True, False])
        as_numbers = expand_person_period([2, 1], [1, 0])
        assert [a.tolist() for a in as_bools] == [a.tolist() for a in as_numbers]

    @pytest.mark.parametrize("durations", [[1e12], [6e7, 5e7]], ids=["one-huge", "sum-past-limit"])
    def test_too_many_rows_refused(self, durations: list[float]) -> None:
        """Durations adding up past MAX_PERSON_PERIODS rows are a DataError, not a MemoryError."""
        with pytest.raises(DataError, match="person-period rows, more than the 100,000,000"):
            expand_person_period(durations)
