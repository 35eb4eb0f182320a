"""Tests for cxmodel.metrics survey scores (NPS, CSAT, CES)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cxmodel.domain import Question
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import (
    MetricTable,
    SmallSampleWarning,
    ces,
    csat,
    nps,
)
from tests.metrics.helpers import GOLDEN_NPS


class TestNPS:
    def test_golden_wald(self) -> None:
        """50/30/20 gives NPS 30, SE 7.81 and Wald [14.69, 45.31] (REFERENCES.md)."""
        r = nps(GOLDEN_NPS)
        assert r.value == pytest.approx(30.0)
        assert r.se == pytest.approx(7.81, abs=0.005)
        assert r.ci == pytest.approx((14.69, 45.31), abs=0.005)
        assert (r.n, r.promoters, r.passives, r.detractors) == (100, 50, 30, 20)

    def test_adjusted_wald(self) -> None:
        """Adjusted Wald uses n + 3 and adds 3/4 to promoters and detractors."""
        r = nps(GOLDEN_NPS, ci="adjusted-wald")
        p, d = 50.75 / 103, 20.75 / 103
        centre, se = 100 * (p - d), 100 * math.sqrt((p + d - (p - d) ** 2) / 103)
        assert r.ci == pytest.approx((centre - 1.959964 * se, centre + 1.959964 * se), rel=1e-6)

    def test_bootstrap_is_seeded_and_near_wald(self) -> None:
        """The bootstrap interval is reproducible and close to Wald at n = 100."""
        a = nps(GOLDEN_NPS, ci="bootstrap", random_state=3)
        b = nps(GOLDEN_NPS, ci="bootstrap", random_state=3)
        assert a.ci == b.ci
        assert a.ci == pytest.approx((14.69, 45.31), abs=2.5)

    def test_finite_population(self) -> None:
        """population=N multiplies the variance by (N - n) / (N - 1)."""
        r = nps(GOLDEN_NPS, population=200)
        assert r.se == pytest.approx(nps(GOLDEN_NPS).se * math.sqrt(100 / 199))

    def test_census_has_zero_se(self) -> None:
        """When every member answered (n == N) the SE is zero."""
        assert nps(GOLDEN_NPS, population=100).se == 0.0

    def test_level(self) -> None:
        """A 90 % interval is narrower than the 95 % one."""
        assert np.ptp(nps(GOLDEN_NPS, level=0.9).ci) < np.ptp(nps(GOLDEN_NPS).ci)

    def test_empty_is_nan(self) -> None:
        """No answers: NaN value and interval, n = 0, no exception or warning."""
        r = nps([])
        assert r.n == 0 and math.isnan(r.value) and all(math.isnan(x) for x in r.ci)

    def test_small_sample_warns(self) -> None:
        """Fewer than 30 answers warns SmallSampleWarning."""
        with pytest.warns(SmallSampleWarning, match="fewer than 30"):
            r = nps([10, 0, 9])
        assert r.value == pytest.approx(100 / 3)

    def test_by_array(self) -> None:
        """by= an array of labels gives one row per label, sorted."""
        t = nps(GOLDEN_NPS * 2, by=["b"] * 100 + ["a"] * 100)
        assert isinstance(t, MetricTable)
        assert t["by"].tolist() == ["a", "b"]
        assert t["value"].tolist() == pytest.approx([30.0, 30.0])
        assert t["n"].tolist() == [100, 100]

    def test_to_dict_pandas_html(self) -> None:
        """Results convert to a dict, a one-row DataFrame and HTML."""
        r = nps(GOLDEN_NPS)
        assert r.to_dict()["promoters"] == 50
        pytest.importorskip("pandas")
        df = r.to_pandas()
        assert df["ci_low"].iloc[0] == pytest.approx(14.69, abs=0.005)
        assert "NPSResult" in r._repr_html_()
        t = nps(GOLDEN_NPS, by=["x"] * 100)
        assert isinstance(t, MetricTable)
        assert t.to_pandas().shape[0] == 1 and "<table>" in t._repr_html_()

    def test_repr_is_a_short_summary(self) -> None:
        """The repr names the figures to 4 significant digits and leaves out a missing
        population, wrapped at 100 characters."""
        assert repr(nps(GOLDEN_NPS)) == (
            "NPSResult(value=30, se=7.81, ci=(14.69, 45.31), n=100, promoters=50, passives=30, "
            "detractors=20,\n    method=wald, level=0.95)"
        )
        assert repr(nps(GOLDEN_NPS, population=400)).endswith("level=0.95, population=400)")

    def test_equal_answers_give_equal_results(self) -> None:
        """Results compare by value and hash alike (the Dask functions are checked with ==)."""
        a, b = nps(GOLDEN_NPS), nps(list(reversed(GOLDEN_NPS)))
        assert a == b and hash(a) == hash(b)
        assert a != nps(GOLDEN_NPS, level=0.9)


class TestCSATAndCES:
    def test_csat_golden_wilson(self) -> None:
        """170 of 200 satisfied: 85 % with Wilson [79.4 %, 89.3 %]."""
        r = csat([4] * 100 + [5] * 70 + [1] * 30)
        assert r.value == pytest.approx(0.85)
        assert r.ci == pytest.approx((0.794, 0.893), abs=0.0005)
        assert (r.n, r.successes) == (200, 170)

    @pytest.mark.parametrize("method", ["wald", "adjusted-wald", "wilson", "bootstrap"])
    def test_csat_methods_cover_value(self, method: str) -> None:
        """Every interval method brackets the point estimate and stays in [0, 1]."""
        r = csat([5] * 170 + [1] * 30, ci=method)
        assert 0 <= r.ci[0] < r.value < r.ci[1] <= 1

    def test_ces_mean_and_share(self) -> None:
        """CES reports the agree share (5..7) and the mean with a t-interval."""
        scores = [7, 6, 5, 2] * 10
        r = ces(scores)
        assert (r.value, r.mean, r.n, r.successes) == (0.75, 5.0, 40, 30)
        se = np.std(scores, ddof=1) / math.sqrt(40)
        t = 2.0226909200367604  # scipy.stats.t.ppf(0.975, 39)
        assert r.mean_ci == pytest.approx((5 - t * se, 5 + t * se), rel=1e-9)

    def test_ces_empty(self) -> None:
        """Empty CES gives NaN share and mean with n = 0."""
        r = ces([])
        assert r.n == 0 and math.isnan(r.value) and math.isnan(r.mean)

    def test_results_convert_field_by_field(self) -> None:
        """``to_dict`` gives every field in declaration order; ``to_pandas`` splits each
        interval into ``_low`` and ``_high`` columns."""
        share, effort = csat([5] * 170 + [1] * 30), ces([7, 6, 5, 2] * 10)
        assert list(share.to_dict()) == [
            "value", "se", "ci", "n", "successes", "method", "level", "population",
        ]  # fmt: skip
        assert effort.to_dict()["mean_ci"] == effort.mean_ci
        pytest.importorskip("pandas")
        assert effort.to_pandas().columns.tolist() == [
            "value", "se", "ci_low", "ci_high", "n", "successes", "mean", "mean_se",
            "mean_ci_low", "mean_ci_high", "method", "level", "population",
        ]  # fmt: skip


def _survey_log() -> InteractionLog:
    n = 120
    ids = [f"c{i:03d}" for i in range(n)]
    times = ["2024-01-31T23:30:00+00:00"] * 60 + ["2024-02-15T12:00:00+00:00"] * 60
    return InteractionLog.from_arrays(
        customer_id=[*ids, "z"],
        timestamp=[*times, "2024-01-01T00:00:00+00:00"],
        kind=["survey"] * n + ["purchase"],
        metric=["nps"] * 100 + ["csat"] * 20 + [None],
        score=[10] * 50 + [8] * 30 + [3] * 20 + [5] * 20 + [float("nan")],
        region=["north", "south"] * 60 + ["north"],
    )


class TestOnLog:
    def test_nps_from_log(self) -> None:
        """nps(log) uses only survey rows with metric 'nps'."""
        assert nps(_survey_log()).value == pytest.approx(30.0)

    def test_csat_from_log(self) -> None:
        """csat(log) uses only the csat rows."""
        with pytest.warns(SmallSampleWarning):
            r = csat(_survey_log())
        assert (r.n, r.value) == (20, 1.0)

    def test_by_column_and_period(self) -> None:
        """by a column and period=month give a region x month table."""
        with pytest.warns(SmallSampleWarning, match="2 group"):
            t = nps(_survey_log(), by="region", period="month")
        assert isinstance(t, MetricTable)
        assert t.names[:2] == ("region", "period")
        assert t["period"].tolist() == ["2024-01", "2024-02", "2024-01", "2024-02"]
        assert t["n"].sum() == 100

    def test_period_time_zone(self) -> None:
        """23:30 UTC on 31 January is February in Europe/Paris."""
        t = nps(_survey_log(), period="month", timezone="Europe/Paris")
        assert isinstance(t, MetricTable)
        assert t["period"].tolist() == ["2024-02"] and t["n"].tolist() == [100]

    def test_empty_groups_and_periods(self) -> None:
        """A category of the column with no answers in the data gets a row: NaN, n = 0."""
        log = _survey_log()
        times = log.column("timestamp")
        late = times > np.datetime64("2024-02-01")
        log = log.with_column("region", np.where(late, "west", "north").astype(object))
        t = nps(log.filter(log.column("region") == "north"), by="region", period="month")
        assert isinstance(t, MetricTable)
        assert t["region"].tolist() == ["north", "west"]
        assert t["n"].tolist()[1] == 0 and math.isnan(t["value"][1])

    def test_period_gap(self) -> None:
        """A month without answers between two months with answers is a NaN row, n = 0."""
        ts = np.array(["2024-01-15", "2024-03-15"] * 50, dtype="datetime64[us]")
        t = nps(GOLDEN_NPS, period="month", timestamps=ts)
        assert isinstance(t, MetricTable)
        assert t["period"].tolist() == ["2024-01", "2024-02", "2024-03"]
        assert t["n"].tolist() == [50, 0, 50] and math.isnan(t["value"][1])

    @pytest.mark.parametrize("breakdown", [{}, {"period": "month"}, {"by": "region"}],
                             ids=["whole", "period", "by"])  # fmt: skip
    def test_metric_the_log_does_not_answer(self, breakdown: dict[str, str]) -> None:
        """A log with rows but no answer to the metric is refused, naming the metrics it
        holds, whatever the breakdown (not a NaN, or a table without rows)."""
        with pytest.raises(DataError, match=r"ces\(\): none of the 121 rows answers 'ces'; "
                           r"the survey answers are to 'csat' \(20\), 'nps' \(100\)$"):  # fmt: skip
            ces(_survey_log(), **breakdown)

    @pytest.mark.parametrize(
        ("metric", "kind", "match"),
        [
            ("CSAT", "survey", "answers are to 'CSAT' \\(2\\); did you mean 'CSAT'\\?"),
            (None, "survey", "the 2 survey row\\(s\\) name no metric"),
            (None, "view", "there is no survey row"),
        ],
        ids=["other-spelling", "no-metric", "no-survey"],
    )
    def test_what_the_log_holds(self, metric: str | None, kind: str, match: str) -> None:
        """The refusal says what the log holds instead, with a did-you-mean for a spelling."""
        score = None if metric is None else [4.0, 5.0]
        log = InteractionLog.from_arrays(["a", "b"], [0, 1], [kind, kind], metric=[metric] * 2,
                                         score=score or [None, None],
                                         questions=[Question("CSAT", "scale", low=1, high=5)])  # fmt: skip
        with pytest.raises(DataError, match=match):
            csat(log, period="month")

    def test_empty_log_is_nan(self) -> None:
        """A log without rows answers as documented: NaN with n = 0."""
        log = _survey_log()
        assert csat(log.filter(np.zeros(len(log), dtype=bool))).n == 0

    def test_by_wrong_length(self) -> None:
        """A by array that does not match the log's rows is a SchemaError."""
        with pytest.raises(SchemaError, match="by has 2 labels"):
            nps(_survey_log(), by=["a", "b"])


