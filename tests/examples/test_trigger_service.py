"""The reference trigger service (``examples/trigger_service.py``) run as a subprocess on
127.0.0.1: its endpoints and errors, and SIGKILL mid-stream with restarts and re-delivery
delivering exactly the firings of batch evaluation."""

from __future__ import annotations

import http.client
import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES, Firing, SQLiteStore, parse
from tests.triggers.helpers import evaluate_complete

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "examples" / "trigger_service.py"
SRC = REPO / "src"
HOST = "127.0.0.1"
START_TIMEOUT = 30.0  # seconds for a server to print its port
CALL_TIMEOUT = 30.0  # seconds for one HTTP call
EXIT_TIMEOUT = 15.0  # seconds for a server to exit after SIGTERM or SIGKILL
RUN_BUDGET = 120.0  # seconds for the whole crash run; past it the test fails

Record = dict[str, Any]
Json = dict[str, Any]


class CallCut(Exception):
    """An HTTP call that ended without a complete response (the server died)."""


class Server:
    """The service as a subprocess on one SQLite file, started and stopped by the test.

    Parameters
    ----------
    db : Path
        The state file (kept across restarts).
    log : Path
        Where the servers' standard error goes (appended across restarts).
    options : sequence of str
        More command-line options for the service (e.g. ``["--timeout", "2"]``).
    """

    def __init__(self, db: Path, log: Path, options: Sequence[str] = ()) -> None:
        self.db, self.log = db, log
        self.options = list(options)
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0

    def start(self) -> int:
        """Start a server and return its port once it prints it.

        Returns
        -------
        int
            The port bound on 127.0.0.1.
        """
        assert self.process is None, "a server is already running"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
        args = [sys.executable, str(SERVICE), "--db", str(self.db), "--port", "0"]
        with self.log.open("ab") as err:
            self.process = subprocess.Popen(
                [*args, "--host", HOST, "--rules", "default", *self.options],
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
            )
        self.starts += 1
        stdout = self.process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], START_TIMEOUT)
        line = stdout.readline() if ready else b""
        if not line.strip().isdigit():
            self.kill()
            pytest.fail(
                f"the service did not print its port within {START_TIMEOUT} s "
                f"(got {line!r}); its log:\n{self.log_text()}"
            )
        self.port = int(line)
        return self.port

    def kill(self) -> None:
        """SIGKILL the server and wait for it to be gone."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL)
        self._reap()

    def terminate(self) -> int:
        """SIGTERM the server and return its exit status.

        Returns
        -------
        int
            The exit status (``-9``: it did not exit within the timeout and was killed).
        """
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self._reap()

    def _reap(self) -> int:
        process = self.process
        assert process is not None
        try:
            status = process.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            status = process.wait(timeout=EXIT_TIMEOUT)
        if process.stdout is not None:
            process.stdout.close()
        self.process = None
        return status

    def log_text(self) -> str:
        """What the servers wrote to standard error so far."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def send(port: int, method: str, path: str, body: Json | None = None) -> http.client.HTTPConnection:
    """Send one request and return the connection to read its response from.

    Parameters
    ----------
    port : int
        The server's port on 127.0.0.1.
    method, path : str
        The request line.
    body : dict, optional
        The JSON body.

    Returns
    -------
    http.client.HTTPConnection
        The open connection (read it with :func:`receive`).

    Raises
    ------
    CallCut
        If the request could not be sent.
    """
    conn = http.client.HTTPConnection(HOST, port, timeout=CALL_TIMEOUT)
    try:
        if body is None:
            conn.request(method, path)
        else:
            data = json.dumps(body).encode("utf-8")
            conn.request(method, path, data, {"Content-Type": "application/json"})
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise CallCut(f"{method} {path}: {exc!r}") from exc
    return conn


