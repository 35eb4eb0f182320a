"""CustomerTable: columns against a row-by-row Python reference on a random log."""

from __future__ import annotations

import math

import attrs
import numpy as np
import pytest

from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._customer_table import CUSTOMER_TABLE_COLUMNS, CustomerTable

DAY = 86_400_000_000
KINDS = np.array(
    [
        "purchase",
        "return",
        "ticket_opened",
        "ticket_resolved",
        "survey",
        "login",
        "consent_granted",
        "consent_revoked",
        "email_opened",
    ],
    dtype=object,
)


def _random_log(seed: int, n: int = 600) -> tuple[InteractionLog, dict[str, np.ndarray], int]:
    rng = np.random.default_rng(seed)
    cust = np.array([f"c{i:02d}" for i in rng.integers(0, 40, n)], dtype=object)
    ts = rng.integers(0, 400, n) * DAY + rng.integers(0, DAY, n)
    kind = KINDS[rng.integers(0, len(KINDS), n)]
    metric = np.where(kind == "survey", rng.choice(["nps", "csat"], n), None).astype(object)
    score = np.where(metric == "nps", rng.integers(0, 11, n), rng.integers(1, 6, n)).astype(float)
    score[kind != "survey"] = np.nan
    cols = {
        "customer_id": cust,
        "timestamp": ts.astype("datetime64[us]"),
        "kind": kind,
        "value": np.where(kind == "purchase", rng.integers(1, 100, n), np.nan).astype(float),
        "channel": rng.choice(np.array(["email", "web", "store"], dtype=object), n),
        "sentiment": np.where(rng.random(n) < 0.3, rng.uniform(-1, 1, n), np.nan),
        "metric": metric,
        "score": score,
        "ticket_id": np.array([f"t{i}" for i in rng.integers(0, 5, n)], dtype=object),
        "purpose": rng.choice(np.array(["marketing", "analytics"], dtype=object), n),
    }
    log = InteractionLog.from_arrays(**cols)
    return log, cols, 300 * DAY


def _reference(cols: dict[str, np.ndarray], as_of: int) -> dict[str, dict[str, object]]:
    """Slow, obviously-correct per-customer loop."""
    ts = cols["timestamp"].astype(np.int64)
    order = np.lexsort((np.arange(len(ts)), ts, cols["customer_id"]))
    out: dict[str, dict[str, object]] = {}
    for i in order:
        if ts[i] > as_of:
            continue
        c = cols["customer_id"][i]
        k = cols["kind"][i]
        r = out.setdefault(
            c,
            {
                "first": ts[i],
                "freq": 0,
                "mon": 0.0,
                "p30": 0,
                "returns": 0,
                "tickets": 0,
                "open": set(),
                "nps": math.nan,
                "consent": False,
                "sent": [],
                "chan": {},
            },
        )
        r["last"] = ts[i]
        r["chan"][cols["channel"][i]] = r["chan"].get(cols["channel"][i], 0) + 1
        if not math.isnan(cols["sentiment"][i]):
            r["sent"].append(cols["sentiment"][i])
        if k == "purchase":
            r["freq"] += 1
            r["mon"] += cols["value"][i]
            r["lastbuy"] = ts[i]
            r["p30"] += ts[i] > as_of - 30 * DAY
        elif k == "return":
            r["returns"] += 1
        elif k == "ticket_opened":
            r["tickets"] += 1
            r["open"].add(cols["ticket_id"][i])
        elif k == "ticket_resolved":
            r.setdefault("resolved", set()).add(cols["ticket_id"][i])
        elif k == "survey" and cols["metric"][i] == "nps":
            r["nps"] = cols["score"][i]
        elif k in ("consent_granted", "consent_revoked") and cols["purpose"][i] == "marketing":
            r["consent"] = k == "consent_granted"
    return out


