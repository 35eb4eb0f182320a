"""Result classes of the synthetic generator: the world (log + truth) and its ground truth."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._optional import import_optional
from cxmodel.log import InteractionLog

__all__ = ["SyntheticTruth", "SyntheticWorld"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]
TimeArray = npt.NDArray[np.datetime64]

PARAMETER_NAMES = ("r", "alpha", "a", "b", "p", "q", "gamma")
PER_CUSTOMER = (
    "customers",
    "signup",
    "first_purchase",
    "purchase_rate",
    "dropout_probability",
    "spend_rate",
    "mean_spend",
    "churned",
    "death_time",
    "friction",
    "satisfaction",
    "final_satisfaction",
    "late_deliveries",
    "unresolved_tickets",
    "preferred_channel",
    "email_open_probability",
    "push_open_probability",
    "marketing_consent",
    "offer_purchases",
    "exit_time",
)


@attrs.frozen(eq=False)
class SyntheticTruth:
    """The parameters and per-customer latent values behind a synthetic world.

    Per-customer arrays are aligned to ``log.customers`` (same order, same length).

    Attributes
    ----------
    time_unit : str
        The time unit of the BG/NBD rates (``"week"``).
    r, alpha, a, b : float
        BG/NBD parameters: purchase rates ``lambda ~ Gamma(r, rate=alpha)`` per week, dropout
        probabilities ``p ~ Beta(a, b)`` applied after each repeat purchase.
    p, q, gamma : float
        Gamma-Gamma spend parameters: order values ``z ~ Gamma(p, rate=nu)``,
        ``nu ~ Gamma(q, rate=gamma)``.
    customers : ndarray of str
    signup, first_purchase, death_time : ndarray of datetime64[us]
        ``NaT`` where there was no first purchase or no death before the end.
    purchase_rate, dropout_probability, spend_rate, mean_spend : ndarray of float
        Each customer's ``lambda`` (per week), ``p``, ``nu`` and ``p / nu``.
    churned : ndarray of bool
        The customer's death time (BG/NBD, or a planted exit) falls before the end of the
        window.
    friction : ndarray of float
        Latent service friction in (0, 1) that raises late-delivery and unresolved-ticket
        rates; it is positively tied to ``dropout_probability`` (the planted churn driver).
    satisfaction, final_satisfaction : ndarray of float
        Base latent satisfaction, and the same after the customer's late deliveries and
        unresolved tickets have lowered it.
    late_deliveries, unresolved_tickets : ndarray of int
        Counts in the log (tickets without a ``ticket_resolved`` row by the end).
    preferred_channel : ndarray of str
        ``email``, ``push`` or ``sms``; it drives the open and click rates.
    email_open_probability, push_open_probability : ndarray of float
    marketing_consent : ndarray of bool
        Marketing consent at the end of the window.
    offer_purchases : ndarray of int
        Purchases that redeemed an offer (``campaign == "offer"`` on the purchase row).
    exit_time : ndarray of datetime64[us]
        When the customer left at a price-rise notice (the planted churn driver); ``NaT``
        for the others. ``death_time`` is the earlier of this and the BG/NBD death.
    """

    time_unit: str
    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    gamma: float
    customers: ObjectArray
    signup: TimeArray
    first_purchase: TimeArray
    purchase_rate: FloatArray
    dropout_probability: FloatArray
    spend_rate: FloatArray
    mean_spend: FloatArray
    churned: BoolArray
    death_time: TimeArray
    friction: FloatArray
    satisfaction: FloatArray
    final_satisfaction: FloatArray
    late_deliveries: IntArray
    unresolved_tickets: IntArray
    preferred_channel: ObjectArray
    email_open_probability: FloatArray
    push_open_probability: FloatArray
    marketing_consent: BoolArray
    offer_purchases: IntArray
    exit_time: TimeArray

    @property
    def parameters(self) -> dict[str, float]:
        """The model parameters (BG/NBD ``r, alpha, a, b``; Gamma-Gamma ``p, q, gamma``)."""
        return {name: float(getattr(self, name)) for name in PARAMETER_NAMES}

    @property
    def service_parameters(self) -> dict[str, float]:
        """The planted after-sales rates: transfers, reopenings, returns, offers and exits.

        ``transfer_rate`` (replied tickets answered by a second agent), ``reopen_rate``
        (resolved tickets resolved again), ``return_rate_on_time`` / ``return_rate_late``
        (delivered orders returned), ``offer_share`` (marketing emails with an offer),
        ``offer_take_up`` (offers redeemed by a buyer still there), ``offer_value`` and
        ``offer_delay_days`` (mean days to the redeeming purchase), ``notice_share``
        (marketing emails announcing a price rise) and ``exit_probability`` (customers still
        there who leave at a notice).
        """
        from cxmodel.datasets import _service as s

        return {
            "transfer_rate": s.TRANSFER_RATE,
            "reopen_rate": s.REOPEN_RATE,
            "return_rate_on_time": s.RETURN_RATE_ON_TIME,
            "return_rate_late": s.RETURN_RATE_LATE,
            "offer_share": s.OFFER_SHARE,
            "offer_take_up": s.OFFER_TAKE_UP,
            "offer_value": s.OFFER_VALUE,
            "offer_delay_days": s.OFFER_DELAY_DAYS,
            "notice_share": s.NOTICE_SHARE,
            "exit_probability": s.EXIT_PROBABILITY,
        }

    def to_dict(self) -> dict[str, Any]:
        """Parameters, time unit and per-customer values as plain Python objects."""
        out: dict[str, Any] = {"time_unit": self.time_unit, **self.parameters}
        for name in PER_CUSTOMER:
            values = getattr(self, name)
            if values.dtype.kind == "M":
                values = values.astype(str)
            out[name] = values.tolist()
        return out

    def to_pandas(self) -> Any:
        """The per-customer values as a ``pandas.DataFrame`` (needs pandas)."""
        pd = import_optional("pandas", "SyntheticTruth.to_pandas")
        return pd.DataFrame({name: getattr(self, name) for name in PER_CUSTOMER})

    def _repr_html_(self) -> str:
        params = ", ".join(f"{k} {v:g}" for k, v in self.parameters.items())
        return (
            f"<p><b>SyntheticTruth</b>: {self.customers.shape[0]:,} customers, "
            f"{int(self.churned.sum()):,} churned; {params} (rates per {self.time_unit})</p>"
        )


@attrs.frozen(eq=False)
class SyntheticWorld:
    """A synthetic interaction log together with the ground truth that generated it.

    ``traits`` is a table of customer traits (``customer_id``, ``country``, ``age``,
    ``newsletter``: marketing consent at sign-up) to pass as ``traits=`` to
    :meth:`~cxmodel.log.InteractionLog.customers_table` or the churn model.
    """

    log: InteractionLog
    truth: SyntheticTruth
    traits: dict[str, npt.NDArray[Any]] = attrs.field(factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The log summary and the truth as plain Python objects."""
        return {"log": self.log.summary(), "truth": self.truth.to_dict()}

    def to_pandas(self) -> Any:
        """The log as a ``pandas.DataFrame`` (needs pandas); the truth has its own."""
        return self.log.to_pandas()

    def _repr_html_(self) -> str:
        return (
            f"<p><b>SyntheticWorld</b>: {len(self.log):,} interactions, "
            f"{self.log.n_customers:,} customers</p>" + self.truth._repr_html_()
        )
