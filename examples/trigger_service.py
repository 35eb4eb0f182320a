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
    ``{"firings": [...], "late": [...]}``: the firings that became final, and the records the
    engine set aside as later than its allowed lateness (not processed).
``POST /advance`` ``{"time": "2024-05-01T00:00:00+00:00"}``
    Declare every interaction up to ``time`` delivered and fire due timers
    (``advance_to``); respond ``{"firings": [...]}``.
``GET /firings/pending``
    The firings emitted and not yet acknowledged: ``{"firings": [...]}``.
``POST /acknowledge`` ``{"firing_ids": [...]}``
    Mark firings handled and delete them from the store; respond ``{"acknowledged": n}``
    (the number of ids sent).
``GET /health``
    ``{"status": "ok", "rules": [...], "watermark": iso-or-null}``.

A record or time the engine rejects gives ``400`` with ``{"error": message}`` (the
:class:`~cxmodel.errors.CXModelError` message); an unexpected failure gives ``500`` with the
exception's type only (the traceback goes to standard error).

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
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from cxmodel.errors import CXModelError
from cxmodel.triggers import EXAMPLE_RULES, Firing, RuleSet, SQLiteStore, TriggerEngine, parse

__all__ = ["RequestError", "TriggerService", "main", "make_server"]

MAX_BODY_BYTES = 32 * 1024 * 1024
"""The largest request body accepted (``413`` beyond)."""

T = TypeVar("T")


class RequestError(Exception):
    """A request the service refuses, with the HTTP status and message to answer.

    Parameters
    ----------
    status : HTTPStatus
        The status of the error response.
    message : str
        What was wrong, for the client.
    """

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _firing_dicts(firings: Iterable[Firing]) -> list[dict[str, Any]]:
    """JSON-ready dicts of the firings (an iterable of :class:`Firing`)."""
    return [f.to_dict() for f in firings]


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
        self._late_seen = len(self._store.late())  # late interactions kept before this run

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
            ``{"firings": [...], "late": [...]}``.
        """
        records = _field(body, "records", list, "a list of interaction records")

        def work() -> dict[str, Any]:
            firings = _firing_dicts(self._engine.process_many(records))
            kept = self._store.late()  # the store keeps late interactions: report the new ones
            late = [q.record for q in kept[self._late_seen :]]
            self._late_seen = len(kept)
            return {"firings": firings, "late": late}

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

    def pending(self) -> dict[str, Any]:
        """``GET /firings/pending``: the firings not yet acknowledged, in emission order."""
        return self._call(lambda: {"firings": _firing_dicts(self._store.pending())})

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


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that knows its :class:`TriggerService`."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], service: TriggerService, verbose: bool) -> None:
        super().__init__(address, _Handler)
        self.service = service
        self.verbose = verbose


class _Handler(BaseHTTPRequestHandler):
    """Routes JSON requests to the service."""

    server: _Server
    timeout = 60  # seconds a client may take to send its request
    error_content_type = "application/json"
    error_message_format = '{"error": "%(message)s"}'

    def do_GET(self) -> None:
        routes: dict[str, Callable[[], dict[str, Any]]] = {
            "/health": self.server.service.health,
            "/firings/pending": self.server.service.pending,
        }
        self._answer(lambda: self._route(routes)())

    def do_POST(self) -> None:
        service = self.server.service
        routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "/interactions": service.interactions,
            "/advance": service.advance,
            "/acknowledge": service.acknowledge,
        }
        self._answer(lambda: self._route(routes)(self._body()))

    def _route(self, routes: dict[str, T]) -> T:
        path = self.path.split("?", 1)[0]
        if path in routes:
            return routes[path]
        raise RequestError(
            HTTPStatus.NOT_FOUND,
            f"no endpoint {self.command} {path}; known: {', '.join(sorted(routes))}",
        )

    def _body(self) -> dict[str, Any]:
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is needed")
        try:
            length = int(length_text)
        except ValueError:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"Content-Length {length_text!r} is not a number"
            ) from None
        if not 0 <= length <= MAX_BODY_BYTES:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body must be at most {MAX_BODY_BYTES} bytes, got {length}",
            )
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        return body

    def _answer(self, handle: Callable[[], dict[str, Any]]) -> None:
        try:
            status, payload = HTTPStatus.OK, handle()
        except RequestError as exc:
            status, payload = exc.status, {"error": exc.message}
        except CXModelError as exc:
            status, payload = HTTPStatus.BAD_REQUEST, {"error": str(exc)}
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            status = HTTPStatus.INTERNAL_SERVER_ERROR
            payload = {"error": f"internal error ({type(exc).__name__}); see the server log"}
        data = json.dumps(payload, default=str).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


def make_server(
    service: TriggerService, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
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

    Returns
    -------
    ThreadingHTTPServer
        The bound server; call ``serve_forever()``.
    """
    return _Server((host, port), service, verbose)


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
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args(argv)
    try:
        service = TriggerService(_load_rules(args.rules), args.db, args.allowed_lateness)
    except (CXModelError, OSError) as exc:
        print(f"trigger_service: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        server = make_server(service, args.host, args.port, verbose=args.verbose)
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
