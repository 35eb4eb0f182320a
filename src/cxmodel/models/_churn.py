"""Churn risk for every customer: features from the log, Cox or discrete-time hazard scoring,
per-customer reasons in words, and a time-split validation against BG/NBD P(alive).

Churn within a horizon means no customer-initiated activity in (as_of, as_of + horizon]. The
models estimate the time from a snapshot to the customer's next activity; the churn risk is the
probability that it does not come within the horizon, S(horizon | features). They are trained
on the snapshot one horizon before ``as_of`` (whose outcome the log already shows) and applied
to the features at ``as_of``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import (
    event_flags,
    finite_values,
    float_array,
    integer,
    interaction_log,
    known_options,
    name_sequence,
    real,
)
from cxmodel._pieces import silenced, warn
from cxmodel._result import Result
from cxmodel._sums import grouped_sums
from cxmodel._time import MAX_DURATION_DAYS, US_PER_DAY, TimeLike, as_of_us, duration_to_us, to_us
from cxmodel.errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    DataWarning,
    SchemaError,
)
from cxmodel.log import InteractionLog
from cxmodel.log._observed import check_as_of, first_time, warn_after_data
from cxmodel.models._base import FloatArray
from cxmodel.models._betageo import BetaGeo
from cxmodel.models._churn_extras import ExtraFeatures, extra_reason
from cxmodel.models._cox import CoxPH
from cxmodel.models._hazard import DiscreteHazard
from cxmodel.models._rfm import summarise_purchases

__all__ = [
    "ACTIVITY_KINDS",
    "ChurnRisk",
    "ChurnValidation",
    "auc_score",
    "churn_features",
    "churn_risk",
    "validate_churn",
]

#: Customer-initiated standard kinds: the activity whose absence is churn. Business-initiated
#: rows (emails and pushes sent, deliveries, agent replies and resolutions, survey invitations
#: answered later) are left out, since they continue after a customer has gone.
ACTIVITY_KINDS: tuple[str, ...] = (
    "view",
    "product_view",
    "search",
    "add_to_cart",
    "checkout",
    "purchase",
    "return",
    "ticket_opened",
    "call",
    "chat",
    "email_opened",
    "email_clicked",
    "push_opened",
    "signup",
    "login",
)

_TRUE_WORDS = {"yes", "y", "true", "t", "1", "late"}

# feature -> (description, phrase for a reason; {v} is the customer's value)
_FEATURES: dict[str, tuple[str, str]] = {
    "days_since_activity": ("days since the last activity", "no activity for {v:.0f} days"),
    "days_since_purchase": (
        "days since the last purchase (tenure for never-buyers)",
        "last purchase {v:.0f} days ago",
    ),
    "never_bought": ("1 if the customer never bought", "never bought"),
    "log_purchases": ("log(1 + purchases)", "few purchases ({n:.0f})"),
    "log_spend": ("log(1 + total purchase value)", "low spend ({m:.2f})"),
    "tenure_days": ("days since the first interaction", "customer for {v:.0f} days"),
    "log_recent_activity": (
        "log(1 + activity rows in the horizon before as_of)",
        "little recent activity ({n:.0f} interactions in the last {h:.0f} days)",
    ),
    "tickets": ("support tickets opened", "{v:.0f} support tickets"),
    "open_tickets": ("tickets without a ticket_resolved row", "{v:.0f} unresolved tickets"),
    "late_deliveries": ("late deliveries", "{v:.0f} late deliveries"),
    "last_nps": ("latest NPS answer (mean where none)", "last NPS {v:.0f}"),
    "last_csat": ("latest CSAT answer (mean where none)", "last CSAT {v:.0f}"),
    "p_alive": (
        "BG/NBD P(alive), weeks (buyers' mean for never-buyers)",
        "low BG/NBD P(alive) ({v:.2f})",
    ),
}


def _checked(horizon: Any, activity: Any, where: str) -> tuple[Any, tuple[str, ...] | None]:
    """``horizon`` (a number of days must be finite, positive and at most 100 years, as a
    duration is) and ``activity`` (kind names or None)."""
    if isinstance(horizon, (int, float)) and not isinstance(horizon, bool):
        horizon = real(horizon, where, "horizon")
        if not 0 < horizon <= MAX_DURATION_DAYS:
            raise SchemaError(
                f"{where}: horizon={horizon!r} days; expected a number of days in "
                f"(0, {MAX_DURATION_DAYS}] (100 years), or a duration such as '90 days'"
            )
    if activity is None:
        return horizon, None
    return horizon, name_sequence(activity, where, "activity", at_least_one=True)


def _days(duration: Any) -> float:
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        return float(duration)
    return duration_to_us(duration) / US_PER_DAY


@attrs.frozen(eq=False)
class _Features:
    customer_id: npt.NDArray[np.object_]
    names: tuple[str, ...]
    X: FloatArray  # customers x features
    raw: dict[str, FloatArray]  # unimputed values for the reasons
    imputed: dict[str, npt.NDArray[np.bool_]]


class _Builder:
    """Per-customer features from the rows at or before ``data_end``, measured at a clock.

    The clock may be later than ``data_end`` (projecting a customer who stays silent): times
    since events grow, counts stay.
    """

    def __init__(
        self,
        log: InteractionLog,
        data_end: int,
        horizon_us: int,
        activity: Sequence[str],
        customers: npt.NDArray[np.object_],
        p_alive_model: BetaGeo | bool | None,
        extras: ExtraFeatures | None = None,
    ) -> None:
        self.customers = customers
        self.extra = None if extras is None else extras.columns(log, customers, data_end)
        kept = log.filter(log.timestamps <= data_end) if log.timestamps.max() > data_end else log
        n = customers.size
        self.data_end = data_end
        idx = np.minimum(np.searchsorted(customers, kept.customers), max(n - 1, 0))
        known = customers[idx] == kept.customers if n else np.zeros(kept.n_customers, bool)
        if not known.all():  # customers who arrived after the snapshot are not scored here
            kept = kept.filter(known[kept.customer_codes])
            idx = idx[known]
        codes = idx[kept.customer_codes.astype(np.intp)]
        ts = kept.timestamps
        self.seen = np.zeros(n, dtype=bool)
        self.seen[codes] = True
        self.first = np.full(n, data_end, dtype=np.int64)
        np.minimum.at(self.first, codes, ts)
        act = kept.kind_mask(*activity)
        self.last_act = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(self.last_act, codes[act], ts[act])
        self.horizon_us = horizon_us
        self.act_codes = codes[act]
        self.act_times = ts[act]
        self.recent = self._recent(data_end)
        buy = kept.kind_mask("purchase")
        self.purchases = np.bincount(codes[buy], minlength=n).astype(np.float64)
        value = (
            np.nan_to_num(kept.numeric("value"))
            if "value" in kept.schema and kept.schema["value"] == "float"
            else np.zeros(len(kept))
        )
        self.spend = grouped_sums(
            codes[buy],
            value[buy],
            n,
            column="value",
            where="churn_features()",
            names=kept.customers,
        )
        self.last_buy = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(self.last_buy, codes[buy], ts[buy])
        opened = kept.kind_mask("ticket_opened")
        resolved = kept.kind_mask("ticket_resolved")
        self.tickets = np.bincount(codes[opened], minlength=n).astype(np.float64)
        self.open_tickets = self._open_tickets(kept, codes, opened, resolved, n)
        self.late = self._late(kept, codes, n)
        self.last_nps, self.last_csat = self._surveys(kept, codes, n)
        self.model = p_alive_model
        self.rfm: Any = None
        self.buy_log: InteractionLog | None = None
        if self.model is not False and buy.any():
            self.buy_log = kept.filter(buy)
        else:
            self.buy_log = None

    def _recent(self, clock: int) -> FloatArray:
        """Activity rows in the horizon before ``clock`` (only rows up to data_end exist)."""
        rows = self.act_times > clock - self.horizon_us
        return np.bincount(self.act_codes[rows], minlength=self.customers.size).astype(np.float64)

    @staticmethod
    def _open_tickets(
        log: InteractionLog,
        codes: npt.NDArray[np.intp],
        opened: npt.NDArray[np.bool_],
        resolved: npt.NDArray[np.bool_],
        n: int,
    ) -> FloatArray:
        if "ticket_id" in log.schema and log.schema["ticket_id"] == "string":
            tcodes, tcats = log.categorical("ticket_id")
            width = np.int64(tcats.shape[0] + 1)
            key = codes.astype(np.int64) * width + (tcodes.astype(np.int64) + 1)
            open_keys = np.unique(key[opened & (tcodes >= 0)])
            done = np.unique(key[resolved & (tcodes >= 0)])
            still = open_keys[~np.isin(open_keys, done)]
            return np.bincount((still // width).astype(np.intp), minlength=n).astype(np.float64)
        total = np.bincount(codes[opened], minlength=n) - np.bincount(codes[resolved], minlength=n)
        out: FloatArray = np.maximum(total, 0).astype(np.float64)
        return out

    @staticmethod
    def _late(log: InteractionLog, codes: npt.NDArray[np.intp], n: int) -> FloatArray | None:
        """Late deliveries: ``delivery`` rows with a true ``late`` flag or a positive delay."""
        if "delivery" not in set(log.kinds.tolist()):
            return None
        rows = log.kind_mask("delivery")
        schema = log.schema
        late = np.zeros(len(log), dtype=bool)
        found = False
        if "late" in schema:
            found = True
            if schema["late"] == "string":
                lcodes, lcats = log.categorical("late")
                truthy = np.array([str(c).strip().lower() in _TRUE_WORDS for c in lcats])
                late |= (lcodes >= 0) & truthy[np.maximum(lcodes, 0)] if lcats.size else False
            elif schema["late"] in ("float", "bool"):  # a delay, or a true/false flag
                late |= np.nan_to_num(log.numeric("late")) > 0
        for name in ("delay", "delivery_delay_days", "delay_days"):
            if name in schema and schema[name] == "float":
                found = True
                late |= np.nan_to_num(log.numeric(name)) > 0
        if not found:
            return None
        return np.bincount(codes[rows & late], minlength=n).astype(np.float64)

    @staticmethod
    def _surveys(
        log: InteractionLog, codes: npt.NDArray[np.intp], n: int
    ) -> tuple[FloatArray, FloatArray]:
        out = [np.full(n, np.nan), np.full(n, np.nan)]
        if not ("metric" in log.schema and "score" in log.schema):
            return out[0], out[1]
        if log.schema["metric"] != "string" or log.schema["score"] != "float":
            return out[0], out[1]
        mcodes, mcats = log.categorical("metric")
        score = log.numeric("score")
        base = log.kind_mask("survey") & ~np.isnan(score)
        for j, metric in enumerate(("nps", "csat")):
            hit = np.flatnonzero(mcats == metric)
            if not hit.size:
                continue
            rows = base & (mcodes == hit[0])
            # rows are in time order within a customer: the last write wins
            out[j][codes[rows]] = score[rows]
        return out[0], out[1]

    def p_alive(self, clock: int) -> tuple[FloatArray, BetaGeo | None]:
        """BG/NBD P(alive) at ``clock`` (weeks), NaN for never-buyers; None if not fitted.

        A fit that ran off towards a limit the purchases do not determine (drop-out the same
        for every customer, say) is kept: its P(alive) is that of the limit. One that stopped
        short of a maximum for another reason is not.
        """
        n = self.customers.size
        out = np.full(n, np.nan)
        if self.buy_log is None:
            return out, None
        summary = summarise_purchases(
            self.buy_log, as_of=np.datetime64(clock, "us"), freq="W", kind="purchase", value="value"
        )  # churn_risk says itself when the clock is after the data
        idx = np.searchsorted(self.customers, summary.customer_id)
        model = self.model
        if model is None or model is True:
            try:
                with silenced(ConvergenceWarning):
                    model = BetaGeo()
                    model.fit(summary)
            except (ConvergenceError, DataError):
                return out, None
            assert model.convergence_ is not None
            if not (model.convergence_.converged or model.convergence_.unbounded):
                return out, None
            self.model = model
        assert isinstance(model, BetaGeo)
        out[idx] = model.probability_alive(summary.frequency, summary.recency, summary.T)
        return out, model

    def at(self, clock: int, horizon_days: float) -> _Features:
        """The features measured at ``clock`` (>= data_end)."""
        day = float(US_PER_DAY)
        tenure = (clock - self.first) / day
        since_act = np.where(
            self.last_act > np.iinfo(np.int64).min, (clock - self.last_act) / day, tenure
        )
        recent = self.recent if clock == self.data_end else self._recent(clock)
        bought = self.purchases > 0
        since_buy = np.where(bought, (clock - self.last_buy) / day, tenure)
        cols: dict[str, FloatArray] = {
            "days_since_activity": since_act,
            "days_since_purchase": since_buy,
            "never_bought": (~bought).astype(np.float64),
            "log_purchases": np.log1p(self.purchases),
            "log_spend": np.log1p(np.maximum(self.spend, 0.0)),
            "tenure_days": tenure,
            "log_recent_activity": np.log1p(recent),
            "tickets": self.tickets,
            "open_tickets": self.open_tickets,
        }
        if self.late is not None:
            cols["late_deliveries"] = self.late
        imputed: dict[str, npt.NDArray[np.bool_]] = {}
        raw: dict[str, FloatArray] = {
            "purchases": self.purchases,
            "spend": self.spend,
            "recent": recent,
        }
        for name, values in (("last_nps", self.last_nps), ("last_csat", self.last_csat)):
            missing = np.isnan(values)
            if missing.all():
                continue
            imputed[name] = missing
            raw[name] = values
            cols[name] = np.where(missing, np.nanmean(values), values)
        if self.model is not False:
            pa, _ = self.p_alive(clock)
            missing = np.isnan(pa)
            if not missing.all():
                imputed["p_alive"] = missing
                raw["p_alive"] = pa
                cols["p_alive"] = np.where(missing, np.nanmean(pa), pa)
        if self.extra is not None:  # traits and usage counts: fixed after data_end
            extra_cols, extra_raw, extra_imputed = self.extra
            cols.update(extra_cols)
            raw.update(extra_raw)
            imputed.update(extra_imputed)
        for name, values in cols.items():
            raw.setdefault(name, values)
        names = tuple(cols)
        X = np.column_stack([cols[k] for k in names])
        return _Features(self.customers, names, X, raw, imputed)


def churn_features(
    log: InteractionLog,
    *,
    as_of: TimeLike,
    horizon: Any = "90 days",
    activity: Sequence[str] | None = None,
    p_alive: bool = True,
    traits: Any = None,
    usage: Any = None,
) -> dict[str, Any]:
    """The churn features of every customer seen at or before ``as_of``, as columns.

    Columns: ``customer_id``, ``days_since_activity``, ``days_since_purchase`` (tenure for
    never-buyers), ``never_bought``, ``log_purchases``, ``log_spend``, ``tenure_days``,
    ``log_recent_activity`` (activity rows in the ``horizon`` before ``as_of``), ``tickets``,
    ``open_tickets``, ``late_deliveries`` (when the log has ``delivery`` rows with a ``late``
    flag or a ``delay``/``delivery_delay_days`` column), ``last_nps`` and ``last_csat`` (when
    any were answered; the mean where a customer has none) and ``p_alive`` (BG/NBD fitted in
    weeks on the purchases; the buyers' mean for never-buyers). With ``traits`` (as
    :meth:`cxmodel.log.CustomerTable.from_log` takes them) each number or boolean trait is a
    feature (the mean where missing) and each value of a text trait but the most common one
    an indicator ``plan=pro``; with ``usage`` (kinds, or names of kinds or row masks) each
    count is ``log_<name>`` = log(1 + rows at or before ``as_of``).

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    as_of : time-like
        Snapshot time (with an offset, or UTC): rows after it are not seen.
    horizon : duration or number of days, default "90 days"
        The window before ``as_of`` of ``log_recent_activity``.
    activity : sequence of str, optional
        Kinds that count as the customer being there; default the customer-initiated standard
        kinds (:data:`ACTIVITY_KINDS`).
    p_alive : bool, default True
        Include the BG/NBD P(alive) feature (one BG/NBD fit).
    traits : Customer objects or a table, optional
        Customer traits, as :meth:`cxmodel.log.CustomerTable.from_log` takes them.
    usage : sequence of str or mapping of row masks, optional
        Kinds (or named row masks) whose counts become ``log_<name>`` features.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "b"], kind=["signup", "purchase", "signup"],
    ...     timestamp=["2024-01-01T00:00Z", "2024-01-11T00:00Z", "2024-02-01T00:00Z"])
    >>> f = churn_features(log, as_of="2024-03-01T00:00Z", p_alive=False)
    >>> f["customer_id"].tolist(), f["days_since_activity"].tolist(), f["never_bought"].tolist()
    (['a', 'b'], [50.0, 29.0], [0.0, 1.0])
    """
    log = interaction_log(log, "churn_features()")
    horizon, activity = _checked(horizon, activity, "churn_features()")
    cutoff = as_of_us(as_of)
    check_as_of(first_time(log), cutoff, caller="churn_features()")
    kinds = _activity(log, activity)
    seen = log.timestamps <= cutoff
    customers = np.unique(log.customer_codes[seen])
    builder = _Builder(
        log,
        cutoff,
        duration_to_us_any(horizon),
        kinds,
        log.customers[customers],
        None if p_alive else False,
        ExtraFeatures.build(log, traits, usage, tuple(_FEATURES)),
    )
    feats = builder.at(cutoff, _days(horizon))
    return {
        "customer_id": feats.customer_id,
        **{n: feats.X[:, j] for j, n in enumerate(feats.names)},
    }


def duration_to_us_any(duration: Any) -> int:
    """A horizon as microseconds: a duration string ("90 days") or a number of days."""
    return round(_days(duration) * US_PER_DAY)


def _activity(log: InteractionLog, activity: Sequence[str] | None) -> tuple[str, ...]:
    if activity is None:
        kcodes, kcats = log.categorical("kind")
        present = set(kcats[np.unique(kcodes[kcodes >= 0])].tolist())
        kinds = tuple(k for k in ACTIVITY_KINDS if k in present)
        if not kinds:
            raise DataError(
                "the log has none of the customer-initiated kinds "
                f"{list(ACTIVITY_KINDS)}; pass activity= with the kinds that show a customer "
                "is still there"
            )
        return kinds
    kinds = tuple(activity)
    log.kind_mask(*kinds)  # typo check
    return kinds


def auc_score(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Area under the ROC curve by the Mann-Whitney U statistic (ties count one half).

    AUC = (R1 - n1 (n1 + 1) / 2) / (n1 n0), R1 the sum of the midranks of the positives:
    the probability that a random positive scores above a random negative. ``labels`` are
    booleans or 0/1 and ``scores`` finite numbers; anything else is a
    :class:`~cxmodel.errors.SchemaError` naming the first bad one.

    Warns
    -----
    DataWarning
        Without both a positive and a negative label: the AUC is then NaN.

    Examples
    --------
    >>> auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> auc_score([0, 1, 0, 1], [1, 1, 1, 1])
    0.5
    """
    where = "auc_score()"
    y = event_flags(labels, where, "labels")
    s = finite_values(float_array(scores, where, "scores").reshape(-1), where, "scores")
    if y.shape != s.shape:
        raise SchemaError("labels and scores must have the same length")
    if y.all() or not y.any():
        held = f"every one of the {y.size:,} labels is {int(y[0])}" if y.size else "no labels"
        warn(
            f"auc_score(): {held}, so no positive can be ranked against a negative and the "
            "AUC is NaN",
            DataWarning,
        )
    return _auc(y, s)


