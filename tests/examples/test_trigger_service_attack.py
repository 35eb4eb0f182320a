"""The reference trigger service (``examples/trigger_service.py``) attacked as a hostile or
careless client would: bodies that are JSON of the wrong shape or not quite JSON (``NaN``,
keys given twice, integers of 5,000 digits, nesting 100,000 deep, bytes that are not UTF-8),
HTTP that is wrong (``Content-Length`` missing, negative, doubled, larger than the body or
than the limit; chunked bodies; every method on every path; malformed request lines and
headers), clients that stop sending or connect and send nothing, more connections than the
service takes, records the engine refuses mixed with good ones, and acknowledgments of ids
that do not exist, twice, and during another call.

After every attack the service answers ``GET /health`` and fires a normal batch, every
answer is a JSON object (errors ``{"error": ...}`` naming the problem, 4xx for anything a
client sent), and no traceback reaches a client or the server's log.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cxmodel.errors import CXModelError
from cxmodel.triggers import EXAMPLE_RULES, SQLiteStore, TriggerEngine, parse
from tests.examples.test_trigger_service import (
    CALL_TIMEOUT,
    HOST,
    SERVICE,
    CallCut,
    Json,
    Record,
    Server,
    call,
    ok,
)

READ_TIMEOUT = 2.0  # the service's --timeout in these tests, in seconds
MAX_CONNECTIONS = 8  # its --max-connections
BASE = datetime(2024, 6, 1, tzinfo=timezone.utc)
_minutes = itertools.count(1)  # each fresh record a minute after the last: never late


class AttackedServer(Server):
    """A :class:`Server` that hands over what it logged since the last time it was asked."""

    read = 0

    def new_log(self) -> str:
        """What the server wrote to standard error since the last call."""
        text = self.log_text()
        new, self.read = text[self.read :], len(text)
        return new


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AttackedServer]:
    """One service for the module, with a short read timeout and a small connection limit."""
    where = tmp_path_factory.mktemp("attack")
    options = ["--timeout", str(READ_TIMEOUT), "--max-connections", str(MAX_CONNECTIONS)]
    running = AttackedServer(where / "state.db", where / "server.log", options)
    running.start()
    try:
        yield running
    finally:
        running.kill()


def survey(tag: str, **changes: Any) -> Record:
    """A detractor survey of a new customer, a minute after every record made before: it
    fires ``detractor_follow_up`` at once."""
    n = next(_minutes)
    record: Record = {
        "customer_id": f"{tag}-{n}",
        "timestamp": (BASE + timedelta(minutes=n)).isoformat(),
        "kind": "survey",
        "metric": "nps",
        "score": 2.0,
        "interaction_id": f"{tag}-{n}",
    }
    return {**record, **changes}


def fired_for(got: Json, record: Record) -> bool:
    """Whether a response's firings hold the detractor follow-up of ``record``."""
    return any(
        f["trigger"] == "detractor_follow_up" and f["customer_id"] == record["customer_id"]
        for f in got["firings"]
    )


def still_serving(server: AttackedServer) -> None:
    """The service answers ``/health``, fires a normal batch, and logged no traceback since
    the last check."""
    port = server.port
    assert ok(port, "GET", "/health")["status"] == "ok"
    record = survey("alive")
    assert fired_for(ok(port, "POST", "/interactions", {"records": [record]}), record)
    log = server.new_log()
    assert "Traceback" not in log, log


