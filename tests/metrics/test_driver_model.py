"""Tests for driver_model: known answers on hand-built data, and the synthetic world's plants."""

from __future__ import annotations

import itertools
import math
from functools import cache

import numpy as np
import pytest
from scipy import stats

import cxmodel as cx
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import DriverModel, driver_model, experience_drivers
from cxmodel.metrics._driver_model import ols_robust, shapley_r2

LATE = 'kind == "delivery" and late == "yes"'


def _hand_log() -> InteractionLog:
    """Six answering customers; a/b had a delivery, b/c/d a return, in the 30 days before."""
    rows = [
        ("a", "2024-03-01", "delivery", None, None),
        ("a", "2024-03-05", "survey", "nps", 3),
        ("b", "2024-03-01", "delivery", None, None),
        ("b", "2024-03-02", "return", None, None),
        ("b", "2024-03-05", "survey", "nps", 0),
        ("c", "2024-03-02", "return", None, None),
        ("c", "2024-03-05", "survey", "nps", 8),
        ("d", "2024-01-01", "delivery", None, None),  # 64 days before: outside the window
        ("d", "2024-03-02", "return", None, None),
        ("d", "2024-03-05", "survey", "nps", 10),
        ("e", "2024-03-05", "survey", "nps", 9),
        ("e", "2024-03-06", "delivery", None, None),  # after the answer: not a driver
        ("f", "2024-03-05", "survey", "nps", 7),
        ("f", "2024-03-05", "return", None, None),  # same instant: not strictly before
    ]
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] + "T00:00:00+00:00" for r in rows],
        kind=[r[2] for r in rows],
        metric=[r[3] for r in rows],
        score=[math.nan if r[4] is None else r[4] for r in rows],
    )


# answers in customer order a..f, NPS points, and the (delivery, return) indicators
HAND_Y = np.array([-100.0, -100.0, 0.0, 100.0, 100.0, 0.0])
HAND_X = np.array([[1, 0], [1, 1], [0, 1], [0, 1], [0, 0], [0, 0]], dtype=float)


