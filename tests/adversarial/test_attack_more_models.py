"""CoxPH, DiscreteHazard and expand_person_period attacked: checked against lifelines and
statsmodels where they agree, then fed covariates by name in another order, times that are
not times, event flags that are not flags, periods nobody was at risk in, and covariates that
overflow."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest

from cxmodel.errors import CXModelError
from cxmodel.models import CoxPH, DiscreteHazard, concordance_index, expand_person_period
from tests.adversarial.helpers import foreign_warnings


def _answer_or_refusal(call: Callable[[], object]) -> object:
    """The value of ``call()``, or the string "refused" for a CXModelError."""
    try:
        return call()
    except CXModelError:
        return "refused"


def _survival_data(seed: int, n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two covariates, whole-number times (many ties) and about 70 % events."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) * [1.0, 3.0]
    t = rng.integers(1, 12, n).astype(float)
    e = rng.random(n) < 0.7
    return X, t, e


class TestCoxAgainstReferences:
    def test_efron_matches_lifelines(self) -> None:
        """Coefficients, standard errors, log partial likelihood, concordance and the
        Breslow baseline equal lifelines' CoxPHFitter (Efron ties) on tied data."""
        pd = pytest.importorskip("pandas")
        lifelines = pytest.importorskip("lifelines")
        X, t, e = _survival_data(1)
        ours = CoxPH().fit(X, t, e)
        frame = pd.DataFrame(X, columns=["x0", "x1"]).assign(T=t, E=e)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = lifelines.CoxPHFitter().fit(frame, "T", "E")
        np.testing.assert_allclose(ours.coef_, theirs.params_.to_numpy(), rtol=1e-6)
        np.testing.assert_allclose(
            ours.standard_errors_, theirs.standard_errors_.to_numpy(), rtol=1e-5
        )
        assert ours.log_likelihood_ == pytest.approx(theirs.log_likelihood_, rel=1e-9)
        assert ours.concordance_ == pytest.approx(theirs.concordance_index_, rel=1e-12)
        np.testing.assert_allclose(
            ours.baseline_cumulative_hazard_[1],
            theirs.baseline_cumulative_hazard_.to_numpy()[:, 0],
            rtol=1e-6,
        )

    def test_breslow_matches_statsmodels(self) -> None:
        """ties="breslow" gives statsmodels PHReg's Breslow coefficients."""
        phreg = pytest.importorskip("statsmodels.duration.hazard_regression")
        X, t, e = _survival_data(2)
        ours = CoxPH(ties="breslow").fit(X, t, e)
        theirs = phreg.PHReg(t, X, status=e.astype(int), ties="breslow").fit()
        np.testing.assert_allclose(ours.coef_, theirs.params, rtol=1e-6)

    def test_counting_process_matches_lifelines(self) -> None:
        """Start-stop rows (a covariate that steps up mid follow-up) give lifelines'
        CoxTimeVaryingFitter coefficients and baseline."""
        pd = pytest.importorskip("pandas")
        lifelines = pytest.importorskip("lifelines")
        X, t, e = _survival_data(3, n=60)
        rng = np.random.default_rng(30)
        rows = []
        for i in range(t.size):
            cut = int(rng.integers(0, int(t[i]))) if t[i] > 1 else 0
            if cut:
                rows.append((i, 0.0, cut, X[i, 0], X[i, 1], False))
                rows.append((i, cut, t[i], X[i, 0] + 1.0, X[i, 1], bool(e[i])))
            else:
                rows.append((i, 0.0, t[i], X[i, 0], X[i, 1], bool(e[i])))
        frame = pd.DataFrame(rows, columns=["id", "start", "stop", "a", "b", "E"])
        ours = CoxPH().fit(frame[["a", "b"]], frame.stop, frame.E, entry=frame.start)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = lifelines.CoxTimeVaryingFitter().fit(
                frame, id_col="id", event_col="E", start_col="start", stop_col="stop"
            )
        np.testing.assert_allclose(ours.coef_, theirs.params_.to_numpy(), rtol=1e-6)
        np.testing.assert_allclose(
            ours.baseline_cumulative_hazard_[1],
            theirs.baseline_cumulative_hazard_.to_numpy()[:, 0],
            rtol=1e-6,
        )

    def test_concordance_with_tied_risks_matches_lifelines(self) -> None:
        """Harrell's C with tied times, tied risks and censoring equals lifelines' (which
        takes predicted times, so the risk enters negated)."""
        utils = pytest.importorskip("lifelines.utils")
        _, t, e = _survival_data(4, n=200)
        risk = np.random.default_rng(40).integers(0, 3, t.size).astype(float)
        assert concordance_index(t, risk, e) == pytest.approx(
            utils.concordance_index(t, -risk, e), rel=1e-12
        )


@pytest.fixture(scope="module")
def model() -> CoxPH:
    """Fitted on covariates named a and b (b on a wider scale)."""
    X, t, e = _survival_data(5)
    return CoxPH().fit({"a": X[:, 0], "b": X[:, 1]}, t, e)


