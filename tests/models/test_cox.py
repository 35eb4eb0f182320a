"""CoxPH against published and lifelines values (hard-coded; lifelines re-checked when installed).

Reference values were computed with lifelines 0.30.3 (``CoxPHFitter()``, Efron ties) and are
written here so that CI without lifelines still checks them. Tolerances: coefficients 1e-6
(absolute), standard errors 1e-6, log-likelihood 1e-6, survival 1e-6; the published Rossi
coefficients (three decimals) to 1e-3.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cxmodel.errors import (
    ConvergenceWarning,
    DataError,
    NotFittedError,
    SchemaError,
    ValueTypeError,
)
from cxmodel.models import CoxPH, concordance_index

DATA = Path(__file__).parent / "data"
ROSSI_COVARIATES = ("fin", "age", "race", "wexp", "mar", "paro", "prio")


def _read(name: str) -> dict[str, np.ndarray]:
    with (DATA / name).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


@pytest.fixture(scope="module")
def rossi() -> dict[str, np.ndarray]:
    return _read("rossi.csv")


def _rossi_fit(rossi: dict[str, np.ndarray], **kw: object) -> CoxPH:
    X = {k: rossi[k] for k in ROSSI_COVARIATES}
    return CoxPH(**kw).fit(X, rossi["week"], rossi["arrest"])  # type: ignore[arg-type]


def test_rossi_published_coefficients(rossi: dict[str, np.ndarray]) -> None:
    assert len(rossi["week"]) == 432
    m = _rossi_fit(rossi)
    published = [-0.379, -0.057, 0.314, -0.150, -0.434, -0.085, 0.091]
    np.testing.assert_allclose(m.coef_, published, atol=1e-3)
    assert m.feature_names_ == ROSSI_COVARIATES
    assert m.convergence_.converged


def test_rossi_lifelines_values(rossi: dict[str, np.ndarray]) -> None:
    m = _rossi_fit(rossi)
    coef = [-0.37942217, -0.05743774, 0.31389979, -0.1497957, -0.43370388, -0.08487108, 0.09149708]
    se = [0.19137948, 0.02199947, 0.30799278, 0.2122243, 0.38186806, 0.19575667, 0.02864855]
    np.testing.assert_allclose(m.coef_, coef, atol=1e-6)
    np.testing.assert_allclose(m.standard_errors_, se, atol=1e-6)
    assert m.log_likelihood_ == pytest.approx(-658.7476594460858, abs=1e-6)
    assert m.concordance_ == pytest.approx(0.6403292470997135, abs=1e-9)
    s = m.summary
    np.testing.assert_allclose(s.ci_low[:2], [-0.75451906, -0.10055591], atol=1e-6)
    np.testing.assert_allclose(s.ci_high[:2], [-0.00432528, -0.01431957], atol=1e-6)
    np.testing.assert_allclose(s.p[[0, 6]], [0.0474161, 0.00140425], rtol=1e-5)
    np.testing.assert_allclose(s.exp_coef, np.exp(coef), rtol=1e-6)


def test_tied_durations_lifelines_values() -> None:
    d = _read("cox_ties.csv")
    X = np.column_stack([d["x1"], d["x2"], d["x3"]])
    m = CoxPH().fit(X, d["duration"], d["event"], names=["x1", "x2", "x3"])
    # lifelines stops with a score of 2e-4 here; ours is the exact optimum (score 2e-14, log
    # partial likelihood 2e-10 higher), so the coefficients agree to 1e-5, not 1e-6
    np.testing.assert_allclose(m.coef_, [0.71486475, -0.40885569, 0.31897793], atol=1e-5)
    np.testing.assert_allclose(m.standard_errors_, [0.0715329, 0.12740153, 0.07440956], atol=1e-6)
    assert m.log_likelihood_ == pytest.approx(-1192.418799466297, abs=1e-6)
    assert m.concordance_ == pytest.approx(0.7043344434352609, abs=1e-9)
    sf = m.predict_survival_function(X[:3], times=[5, 10, 20])
    expected = [
        [3.75663925e-02, 2.01767316e-03, 4.00698890e-06],
        [8.95447759e-01, 8.11530641e-01, 6.58230809e-01],
        [7.80422203e-01, 6.25731655e-01, 3.91071548e-01],
    ]
    np.testing.assert_allclose(sf, expected, atol=1e-5)  # follows the 1e-5 coefficient gap
    # the planted effects are recovered within 3 standard errors
    assert np.all(np.abs(m.coef_ - [0.7, -0.5, 0.3]) < 3 * m.standard_errors_)


def test_against_lifelines_when_installed(rossi: dict[str, np.ndarray]) -> None:
    lifelines = pytest.importorskip("lifelines")
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(rossi)
    ref = lifelines.CoxPHFitter().fit(df, "week", "arrest")
    m = _rossi_fit(rossi)
    np.testing.assert_allclose(m.coef_, ref.params_.to_numpy(), atol=1e-6)
    X = df[list(ROSSI_COVARIATES)]
    np.testing.assert_allclose(
        m.predict_partial_hazard(X), ref.predict_partial_hazard(X).to_numpy(), rtol=1e-6
    )
    ours = m.predict_survival_function(X.iloc[:20], times=[10, 30, 52])
    theirs = ref.predict_survival_function(X.iloc[:20], times=[10, 30, 52]).to_numpy().T
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    rng = np.random.default_rng(1)
    t = rng.integers(0, 15, 400).astype(float)
    e = rng.random(400) < 0.6
    r = rng.integers(0, 6, 400).astype(float)
    ref_c = lifelines.utils.concordance_index(t, -r, e)
    assert concordance_index(t, r, e) == pytest.approx(ref_c, abs=1e-12)


def test_breslow_ties_and_penalty(rossi: dict[str, np.ndarray]) -> None:
    breslow = _rossi_fit(rossi, ties="breslow")
    # Breslow-ties estimates differ from Efron's in the third decimal (R coxph ties="breslow")
    np.testing.assert_allclose(
        breslow.coef_, [-0.379, -0.0572, 0.3141, -0.1511, -0.4328, -0.085, 0.0911], atol=1e-3
    )
    ridge = _rossi_fit(rossi, penalizer=5.0)
    assert np.linalg.norm(ridge.coef_) < np.linalg.norm(breslow.coef_)


def test_contract_and_validation() -> None:
    m = CoxPH()
    assert repr(m) == "CoxPH(unfitted)"
    with pytest.raises(NotFittedError, match="not fitted yet"):
        m.predict_partial_hazard([[1.0]])
    with pytest.raises(NotFittedError):
        _ = m.summary
    with pytest.raises(SchemaError):
        CoxPH().fit([[1.0], [2.0]], [1.0, -1.0])
    with pytest.raises(SchemaError):
        CoxPH().fit([[1.0], [np.nan]], [1.0, 2.0])
    with pytest.raises(SchemaError):
        CoxPH().fit([[1.0]], [1.0, 2.0])
    with pytest.raises(SchemaError):
        CoxPH(ties="exact").fit([[1.0], [2.0]], [1.0, 2.0])
    with pytest.raises(DataError):
        CoxPH().fit([[1.0], [2.0]], [1.0, 2.0], [0, 0])
    # perfect separation: coefficient runs away, warned
    with pytest.warns(ConvergenceWarning):
        CoxPH(max_iter=8).fit([[1.0], [0.0], [1.0], [0.0]], [1, 5, 2, 6], [1, 0, 1, 0])
    assert m.fit([[0.0], [1.0], [1.0], [0.0]], [3, 1, 4, 2]) is m
    assert repr(m).startswith("CoxPH(x0=")


@pytest.mark.parametrize(
    ("risk", "observed", "message"),
    [
        pytest.param([1.0, float("nan"), 2.0], None, r"risk\[1\] is nan", id="nan-risk"),
        pytest.param([1.0, 3.0, 2.0], [1, 2, 0], r"observed\[1\] is 2.0", id="observed-2"),
    ],
)
def test_concordance_refuses_bad_values(
    risk: list[float], observed: list[int] | None, message: str
) -> None:
    """A NaN risk or an event flag other than 0/1 is a SchemaError naming the position
    (lifelines refuses NaN too); before, NaN was ranked and 2 read as an event."""
    with pytest.raises(SchemaError, match=message):
        concordance_index([1, 2, 3], risk, observed)


@pytest.fixture(scope="module")
def fitted() -> CoxPH:
    """Fitted on covariates named visits and tickets."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(60, 2))
    t = rng.exponential(np.exp(-x[:, 0]))
    return CoxPH().fit({"visits": x[:, 0], "tickets": x[:, 1]}, t)