def _hc1(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and HC1 standard errors written out from the textbook formula."""
    n = len(y)
    design = np.column_stack([np.ones(n), x])
    k = design.shape[1]
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    e = y - design @ beta
    inv = np.linalg.inv(design.T @ design)
    middle = sum(e[i] ** 2 * np.outer(design[i], design[i]) for i in range(n))
    cov = n / (n - k) * inv @ middle @ inv
    return beta, np.sqrt(np.diag(cov))


def _r2(x: np.ndarray, y: np.ndarray) -> float:
    if x.shape[1] == 0:
        return 0.0
    design = np.column_stack([np.ones(len(y)), x])
    e = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return float(1 - e @ e / ((y - y.mean()) @ (y - y.mean())))


def _shapley_by_orders(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """LMG by brute force: the average gain in R^2 over all p! orders of entry."""
    p = x.shape[1]
    out = np.zeros(p)
    orders = list(itertools.permutations(range(p)))
    for order in orders:
        for i, j in enumerate(order):
            out[j] += _r2(x[:, list(order[: i + 1])], y) - _r2(x[:, list(order[:i])], y)
    return out / len(orders)


class TestKnownAnswers:
    def test_hand_log_matches_lstsq_and_hc1(self) -> None:
        """Window, strictness and answer order as documented; numbers equal numpy's lstsq and
        the HC1 formula written out."""
        m = driver_model(_hand_log(), drivers=["delivery", "return"])
        assert isinstance(m, DriverModel) and m.n == 6
        beta, se = _hc1(HAND_X, HAND_Y)
        got = dict(zip(m["driver"].tolist(), range(len(m)), strict=True))
        for j, name in enumerate(["delivery", "return"]):
            assert m["coefficient"][got[name]] == pytest.approx(beta[j + 1], abs=1e-9)
            assert m["se"][got[name]] == pytest.approx(se[j + 1], rel=1e-9)
            assert m["mean"][got[name]] == pytest.approx(HAND_X[:, j].mean())
        assert m.intercept == pytest.approx(beta[0]) and m.intercept_se == pytest.approx(se[0])
        assert m.r2 == pytest.approx(_r2(HAND_X, HAND_Y))
        assert m["importance"].sum() == pytest.approx(m.r2, abs=1e-12)
        z = stats.norm.ppf(0.975)
        assert np.allclose(m["ci_high"] - m["coefficient"], z * m["se"])

    def test_random_design_against_numpy(self) -> None:
        """Random data: lstsq coefficients, HC1 errors, R^2, adjusted R^2, exact Shapley equal
        to the average over all orders of entry, summing to R^2."""
        rng = np.random.default_rng(3)
        x = rng.normal(size=(120, 4))
        x[:, 1] += 0.8 * x[:, 0]  # correlated drivers share credit
        y = x @ [2.0, -1.0, 0.5, 0.0] + rng.standard_t(3, 120)
        fit = ols_robust(x, y)
        beta, se = _hc1(x, y)
        assert np.allclose(fit.coef, beta) and np.allclose(np.sqrt(np.diag(fit.cov)), se)
        shares = shapley_r2(x, y)
        assert np.allclose(shares, _shapley_by_orders(x, y), atol=1e-12)
        assert shares.sum() == pytest.approx(fit.r2, abs=1e-12)

    def test_sampled_shapley_above_twelve_drivers_still_sums(self) -> None:
        """Beyond 12 drivers the orders are sampled; the shares still add up to R^2 and the
        strong driver ranks first."""
        rng = np.random.default_rng(4)
        x = rng.normal(size=(300, 14))
        y = 3.0 * x[:, 5] + rng.normal(size=300)
        shares = shapley_r2(x, y, permutations=200)
        assert shares.sum() == pytest.approx(ols_robust(x, y).r2, abs=1e-12)
        assert int(shares.argmax()) == 5

    def test_count_encoding_and_expressions(self) -> None:
        """Counts add up the experiences in the window; an expression or a row mask is a
        driver like a kind, under its name."""
        log = _hand_log()
        counted = driver_model(log, drivers={"d": "delivery", "r": "kind == \"return\""},
                               encoding="count")  # fmt: skip
        masked = driver_model(log, drivers={"d": log.kind_mask("delivery"), "r": "return"})
        plain = driver_model(log, drivers=["delivery", "return"])
        assert np.allclose(counted["coefficient"], plain["coefficient"])  # all counts are 0/1
        assert np.allclose(masked["coefficient"], plain["coefficient"])
        assert counted["driver"].tolist() == ["d", "r"]

    def test_results_convert(self) -> None:
        """to_dict, to_pandas (model fields in attrs), HTML and the forest plot."""
        m = driver_model(_hand_log(), drivers=["delivery", "return"])
        d = m.to_dict()
        assert d["n"] == 6 and d["outcome"] == "nps" and list(d["drivers"]) == list(m.names)
        frame = m.to_pandas()
        assert frame.attrs["r2"] == m.r2 and list(frame["driver"]) == m["driver"].tolist()
        assert "R²" in m._repr_html_() and "<table>" in m._repr_html_()
        matplotlib = pytest.importorskip("matplotlib")
        matplotlib.use("Agg")
        ax = m.plot()
        assert [t.get_text() for t in ax.get_yticklabels()] == m["driver"].tolist()
        matplotlib.pyplot.close(ax.figure)

    def test_customer_outcomes(self) -> None:
        """churn / retention / spend: one row per customer active in the window before
        as_of - window; the outcome is read in [as_of - window, as_of)."""
        rows = [  # window 10 days, as_of Jan 21: drivers in [Jan 1, Jan 11), outcome after
            ("a", "2024-01-02", "ticket_opened", math.nan),
            ("a", "2024-01-15", "purchase", 30.0),
            ("b", "2024-01-03", "ticket_opened", math.nan),
            ("c", "2024-01-04", "view", math.nan),
            ("c", "2024-01-12", "purchase", 10.0),
            ("c", "2024-01-13", "purchase", 5.0),
            ("d", "2024-01-05", "view", math.nan),
            ("e", "2024-01-20", "view", math.nan),  # not active before: not a row
        ]
        log = InteractionLog.from_arrays(
            customer_id=[r[0] for r in rows], timestamp=[r[1] + "T00:00Z" for r in rows],
            kind=[r[2] for r in rows], value=[r[3] for r in rows],
        )  # fmt: skip
        common = {"drivers": ["ticket_opened"], "window": "10 days", "as_of": "2024-01-21T00:00Z"}
        churn = driver_model(log, outcome="churn", **common)
        keep = driver_model(log, outcome="retention", **common)
        spend = driver_model(log, outcome="spend", **common)
        assert churn.n == keep.n == spend.n == 4
        # churned: b, d -> ticket 1/2 vs none 1/2
        assert churn["coefficient"][0] == pytest.approx(0.0)
        assert churn.outcome_mean == 0.5 and keep.outcome_mean == 0.5
        assert keep["coefficient"][0] == pytest.approx(-churn["coefficient"][0])
        # spend: a 30, b 0 (ticket) vs c 15, d 0
        assert spend["coefficient"][0] == pytest.approx(15.0 - 7.5)
        # a and b only opened tickets: not active when activity is purchases and views, which
        # leaves c and d (both viewed: nothing to compare)
        with pytest.raises(SchemaError, match="single value over the 2 rows"):
            driver_model(log, outcome="churn", activity=["purchase", "view"], **common)

    def test_a_driver_set_by_one_row_has_no_se(self) -> None:
        """One answer with 'delivery' fits itself (leverage 1, residual 0): HC1 gave it an se
        of 3e-14 and a p-value of 0; now its se, interval and p-value are NaN, warned."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "a", "b", "b", "c", "d", "d", "e"],
            kind=["delivery", "survey", "return", "survey", "survey", "return", "survey", "survey"],
            metric=[None, "nps", None, "nps", "nps", None, "nps", "nps"],
            score=[None, 3, None, 8, 10, None, 2, 9],
            timestamp=[f"2024-01-0{d}T00:00Z" for d in (1, 5, 1, 5, 5, 1, 5, 5)],
        )  # fmt: skip
        with pytest.warns(
            DataWarning, match=r"1 row\(s\) alone set the coefficient of \['delivery'\]"
        ):
            m = driver_model(log, drivers=["delivery", "return"])
        row = m["driver"].tolist().index("delivery")
        assert m["coefficient"][row] == pytest.approx(-200.0)  # -100 vs the +100 of c and e
        assert np.isnan(m["se"][row]) and np.isnan(m["p_value"][row])
        assert np.isnan(m["ci_low"][row]) and np.isnan(m["ci_high"][row])
        other = 1 - row
        assert m["se"][other] > 0 and not np.isnan(m["p_value"][other])

    def test_an_exact_fit_has_no_se(self) -> None:
        """Every customer with a return is a detractor and every other a promoter: R^2 = 1,
        every residual is 0, and the robust se came out as rounding noise (3.5e-14 for
        'return', p = 0; 'delivery' had a coefficient of -9e-15 with p = 0.77). Now every
        se, interval and p-value is NaN, warned; the coefficients stand (-200 and 0)."""
        rows = []
        for i in range(20):
            if i < 8:
                rows.append((f"c{i}", "2024-01-01", "return", None, None))
            if i % 3 == 0:
                rows.append((f"c{i}", "2024-01-02", "delivery", None, None))
            rows.append((f"c{i}", "2024-01-05", "survey", "nps", 2 if i < 8 else 10))
        log = InteractionLog.from_arrays(
            customer_id=[r[0] for r in rows],
            timestamp=[r[1] + "T00:00:00+00:00" for r in rows],
            kind=[r[2] for r in rows],
            metric=[r[3] for r in rows],
            score=[math.nan if r[4] is None else r[4] for r in rows],
        )
        with pytest.warns(DataWarning, match=r"explain every one of the 20 rows exactly"):
            m = driver_model(log, drivers=["return", "delivery"])
        assert m.r2 == pytest.approx(1.0)
        assert m["coefficient"].tolist() == pytest.approx([-200.0, 0.0], abs=1e-9)
        for name in ("se", "ci_low", "ci_high", "p_value"):
            assert np.isnan(m[name]).all(), name
        assert np.isnan(m.intercept_se)

    def test_spend_purchase_without_value_refused(self) -> None:
        """A purchase without a value in the outcome window counted as 0 spend, so a model of
        spend on an export missing half its amounts ran on halved spend without a word."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "a", "b", "b"], kind=["ticket_opened", "purchase", "view", "purchase"],
            timestamp=["2024-01-02T00:00Z", "2024-01-15T00:00Z", "2024-01-03T00:00Z",
                       "2024-01-12T00:00Z"],
            value=[math.nan, 30.0, math.nan, math.nan],
        )  # fmt: skip
        common = {"drivers": ["ticket_opened"], "window": "10 days", "as_of": "2024-01-21T00:00Z"}
        with pytest.raises(SchemaError, match=r"row 4: purchase value nan must be a number"):
            driver_model(log, outcome="spend", **common)

    def test_errors(self) -> None:
        log = _hand_log()
        with pytest.raises(SchemaError, match="outcome must be one of"):
            driver_model(log, outcome="nss")
        with pytest.raises(SchemaError, match="encoding"):
            driver_model(log, encoding="log")
        with pytest.raises(SchemaError, match="did you mean 'delivery'"):
            driver_model(log, drivers=["delivry"])
        with pytest.raises(SchemaError, match="single value"):
            driver_model(log, drivers=["delivery", "refund"])
        with pytest.raises(SchemaError, match="'again' is implied"):
            driver_model(log, drivers={"delivery": "delivery", "again": "delivery"})
        with pytest.raises(SchemaError, match="boolean array"):
            driver_model(log, drivers={"x": np.ones(3, bool)})

    def test_one_outcome_for_every_row_is_refused(self) -> None:
        """Every answer a 10 gave coefficients of about 1e-14 with p-values near 0.7: noise
        shown as results. It is refused, naming the outcome and the row count."""
        log = _hand_log()
        promoters = InteractionLog.from_arrays(
            customer_id=log.column("customer_id"),
            timestamp=log.timestamps.astype("datetime64[us]"),
            kind=log.column("kind"),
            metric=log.column("metric"),
            score=np.where(np.isnan(log.numeric("score")), np.nan, 10.0),
        )
        with pytest.raises(DataError, match="every one of the 6 rows has the outcome 100"):
            driver_model(promoters, drivers=["delivery", "return"])

    def test_no_rows_is_refused(self) -> None:
        """An as_of long after the data left nobody active in the window before the outcome;
        the message said the drivers 'take a single value over the 0 rows'."""
        with pytest.raises(DataError, match="no customer active in 2024-05-"):
            driver_model(
                _hand_log(), outcome="churn", drivers=["delivery"], as_of="2024-06-30T00:00Z"
            )

    def test_survey_outcome_not_answered_is_refused(self) -> None:
        """A survey outcome the log never answers is the DataError of nps(), naming what it
        answers (it said 'no rows to fit; check as_of, window and activity'); answers that
        all come after as_of keep that message, which is the one that fits."""
        with pytest.raises(
            DataError,
            match=r"^driver_model\(\): none of the 14 rows answers 'csat'; the survey answers "
            r"are to 'nps' \(6\)$",
        ):
            driver_model(_hand_log(), outcome="csat", drivers=["delivery"])
        with pytest.raises(DataError, match=r"no 'nps' answers: no rows to fit; check as_of"):
            driver_model(_hand_log(), drivers=["delivery"], as_of="2024-03-01T00:00Z")


# ---------------------------------------------------------------- clustered errors

# 12 answers by 5 customers (a: 3, b: 2, c: 4, d: 1, e: 2), two indicator drivers
CLUSTER_X = np.array(
    [[1, 0], [1, 1], [0, 1], [0, 0], [1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1], [1, 1],
     [0, 0]],
    dtype=float,
)  # fmt: skip
CLUSTER_Y = np.array([3.0, -1.5, 2.0, 6.5, 1.0, 4.5, -3.0, 5.5, 2.5, 0.5, -0.5, 9.0])
CLUSTER_G = np.array(list("aaabbccccdee"))


class TestClusteredErrors:
    def test_against_statsmodels_values(self) -> None:
        """CR1 and HC1 standard errors equal statsmodels 0.15.0's (hard-coded):
        ``OLS(y, add_constant(x)).fit(cov_type="cluster", cov_kwds={"groups": g})`` and
        ``cov_type="HC1"``, to 1e-9."""
        clustered = ols_robust(CLUSTER_X, CLUSTER_Y, clusters=CLUSTER_G)
        plain = ols_robust(CLUSTER_X, CLUSTER_Y)
        assert clustered.coef == pytest.approx([6.791666666667, -4.416666666667, -4.25], abs=1e-9)
        cr1 = [0.629269432475, 0.689148401065, 0.721530042832]
        hc1 = [0.825308584264, 0.87179749036, 0.87179749036]
        assert np.sqrt(np.diag(clustered.cov)) == pytest.approx(cr1, abs=1e-9)
        assert np.sqrt(np.diag(plain.cov)) == pytest.approx(hc1, abs=1e-9)
        assert (clustered.n_clusters, plain.n_clusters) == (5, 0)

    def test_live_statsmodels(self) -> None:
        """The same against statsmodels itself when it is installed (not in CI)."""
        sm = pytest.importorskip("statsmodels.api")
        groups = np.unique(CLUSTER_G, return_inverse=True)[1]
        ref = sm.OLS(CLUSTER_Y, sm.add_constant(CLUSTER_X)).fit(
            cov_type="cluster", cov_kwds={"groups": groups}
        )
        ours = ols_robust(CLUSTER_X, CLUSTER_Y, clusters=CLUSTER_G)
        assert np.sqrt(np.diag(ours.cov)) == pytest.approx(np.asarray(ref.bse), rel=1e-10)
        assert np.allclose(ours.cov, np.asarray(ref.cov_params()), rtol=1e-10, atol=1e-14)

    def test_driver_model_clusters_repeated_answers(self) -> None:
        """A customer who answers twice is one cluster: the model's errors are CR1 over the
        customers; cluster=None gives HC1 over the answers."""
        rows = [("a", "delivery"), ("a", "s"), ("a", "s"), ("b", "s"), ("b", "delivery"),
                ("b", "s"), ("c", "s"), ("d", "delivery"), ("d", "s"), ("e", "s")]  # fmt: skip
        scores = iter([3, 9, 10, 2, 8, 0, 6])
        log = InteractionLog.from_arrays(
            customer_id=[r[0] for r in rows],
            timestamp=[f"2024-03-{i + 1:02d}T00:00Z" for i in range(len(rows))],
            kind=["survey" if k == "s" else k for _, k in rows],
            metric=["nps" if k == "s" else None for _, k in rows],
            score=[float(next(scores)) if k == "s" else math.nan for _, k in rows],
        )
        m = driver_model(log, drivers=["delivery"], window="60 days")
        hc1 = driver_model(log, drivers=["delivery"], window="60 days", cluster=None)
        assert (m.n, m.n_clusters, m.se_method) == (7, 5, "CR1 (clustered by customer)")
        assert (hc1.n_clusters, hc1.se_method) == (0, "HC1")
        assert m["coefficient"][0] == pytest.approx(hc1["coefficient"][0])
        # answers in log order: a (after its delivery) x2, b before and after its delivery,
        # c, d after its delivery, e
        x = np.array([[1.0], [1.0], [0.0], [1.0], [0.0], [1.0], [0.0]])
        y = np.array([-100.0, 100.0, 100.0, -100.0, 0.0, -100.0, -100.0])
        expected = ols_robust(x, y, clusters=list("aabbcde"))
        assert m["se"][0] == pytest.approx(math.sqrt(expected.cov[1, 1]), rel=1e-12)

    def test_one_row_per_customer_is_hc1(self) -> None:
        """Customer outcomes have one row per customer: clustering changes nothing."""
        log = _hand_log()
        a = driver_model(log, drivers=["delivery", "return"])
        b = driver_model(log, drivers=["delivery", "return"], cluster=None)
        assert np.allclose(a["se"], b["se"], rtol=1e-12) and a.n_clusters == a.n

    def test_bad_cluster(self) -> None:
        with pytest.raises(SchemaError, match="cluster must be 'customer' or None"):
            driver_model(_hand_log(), drivers=["delivery"], cluster="agent")


# ---------------------------------------------------------------- the synthetic world

WORLD = (2000, 0)  # the guide's figures use this world


@cache
def _world() -> InteractionLog:
    return cx.datasets.synthetic(WORLD[0], seed=WORLD[1]).log


def _unresolved(log: InteractionLog) -> np.ndarray:
    """ticket_opened rows whose ticket never got a ticket_resolved row."""
    ticket = log.column("ticket_id")
    return log.kind_mask("ticket_opened") & ~np.isin(
        ticket, ticket[log.kind_mask("ticket_resolved")]
    )


def _planted_nps(late: np.ndarray, unresolved: np.ndarray) -> np.ndarray:
    """Expected NPS points of an answer given its late deliveries and unresolved tickets so far.

    From the generator: score = clip(round(8 + 1.8 * latent)), latent = satisfaction (N(0, 1))
    - 0.8 x late deliveries - 1.2 x unresolved tickets + 0.5 x N(0, 1) noise; promoter when
    8 + 1.8 * latent >= 8.5, detractor when < 6.5.
    """
    mean = -0.8 * late - 1.2 * unresolved
    sd = math.sqrt(1.0 + 0.25)
    promoter = stats.norm.sf((0.5 / 1.8 - mean) / sd)
    detractor = stats.norm.cdf((-1.5 / 1.8 - mean) / sd)
    return np.asarray(100.0 * (promoter - detractor))


def _before(
    log: InteractionLog, hits: np.ndarray, rows: np.ndarray, span_days: float
) -> np.ndarray:
    """Per answer row: the customer's hit rows strictly earlier and within span_days (a loop)."""
    codes, ts = log.customer_codes, log.timestamps
    span = int(span_days * 86_400_000_000)
    out = np.zeros(len(rows))
    for i, row in enumerate(rows):
        lo, hi = log.offsets[codes[row]], log.offsets[codes[row] + 1]
        mine = np.arange(lo, hi)
        mine = mine[hits[lo:hi]]
        out[i] = np.sum((ts[mine] < ts[row]) & (ts[mine] >= ts[row] - span))
    return out