def _auc(y: npt.NDArray[np.bool_], s: FloatArray) -> float:
    """The AUC of :func:`auc_score` without its checks; NaN without both classes."""
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    order = np.argsort(s, kind="stable")
    sorted_s = s[order]
    new = np.r_[True, sorted_s[1:] != sorted_s[:-1]]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], s.size]
    mid = (starts + ends + 1) / 2.0  # average 1-based rank of each tie block
    ranks = np.empty(s.size)
    ranks[order] = np.repeat(mid, ends - starts)
    r1 = float(ranks[y].sum())
    return (r1 - n1 * (n1 + 1) / 2.0) / (n1 * n0)


@attrs.frozen(eq=False, repr=False)
class ChurnRisk(Result):
    """Churn risk of every customer: P(no activity in the horizon after ``as_of``).

    Attributes
    ----------
    customer_id : ndarray of object
        Customers seen at or before ``as_of``, sorted.
    risk : ndarray of float
        Probability of churning (no customer-initiated activity) within the horizon.
    reasons : tuple of tuple of str
        Per customer, up to three features that raise the risk most, in words.
    features : dict of str to ndarray
        The features the model used, unstandardised.
    model : CoxPH or DiscreteHazard
        The fitted model (on standardised features; see ``feature_means``/``feature_scales``).
    """

    customer_id: npt.NDArray[np.object_]
    risk: FloatArray
    reasons: tuple[tuple[str, ...], ...]
    features: dict[str, FloatArray]
    as_of: np.datetime64
    horizon_days: float
    model_name: str
    model: Any = attrs.field(repr=False)
    feature_means: FloatArray = attrs.field(repr=False)
    feature_scales: FloatArray = attrs.field(repr=False)
    training_churn_rate: float = 0.0
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.customer_id.size)

    def _rows(self) -> dict[Any, Any]:
        """Columns: customer_id, risk, reasons (joined with "; ") and the features."""
        return {
            "customer_id": self.customer_id,
            "risk": self.risk,
            "reasons": np.array(["; ".join(r) for r in self.reasons], dtype=object),
            **self.features,
        }

    def _preview(self, limit: int) -> tuple[dict[Any, Any], int] | None:
        """The customers most at risk first."""
        return self.top(limit)._rows(), len(self)

    def _summary(self, n_rows: int | None) -> str:
        mean = float(np.mean(self.risk)) if len(self) else float("nan")
        return (
            f"ChurnRisk({len(self):,} customers, as_of={self.as_of}, horizon "
            f"{self.horizon_days:g} days, model {self.model_name!r}, mean risk {mean:.3f})"
        )

    def top(self, n: int = 10) -> ChurnRisk:
        """The ``n`` customers most at risk, highest first."""
        order = np.argsort(-self.risk, kind="stable")[: max(int(n), 0)]
        return self._take(order)

    def _take(self, rows: npt.NDArray[np.intp]) -> ChurnRisk:
        return attrs.evolve(
            self,
            customer_id=self.customer_id[rows],
            risk=self.risk[rows],
            reasons=tuple(self.reasons[i] for i in rows),
            features={k: v[rows] for k, v in self.features.items()},
        )

    def customer(self, customer_id: str) -> dict[str, Any]:
        """One customer's risk, reasons and features."""
        pos = np.flatnonzero(self.customer_id == customer_id)
        if not pos.size:
            raise DataError(f"customer {customer_id!r} is not scored")
        i = int(pos[0])
        return {
            "customer_id": customer_id,
            "risk": float(self.risk[i]),
            "reasons": list(self.reasons[i]),
            **{k: float(v[i]) for k, v in self.features.items()},
        }


