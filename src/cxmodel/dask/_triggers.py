"""Batch trigger evaluation over customer partitions: firings per partition, ordered once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import attrs

from cxmodel._time import TimeLike, as_of_us
from cxmodel.dask._common import dask_modules
from cxmodel.dask._partitions import customer_logs
from cxmodel.dask._warnings import raise_caught, recorded
from cxmodel.errors import DataError
from cxmodel.log import InteractionLog
from cxmodel.log._observed import check_as_of, first_time
from cxmodel.triggers import Firings, Rule, RuleSet
from cxmodel.triggers._api import refuse_unchecked
from cxmodel.triggers._arguments import customer_records, rule_set
from cxmodel.triggers._batch import (
    consent_recorded,
    evaluate_us,
    warn_unconsented,
    warn_unobserved_firings,
)
from cxmodel.triggers._catalogue import catalogue_log
from cxmodel.triggers._firings import FiringBlock, firing_blocks

__all__ = ["evaluate", "evaluate_partial", "firings_of"]

# A partition's emitted and suppressed firings, as columnar blocks.
Blocks = tuple[list[FiringBlock], list[FiringBlock]]


def _vocabulary(
    log: InteractionLog | None,
) -> tuple[frozenset[str], dict[str, str], int | None, int | None]:
    """A partition's kinds and schema (what :func:`cxmodel.triggers.check` reads), and the
    start and end of its observation."""
    if log is None:
        return frozenset(), {}, None, None
    kinds = frozenset(str(k) for k in log.kinds.tolist())
    return kinds, dict(log.schema), first_time(log), log.observed_until


def evaluate_partial(
    log: InteractionLog | None,
    rules: RuleSet,
    cutoff: int,
    customers: Mapping[str, Any] | None,
    events: Any = None,
) -> Blocks:
    """One partition's emitted and suppressed firings as columnar blocks, with customer ranks
    marked local (they are re-ranked by id on the client)."""
    if log is None:
        return [], []
    mine = None
    if customers is not None:
        mine = {c: customers[c] for c in log.customers.tolist() if c in customers}
    firings = evaluate_us(rules, log, cutoff, customers=mine, events=events)
    emitted, suppressed = firing_blocks(firings)  # columns travel, not Firing objects
    return (
        [attrs.evolve(b, ranked=False) for b in emitted],
        [attrs.evolve(b, ranked=False) for b in suppressed],
    )


def evaluate(
    rules: RuleSet | Rule,
    data: Any,
    *,
    as_of: TimeLike,
    customers: Mapping[str, Any] | None = None,
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    catalogue: Any = None,
) -> Firings:
    """:func:`cxmodel.triggers.evaluate` over a Dask DataFrame or :class:`CustomerPartitions`.

    The rules are checked once on the client against the kinds and columns of all partitions
    together (a kind only some partitions hold is not refused). Each customer partition then
    evaluates the rules on its own log; only its firings, emitted and suppressed, travel back
    as columns, and the client orders them as one process does (time, customer id, trigger,
    firing id). Every policy of the language is per customer, so the result equals
    :func:`cxmodel.triggers.evaluate` on the whole log: the same firings, ids, payloads,
    ``because`` and suppression reasons, in the same order. ``customers`` (id ->
    :class:`~cxmodel.domain.Customer`) is sent to the cluster once and each partition reads its
    own customers from it. Catalogue events (``catalogue``, as
    :func:`cxmodel.triggers.evaluate` takes them) are sent to every partition, which joins
    them to its own customers. The evaluation limits (``EvaluationLimitError``) apply per
    partition.

    Parameters
    ----------
    rules : RuleSet or Rule
        Parsed rules.
    data : dask.dataframe.DataFrame or CustomerPartitions
        Interaction rows, or the logs of :func:`from_dask` (then no shuffle).
    as_of : time
        Aware evaluation time, as in :func:`cxmodel.triggers.evaluate`.
    customers : mapping, optional
        Customer id -> :class:`~cxmodel.domain.Customer`, for traits and consent; checked
        as :func:`cxmodel.triggers.evaluate` checks it.
    catalogue : records or mapping of columns, optional
        Catalogue events (no ``customer_id``), for catalogue rules.
    mapping, timezone : optional
        As in :func:`from_dask`, when ``data`` is a frame.

    Returns
    -------
    Firings

    Raises
    ------
    TriggerTypeError
        The rules do not check against the data (an unknown kind or a type mismatch).
    SchemaError
        ``as_of`` is not an aware time, or ``customers`` holds another customer's record
        under a key.
    ValueTypeError
        ``rules`` is not a RuleSet or a Rule (text not parsed, say), as in one process;
        ``customers`` is not a mapping of id -> :class:`~cxmodel.domain.Customer` (a dict
        of traits, say).
    DataError
        ``as_of`` is before the first interaction of every partition, as in
        :func:`cxmodel.triggers.evaluate`; or the rules hold alerts (``alert NAME:``): an
        alert reads every customer's interactions, so no partition can decide it alone.

    Warns
    -----
    DataWarning
        As :func:`cxmodel.triggers.evaluate` does, when firings fall after the last
        interaction of every partition and at or before ``as_of``.

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> from cxmodel import dask as cxd
    >>> from cxmodel.triggers import parse
    >>> frame = pd.DataFrame({"customer_id": ["a", "b", "a"], "kind": ["purchase"] * 3,
    ...     "value": [50.0, 500.0, 700.0],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True)})
    >>> rules = parse("trigger big:\\n    when purchase as p where p.value > 100\\n    emit thanks")
    >>> with dask.config.set(scheduler="synchronous"):
    ...     firings = cxd.evaluate(rules, dd.from_pandas(frame, npartitions=2),
    ...                            as_of="2024-12-31T00:00Z")
    >>> [(f.customer_id, f.time.date().isoformat()) for f in firings]
    [('b', '2024-01-02'), ('a', '2024-01-03')]
    """
    feature = "cxmodel.dask.evaluate()"
    rules = rule_set(rules, feature)  # refused as in one process
    if rules.alerts:
        names = ", ".join(repr(a.name) for a in rules.alerts)
        raise DataError(
            f"cxmodel.dask.evaluate() evaluates rules per customer partition; alert(s) {names} "
            "read every customer's interactions, which no partition holds alone. Evaluate the "
            "rules without them here (RuleSet(rules.rules, rules.policies)) and the alerts with "
            "cxmodel.triggers.evaluate on the interactions of the kinds they count"
        )
    dask, _ = dask_modules(feature)
    cutoff = as_of_us(as_of)
    if customers is not None:  # refused as in one process, before any partition is read
        customers = customer_records(customers, feature)
    parts = customer_logs(data, mapping, timezone)
    vocabularies = dask.compute(*[dask.delayed(_vocabulary)(log) for log in parts.logs])
    kinds: set[str] = set()
    schema: dict[str, str] = {}
    starts = [start for _, _, start, _ in vocabularies if start is not None]
    check_as_of(min(starts, default=None), cutoff, caller=feature)
    ends = [end for _, _, _, end in vocabularies if end is not None]
    for part_kinds, part_schema, _, _ in vocabularies:
        kinds |= part_kinds
        for name, kind in part_schema.items():
            schema.setdefault(name, kind)
    events = catalogue_log(catalogue)
    refuse_unchecked(rules, SimpleNamespace(kinds=sorted(kinds), schema=schema), events)
    shared = None if customers is None else dask.delayed(dict(customers), pure=True)
    sent = None if events is None else dask.delayed(events, pure=True)
    tasks, caught = recorded(dask, evaluate_partial, parts.logs, rules, cutoff, shared, sent)
    *blocks, warned = dask.compute(*tasks, caught)
    raise_caught(warned or {})
    firings = firings_of(blocks)
    until = max(ends) if ends else None
    warn_unobserved_firings(firings, until, cutoff, "cxmodel.dask.evaluate()")
    consented = consent_recorded(kinds, customers)
    warn_unconsented(firings, rules, consented, "cxmodel.dask.evaluate()")
    return firings


def firings_of(results: Sequence[Blocks]) -> Firings:
    """The partitions' firings (different customers each) as one :class:`Firings`, ordered as
    one process orders them (time, customer id, trigger, firing id)."""
    emitted = [b for e, _ in results for b in e]
    suppressed = [b for _, s in results for b in s]
    return Firings.from_blocks(emitted, suppressed)
