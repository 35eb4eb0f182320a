"""Every public function taking ``as_of`` reads it one way: a naive time is refused with the
same hint, unless the function takes ``timezone=`` (the zone of its calendar periods) and it is
given, when the naive time is read in that zone."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import numpy as np
import pytest

import cxmodel
from cxmodel import metrics, models, personalize, report, segment, triggers
from cxmodel.datasets import synthetic
from cxmodel.errors import SchemaError
from cxmodel.log import CustomerTable, InteractionLog

LOG = synthetic(customers=60, seed=3).log
AWARE = "2024-12-31T00:00:00Z"
NAIVE_TEXT = "2024-12-31T00:00:00"
NAIVE = [
    pytest.param(NAIVE_TEXT, id="text"),
    pytest.param(datetime(2024, 12, 31), id="datetime"),
]
HINT = (
    r"as_of '2024-12-31T00:00:00' has no time zone; give an aware time, e\.g\. "
    r"as_of='2024-12-31T00:00:00Z' \(UTC\) or a datetime with tzinfo"
)

Call = Callable[[InteractionLog, Any], object]


def _firings(log: InteractionLog) -> Any:
    return triggers.evaluate(triggers.parse(triggers.EXAMPLE_RULES), log, as_of=AWARE)


def _dask(function: str) -> Call:
    """``cxmodel.dask.<function>`` over a two-partition frame of the log."""

    def call(log: InteractionLog, as_of: Any) -> object:
        dd = pytest.importorskip("dask.dataframe")
        cxd = importlib.import_module("cxmodel.dask")
        frame = dd.from_pandas(log.to_pandas(), npartitions=2)
        if function == "evaluate":
            return cxd.evaluate(triggers.parse(triggers.EXAMPLE_RULES), frame, as_of=as_of)
        return getattr(cxd, function)(frame, as_of=as_of)

    return call


REFUSING: dict[str, Call] = {
    "cxmodel.log.InteractionLog.customers_table": lambda log, t: log.customers_table(t),
    "cxmodel.log.CustomerTable.from_log": lambda log, t: CustomerTable.from_log(log, as_of=t),
    "cxmodel.metrics.action_effect": lambda log, t: metrics.action_effect(
        _firings(log), log, outcome="purchase", as_of=t
    ),
    "cxmodel.metrics.customer_lifetimes": lambda log, t: metrics.customer_lifetimes(log, t),
    "cxmodel.metrics.driver_model": lambda log, t: metrics.driver_model(log, as_of=t),
    "cxmodel.metrics.recovery_rate": lambda log, t: metrics.recovery_rate(
        _firings(log), log, as_of=t
    ),
    "cxmodel.metrics.ticket_lifecycles": lambda log, t: metrics.ticket_lifecycles(log, as_of=t),
    "cxmodel.models.churn_features": lambda log, t: models.churn_features(log, as_of=t),
    "cxmodel.models.churn_risk": lambda log, t: models.churn_risk(log, as_of=t),
    "cxmodel.personalize.preferences": lambda log, t: personalize.preferences(log, as_of=t),
    "cxmodel.report.cx_report": lambda log, t: report.cx_report(log, as_of=t),
    "cxmodel.segment.rfm_scores": lambda log, t: segment.rfm_scores(log, as_of=t),
    "cxmodel.triggers.evaluate": lambda log, t: triggers.evaluate(
        triggers.parse(triggers.EXAMPLE_RULES), log, as_of=t
    ),
    "cxmodel.triggers.explain": lambda log, t: triggers.explain(
        triggers.parse(triggers.EXAMPLE_RULES), log, str(log.customers[0]), as_of=t
    ),
    "cxmodel.dask.customer_lifetimes": _dask("customer_lifetimes"),
    "cxmodel.dask.customer_table": _dask("customer_table"),
    "cxmodel.dask.evaluate": _dask("evaluate"),
    "cxmodel.dask.rfm_scores": _dask("rfm_scores"),
}
"""Functions whose ``as_of`` must be aware (``timezone=``, where a Dask function takes one,
is the zone of the data's naive timestamps, as in ``from_dask``, not of ``as_of``)."""


def _dask_zoned(function: str) -> Callable[..., object]:
    def call(log: InteractionLog, as_of: Any, **options: Any) -> object:
        dd = pytest.importorskip("dask.dataframe")
        cxd = importlib.import_module("cxmodel.dask")
        frame = dd.from_pandas(log.to_pandas(), npartitions=2)
        return getattr(cxd, function)(frame, as_of=as_of, **options)

    return call


ZONED: dict[str, Callable[..., object]] = {
    "cxmodel.metrics.cohort_retention": lambda log, t, **o: metrics.cohort_retention(
        log, as_of=t, **o
    ),
    "cxmodel.models.rfm_summary": lambda log, t, **o: models.rfm_summary(log, as_of=t, **o),
    "cxmodel.dask.cohort_retention": _dask_zoned("cohort_retention"),
    "cxmodel.dask.rfm_summary": _dask_zoned("rfm_summary"),
}
"""Functions whose ``timezone=`` names the zone of their calendar periods, and so of a naive
``as_of``."""


def _public_functions_taking_as_of() -> set[str]:
    """The dotted names of every public function and method with an ``as_of`` parameter."""
    found: set[str] = set()
    for module_info in pkgutil.walk_packages(cxmodel.__path__, "cxmodel."):
        if any(part.startswith("_") for part in module_info.name.split(".")[1:]):
            continue
        try:
            module = importlib.import_module(module_info.name)
        except ImportError:  # an optional dependency that is not installed
            continue
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            members = [(name, obj)]
            if inspect.isclass(obj):
                members = [
                    (f"{name}.{attr}", getattr(obj, attr))
                    for attr in vars(obj)
                    if not attr.startswith("_") and callable(getattr(obj, attr))
                ]
            for qualified, member in members:
                try:
                    parameters = inspect.signature(member).parameters
                except (TypeError, ValueError):
                    continue
                if "as_of" in parameters:
                    found.add(f"{module.__name__}.{qualified}")
    return found


def test_every_function_taking_as_of_is_listed() -> None:
    """The tables below cover every public function with an ``as_of``: a new one is added to
    them, and so tested."""
    assert _public_functions_taking_as_of() == set(REFUSING) | set(ZONED)


@pytest.mark.parametrize("naive", NAIVE)
@pytest.mark.parametrize("name", sorted(REFUSING))
def test_a_naive_as_of_is_refused_with_the_hint(name: str, naive: Any) -> None:
    """A naive ``as_of`` (text or datetime) is a SchemaError with the one hint."""
    with pytest.raises(SchemaError, match=f"^{HINT}$"):
        REFUSING[name](LOG, naive)


@pytest.mark.parametrize("naive", NAIVE)
@pytest.mark.parametrize("name", sorted(ZONED))
def test_a_naive_as_of_without_timezone_names_it(name: str, naive: Any) -> None:
    """Without ``timezone=`` the hint is the same, and says that ``timezone=`` reads it."""
    with pytest.raises(
        SchemaError, match=f"^{HINT}, or pass timezone='UTC' \\(or the zone it is in\\)$"
    ):
        ZONED[name](LOG, naive)


@pytest.mark.filterwarnings("ignore::cxmodel.errors.DataWarning")
@pytest.mark.parametrize("name", sorted(ZONED))
def test_timezone_reads_a_naive_as_of(name: str) -> None:
    """With ``timezone=`` a naive ``as_of`` is that wall time in the zone: the result equals
    the one for the same instant written with its offset, and differs from the one for that
    wall time in UTC (00:30 on 1 November in Paris: the next day and month)."""
    naive = ZONED[name](LOG, "2024-10-31T23:30:00", timezone="Europe/Paris")
    aware = ZONED[name](LOG, "2024-10-31T23:30:00+01:00", timezone="Europe/Paris")
    utc = ZONED[name](LOG, "2024-10-31T23:30:00Z", timezone="Europe/Paris")
    assert _same(naive, aware)
    assert not _same(naive, utc)


def _same(a: Any, b: Any) -> bool:
    """Two results hold equal arrays and values, field by field."""
    for field in attrs.fields(type(a)):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            if not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
                return False
        elif x != y:
            return False
    return True


@pytest.mark.parametrize(
    "as_of",
    [
        pytest.param(datetime(2024, 12, 31, 1, tzinfo=timezone(timedelta(hours=1))), id="datetime"),
        pytest.param(np.datetime64("2024-12-31T00:00:00"), id="datetime64"),
        pytest.param(AWARE, id="text"),
    ],
)
def test_an_aware_as_of_is_read(as_of: Any) -> None:
    """Aware datetimes, ISO-8601 text with an offset and ``datetime64`` (UTC) are one instant."""
    expected = segment.rfm_scores(LOG, as_of=AWARE)
    assert _same(segment.rfm_scores(LOG, as_of=as_of), expected)


ENDS = ("calibration_end", "observation_end")
"""The times ``cxmodel.models.calibration_holdout_split`` takes besides ``as_of``: observation
ends of calendar periods, read as a ``ZONED`` function reads its ``as_of``."""


def _split(log: InteractionLog, time: Any, end: str, **options: Any) -> object:
    """``calibration_holdout_split`` with ``time`` as the end named ``end``, the other aware."""
    ends = {"calibration_end": "2024-06-30T00:00:00Z", "observation_end": "2024-12-31T00:00:00Z"}
    ends[end] = time
    return models.calibration_holdout_split(log, **ends, freq="M", **options)


@pytest.mark.parametrize("naive", NAIVE)
@pytest.mark.parametrize("end", ENDS)
def test_a_naive_observation_end_is_refused_with_the_hint(end: str, naive: Any) -> None:
    """A naive calibration or observation end is refused with the hint of ``as_of``, naming
    the argument, and saying that ``timezone=`` reads it: it is never taken for UTC."""
    with pytest.raises(
        SchemaError,
        match=f"^{HINT.replace('as_of', end)}, or pass timezone='UTC' \\(or the zone it is in\\)$",
    ):
        _split(LOG, naive, end)


@pytest.mark.parametrize(
    ("end", "wall", "offset"),
    [
        ("calibration_end", "2024-06-30T23:30:00", "+02:00"),
        ("observation_end", "2024-12-31T23:30:00", "+01:00"),
    ],
)
def test_timezone_reads_a_naive_observation_end(end: str, wall: str, offset: str) -> None:
    """With ``timezone=`` a naive end is that wall time in the zone: the same split as the
    time written with Paris' offset, and not the one for 23:30 UTC, which is 00:30 of the
    next month in Paris."""
    naive = _split(LOG, wall, end, timezone="Europe/Paris")
    aware = _split(LOG, wall + offset, end, timezone="Europe/Paris")
    utc = _split(LOG, wall + "Z", end, timezone="Europe/Paris")
    assert _same_split(naive, aware)
    assert not _same_split(naive, utc)


def _same_split(a: Any, b: Any) -> bool:
    """Two calibration/hold-out splits are equal, summary, counts and duration."""
    return bool(_same(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2])