def _reasons(
    feats: _Features, contribution: FloatArray, horizon_days: float, limit: int = 3
) -> tuple[tuple[str, ...], ...]:
    """Words for the features that raise each customer's risk most (contribution > 0.1)."""
    order = np.argsort(-contribution, axis=1, kind="stable")[:, :limit]
    out: list[tuple[str, ...]] = []
    raw = feats.raw
    for i in range(contribution.shape[0]):
        words: list[str] = []
        for j in order[i]:
            if contribution[i, j] <= 0.1:
                break
            name = feats.names[j]
            if name in feats.imputed and feats.imputed[name][i]:
                continue
            template = _FEATURES[name][1] if name in _FEATURES else extra_reason(name)
            if raw["never_bought"][i] > 0 and name in (
                "days_since_purchase",
                "log_purchases",
                "log_spend",
                "never_bought",
            ):
                template = "never bought"
            if template.split(" (")[0] in [w.split(" (")[0] for w in words]:
                continue
            words.append(
                template.format(
                    v=float(raw[name][i]),
                    n=float(raw["purchases"][i] if name == "log_purchases" else raw["recent"][i]),
                    m=float(raw["spend"][i]),
                    h=horizon_days,
                )
            )
        out.append(tuple(words))
    return tuple(out)


def churn_risk(
    log: InteractionLog,
    *,
    as_of: TimeLike,
    horizon: Any = "90 days",
    model: str = "cox",
    activity: Sequence[str] | None = None,
    periods: int = 3,
    penalizer: float = 0.01,
    p_alive: bool = True,
    traits: Any = None,
    usage: Any = None,
) -> ChurnRisk:
    """Score every customer seen at or before ``as_of`` (buyers and never-buyers) for churn.

    Churn is no customer-initiated activity (``activity``, default the standard
    customer-initiated kinds in :data:`ACTIVITY_KINDS`) in (as_of, as_of + horizon]. The model
    is trained on the snapshot t0 = as_of - horizon: features from the rows at or before t0,
    outcome the time to each customer's next activity in (t0, as_of], censored at the horizon.
    It is then applied to the features at ``as_of``; rows after ``as_of`` are never read. A
    feature equal for every training customer (up to rounding) is left out.

    Parameters
    ----------
    log : InteractionLog
    as_of : time-like
        Scoring time (with an offset, or UTC).
    horizon : duration or number of days
        "90 days", "4w", or a number of days.
    model : {"cox", "discrete"}
        ``"cox"``: :class:`CoxPH` on the time to the next activity (days), risk
        S(horizon | x) with the Breslow baseline. ``"discrete"``: :class:`DiscreteHazard` on
        ``periods`` equal periods of the horizon, with time-varying covariates (each period's
        features recomputed at its start from the rows seen by then), risk prod (1 - h_k) with
        the covariates at ``as_of`` projected forward for a silent customer.
    activity : sequence of str, optional
        Kinds that count as the customer being there.
    periods : int
        Periods of the discrete model.
    penalizer : float
        Ridge penalty on the standardised coefficients (keeps them finite when a feature
        separates the outcome).
    p_alive : bool
        Include the BG/NBD P(alive) feature (one BG/NBD fit per snapshot).
    traits : Customer objects or a table, optional
        Customer traits as features (see :func:`churn_features`); they are the same at every
        snapshot.
    usage : kinds, or a mapping of name to a kind or a row mask, optional
        Usage counts as features, counted up to each snapshot (see :func:`churn_features`).

    Returns
    -------
    ChurnRisk

    Raises
    ------
    DataError
        When no customer came back in (t0, as_of] (nothing to learn; the message names an
        ``as_of`` after the data), or the log has no rows before t0.

    Warns
    -----
    DataWarning
        When ``as_of`` is after the log's last interaction: the training outcome then spans
        time nobody observed, and the warning counts the customers labelled as not coming back.

    Examples
    --------
    >>> import cxmodel as cx
    >>> world = cx.datasets.synthetic(300, seed=1)
    >>> risk = churn_risk(world.log, as_of="2024-10-01T00:00Z", horizon="60 days")
    >>> len(risk), bool(((risk.risk >= 0) & (risk.risk <= 1)).all())
    (212, True)
    >>> top = risk.top(3)
    >>> top.risk.round(3).tolist()
    [0.998, 0.997, 0.997]
    >>> top.reasons[0]
    ('no activity for 212 days', 'customer for 267 days', 'never bought')
    """
    log = interaction_log(log, "churn_risk()")
    horizon, activity = _checked(horizon, activity, "churn_risk()")
    periods = integer(periods, "churn_risk()", "periods", minimum=1)
    penalizer = real(penalizer, "churn_risk()", "penalizer")
    if model not in ("cox", "discrete"):
        raise SchemaError(f"model must be 'cox' or 'discrete', got {model!r}")
    cutoff = as_of_us(as_of)
    check_as_of(first_time(log), cutoff, caller="churn_risk()")
    h_us = duration_to_us_any(horizon)
    h_days = h_us / US_PER_DAY
    if h_us <= 0:
        raise SchemaError(f"horizon must be positive, got {horizon!r}")
    kinds = _activity(log, activity)
    t0 = cutoff - h_us
    if len(log) == 0 or int(log.timestamps.min()) > t0:
        raise DataError(
            f"churn_risk() trains on the customers seen one horizon ({h_days:g} days) before "
            "as_of; the log has no rows that early: use a later as_of or a shorter horizon"
        )
    ts = log.timestamps
    codes = log.customer_codes.astype(np.intp)
    train_ids = log.customers[np.unique(codes[ts <= t0])]
    score_ids = log.customers[np.unique(codes[ts <= cutoff])]
    # outcome of the training snapshot: first activity in (t0, as_of]
    act = log.kind_mask(*kinds) & (ts > t0) & (ts <= cutoff)
    first_next = np.full(log.n_customers, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_next, codes[act], ts[act])
    nxt = first_next[np.searchsorted(log.customers, train_ids)]
    returned = nxt <= cutoff
    _check_training_outcome(log, returned, cutoff, h_days)
    wait_days = np.where(returned, (nxt - t0) / US_PER_DAY, h_days)
    notes: list[str] = []
    extras = ExtraFeatures.build(log, traits, usage, tuple(_FEATURES))
    train_builder = _Builder(log, t0, h_us, kinds, train_ids, None if p_alive else False, extras)
    train = train_builder.at(t0, h_days)
    if p_alive and "p_alive" not in train.names:
        notes.append("BG/NBD P(alive) left out: no purchases or the BG/NBD fit failed")
    names = train.names
    mean = train.X.mean(axis=0)
    scale = train.X.std(axis=0)
    # a feature equal for every customer has a standard deviation of rounding error (1e-16),
    # not 0: standardising by it would scale the scoring values by 1e16
    keep = scale > 1e-9 * np.maximum(np.abs(mean), 1e-12)
    names = tuple(n for n, k in zip(names, keep) if k)
    mean, scale = mean[keep], scale[keep]

    def standard(f: _Features) -> FloatArray:
        cols = [f.names.index(n) for n in names]
        out: FloatArray = (f.X[:, cols] - mean) / scale
        return out

    # the BG/NBD model fitted at t0 also gives P(alive) at as_of (same parameters, histories to
    # as_of), so training and scoring features share one scale
    score_builder = _Builder(
        log, cutoff, h_us, kinds, score_ids, train_builder.model if p_alive else False, extras
    )
    if p_alive and not isinstance(train_builder.model, BetaGeo):
        score_builder.model = False
    score = score_builder.at(cutoff, h_days)
    missing = [n for n in names if n not in score.names]
    if missing:
        raise DataError(f"features {missing} could not be computed at as_of")
    x_score = standard(score)
    fitted: CoxPH | DiscreteHazard
    with silenced(ConvergenceWarning):
        if model == "cox":
            fitted = CoxPH(penalizer=penalizer).fit(
                standard(train), wait_days, returned, names=names
            )
            risk = fitted.predict_survival_function(x_score, times=[h_days])[:, 0]
            coef = fitted.coef_
            assert coef is not None
            contribution = -(x_score * coef)
        else:
            fitted, risk, contribution = _discrete(
                log,
                kinds,
                h_us,
                int(periods),
                t0,
                cutoff,
                train_ids,
                nxt,
                train_builder,
                score_builder,
                standard,
                names,
                penalizer,
                extras,
            )
    return ChurnRisk(
        customer_id=np.asarray(score_ids, dtype=object),
        risk=np.clip(risk, 0.0, 1.0),
        reasons=_reasons(_subset(score, names), contribution, h_days),
        features={n: score.X[:, score.names.index(n)] for n in names},
        as_of=np.datetime64(cutoff, "us"),
        horizon_days=h_days,
        model_name=model,
        model=fitted,
        feature_means=mean,
        feature_scales=scale,
        training_churn_rate=float(np.mean(~returned)),
        notes=tuple(notes),
    )


