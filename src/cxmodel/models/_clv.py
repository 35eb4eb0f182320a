"""Customer lifetime value: expected spend x discounted expected purchases per period."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import method_of, real
from cxmodel._result import Result
from cxmodel._time import MAX_DURATION_DAYS
from cxmodel.errors import DataError, SchemaError
from cxmodel.models._base import FloatArray, fit_columns

__all__ = ["CLVResult", "customer_lifetime_value"]

_DAYS = {"h": 1.0 / 24.0, "H": 1.0 / 24.0, "D": 1.0, "W": 7.0, "M": 365.25 / 12.0}


@attrs.frozen(eq=False, repr=False)
class CLVResult(Result):
    """Per-customer discounted value over a horizon.

    Attributes
    ----------
    customer_id : ndarray of object
    value : ndarray of float
        Sum of the discounted cash flows.
    cash_flows : ndarray of float, shape (customers, horizon)
        Discounted expected spend of each period (incremental, not cumulative).
    horizon : int
    period_length : float
        One period in the summary's time unit.
    discount_rate : float
        Per period.
    """

    customer_id: npt.NDArray[np.object_]
    value: FloatArray
    cash_flows: FloatArray
    horizon: int
    period_length: float
    discount_rate: float

    _frame_index = "customer_id"

    def _rows(self) -> dict[Any, Any]:
        """``clv`` and the discounted cash flow of each period, per customer."""
        periods = {f"period_{i + 1}": flows for i, flows in enumerate(self.cash_flows.T)}
        return {"customer_id": self.customer_id, "clv": self.value, **periods}

    def _figures(self) -> dict[str, Any]:
        figures = super()._figures()
        return {**figures, "total": float(np.sum(self.value))}

    def to_dict(self) -> dict[str, Any]:
        """Ids and values as lists (``to_pandas`` has the cash flows too)."""
        return {"customer_id": self.customer_id.tolist(), "value": self.value.tolist()}


def customer_lifetime_value(
    transaction_model: Any,
    spend_model: Any,
    summary: Any,
    *,
    horizon: int,
    freq: str | float,
    discount_rate: float,
) -> CLVResult:
    """Discounted expected value of each customer over ``horizon`` periods.

    Cash flow of period ``i`` (1-based) = E[spend] x (E[Y(i L)] - E[Y((i - 1) L)]), discounted by
    ``(1 + discount_rate) ** i``, where L is the period length in the summary's time unit.

    Parameters
    ----------
    transaction_model : fitted BetaGeo, ModifiedBetaGeo or ParetoNBD
    spend_model : fitted GammaGamma
    summary : RFMSummary
        Histories in the unit the transaction model was fitted in.
    horizon : int
        Number of periods.
    freq : {"h", "D", "W", "M"} or float
        Period length: a unit (converted from ``summary.freq``; a month is 365.25 / 12 days) or a
        number of summary time units.
    discount_rate : float
        Per period, as a fraction: 0 <= discount_rate < 1 (``0.01`` is 1% a period).

    Raises
    ------
    DataError
        A ``horizon`` below 1, or a ``discount_rate`` outside [0, 1) (a rate of 1 or more is
        taken for a percentage, with a did-you-mean).
    SchemaError
        A ``freq`` unit that cannot be converted, or a summary in another time unit than the
        one the transaction model was fitted in (``summary.freq``).

    Examples
    --------
    >>> import numpy as np
    >>> from cxmodel.models import BetaGeo, GammaGamma, RFMSummary, customer_lifetime_value
    >>> s = RFMSummary(customer_id=np.array(["a", "b", "c", "d"], dtype=object),
    ...                frequency=np.array([0.0, 2, 5, 1]), recency=np.array([0.0, 8, 30, 2]),
    ...                T=np.array([40.0, 40, 40, 40]),
    ...                monetary_value=np.array([0.0, 20, 12, 30]), freq="W")
    >>> bg = BetaGeo(penalizer_coef=0.01).fit(s)  # a penalty keeps 4 customers' fit finite
    >>> gg = GammaGamma(penalizer_coef=0.01).fit(s)
    >>> clv = customer_lifetime_value(bg, gg, s, horizon=12, freq="M", discount_rate=0.01)
    >>> clv.cash_flows.shape
    (4, 12)
    """
    transaction_model = method_of(
        transaction_model,
        "conditional_expected_purchases",
        "customer_lifetime_value()",
        "transaction_model",
        "a fitted BetaGeo, ModifiedBetaGeo or ParetoNBD",
    )
    spend_model = method_of(
        spend_model,
        "conditional_expected_spend",
        "customer_lifetime_value()",
        "spend_model",
        "a fitted GammaGamma",
    )
    discount_rate = real(discount_rate, "customer_lifetime_value()", "discount_rate")
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise DataError(f"horizon must be an integer >= 1, got {horizon!r}")
    if horizon > MAX_DURATION_DAYS:  # a column of cash flows per period
        raise DataError(
            f"horizon must be at most {MAX_DURATION_DAYS:,} periods (100 years of days), got {horizon!r}"
        )
    if not np.isfinite(discount_rate) or discount_rate < 0:
        raise DataError(f"discount_rate must be a finite number >= 0, got {discount_rate!r}")
    if discount_rate >= 1:
        raise DataError(
            f"customer_lifetime_value(): discount_rate={discount_rate!r} is a rate of "
            f"{discount_rate:.0%} per period; did you mean discount_rate={discount_rate / 100!r} "
            f"({discount_rate:g}%)? Give the rate as a fraction of 1"
        )
    if isinstance(freq, str):
        unit = getattr(summary, "freq", "")
        if not isinstance(unit, str) or not unit:
            raise SchemaError(
                f"customer_lifetime_value(): freq {freq!r} is a calendar unit, but summary "
                f"({type(summary).__name__}) does not say the unit of its recency and T "
                "(an RFMSummary's freq); give freq as a number of summary time units, e.g. "
                "freq=365.25 / 12 / 7 for months of a summary in weeks"
            )
        if freq not in _DAYS or unit not in _DAYS:
            raise SchemaError(
                f"freq {freq!r} and the summary unit {unit!r} must both be one of "
                f"{sorted(_DAYS)} (or give freq as a number of summary time units)"
            )
        length = _DAYS[freq] / _DAYS[unit]
    else:
        length = real(freq, "customer_lifetime_value()", "freq")
        if length <= 0:
            raise DataError(f"freq as a number must be > 0, got {freq!r}")
    fitted_in = getattr(transaction_model, "_fit_unit", None)
    unit = getattr(summary, "freq", "") or None
    if fitted_in is not None and unit is not None and unit != fitted_in:
        raise SchemaError(
            f"customer_lifetime_value(): the transaction model was fitted on a summary in "
            f"{fitted_in!r} periods but summary is in {unit!r} periods, so its recency and T "
            f"would be read as {fitted_in!r} periods; summarise with rfm_summary(log, "
            f"freq={fitted_in!r}) or refit the model on this summary"
        )
    x, t_x, big_t, money = (
        np.asarray(c)
        for c in fit_columns(
            summary,
            dict.fromkeys(("frequency", "recency", "T", "monetary_value")),
            caller="customer_lifetime_value()",
        )
    )
    spend = spend_model.conditional_expected_spend(x, money)
    ends = np.arange(horizon + 1, dtype=np.float64) * length
    cumulative = np.column_stack(
        [np.zeros_like(x)]
        + [
            transaction_model.conditional_expected_purchases(float(e), x, t_x, big_t)
            for e in ends[1:]
        ]
    )
    incremental = np.diff(cumulative, axis=1)
    discount = (1.0 + discount_rate) ** -np.arange(1, horizon + 1, dtype=np.float64)
    flows = spend[:, None] * incremental * discount[None, :]
    return CLVResult(
        customer_id=_customer_ids(summary, x.shape[0]),
        value=flows.sum(axis=1),
        cash_flows=flows,
        horizon=int(horizon),
        period_length=length,
        discount_rate=float(discount_rate),
    )


def _customer_ids(summary: Any, n: int) -> npt.NDArray[np.object_]:
    """The customer ids of a summary: its ``customer_id`` (an RFMSummary's field, a frame's
    column), else a pandas frame's index (lifetimes keeps the ids there)."""
    names = getattr(summary, "columns", None)
    if names is not None and not isinstance(names, (str, bytes)) and "customer_id" in list(names):
        ids = summary["customer_id"]
    elif hasattr(summary, "customer_id"):
        ids = summary.customer_id
    elif hasattr(summary, "index") and len(summary.index) == n:
        ids = summary.index
    else:
        raise SchemaError(
            f"customer_lifetime_value(): summary ({type(summary).__name__}) has no customer_id "
            "column; add one so that each value names its customer"
        )
    return np.asarray(ids, dtype=object)