class TestFromLog:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_matches_reference_loop(self, seed: int) -> None:
        """Every vectorised column equals a per-customer Python loop."""
        log, cols, as_of = _random_log(seed)
        table = CustomerTable.from_log(log, as_of=np.datetime64(as_of, "us"))
        ref = _reference(cols, as_of)
        assert table.customer_id.tolist() == sorted(ref)
        for i, c in enumerate(table.customer_id):
            r = ref[c]
            row = table.row(c)
            assert row["first_seen"] == np.datetime64(int(r["first"]), "us")
            assert row["last_seen"] == np.datetime64(int(r["last"]), "us")
            assert row["frequency"] == r["freq"]
            assert row["monetary"] == pytest.approx(r["mon"])
            assert row["purchases_30d"] == r["p30"]
            assert row["returns"] == r["returns"]
            assert row["tickets_total"] == r["tickets"]
            assert row["tickets_open"] == len(r["open"] - r.get("resolved", set()))
            assert row["consent_marketing"] == r["consent"]
            if r["freq"]:
                assert row["recency_days"] == pytest.approx((as_of - r["lastbuy"]) / DAY)
                assert row["aov"] == pytest.approx(r["mon"] / r["freq"])
            else:
                assert math.isnan(row["recency_days"]) and math.isnan(row["aov"])
            assert (math.isnan(row["last_nps"]) and math.isnan(r["nps"])) or row["last_nps"] == r[
                "nps"
            ]
            if r["sent"]:
                assert row["mean_sentiment"] == pytest.approx(np.mean(r["sent"]))
            top = max(r["chan"].values())
            assert row["preferred_channel"] == min(k for k, v in r["chan"].items() if v == top)
            assert table.column("tenure_days")[i] == pytest.approx((as_of - r["first"]) / DAY)

    def test_columns_documented(self) -> None:
        """Every built-in column is documented and present (names with <...> are families:
        one column per topic, usage count or trait)."""
        log, _, as_of = _random_log(3)
        table = CustomerTable.from_log(log, as_of=np.datetime64(as_of, "us"))
        documented = [c for c in CUSTOMER_TABLE_COLUMNS if "<" not in c]
        assert table.columns == ("customer_id", *documented)
        df = table.to_pandas()
        assert list(df.columns) == list(table.columns) and len(df) == len(table)
        assert "<table>" in table._repr_html_()

    def test_models_add_columns(self) -> None:
        """A model callable adds a column; a wrong length is rejected."""
        log, _, as_of = _random_log(4)
        t = CustomerTable.from_log(
            log,
            as_of=np.datetime64(as_of, "us"),
            models={"double": lambda t: 2 * t.column("frequency")},
        )
        np.testing.assert_array_equal(t.column("double"), 2 * t.column("frequency"))
        with pytest.raises(SchemaError, match="models\\['bad'\\]"):
            CustomerTable.from_log(
                log, as_of=np.datetime64(as_of, "us"), models={"bad": lambda t: [1]}
            )

    def test_profile(self) -> None:
        """profile() returns the row, the latest interactions (newest last) and surveys."""
        log, _, as_of = _random_log(5)
        table = CustomerTable.from_log(log, as_of=np.datetime64(as_of, "us"))
        cid = str(table.customer_id[0])
        p = table.profile(cid, recent=3)
        assert p["row"]["customer_id"] == cid
        assert len(p["recent"]) == min(3, len(log.journey(cid)))
        times = [x.timestamp for x in p["recent"]]
        assert times == sorted(times)
        assert all(x.kind == "survey" for x in p["surveys"])
        assert len(p["open_tickets"]) == p["row"]["tickets_open"]

    @pytest.mark.parametrize(
        ("call", "error"),
        [
            (lambda t: t.column("nope"), SchemaError),
            (lambda t: t.profile("nobody"), DataError),
            (lambda t: t.row("nobody"), DataError),
        ],
    )
    def test_bad_lookups(self, call, error) -> None:  # type: ignore[no-untyped-def]
        """Unknown columns and customers raise errors naming them."""
        log, _, as_of = _random_log(6)
        table = CustomerTable.from_log(log, as_of=np.datetime64(as_of, "us"))
        with pytest.raises(error, match="nope|nobody"):
            call(table)

    def test_minimal_log(self) -> None:
        """A log with only required columns still builds (NaN / None / False defaults)."""
        log = InteractionLog.from_arrays(
            customer_id=["a"], timestamp=["2024-01-01T00:00Z"], kind=["login"]
        )
        t = CustomerTable.from_log(log, as_of="2024-01-02T00:00Z")
        row = t.row("a")
        assert row["frequency"] == 0 and row["preferred_channel"] is None
        assert row["consent_marketing"] is False and math.isnan(row["last_ces"])
        assert t.column("monetary").dtype == np.float64  # also when nobody purchased

    def test_profile_needs_the_log(self) -> None:
        """A table without its log (built on a cluster) refuses profile() and says why."""
        log = InteractionLog.from_arrays(
            customer_id=["a"], timestamp=["2024-01-01T00:00Z"], kind=["login"]
        )
        t = attrs.evolve(CustomerTable.from_log(log, as_of="2024-01-02T00:00Z"), log=None)
        assert t.row("a")["customer_id"] == "a"
        with pytest.raises(DataError, match="built on a cluster"):
            t.profile("a")