def _check_training_outcome(
    log: InteractionLog, returned: npt.NDArray[np.bool_], cutoff: int, h_days: float
) -> None:
    """Refuse a training snapshot in which no customer came back (nothing to learn from,
    most often an ``as_of`` after the data); warn when the horizon before ``as_of`` runs past
    the log's last interaction, counting the customers labelled as not coming back."""
    until = log.observed_until
    after = until is not None and cutoff > until
    if not returned.any():
        why = (
            f"; as_of is {(cutoff - until) / US_PER_DAY:,.1f} days after the log's last "
            "interaction, so that span holds nobody: pass an as_of within the data"
            if after and until is not None
            else ": a longer horizon or other activity kinds may help"
        )
        raise DataError(
            f"churn_risk(): none of the {returned.size} customers seen one horizon "
            f"({h_days:g} days) before as_of was active again by as_of, so the model has "
            f"nothing to learn from{why}"
        )
    if after and not returned.all():
        warn_after_data(
            until,
            cutoff,
            f"{int((~returned).sum())} of the {returned.size} training customers are labelled "
            "as not coming back, over a horizon that includes it",
            caller="churn_risk()",
        )


def _subset(f: _Features, names: tuple[str, ...]) -> _Features:
    cols = [f.names.index(n) for n in names]
    return _Features(f.customer_id, names, f.X[:, cols], f.raw, f.imputed)


