"""CoxPH with time-varying covariates: the counting-process (start, stop] form (``entry=``).

Reference values were computed with lifelines 0.30.3 (``CoxTimeVaryingFitter()`` on
``load_stanford_heart_transplants()``, columns age, year, surgery, transplant; Efron ties) and
are written here so that CI without lifelines still checks them. Tolerances: coefficients
1e-9, standard errors 1e-8, log partial likelihood 1e-8, baseline cumulative hazard 1e-9.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataError, SchemaError
from cxmodel.models import CoxPH

DATA = Path(__file__).parent / "data"
COVARIATES = ("age", "year", "surgery", "transplant")


def _read(name: str) -> dict[str, np.ndarray]:
    with (DATA / name).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


@pytest.fixture(scope="module")
def heart() -> dict[str, np.ndarray]:
    return _read("stanford_heart.csv")


def _fit(heart: dict[str, np.ndarray]) -> CoxPH:
    X = {k: heart[k] for k in COVARIATES}
    return CoxPH().fit(X, heart["stop"], heart["event"], entry=heart["start"])  # type: ignore[arg-type]


def test_stanford_heart_lifelines_values(heart: dict[str, np.ndarray]) -> None:
    """Coefficients, errors, log partial likelihood and baseline equal lifelines'."""
    assert len(heart["stop"]) == 172 and np.unique(heart["id"]).size == 103
    m = _fit(heart)
    coef = [0.027166640958, -0.146346345674, -0.637209889968, -0.010250772409]
    se = [0.013714115275, 0.070467979793, 0.367225981634, 0.313754798776]
    np.testing.assert_allclose(m.coef_, coef, atol=1e-9)
    np.testing.assert_allclose(m.standard_errors_, se, atol=1e-8)
    assert m.log_likelihood_ == pytest.approx(-290.5656162184898, abs=1e-8)
    times, h0 = m.baseline_cumulative_hazard_
    assert times[:5].tolist() == [1.0, 2.0, 3.0, 5.0, 6.0]
    np.testing.assert_allclose(
        h0[:5], [0.008576073148, 0.034548001036, 0.061190375355, 0.079655743338, 0.098476873372],
        atol=1e-9,
    )  # fmt: skip
    assert m.convergence_.converged and m.feature_names_ == COVARIATES


def test_stanford_heart_live_lifelines(heart: dict[str, np.ndarray]) -> None:
    """The same against lifelines itself when it is installed."""
    pytest.importorskip("lifelines")
    pd = pytest.importorskip("pandas")
    from lifelines import CoxTimeVaryingFitter

    frame = pd.DataFrame(heart)
    ref = CoxTimeVaryingFitter().fit(
        frame, id_col="id", event_col="event", start_col="start", stop_col="stop"
    )
    m = _fit(heart)
    np.testing.assert_allclose(m.coef_, ref.params_[list(COVARIATES)].to_numpy(), atol=1e-7)
    np.testing.assert_allclose(
        m.standard_errors_, ref.standard_errors_[list(COVARIATES)].to_numpy(), atol=1e-7
    )
    assert m.log_likelihood_ == pytest.approx(float(ref.log_likelihood_), abs=1e-7)


def test_entry_at_zero_is_the_plain_fit() -> None:
    """Every row entering at 0 is the ordinary Cox model (rossi-like data)."""
    rossi = _read("rossi.csv")
    X = {k: rossi[k] for k in ("fin", "age", "prio")}
    plain = CoxPH().fit(X, rossi["week"], rossi["arrest"])  # type: ignore[arg-type]
    zero = CoxPH().fit(X, rossi["week"], rossi["arrest"], entry=np.zeros(432))  # type: ignore[arg-type]
    np.testing.assert_allclose(zero.coef_, plain.coef_, atol=1e-10)
    np.testing.assert_allclose(zero.standard_errors_, plain.standard_errors_, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_splitting_follow_up_changes_nothing(seed: int) -> None:
    """Cutting each subject's follow-up into pieces with the same covariates (event on the
    last piece only) gives the same fit: the risk sets are the same."""
    rossi = _read("rossi.csv")
    rng = np.random.default_rng(seed)
    cut = np.floor(rng.uniform(0, rossi["week"]))  # 0 = no cut
    split = cut > 0
    X = np.column_stack([rossi[k] for k in ("fin", "age", "prio")])
    whole = CoxPH().fit(X, rossi["week"], rossi["arrest"])
    rows_x = np.vstack([X, X[split]])
    start = np.concatenate([np.where(split, cut, 0.0), np.zeros(int(split.sum()))])
    stop = np.concatenate([rossi["week"], cut[split]])
    event = np.concatenate([rossi["arrest"], np.zeros(int(split.sum()))])
    pieces = CoxPH().fit(rows_x, stop, event, entry=start)
    np.testing.assert_allclose(pieces.coef_, whole.coef_, atol=1e-9)
    np.testing.assert_allclose(pieces.standard_errors_, whole.standard_errors_, atol=1e-9)
    assert pieces.log_likelihood_ == pytest.approx(whole.log_likelihood_, abs=1e-8)


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ([0.0, 5.0, 0.0], r"row 2: entry 5.0 must be finite and before the duration 5.0"),
        ([0.0, np.nan, 0.0], r"row 2: entry nan"),
        ([0.0, 1.0], "2 values for 3 durations"),
    ],
    ids=["entry-not-before-stop", "missing-entry", "wrong-length"],
)
def test_bad_entry(entry: list[float], match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        CoxPH().fit([[0.0], [1.0], [0.5]], [3.0, 5.0, 4.0], [1, 1, 0], entry=entry)


def test_concordance_not_defined(heart: dict[str, np.ndarray]) -> None:
    """Rows are pieces of follow-up: the training concordance is refused with a reason."""
    with pytest.raises(DataError, match="not defined for a fit with entry="):
        _ = _fit(heart).concordance_
