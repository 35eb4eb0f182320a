"""Result classes of the synthetic generator: the world (log + truth) and its ground truth."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._result import Result, column
from cxmodel.log import InteractionLog

__all__ = ["SyntheticTruth", "SyntheticWorld"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]
TimeArray = npt.NDArray[np.datetime64]

PARAMETER_NAMES = ("r", "alpha", "a", "b", "p", "q", "gamma")


@attrs.frozen(eq=False, repr=False)
class SyntheticTruth(Result):
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
    customers: ObjectArray = attrs.field(metadata=column())
    signup: TimeArray = attrs.field(metadata=column())
    first_purchase: TimeArray = attrs.field(metadata=column())
    purchase_rate: FloatArray = attrs.field(metadata=column())
    dropout_probability: FloatArray = attrs.field(metadata=column())
    spend_rate: FloatArray = attrs.field(metadata=column())
    mean_spend: FloatArray = attrs.field(metadata=column())
    churned: BoolArray = attrs.field(metadata=column())
    death_time: TimeArray = attrs.field(metadata=column())
    friction: FloatArray = attrs.field(metadata=column())
    satisfaction: FloatArray = attrs.field(metadata=column())
    final_satisfaction: FloatArray = attrs.field(metadata=column())
    late_deliveries: IntArray = attrs.field(metadata=column())
    unresolved_tickets: IntArray = attrs.field(metadata=column())
    preferred_channel: ObjectArray = attrs.field(metadata=column())
    email_open_probability: FloatArray = attrs.field(metadata=column())
    push_open_probability: FloatArray = attrs.field(metadata=column())
    marketing_consent: BoolArray = attrs.field(metadata=column())
    offer_purchases: IntArray = attrs.field(metadata=column())
    exit_time: TimeArray = attrs.field(metadata=column())

    _dict_lists = True  # to_dict: plain Python objects, datetimes as ISO text

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

    def _details(self) -> dict[str, Any]:
        """The time unit and the parameters, beside the per-customer columns."""
        return {"time_unit": self.time_unit, **self.parameters}


@attrs.frozen(eq=False, repr=False)
class SyntheticWorld(Result):
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

    def _summary(self, n_rows: int | None) -> str:
        return f"SyntheticWorld({len(self.log):,} interactions, {self.log.n_customers:,} customers)"

    def _caption(self) -> str:
        return self._summary(None)