def _discrete(
    log: InteractionLog,
    kinds: tuple[str, ...],
    h_us: int,
    periods: int,
    t0: int,
    cutoff: int,
    train_ids: npt.NDArray[np.object_],
    nxt: npt.NDArray[np.int64],
    train_builder: _Builder,
    score_builder: _Builder,
    standard: Any,
    names: tuple[str, ...],
    penalizer: float,
    extras: ExtraFeatures | None = None,
) -> tuple[DiscreteHazard, FloatArray, FloatArray]:
    """Person-period expansion of the training snapshot, the fit and the projected risk."""
    step = h_us // periods
    rows_x: list[FloatArray] = []
    rows_y: list[FloatArray] = []
    rows_k: list[npt.NDArray[np.intp]] = []
    bg = train_builder.model if isinstance(train_builder.model, BetaGeo) else False
    h_days = h_us / US_PER_DAY
    for k in range(periods):
        start = t0 + k * step
        end = t0 + (k + 1) * step if k < periods - 1 else cutoff
        at_risk = nxt > start  # no activity yet in (t0, start]
        if not at_risk.any():
            break
        # time-varying covariates: the rows seen by the start of the period
        builder = (
            train_builder
            if k == 0
            else _Builder(
                log,
                start,
                h_us,
                kinds,
                train_ids,
                bg if "p_alive" in names else False,
                extras,
            )
        )
        feats = builder.at(start, h_days)
        rows_x.append(standard(feats)[at_risk])
        rows_y.append((nxt[at_risk] <= end).astype(np.float64))
        rows_k.append(np.full(int(at_risk.sum()), k, dtype=np.intp))
    fitted = DiscreteHazard(penalizer=penalizer).fit(
        np.vstack(rows_x), np.concatenate(rows_y), periods=np.concatenate(rows_k), names=names
    )
    # score: covariates at as_of, projected for a customer who stays silent
    x_now = standard(score_builder.at(cutoff, h_days))
    projected = [x_now] + [
        standard(score_builder.at(cutoff + k * step, h_days)) for k in range(1, fitted.n_periods_)
    ]
    surv = fitted.predict_survival(np.stack(projected, axis=1))
    coef = fitted.coef_
    assert coef is not None
    return fitted, surv[:, -1], -(x_now * coef)


