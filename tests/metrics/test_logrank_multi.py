"""k-sample and stratified log-rank tests against lifelines and statsmodels.

Reference values computed once with lifelines 0.30.3 (``multivariate_logrank_test``,
``logrank_test``; lifelines has no stratified log-rank) and statsmodels 0.15.0
(``statsmodels.duration.survfunc.survdiff`` with ``strata=``, which implements R's
``survdiff(... + strata(s))``) and hard-coded, so CI without them still checks the values.
Tolerance: 1e-9 relative on statistics and p-values; when the libraries are installed the
values are also recomputed and compared to 1e-9.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.metrics import MultiLogRankResult, logrank_test, multivariate_logrank_test

ROSSI = Path(__file__).parents[1] / "models" / "data" / "rossi.csv"


@pytest.fixture(scope="module")
def rossi() -> dict[str, np.ndarray]:
    with ROSSI.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def _prio_groups(rossi: dict[str, np.ndarray]) -> np.ndarray:
    return np.clip(rossi["prio"], 0, 3)  # 0, 1, 2, 3+ prior convictions: four groups


def test_k_sample_known_answer(rossi: dict[str, np.ndarray]) -> None:
    r = multivariate_logrank_test(rossi["week"], _prio_groups(rossi), rossi["arrest"])
    assert isinstance(r, MultiLogRankResult)
    assert r.degrees_of_freedom == 3 and r.groups == (0.0, 1.0, 2.0, 3.0)
    assert r.statistic == pytest.approx(13.58387092049223, rel=1e-9)
    assert r.p_value == pytest.approx(0.00352994474469126, rel=1e-9)
    assert r.observed.sum() == pytest.approx(r.expected.sum(), rel=1e-12)  # sum(O - E) = 0
    np.testing.assert_allclose(r.variance.sum(axis=1), 0.0, atol=1e-9)


def test_small_k_sample_known_answer() -> None:
    r = multivariate_logrank_test([1, 2, 3, 4, 5, 6], ["a", "a", "b", "b", "c", "c"])
    assert r.statistic == pytest.approx(7.250423533035578, rel=1e-9)
    np.testing.assert_allclose(r.expected, [0.53333333, 1.56666667, 3.9], atol=1e-8)


def test_stratified_known_answer(rossi: dict[str, np.ndarray]) -> None:
    r = multivariate_logrank_test(
        rossi["week"], _prio_groups(rossi), rossi["arrest"], strata=rossi["fin"]
    )
    assert r.n_strata == 2
    assert r.statistic == pytest.approx(13.246268530106832, rel=1e-9)
    assert r.p_value == pytest.approx(0.004133201853599444, rel=1e-9)


def test_two_sample_stratified_known_answer(rossi: dict[str, np.ndarray]) -> None:
    a = rossi["fin"] == 1
    w, e, race = rossi["week"], rossi["arrest"], rossi["race"]
    r = logrank_test(w[a], w[~a], e[a], e[~a], strata_a=race[a], strata_b=race[~a])
    assert r.statistic == pytest.approx(4.048496597739741, rel=1e-9)
    assert r.p_value == pytest.approx(0.044210701273615705, rel=1e-9)
    assert r.observed_a == 48.0
    plain = logrank_test(w[a], w[~a], e[a], e[~a])
    assert plain.statistic == pytest.approx(3.8375695765490505, rel=1e-9)
    # two groups through the k-sample function give the two-sample test
    multi = multivariate_logrank_test(w, rossi["fin"], e)
    assert multi.statistic == pytest.approx(plain.statistic, rel=1e-12)


def test_one_stratum_is_unstratified(rossi: dict[str, np.ndarray]) -> None:
    g = _prio_groups(rossi)
    one = multivariate_logrank_test(rossi["week"], g, rossi["arrest"], strata=np.zeros(432))
    plain = multivariate_logrank_test(rossi["week"], g, rossi["arrest"])
    assert one.statistic == pytest.approx(plain.statistic, rel=1e-12)


def test_against_lifelines(rossi: dict[str, np.ndarray]) -> None:
    statistics = pytest.importorskip("lifelines.statistics")
    g = _prio_groups(rossi)
    ref = statistics.multivariate_logrank_test(rossi["week"], g, rossi["arrest"])
    ours = multivariate_logrank_test(rossi["week"], g, rossi["arrest"])
    assert ours.statistic == pytest.approx(ref.test_statistic, rel=1e-9)
    assert ours.p_value == pytest.approx(ref.p_value, rel=1e-9)
    rng = np.random.default_rng(7)
    d = rng.integers(1, 30, 500).astype(float)
    e = rng.random(500) < 0.7
    labels = rng.choice(np.array(["x", "y", "z", "w", "v"]), 500)
    ref = statistics.multivariate_logrank_test(d, labels, e)
    assert multivariate_logrank_test(d, labels, e).statistic == pytest.approx(
        ref.test_statistic, rel=1e-9
    )


def test_stratified_against_statsmodels(rossi: dict[str, np.ndarray]) -> None:
    survfunc = pytest.importorskip("statsmodels.duration.survfunc")
    rng = np.random.default_rng(11)
    d = rng.integers(1, 20, 600).astype(float)
    e = rng.random(600) < 0.6
    g = rng.integers(0, 3, 600)
    s = rng.integers(0, 4, 600)
    stat, p = survfunc.survdiff(d, e.astype(float), g, strata=s)
    ours = multivariate_logrank_test(d, g, e, strata=s)
    assert ours.statistic == pytest.approx(stat, rel=1e-9)
    assert ours.p_value == pytest.approx(p, rel=1e-9)


def test_validation() -> None:
    with pytest.raises(DataError):
        multivariate_logrank_test([1, 2], ["a", "a"])
    with pytest.raises(SchemaError):
        multivariate_logrank_test([1, 2], ["a"])
    with pytest.raises(SchemaError):
        multivariate_logrank_test([1, 2], ["a", "b"], strata=[0])
    with pytest.raises(SchemaError):
        logrank_test([1], [2], strata_a=[0])
    r = multivariate_logrank_test([1, 2, 3], ["a", "b", "b"])
    assert set(r.to_dict()) >= {"statistic", "p_value", "degrees_of_freedom", "groups"}
    assert "MultiLogRankResult" in r._repr_html_()


def test_all_censored_warns() -> None:
    """k groups with no event: a DataWarning with the count, NaN statistic and p-value."""
    with pytest.warns(DataWarning, match="none of the 6 durations is an event"):
        r = multivariate_logrank_test([1, 2, 3, 4, 5, 6], list("aabbcc"), [False] * 6)
    assert np.isnan(r.statistic) and np.isnan(r.p_value)
    assert r.observed.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("groups", "strata", "message"),
    [
        pytest.param([None, "a", "b", "b"], None, r"groups\[0\] = None is missing", id="none"),
        pytest.param(
            [1.0, float("nan"), 2.0, float("nan")],
            None,
            r"groups\[1\] = nan is missing \(2 of 4 labels are\)",
            id="nan",
        ),
        pytest.param(
            ["a", "b", "a", "b"], ["x", None, "y", "y"], r"strata\[1\] = None", id="stratum"
        ),
        pytest.param([1, "a", 2, "a"], None, "mixes labels of kinds", id="unorderable"),
    ],
)
def test_missing_or_mixed_labels_are_refused(
    groups: list[object], strata: list[object] | None, message: str
) -> None:
    """A missing group or stratum label is a SchemaError naming its position, not a group
    of its own (NaN) or a raw TypeError (None)."""
    labels = np.array(groups, dtype=object)
    with pytest.raises(SchemaError, match=message):
        multivariate_logrank_test([1, 2, 3, 4], labels, strata=strata)