class TestBadInput:
    @pytest.mark.parametrize(
        ("func", "scores", "match"),
        [
            (nps, [10, 11], r"row 2: score 11.0 is outside the NPS scale 0..10"),
            (nps, [-1], r"row 1: score -1.0"),
            (nps, [7.5], r"row 1: score 7.5"),
            (nps, [float("nan")], r"row 1: score is missing \(None or NaN\)"),
            (nps, [9, None], r"row 2: score is missing .*drop the unanswered rows first"),
            (csat, [0, 3], r"row 1: score 0.0 is outside the CSAT scale 1..5"),
            (ces, [8], r"outside the CES scale 1..7"),
        ],
        ids=["nps-11", "nps-negative", "nps-fraction", "nps-nan", "nps-none", "csat-0", "ces-8"],
    )
    def test_off_scale(self, func: object, scores: list[float], match: str) -> None:
        """Scores off the scale raise SchemaError naming the row and value."""
        with pytest.raises(SchemaError, match=match):
            func(scores)  # type: ignore[operator]

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"ci": "wilson"}, "ci must be one of"),
            ({"level": 1.5}, "level must be"),
            ({"population": 10}, "population must be"),
            ({"period": "year", "timestamps": [0] * 100}, "period must be one of"),
            ({"period": "day"}, "period= needs timestamps"),
        ],
        ids=["wilson-for-nps", "level", "population-too-small", "bad-period", "no-times"],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], match: str) -> None:
        """Bad arguments raise SchemaError naming the argument."""
        with pytest.raises(SchemaError, match=match):
            nps(GOLDEN_NPS, **kwargs)  # type: ignore[arg-type]