class TestSyntheticWorld:
    def test_planted_drivers_recovered(self) -> None:
        """Late deliveries and unresolved tickets lower NPS in the generator. Over the whole
        history (the generator counts all of it), the fitted effects are negative and their
        intervals hold the planted effect: the regression of the generator's expected NPS (given
        each answer's counts) on the same drivers."""
        log = _world()
        unresolved = _unresolved(log)
        drivers = {"late delivery": LATE, "unresolved ticket": unresolved,
                   "product_view": "product_view"}  # fmt: skip
        m = driver_model(log, drivers=drivers, window="400 days")
        answers = np.flatnonzero(log.kind_mask("survey") & (log.column("metric") == "nps"))
        late_rows = log.kind_mask("delivery") & (log.column("late") == "yes")
        counts = [_before(log, mask, answers, 400.0)
                  for mask in (late_rows, unresolved, log.kind_mask("product_view"))]  # fmt: skip
        x = np.column_stack([c > 0 for c in counts]).astype(float)
        planted = np.linalg.lstsq(
            np.column_stack([np.ones(len(answers)), x]),
            _planted_nps(counts[0], counts[1]),
            rcond=None,
        )[0][1:]
        row = {name: i for i, name in enumerate(m["driver"].tolist())}
        print({name: (round(float(m["coefficient"][row[name]]), 1),
                      round(float(m["ci_low"][row[name]]), 1),
                      round(float(m["ci_high"][row[name]]), 1), round(float(planted[j]), 1))
               for j, name in enumerate(drivers)})  # fmt: skip
        for j, name in enumerate(drivers):
            assert m["mean"][row[name]] == pytest.approx(x[:, j].mean())  # same design
        for j, name in enumerate(["late delivery", "unresolved ticket"]):
            i = row[name]
            assert m["coefficient"][i] < 0 and m["ci_high"][i] < 0
            assert m["ci_low"][i] <= planted[j] <= m["ci_high"][i]
        assert m["importance"].sum() == pytest.approx(m.r2, abs=1e-12)
        assert set(m["driver"][:2].tolist()) == {"late delivery", "unresolved ticket"}

    def test_confounded_product_view_shrinks(self) -> None:
        """Browsing travels with buying, hence with late deliveries: alone it looks like a
        negative driver; with the planted drivers in the model its interval includes 0."""
        log = _world()
        single = experience_drivers(log, kinds=("product_view",))
        alone = float(single["difference"][0])
        drivers = {"late delivery": LATE, "unresolved ticket": _unresolved(log),
                   "product_view": "product_view"}  # fmt: skip
        m = driver_model(log, drivers=drivers)
        i = m["driver"].tolist().index("product_view")
        joint, low, high = (float(m[c][i]) for c in ("coefficient", "ci_low", "ci_high"))
        print({"alone": round(alone, 1), "joint": (round(joint, 1), round(low, 1), round(high, 1))})
        assert alone < 0 and single["ci_high"][0] < 0  # a "significant" driver on its own
        assert low <= 0.0 <= high or abs(joint) <= abs(alone) / 2
        assert abs(joint) < abs(alone)


