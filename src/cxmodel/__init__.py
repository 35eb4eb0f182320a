"""cxmodel: customer-experience modelling on a columnar interaction log.

Examples
--------
>>> import cxmodel as cx
>>> log = cx.InteractionLog.from_records([
...     {"customer_id": "c1", "timestamp": "2024-05-01T09:30:00+02:00", "kind": "purchase",
...      "value": 42.0},
... ])
>>> len(log), log.customers.tolist()
(1, ['c1'])

Files are read with :func:`read_csv`, :func:`read_jsonl` and :func:`read_parquet`.
"""

from __future__ import annotations

import importlib
from typing import Any

from cxmodel.domain import (
    DEFAULT_CATALOGUE,
    STANDARD_KINDS,
    Channel,
    Consent,
    Customer,
    Interaction,
    Journey,
    Kind,
    Stage,
    Touchpoint,
    TouchpointCatalogue,
)
from cxmodel.errors import CXModelError, DataError, SchemaError
from cxmodel.io import read_csv, read_jsonl, read_parquet, write_csv, write_parquet
from cxmodel.log import CustomerTable, InteractionLog, RejectedRows

__version__ = "0.1.0.dev0"

__all__ = [
    "DEFAULT_CATALOGUE",
    "STANDARD_KINDS",
    "CXModelError",
    "Channel",
    "Consent",
    "Customer",
    "CustomerTable",
    "DataError",
    "Interaction",
    "InteractionLog",
    "Journey",
    "Kind",
    "RejectedRows",
    "SchemaError",
    "Stage",
    "Touchpoint",
    "TouchpointCatalogue",
    "__version__",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "write_csv",
    "write_parquet",
]

_SUBMODULES = frozenset(
    {
        "dask",
        "datasets",
        "expr",
        "io",
        "journey",
        "metrics",
        "models",
        "personalize",
        "plot",
        "report",
        "segment",
        "testing",
        "text",
        "triggers",
    }
)


def __getattr__(name: str) -> Any:
    # analyses are imported on first use so `import cxmodel` stays light
    if name in _SUBMODULES:
        return importlib.import_module(f"cxmodel.{name}")
    raise AttributeError(f"module 'cxmodel' has no attribute {name!r}")
