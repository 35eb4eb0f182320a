"""Hypothesis strategies for testing code that consumes cxmodel data.

This module needs ``hypothesis`` (a test-only dependency); ``import cxmodel`` does not import it.
"""

from cxmodel.testing._strategies import interaction_logs, interactions

__all__ = ["interaction_logs", "interactions"]
