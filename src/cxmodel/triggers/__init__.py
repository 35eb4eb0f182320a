"""The trigger language: rules that say when to act on a customer, and why.

Examples
--------
>>> from cxmodel.triggers import parse
>>> rules = parse('''
... trigger churn_risk:
...     when inactive for 90 days
...     emit churn_risk_alert
...     once per customer every 90 days
... ''')
>>> rules.names
('churn_risk',)
"""

from __future__ import annotations

from cxmodel.triggers._alerts import ALERT_CUSTOMER_ID, Alert
from cxmodel.triggers._api import check
from cxmodel.triggers._batch import evaluate
from cxmodel.triggers._builder import E, agg, alert, col, contact_policy, count, lit, trigger
from cxmodel.triggers._check import STANDARD_KINDS, check_rules
from cxmodel.triggers._contact import ContactPolicy
from cxmodel.triggers._engine import TriggerEngine
from cxmodel.triggers._examples import EXAMPLE_RULES
from cxmodel.triggers._explain import Explanation, RuleExplanation, describe_because, explain
from cxmodel.triggers._firings import Firing, Firings, firing_id, write_firings
from cxmodel.triggers._parse import parse
from cxmodel.triggers._policies import holdout_fraction
from cxmodel.triggers._reach import Reach
from cxmodel.triggers._rules import (
    MAX_RULES,
    Emit,
    Holdout,
    Pattern,
    QuietHours,
    Rule,
    RuleSet,
    Then,
    ThenMode,
    Unless,
    WhenMode,
)
from cxmodel.triggers._sqlite import SQLiteStore
from cxmodel.triggers._store import (
    AlertValue,
    AlertWindowChange,
    InMemoryStore,
    Quarantined,
    StateChange,
    StateStore,
    StoredState,
)

__all__ = [
    "ALERT_CUSTOMER_ID",
    "EXAMPLE_RULES",
    "MAX_RULES",
    "STANDARD_KINDS",
    "Alert",
    "AlertValue",
    "AlertWindowChange",
    "ContactPolicy",
    "E",
    "Emit",
    "Explanation",
    "Firing",
    "Firings",
    "Holdout",
    "InMemoryStore",
    "Pattern",
    "Quarantined",
    "QuietHours",
    "Reach",
    "Rule",
    "RuleExplanation",
    "RuleSet",
    "SQLiteStore",
    "StateChange",
    "StateStore",
    "StoredState",
    "Then",
    "ThenMode",
    "TriggerEngine",
    "Unless",
    "WhenMode",
    "agg",
    "alert",
    "check",
    "check_rules",
    "col",
    "contact_policy",
    "count",
    "describe_because",
    "evaluate",
    "explain",
    "firing_id",
    "holdout_fraction",
    "lit",
    "parse",
    "trigger",
    "write_firings",
]