class TestScaleAndTop:
    """A top box off the scale, a reversed scale, or a scale other than the one the log read
    its answers on is a SchemaError (they gave 0 % or 100 %, or a raw ValueError)."""

    @pytest.mark.parametrize(
        ("call", "match"),
        [
            (lambda: csat([5] * 40, top=9), r"csat\(\): top 9 is not a point of the scale 1..5"),
            (lambda: csat([5] * 40, top=0), r"top 0 is not a point"),
            (lambda: ces([5] * 40, agree_from=9), r"ces\(\): agree_from 9 is not a point .*1..7"),
            (lambda: csat([3] * 40, scale=(5, 1)), r"scale \(5, 1\) must be .* lowest < highest"),
            (lambda: ces([3] * 40, scale=(4, 4)), r"scale \(4, 4\) must be"),
        ],
        ids=["csat-top-above", "csat-top-below", "ces-agree-above", "reversed", "one-point"],
    )
    def test_bad_scale_or_top(self, call: object, match: str) -> None:
        """Each is refused naming the argument and the scale."""
        with pytest.raises(SchemaError, match=match):
            call()  # type: ignore[operator]

    def test_log_answers_keep_their_scale(self) -> None:
        """csat(log, scale=(1, 7)) on answers the log read on 1..5 is refused (it reported
        0 % satisfied: the top box 6..7 held no answer); a scale within 1..5 is taken (a 1-5
        effort survey logged as ``ces`` is documented)."""
        with pytest.raises(
            SchemaError, match=r"scale \(1, 7\) reaches beyond the scale .* \(1, 5\)"
        ):
            csat(_survey_log(), scale=(1, 7))
        with pytest.warns(SmallSampleWarning):  # 20 answers
            same = csat(_survey_log(), scale=(1, 5)) == csat(_survey_log())
            narrower = csat(_survey_log(), scale=(2, 5))  # answers all 5: within it
        assert same and narrower.value == 1.0


