"""Interactions as the streaming engine takes them in, in event time: refused when too far
ahead of the clock, ignored when re-delivered, late when behind the watermark, and otherwise
buffered until the allowed lateness has passed them, then released to the rules in time
order (arrival order among equal times).

:class:`Delivery` holds what that needs between calls (the buffer, the latest time seen, the
watermark, the time ``advance_to`` declared complete); the engine keeps it in its snapshot
and rolls it back with a call that fails.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from cxmodel._time import us_to_datetime
from cxmodel.triggers._ingest import CATALOGUE, Row
from cxmodel.triggers._runner import RuleRunner
from cxmodel.triggers._store import Quarantined
from cxmodel.triggers._stored import TIME_RANGE_US

__all__ = ["ID_TAKEN", "Buffered", "Delivery", "sweep_mark"]

#: a buffered interaction: its time, its arrival number (ties in time keep arrival order), it
Buffered = tuple[int, int, Row]


#: how the reason of an interaction refused for coming under another one's id begins
ID_TAKEN = "refused: interaction id"


class Delivery:
    """The event-time side of a streaming engine: which interactions are on time, and when
    each is released to the rules.

    ``lateness`` is how far (microseconds) behind the latest time seen an interaction may
    arrive and still be taken in time order; ``max_future`` how far ahead of the clock it
    may be (``None``: any time). The state: ``buffer``, a heap of the interactions taken but
    not released; ``buffered_ids``, their (customer, interaction id) and times; ``max_seen``,
    the latest time taken; ``watermark``, the time before which an interaction is late;
    ``closed``, the time :meth:`close` declared complete (an interaction at or before it is late);
    ``arrivals``, the arrival numbers given; ``duplicates``, the re-delivered interactions
    ignored.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> runner = RuleRunner(parse("trigger t:\\n    when view\\n    emit x"), {})
    >>> delivery = Delivery(lateness=10, max_future=None)
    >>> late, refused = delivery.take([Row("a", 100, "view", {}), Row("a", 95, "view", {})],
    ...                               runner, now=lambda: 0)
    >>> delivery.watermark, len(delivery.buffer), [f.time for f in runner.emitted]
    (90, 2, [])
    >>> delivery.close(100, runner)
    >>> len(delivery.buffer), len(runner.emitted)
    (0, 2)
    """

    def __init__(self, lateness: int, max_future: int | None, window: int | None = None) -> None:
        self.lateness = lateness
        self.max_future = max_future
        #: the redelivery window: an id taken more than this before or after an interaction
        #: under it names another interaction, whether or not it is forgotten yet (``None``:
        #: an id names one interaction while it is remembered)
        self.window = window
        self.buffer: list[Buffered] = []
        # (customer, interaction id) -> the times of the buffered rows under it, in order:
        # interactions further apart than the window may share an id, and wait together
        self.buffered_ids: dict[tuple[str, str], tuple[int, ...]] = {}
        self.max_seen: int | None = None
        self.watermark: int | None = None  # interactions before it are late
        self.closed: int | None = None  # advance_to: everything at or before it is final
        self.arrivals = 0
        self.duplicates = 0
        self.swept: int | None = None  # the last forget_ids mark (kept in memory only)
        self.trimmed: int | None = None  # the last trim_buffers mark (kept in memory only)

    @property
    def released(self) -> int | None:
        """The time up to which interactions have been released (``None`` at start): the
        later of the watermark and the time declared complete."""
        watermark, closed = self.watermark, self.closed
        if closed is None or (watermark is not None and watermark >= closed):
            return watermark
        return closed

    @property
    def on_time(self) -> int | None:
        """The earliest time not late (``None``: any): an interaction before the watermark,
        or at or before the time ``advance_to`` declared complete, is late."""
        if self.closed is not None and (self.watermark is None or self.closed >= self.watermark):
            return self.closed + 1
        return self.watermark

    def frontier(self, top: int) -> int:
        """The watermark the latest time ``top`` makes: ``lateness`` behind it, and never
        before the first time (year 1), which no interaction precedes: an interaction in
        year 1 with an allowed lateness would otherwise set a watermark no snapshot holds
        and no ``datetime`` shows.

        Examples
        --------
        >>> Delivery(lateness=10, max_future=None).frontier(100)
        90
        >>> Delivery(lateness=10, max_future=None).frontier(TIME_RANGE_US[0]) == TIME_RANGE_US[0]
        True
        """
        frontier = top - self.lateness
        return frontier if frontier > TIME_RANGE_US[0] else TIME_RANGE_US[0]

    def taken(
        self, customer: str, ident: str, time: int, runner: RuleRunner, also: tuple[int, ...] = ()
    ) -> int | None:
        """The time of ``customer``'s interaction ``ident`` taken before an interaction at
        ``time`` under that id (``None``: none): buffered, taken earlier in the call (the
        times ``also``), or released and still remembered (by the customer, or by the
        catalogue), within the redelivery window of ``time`` (:meth:`nearest`). At ``time``
        itself it is a re-delivery; at another time, another interaction under the same id
        (:meth:`reused`). One taken further away is forgotten, or soon will be
        (``forget_ids``): that it is not yet must not decide, or the cut of a stream into
        calls would.

        Examples
        --------
        >>> from cxmodel.triggers import parse
        >>> runner = RuleRunner(parse("trigger t:\\n    when view\\n    emit x"), {})
        >>> delivery = Delivery(lateness=50, max_future=None, window=10)
        >>> _ = delivery.take([Row("a", t, "view", {"interaction_id": "o"}) for t in (100, 60)],
        ...                   runner, now=lambda: 0)
        >>> delivery.buffered_ids  # both wait: 40 apart, they are two interactions
        {('a', 'o'): (60, 100)}
        >>> delivery.taken("a", "o", 95, runner), delivery.taken("a", "o", 80, runner)
        (100, None)
        """
        buffered = self.buffered_ids
        held = buffered.get((customer, ident), ()) if buffered else ()
        if customer == CATALOGUE:
            remembered = runner.catalogue.seen.get(ident)
        else:
            state = runner.states.get(customer)
            remembered = None if state is None else state.seen.get(ident)
        if not held and not also:  # the usual case: at most the time the customer remembers
            return None if remembered is None or not self.within(remembered, time) else remembered
        times = held + also if remembered is None else (*held, *also, remembered)
        return self.nearest(times, time)

    def nearest(self, times: tuple[int, ...], time: int) -> int | None:
        """Of the ``times`` interactions under an id were taken at, the one an interaction at
        ``time`` under that id meets: ``time`` itself (it is a re-delivery), else the nearest
        within the redelivery window (the earlier of two as near; ``None``: none is).

        Examples
        --------
        >>> delivery = Delivery(lateness=0, max_future=None, window=10)
        >>> delivery.nearest((60, 75), 70), delivery.nearest((60, 80), 70)
        (75, 60)
        >>> delivery.nearest((60, 70), 65), delivery.nearest((40, 100), 70)
        (60, None)
        """
        if time in times:
            return time
        best: int | None = None
        for earlier in times:
            if self.within(earlier, time) and (
                best is None or (abs(earlier - time), earlier) < (abs(best - time), best)
            ):
                best = earlier
        return best

    def within(self, earlier: int | None, time: int) -> bool:
        """Whether an id taken at ``earlier`` (``None``: not taken) may name the
        interaction at ``time``: they are no further apart than the redelivery window."""
        return earlier is not None and (self.window is None or abs(time - earlier) <= self.window)

    def buffer_id(self, customer: str, ident: str, time: int) -> None:
        """Remember that ``customer``'s interaction ``ident`` at ``time`` waits in the buffer
        (beside any other under that id: they are further apart than the window)."""
        key = (customer, ident)
        held = self.buffered_ids.get(key)
        self.buffered_ids[key] = (time,) if held is None else tuple(sorted((*held, time)))

    def unbuffer_id(self, customer: str, ident: str, time: int) -> None:
        """Forget that ``customer``'s interaction ``ident`` at ``time`` waits (it is released),
        and only it: another under that id may wait still."""
        key = (customer, ident)
        held = self.buffered_ids.get(key, ())
        if time not in held:
            return
        at = held.index(time)
        rest = held[:at] + held[at + 1 :]
        if rest:
            self.buffered_ids[key] = rest
        else:
            del self.buffered_ids[key]

    def reused(self, row: Row, earlier: int) -> Quarantined:
        """``row`` refused for coming under the interaction id of another interaction of its
        customer, taken at ``earlier`` (a re-delivery repeats its time), with the reason."""
        who = "the catalogue's events" if row.customer == CATALOGUE else repr(row.customer)
        return Quarantined(
            row.record(),
            f"{ID_TAKEN} {row.interaction_id!r} was taken for another interaction of "
            f"{who} at {us_to_datetime(earlier).isoformat()}; this one is at "
            f"{us_to_datetime(row.time).isoformat()} (a re-delivery repeats its time): give "
            "each interaction its own id",
            row.customer or None,
        )

    def take(
        self, rows: list[Row], runner: RuleRunner, now: Callable[[], int]
    ) -> tuple[list[Quarantined], list[Quarantined]]:
        """Check, buffer and release ``rows`` to ``runner``; fire what they make due.
        Return the late and the refused ones. ``now`` is the clock (microseconds), read only
        when there are rows and ``max_future`` is set."""
        late: list[Quarantined] = []
        rejected: list[Quarantined] = []
        if not rows:
            return late, rejected
        limit = None if self.max_future is None else now() + self.max_future
        accepted: list[Row] = []
        top = self.max_seen
        on_time = self.on_time
        for row in rows:
            time = row.time
            if limit is not None and time > limit:
                rejected.append(self.refusal(row, limit))
                continue
            ident = row.interaction_id
            if ident is not None:
                earlier = self.taken(row.customer, ident, time, runner)
                if earlier == time:
                    self.duplicates += 1
                    continue
                if earlier is not None:
                    rejected.append(self.reused(row, earlier))
                    continue
            if on_time is not None and time < on_time:
                reason = self.late_reason(time)
                assert reason is not None  # before on_time is late
                late.append(Quarantined(row.record(), reason, row.customer or None))
                continue
            if ident is not None:
                self.buffer_id(row.customer, ident, time)
            accepted.append(row)
            if top is None or time > top:
                top = time
        self.max_seen = top
        if top is None:
            return late, rejected
        frontier = self.frontier(top)
        in_order = not self.buffer and (
            len(accepted) < 2
            or all(accepted[j].time <= accepted[j + 1].time for j in range(len(accepted) - 1))
        )
        if in_order and (not accepted or accepted[-1].time <= frontier):
            for row in accepted:
                self._release(row, runner)
        else:
            for row in accepted:
                heapq.heappush(self.buffer, (row.time, self.arrivals, row))
                self.arrivals += 1
            self.release_upto(frontier, runner)
        runner.advance(frontier, inclusive=False)
        if self.watermark is None or frontier > self.watermark:
            self.watermark = frontier
        return late, rejected

    def take_one(
        self, row: Row, runner: RuleRunner, now: Callable[[], int]
    ) -> tuple[tuple[Quarantined, ...], tuple[Quarantined, ...]]:
        """:meth:`take` of one row (``take([row], ...)``, with the same result and state),
        without the work a batch needs: the engine's path for one interaction at a time."""
        time = row.time
        late: tuple[Quarantined, ...] = ()
        rejected: tuple[Quarantined, ...] = ()
        ident = row.interaction_id
        cid = row.customer
        frontier: int | None = None
        limit = None if self.max_future is None else now() + self.max_future
        earlier = None if ident is None else self.taken(cid, ident, time, runner)
        if limit is not None and time > limit:
            rejected = (self.refusal(row, limit),)
        elif earlier == time:
            self.duplicates += 1
        elif earlier is not None:
            rejected = (self.reused(row, earlier),)
        elif (on_time := self.on_time) is not None and time < on_time:
            reason = self.late_reason(time)
            assert reason is not None
            late = (Quarantined(row.record(), reason, cid or None),)
        else:
            top = self.max_seen
            if top is None or time > top:
                top = self.max_seen = time
            frontier = self.frontier(top)
            if not self.buffer and time <= frontier:
                runner.release(row)  # in order: straight to the rules
            else:
                if ident is not None:
                    self.buffer_id(cid, ident, time)
                heapq.heappush(self.buffer, (time, self.arrivals, row))
                self.arrivals += 1
                self.release_upto(frontier, runner)
        if self.max_seen is None:
            return late, rejected
        if frontier is None:  # (not taken in: the latest time did not move)
            frontier = self.frontier(self.max_seen)
        timers = runner.timers
        if (timers and timers[0][0] < frontier) or runner.alerts.plans:
            runner.advance(frontier, inclusive=False)
        if self.watermark is None or frontier > self.watermark:
            self.watermark = frontier
        return late, rejected

    def close(
        self, time: int, runner: RuleRunner, fire: Callable[[int], None] | None = None
    ) -> None:
        """Declare everything up to ``time`` delivered: release it and fire the timers due by
        then (``advance_to``), one by one or with ``fire(time)``, which fires the same."""
        self.release_upto(time, runner)
        if fire is None:
            runner.advance(time, inclusive=True)
        else:
            fire(time)
        if self.closed is None or time > self.closed:
            self.closed = time

    def forget_ids(self, runner: RuleRunner, window: int) -> None:
        """Forget, for every customer, the interaction ids more than ``window`` (the
        redelivery window) behind :attr:`released` (the later of the watermark and the time
        :meth:`close` declared complete), which can only come back late: once that time has
        moved a quarter of the window since the last time, so that the work
        is a look at each customer per quarter window of event time, and an id is kept at
        most 1.25 windows. The marks are multiples of the quarter window, so that any cut of
        a stream into calls leaves the same ids.

        Examples
        --------
        >>> from cxmodel.triggers import parse
        >>> runner = RuleRunner(parse("trigger t:\\n    when view\\n    emit x"), {})
        >>> delivery = Delivery(lateness=0, max_future=None)
        >>> _ = delivery.take([Row("a", t, "view", {"interaction_id": f"e{t}"}) for t in
        ...                   (10, 20, 95)], runner, now=lambda: 0)
        >>> delivery.forget_ids(runner, 40)
        >>> delivery.swept, sorted(runner.states["a"].seen)
        (50, ['e95'])
        """
        complete, swept = self.released, self.swept
        if complete is None:
            return
        # the mark moves on once complete - window reaches the next multiple of the step
        if swept is None or complete - window >= swept + max(window // 4, 1):  # (_sweep_step)
            self.swept = mark = sweep_mark(complete, window)
            runner.forget_ids(mark)

    def trim_buffers(self, runner: RuleRunner) -> None:
        """Trim every customer's windows, kept rows and catalogue join buffers
        (:meth:`RuleRunner.trim_buffers`) once :attr:`released` has moved on a
        :attr:`RuleRunner.buffer_period` since the last time, at the multiple of the period
        it reached: a customer who no longer brings a buffer's kind keeps its values at most
        two periods, and any cut of a stream into calls leaves the same values.

        Examples
        --------
        >>> from cxmodel.triggers import parse
        >>> runner = RuleRunner(parse("trigger t:\\n    when view\\n    if count(buy within "
        ...                           "1 days) >= 0\\n    emit x"), {})
        >>> delivery = Delivery(lateness=0, max_future=None)
        >>> day = runner.buffer_period
        >>> _ = delivery.take([Row("a", 10, "buy", {}), Row("b", 3 * day, "view", {})], runner,
        ...                   now=lambda: 0)
        >>> [len(values) for values in runner.states["a"].windows.values()]
        [1]
        >>> delivery.trim_buffers(runner)
        >>> delivery.trimmed == 3 * day, [len(v) for v in runner.states["a"].windows.values()]
        (True, [0])
        """
        complete, period = self.released, runner.buffer_period
        if complete is None or period is None:
            return
        mark = complete // period * period
        if self.trimmed is None or mark > self.trimmed:
            self.trimmed = mark
            runner.trim_buffers(mark)

    def refusal(self, row: Row, limit: int) -> Quarantined:
        """``row`` refused for being after ``limit`` (the clock plus ``max_future``), with
        the reason (both paths, one interaction at a time and columnar)."""
        ahead = self.max_future or 0
        return Quarantined(
            row.record(),
            f"refused: {us_to_datetime(row.time).isoformat()} is more than "
            f"{timedelta(microseconds=ahead)} ahead of the clock "
            f"({us_to_datetime(limit - ahead).isoformat()}); check "
            "the sender's clock or the timestamp's unit (milliseconds read as seconds?)",
            row.customer or None,
        )

    def late_reason(self, time: int) -> str | None:
        """Why an interaction at ``time`` is late (``None``: it is not)."""
        if self.closed is not None and time <= self.closed:
            return (
                f"late: {us_to_datetime(time).isoformat()} is at or before "
                f"{us_to_datetime(self.closed).isoformat()}, which advance_to declared complete"
            )
        if self.watermark is not None and time < self.watermark:
            return (
                f"late: {us_to_datetime(time).isoformat()} is before the watermark "
                f"{us_to_datetime(self.watermark).isoformat()} (allowed lateness "
                f"{timedelta(microseconds=self.lateness)})"
            )
        return None

    def release_upto(self, frontier: int, runner: RuleRunner) -> None:
        """Release to ``runner`` the buffered interactions at or before ``frontier``."""
        buffer = self.buffer
        while buffer and buffer[0][0] <= frontier:
            self._release(heapq.heappop(buffer)[2], runner)

    def _release(self, row: Row, runner: RuleRunner) -> None:
        if row.interaction_id is not None:
            self.unbuffer_id(row.customer, row.interaction_id, row.time)
        runner.release(row)

    def held(self) -> list[Row]:
        """The buffered interactions, in the order they will be released."""
        return [item[2] for item in sorted(self.buffer, key=lambda item: item[:2])]

    def push(self, time: int, arrival: int, row: Row) -> None:
        """Buffer ``row`` again as it was buffered (a restored snapshot)."""
        heapq.heappush(self.buffer, (time, arrival, row))
        if row.interaction_id is not None:
            self.buffer_id(row.customer, row.interaction_id, row.time)

    def without(self, customer_id: str) -> list[Buffered] | None:
        """The buffer without ``customer_id``'s interactions (``None``: none is buffered);
        :meth:`keep` it once the store has erased them."""
        kept = [item for item in self.buffer if item[2].customer != customer_id]
        return None if len(kept) == len(self.buffer) else kept

    def keep(self, kept: list[Buffered]) -> None:
        """Buffer only ``kept`` (from :meth:`without`)."""
        heapq.heapify(kept)
        self.buffer = kept
        self.buffered_ids = {}
        for _, _, row in kept:
            if row.interaction_id is not None:
                self.buffer_id(row.customer, row.interaction_id, row.time)

    def save(self) -> tuple[Any, ...]:
        """The state, to :meth:`restore` if a call fails (the buffered rows' release
        numbers and ranks too, which releasing them sets)."""
        numbered = [(row, row.seq, row.rank) for _, _, row in self.buffer if type(row) is Row]
        return (
            self.max_seen, self.watermark, self.closed, self.arrivals, list(self.buffer),
            dict(self.buffered_ids), self.duplicates, self.swept, self.trimmed, numbered,
        )  # fmt: skip

    def restore(self, saved: tuple[Any, ...]) -> None:
        """Put back the state :meth:`save` returned."""
        (
            self.max_seen, self.watermark, self.closed, self.arrivals, self.buffer,
            self.buffered_ids, self.duplicates, self.swept, self.trimmed, numbered,
        ) = saved  # fmt: skip
        for row, seq, rank in numbered:
            row.seq, row.rank = seq, rank


def sweep_mark(complete: int, window: int) -> int:
    """The time before which :meth:`Delivery.forget_ids` forgets interaction ids once
    interactions are released up to ``complete``, with a redelivery ``window``: a multiple
    of the quarter window, at least ``window`` behind ``complete``.

    Examples
    --------
    >>> sweep_mark(95, 40), sweep_mark(99, 40), sweep_mark(100, 40)
    (50, 50, 60)
    """
    step = _sweep_step(window)
    return (complete - window) // step * step


def _sweep_step(window: int) -> int:
    """The event time between two sweeps of interaction ids: a quarter of the redelivery
    ``window`` (at least one microsecond)."""
    return max(window // 4, 1)