def raw(
    port: int, data: bytes, *, finish: bool = True, timeout: float = CALL_TIMEOUT
) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as is on a new connection and read until the server closes it.

    Parameters
    ----------
    port : int
        The server's port.
    data : bytes
        Everything the client sends.
    finish : bool
        Close the sending side after ``data`` (``False``: keep it open, as a client still
        sending would).
    timeout : float
        Seconds to wait for the answer.

    Returns
    -------
    tuple of (int, dict, bytes)
        The status, the headers (names in lower case) and the body.
    """
    chunks = []
    with socket.create_connection((HOST, port), timeout=timeout) as conn:
        # a server that answers without reading all of ``data`` (503, 413) may reset the
        # connection once the rest arrives: what it answered before can still be read
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            conn.sendall(data)
        if finish:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_WR)
        with contextlib.suppress(ConnectionResetError):
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    assert status_line.startswith("HTTP/1.0 "), b"".join(chunks)
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
    return int(status_line.split()[1]), headers, body


def error_of(status: int, headers: dict[str, str], body: bytes) -> str:
    """The message of a well-formed JSON error answer."""
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    got = json.loads(body)
    assert set(got) == {"error"} and isinstance(got["error"], str), got
    assert "Traceback" not in got["error"]
    return str(got["error"])


def post(path: str, body: bytes, extra: bytes = b"") -> bytes:
    """A POST request with ``body`` and its Content-Length (``extra``: more header lines)."""
    head = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % (path.encode(), len(body))
    return head + extra + b"\r\n" + body


# -- bodies ------------------------------------------------------------------------------------
DEEP = b"[" * 100_000 + b"]" * 100_000
BAD_BODIES: list[tuple[str, str, bytes, str]] = [
    ("array", "/interactions", b"[]", "must be a JSON object, got an array"),
    ("string", "/interactions", b'"records"', "must be a JSON object, got a string"),
    ("null", "/advance", b"null", "must be a JSON object, got null"),
    ("number", "/acknowledge", b"5", "must be a JSON object, got a number"),
    ("boolean", "/acknowledge", b"true", "must be a JSON object, got a boolean"),
    ("records-number", "/interactions", b'{"records": 5}', "'records' must be a list"),
    ("records-object", "/interactions", b'{"records": {"a": 1}}', "'records' must be a list"),
    ("records-missing", "/interactions", b'{"record": []}', "needs a 'records' field"),
    ("records-scalars", "/interactions", b'{"records": [1, "x", null]}', "record 1: expected"),
    ("ids-string", "/acknowledge", b'{"firing_ids": "abc"}', "'firing_ids' must be a list"),
    ("ids-null", "/acknowledge", b'{"firing_ids": [null]}', "strings only"),
    ("ids-nested", "/acknowledge", b'{"firing_ids": [["a"]]}', "strings only"),
    ("time-null", "/advance", b'{"time": null}', "'time' must be an ISO-8601 time"),
    ("time-list", "/advance", b'{"time": ["2024-01-01T00:00:00Z"]}', "'time' must be"),
    ("huge-integer", "/interactions", b'{"records": [1' + b"0" * 5000 + b"]}", "4300 digits"),
    ("nan", "/interactions", b'{"records": [{"value": NaN}]}', "NaN is not a JSON number"),
    ("infinity", "/advance", b'{"time": Infinity}', "Infinity is not a JSON number"),
    ("-infinity", "/acknowledge", b'{"firing_ids": -Infinity}', "-Infinity is not a JSON"),
    ("deep-array", "/interactions", DEEP, "nested too deeply"),
    ("deep-in-object", "/interactions", b'{"records": ' + DEEP + b"}", "nested too deeply"),
    (
        "duplicate-key",
        "/advance",
        b'{"time": 5, "time": "2024-01-01T00:00:00Z"}',
        "'time' is given twice",
    ),
    (
        "duplicate-in-record",
        "/interactions",
        b'{"records": [{"kind": "a", "kind": "b"}]}',
        "'kind' is given twice",
    ),
    ("not-utf8", "/interactions", b'{"records": ["\xff\xfe"]}', "can't decode byte 0xff"),
    ("latin-1", "/advance", b'{"time": "caf\xe9"}', "not JSON"),
    ("empty", "/advance", b"", "not JSON: Expecting value"),
    ("whitespace", "/acknowledge", b" \r\n\t ", "not JSON"),
    ("cut-short", "/interactions", b'{"records": [{"kind": "view"', "not JSON"),
    ("trailing-garbage", "/advance", b'{"time": "x"} {}', "not JSON: Extra data"),
    ("single-quotes", "/advance", b"{'time': 'x'}", "not JSON"),
]


@pytest.mark.parametrize(
    ("path", "body", "needle"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
def test_body_not_a_request_gets_400(
    server: AttackedServer, path: str, body: bytes, needle: str
) -> None:
    """A body that is not JSON, not strict JSON (``NaN``, a key twice), too large a number,
    nested too deeply, or JSON of the wrong shape gets 400 naming the problem."""
    status, headers, answer = raw(server.port, post(path, body))
    message = error_of(status, headers, answer)
    assert (status, needle in message) == (400, True), message
    still_serving(server)


def test_body_with_a_bom_or_nothing_to_do_is_taken(server: AttackedServer) -> None:
    """A UTF-8 byte-order mark is skipped (JSON allows ignoring one); empty lists are
    no-ops."""
    status, _, answer = raw(server.port, post("/acknowledge", b'\xef\xbb\xbf{"firing_ids": []}'))
    assert (status, json.loads(answer)) == (200, {"acknowledged": 0})
    nothing = {"firings": [], "late": [], "refused": []}
    assert ok(server.port, "POST", "/interactions", {"records": []}) == nothing
    still_serving(server)


# -- HTTP ----------------------------------------------------------------------------------------
BAD_REQUESTS: list[tuple[str, bytes, int, str]] = [
    ("no-length", b"POST /advance HTTP/1.1\r\nHost: x\r\n\r\n{}", 411, "Content-Length"),
    ("negative-length", post("/advance", b"{}").replace(b"h: 2", b"h: -2"), 400, "'-2'"),
    ("word-length", post("/advance", b"{}").replace(b"h: 2", b"h: two"), 400, "'two'"),
    ("underscore-length", post("/advance", b"{}", b"").replace(b"h: 2", b"h: 0_2"), 400, "'0_2'"),
    ("plus-length", post("/advance", b"{}").replace(b"h: 2", b"h: +2"), 400, "'+2'"),
    ("two-lengths", post("/advance", b"{}", b"Content-Length: 9\r\n"), 400, "['2', '9']"),
    (
        "huge-length",
        b"POST /interactions HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
        413,
        "at most 33554432 bytes",
    ),
    (
        "body-ends-early",
        post("/advance", b"{}").replace(b"h: 2", b"h: 10"),
        400,
        "ended after 2 of its 10 bytes",
    ),
    (
        "chunked",
        b"POST /advance HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        411,
        "Transfer-Encoding",
    ),
    (
        "chunked-and-length",
        post("/advance", b"{}", b"Transfer-Encoding: chunked\r\n"),
        411,
        "Transfer-Encoding",
    ),
    ("put", b"PUT /interactions HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, "takes POST, not PUT"),
    ("delete", b"DELETE /firings/pending HTTP/1.1\r\n\r\n", 405, "takes GET, HEAD, not DELETE"),
    ("patch", post("/acknowledge", b"{}").replace(b"POST", b"PATCH"), 405, "not PATCH"),
    ("options", b"OPTIONS /health HTTP/1.1\r\n\r\n", 405, "not OPTIONS"),
    ("made-up-method", b"BREW /advance HTTP/1.1\r\n\r\n", 405, "not BREW"),
    ("quotes-in-method", b'G"<&>ET /health HTTP/1.1\r\n\r\n', 405, 'not G"<&>ET'),
    ("get-a-post", b"GET /interactions HTTP/1.1\r\n\r\n", 405, "takes POST, not GET"),
    ("post-a-get", post("/health", b"{}"), 405, "takes GET, HEAD, not POST"),
    (
        "trailing-slash",
        b"GET /health/ HTTP/1.1\r\n\r\n",
        404,
        "no endpoint '/health/'; known: GET /health",
    ),
    ("unknown-path", b"GET /%ff%00?x=1 HTTP/1.1\r\n\r\n", 404, "'/%ff%00'"),
    ("no-path", b"GET HTTP/1.1\r\n\r\n", 404, "no endpoint"),
    ("garbage", b"\x00\x01\x02 garbage\r\n\r\n", 400, "Bad HTTP/0.9 request type"),
    ("bad-version", b"GET /health HTTP/one\r\n\r\n", 400, "Bad request version"),
    ("one-word", b"GET\r\n\r\n", 400, "Bad request syntax"),
    ("long-line", b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "Too Long"),
    (
        "long-header",
        b"GET /health HTTP/1.1\r\nX: " + b"y" * 70_000 + b"\r\n\r\n",
        431,
        "Line too long",
    ),
    (
        "many-headers",
        b"GET /health HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
        431,
        "Too many headers",
    ),
]


@pytest.mark.parametrize(
    ("request_bytes", "status", "needle"),
    [c[1:] for c in BAD_REQUESTS],
    ids=[c[0] for c in BAD_REQUESTS],
)
def test_bad_http_gets_4xx_json(
    server: AttackedServer, request_bytes: bytes, status: int, needle: str
) -> None:
    """Wrong or missing lengths, chunked bodies, methods an endpoint does not take (405
    with ``Allow``), unknown paths, and request lines or headers the standard library
    refuses: each gets its 4xx as a JSON object, with a status line."""
    got, headers, answer = raw(server.port, request_bytes)
    message = error_of(got, headers, answer)
    assert (got, needle in message) == (status, True), message
    if status == 405:
        assert headers["allow"] in ("GET, HEAD", "POST")
    still_serving(server)


def test_http_the_service_takes(server: AttackedServer) -> None:
    """HEAD answers the headers of GET; a query string is ignored; an HTTP/0.9 request line
    and an absent Host are served; a body sent with GET is ignored. The one 5xx a client can
    cause is ``505`` for an HTTP version other than 1.x, as HTTP specifies."""
    port = server.port
    status, headers, body = raw(port, b"HEAD /health HTTP/1.1\r\n\r\n")
    assert (status, body, int(headers["content-length"]) > 0) == (200, b"", True)
    for request in (
        b"GET /health?verbose=1&x=%ff HTTP/1.1\r\n\r\n",
        b"GET /health\r\n",
        b"GET /health HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello",
    ):
        status, _, body = raw(port, request)
        assert (status, json.loads(body)["status"]) == (200, "ok"), request
    status, headers, body = raw(port, b"GET /health HTTP/2.0\r\n\r\n")
    assert (status, "Invalid HTTP version" in error_of(status, headers, body)) == (505, True)
    still_serving(server)


def test_client_that_stops_sending_is_cut_and_others_are_served(server: AttackedServer) -> None:
    """A body shorter than its Content-Length with the connection left open gets 408 after
    the read timeout (not a wait forever); a connection that sends nothing, or half a
    request line or header, is closed after it. Meanwhile other clients are served at once."""
    port = server.port
    conns = []
    for opening in (b"", b"GET /hea", b"POST /advance HTTP/1.1\r\nContent-Len"):
        conn = socket.create_connection((HOST, port), timeout=CALL_TIMEOUT)
        conn.sendall(opening)
        conns.append(conn)
    try:
        started = time.monotonic()
        for _ in range(3):  # the slow clients hold no one up
            still_serving(server)
        assert time.monotonic() - started < READ_TIMEOUT
        for conn in conns:  # each is closed by the server without an answer
            assert conn.recv(1000) == b""
        waited = time.monotonic() - started
        assert READ_TIMEOUT * 0.9 <= waited <= READ_TIMEOUT + 5.0, waited
    finally:
        for conn in conns:
            conn.close()
    started = time.monotonic()
    request = post("/advance", b"{}").replace(b"h: 2", b"h: 10")
    status, headers, body = raw(port, request, finish=False)
    message = error_of(status, headers, body)
    assert status == 408 and "after 2 of the body's 10 bytes" in message, message
    assert READ_TIMEOUT * 0.9 <= time.monotonic() - started <= READ_TIMEOUT + 5.0
    still_serving(server)


def test_connections_beyond_the_limit_get_503(server: AttackedServer) -> None:
    """With ``--max-connections`` connections open and silent, one more is answered 503
    (JSON, ``Retry-After``) at once rather than queued or given a thread; once they close,
    the service serves again. A burst of 60 concurrent calls gets only 200s and 503s."""
    port = server.port
    idle = [socket.create_connection((HOST, port), timeout=CALL_TIMEOUT) for _ in range(8)]
    try:
        time.sleep(0.2)  # all accepted
        started = time.monotonic()
        status, headers, body = raw(port, b"GET /health HTTP/1.1\r\n\r\n")
        assert time.monotonic() - started < READ_TIMEOUT / 2
        assert status == 503 and headers["retry-after"] == "1", (status, body)
        assert "too many connections" in error_of(status, headers, body)
    finally:
        for conn in idle:
            conn.close()
    time.sleep(0.2)
    still_serving(server)

    statuses: list[int | str] = []

    def one() -> None:
        try:
            statuses.append(call(port, "GET", "/health")[0])
        except CallCut as exc:
            statuses.append(str(exc))

    threads = [threading.Thread(target=one) for _ in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(CALL_TIMEOUT)
    assert len(statuses) == 60 and set(statuses) <= {200, 503}, statuses
    assert 200 in statuses
    still_serving(server)


# -- records the engine refuses ------------------------------------------------------------------
INF = "@inf@"  # stands for the JSON number 1e400 (infinity once decoded)
REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("time-naive", {"timestamp": "2024-06-01T12:00:00"}),
    ("time-words", {"timestamp": "tomorrow"}),
    ("time-null", {"timestamp": None}),
    ("time-list", {"timestamp": ["2024-06-01T12:00:00Z"]}),
    ("time-year-10000", {"timestamp": "9999-12-31T23:59:59-23:59"}),
    ("time-offset-99h", {"timestamp": "2024-06-01T12:00:00+99:00"}),
    ("time-surrogate", {"timestamp": "2024-06-01T12:00:00Z\ud800"}),
    ("kind-null", {"kind": None}),
    ("kind-empty", {"kind": ""}),
    ("kind-number", {"kind": 3}),
    ("kind-surrogate", {"kind": "survey\udc80"}),
    ("customer-null", {"customer_id": None}),
    ("customer-empty", {"customer_id": ""}),
    ("customer-list", {"customer_id": ["c"]}),
    ("customer-boolean", {"customer_id": True}),
    ("customer-float", {"customer_id": 1.5}),
    ("customer-surrogate", {"customer_id": "\ud800"}),
    ("id-list", {"interaction_id": [1]}),
    ("id-object", {"interaction_id": {}}),
    ("id-boolean", {"interaction_id": False}),
    ("id-fraction", {"interaction_id": 2.5}),
    ("score-boolean", {"score": True}),
    ("score-list", {"score": [2]}),
    ("score-off-scale", {"score": 10**30}),
    ("score-infinite", {"score": INF}),
    ("value-too-large", {"kind": "purchase", "value": 10**400}),
    ("property-object", {"channel": {"name": "web"}}),
    ("property-surrogate", {"channel": "web\ud800"}),
    ("name-surrogate", {"web\ud800": 1}),
    ("late-name-surrogate", {"timestamp": "2020-01-01T00:00:00+00:00", "\ud800": 1}),
]


@pytest.mark.parametrize("patch", [c[1] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_record_refuses_the_batch(server: AttackedServer, patch: dict[str, Any]) -> None:
    """A record the engine refuses, after a good one, gets 400 with the library's own
    message, and nothing of the batch is processed: the good record fires when sent again."""
    good = survey("good")
    bad = {**survey("bad"), **patch}
    text = json.dumps({"records": [good, bad]}).replace(f'"{INF}"', "1e400")
    with pytest.raises(CXModelError) as refused:  # what the library says of the same batch
        TriggerEngine(parse(EXAMPLE_RULES)).process_many(json.loads(text)["records"])
    status, headers, body = raw(server.port, post("/interactions", text.encode("utf-8")))
    assert (status, error_of(status, headers, body)) == (400, str(refused.value))
    assert str(refused.value).startswith("record 2: ")
    assert fired_for(ok(server.port, "POST", "/interactions", {"records": [good]}), good)
    still_serving(server)


def test_pending_a_page_at_a_time(server: AttackedServer) -> None:
    """``GET /firings/pending?limit=N`` lists the first N not acknowledged and says whether
    more wait; acknowledging a page brings the next; a ``limit`` that is not a whole number
    from 1 to 10,000 (or given twice) gets 400."""
    port = server.port
    for page in drain(port):  # what earlier tests left
        ok(port, "POST", "/acknowledge", {"firing_ids": page})
    records = [survey(f"page-{n}") for n in range(5)]
    fired = [
        f["firing_id"] for f in ok(port, "POST", "/interactions", {"records": records})["firings"]
    ]
    assert len(fired) == 5
    first = ok(port, "GET", "/firings/pending?limit=2")
    assert ([f["firing_id"] for f in first["firings"]], first["more"]) == (fired[:2], True)
    ok(port, "POST", "/acknowledge", {"firing_ids": fired[:2]})
    rest = ok(port, "GET", "/firings/pending?limit=3")
    assert ([f["firing_id"] for f in rest["firings"]], rest["more"]) == (fired[2:], False)
    ok(port, "POST", "/acknowledge", {"firing_ids": fired[2:]})
    for bad in ("0", "-1", "10001", "1.5", "x", "", "1&limit=2", "%EF%BC%91"):
        status, got = call(port, "GET", f"/firings/pending?limit={bad}")
        assert (status, "limit must be one whole number" in got["error"]) == (400, True), bad
    still_serving(server)


def drain(port: int) -> Iterator[list[str]]:
    """The ids of the firings pending, a page at a time, until none is left (the caller
    acknowledges each page)."""
    while True:
        page = ok(port, "GET", "/firings/pending?limit=1000")
        ids = [f["firing_id"] for f in page["firings"]]
        if ids:
            yield ids
        if not page["more"]:
            return


def test_failed_commit_answers_503_and_the_retry_fires(server: AttackedServer) -> None:
    """While another program holds the store's file locked past the store's timeout, a batch
    gets 503 with ``Retry-After`` and the library's message, and nothing of it happened: sent
    again once the lock is gone, it fires."""
    good = survey("locked")
    holder = sqlite3.connect(server.db, timeout=0)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        status, headers, body = raw(
            server.port, post("/interactions", json.dumps({"records": [good]}).encode())
        )
    finally:
        holder.rollback()
        holder.close()
    assert (status, headers.get("retry-after")) == (503, "1"), body
    assert "commit failed and was rolled back" in error_of(status, headers, body)
    assert fired_for(ok(server.port, "POST", "/interactions", {"records": [good]}), good)
    still_serving(server)


def test_record_from_the_future_is_reported_refused(server: AttackedServer) -> None:
    """A record more than a day ahead of the service's clock (a sender's wrong year) is
    refused and reported so, not silently dropped, and does not move the watermark, which
    would make every later record late; advancing there gets 400."""
    port = server.port
    watermark = ok(port, "GET", "/health")["watermark"]
    ahead = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    good, future = survey("now"), survey("future", timestamp=ahead)
    got = ok(port, "POST", "/interactions", {"records": [future, good]})
    assert [r["interaction_id"] for r in got["refused"]] == [future["interaction_id"]]
    assert got["late"] == [] and fired_for(got, good) and not fired_for(got, future)
    status, refused = call(port, "POST", "/advance", {"time": "2204-06-01T00:00:00Z"})
    assert (status, "ahead of the clock" in refused["error"]) == (400, True), refused
    assert ok(port, "GET", "/health")["watermark"] > watermark  # moved by `good` only
    assert ok(port, "GET", "/health")["watermark"] < ahead
    still_serving(server)


# -- acknowledging ----------------------------------------------------------------------------
def test_acknowledge_unknown_twice_and_during_a_call(server: AttackedServer) -> None:
    """Ids that never fired, a firing acknowledged twice, and acknowledgments sent while a
    large batch is processed: each answers 200 with the count sent, no firing is lost or
    listed again, and the batch's firings stay pending until acknowledged."""
    port = server.port
    ok(port, "POST", "/acknowledge", {"firing_ids": [f["firing_id"] for f in pending(port)]})
    record = survey("ack")
    fired = ok(port, "POST", "/interactions", {"records": [record]})["firings"]
    ids = [f["firing_id"] for f in fired]
    assert ids and [f["firing_id"] for f in pending(port)] == ids
    unknown = {"firing_ids": ["no-such-id", "", "\ud800", "x" * 10_000]}
    assert ok(port, "POST", "/acknowledge", unknown) == {"acknowledged": 4}
    assert [f["firing_id"] for f in pending(port)] == ids  # untouched
    for _ in range(2):
        twice = {"firing_ids": ids + ids}
        assert ok(port, "POST", "/acknowledge", twice) == {"acknowledged": 2 * len(ids)}
        assert pending(port) == []

    batch = [survey("many") for _ in range(3000)]  # takes a while: acknowledge meanwhile
    result: dict[str, Any] = {}
    sender = threading.Thread(
        target=lambda: result.update(got=call(port, "POST", "/interactions", {"records": batch}))
    )
    sender.start()
    acks = [call(port, "POST", "/acknowledge", {"firing_ids": [*ids, "gone"]}) for _ in range(5)]
    sender.join(CALL_TIMEOUT)
    assert acks == [(200, {"acknowledged": len(ids) + 1})] * 5
    status, got = result["got"]
    assert status == 200 and len(got["firings"]) == len(batch)
    emitted = sorted(f["firing_id"] for f in got["firings"])
    assert sorted(f["firing_id"] for f in pending(port)) == emitted  # none lost, none back
    assert ok(port, "POST", "/acknowledge", {"firing_ids": emitted}) == {"acknowledged": 3000}
    assert pending(port) == []
    still_serving(server)


