"""recovery_rate: what happened after an alert fired, for firings acted on, not acted on and
held out (hand-computed cases, a planted recovery recovered over 200 seeds)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import RECOVERED_AT, RecoveryRates, recovery_rate
from cxmodel.segment import newcombe_interval
from cxmodel.triggers import Firings, TriggerEngine, evaluate, parse
from tests.metrics.recovery_sim import AS_OF, RULES, simulate

DAY = 86_400_000_000
T0 = np.datetime64("2024-01-01T00:00", "us")

ALERT = parse("""
trigger alert:
    when survey as r where r.metric == "nps" and r.score <= 6
    emit call
    holdout 50%
""")
# holdout 50% of rule "alert" holds out c, d, e and f (holdout_fraction 0.44, 0.27, 0.23, 0.35)
# and keeps a, b, g and h (0.98, 0.64, 0.70, 0.75).
EVENTS = [  # customer, day, kind, metric, score
    ("a", 0, "survey", "nps", 3.0),  # fires; acknowledged
    ("a", 1, "survey", "csat", 5.0),  # another metric: not the next NPS score
    ("a", 4, "survey", "nps", 9.0),  # the next score: recovered
    ("a", 5, "purchase", None, None),  # exactly 5 days later: retained at 5 days
    ("a", 6, "survey", "nps", 2.0),  # fires again; only the first firing counts
    ("b", 0, "survey", "nps", 5.0),  # fires; not acknowledged
    ("b", 0, "purchase", None, None),  # at the firing time: not after it
    ("b", 6, "purchase", None, None),  # after 5 days
    ("b", 10, "survey", "nps", 8.0),  # exactly at the end of the 10-day window: counts
    ("g", 2, "survey", "nps", 1.0),  # fires; acknowledged; never answers again
    ("g", 3, "purchase", None, None),
    ("h", 55, "survey", "nps", 6.0),  # fires; its 10-day window is open at day 60
    ("c", 0, "survey", "nps", 4.0),  # held out
    ("c", 3, "survey", "nps", 6.0),  # next score 6: not recovered
    ("d", 0, "survey", "nps", 0.0),  # held out
    ("d", 11, "survey", "nps", 7.0),  # after the window: did not respond
    ("e", 1, "survey", "nps", 2.0),  # held out
    ("e", 2, "survey", "nps", 10.0),  # recovered
    ("e", 2, "purchase", None, None),
    ("f", 0, "survey", "nps", 9.0),  # not a detractor: never fires
    ("f", 60, "view", None, None),  # the export's last row: the log is observed until day 60
]
END = "2024-03-01T00:00Z"  # day 60


def hand_log() -> InteractionLog:
    cust, day, kind, metric, score = zip(*EVENTS, strict=True)
    return InteractionLog.from_arrays(
        customer_id=list(cust),
        timestamp=T0 + np.array(day) * np.timedelta64(1, "D"),
        kind=list(kind),
        metric=list(metric),
        score=[np.nan if s is None else s for s in score],
    )


def hand_rates(acknowledged: list[str] | None = None, **kwargs: object) -> RecoveryRates:
    log = hand_log()
    firings = evaluate(ALERT, log, as_of=END)
    if acknowledged is None:
        first = {}
        for f in firings:
            first.setdefault(f.customer_id, f.firing_id)
        acknowledged = [first["a"], first["g"]]
    options: dict[str, object] = {"metric": "nps", "window": "10 days", "retention": ("5 days",),
                                  "as_of": END} | kwargs  # fmt: skip
    with pytest.warns(DataWarning, match="window is open"):
        return recovery_rate(firings, log, acknowledged=acknowledged, **options)  # type: ignore[arg-type]


EXPECTED = {  # (group, measure): (n, value, n_pending)
    ("emitted", "responded"): (3, 2 / 3, 1),
    ("emitted", "recovered"): (2, 1.0, 1),
    ("emitted", "next_score"): (2, 8.5, 1),
    ("emitted", "retained_5_days"): (4, 0.5, 0),
    ("acknowledged", "responded"): (2, 0.5, 0),
    ("acknowledged", "recovered"): (1, 1.0, 0),
    ("acknowledged", "next_score"): (1, 9.0, 0),
    ("acknowledged", "retained_5_days"): (2, 1.0, 0),
    ("not acknowledged", "responded"): (1, 1.0, 1),
    ("not acknowledged", "recovered"): (1, 1.0, 1),
    ("not acknowledged", "next_score"): (1, 8.0, 1),
    ("not acknowledged", "retained_5_days"): (2, 0.0, 0),
    ("held out", "responded"): (3, 2 / 3, 0),
    ("held out", "recovered"): (2, 0.5, 0),
    ("held out", "next_score"): (2, 8.0, 0),
    ("held out", "retained_5_days"): (3, 1 / 3, 0),
}


class TestHandComputed:
    def test_every_row(self) -> None:
        """Each group's size, value and pending count, as worked out by hand next to EVENTS."""
        rates = hand_rates()
        assert rates.groups("alert") == ["emitted", "acknowledged", "not acknowledged", "held out"]
        assert len(rates) == len(EXPECTED)
        for (group, measure), (n, value, pending) in EXPECTED.items():
            row = rates.row("alert", group, measure)
            assert (row["n"], row["n_pending"]) == (n, pending), (group, measure)
            assert row["value"] == pytest.approx(value), (group, measure)

    def test_differences_against_held_out(self) -> None:
        """Differences are the group minus held out: Newcombe for shares, Welch for the mean
        (NaN with fewer than two answers in a group); none for the held-out rows."""
        rates = hand_rates()
        row = rates.row("alert", "emitted", "recovered")
        assert row["difference"] == pytest.approx(0.5)
        low, high = newcombe_interval(2, 2, 1, 2, 1.959963984540054)
        assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((low, high))
        retained = rates.row("alert", "emitted", "retained_5_days")
        assert retained["difference"] == pytest.approx(0.5 - 1 / 3)
        score = rates.row("alert", "emitted", "next_score")
        assert score["difference"] == pytest.approx(0.5)
        assert score["diff_ci_low"] < 0.5 < score["diff_ci_high"]
        single = rates.row("alert", "acknowledged", "next_score")
        assert single["difference"] == pytest.approx(1.0) and np.isnan(single["diff_ci_low"])
        held = rates.row("alert", "held out", "recovered")
        assert np.isnan(held["difference"]) and np.isnan(held["diff_ci_low"])
        assert 0 <= held["ci_low"] <= 0.5 <= held["ci_high"] <= 1

    def test_first_firing_decides_acknowledgement(self) -> None:
        """Acknowledging a customer's later firing does not move it: its first firing counts."""
        log = hand_log()
        later = [f.firing_id for f in evaluate(ALERT, log, as_of=END) if f.customer_id == "a"][1]
        rates = hand_rates([later])
        assert rates.row("alert", "acknowledged", "retained_5_days")["n"] == 0
        assert rates.row("alert", "not acknowledged", "retained_5_days")["n"] == 4

    def test_without_acknowledgements(self) -> None:
        """Without acknowledged ids there are two groups: emitted and held out."""
        log = hand_log()
        firings = evaluate(ALERT, log, as_of=END)
        with pytest.warns(DataWarning, match="1 for responded"):
            rates = recovery_rate(firings, log, metric="nps", window="10 days", as_of=END)
        assert rates.groups("alert") == ["emitted", "held out"]
        assert rates.retention == ("30 days", "90 days") and rates.active == ("purchase",)
        assert (rates.metric, rates.recovered_at, rates.window) == ("nps", 7.0, "10 days")

    def test_threshold_and_active_kinds(self) -> None:
        """recovered_at moves the threshold; active names what counts as coming back."""
        rates = hand_rates(recovered_at=9)
        assert rates.row("alert", "emitted", "recovered")["value"] == 0.5  # 9 yes, 8 no
        rates = hand_rates(active=("purchase", "survey"))
        assert rates.row("alert", "held out", "retained_5_days")["value"] == pytest.approx(2 / 3)

    def test_retention_only(self) -> None:
        """Without a metric only the retention measures are read."""
        log = hand_log()
        firings = evaluate(ALERT, log, as_of=END)
        rates = recovery_rate(firings, log, retention=("5 days",), as_of=END)
        assert sorted(set(rates["measure"].tolist())) == ["retained_5_days"]

    def test_streamed_firings_give_the_same_table(self) -> None:
        """Firings returned by the streaming engine measure the same as batch ones."""
        log = hand_log()
        streamed = TriggerEngine(ALERT).process_many(log)  # the alert waits for no timer
        got = [*streamed.firings, *streamed.suppressed_firings]
        batch = evaluate(ALERT, log, as_of=END)
        kwargs = {"metric": "nps", "window": "10 days", "retention": ("5 days",), "as_of": END}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            a = recovery_rate(batch, log, **kwargs)  # type: ignore[arg-type]
            b = recovery_rate(got, log, **kwargs)  # type: ignore[arg-type]
        for name in a.names:
            np.testing.assert_array_equal(a[name], b[name])


