"""One row per customer as of a date: the columnar customer 360 table."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import got, integer, interaction_log, mapping_value, text_value
from cxmodel._pieces import warn, warn_counted
from cxmodel._result import Result, column, columns, plain
from cxmodel._sums import grouped_sums
from cxmodel._time import US_PER_DAY, TimeLike, as_of_us
from cxmodel.errors import DataError, DataWarning, SchemaError, ValueTypeError
from cxmodel.log._observed import check_as_of, first_time, warn_after_data
from cxmodel.log._orders import warn_order_lines
from cxmodel.log._traits import TraitsLike, UsageLike, align_traits, read_traits, usage_masks

if TYPE_CHECKING:
    from cxmodel.domain import Interaction
    from cxmodel.log._log import InteractionLog

__all__ = [
    "CUSTOMER_TABLE_COLUMNS",
    "CustomerTable",
    "customers_past_data",
    "warn_table_after_data",
    "windows_past_data",
]

CUSTOMER_TABLE_COLUMNS: dict[str, str] = {
    "first_seen": "time of the first interaction (datetime64[us], UTC)",
    "last_seen": "time of the last interaction at or before as_of",
    "tenure_days": "days from first_seen to as_of",
    "recency_days": "days from the last purchase to as_of (NaN without purchases)",
    "frequency": "number of purchases (purchase rows: one per order on log.orders())",
    "monetary": "total purchase value (missing values count as 0, with a warning counting them)",
    "aov": "average order value, monetary / frequency (NaN without purchases)",
    "purchases_30d": "purchases in the 30 days up to as_of (as_of - 30 days < t <= as_of)",
    "purchases_90d": "purchases in the 90 days up to as_of",
    "purchases_365d": "purchases in the 365 days up to as_of",
    "returns": "number of 'return' interactions",
    "tickets_total": "number of 'ticket_opened' interactions",
    "tickets_open": "opened tickets without a 'ticket_resolved' row (matched by ticket_id when "
    "the log has one, else opened minus resolved, floored at 0)",
    "tickets_topic_<topic>": "opened tickets per topic, one column per topic seen on "
    "'ticket_opened' rows (only when the log has a 'topic' column)",
    "last_nps": "score of the latest survey with metric 'nps' (NaN if none)",
    "last_csat": "score of the latest survey with metric 'csat' (NaN if none)",
    "last_ces": "score of the latest survey with metric 'ces' (NaN if none)",
    "mean_sentiment": "mean of the 'sentiment' column over the customer's rows (NaN if none)",
    "preferred_channel": "most frequent channel by volume, ties to the alphabetically first "
    "(None without channels; see cxmodel.personalize.preferences for response rates)",
    "consent_marketing": "latest consent_granted / consent_revoked row with purpose 'marketing' "
    "(trimmed, any case; a revocation without a purpose counts too; any purpose when the log "
    "has no purpose column); False without one",
    "<usage>": "with usage=: the customer's rows of a kind (<kind>_count) or of a row mask, "
    "at or before as_of",
    "<trait>": "with traits=: each trait of the customer (text, number or boolean; missing "
    "for customers without it)",
}

_Array = npt.NDArray[Any]


def _last_per_customer(
    codes: npt.NDArray[np.int64], values: _Array, n: int, fill: Any, dtype: Any
) -> _Array:
    """The value on each customer's last selected row (rows sorted by customer then time)."""
    out = np.full(n, fill, dtype=dtype)
    if codes.size:
        is_last = np.ones(codes.shape[0], dtype=bool)
        is_last[:-1] = codes[1:] != codes[:-1]
        out[codes[is_last]] = values[is_last]
    return out