@attrs.frozen(eq=False, repr=False)
class ChurnValidation(Result):
    """Time-split validation of :func:`churn_risk`.

    Attributes
    ----------
    auc : float
        Mann-Whitney AUC of the churn risk on the active customers (activity in the horizon
        before the split), buyers and never-buyers.
    auc_buyers : float
        The same on active customers with a purchase.
    auc_p_alive_buyers : float
        AUC of 1 - BG/NBD P(alive) on the same active buyers.
    auc_p_alive : float
        AUC of 1 - P(alive) on all active customers, never-buyers at P(alive) = 1 (BG/NBD has
        no answer for them; this is the baseline's ranking when extended as is).
    auc_all : float
        AUC of the churn risk on every scored customer (including long-silent ones).
    churn_rate, n_active, n_active_buyers : float, int, int
    brier : float
        Mean squared error of the risk on the active customers.
    calibration : dict of str to ndarray
        Deciles of predicted risk on the active customers: ``decile``, ``n``, ``predicted``
        (mean risk) and ``observed`` (churn rate).
    risk : ChurnRisk
        The scores at the split.
    churned : ndarray of bool
        Per scored customer: no activity in (split, split + horizon].
    """

    auc: float
    auc_buyers: float
    auc_p_alive_buyers: float
    auc_p_alive: float
    auc_all: float
    churn_rate: float
    n_active: int
    n_active_buyers: int
    brier: float
    calibration: dict[str, npt.NDArray[Any]] = attrs.field(repr=False)
    risk: ChurnRisk = attrs.field(repr=False)
    churned: npt.NDArray[np.bool_] = attrs.field(repr=False)

    _dict_rows_key = "calibration"  # to_dict: the figures, and the calibration table as lists
    _dict_lists = True

    def _rows(self) -> dict[Any, Any]:
        """The calibration table, one row per decile."""
        return dict(self.calibration)