class TestWarningsAndErrors:
    def test_no_holdout(self) -> None:
        """A rule without a holdout: the groups are measured, the differences are NaN."""
        rules = parse("trigger alert:\n    when survey as r where r.score <= 6\n    emit call")
        log = hand_log()
        with pytest.warns(DataWarning, match="no held-out customers"):
            rates = recovery_rate(evaluate(rules, log, as_of=END), log, retention=("5 days",),
                                  as_of=END)  # fmt: skip
        row = rates.row("alert", "emitted", "retained_5_days")
        assert row["n"] == 7 and np.isnan(row["difference"])
        assert rates.row("alert", "held out", "retained_5_days")["n"] == 0

    def test_unknown_acknowledged_ids(self) -> None:
        log = hand_log()
        firings = evaluate(ALERT, log, as_of=END)
        with (
            pytest.warns(DataWarning, match="2 acknowledged firing ids match no emitted"),
            pytest.warns(DataWarning, match="window is open"),
        ):
            recovery_rate(firings, log, acknowledged=["x", "y"], metric="nps",
                          window="10 days", as_of=END)  # fmt: skip

    def test_metric_never_answered(self) -> None:
        """A metric the log never answers: nobody responded (0, documented), with a warning
        naming what the log's survey rows answer, the message nps() refuses such a log with."""
        log = hand_log()
        firings = evaluate(ALERT, log, as_of=END)
        with pytest.warns(DataWarning) as caught:
            rates = recovery_rate(firings, log, metric="ces", retention=(), window="1 day",
                                  as_of=END)  # fmt: skip
        assert (
            "recovery_rate(): none of the 21 rows answers 'ces'; the survey answers are to "
            "'csat' (1), 'nps' (14): nobody responded"
        ) in [str(w.message) for w in caught]
        assert rates.row("alert", "emitted", "responded")["value"] == 0.0

    def test_as_of_after_the_data(self) -> None:
        """The log is cut at day 56 and as_of is day 60: a warning counts the customers
        measured over a window that ends in between (by hand: only h, fired on at day 55,
        whose 5-day window ends at day 60)."""
        log = hand_log().between(end=T0 + 56 * DAY)
        firings = evaluate(ALERT, log, as_of=END)
        with pytest.warns(DataWarning, match=r"1 customers' windows end in it"):
            rates = recovery_rate(firings, log, retention=("5 days",), as_of=END)
        assert rates.row("alert", "emitted", "retained_5_days")["n"] == 4

    def test_customers_missing_from_the_log(self) -> None:
        """Firings measured on a log without their customers: they count as not coming back,
        and a warning counts them (c, d, e held out and a, b, g, h emitted: 3 of 7 lack)."""
        log = hand_log()
        firings = evaluate(ALERT, log, as_of=END)
        other = log.filter(np.isin(log.column("customer_id"), ["a", "b", "g", "h", "f"]))
        with pytest.warns(DataWarning, match="3 of the 7 customers measured never occur"):
            rates = recovery_rate(firings, other, retention=("5 days",), as_of=END)
        assert rates.row("alert", "held out", "retained_5_days")["value"] == 0.0

    def test_defaults(self) -> None:
        assert RECOVERED_AT == {"nps": 7.0, "csat": 4.0, "ces": 5.0}

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"metric": "effort"}, "recovered_at is needed for metric 'effort'"),
            ({"recovered_at": 7}, "recovered_at needs metric="),
            ({"metric": "nps", "recovered_at": "7"}, "recovered_at must be a number"),
            ({"active": ()}, "active must name at least one"),
            ({"window": "0 days", "metric": "nps"}, "must be positive"),
            ({"retention": ("-3 days",)}, "is not understood"),
            ({"level": 1.5}, "level must be a number"),
        ],
        ids=[
            "unknown-metric",
            "threshold-alone",
            "threshold-text",
            "no-active",
            "zero-window",
            "negative-horizon",
            "level",
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], match: str) -> None:
        log = hand_log()
        with pytest.raises(SchemaError, match=match):
            recovery_rate(Firings(), log, **kwargs)  # type: ignore[arg-type]

    def test_log_without_scores(self) -> None:
        log = InteractionLog.from_arrays(["a"], ["2024-01-01T00:00Z"], ["purchase"])
        with pytest.raises(SchemaError, match="no 'metric' or 'score' column"):
            recovery_rate(Firings(), log, metric="nps")


