"""cxmodel.dask.evaluate warns about firings after the data as the one-process evaluate does,
on the local scheduler (apart from tests/dask/test_triggers.py, whose module-wide cluster runs
threads that save and restore the process-wide warning filters)."""

from __future__ import annotations

import warnings

import pytest

from cxmodel import dask as cxd
from cxmodel.errors import DataWarning
from cxmodel.log import InteractionLog
from cxmodel.triggers import evaluate, parse

pytest.importorskip("dask.dataframe")

RULES = parse("trigger lapsed:\n    when inactive for 10 days\n    emit nudge")
LOG = InteractionLog.from_arrays(
    ["a", "b", "c", "d"],
    ["2024-01-01T00:00Z", "2024-01-05T00:00Z", "2024-01-20T00:00Z", "2024-02-01T00:00Z"],
    ["view"] * 4,
)


def test_firings_after_every_partition_warn_as_one_process() -> None:
    """One firing (d's, on Feb 11) falls after the last interaction of every partition; a's,
    b's and c's are inside the data: the same count as one process, said once."""
    import dask.dataframe as dd

    import dask

    ddf = dd.from_pandas(LOG.to_pandas(), npartitions=3)
    with pytest.warns(DataWarning, match=r"in it \(lapsed: 1\)") as one:
        expected = evaluate(RULES, LOG, as_of="2024-03-01Z")
    with (
        dask.config.set(scheduler="synchronous"),
        pytest.warns(DataWarning, match=r"cxmodel.dask.evaluate\(\).*in it \(lapsed: 1\)") as got,
    ):
        firings = cxd.evaluate(RULES, ddf, as_of="2024-03-01Z")
    assert len(one) == 1 and len(got) == 1
    assert firings == expected
    with dask.config.set(scheduler="synchronous"), warnings.catch_warnings():
        warnings.simplefilter("error")
        inside = cxd.evaluate(RULES, ddf, as_of="2024-02-01Z")
    assert [f.customer_id for f in inside] == ["a", "b", "c"]


def test_declared_observation_is_silent() -> None:
    """Partitions declared observed until as_of evaluate without the warning, with the same
    firings."""
    import dask.dataframe as dd

    import dask

    ddf = dd.from_pandas(LOG.to_pandas(), npartitions=3)
    with dask.config.set(scheduler="synchronous"), warnings.catch_warnings():
        warnings.simplefilter("error")
        parts = cxd.from_dask(ddf).with_observed_until("2024-03-01Z")
        firings = cxd.evaluate(RULES, parts, as_of="2024-03-01Z")
    expected = evaluate(RULES, LOG.with_observed_until("2024-03-01Z"), as_of="2024-03-01Z")
    assert firings == expected and len(firings) == 4


def test_no_consent_record_warns_as_one_process() -> None:
    """A consent rule over partitions none of which holds a consent record: the note of the
    one-process evaluate, with the same count (one firing per customer, four partitions)."""
    import dask.dataframe as dd

    import dask

    rules = parse("trigger t:\n    when view\n    emit x\n    requires consent marketing")
    ddf = dd.from_pandas(LOG.to_pandas(), npartitions=4)
    note = r"rule 't' requires consent marketing, but no consent record was found .*: 4 of its"
    with pytest.warns(DataWarning, match=r"^evaluate\(\): " + note):
        expected = evaluate(rules, LOG.with_observed_until("2024-03-01Z"), as_of="2024-03-01Z")
    with (
        dask.config.set(scheduler="synchronous"),
        pytest.warns(DataWarning, match=r"^cxmodel.dask.evaluate\(\): " + note) as got,
    ):
        parts = cxd.from_dask(ddf).with_observed_until("2024-03-01Z")
        firings = cxd.evaluate(rules, parts, as_of="2024-03-01Z")
    assert len(got) == 1 and firings == expected