# ---------------------------------------------------------------- collinear drivers


def _planted_csat(
    a: np.ndarray, b: np.ndarray, seed: int = 0
) -> tuple[InteractionLog, dict[str, np.ndarray]]:
    """One CSAT answer per customer on day 10 and one experience row on day 5; drivers ``a`` and
    ``b`` mark the experience rows of the customers where the planted indicator is set.
    The answer is 3 + a (clipped to 1..5) plus noise: only ``a`` matters."""
    rng = np.random.default_rng(seed)
    n = a.shape[0]
    score = np.clip(np.rint(3.0 + a + rng.normal(0, 1, n)), 1, 5)
    ids = np.repeat(np.array([f"c{i:05d}" for i in range(n)], dtype=object), 2)
    is_answer = np.tile([False, True], n)
    log = InteractionLog.from_arrays(
        customer_id=ids,
        timestamp=np.where(is_answer, "2024-01-10T00:00Z", "2024-01-05T00:00Z"),
        kind=np.where(is_answer, "survey", "experience").astype(object),
        metric=np.where(is_answer, "csat", None).astype(object),
        score=np.where(is_answer, np.repeat(score, 2), np.nan),
    )
    return log, {"a": ~is_answer & np.repeat(a, 2), "b": ~is_answer & np.repeat(b, 2)}