def calibration_table(
    churned: npt.ArrayLike, risk: npt.ArrayLike, bins: int = 10
) -> dict[str, npt.NDArray[Any]]:
    """Reliability table: customers split into ``bins`` equal-count groups by predicted risk."""
    y = np.asarray(churned, dtype=np.float64)
    p = np.asarray(risk, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, bins) if p.size else []
    used = [g for g in groups if g.size]
    return {
        "decile": np.arange(1, len(used) + 1),
        "n": np.array([g.size for g in used], dtype=np.int64),
        "predicted": np.array([p[g].mean() for g in used]),
        "observed": np.array([y[g].mean() for g in used]),
    }


def validate_churn(
    log: InteractionLog,
    *,
    split: Any,
    horizon: Any = "90 days",
    model: str = "cox",
    activity: Sequence[str] | None = None,
    **options: Any,
) -> ChurnValidation:
    """Score at ``split`` from the rows up to it and check against (split, split + horizon].

    The scores come from :func:`churn_risk` on the log cut at ``split`` (nothing after it is
    visible to the model); the outcome is whether each customer had customer-initiated
    activity in the horizon after the split. ``options`` go to :func:`churn_risk`; row masks
    in ``usage`` are masks of ``log`` and are cut at the split with it. AUCs are Mann-Whitney (:func:`auc_score`); the
    baseline is 1 - BG/NBD P(alive) fitted on the same purchases (weeks).

    Parameters
    ----------
    log : InteractionLog
        The interaction log; it must reach ``split + horizon``.
    split : time-like
        Scoring time: the model sees only the rows up to it.
    horizon : duration or number of days, default "90 days"
        The window after ``split`` in which activity means the customer stayed.
    model : {"cox", "discrete"}, default "cox"
        As in :func:`churn_risk`.
    activity : sequence of str, optional
        Kinds that count as the customer being there; default the customer-initiated standard
        kinds (:data:`ACTIVITY_KINDS`).
    **options
        Passed to :func:`churn_risk` (``periods``, ``penalizer``, ``p_alive``).

    Raises
    ------
    DataError
        When the log ends before split + horizon (the outcome would be cut short).
    """
    log = interaction_log(log, "validate_churn()")
    horizon, activity = _checked(horizon, activity, "validate_churn()")
    cutoff = to_us(split, what="split")
    h_us = duration_to_us_any(horizon)
    if len(log) == 0 or int(log.timestamps.max()) < cutoff + h_us:
        raise DataError(
            "validate_churn() needs the log to run at least one horizon past the split; "
            f"it ends at {np.datetime64(int(log.timestamps.max()), 'us') if len(log) else None}"
        )
    known_options(
        options,
        churn_risk,
        "validate_churn()",
        set_here=["log", "as_of", "horizon", "model", "activity"],
    )
    kinds = _activity(log, activity)
    seen = log.timestamps <= cutoff
    past = log.filter(seen)
    usage = options.get("usage")
    if isinstance(usage, Mapping):  # row masks of the whole log: keep the rows up to the split
        options["usage"] = {
            name: spec if isinstance(spec, str) or np.shape(spec) != seen.shape
            else np.asarray(spec)[seen]
            for name, spec in usage.items()
        }  # fmt: skip
    risk = churn_risk(past, as_of=split, horizon=horizon, model=model, activity=kinds, **options)
    ts = log.timestamps
    codes = log.customer_codes.astype(np.intp)
    act = log.kind_mask(*kinds)
    future = act & (ts > cutoff) & (ts <= cutoff + h_us)
    came_back = np.zeros(log.n_customers, dtype=bool)
    came_back[codes[future]] = True
    recent = act & (ts > cutoff - h_us) & (ts <= cutoff)
    was_active = np.zeros(log.n_customers, dtype=bool)
    was_active[codes[recent]] = True
    idx = np.searchsorted(log.customers, risk.customer_id)
    churned = ~came_back[idx]
    active = was_active[idx]
    bought = risk.features.get("never_bought", np.zeros(len(risk))) == 0
    # baseline: BG/NBD P(alive) on the purchases up to the split
    p_alive = np.ones(len(risk))
    buys = past.kind_mask("purchase")
    if buys.any():
        summary = summarise_purchases(
            past.filter(buys),
            as_of=np.datetime64(cutoff, "us"),
            freq="W",
            kind="purchase",
            value="value",
        )
        with silenced(ConvergenceWarning):
            bg = BetaGeo()
            bg.fit(summary)
        where = np.searchsorted(risk.customer_id, summary.customer_id)
        p_alive[where] = bg.probability_alive(summary.frequency, summary.recency, summary.T)
        bought = np.zeros(len(risk), dtype=bool)
        bought[where] = True
    ab = active & bought
    y, r = churned[active], risk.risk[active]
    return ChurnValidation(
        auc=_auc(y, r),
        auc_buyers=_auc(churned[ab], risk.risk[ab]),
        auc_p_alive_buyers=_auc(churned[ab], 1 - p_alive[ab]),
        auc_p_alive=_auc(y, 1 - p_alive[active]),
        auc_all=_auc(churned, risk.risk),
        churn_rate=float(np.mean(y)) if y.size else float("nan"),
        n_active=int(active.sum()),
        n_active_buyers=int(ab.sum()),
        brier=float(np.mean((r - y) ** 2)) if y.size else float("nan"),
        calibration=calibration_table(y, r),
        risk=risk,
        churned=churned,
    )