def receive(conn: http.client.HTTPConnection) -> tuple[int, Json]:
    """Read the complete response of :func:`send`'s request and close the connection.

    Returns
    -------
    tuple of (int, dict)
        The status and the decoded JSON body.

    Raises
    ------
    CallCut
        If the connection broke before the whole response arrived.
    """
    try:
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data)
    except (OSError, http.client.HTTPException, json.JSONDecodeError) as exc:
        raise CallCut(repr(exc)) from exc
    finally:
        conn.close()


def call(port: int, method: str, path: str, body: Json | None = None) -> tuple[int, Json]:
    """Send a request and return (status, JSON body) of its response."""
    return receive(send(port, method, path, body))


def ok(port: int, method: str, path: str, body: Json | None = None) -> Json:
    """A call that must answer 200; its JSON body."""
    status, got = call(port, method, path, body)
    assert status == 200, f"{method} {path} answered {status}: {got}"
    return got


# -- synthetic interactions ------------------------------------------------------------------
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
ZONES = [timezone(timedelta(hours=h, minutes=m)) for h, m in ((0, 0), (1, 0), (-5, 0), (5, 30))]
PRODUCTS = ["p1", "p2", "p3", "p4"]
KINDS = ["view", "product_view", "purchase", "survey", "ticket_opened", "consent"]
KIND_WEIGHTS = [30, 28, 16, 9, 13, 4]
CLOSED_EVERY = 11  # one day in 11 (UTC) has no interactions; advances cross those days
QUIET = timedelta(hours=12)  # a gap this long between two records spans a closed day


