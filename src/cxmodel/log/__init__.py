"""The columnar interaction log every analysis runs on, and the one-row-per-customer table."""

from cxmodel.log._customer_table import CustomerTable
from cxmodel.log._log import InteractionLog
from cxmodel.log._rejected import RejectedRows

__all__ = ["CustomerTable", "InteractionLog", "RejectedRows"]
