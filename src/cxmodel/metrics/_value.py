"""Value metrics: revenue, average order value, purchase frequency, historical CLV."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import got, interaction_log
from cxmodel._periods import period_index
from cxmodel._pieces import warn
from cxmodel._sums import grouped_sums
from cxmodel._tables import MetricTable, check_key_names
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._kinds import read_kinds
from cxmodel.log._orders import warn_order_lines
from cxmodel.metrics._accumulators import group_rows
from cxmodel.metrics._groups import group_table

__all__ = ["check_purchase_values", "value_summary"]


#: the columns of value_summary() after its keys
_VALUE_COLUMNS = (
    "customers", "orders", "revenue", "refunds", "net_revenue", "aov", "frequency",
    "historical_clv",
)  # fmt: skip


def value_summary(
    log: InteractionLog,
    *,
    by: str | npt.ArrayLike | None = None,
    period: str | None = None,
    timezone: str | None = None,
) -> MetricTable:
    """Revenue, orders, buyers, average order value, purchase frequency and historical CLV.

    Uses ``purchase`` rows and their ``value``; per group: ``revenue`` = sum of values,
    ``orders`` = purchase rows (a purchase row that is a further line of an order, same customer
    and ``order_id`` or same instant, counts too, with a DataWarning giving their number:
    summarise ``log.orders()`` to count orders), ``customers`` = distinct buyers, ``aov`` = revenue / orders,
    ``frequency`` = orders / customers, ``historical_clv`` = revenue / customers (the average
    customer's past spend in the group). ``refunds`` sums ``refund`` values in the same group
    and ``net_revenue`` = revenue - refunds. A negative or missing purchase value is a
    SchemaError; refunds without a value are left out of ``refunds`` with a DataWarning giving
    their count. Purchases repeating another row's customer, time and value (and ``order_id``
    when the log has one) each count, with a DataWarning giving the number of repeats (a
    duplicated export doubles revenue). A log without any ``purchase`` row warns (DataWarning) that there is no
    revenue to summarise. When the log has a ``currency`` column, a group whose purchases and
    refunds are in more than one currency is a SchemaError (their sum would mean nothing):
    break down with ``by="currency"`` or convert the values to one currency first.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    by : str or array, optional
        A column name or one label per row to break down by.
    period : {"day", "week", "month", "quarter"}, optional
        Break down by the purchase's calendar period, in ``timezone``.
    timezone : str, optional
        Zone of the calendar periods; default UTC.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b"], kind=["purchase"] * 3,
    ...     timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z", "2024-01-01T00:00Z"],
    ...     value=[10.0, 20.0, 30.0])
    >>> t = value_summary(log)
    >>> t["aov"].tolist(), t["frequency"].tolist(), t["historical_clv"].tolist()
    ([20.0], [1.5], [30.0])
    """
    log = interaction_log(log, "value_summary()")
    if "value" not in log:
        raise SchemaError("value_summary() needs a numeric 'value' column on purchase rows")
    read_kinds(
        log.kinds,
        ["purchase"],
        argument="value_summary()",
        meaning="there is no revenue, order or buyer to summarise",
    )
    money = log.kind_mask("purchase", "refund")
    is_purchase = log.kind_mask("purchase")
    values = log.numeric("value")
    check_purchase_values(log, values, is_purchase)
    keys: list[npt.NDArray[Any]] = []
    names: list[str] = []
    if by is not None:
        if isinstance(by, str):
            labels = log.column(by)
            names.append(by)
        else:
            labels = np.asarray(by, dtype=object)
            if labels.ndim != 1:
                raise SchemaError(f"by must be a column name or one label per row; got {got(by)}")
            if len(labels) != len(log):
                raise SchemaError(f"by has {len(labels)} labels for a log of {len(log)} rows")
            names.append("by")
        keys.append(np.asarray(labels)[money])
    if period is not None:
        names.append("period")
        keys.append(period_index(log.timestamps[money], period, timezone))
    rows = int(money.sum())
    check_key_names(names, _VALUE_COLUMNS, "value")
    if names:  # labels in their order (numbers as numbers, "(missing)" last), periods decoded
        decoded, group, g = group_table(names, keys, rows, period)
    else:
        decoded, group = {}, group_rows([], rows)[1]
        g = 1 if rows else 0
    v = values[money]
    buy = is_purchase[money]
    _warn_unvalued_refunds(int((np.isnan(v) & ~buy).sum()))
    _warn_repeated_purchases(log, values, is_purchase)
    warn_order_lines(log, np.flatnonzero(is_purchase), caller="value_summary()")
    v = np.nan_to_num(v)
    if "currency" in log:
        _check_one_currency(log.column("currency")[money], group, g, decoded)
    where = "value_summary()"
    revenue = grouped_sums(group[buy], v[buy], g, column="value", where=where, of="group")
    refunds = grouped_sums(group[~buy], v[~buy], g, column="value", where=where, of="group")
    orders = np.bincount(group[buy], minlength=g)
    cust = log.customer_codes[money][buy].astype(np.int64)
    pairs = np.unique(group[buy] * max(log.n_customers, 1) + cust)
    customers = np.bincount(pairs // max(log.n_customers, 1), minlength=g)
    columns: dict[str, npt.NDArray[Any]] = dict(decoded)
    with np.errstate(invalid="ignore", divide="ignore"):
        columns |= {
            "customers": customers.astype(np.int64),
            "orders": orders.astype(np.int64),
            "revenue": revenue,
            "refunds": refunds,
            "net_revenue": revenue - refunds,
            "aov": revenue / orders,
            "frequency": orders / customers,
            "historical_clv": revenue / customers,
        }
    return MetricTable("value", columns)


def check_purchase_values(
    log: InteractionLog, values: npt.NDArray[np.float64], rows: npt.NDArray[np.bool_]
) -> None:
    """Refuse a purchase among ``rows`` whose ``values`` entry is missing or negative.

    A purchase without an amount would count as 0 in any sum of spend; the error names the
    first such row of the input.

    Raises
    ------
    SchemaError
        ``row N: purchase value nan must be a number >= 0 (column 'value')``.
    """
    bad = rows & ((values < 0) | np.isnan(values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SchemaError(
            f"row {int(log.row_order[i]) + 1}: purchase value {float(values[i])!r} must be a "
            "number >= 0 (column 'value')"
        )


def _warn_unvalued_refunds(count: int) -> None:
    """Warn that ``count`` refund rows have no value, so refunds leave them out."""
    if count:
        warn(
            f"value_summary(): {count:,} refund row(s) have no value (column 'value'); "
            "'refunds' and 'net_revenue' leave them out, so refunds may be understated",
            DataWarning,
        )


def _check_one_currency(
    currency: npt.NDArray[Any],
    group: npt.NDArray[np.int64],
    g: int,
    keys: dict[str, npt.NDArray[Any]],
) -> None:
    """Refuse a group whose money rows carry more than one currency (missing ones aside);
    ``keys`` are the groups' decoded labels, to name the group."""
    known = np.asarray((currency != None) & (currency == currency), dtype=bool)  # noqa: E711
    if not known.any():
        return
    names, codes = np.unique(currency[known].astype(str), return_inverse=True)
    pairs = np.unique(group[known] * len(names) + codes.reshape(-1))
    per_group = np.bincount(pairs // len(names), minlength=g)
    if (per_group > 1).any():
        first = int(np.flatnonzero(per_group > 1)[0])
        mixed = [str(names[c]) for c in pairs[pairs // len(names) == first] % len(names)]
        where = ", ".join(f"{k}={v[first]!r}" for k, v in keys.items()) or "the log"
        raise SchemaError(
            f"value_summary(): {where} mixes currencies {mixed!r} (column 'currency'); a sum "
            "across currencies means nothing: pass by='currency' or convert the values to one "
            "currency first"
        )


def _warn_repeated_purchases(
    log: InteractionLog, values: npt.NDArray[np.float64], is_purchase: npt.NDArray[np.bool_]
) -> None:
    """Warn with the count of purchase rows equal to another in customer, time and value (and
    ``order_id`` when the log has one): a duplicated export counts each order twice."""
    rows = np.flatnonzero(is_purchase)
    if rows.size < 2:
        return
    keys: list[npt.NDArray[Any]] = [values[rows], log.timestamps[rows], log.customer_codes[rows]]
    if "order_id" in log:
        keys.append(np.unique(log.column("order_id")[rows].astype(str), return_inverse=True)[1])
    order = np.lexsort(keys)
    same = np.ones(rows.size - 1, dtype=bool)
    for key in keys:
        ordered = key[order]
        same &= ordered[1:] == ordered[:-1]
    repeats = int(np.count_nonzero(same))
    if repeats:
        warn(
            f"value_summary(): {repeats:,} purchase row(s) repeat another purchase's customer, "
            "time and value (a duplicated export?); each counts as an order and in revenue",
            DataWarning,
        )