class TestCollinearDrivers:
    def test_exact_duplicate_names_both(self) -> None:
        """Two drivers equal on every row: the error names both (it named only the second,
        'implied by the drivers before it')."""
        a = np.arange(400) % 2 == 0
        log, masks = _planted_csat(a, a)
        with pytest.raises(
            SchemaError, match=r"'b' is implied by 'a': the two are equal on every one of the 400"
        ):
            driver_model(log, outcome="csat", drivers=masks)

    def test_combination_names_the_drivers_it_combines(self) -> None:
        """A driver that is the sum of two others (disjoint experiences and their union)."""
        rng = np.random.default_rng(1)
        group = rng.integers(0, 3, 400)
        log, masks = _planted_csat(group == 0, group == 1)
        masks["either"] = masks["a"] | masks["b"]
        with pytest.raises(SchemaError, match=r"'either' is implied by 'a', 'b' \(with the"):
            driver_model(log, outcome="csat", drivers=masks)

    def test_near_duplicates_warn_with_their_factor(self) -> None:
        """Two indicators that differ on 2 of 2,000 rows (correlation 0.998): a warning names
        both with their variance inflation factor and correlation; the table's vif column
        holds the factors, the coefficients still sum to about the planted effect and the
        importance is split between the two and still sums to R^2."""
        rng = np.random.default_rng(2)
        a = rng.random(2000) < 0.5
        b = a.copy()
        b[[3, 4]] = ~b[[3, 4]]
        log, masks = _planted_csat(a, b)
        vif = 1 / (1 - np.corrcoef(a, b)[0, 1] ** 2)  # two drivers: VIF = 1 / (1 - r^2)
        with pytest.warns(
            DataWarning,
            match=r"2 of 2 drivers nearly implied .* over 2,000 rows\): 'a' \(VIF "
            rf"{vif:,.1f}; correlation 0\.998 with 'b'\), 'b' \(VIF {vif:,.1f};",
        ):
            m = driver_model(log, outcome="csat", drivers=masks)
        assert m["vif"] == pytest.approx([vif, vif], rel=1e-9)
        coef = dict(zip(m["driver"].tolist(), m["coefficient"].tolist(), strict=True))
        alone = driver_model(log, outcome="csat", drivers={"a": masks["a"]})
        assert coef["a"] + coef["b"] == pytest.approx(alone["coefficient"][0], abs=0.2)
        assert m["importance"].sum() == pytest.approx(m.r2, abs=1e-12)
        assert m["importance"][0] == pytest.approx(m["importance"][1], rel=0.05)

    def test_independent_drivers_do_not_warn(self) -> None:
        """Unrelated drivers have factors near 1 and no warning (warnings fail this suite)."""
        rng = np.random.default_rng(3)
        log, masks = _planted_csat(rng.random(2000) < 0.5, rng.random(2000) < 0.3)
        m = driver_model(log, outcome="csat", drivers=masks)
        assert np.all(m["vif"] < 1.01)

    def test_intervals_fail_only_where_the_warning_says(self) -> None:
        """Simulation behind the documented figure: with correlation about 0.89 (VIF about 5,
        no warning) the 95% HC1 intervals of both drivers hold the planted effect about 95% of
        the time; when 2 rows in 2,000 tell them apart (correlation 0.998, VIF about 250,
        warned), in about 60% of the fits."""
        from cxmodel.metrics._collinearity import VIF_LIMIT, variance_inflation

        rng = np.random.default_rng(4)
        n, reps = 2000, 200
        z = stats.norm.ppf(0.975)
        for flip, lowest, highest, warned in ((0.05, 0.92, 0.98, False), (0.0, 0.3, 0.8, True)):
            covered, inflation = [], []
            for _ in range(reps):
                a = (rng.random(n) < 0.5).astype(float)
                b = np.where(rng.random(n) < flip, 1 - a, a)
                b[:2] = 1 - a[:2]  # two rows at least tell them apart (one alone: NaN se)
                x = np.column_stack([a, b])
                fit = ols_robust(x, 10 * a + rng.normal(0, 30, n))
                se = np.sqrt(np.diag(fit.cov))[1:]
                covered.append(np.abs(fit.coef[1:] - [10.0, 0.0]) <= z * se)
                inflation.append(variance_inflation(x)[0])
            coverage = float(np.mean(covered))
            print({"flip": flip, "coverage": coverage, "median vif": np.median(inflation)})
            assert lowest <= coverage <= highest
            assert (np.median(inflation) > VIF_LIMIT) == warned