class TestAsOfAfterTheData:
    def _log(self) -> InteractionLog:
        times = ["2024-01-10T00:00Z", "2024-01-25T00:00Z", "2024-01-31T00:00Z"]
        return InteractionLog.from_arrays(["a", "b", "c"], times, ["purchase", "purchase", "view"])

    def test_long_after_warns_with_the_customers_whose_counts_lose_purchases(self) -> None:
        """as_of 40 days after the data: purchases_30d of a and b count none of their
        purchases; the warning counts them and names the span."""
        with pytest.warns(DataWarning, match=r"from_log\(\): as_of 2024-03-11T00:00:00Z is "
                          r"40.0 days after .*: 2 customers lost purchases"):  # fmt: skip
            t = CustomerTable.from_log(self._log(), as_of="2024-03-11T00:00Z")
        assert t.column("purchases_30d").tolist() == [0, 0, 0]

    @pytest.mark.parametrize(
        "as_of", ["2024-01-31T00:00Z", "2024-02-07T00:00Z"], ids=["at-the-end", "a-week-after"]
    )
    def test_quiet_at_or_shortly_after_the_end(self, as_of: str) -> None:
        """An as_of at the data's end or within 30 days of it changes no 30-day count: quiet."""
        assert len(self._log().customers_table(as_of)) == 3

    def test_with_observed_until_declares_the_span_observed(self) -> None:
        """A log declared observed until as_of is quiet: the span is known to be silent."""
        log = self._log().with_observed_until("2024-03-11T00:00Z")
        assert CustomerTable.from_log(log, as_of="2024-03-11T00:00Z").column("frequency").sum() == 2


class TestTicketsByTopic:
    def test_topic_columns(self) -> None:
        """With a topic column, opened tickets are counted per topic."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "a", "a", "b"],
            timestamp=["2024-01-01T00:00Z"] * 4,
            kind=["ticket_opened", "ticket_opened", "ticket_resolved", "ticket_opened"],
            topic=["delivery", "payment", "delivery", "delivery"],
        )
        t = CustomerTable.from_log(log, as_of="2024-01-02T00:00Z")
        assert t.column("tickets_topic_delivery").tolist() == [1, 1]
        assert t.column("tickets_topic_payment").tolist() == [1, 0]


class TestOrderLines:
    def test_lines_counted_as_purchases_warn_and_merge(self) -> None:
        """Two lines of one order at one instant are two purchases of frequency, aov and
        purchases_30d, with a warning counting the further line; on ``log.orders()`` they are
        one order of the summed value."""
        log = InteractionLog.from_arrays(
            ["a", "a", "a", "b"],
            ["2024-01-10T09:00Z", "2024-01-10T09:00Z", "2024-01-20T09:00Z", "2024-01-12T09:00Z"],
            ["purchase"] * 4,
            value=[30.0, 10.0, 20.0, 5.0],
        )
        with pytest.warns(DataWarning) as seen:
            rows = CustomerTable.from_log(log, as_of="2024-02-01T00:00Z")
        assert [str(w.message) for w in seen] == [
            "CustomerTable.from_log(): 1 of 4 purchases are further lines of an order (same "
            "customer and order_id, or same instant): counted here as purchases of their own; "
            "collapse them with log.orders()"
        ]
        assert seen[0].filename == __file__
        assert rows.column("frequency").tolist() == [3, 1]
        orders = CustomerTable.from_log(log.orders(), as_of="2024-02-01T00:00Z")
        assert orders.column("frequency").tolist() == [2, 1]
        assert orders.column("aov").tolist() == [30.0, 5.0]
        assert orders.column("purchases_30d").tolist() == [2, 1]
        assert orders.column("monetary").tolist() == rows.column("monetary").tolist()


class TestQuietAnswers:
    def test_a_model_named_like_a_column_is_refused(self) -> None:
        """models={"frequency": ...} replaced the built-in column without a word."""
        log = InteractionLog.from_arrays(["a"], ["2024-01-01T00:00Z"], ["purchase"], value=[5.0])
        with pytest.raises(SchemaError, match=r"models\['frequency'\] has the name of a"):
            CustomerTable.from_log(log, as_of="2024-02-01T00:00Z", models={"frequency": len})

    def test_purchases_without_a_value_are_counted(self) -> None:
        """A purchase without a value counts 0 in monetary and aov, and says how many did."""
        log = InteractionLog.from_arrays(
            ["a", "a", "b"],
            ["2024-01-01T00:00Z", "2024-01-02T00:00Z", "2024-01-03T00:00Z"],
            ["purchase"] * 3,
            value=[10.0, None, None],
        )
        with pytest.warns(DataWarning, match="2 of 3 purchases have no 'value'"):
            t = CustomerTable.from_log(log, as_of="2024-02-01T00:00Z")
        assert t.column("monetary").tolist() == [10.0, 0.0]
        assert t.column("aov").tolist() == [5.0, 0.0]

    def test_consent_purposes_compare_as_consent_does(self) -> None:
        """ "Marketing" and "marketing " are marketing (they counted as no consent, unlike
        Consent.allows and trigger rules), and a revocation without a purpose revokes it."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b", "c", "c", "d"],
            timestamp=["2024-01-01T00:00Z"] * 3 + ["2024-01-02T00:00Z", "2024-01-01T00:00Z"],
            kind=["consent_granted"] * 3 + ["consent_revoked", "consent_granted"],
            purpose=["Marketing", "marketing ", "marketing", None, "service"],
        )
        t = CustomerTable.from_log(log, as_of="2024-02-01T00:00Z")
        assert t.column("consent_marketing").tolist() == [True, True, False, False]