class TestCoxPredictionByName:
    def test_mapping_in_another_order(self, model: CoxPH) -> None:
        """The same subjects given as {"b": ..., "a": ...} have the same partial hazards:
        the columns are read by name, not by position."""
        a, b = np.array([0.3, -1.0]), np.array([2.0, 0.5])
        expected = model.predict_partial_hazard({"a": a, "b": b})
        swapped = model.predict_partial_hazard({"b": b, "a": a})
        assert swapped.tolist() == expected.tolist()
        assert expected.tolist() == model.predict_partial_hazard(np.column_stack([a, b])).tolist()

    def test_mapping_with_unknown_names(self, model: CoxPH) -> None:
        """{"x": ..., "y": ...} names no fitted covariate: a SchemaError, not a prediction."""
        answer = _answer_or_refusal(lambda: model.predict_partial_hazard({"x": [0.0], "y": [1.0]}))
        assert answer == "refused"

    def test_nan_time(self, model: CoxPH) -> None:
        """S(NaN | x) has no value: a refusal, not the tail of the curve."""
        answer = _answer_or_refusal(
            lambda: model.predict_survival_function([[0.0, 0.0]], times=[np.nan])
        )
        assert answer == "refused"


class TestCoxDegenerate:
    def test_huge_covariates_warn_only_through_cxmodel(self) -> None:
        """The refusal says to rescale; no raw numpy warning goes with it."""
        assert (
            foreign_warnings(lambda: CoxPH().fit([[1e200], [2e200], [0.0]], [1, 2, 3], [1, 1, 1]))
            == []
        )

    def test_separable_covariate_warns(self) -> None:
        """Events exactly ordered by x: a ConvergenceWarning naming the infinite estimate."""
        from cxmodel.errors import ConvergenceWarning

        with pytest.warns(ConvergenceWarning, match="infinite"):
            CoxPH().fit([[0.0], [0.0], [1.0], [1.0]], [3, 4, 1, 2], [1, 1, 1, 1])


class TestDiscreteHazard:
    def test_matches_statsmodels_logit(self) -> None:
        """Period dummies plus a covariate: the coefficients, standard error and baselines of
        statsmodels' Logit on the same person-period rows."""
        sm = pytest.importorskip("statsmodels.api")
        rng = np.random.default_rng(6)
        n = 150
        d, e, x = rng.integers(1, 5, n), rng.random(n) < 0.6, rng.normal(size=n)
        subject, period, event = expand_person_period(d, e)
        ours = DiscreteHazard().fit(x[subject][:, None], event, periods=period)
        design = np.column_stack([np.eye(4)[period], x[subject]])
        theirs = sm.Logit(event, design).fit(disp=0)
        assert ours.coef_[0] == pytest.approx(theirs.params[-1], rel=1e-6)
        assert ours.standard_errors_[0] == pytest.approx(theirs.bse[-1], rel=1e-5)
        np.testing.assert_allclose(ours.baseline_, theirs.params[:-1], rtol=1e-6)

    def test_constant_covariate(self) -> None:
        """A covariate equal in every row is absorbed by the baselines, as CoxPH says with a
        DataError; DiscreteHazard reports coef 0, se NaN without a word."""
        answer = _answer_or_refusal(
            lambda: DiscreteHazard().fit([[1.0]] * 4, [1, 0, 1, 0], periods=[0, 0, 1, 1])
        )
        assert answer == "refused"

    def test_periods_nobody_was_at_risk_in(self) -> None:
        """Rows in periods 0 and 5 say nothing about periods 1..4: their baselines (and
        hazards predicted there) are NaN, with a DataWarning naming them, not the starting
        value; periods 0 and 5 keep finite baselines."""
        from cxmodel.errors import DataWarning

        with pytest.warns(DataWarning, match=r"4 of 6 periods .*\(periods 1, 2, 3, 4\)"):
            model = DiscreteHazard().fit(
                [[0.0], [1.0], [0.5], [0.3]], [1, 0, 1, 0], periods=[0, 0, 5, 5]
            )
        assert np.isnan(model.baseline_[1:5]).all()
        assert np.isfinite(model.baseline_[[0, 5]]).all()
        hazard = model.predict_hazard([[0.0]] * 3, [0, 2, 5])
        assert np.isnan(hazard[1]) and np.isfinite(hazard[[0, 2]]).all()

    def test_separation_warns_only_through_cxmodel(self) -> None:
        """Quasi-separation ends in cxmodel's ConvergenceWarning; scipy's LinAlgWarning on
        each step is noise that leaks today (18 of them for four rows)."""
        assert (
            foreign_warnings(lambda: DiscreteHazard().fit([[0.0], [1.0]], [0, 1], periods=[0, 0]))
            == []
        )


class TestExpandPersonPeriod:
    def test_by_hand(self) -> None:
        """Durations 2, 1, 3 with events 1, 0, 1: rows for periods 0..d-1, the event on the
        last row of an observed subject."""
        subject, period, event = expand_person_period([2, 1, 3], [1, 0, 1])
        assert subject.tolist() == [0, 0, 1, 2, 2, 2]
        assert period.tolist() == [0, 1, 0, 0, 1, 2]
        assert event.tolist() == [0, 1, 0, 0, 0, 1]

    @pytest.mark.parametrize("flag", [0.5, 2.0, -1.0, np.nan], ids=["half", "two", "minus", "nan"])
    def test_observed_that_is_not_a_flag(self, flag: float) -> None:
        """An event flag must be 0 or 1: 0.5, 2, -1 and NaN are refused, naming the value."""
        from cxmodel.errors import SchemaError

        with pytest.raises(SchemaError, match=r"observed\[0\] is .*expected booleans"):
            expand_person_period([2], [flag])