def pending(port: int) -> list[Json]:
    """The firings ``GET /firings/pending`` lists, the largest page (all in these tests)."""
    page = ok(port, "GET", "/firings/pending?limit=10000")
    assert page["more"] is False
    return list(page["firings"])


# -- the service in the process ------------------------------------------------------------------
def load_service() -> ModuleType:
    """``examples/trigger_service.py`` imported as a module."""
    spec = importlib.util.spec_from_file_location("trigger_service", SERVICE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore::cxmodel.errors.DataWarning")  # late records, on purpose
def test_set_aside_records_reported_without_reading_every_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each call reports its own late and refused records, also after a restart on the same
    file, and never reads back every late interaction the store ever kept (which made each
    call slower: 3 ms to 0.5 s after 100,000): the store hands them over and keeps them no
    longer, so its file does not grow with them."""
    service_module = load_service()
    reads: list[int] = []
    original = SQLiteStore.late
    monkeypatch.setattr(SQLiteStore, "late", lambda self: reads.append(1) or original(self))
    rules = parse(EXAMPLE_RULES)
    old = {"customer_id": "o", "timestamp": "2020-01-01T00:00:00Z", "kind": "view"}
    for run in range(2):
        service = service_module.TriggerService(rules, tmp_path / "state.db")
        try:
            now = {**survey("now"), "interaction_id": f"now-{run}"}
            assert service.interactions({"records": [now]})["late"] == []
            for n in range(3):
                lates = [{**old, "interaction_id": f"old-{run}-{n}-{i}"} for i in range(n + 1)]
                ahead = survey("ahead", timestamp=f"2204-01-0{n + 1}T00:00:00+00:00")
                got = service.interactions({"records": [survey("x"), ahead, *lates]})
                assert [r["interaction_id"] for r in got["late"]] == [
                    r["interaction_id"] for r in lates
                ]
                assert [r["interaction_id"] for r in got["refused"]] == [ahead["interaction_id"]]
            got = service.interactions({"records": [survey("y")]})
            assert (got["late"], got["refused"]) == ([], [])
        finally:
            service.close()
    assert reads == []
    with SQLiteStore(tmp_path / "state.db") as store:  # handed over: kept no longer
        assert (store.late(), store.rejected()) == ([], [])


def test_sigterm_with_slow_clients_connected(tmp_path: Path) -> None:
    """SIGTERM while clients hold connections open without finishing their requests exits
    0 at once (it does not wait for them)."""
    server = Server(tmp_path / "state.db", tmp_path / "server.log", ["--timeout", "60"])
    port = server.start()
    conns = [socket.create_connection((HOST, port), timeout=CALL_TIMEOUT) for _ in range(3)]
    try:
        conns[1].sendall(b"POST /interactions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        assert ok(port, "GET", "/health")["status"] == "ok"
        started = time.monotonic()
        assert server.terminate() == 0, server.log_text()
        assert time.monotonic() - started < 5.0
    finally:
        for conn in conns:
            conn.close()
        server.kill()
    assert "Traceback" not in server.log_text()
