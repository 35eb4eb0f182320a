"""A reference HTTP service around :class:`cxmodel.triggers.TriggerEngine`.

One engine per process, its state in a :class:`~cxmodel.triggers.SQLiteStore`, served over
JSON with the standard library's :class:`~http.server.ThreadingHTTPServer`::

    python examples/trigger_service.py --db state.db --port 8080 --rules default

The first line written to standard output is the port the server is bound to (so
``--port 0`` picks a free one); nothing else is written there. Requests are logged to
standard error with ``--verbose``.

Endpoints (request and response bodies are JSON objects):

``POST /interactions`` ``{"records": [...]}``
    Process the records as one micro-batch (``process_many``); respond
    ``{"firings": [...], "late": [...], "refused": [...]}``: the firings that became final, and
    the records the engine set aside, not processed: later than its allowed lateness, and more
    than a day ahead of the service's clock (``max_future``; a wrong clock or year). The store
    keeps set-aside records until a response hands them over (``take_late``,
    ``take_rejected``), so its file does not grow with them; those set aside just before a
    crash come in the first response after the restart.
``POST /advance`` ``{"time": "2024-05-01T00:00:00+00:00"}``
    Declare every interaction up to ``time`` delivered and fire due timers
    (``advance_to``); respond ``{"firings": [...]}``.
``GET /firings/pending`` (``?limit=N``)
    The first ``N`` firings emitted and not yet acknowledged, in emission order (``N`` 1,000
    by default, at most 10,000): ``{"firings": [...], "more": bool}``; ``more`` says others
    wait: acknowledge these, then ask again.
``POST /acknowledge`` ``{"firing_ids": [...]}``
    Mark firings handled and delete them from the store; respond ``{"acknowledged": n}``
    (the number of ids sent).
``GET /health``
    ``{"status": "ok", "rules": [...], "watermark": iso-or-null}``.

Every answer is a JSON object; an error is ``{"error": message}``, naming the problem:

- ``400``: a body that is not strict JSON in UTF-8 (``NaN``, ``Infinity`` and a key given
  twice in an object are refused) or not of the endpoint's shape; a record or time the engine
  rejects (the :class:`~cxmodel.errors.CXModelError` message; nothing of the batch is
  processed); a ``limit`` that is not a whole number from 1 to 10,000; a
  ``Content-Length`` that is not one number, or a body shorter than it.
- ``404``: an unknown path (a query string is ignored, but for ``limit``). ``405``: a
  method the path does not take, with ``Allow`` (``HEAD`` is taken wherever ``GET`` is).
- ``408``: a body of which nothing more arrived for ``--timeout`` seconds (30). A connection
  that leaves its request line or headers unfinished that long is closed.
- ``411``: no ``Content-Length`` (chunked bodies are not taken). ``413``: a body over
  ``MAX_BODY_BYTES`` (32 MiB). ``414``, ``431``: a request line or header line over 64 KiB,
  or over 100 headers.
- ``503``: a connection beyond ``--max-connections`` (32) open at once (with
  ``Retry-After``), a call during shutdown, or a call whose commit failed (the store's file
  locked by another program, a full disk: :class:`~cxmodel.errors.StoreError`, with
  ``Retry-After``; nothing of the call happened, so the client sends it again). ``505``: an HTTP version other than 1.x.
- ``500``: an unexpected failure, with the exception's type only (the traceback goes to
  standard error).

Memory stays bounded whatever clients send: at most ``--max-connections`` request bodies are
read at once, each held as the bytes that arrived (at most 32 MiB), and one is decoded at a
time (into up to about 25 times its size: 850 MB for 32 MiB of empty JSON objects; lower
``MAX_BODY_BYTES`` on a small machine). A client that holds a connection without finishing
its request holds one of those connections until the timeout; in front of untrusted
clients, put a proxy that limits them.

Delivery contract: each engine call commits the interactions it accepted, their ids and the
firings it emitted to the store in one transaction before the response is written. A firing
is therefore either in a response the client received, or in ``GET /firings/pending`` until
it is acknowledged, or both (the process died between the two). Interactions are
de-duplicated by ``interaction_id``, so a client re-delivers, after a restart, everything
from the last micro-batch whose response it did not receive; re-delivered interactions the
engine already committed are ignored, and firings it already emitted are not emitted again.
Acknowledged firings are never listed again: they are deleted from the store
(``SQLiteStore.prune``), so that its file holds the state and the firings pending, however
long the service runs. Clients de-duplicate on ``firing_id``.

Every engine and store call runs on one dedicated engine thread, one at a time, and the
request threads wait for it. The engine and its store may be called from any thread under
the engine's own lock; one thread keeps the order of calls simple.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar
from urllib.parse import parse_qs

from cxmodel.errors import CXModelError, StoreError
from cxmodel.triggers import (
    EXAMPLE_RULES,
    Firing,
    RuleSet,
    SQLiteStore,
    TriggerEngine,
    parse,
)

__all__ = ["RequestError", "TriggerService", "main", "make_server"]

MAX_BODY_BYTES = 32 * 1024 * 1024
"""The largest request body accepted (``413`` beyond)."""

MAX_CONNECTIONS = 32
"""Connections served at once by default (``--max-connections``); one more is answered
``503`` and closed."""

PAGE, MAX_PAGE = 1_000, 10_000
"""The firings ``GET /firings/pending`` lists by default, and at most (``?limit=``)."""

READ_TIMEOUT = 30.0
"""Seconds a client may leave its request unfinished between two reads, by default
(``--timeout``)."""

T = TypeVar("T")


class RequestError(Exception):
    """A request the service refuses, with the HTTP status and message to answer.

    Parameters
    ----------
    status : HTTPStatus
        The status of the error response.
    message : str
        What was wrong, for the client.
    headers : Mapping of str to str, optional
        Headers to send with it (``Allow`` for ``405``).
    """

    def __init__(
        self, status: HTTPStatus, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice (JSON parsers differ on which
    value wins)."""
    out = dict(pairs)
    if len(out) < len(pairs):
        twice = next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise ValueError(f"the key {twice!r} is given twice in one object")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _decode(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object; :class:`RequestError` (400) if it is not strict
    JSON (``NaN`` and ``Infinity``, which :mod:`json` takes, and a key twice are refused; so
    are integers of over 4,300 digits and nesting past the recursion limit) or not an object.
    """
    try:
        body = json.loads(raw, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except RecursionError:
        raise RequestError(HTTPStatus.BAD_REQUEST, "the body is nested too deeply") from None
    except ValueError as exc:  # not JSON, not UTF-8, a key twice, NaN, an integer too long
        raise RequestError(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        got = kinds.get(type(body), "a number")
        raise RequestError(HTTPStatus.BAD_REQUEST, f"the body must be a JSON object, got {got}")
    return body


def _firing_dicts(firings: Iterable[Firing]) -> list[dict[str, Any]]:
    """JSON-ready dicts of the firings (an iterable of :class:`Firing`)."""
    return [f.to_dict() for f in firings]


def _page(query: str) -> int:
    """The ``limit`` of a query string (:data:`PAGE` when not given); :class:`RequestError`
    (400) unless it is one whole number from 1 to :data:`MAX_PAGE`."""
    given = parse_qs(query, keep_blank_values=True).get("limit")
    if given is None:
        return PAGE
    text = given[0].strip()
    if len(given) > 1 or not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            f"limit must be one whole number from 1 to {MAX_PAGE}, got {given}",
        )
    return int(text)


def _field(body: dict[str, Any], name: str, kind: type, what: str) -> Any:
    """``body[name]``, checked to be a ``kind``; :class:`RequestError` (400) otherwise."""
    if name not in body:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"the body needs a {name!r} field ({what})")
    value = body[name]
    if not isinstance(value, kind):
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            f"{name!r} must be {what}, got {type(value).__name__}",
        )
    return value


class TriggerService:
    """The engine, its SQLite store, and the one thread that calls them.

    Parameters
    ----------
    rules : RuleSet
        The rules to evaluate.
    db : str or Path
        The SQLite file holding the engine's state (created if missing; resumed otherwise).
    allowed_lateness : str
        How late (in event time) an interaction may arrive and still be processed, as
        :class:`~cxmodel.triggers.TriggerEngine` takes it (``"0"``: none).

    Raises
    ------
    CXModelError
        If the store cannot be opened or the lateness is not a duration.
    """

    def __init__(self, rules: RuleSet, db: str | Path, allowed_lateness: str = "0") -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
        self._closed = False
        lateness: str | int = 0 if allowed_lateness.strip() in ("", "0") else allowed_lateness

        def build() -> tuple[SQLiteStore, TriggerEngine]:
            store = SQLiteStore(db)
            try:
                # ids are remembered 30 days past the watermark, so a client may re-deliver
                # that far back after a crash and have processed interactions ignored
                engine = TriggerEngine(
                    rules, store=store, allowed_lateness=lateness, redelivery_window="30 days"
                )
                return store, engine
            except BaseException:
                store.close()
                raise

        try:
            self._store, self._engine = self._executor.submit(build).result()
        except BaseException:
            self._executor.shutdown(wait=True)
            raise

    def _call(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the engine thread and return its result (exceptions re-raised)."""

        def guarded() -> T:
            if self._closed:
                raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE, "the service is shutting down")
            return work()

        try:
            future = self._executor.submit(guarded)
        except RuntimeError as exc:  # the executor was shut down
            raise RequestError(
                HTTPStatus.SERVICE_UNAVAILABLE, "the service is shutting down"
            ) from exc
        return future.result()

    def interactions(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /interactions``: process ``body["records"]`` as one micro-batch.

        Parameters
        ----------
        body : dict
            ``{"records": [record, ...]}``, records as
            :meth:`~cxmodel.log.InteractionLog.from_records` takes them.

        Returns
        -------
        dict
            ``{"firings": [...], "late": [...], "refused": [...]}``.
        """
        records = _field(body, "records", list, "a list of interaction records")

        def work() -> dict[str, Any]:
            firings = _firing_dicts(self._engine.process_many(records))
            late, refused = self._store.take_late(), self._store.take_rejected()
            return {
                "firings": firings,
                "late": [q.record for q in late],
                "refused": [q.record for q in refused],
            }

        return self._call(work)

    def advance(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /advance``: fire the timers due up to ``body["time"]``.

        Parameters
        ----------
        body : dict
            ``{"time": "<ISO-8601 time with offset>"}``.

        Returns
        -------
        dict
            ``{"firings": [...]}``.
        """
        time = _field(body, "time", str, "an ISO-8601 time with an offset")
        return self._call(lambda: {"firings": _firing_dicts(self._engine.advance_to(time))})

    def pending(self, limit: int = PAGE) -> dict[str, Any]:
        """``GET /firings/pending``: the first ``limit`` firings not yet acknowledged, in
        emission order, and whether more wait."""

        def work() -> dict[str, Any]:
            firings = self._store.pending(limit=limit + 1)
            return {"firings": _firing_dicts(firings[:limit]), "more": len(firings) > limit}

        return self._call(work)

    def acknowledge(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /acknowledge``: mark ``body["firing_ids"]`` handled, and delete the
        handled firings from the store.

        Parameters
        ----------
        body : dict
            ``{"firing_ids": ["...", ...]}``.

        Returns
        -------
        dict
            ``{"acknowledged": n}``, the number of ids received.
        """
        ids = _field(body, "firing_ids", list, "a list of firing ids")
        if not all(isinstance(i, str) for i in ids):
            raise RequestError(HTTPStatus.BAD_REQUEST, "'firing_ids' must hold strings only")

        def work() -> dict[str, Any]:
            self._store.acknowledge(list(ids))
            self._store.prune()  # handled: kept no longer, so the file follows the state
            return {"acknowledged": len(ids)}

        return self._call(work)

    def health(self) -> dict[str, Any]:
        """``GET /health``: the rules evaluated and the engine's watermark."""

        def work() -> dict[str, Any]:
            watermark = self._engine.watermark
            return {
                "status": "ok",
                "rules": list(self._engine.rules.names),
                "watermark": None if watermark is None else watermark.isoformat(),
            }

        return self._call(work)

    def close(self) -> None:
        """Close the store once the call in progress (if any) is done; later calls get 503."""

        def work() -> None:
            if not self._closed:
                self._closed = True
                self._store.close()

        try:
            self._executor.submit(work).result()
        except RuntimeError:  # already shut down
            return
        self._executor.shutdown(wait=True)


_BUSY_BODY = b'{"error": "too many connections at once; try again shortly"}'
_BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
) % (len(_BUSY_BODY), _BUSY_BODY)
"""The answer to a connection beyond ``max_connections``, written as is."""


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that knows its :class:`TriggerService`, serves at most
    ``max_connections`` connections at once and decodes one request body at a time."""

    daemon_threads = True
    request_queue_size = 64  # connections the system holds until they are accepted

    def __init__(
        self,
        address: tuple[str, int],
        service: TriggerService,
        verbose: bool,
        read_timeout: float,
        max_connections: int,
    ) -> None:
        super().__init__(address, _Handler)
        self.service = service
        self.verbose = verbose
        self.read_timeout = read_timeout
        self.decoding = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)  # starts the connection's thread
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        """Answer ``503`` to a connection beyond the limit, on the accepting thread: the
        answer fits in an empty send buffer, and what the client sent is not waited for."""
        try:
            request.setblocking(False)
            request.sendall(_BUSY)
            request.recv(65536)  # what arrived already: closing on unread bytes resets
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # the client broke the connection
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes JSON requests to the service; every answer, error or not, is a JSON object."""

    server: _Server
    default_request_version = "HTTP/1.0"  # a malformed request line still gets a status line

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.read_timeout)

    def __getattr__(self, name: str) -> Callable[[], None]:
        # every method reaches _handle, so that one an endpoint does not take gets 405
        # naming those it takes, not the standard library's 501
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _handle(self) -> None:
        self._answer(self._dispatch)

    def _dispatch(self) -> dict[str, Any]:
        service = self.server.service
        path, _, query = self.path.partition("?")
        gets: dict[str, Callable[[], dict[str, Any]]] = {
            "/health": service.health,
            "/firings/pending": lambda: service.pending(_page(query)),
        }
        posts: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "/interactions": service.interactions,
            "/advance": service.advance,
            "/acknowledge": service.acknowledge,
        }
        if path not in gets and path not in posts:
            known = [f"GET {p}" for p in gets] + [f"POST {p}" for p in posts]
            raise RequestError(
                HTTPStatus.NOT_FOUND, f"no endpoint {path!r}; known: {', '.join(known)}"
            )
        allow = "GET, HEAD" if path in gets else "POST"
        if self.command not in allow.split(", "):
            raise RequestError(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"{path} takes {allow}, not {self.command}",
                {"Allow": allow},
            )
        if path in gets:
            return gets[path]()
        raw = self._read_body()
        with self.server.decoding:  # one decoded body in memory at a time, however many wait
            return posts[path](_decode(raw))

    def _read_body(self) -> bytes:
        if "Transfer-Encoding" in self.headers:
            raise RequestError(
                HTTPStatus.LENGTH_REQUIRED,
                "Transfer-Encoding is not supported: send the body with a Content-Length",
            )
        lengths = [text.strip() for text in self.headers.get_all("Content-Length", [])]
        if not lengths:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is needed")
        if len(set(lengths)) > 1 or not (lengths[0].isascii() and lengths[0].isdigit()):
            raise RequestError(  # int() would take "-1", "+1", "1_0" and " 1 "
                HTTPStatus.BAD_REQUEST, f"Content-Length must be one number of bytes, got {lengths}"
            )
        length = int(lengths[0])
        if length > MAX_BODY_BYTES:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body must be at most {MAX_BODY_BYTES} bytes, got {length}",
            )
        chunks: list[bytes] = []
        received = 0
        try:
            while received < length:  # memory follows the bytes that arrive, not the header
                chunk = self.rfile.read1(min(length - received, 1 << 16))
                if not chunk:
                    raise RequestError(
                        HTTPStatus.BAD_REQUEST,
                        f"the body ended after {received} of its {length} bytes",
                    )
                chunks.append(chunk)
                received += len(chunk)
        except TimeoutError:
            raise RequestError(
                HTTPStatus.REQUEST_TIMEOUT,
                f"nothing arrived for {self.server.read_timeout:g} s after {received} of the "
                f"body's {length} bytes",
            ) from None
        except OSError as exc:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"the body was cut: {exc}") from None
        return b"".join(chunks)

    def _answer(self, handle: Callable[[], dict[str, Any]]) -> None:
        headers: dict[str, str] = {}
        try:
            status, payload = HTTPStatus.OK, handle()
        except RequestError as exc:
            status, payload, headers = exc.status, {"error": exc.message}, exc.headers
        except StoreError as exc:  # the store could not commit (locked, disk full): retry
            status, payload = HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(exc)}
            headers = {"Retry-After": "1"}
        except CXModelError as exc:
            status, payload = HTTPStatus.BAD_REQUEST, {"error": str(exc)}
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            status = HTTPStatus.INTERNAL_SERVER_ERROR
            payload = {"error": f"internal error ({type(exc).__name__}); see the server log"}
        self._send(status, payload, headers)

    def _send(
        self, status: HTTPStatus, payload: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload, default=str).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except OSError:  # the client left or stopped reading: a firing stays pending
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (a malformed request line or header, a line
        too long), as JSON like every other answer."""
        self.close_connection = True
        status = HTTPStatus(code)
        self._send(status, {"error": message or status.phrase})

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


def make_server(
    service: TriggerService,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    verbose: bool = False,
    read_timeout: float = READ_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> ThreadingHTTPServer:
    """Bind an HTTP server for ``service`` (not yet serving).

    Parameters
    ----------
    service : TriggerService
        What the endpoints call.
    host : str
        The address to bind (loopback by default).
    port : int
        The port (``0``: any free one; read it from ``server.server_address``).
    verbose : bool
        Log every request to standard error.
    read_timeout : float
        Seconds a client may leave its request unfinished between two reads (or not read
        the answer): past it, the connection is answered ``408`` (if its body was begun)
        and closed.
    max_connections : int
        Connections served at once; one more is answered ``503`` and closed.

    Returns
    -------
    ThreadingHTTPServer
        The bound server; call ``serve_forever()``.
    """
    return _Server((host, port), service, verbose, read_timeout, max_connections)


def _load_rules(spec: str) -> RuleSet:
    """The rules named by ``--rules``: ``default`` (the six example rules) or a file."""
    text = EXAMPLE_RULES if spec == "default" else Path(spec).read_text(encoding="utf-8")
    return parse(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the service until SIGTERM or SIGINT; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (``sys.argv[1:]`` by default).

    Returns
    -------
    int
        ``0`` after a clean shutdown, ``2`` if the service could not start.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--db", required=True, help="SQLite file holding the engine's state")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    parser.add_argument(
        "--rules", default="default", help="a rules file, or 'default' for the example rules"
    )
    parser.add_argument(
        "--allowed-lateness", default="0", help="event-time lateness accepted, e.g. '1h' (0)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=READ_TIMEOUT,
        help=f"seconds a client may leave its request unfinished between reads ({READ_TIMEOUT:g})",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=MAX_CONNECTIONS,
        help=f"connections served at once; more are answered 503 ({MAX_CONNECTIONS})",
    )
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args(argv)
    if not (args.timeout > 0 and args.max_connections > 0):  # NaN is not > 0
        parser.error("--timeout and --max-connections must be positive")
    try:
        service = TriggerService(_load_rules(args.rules), args.db, args.allowed_lateness)
    except (CXModelError, OSError) as exc:
        print(f"trigger_service: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        server = make_server(
            service,
            args.host,
            args.port,
            verbose=args.verbose,
            read_timeout=args.timeout,
            max_connections=args.max_connections,
        )
    except OSError as exc:
        service.close()
        print(f"trigger_service: cannot bind {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serving = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    serving.start()
    print(server.server_address[1], flush=True)
    while not stop.wait(0.2):  # a timed wait lets the signal handler run
        pass
    server.shutdown()  # stop accepting; requests in progress finish on their threads
    server.server_close()
    service.close()  # after the engine call in progress, if any
    return 0


if __name__ == "__main__":
    sys.exit(main())