class TestPredictionByName:
    def test_dataframe_in_another_order(self, fitted: CoxPH) -> None:
        """A DataFrame with the covariates in another order predicts as one in fitted order."""
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame({"tickets": [1.0, -2.0], "visits": [0.5, 0.0]})
        expected = fitted.predict_partial_hazard([[0.5, 1.0], [0.0, -2.0]])
        assert fitted.predict_partial_hazard(frame).tolist() == expected.tolist()

    @pytest.mark.parametrize(
        ("X", "match"),
        [
            ({"visits": [0.0], "tikets": [1.0]}, "'tikets'.*did you mean 'tickets'"),
            ({"visits": [0.0]}, "no column 'tickets'"),
            ({"visits": [0.0], "tickets": [1.0], "age": [3.0]}, "'age' that is not a covariate"),
        ],
        ids=["misspelt", "missing", "extra"],
    )
    def test_names_refused(self, fitted: CoxPH, X: dict[str, list[float]], match: str) -> None:
        """A name not fitted, or a fitted one missing, is a SchemaError naming it."""
        with pytest.raises(SchemaError, match=match):
            fitted.predict_survival_function(X)


class TestPredictionTimes:
    @pytest.mark.parametrize(
        ("times", "error"),
        [
            ([1.0, float("nan")], SchemaError),
            ([float("inf")], SchemaError),
            ([-float("inf")], SchemaError),
            (["1"], ValueTypeError),
        ],
        ids=["nan", "inf", "minus-inf", "text"],
    )
    def test_not_a_time_refused(self, fitted: CoxPH, times: list[object], error: type) -> None:
        """S and H at a time that is not a finite number are refused, not read off the curve."""
        with pytest.raises(error, match="times"):
            fitted.predict_survival_function([[0.0, 0.0]], times=times)
        with pytest.raises(error, match="times"):
            fitted.predict_cumulative_hazard([[0.0, 0.0]], times=times)


class TestHugeCovariates:
    @pytest.mark.parametrize(
        "X",
        [[[1e200], [2e200], [0.0]], [[1.7e308], [-1.7e308], [0.0]]],
        ids=["1e200", "spread-past-float-max"],
    )
    def test_refused_without_numpy_warnings(self, X: list[list[float]]) -> None:
        """Overflowing covariates: a ConvergenceError saying to rescale, and no numpy
        RuntimeWarning (warnings are errors under pytest)."""
        from cxmodel.errors import ConvergenceError

        with pytest.raises(ConvergenceError, match="rescale"):
            CoxPH().fit(X, [1, 2, 3], [1, 1, 1])