@attrs.frozen(eq=False, repr=False)
class CustomerTable(Result):
    """One row per customer as of a date (columnar: named numpy arrays plus ``customer_id``).

    Build it with :meth:`from_log`; the columns are documented in ``CUSTOMER_TABLE_COLUMNS``.
    ``log`` holds the interactions the table was built from, which :meth:`profile` reads; it is
    ``None`` for a table built on a cluster (``cxmodel.dask.customer_table``).

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "b"],
    ...     timestamp=["2024-01-01T00:00Z", "2024-01-20T00:00Z", "2024-01-05T00:00Z"],
    ...     kind=["purchase", "purchase", "login"], value=[10.0, 30.0, None])
    >>> t = CustomerTable.from_log(log, as_of="2024-01-31T00:00Z")
    >>> t.customer_id.tolist(), t.column("frequency").tolist(), t.column("aov").tolist()
    (['a', 'b'], [2, 0], [20.0, nan])
    """

    customer_id: npt.NDArray[np.object_] = attrs.field(metadata=column())
    data: dict[str, _Array] = attrs.field(repr=False, metadata=columns())
    as_of: int
    log: InteractionLog | None = attrs.field(default=None, repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_log(
        cls,
        log: InteractionLog,
        *,
        as_of: TimeLike,
        models: Mapping[str, Callable[[CustomerTable], npt.ArrayLike]] | None = None,
        traits: TraitsLike | None = None,
        usage: UsageLike | None = None,
    ) -> CustomerTable:
        """Build the table from the interactions at or before ``as_of``.

        Parameters
        ----------
        log : InteractionLog
        as_of : time-like
            Interactions after it are ignored; customers with none at or before it are left out.
        models : mapping of column name to callable, optional
            Extra columns: each callable receives the table and returns one value per customer
            (e.g. ``{"p_alive": lambda t: model.p_alive(...)}``).
        traits : Customer objects or a table, optional
            Traits and demographics (country, plan, age, ...), one column each: from
            :class:`~cxmodel.domain.Customer` objects (their ``traits``), or a table with a
            ``customer_id`` column (a mapping of column name to values, or a pandas/polars
            data frame). A trait holds text (missing: None), numbers (float, missing: NaN) or
            booleans (bool; 1/0 floats with NaN when some customers lack it). Customers of
            the traits that are not in the table are ignored (when none is, a warning says so).
        usage : kinds, or a mapping of column name to a kind or a row mask, optional
            Per-customer counts of rows at or before ``as_of``: each listed kind becomes
            ``<kind>_count`` (``["search"]`` gives ``search_count``); a mapping names its
            columns and may count a boolean mask of the log's rows (late deliveries:
            ``{"late_deliveries": log.kind_mask("delivery") & (log.column("late") == "yes")}``).

        Raises
        ------
        SchemaError
            For a bad ``as_of``, a model returning the wrong number of values, a trait with a
            bad value (naming the customer and the trait) or named like a built-in column, an
            unknown usage kind (with a did-you-mean), a mask of the wrong shape, or a model
            named like a column of the table.

        Warns
        -----
        DataWarning
            When purchases have no ``value`` (the count; they add 0 to ``monetary`` and
            ``aov``), when some purchases are further lines of an order (the count; each counts
            in ``frequency``, ``aov`` and ``purchases_<d>d``: build the table from
            :meth:`~cxmodel.log.InteractionLog.orders`), when ``traits`` name no customer of the table, or when ``as_of`` is after
            the log's :attr:`~cxmodel.log.InteractionLog.observed_until` by 30 days or more and
            purchases the data saw leave the ``purchases_<d>d`` windows (naming the span and
            counting those customers; a log whose export covers ``as_of`` says so with
            :meth:`~cxmodel.log.InteractionLog.with_observed_until`).

        Examples
        --------
        >>> from cxmodel.domain import Customer
        >>> from cxmodel.log import InteractionLog
        >>> log = InteractionLog.from_arrays(
        ...     customer_id=["a", "a", "b"], kind=["search", "search", "login"],
        ...     timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z", "2024-01-05T00:00Z"])
        >>> t = CustomerTable.from_log(log, as_of="2024-01-05T00:00Z", usage=["search"],
        ...     traits=[Customer("a", traits={"plan": "pro"})])
        >>> t.column("search_count").tolist(), t.column("plan").tolist()
        ([2, 0], ['pro', None])
        """
        log = interaction_log(log, "CustomerTable.from_log()")
        models = mapping_value(models, "CustomerTable.from_log()", "models")
        cutoff = as_of_us(as_of)
        check_as_of(first_time(log), cutoff, caller="CustomerTable.from_log()")
        table = cls._of_log(log, cutoff, models, traits, usage)
        until = log.observed_until  # honours with_observed_until
        lost = customers_past_data(log, until, cutoff)
        warn_table_after_data(lost, until, cutoff, caller="CustomerTable.from_log()")
        return table

    @classmethod
    def _of_log(
        cls,
        log: InteractionLog,
        cutoff: int,
        models: Mapping[str, Callable[[CustomerTable], npt.ArrayLike]],
        traits: TraitsLike | None,
        usage: UsageLike | None,
    ) -> CustomerTable:
        """:meth:`from_log` of a checked ``as_of`` (``cutoff``, in microseconds), without the
        warning about an ``as_of`` after the data: a piece of the data (a Dask partition)
        ends before the whole does."""
        visible = log.timestamps <= cutoff
        counted = usage_masks(log, usage) if usage is not None else []
        if not visible.all():
            log = log.filter(visible)
            counted = [(name, mask[visible]) for name, mask in counted]
        n = log.n_customers
        codes = log.customer_codes.astype(np.int64)
        times = log.timestamps
        offsets = log.offsets
        data: dict[str, _Array] = {}
        if n:
            first = times[offsets[:-1]]
            last = times[offsets[1:] - 1]
        else:
            first = last = np.zeros(0, dtype=np.int64)
        data["first_seen"] = first.astype("datetime64[us]")
        data["last_seen"] = last.astype("datetime64[us]")
        data["tenure_days"] = (cutoff - first) / US_PER_DAY
        buy = log.kind_mask("purchase")
        buy_codes = codes[buy]
        frequency = np.bincount(buy_codes, minlength=n)
        value = log.numeric("value") if "value" in log else np.zeros(len(log))
        unpriced = int(np.isnan(value[buy]).sum())
        warn_counted(
            DataWarning,
            "CustomerTable.from_log(): {missing:,} of {rows:,} purchases have no 'value' (NaN); "
            "they count as 0 in monetary and aov",
            missing=unpriced,
            rows=int(buy_codes.shape[0]),
        )
        warn_order_lines(log, np.flatnonzero(buy), caller="CustomerTable.from_log()")
        monetary = grouped_sums(
            buy_codes,
            np.nan_to_num(value[buy]),
            n,
            column="value",
            where="CustomerTable.from_log()",
            names=log.customers,
        )
        last_buy = _last_per_customer(buy_codes, times[buy], n, -1, np.int64)
        data["recency_days"] = np.where(frequency > 0, (cutoff - last_buy) / US_PER_DAY, np.nan)
        data["frequency"] = frequency.astype(np.int64)
        data["monetary"] = monetary
        with np.errstate(invalid="ignore", divide="ignore"):
            data["aov"] = np.where(frequency > 0, monetary / np.maximum(frequency, 1), np.nan)
        for days in (30, 90, 365):
            recent = buy & (times > cutoff - days * US_PER_DAY)
            data[f"purchases_{days}d"] = np.bincount(codes[recent], minlength=n).astype(np.int64)
        data["returns"] = np.bincount(codes[log.kind_mask("return")], minlength=n).astype(np.int64)
        data["tickets_total"], data["tickets_open"] = _tickets(log, codes, n)
        data.update(_tickets_by_topic(log, codes, n))
        _surveys(log, codes, n, data)
        if "sentiment" in log:
            sentiment = log.numeric("sentiment")
            has = ~np.isnan(sentiment)
            total = np.bincount(codes[has], weights=sentiment[has], minlength=n)
            count = np.bincount(codes[has], minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                data["mean_sentiment"] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        else:
            data["mean_sentiment"] = np.full(n, np.nan)
        data["preferred_channel"] = _preferred_channel(log, codes, n)
        data["consent_marketing"] = _consent(log, codes, n)
        for name, mask in counted:
            if name in data:
                raise SchemaError(f"usage {name!r} has the name of a customer table column")
            data[name] = np.bincount(codes[mask], minlength=n).astype(np.int64)
        if traits is not None:
            ids, columns = read_traits(traits, reserved=("customer_id", *data))
            data.update(align_traits(ids, columns, log.customers))
            _warn_no_trait_matches(ids, columns, log.customers)
        table = cls(customer_id=log.customers, data=data, as_of=cutoff, log=log)
        for name, model in models.items():
            if not callable(model):
                raise ValueTypeError(
                    f"CustomerTable.from_log(): models[{name!r}] must be a function of the "
                    f"table returning one value per customer; got {got(model)}"
                )
            if name == "customer_id" or name in data:  # it would replace the column quietly
                raise SchemaError(
                    f"models[{name!r}] has the name of a customer table column; name the model's "
                    "column differently"
                )
            values = np.asarray(model(table))
            if values.shape != (n,):
                raise SchemaError(
                    f"models[{name!r}] returned shape {values.shape}; expected ({n},), one value "
                    "per customer in table order"
                )
            data[name] = values
        return table

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return int(self.customer_id.shape[0])

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, ``customer_id`` first."""
        return ("customer_id", *self.data)

    def column(self, name: str) -> _Array:
        """One column as a numpy array; unknown names raise SchemaError listing the columns."""
        text_value(name, "CustomerTable.column()", "name")
        if name == "customer_id":
            return self.customer_id
        try:
            return self.data[name]
        except KeyError:
            raise SchemaError(
                f"column {name!r} is not in the customer table (columns: {list(self.columns)})"
            ) from None

    def row(self, customer_id: str) -> dict[str, Any]:
        """One customer's row as a dict of plain values."""
        i = self._index(customer_id)
        out: dict[str, Any] = {"customer_id": customer_id}
        for name, values in self.data.items():
            out[name] = plain(values[i], nan=math.nan)
        return out

    def profile(self, customer_id: str, *, recent: int = 20) -> dict[str, Any]:
        """The 360-degree view of one customer: ``row``, the latest ``recent`` interactions
        (newest last), ``open_tickets`` (ids of tickets opened without a ``ticket_resolved`` row;
        empty when the log has no ``ticket_id``) and ``surveys``.

        Raises
        ------
        DataError
            When the customer is not in the table, or the table holds no interactions (built on
            a cluster).
        """
        i = self._index(customer_id)
        recent = integer(recent, "profile()", "recent", minimum=0)
        if self.log is None:
            raise DataError(
                f"profile({customer_id!r}) needs the customer's interactions, which this table "
                "does not hold (it was built on a cluster); build a log of that customer's rows "
                "and call its customers_table(as_of).profile(...)"
            )
        lo, hi = int(self.log.offsets[i]), int(self.log.offsets[i + 1])
        latest: list[Interaction] = self.log.interactions(max(lo, hi - recent), hi)
        surveys = [x for x in self.log.interactions(lo, hi) if x.kind == "survey"]
        open_tickets: list[str] = []
        if "ticket_id" in self.log:
            tcodes, tcats = self.log.categorical("ticket_id")
            rows = slice(lo, hi)
            codes = tcodes[rows]
            opened = self.log.kind_mask("ticket_opened")[rows] & (codes >= 0)
            resolved = self.log.kind_mask("ticket_resolved")[rows] & (codes >= 0)
            still = np.setdiff1d(codes[opened], codes[resolved])
            open_tickets = [str(t) for t in tcats[still]]
        return {
            "row": self.row(customer_id),
            "recent": latest,
            "open_tickets": open_tickets,
            "surveys": surveys,
        }

    def _index(self, customer_id: str) -> int:
        text_value(customer_id, "CustomerTable", "customer_id")
        i = int(np.searchsorted(self.customer_id, customer_id))
        if i >= len(self) or self.customer_id[i] != customer_id:
            raise DataError(f"customer {customer_id!r} is not in the customer table")
        return i


_SHORTEST_WINDOW = 30 * US_PER_DAY  # purchases_30d


def windows_past_data(until: int | None, cutoff: int) -> bool:
    """Whether ``cutoff`` is 30 days or more after ``until`` (the data's last interaction):
    the ``purchases_30d`` window ending there saw nothing."""
    return until is not None and cutoff - until >= _SHORTEST_WINDOW


def customers_past_data(log: InteractionLog, until: int | None, cutoff: int) -> int:
    """The customers of ``log`` with a purchase the data saw (at or before ``until``, the
    data's last interaction) in the last 30, 90 or 365 days before their end that the
    ``purchases_<d>d`` window ending at ``cutoff`` leaves out, when ``cutoff`` is 30 days or
    more after ``until`` (else 0: an ``as_of`` at the end of the day or week of the export
    changes no count).

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a", "b"], ["2024-01-20T00:00Z", "2024-01-31T00:00Z"],
    ...     ["purchase", "view"])
    >>> day = 86_400_000_000
    >>> customers_past_data(log, log.observed_until, log.observed_until + 40 * day)
    1
    >>> customers_past_data(log, log.observed_until, log.observed_until + 7 * day)
    0
    """
    if until is None or not windows_past_data(until, cutoff):
        return 0
    times = log.timestamps
    buy = log.kind_mask("purchase") & (times <= until)
    left = np.zeros(len(log), dtype=bool)
    for days in (30, 90, 365):
        window = days * US_PER_DAY
        left |= (times > until - window) & (times <= cutoff - window)
    return int(np.unique(log.customer_codes[buy & left]).size)


def warn_table_after_data(lost: int, until: int | None, cutoff: int, *, caller: str) -> None:
    """Warn (:func:`~cxmodel.log._observed.warn_after_data`) that the table's ``as_of``
    (``cutoff``) is so long after ``until``, the data's last interaction, that ``lost``
    customers (:func:`customers_past_data`) lost purchases the data saw from their
    ``purchases_<d>d`` counts; nothing when ``lost`` is 0."""
    if not lost or until is None:
        return
    who = "1 customer" if lost == 1 else f"{lost:,} customers"
    consequence = (
        f"{who} lost purchases the data saw from purchases_30d/_90d/_365d, whose windows reach "
        "into it, and recency_days count it as silence"
    )
    warn_after_data(until, cutoff, consequence, caller=caller)


def _warn_no_trait_matches(
    ids: npt.NDArray[np.object_], columns: Mapping[str, _Array], customers: npt.NDArray[np.object_]
) -> None:
    """Warn when traits were given but none of their customers is in the table: every trait
    column is then missing, which ids written differently (case, spaces, a prefix) cause."""
    if not columns or not ids.size or not customers.size:
        return
    if np.isin(ids.astype(str), customers.astype(str)).any():
        return
    warn(
        f"CustomerTable.from_log(): none of the traits' customers ({ids.size:,}) is in the "
        f"table (traits name e.g. {str(ids[0])!r}, the table holds e.g. {str(customers[0])!r}), "
        f"so the trait columns {sorted(columns)} are missing for every customer; check that "
        "both write the customer ids alike",
        DataWarning,
    )


def _tickets(log: InteractionLog, codes: npt.NDArray[np.int64], n: int) -> tuple[_Array, _Array]:
    opened = log.kind_mask("ticket_opened")
    resolved = log.kind_mask("ticket_resolved")
    total = np.bincount(codes[opened], minlength=n).astype(np.int64)
    if "ticket_id" in log:
        tcodes, tcats = log.categorical("ticket_id")
        width = np.int64(tcats.shape[0] + 1)
        key = codes * width + (tcodes.astype(np.int64) + 1)
        open_keys = np.unique(key[opened & (tcodes >= 0)])
        done_keys = np.unique(key[resolved & (tcodes >= 0)])
        still = open_keys[~np.isin(open_keys, done_keys)]
        unnamed = np.bincount(codes[opened & (tcodes < 0)], minlength=n)
        unnamed_done = np.bincount(codes[resolved & (tcodes < 0)], minlength=n)
        open_count = np.bincount(still // width, minlength=n) + np.maximum(
            unnamed - unnamed_done, 0
        )
    else:
        open_count = np.maximum(total - np.bincount(codes[resolved], minlength=n), 0)
    return total, open_count.astype(np.int64)


def _tickets_by_topic(
    log: InteractionLog, codes: npt.NDArray[np.int64], n: int
) -> dict[str, _Array]:
    """``tickets_topic_<topic>``: opened tickets per topic, when the log has a ``topic`` column."""
    if "topic" not in log or log.schema.get("topic") != "string":
        return {}
    tcodes, cats = log.categorical("topic")
    k = cats.shape[0]
    rows = log.kind_mask("ticket_opened") & (tcodes >= 0)
    if not k or not rows.any():
        return {}
    counts = np.bincount(codes[rows] * k + tcodes[rows], minlength=n * k).reshape(n, k)
    used = counts.sum(axis=0) > 0
    return {f"tickets_topic_{cats[j]}": counts[:, j].astype(np.int64) for j in np.flatnonzero(used)}


def _surveys(
    log: InteractionLog, codes: npt.NDArray[np.int64], n: int, data: dict[str, _Array]
) -> None:
    has_metric = "metric" in log and "score" in log
    for metric in ("nps", "csat", "ces"):
        if not has_metric:
            data[f"last_{metric}"] = np.full(n, np.nan)
            continue
        mcodes, mcats = log.categorical("metric")
        hit = np.flatnonzero(mcats == metric)
        score = log.numeric("score")
        mask = log.kind_mask("survey") & ~np.isnan(score)
        mask &= (mcodes == hit[0]) if hit.size else False
        data[f"last_{metric}"] = _last_per_customer(codes[mask], score[mask], n, np.nan, float)


def _preferred_channel(log: InteractionLog, codes: npt.NDArray[np.int64], n: int) -> _Array:
    out = np.full(n, None, dtype=object)
    if "channel" not in log:
        return out
    ccodes, cats = log.categorical("channel")
    k = cats.shape[0]
    ok = ccodes >= 0
    if not k or not ok.any():
        return out
    # counts of the (customer, channel) pairs that occur, not a customers x channels table
    # (10,000 customers of 100,000 channels were 8 GB)
    pairs, count = np.unique(codes[ok] * k + ccodes[ok].astype(np.int64), return_counts=True)
    who, channel = pairs // k, pairs % k
    order = np.lexsort((channel, -count, who))  # per customer: most used, then first by name
    best = order[np.r_[True, who[order][1:] != who[order][:-1]]]
    out[who[best]] = cats[channel[best]]
    return out


def _consent(log: InteractionLog, codes: npt.NDArray[np.int64], n: int) -> _Array:
    """The latest marketing consent row per customer. Purposes compare trimmed and case-folded
    (``"Marketing "`` is marketing), as :class:`~cxmodel.domain.Consent` and trigger rules
    compare them; a revocation without a purpose revokes every purpose, marketing too."""
    granted = log.kind_mask("consent_granted")
    revoked = log.kind_mask("consent_revoked")
    mask = granted | revoked
    if "purpose" in log:
        pcodes, pcats = log.categorical("purpose")
        folded = np.array([str(p).strip().casefold() == "marketing" for p in pcats], dtype=bool)
        marketing = np.zeros(len(log), dtype=bool)
        named = pcodes >= 0
        marketing[named] = folded[pcodes[named]]
        mask &= marketing | (revoked & ~named)
    return _last_per_customer(codes[mask], granted[mask], n, False, bool)
