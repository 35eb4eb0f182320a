"""The columnar interaction log every analysis runs on."""

from cxmodel.log._log import InteractionLog
from cxmodel.log._rejected import RejectedRows

__all__ = ["InteractionLog", "RejectedRows"]