class TestOneNPSFormula:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_table_matches_the_formula_group_by_group(self, seed: int) -> None:
        """Every row of a 300-group table is 100 (p - d) with SE 100 sqrt((p + d - (p - d)^2) / n)
        and the Wald bounds, computed here group by group."""
        from cxmodel._stats import z_value
        from cxmodel.metrics import NPSAccumulator

        acc = NPSAccumulator()
        rng = np.random.default_rng(seed)
        n = 5000
        state = acc.update(acc.empty(["g"]), rng.integers(0, 11, n), [rng.integers(0, 300, n)])
        got = acc.finalize(state, level=0.9).to_dict()
        z = z_value(0.9)
        for i, counts in enumerate(state.counts.tolist()):
            total, pro, det = sum(counts), sum(counts[9:]), sum(counts[:7])
            p, d = pro / total, det / total
            value, se = 100 * (p - d), 100 * math.sqrt((p + d - (p - d) ** 2) / total)
            assert (got["n"][i], got["promoters"][i], got["detractors"][i]) == (total, pro, det)
            assert got["value"][i] == pytest.approx(value, rel=1e-12)
            assert got["se"][i] == pytest.approx(se, rel=1e-12)
            assert got["ci_low"][i] == pytest.approx(max(-100, value - z * se), rel=1e-12)
            assert got["ci_high"][i] == pytest.approx(min(100, value + z * se), rel=1e-12)

    def test_journey_map_uses_the_same_formula(self) -> None:
        """satisfaction_by_stage's NPS of a stage equals nps() of the same answers."""
        from cxmodel.metrics import satisfaction_by_stage

        scores = [10] * 40 + [8] * 25 + [2] * 35
        rows = [
            {"customer_id": f"c{i}", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase",
             "touchpoint": "web", "order_id": f"o{i}", "value": 1.0}
            for i in range(len(scores))
        ] + [
            {"customer_id": f"c{i}", "timestamp": "2024-01-02T00:00:00Z", "kind": "survey",
             "metric": "nps", "score": s, "order_id": f"o{i}"}
            for i, s in enumerate(scores)
        ]  # fmt: skip
        journey = satisfaction_by_stage(InteractionLog.from_records(rows), "nps")
        expected = nps(scores)
        assert journey["value"].tolist() == [expected.value]
        assert (journey["ci_low"][0], journey["ci_high"][0]) == expected.ci


