"""The diagnostic plots of the transaction models, as methods (drawn by :mod:`cxmodel.plot`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy.typing as npt
    from matplotlib.axes import Axes

__all__ = ["TransactionPlots"]


class TransactionPlots:
    """``plot_*`` methods shared by BG/NBD, MBG/NBD, Pareto/NBD and BG/BB (need matplotlib).

    Each is a thin delegate to the function of the same name in :mod:`cxmodel.plot`, with the
    fitted model as its first argument, and returns the matplotlib Axes.
    """

    __slots__ = ()

    def plot_frequency_recency_matrix(
        self, summary: Any = None, *, ax: Axes | None = None, **kwargs: Any
    ) -> Axes:
        """Heatmap of expected purchases in the next ``t`` periods by frequency and recency.

        See :func:`cxmodel.plot.plot_frequency_recency_matrix` (``t=``, ``max_frequency=``,
        ``max_recency=``, ``unit=``).
        """
        from cxmodel.plot import plot_frequency_recency_matrix

        return plot_frequency_recency_matrix(self, summary, ax, **kwargs)

    def plot_probability_alive_matrix(
        self, summary: Any = None, *, ax: Axes | None = None, **kwargs: Any
    ) -> Axes:
        """Heatmap of the probability of being still active by frequency and recency.

        See :func:`cxmodel.plot.plot_probability_alive_matrix`.
        """
        from cxmodel.plot import plot_probability_alive_matrix

        return plot_probability_alive_matrix(self, summary, ax, **kwargs)

    def plot_period_transactions(
        self, summary: Any, *, ax: Axes | None = None, **kwargs: Any
    ) -> Axes:
        """Customers by number of repeat purchases, in the data and as the model expects.

        See :func:`cxmodel.plot.plot_period_transactions` (``max_frequency=``).
        """
        from cxmodel.plot import plot_period_transactions

        return plot_period_transactions(self, summary, ax, **kwargs)

    def plot_calibration_purchases_vs_holdout_purchases(
        self,
        calibration: Any,
        holdout_frequency: npt.ArrayLike,
        holdout_duration: float,
        *,
        ax: Axes | None = None,
        **kwargs: Any,
    ) -> Axes:
        """Average hold-out purchases by calibration purchases, actual vs predicted.

        The arguments are what :func:`cxmodel.models.calibration_holdout_split` returns. See
        :func:`cxmodel.plot.plot_calibration_purchases_vs_holdout_purchases`.
        """
        from cxmodel.plot import plot_calibration_purchases_vs_holdout_purchases

        return plot_calibration_purchases_vs_holdout_purchases(
            self, calibration, holdout_frequency, holdout_duration, ax, **kwargs
        )