class TestPlantedRecovery:
    def test_coverage_over_200_seeds(self) -> None:
        """The host acts on a random 70 % of the alerts; acting adds 15 points to the chance
        of a next NPS of 7+ and 10 points to buying within 30 days. The 95 % intervals hold
        the planted differences in 95 % of 200 seeds (within 2.5 points): emitted against held
        out (0.7 x the effect), acknowledged against held out (the effect, since acting is
        random here), not acknowledged against held out (none); the mean next score too."""
        planted = {
            ("emitted", "recovered"): 0.7 * 0.15,
            ("acknowledged", "recovered"): 0.15,
            ("not acknowledged", "recovered"): 0.0,
            ("emitted", "retained_30_days"): 0.7 * 0.10,
            ("acknowledged", "next_score"): 0.15 * (8.5 - 3.0),  # 7-10 against 0-6
        }
        hits: dict[tuple[str, str], list[bool]] = {key: [] for key in planted}
        estimates = []
        for seed in range(200):
            log, info = simulate(seed)
            firings = evaluate(RULES, log, as_of=AS_OF)
            acts = set(info["ids"][info["acts"]].tolist())
            ack = [f.firing_id for f in firings if f.customer_id in acts]
            rates = recovery_rate(firings, log, acknowledged=ack, metric="nps",
                                  retention=("30 days",), as_of=AS_OF)  # fmt: skip
            for (group, measure), truth in planted.items():
                row = rates.row("detractor", group, measure)
                hits[group, measure].append(row["diff_ci_low"] <= truth <= row["diff_ci_high"])
            estimates.append(rates.row("detractor", "emitted", "recovered")["difference"])
        for key, got in hits.items():
            assert abs(np.mean(got) - 0.95) <= 0.025, key
        assert abs(np.mean(estimates) - 0.105) < 3 * np.std(estimates) / np.sqrt(200)