class TestZeroWidthIntervals:
    """An interval of zero width from 30 or more answers all alike warns DataWarning with the
    count of groups and the remedy; the documented values themselves do not change."""

    @pytest.mark.parametrize(
        ("scores", "ci", "value"),
        [([10] * 50, "wald", 100.0), ([8] * 50, "wald", 0.0), ([3] * 50, "bootstrap", -100.0)],
        ids=["all-promoters", "all-passives", "all-detractors-bootstrap"],
    )
    def test_nps_all_alike_warns(self, scores: list[int], ci: str, value: float) -> None:
        """Every answer in one NPS category: the interval is (value, value) and it warns,
        naming ci='adjusted-wald'."""
        with pytest.warns(DataWarning, match=r"NPS: 1 group\(s\) .* zero width \(n = 50\).*"
                          r"ci='adjusted-wald'"):  # fmt: skip
            r = nps(scores, ci=ci)
        assert (r.value, r.ci) == (value, (value, value))

    def test_adjusted_wald_is_quiet(self) -> None:
        """The adjusted Wald interval of 50 promoters has width, so nothing warns."""
        r = nps([10] * 50, ci="adjusted-wald")
        assert r.ci[0] < r.ci[1] == 100.0

    def test_table_counts_the_flat_groups(self) -> None:
        """Two of three groups all alike: one warning, counting 2 groups."""
        scores = [10] * 40 + [0] * 40 + [10, 8, 0, 5] * 10
        labels = ["a"] * 40 + ["b"] * 40 + ["c"] * 40
        with pytest.warns(DataWarning, match=r"NPS: 2 group\(s\) .*\(n = 40\)") as caught:
            nps(scores, by=labels)
        assert len(caught) == 1

    def test_census_is_quiet(self) -> None:
        """When every member of the population answered, a zero-width interval is right."""
        r = nps([10] * 50, population=50)
        assert r.ci == (100.0, 100.0)

    @pytest.mark.parametrize("ci", ["wald", "bootstrap"])
    def test_csat_all_satisfied_warns(self, ci: str) -> None:
        """CSAT at a share of 1 with Wald or bootstrap warns, naming ci='wilson'."""
        with pytest.warns(DataWarning, match=r"CSAT: 1 group.*ci='wilson'"):
            r = csat([5] * 40, ci=ci)
        assert r.ci == (1.0, 1.0)

    def test_csat_wilson_is_quiet(self) -> None:
        """The default Wilson interval of 40 satisfied answers has width."""
        assert csat([5] * 40).ci[0] < 1.0

    def test_ces_all_equal_warns_for_the_mean(self) -> None:
        """Every CES answer the same point: the mean's t interval is flat and warns."""
        with pytest.warns(DataWarning, match=r"CES mean: 1 group.*standard deviation 0"):
            r = ces([6] * 40)
        assert r.mean_ci == (6.0, 6.0)
        assert r.ci[0] < r.ci[1]  # the Wilson agree share is not flat

    def test_small_groups_only_warn_small_sample(self) -> None:
        """Fewer than 30 answers already warn SmallSampleWarning; no second warning."""
        with pytest.warns(SmallSampleWarning) as caught:
            nps([10] * 10)
        assert [w.category for w in caught] == [SmallSampleWarning]

    def test_journey_map_warns_for_nps(self) -> None:
        """satisfaction_by_stage('nps') warns for a stage whose answers are all promoters."""
        from cxmodel.metrics import satisfaction_by_stage

        rows = [
            {"customer_id": f"c{i}", "timestamp": "2024-01-01T00:00:00Z", "kind": "survey",
             "metric": "nps", "score": 10}
            for i in range(40)
        ]  # fmt: skip
        with pytest.warns(DataWarning, match=r"satisfaction_by_stage\('nps'\): 1 group"):
            satisfaction_by_stage(InteractionLog.from_records(rows), "nps")