def synthetic_records(seed: int, n: int = 2400, customers: int = 36) -> list[Record]:
    """``n`` interactions of ``customers`` customers over four months, in time order, each
    at a distinct instant, exercising the six example rules.

    No interaction falls on one UTC day in 11, so the stream has quiet days on which only
    timers fire. A quarter of the customers are active throughout; a quarter leave after three weeks (a
    churn alert fires within the stream); a quarter leave and come back after more than 90
    days; a quarter join after a month. Timestamps carry one of four UTC offsets per
    customer; surveys mostly name a recent order of the customer's; consent for marketing
    is granted and now and then revoked.

    Parameters
    ----------
    seed : int
        The random seed.
    n : int
        How many interactions.
    customers : int
        How many customers.

    Returns
    -------
    list of dict
        Records as ``InteractionLog.from_records`` (and the service) take them.
    """
    rng = random.Random(seed)
    windows = {
        0: [(0, 120)],
        1: [(0, 21)],
        2: [(0, 14), (108, 120)],
        3: [(30, 120)],
    }
    names = [f"c{i:02d}" for i in range(customers)]
    spans = {c: windows[i % 4] for i, c in enumerate(names)}
    weights = [sum(b - a for a, b in spans[c]) for c in names]
    instants: list[tuple[int, str]] = []
    for who in rng.choices(names, weights=weights, k=n):
        a, b = rng.choice(spans[who])
        second = rng.randrange(a * 86_400, b * 86_400)
        if (second // 86_400) % CLOSED_EVERY == CLOSED_EVERY // 2:
            second += 86_400  # closed: the next day (no timer delay is a multiple of 11 days)
        instants.append((second, who))
    instants.sort()
    out: list[Record] = []
    orders: dict[str, list[tuple[int, str]]] = {c: [] for c in names}
    last = -1
    for i, (second, who) in enumerate(instants):
        second = max(second, last + 1)  # distinct instants: batches never share one
        last = second
        at = (START + timedelta(seconds=second)).astimezone(ZONES[names.index(who) % 4])
        kind = rng.choices(KINDS, weights=KIND_WEIGHTS)[0]
        rec: Record = {
            "customer_id": who,
            "timestamp": at.isoformat(),
            "kind": kind,
            "interaction_id": f"s{seed}-{i}",
        }
        if kind == "product_view":
            rec["product"] = rng.choice(PRODUCTS)
        elif kind == "purchase":
            rec["order_id"] = f"o{seed}-{i}"
            rec["product"] = rng.choice(PRODUCTS)
            rec["value"] = float(round(rng.lognormvariate(4.0, 0.8), 2))
            orders[who].append((second, rec["order_id"]))
        elif kind == "survey":
            recent = [o for t, o in orders[who] if second - t < 10 * 86_400]
            rec["metric"] = rng.choice(["nps", "nps", "csat"])
            rec["score"] = float(rng.randrange(11) if rec["metric"] == "nps" else rng.randint(1, 5))
            if recent and rng.random() < 0.7:
                rec["order_id"] = rng.choice(recent)
        elif kind == "ticket_opened":
            rec["topic"] = "payment" if rng.random() < 0.7 else "delivery"
        else:
            rec["kind"] = "consent_revoked" if rng.random() < 0.2 else "consent_granted"
            rec["purpose"] = "marketing"
        out.append(rec)
    return out


def utc(text: str) -> datetime:
    """An ISO-8601 time with offset as an aware datetime (for comparing instants)."""
    return datetime.fromisoformat(text)


#: the example service's redelivery window: ids are remembered this long behind the time the
#: engine treats as complete (the later of the watermark and the last advance)
REDELIVERY_WINDOW = timedelta(days=30)


def late_is_excused(late: list[dict[str, Any]], sent: set[str], advanced: str | None) -> bool:
    """Whether every record a response reported late is one re-delivered (its id was sent
    before) more than the redelivery window behind an advance sent before: its id may be
    forgotten (at-least-once input from an offset that the window does not reach back to),
    so it is late rather than a duplicate. Any other late record is a fault."""
    if not late:
        return True
    if advanced is None:
        return False
    oldest = utc(advanced) - REDELIVERY_WINDOW
    return all(r["interaction_id"] in sent and utc(r["timestamp"]) < oldest for r in late)


# -- the client's ledger -----------------------------------------------------------------------
@dataclass
class Ledger:
    """What the client received and acknowledged, and every breach of the contract seen.

    ``take`` counts a firing id as *received twice* (a problem) when:

    * it comes in the response to ``POST /interactions`` or ``POST /advance`` (an
      *emission*) and the client already held it, from an earlier response or from a
      ``GET /firings/pending`` listing: the engine emitted it again;
    * it comes in any listing after the server confirmed its acknowledgment (a ``200`` to
      ``POST /acknowledge``): an acknowledged firing came back;
    * it appears twice within one listing.

    Not counted: a firing listed by ``GET /firings/pending`` after a restart that the client
    had received but whose acknowledgment it had not had confirmed (the kill fell between
    the response and the acknowledgment), and the firings of a response the kill cut (the
    client never read them; they arrive once, through ``pending`` if the call committed or
    through the re-delivery if it did not).
    """

    firings: dict[str, Json] = field(default_factory=dict)
    first_seen: dict[str, str] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def take(self, firings: list[Json], where: str, *, emitted: bool) -> None:
        """Record the firings of one complete listing.

        Parameters
        ----------
        firings : list of dict
            The firings as the service wrote them.
        where : str
            Which call, for messages (step, attempt, endpoint).
        emitted : bool
            ``True`` for engine-call responses, ``False`` for ``GET /firings/pending``.
        """
        counts = Counter(str(f["firing_id"]) for f in firings)
        for fid, n in counts.items():
            if n > 1:
                self.problems.append(f"{fid} listed {n} times in one response ({where})")
        for f in firings:
            fid = str(f["firing_id"])
            what = f"{f['trigger']} for {f['customer_id']} at {f['time']}"
            if fid in self.acked:
                self.problems.append(
                    f"{fid} ({what}) came back in {where} after its acknowledgment was confirmed "
                    f"(first received in {self.first_seen[fid]})"
                )
            elif emitted and fid in self.firings:
                self.problems.append(
                    f"{fid} ({what}) emitted again in {where} "
                    f"(first received in {self.first_seen[fid]})"
                )
            if fid not in self.firings:
                self.firings[fid] = f
                self.first_seen[fid] = where

    def unacked(self) -> list[str]:
        """Ids received and not yet confirmed acknowledged."""
        return [fid for fid in self.firings if fid not in self.acked]


@dataclass
class Step:
    """One call of the stream: a micro-batch (with its offset) or an advance."""

    records: list[Record] | None = None
    offset: int = 0
    time: str | None = None
    quiet: bool = False  # an advance across a quiet day (timers fire)

    def request(self) -> tuple[str, Json]:
        """The path and body of the call."""
        if self.records is not None:
            return "/interactions", {"records": self.records}
        return "/advance", {"time": self.time}

    def label(self) -> str:
        """The step for messages."""
        if self.records is not None:
            return f"batch @{self.offset} ({len(self.records)} records)"
        return f"advance to {self.time}"


def plan(records: list[Record], rng: random.Random, final: datetime) -> list[Step]:
    """Micro-batches in order, each of 15 to 60 records or up to the last record before a
    quiet day; an advance after each batch that ends before a quiet day and after about one
    other batch in five, to one second before the next record (every record up to then has
    been sent); then a final advance to ``final``."""
    steps: list[Step] = []
    at = 0
    while at < len(records):
        end = min(at + rng.randrange(15, 61), len(records))
        times = [utc(r["timestamp"]) for r in records[at : end + 1]]
        quiet = next((k + 1 for k in range(len(times) - 1) if times[k + 1] - times[k] > QUIET), 0)
        end = at + quiet if quiet else end
        steps.append(Step(records=records[at:end], offset=at))
        at = end
        if at < len(records) and (quiet or rng.random() < 0.2):
            upto = utc(records[at]["timestamp"]) - timedelta(seconds=1)
            steps.append(Step(time=upto.astimezone(timezone.utc).isoformat(), quiet=bool(quiet)))
    steps.append(Step(time=final.isoformat(), quiet=True))
    return steps


def kill_points(steps: list[Step], rng: random.Random) -> dict[int, str]:
    """Where to SIGKILL the server (step index -> how), seeded.

    ``"during"``: after sending the request, after a random delay of up to 1.5 times the
    previous call's duration (before, within or after the engine call and its commit; the
    response may or may not arrive). ``"after"``: right
    after the response arrived, before the client acknowledged its firings. Two batches
    and one advance are killed during the call; one batch, two advances across a quiet day
    and the final advance after.
    """
    batches = [i for i, s in enumerate(steps) if s.records is not None]
    advances = [i for i, s in enumerate(steps[:-1]) if s.records is None]
    quiet = [i for i in advances if steps[i].quiet]
    after_advances = rng.sample(quiet, 2)
    during_advance = rng.choice([i for i in advances if i not in after_advances])
    chosen_batches = rng.sample(batches[1:], 3)
    return {
        chosen_batches[0]: "during",
        chosen_batches[1]: "during",
        chosen_batches[2]: "after",
        during_advance: "during",
        after_advances[0]: "after",
        after_advances[1]: "after",
        len(steps) - 1: "after",
    }


def acknowledge(port: int, ledger: Ledger) -> None:
    """Acknowledge every firing received and not yet confirmed."""
    ids = ledger.unacked()
    if ids:
        got = ok(port, "POST", "/acknowledge", {"firing_ids": ids})
        assert got == {"acknowledged": len(ids)}, got
        ledger.acked.update(ids)


# -- tests -------------------------------------------------------------------------------------
def test_endpoints_and_errors(tmp_path: Path) -> None:
    """Each endpoint answers JSON; bad input gives 400 with the library's message (no
    traceback) and leaves the engine usable; SIGTERM exits 0 with the state on disk."""
    server = Server(tmp_path / "state.db", tmp_path / "server.log")
    port = server.start()
    try:
        health = ok(port, "GET", "/health")
        assert health["status"] == "ok" and health["watermark"] is None
        assert "detractor_follow_up" in health["rules"]

        survey = {
            "customer_id": "a",
            "timestamp": "2024-01-01T09:00:00+01:00",
            "kind": "survey",
            "metric": "nps",
            "score": 2.0,
            "interaction_id": "i1",
        }
        status, bad = call(port, "POST", "/interactions", {"records": [survey, {"kind": "x"}]})
        assert status == 400
        assert "record 2" in bad["error"] and "Traceback" not in bad["error"]
        bad_times: list[tuple[Json, str]] = [
            ({"time": "yesterday"}, "ISO-8601"),
            ({"time": 5}, "'time' must be"),
            ({}, "'time' field"),
        ]
        for body, needle in bad_times:
            status, got = call(port, "POST", "/advance", body)
            assert (status, needle in got["error"]) == (400, True), got
        assert call(port, "GET", "/nowhere")[0] == 404
        assert call(port, "POST", "/acknowledge", {"firing_ids": [1]})[0] == 400
        conn = http.client.HTTPConnection(HOST, port, timeout=CALL_TIMEOUT)
        try:
            conn.request("POST", "/interactions", b"{not json", {})
            response = conn.getresponse()
            assert (response.status, b"not JSON" in response.read()) == (400, True)
        finally:
            conn.close()

        # the rejected batch left nothing behind: the survey fires when sent again
        got = ok(port, "POST", "/interactions", {"records": [survey]})
        assert [f["trigger"] for f in got["firings"]] == ["detractor_follow_up"]
        assert got["late"] == []
        fired = got["firings"][0]["firing_id"]
        old = dict(survey, timestamp="2023-12-01T00:00:00+00:00", interaction_id="i0")
        assert ok(port, "POST", "/interactions", {"records": [old]})["late"] == [old]
        assert [f["firing_id"] for f in ok(port, "GET", "/firings/pending")["firings"]] == [fired]
        assert ok(port, "POST", "/advance", {"time": "2024-01-02T00:00:00Z"}) == {"firings": []}
        assert ok(port, "POST", "/acknowledge", {"firing_ids": [fired]}) == {"acknowledged": 1}
        assert ok(port, "GET", "/firings/pending") == {"firings": [], "more": False}
        assert server.terminate() == 0, server.log_text()
    finally:
        server.kill()
    with SQLiteStore(tmp_path / "state.db") as store:  # acknowledged, then deleted
        assert store.firings() == []
    port = server.start()  # the state survived the clean shutdown
    try:
        assert ok(port, "GET", "/health")["watermark"] == "2024-01-02T00:00:00+00:00"
        assert ok(port, "POST", "/interactions", {"records": [survey]})["firings"] == []
        assert server.terminate() == 0, server.log_text()
    finally:
        server.kill()
    assert "Traceback" not in server.log_text()


def all_pending(port: int) -> list[Json]:
    """Every firing ``GET /firings/pending`` lists, page after page (each page is only read:
    the pages are asked for with a growing ``limit``)."""
    limit = 1_000
    while True:
        page = ok(port, "GET", f"/firings/pending?limit={limit}")
        if not page["more"]:
            return list(page["firings"])
        assert limit < 10_000, "more firings pending than one page holds"
        limit = 10_000


@dataclass
class CrashRun:
    """What :func:`crash_run` saw: the ledger, each kill, the input and the final time."""

    ledger: Ledger
    events: list[str]
    records: list[Record]
    final: datetime
    leftover: list[Json]
    starts: int
    log: str


def crash_run(tmp_path: Path, seed: int, *, overlap: bool = True) -> CrashRun:
    """Stream a seeded synthetic log through the service, SIGKILLing and restarting it at
    seeded points (see :func:`test_sigkill_restart_redeliver_equals_batch`).

    Parameters
    ----------
    tmp_path : Path
        Where the state file and the server log go.
    seed : int
        Seeds the records, the batching, the kill points and the kill delays.
    overlap : bool
        After a restart, re-deliver from the last batch whose response was received
        (``True``: that batch again, then every later step), or from the first step whose
        response was not received (``False``).

    Returns
    -------
    CrashRun
        What the client received, and what happened at each kill.
    """
    rng = random.Random(seed)
    records = synthetic_records(seed)
    final = utc(records[-1]["timestamp"]).astimezone(timezone.utc) + timedelta(days=100)
    steps = plan(records, rng, final)
    kills = kill_points(steps, rng)
    ledger = Ledger()
    server = Server(tmp_path / "state.db", tmp_path / "server.log")
    deadline = time.monotonic() + RUN_BUDGET
    events: list[str] = []  # what happened at each kill, for failure messages

    def restart() -> int:
        port = server.start()
        where = f"pending after restart {server.starts - 1}"
        pending = all_pending(port)
        fresh = sum(str(f["firing_id"]) not in ledger.firings for f in pending)
        events.append(f"restart {server.starts - 1}: {len(pending)} pending ({fresh} unseen)")
        ledger.take(pending, where, emitted=False)
        acknowledge(port, ledger)
        return port

    port = server.start()
    try:
        at = 0
        resume = 0  # the last batch whose response was received: re-delivery starts there
        sent: set[str] = set()  # the interaction ids sent so far (processed or not)
        advanced: str | None = None  # the latest advance sent

        def check_late(got: dict[str, Any], where: str) -> None:
            late = got.get("late", [])
            assert late_is_excused(late, sent, advanced), f"{where}: late records {late}"

        def mark_sent(step: Step) -> None:
            nonlocal advanced
            if step.records is not None:
                sent.update(str(r["interaction_id"]) for r in step.records)
            elif step.time is not None and (advanced is None or utc(step.time) > utc(advanced)):
                advanced = step.time

        took = 0.005  # how long the last complete call took (kills during a call aim at it)
        while at < len(steps):
            assert time.monotonic() < deadline, f"over {RUN_BUDGET} s at step {at}; {events}"
            step = steps[at]
            path, body = step.request()
            where = f"step {at} ({step.label()}), start {server.starts}"
            how = kills.pop(at, None)  # each kill point fires once; the retry runs through
            if how == "during":
                conn = send(port, "POST", path, body)
                time.sleep(rng.uniform(0.0, 1.5 * took))
                server.kill()
                try:
                    status, got = receive(conn)
                except CallCut as exc:
                    events.append(f"{where}: killed during the call; response cut ({exc})")
                else:
                    assert status == 200, f"{where} answered {status}: {got}"
                    check_late(got, where)
                    ledger.take(got["firings"], where, emitted=True)
                    events.append(f"{where}: killed during the call; response read")
                    resume = at if step.records is not None else resume
                mark_sent(step)
                port = restart()
                at = resume if overlap else at
                continue
            started = time.perf_counter()
            got = ok(port, "POST", path, body)
            took = time.perf_counter() - started
            check_late(got, where)
            mark_sent(step)
            ledger.take(got["firings"], where, emitted=True)
            resume = at if step.records is not None else resume
            at += 1
            if how == "after":
                server.kill()
                events.append(f"{where}: killed after the response, before acknowledging")
                port = restart()
                at = resume if overlap else at
                continue
            acknowledge(port, ledger)
        leftover = all_pending(port)
        assert server.terminate() == 0, server.log_text()
    finally:
        server.kill()
    return CrashRun(ledger, events, records, final, leftover, server.starts, server.log_text())


def crash_report(run: CrashRun) -> tuple[list[str], dict[str, Firing]]:
    """Every way ``run`` broke the delivery contract (empty: none), and the batch firings.

    Parameters
    ----------
    run : CrashRun
        A finished :func:`crash_run`.

    Returns
    -------
    tuple of (list of str, dict)
        The failures, one line each, and ``evaluate``'s firings by id.
    """
    log = InteractionLog.from_records(run.records)
    batch = evaluate_complete(parse(EXAMPLE_RULES), log, as_of=run.final)
    expected = {f.firing_id: f for f in batch}
    delivered = run.ledger.firings
    failures = list(run.ledger.problems)
    again = sum(" emitted again in " in p for p in failures)
    back = sum(" after its acknowledgment was confirmed " in p for p in failures)
    if run.leftover:
        failures.append(f"{len(run.leftover)} firings still pending after acknowledging all")
    for fid in sorted(set(expected) - set(delivered)):
        f = expected[fid]
        failures.append(f"lost: {fid} ({f.trigger} for {f.customer_id} at {f.time.isoformat()})")
    for fid in sorted(set(delivered) - set(expected)):
        got = delivered[fid]
        failures.append(
            f"extra: {fid} ({got['trigger']} for {got['customer_id']} at {got['time']}), "
            f"first received in {run.ledger.first_seen[fid]}"
        )
    for fid in sorted(set(expected) & set(delivered)):
        f, got = expected[fid], delivered[fid]
        if (got["trigger"], got["customer_id"], utc(got["time"])) != (
            f.trigger,
            f.customer_id,
            f.time,
        ):
            failures.append(f"differs: {fid} delivered as {got}, batch has {f}")
    if "Traceback" in run.log:
        failures.append(f"the server logged a traceback:\n{run.log}")
    if failures:
        lost = sum(f.startswith("lost: ") for f in failures)
        extra = sum(f.startswith("extra: ") for f in failures)
        failures.insert(
            0,
            f"{len(expected)} batch firings, {len(delivered)} delivered: {lost} lost, "
            f"{extra} extra, {back} acknowledged ones listed again ({again} more emitted "
            f"again before any acknowledgment)",
        )
    return failures, expected


@pytest.mark.parametrize("overlap", [False, True], ids=["from-unanswered", "from-last-answered"])
def test_sigkill_restart_redeliver_equals_batch(tmp_path: Path, overlap: bool) -> None:
    """SIGKILLed at seeded points and restarted on the same SQLite file, the service
    delivers exactly the firings of batch evaluation, none twice.

    The client sends micro-batches of a synthetic stream in order, each with its offset,
    with an ``/advance`` after about one batch in four; it records the firings of every
    complete response and acknowledges them. At six seeded steps it SIGKILLs the server:
    during a call (two batches and one advance, up to 1.5 times the previous call's duration
    after the request was sent, so the call may have committed or not and its response may
    or may not have been read), or right after a response and before the acknowledgment (a
    batch, two advances across a quiet day, and the final advance). It then restarts the
    server on the same file, first collects and acknowledges ``GET /firings/pending``, then
    re-delivers. ``from-unanswered``: from the first step whose response it did not receive
    (the cut call again, with the same interaction ids). ``from-last-answered``: from the
    last acknowledged offset, the last batch whose response it received, sent again, then
    every step after it (answered advances again, the cut call again): at-least-once input,
    as from a log whose consumer offset is committed once a response arrives.

    How "received twice" is counted is :class:`Ledger`'s rule: a firing the client already
    held must not be emitted again by an engine call, a firing whose acknowledgment was
    confirmed must never be listed again, and ``pending`` may repeat only firings received
    but not yet confirmed acknowledged. At the end ``pending`` is empty, no response
    reported a late record but re-delivered ones more than the redelivery window behind an
    advance sent before (:func:`late_is_excused`: after the final advance, 100 days on, the
    ids of the last batch are forgotten), and the firing ids delivered (responses and ``pending``) equal
    those of ``evaluate(EXAMPLE_RULES, log, as_of=final advance)``, with the same trigger,
    customer and time each.
    """
    run = crash_run(tmp_path, seed=20240611, overlap=overlap)
    failures, expected = crash_report(run)
    assert run.starts == 8, run.events  # seven kills, seven restarts
    assert 150 <= len(expected) <= 900, len(expected)  # a meaningful, bounded stream
    assert not failures, "\n".join([failures[0], *run.events, *failures[1:]])
