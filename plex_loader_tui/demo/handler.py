"""The HTTP plumbing of the demo server: the threaded server and its request handler.

The handler picks the service by path prefix (TMDb under ``/tmdb/3``, IMDb
under ``/imdb``, Plex everywhere else), applies that service's faults (latency,
rate limit, stalls, errors and the other answers of :mod:`.faults`), checks its
credentials, lets its routes answer, and records the request on the
:class:`~.server.DemoServer`. A streamed reply goes out with chunked transfer
encoding. Two Plex paths skip the faults: the notification stream (a
WebSocket upgrade, handed to :mod:`.notifications`; the connection then
belongs to it) and the demo's own ``/demo`` routes (:mod:`.control`).
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from ..secrets import mask
from .control import CONTROL_PREFIX, control_route
from .faults import ANSWER_FAULTS, FaultSettings, Service, ServiceState
from .hostile import hostile_json
from .imdb_api import ImdbRoutes
from .notifications import NOTIFICATIONS_PATH
from .notify_socket import WebSocketClient
from .plex_api import PlexRoutes
from .replies import (
    TMDB_401,
    Reply,
    captive_portal,
    html_reply,
    huge_body,
    json_reply,
    service_error,
    tmdb_error,
    too_many_requests,
    wrong_shape,
)
from .request_log import RequestRecord
from .tmdb_api import TmdbRoutes

if TYPE_CHECKING:
    from .server import DemoServer

log = logging.getLogger(__name__)

#: Where TMDb and IMDb live on the server; Plex has the rest.
TMDB_PREFIX = "/tmdb/3"
IMDB_PREFIX = "/imdb"
#: Query parameters that carry credentials: masked in the log, left out of fault targets.
_SECRET_PARAMS = {"x-plex-token", "api_key"}


class DemoHTTPServer(ThreadingHTTPServer):
    """The threaded HTTP server under a :class:`DemoServer`; ``demo`` is set by ``DemoServer.start``."""

    daemon_threads = True
    allow_reuse_address = True
    # Benchmarks open many keep-alive connections at once; the default
    # backlog of 5 would refuse some of them under load.
    request_queue_size = 512

    demo: DemoServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-response (a cancelled load) is normal;
        # anything else is a bug in the demo server and worth a log line.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        log.warning("demo server: error serving %s", client_address, exc_info=True)


class RequestHandler(BaseHTTPRequestHandler):
    """One keep-alive connection: each request is routed to its service, faulted, answered and logged."""

    protocol_version = "HTTP/1.1"
    server_version = "PlexLoaderDemo/1.0"
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 30
    # Headers and body go out in two sends; with Nagle on, the client's delayed
    # ACK holds the second one back ~40 ms on every keep-alive request.
    disable_nagle_algorithm = True
    server: DemoHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.demo._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.demo._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # The stdlib prints to stderr; route it to logging, with tokens masked.
        log.debug("demo %s", re.sub(r"(?i)(x-plex-token|api_key)=[^&\s]+", r"\1=****", format % args))

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._handle()

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle()

    # ------------------------------------------------------------- dispatch
    def _handle(self) -> None:
        demo = self.server.demo
        split = urlsplit(self.path)
        raw_path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        if raw_path == TMDB_PREFIX or raw_path.startswith(TMDB_PREFIX + "/"):
            service: Service = "tmdb"
            path = raw_path[len(TMDB_PREFIX) :] or "/"
        elif raw_path == IMDB_PREFIX or raw_path.startswith(IMDB_PREFIX + "/"):
            service = "imdb"
            path = raw_path[len(IMDB_PREFIX) :] or "/"
        else:
            service = "plex"
            path = raw_path.rstrip("/") or "/"
        if service == "plex" and (path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")):
            self._control(demo, path, query)
            return
        if service == "plex" and path == NOTIFICATIONS_PATH and self.command == "GET":
            self._notifications(demo, query)
            return
        if self.command not in ("GET", "HEAD"):
            self._send(html_reply(405, "Method Not Allowed"))
            return
        state = demo._state[service]
        faults = state.faults
        target = self._target(service, path, query)
        try:
            reply = self._route(demo, service, state, faults, path, query, target)
        except Reply as r:
            reply = r
        except Exception:  # a bug in the demo server: answer 500, keep serving
            log.exception("demo server failed on %s %s", self.command, path)
            reply = html_reply(500, "Internal Server Error")
        body = reply.body
        if reply.status == 200 and reply.chunks is None and state.picks(faults, "malformed", target):
            # Cut the body mid-element: the client gets a 200 it cannot parse.
            body = body[: max(1, len(body) * 3 // 5)]
        demo._record(RequestRecord(service, self.command, path, _masked(query), reply.status, time.time()))
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        if reply.chunks is None:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if state.picks(faults, "stall_body", target):
            # The headers are out; the body waits (the client sees a stalled answer).
            demo._pause(faults.stall_ms / 1000.0)
        if self.command == "HEAD":
            return
        if reply.chunks is None:
            self.wfile.write(body)
            return
        for chunk in reply.chunks():
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def _send(self, reply: Reply) -> None:
        """Send a small reply whole (no faults, no log record)."""
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _control(self, demo: DemoServer, path: str, query: dict[str, list[str]]) -> None:
        try:
            self._authenticate(demo, "plex", path, query)
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= 1024 * 1024:
                raise json_reply(413, {"error": "body too large"})
            body = self.rfile.read(length) if length else b""
            reply = control_route(demo, self.command, path, body)
        except Reply as r:
            reply = r
        except ValueError:
            reply = json_reply(400, {"error": "bad Content-Length"})
        self._send(reply)

    def _notifications(self, demo: DemoServer, query: dict[str, list[str]]) -> None:
        """The notification stream: a WebSocket upgrade, then the connection serves it until it ends."""
        reply: Reply | None = None
        if (self.headers.get("Upgrade") or "").lower() != "websocket":
            reply = html_reply(400, "Bad Request")
        else:
            try:
                self._authenticate(demo, "plex", NOTIFICATIONS_PATH, query)
            except Reply as r:
                reply = r
        if reply is None and demo.notifications.refusing:
            reply = html_reply(503, "Service Unavailable")
        status = reply.status if reply is not None else 101
        demo._record(RequestRecord("plex", "GET", NOTIFICATIONS_PATH, _masked(query), status, time.time()))
        if reply is not None:
            self._send(reply)
            return
        # The request line and headers as sent, for wsproto to check and answer the handshake.
        head = self.raw_requestline + "".join(f"{k}: {v}\r\n" for k, v in self.headers.items()).encode("latin-1")
        self.close_connection = True
        demo.notifications.serve(WebSocketClient(self.connection, self.rfile), head + b"\r\n")

    def _target(self, service: Service, path: str, query: dict[str, list[str]]) -> str:
        q = {k: v[-1] for k, v in query.items() if k.lower() not in _SECRET_PARAMS}
        if service == "plex":
            for name in ("X-Plex-Container-Start", "X-Plex-Container-Size"):
                if name not in q and self.headers.get(name) is not None:
                    q[name] = self.headers[name]
        return path + ("?" + urlencode(sorted(q.items())) if q else "")

    def _route(
        self,
        demo: DemoServer,
        service: Service,
        state: ServiceState,
        faults: FaultSettings,
        path: str,
        query: dict[str, list[str]],
        target: str,
    ) -> Reply:
        if faults.latency_ms > 0:
            # Simulated network/server time, per request.
            time.sleep(faults.latency_ms / 1000.0)
        wait = state.admit(time.monotonic())
        if wait is not None:
            raise too_many_requests(service, max(1, math.ceil(wait)), hostile=faults.hostile)
        if state.picks(faults, "stall", target):
            # Silence before the headers: the client waits for an answer that is late.
            demo._pause(faults.stall_ms / 1000.0)
        self._authenticate(demo, service, path, query)
        for fault in ANSWER_FAULTS:
            if state.picks(faults, fault, target):
                raise self._fault_reply(service, faults, fault)
        if faults.hostile and service != "plex":
            return _hostile_json(self._answer(demo, service, faults, path, query, target))
        return self._answer(demo, service, faults, path, query, target)

    def _answer(
        self, demo: DemoServer, service: Service, faults: FaultSettings, path: str, query: dict[str, list[str]],
        target: str,
    ) -> Reply:
        if service == "tmdb":
            return TmdbRoutes(demo.library).route(path, query)
        if service == "imdb":
            return ImdbRoutes(demo.library).route(path, query)
        return PlexRoutes(demo, self.headers, faults, target).route(path, query)

    @staticmethod
    def _fault_reply(service: Service, faults: FaultSettings, fault: str) -> Reply:
        if fault == "throttle":
            return too_many_requests(service, faults.retry_after, hostile=faults.hostile)
        if fault == "error":
            return service_error(service, faults.error_status, hostile=faults.hostile)
        if fault == "html":
            return captive_portal()
        if fault == "wrong_shape":
            return wrong_shape(service)
        return huge_body(service, faults.huge_bytes)

    def _authenticate(self, demo: DemoServer, service: Service, path: str, query: dict[str, list[str]]) -> None:
        if service == "plex":
            # Like a real server, /identity answers without a token.
            if demo.token is None or path == "/identity":
                return
            given = self.headers.get("X-Plex-Token") or (query.get("X-Plex-Token") or [None])[-1]
            if given != demo.token:
                raise html_reply(401, "Unauthorized")
        elif service == "tmdb":
            if demo.tmdb_api_key is None:
                return
            given = (query.get("api_key") or [None])[-1]
            auth = self.headers.get("Authorization") or ""
            if auth.lower().startswith("bearer "):
                given = given or auth[7:].strip()
            if given != demo.tmdb_api_key:
                raise tmdb_error(401, *TMDB_401)



def _masked(query: dict[str, list[str]]) -> dict[str, list[str]]:
    """The query with credential values masked, for the request log."""
    return {k: [mask(v) for v in vs] if k.lower() in _SECRET_PARAMS else vs for k, vs in query.items()}


def _hostile_json(reply: Reply) -> Reply:
    """A JSON answer (errors included) with hostile text in its titles, names and bodies."""
    if not reply.content_type.startswith("application/json"):
        return reply
    return json_reply(reply.status, hostile_json(json.loads(reply.body)), reply.headers)
