"""The demo server: Plex, TMDb and IMDb APIs over real HTTP on loopback.

One threaded HTTP/1.1 server (keep-alive) serves three services from one
:class:`~plex_loader_tui.demo.library.DemoLibrary`:

* Plex at the base URL (``/``, ``/identity``, ``/library``,
  ``/library/sections``, ``/library/sections/{id}/all``,
  ``/library/metadata/{ids}``, ``…/children``, ``…/allLeaves``), XML shaped
  like a real Plex Media Server's;
* TMDb v3 under ``/tmdb/3`` (``/movie/{id}``, ``/tv/{id}``,
  ``/tv/{id}/season/{s}``, ``/tv/{id}/season/{s}/episode/{e}``,
  ``/find/{external_id}``) with ``append_to_response`` and the real error bodies;
* IMDb (the imdbapi.dev API) under ``/imdb`` (``/titles/{tt}``,
  ``/titles:batchGet``).

Each service has fault knobs (latency, 5xx rate, rate limit with 429 and
``Retry-After``, truncated bodies, paths that always fail) that tests change at
run time, and every request is recorded so tests can assert exact counts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import re
import signal
import socket
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from ..secrets import mask
from .library import (
    GENRE_IDS,
    Credit,
    DemoEpisode,
    DemoLibrary,
    DemoMovie,
    DemoSeason,
    DemoShow,
)

log = logging.getLogger(__name__)

Service = Literal["plex", "tmdb", "imdb"]
SERVICES: tuple[Service, ...] = ("plex", "tmdb", "imdb")
TMDB_PREFIX = "/tmdb/3"
IMDB_PREFIX = "/imdb"
#: Plex Media Server version the demo claims to be.
PLEX_VERSION = "1.41.3.9314-a0bfb8370"
#: TMDb accepts at most this many ``append_to_response`` entries.
TMDB_MAX_APPEND = 20
#: imdbapi.dev's ``titles:batchGet`` accepts at most this many ids.
IMDB_MAX_BATCH = 5

#: Rendered item fragments kept (about 2 KB each).
_XML_CACHE_LIMIT = 50_000
#: A path predicate: a regular expression (searched) or a function.
PathMatcher = str | re.Pattern[str] | Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """How one service misbehaves.

    ``fail_paths`` and ``malformed_paths`` are matched against the request's
    *target*: the service-relative path, then ``?`` and the query sorted by
    name (``str`` order: upper case first). For Plex the container paging
    headers are folded into that query, so
    ``r"X-Plex-Container-Start=200&.*type=1\\b"`` picks exactly one page of the
    movie listing whether the client sent the paging as headers or query.
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit: float | None = None
    malformed_rate: float = 0.0
    fail_paths: PathMatcher | None = None
    malformed_paths: PathMatcher | None = None

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must be >= 0, got {self.latency_ms}")
        for name in ("error_rate", "malformed_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError(f"rate_limit must be > 0 requests/s, got {self.rate_limit}")


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the demo server answered.

    ``path`` is relative to the service (``/movie/603`` for TMDb,
    ``/titles:batchGet`` for IMDb, ``/library/sections/1/all`` for Plex);
    ``query`` maps each parameter to its values, credentials masked.
    """

    service: Service
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    at: float


def _matches(matcher: PathMatcher | None, target: str) -> bool:
    if matcher is None:
        return False
    if callable(matcher) and not isinstance(matcher, re.Pattern):
        return bool(matcher(target))
    return re.search(matcher, target) is not None


class _ServiceState:
    """Faults, RNG and rate-limit window of one service (guarded by ``lock``)."""

    def __init__(self, faults: FaultSettings, seed: int) -> None:
        self.faults = faults
        self.rng = random.Random(seed)
        self.window: deque[float] = deque()
        self.lock = threading.Lock()

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self.lock:
            return self.rng.random() < rate

    def admit(self, now: float) -> float | None:
        """Count a request against the rate limit; return seconds to wait if over it."""
        limit = self.faults.rate_limit
        if limit is None:
            return None
        with self.lock:
            while self.window and now - self.window[0] >= 1.0:
                self.window.popleft()
            if len(self.window) >= limit:
                return max(0.0, 1.0 - (now - self.window[0]))
            self.window.append(now)
            return None


# ---------------------------------------------------------------- XML helpers
_XML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
)


def _attrs(pairs: Iterable[tuple[str, object]]) -> str:
    """Render XML attributes, skipping ``None`` values (Plex omits empty fields)."""
    out = []
    for name, value in pairs:
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = int(value)
        out.append(f' {name}="{str(value).translate(_XML_ESCAPES)}"')
    return "".join(out)


def _tags(tag: str, values: Iterable[str]) -> str:
    return "".join(
        f'<{tag} id="{zlib.crc32(v.encode()) % 90_000 + 1}" filter="{tag.lower()}={zlib.crc32(v.encode()) % 90_000 + 1}"'
        f'{_attrs((("tag", v),))} />'
        for v in values
    )


def _roles(credits: Iterable[Credit]) -> str:
    return "".join(
        f'<Role id="{zlib.crc32(c.name.encode()) % 900_000 + 1}"{_attrs((("tag", c.name), ("role", c.character)))} />'
        for c in credits
    )


def _guids(guids: Iterable[str]) -> str:
    return "".join(f"<Guid{_attrs((('id', g),))} />" for g in guids)


def _sort_title(title: str) -> str | None:
    for article in ("The ", "A ", "An "):
        if title.startswith(article):
            return title[len(article) :]
    return None


def _media(key: int, duration_ms: int, path: str) -> str:
    return (
        f'<Media id="{key}" duration="{duration_ms}" bitrate="8421" width="1920" height="1080" '
        f'aspectRatio="1.78" audioChannels="6" audioCodec="eac3" videoCodec="h264" '
        f'videoResolution="1080" container="mkv" videoFrameRate="24p">'
        f'<Part id="{key}" key="/library/parts/{key}/1700000000/file.mkv" duration="{duration_ms}"'
        f'{_attrs((("file", path),))} size="{duration_ms * 1000}" container="mkv" /></Media>'
    )


# -------------------------------------------------------------------- server
class _HTTPServer(ThreadingHTTPServer):
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


class DemoServer:
    """Plex + TMDb + IMDb on one loopback port, serving a :class:`DemoLibrary`.

    Use it as a context manager (or ``start()``/``stop()``)::

        with DemoServer(DemoLibrary.generate(seed=7, size=300)) as server:
            PlexServer(server.plex_url, server.token)

    ``token=None`` / ``tmdb_api_key=None`` turn authentication off for that
    service. ``faults`` maps a service to its :class:`FaultSettings`; they can
    be changed at any time with :meth:`set_faults`.
    """

    def __init__(
        self,
        library: DemoLibrary | None = None,
        *,
        token: str | None = "demo-token",
        tmdb_api_key: str | None = "demo-tmdb-key",
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Mapping[Service, FaultSettings] | None = None,
        seed: int = 0,
        machine_identifier: str | None = None,
        friendly_name: str = "Plex Loader Demo",
    ) -> None:
        self.library = library if library is not None else DemoLibrary.generate()
        self.token = token
        self.tmdb_api_key = tmdb_api_key
        self.host = host
        self._port = port
        self.friendly_name = friendly_name
        # 40 hex digits like a real server's, stable for a given library seed.
        self.machine_identifier = machine_identifier or hashlib.sha1(
            f"plex-loader-demo-{self.library.seed}".encode()
        ).hexdigest()
        self._state: dict[Service, _ServiceState] = {
            s: _ServiceState((faults or {}).get(s, FaultSettings()), seed * 31 + i) for i, s in enumerate(SERVICES)
        }
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        self._xml_cache: dict[tuple[int, int, bool, bool], str] = {}

    # ------------------------------------------------------------- lifecycle
    def start(self) -> DemoServer:
        """Bind the port and serve in a background thread. Returns ``self``."""
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self.host, self._port), _Handler)
        httpd.demo = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="demo-server", daemon=True
        )
        self._thread.start()
        log.info("demo server listening on %s (%d items)", self.url, self.library.size)
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self._conn_lock:
            conns = list(self._connections)
            self._connections.clear()
        for conn in conns:
            # Keep-alive handler threads block in recv(); shutting the socket
            # down wakes them so they end instead of lingering.
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"DemoServer(url={self.url!r}, items={self.library.size}, token={mask(self.token)!r}, "
            f"tmdb_api_key={mask(self.tmdb_api_key)!r})"
        )

    # ------------------------------------------------------------------ URLs
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the demo server is not running; call start() first")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    @property
    def plex_url(self) -> str:
        return self.url

    @property
    def tmdb_url(self) -> str:
        return self.url + TMDB_PREFIX

    @property
    def imdb_url(self) -> str:
        return self.url + IMDB_PREFIX

    # ---------------------------------------------------------------- faults
    def set_faults(
        self,
        service: Service,
        *,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        rate_limit: float | None = None,
        malformed_rate: float = 0.0,
        fail_paths: PathMatcher | None = None,
        malformed_paths: PathMatcher | None = None,
    ) -> None:
        """Replace the fault settings of one service (all knobs not given are reset)."""
        if service not in self._state:
            raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
        faults = FaultSettings(
            latency_ms=latency_ms,
            error_rate=error_rate,
            rate_limit=rate_limit,
            malformed_rate=malformed_rate,
            fail_paths=fail_paths,
            malformed_paths=malformed_paths,
        )
        state = self._state[service]
        with state.lock:
            state.faults = faults
            state.window.clear()

    def faults(self, service: Service) -> FaultSettings:
        return self._state[service].faults

    # ------------------------------------------------------------ request log
    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first."""
        with self._log_lock:
            return list(self._log)

    def count(self, service: Service | None = None, prefix: str | None = None) -> int:
        """Requests answered for ``service`` whose path starts with ``prefix``.

        ``prefix`` is service-relative (``"/movie"``) but the full form
        (``"/tmdb/3/movie"``) works too.
        """
        if prefix is not None:
            for full in (TMDB_PREFIX, IMDB_PREFIX):
                if prefix.startswith(full + "/") or prefix == full:
                    prefix = prefix[len(full) :] or "/"
                    break
        with self._log_lock:
            return sum(
                1
                for r in self._log
                if (service is None or r.service == service) and (prefix is None or r.path.startswith(prefix))
            )

    def reset_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)

    # ---------------------------------------------------------- connections
    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ------------------------------------------------------------ XML cache
    def _cached_xml(self, item: Any, detail: bool, guids: bool, render: Callable[[], str]) -> str:
        # updatedAt changes on every mutation, so a stale fragment is never served.
        key = (item.rating_key, item.updated_at, detail, guids)
        xml = self._xml_cache.get(key)
        if xml is None:
            xml = render()
            if len(self._xml_cache) >= _XML_CACHE_LIMIT:
                # Bounded memory for huge demo libraries: start over rather
                # than track recency (a listing pass is sequential anyway).
                self._xml_cache.clear()
            self._xml_cache[key] = xml
        return xml


# --------------------------------------------------------------- the handler
_SECRET_PARAMS = {"x-plex-token", "api_key"}


class _Reply(Exception):
    """Raised inside a route to answer with a status, body and headers."""

    def __init__(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def _json(status: int, payload: object, headers: dict[str, str] | None = None) -> _Reply:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return _Reply(status, body, "application/json;charset=utf-8", headers)


def _tmdb_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> _Reply:
    return _json(status, {"success": False, "status_code": code, "status_message": message}, headers)


def _imdb_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> _Reply:
    return _json(status, {"code": code, "message": message, "details": []}, headers)


def _html(status: int, title: str, headers: dict[str, str] | None = None) -> _Reply:
    body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>".encode()
    return _Reply(status, body, "text/html;charset=utf-8", headers)


def _xml(body: str) -> _Reply:
    return _Reply(200, ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode(), "text/xml;charset=utf-8")


_TMDB_404 = (34, "The resource you requested could not be found.")
_TMDB_401 = (7, "Invalid API key: You must be granted a valid key.")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PlexLoaderDemo/1.0"
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 30
    # Headers and body go out in two sends; with Nagle on, the client's delayed
    # ACK holds the second one back ~40 ms on every keep-alive request.
    disable_nagle_algorithm = True
    server: _HTTPServer

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
        state = demo._state[service]
        faults = state.faults
        try:
            reply = self._route(demo, service, state, faults, path, query)
        except _Reply as r:
            reply = r
        except Exception:  # a bug in the demo server: answer 500, keep serving
            log.exception("demo server failed on %s %s", self.command, path)
            reply = _html(500, "Internal Server Error")
        body = reply.body
        if reply.status == 200 and (
            _matches(faults.malformed_paths, self._target(service, path, query)) or state.roll(faults.malformed_rate)
        ):
            # Cut the body mid-element: the client gets a 200 it cannot parse.
            body = body[: max(1, len(body) * 3 // 5)]
        masked = {k: [mask(v) for v in vs] if k.lower() in _SECRET_PARAMS else vs for k, vs in query.items()}
        demo._record(RequestRecord(service, self.command, path, masked, reply.status, time.time()))
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

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
        state: _ServiceState,
        faults: FaultSettings,
        path: str,
        query: dict[str, list[str]],
    ) -> _Reply:
        if faults.latency_ms > 0:
            # Simulated network/server time, per request.
            time.sleep(faults.latency_ms / 1000.0)
        wait = state.admit(time.monotonic())
        if wait is not None:
            retry_after = {"Retry-After": str(max(1, math.ceil(wait)))}
            if service == "tmdb":
                raise _tmdb_error(429, 25, "Your request count (#) is over the allowed limit of (40).", retry_after)
            if service == "imdb":
                raise _imdb_error(429, 8, "Too Many Requests", retry_after)
            raise _html(429, "Too Many Requests", retry_after)
        self._authenticate(demo, service, path, query)
        if _matches(faults.fail_paths, self._target(service, path, query)) or state.roll(faults.error_rate):
            if service == "tmdb":
                raise _tmdb_error(503, 9, "Service offline: This service is temporarily offline, try again later.")
            if service == "imdb":
                raise _imdb_error(503, 14, "The service is currently unavailable.")
            raise _html(500, "Internal Server Error")
        if service == "tmdb":
            return _TmdbRoutes(demo.library).route(path, query)
        if service == "imdb":
            return _ImdbRoutes(demo.library).route(path, query)
        return _PlexRoutes(demo, self.headers).route(path, query)

    def _authenticate(self, demo: DemoServer, service: Service, path: str, query: dict[str, list[str]]) -> None:
        if service == "plex":
            # Like a real server, /identity answers without a token.
            if demo.token is None or path == "/identity":
                return
            given = self.headers.get("X-Plex-Token") or (query.get("X-Plex-Token") or [None])[-1]
            if given != demo.token:
                raise _html(401, "Unauthorized")
        elif service == "tmdb":
            if demo.tmdb_api_key is None:
                return
            given = (query.get("api_key") or [None])[-1]
            auth = self.headers.get("Authorization") or ""
            if auth.lower().startswith("bearer "):
                given = given or auth[7:].strip()
            if given != demo.tmdb_api_key:
                raise _tmdb_error(401, *_TMDB_401)


# --------------------------------------------------------------------- TMDb
def _person_id(name: str) -> int:
    return zlib.crc32(name.encode()) % 4_000_000 + 1


def _tmdb_genres(genres: Iterable[str]) -> list[dict[str, object]]:
    return [{"id": GENRE_IDS.get(g, 18), "name": g} for g in genres]


def _image(seed: str) -> str:
    return f"/{zlib.crc32(seed.encode()):08x}{zlib.adler32(seed.encode()):08x}.jpg"


def _tmdb_cast(credits: Iterable[Credit]) -> list[dict[str, object]]:
    return [
        {
            "adult": False,
            "gender": 0,
            "id": _person_id(c.name),
            "known_for_department": "Acting",
            "name": c.name,
            "original_name": c.name,
            "popularity": round((_person_id(c.name) % 500) / 10, 3),
            "profile_path": None,
            "cast_id": i + 1,
            "character": c.character or "",
            "credit_id": f"{zlib.crc32((c.name + str(i)).encode()):024x}",
            "order": i,
        }
        for i, c in enumerate(credits)
    ]


def _tmdb_crew(directors: Iterable[str], writers: Iterable[str], writer_job: str = "Screenplay") -> list[dict[str, object]]:
    crew: list[dict[str, object]] = []
    for name, job, dept in [(d, "Director", "Directing") for d in directors] + [
        (w, writer_job, "Writing") for w in writers
    ]:
        crew.append(
            {
                "adult": False,
                "gender": 0,
                "id": _person_id(name),
                "known_for_department": dept,
                "name": name,
                "original_name": name,
                "profile_path": None,
                "credit_id": f"{zlib.crc32((name + job).encode()):024x}",
                "department": dept,
                "job": job,
            }
        )
    return crew


class _TmdbRoutes:
    """TMDb v3 JSON for the demo library."""

    _movie = re.compile(r"^/movie/([^/]+)$")
    _tv = re.compile(r"^/tv/(\d+)$")
    _season = re.compile(r"^/tv/(\d+)/season/(\d+)$")
    _episode = re.compile(r"^/tv/(\d+)/season/(\d+)/episode/(\d+)$")
    _find = re.compile(r"^/find/([^/]+)$")
    _append_episode = re.compile(r"^season/(\d+)/episode/(\d+)$")
    _append_season = re.compile(r"^season/(\d+)$")

    def __init__(self, library: DemoLibrary) -> None:
        self.lib = library

    def route(self, path: str, query: dict[str, list[str]]) -> _Reply:
        appends = [a.strip() for a in ",".join(query.get("append_to_response", [])).split(",") if a.strip()]
        if len(appends) > TMDB_MAX_APPEND:
            raise _tmdb_error(400, 47, f"The input is not valid: append_to_response takes at most {TMDB_MAX_APPEND} items.")
        if m := self._movie.match(path):
            movie = self.lib.tmdb_movie(m.group(1))
            if movie is None:
                raise _tmdb_error(404, *_TMDB_404)
            return _json(200, self.movie(movie, appends))
        if m := self._tv.match(path):
            show = self.lib.tmdb_show(m.group(1))
            if show is None:
                raise _tmdb_error(404, *_TMDB_404)
            return _json(200, self.tv(show, appends))
        if m := self._season.match(path):
            show = self.lib.tmdb_show(m.group(1))
            season = self._season_of(show, int(m.group(2))) if show else None
            if show is None or season is None:
                raise _tmdb_error(404, *_TMDB_404)
            return _json(200, self.season(show, season))
        if m := self._episode.match(path):
            episode = self.lib.tmdb_episode(m.group(1), int(m.group(2)), int(m.group(3)))
            if episode is None:
                raise _tmdb_error(404, *_TMDB_404)
            return _json(200, self.episode(episode, appends))
        if m := self._find.match(path):
            return _json(200, self.find(m.group(1), (query.get("external_source") or [""])[-1]))
        raise _tmdb_error(404, *_TMDB_404)

    def movie(self, m: DemoMovie, appends: list[str]) -> dict[str, object]:
        out: dict[str, object] = {
            "adult": False,
            "backdrop_path": _image("b" + m.tmdb_id),
            "belongs_to_collection": None,
            "budget": (int(m.tmdb_id) % 90 + 1) * 1_000_000,
            "genres": _tmdb_genres(m.genres),
            "homepage": "",
            "id": int(m.tmdb_id),
            "imdb_id": m.imdb_id,
            "origin_country": ["US"],
            "original_language": "en",
            "original_title": m.title,
            "overview": m.external.tmdb_overview,
            "popularity": round(m.external.vote_count / 137, 3),
            "poster_path": _image("p" + m.tmdb_id),
            "production_companies": [
                {"id": zlib.crc32(m.studio.encode()) % 100_000, "logo_path": None, "name": m.studio, "origin_country": "US"}
            ],
            "production_countries": [{"iso_3166_1": "US", "name": c} for c in m.countries],
            "release_date": m.released,
            "revenue": (int(m.tmdb_id) % 300) * 1_000_000,
            "runtime": m.external.runtime_min,
            "spoken_languages": [{"english_name": "English", "iso_639_1": "en", "name": "English"}],
            "status": "Released",
            "tagline": m.tagline,
            "title": m.title,
            "video": False,
            "vote_average": m.external.vote_average,
            "vote_count": m.external.vote_count,
        }
        if "credits" in appends:
            out["credits"] = {
                "cast": _tmdb_cast(m.cast),
                "crew": _tmdb_crew(m.directors, m.writers),
            }
        if "external_ids" in appends:
            out["external_ids"] = {
                "imdb_id": m.imdb_id,
                "wikidata_id": None,
                "facebook_id": None,
                "instagram_id": None,
                "twitter_id": None,
            }
        return out

    def _season_of(self, show: DemoShow | None, number: int) -> DemoSeason | None:
        if show is None:
            return None
        for season in self.lib.seasons_of(show.rating_key):
            if season.index == number:
                return season
        return None

    def tv(self, s: DemoShow, appends: list[str]) -> dict[str, object]:
        seasons = self.lib.seasons_of(s.rating_key)
        episodes = self.lib.episodes_of(s.rating_key)
        out: dict[str, object] = {
            "adult": False,
            "backdrop_path": _image("b" + s.tmdb_id),
            "created_by": [{"id": _person_id(n), "name": n, "original_name": n} for n in s.creators],
            "episode_run_time": [s.external.runtime_min],
            "first_air_date": s.first_aired,
            "genres": _tmdb_genres(s.genres),
            "homepage": "",
            "id": int(s.tmdb_id),
            "in_production": False,
            "languages": ["en"],
            "last_air_date": max((e.aired for e in episodes), default=s.first_aired),
            "name": s.title,
            "networks": [{"id": zlib.crc32(s.studio.encode()) % 1000, "name": s.studio, "origin_country": "US"}],
            "number_of_episodes": len(episodes),
            "number_of_seasons": len(seasons),
            "origin_country": ["US"],
            "original_language": "en",
            "original_name": s.title,
            "overview": s.external.tmdb_overview,
            "popularity": round(s.external.vote_count / 137, 3),
            "poster_path": _image("p" + s.tmdb_id),
            "seasons": [
                {
                    "air_date": s.first_aired,
                    "episode_count": sum(1 for e in episodes if e.season_key == season.rating_key),
                    "id": season.rating_key * 7,
                    "name": season.title,
                    "overview": "",
                    "poster_path": None,
                    "season_number": season.index,
                }
                for season in seasons
            ],
            "status": "Ended",
            "tagline": s.tagline,
            "type": "Scripted",
            "vote_average": s.external.vote_average,
            "vote_count": s.external.vote_count,
        }
        for key in appends:
            if key == "credits":
                out["credits"] = {"cast": _tmdb_cast(s.cast), "crew": _tmdb_crew((), s.creators, "Creator")}
            elif key == "external_ids":
                out["external_ids"] = {"imdb_id": s.imdb_id, "tvdb_id": int(s.tvdb_id), "wikidata_id": None}
            elif m := self._append_episode.match(key):
                # Like TMDb: an appended episode that does not exist is left out.
                episode = self.lib.tmdb_episode(s.tmdb_id, int(m.group(1)), int(m.group(2)))
                if episode is not None:
                    out[key] = self.episode(episode, [])
            elif m := self._append_season.match(key):
                season = self._season_of(s, int(m.group(1)))
                if season is not None:
                    out[key] = self.season(s, season)
        return out

    def season(self, show: DemoShow, season: DemoSeason) -> dict[str, object]:
        return {
            "_id": f"{season.rating_key:024x}",
            "air_date": show.first_aired,
            "episodes": [self.episode(e, []) for e in self.lib.episodes_of(season.rating_key)],
            "id": season.rating_key * 7,
            "name": season.title,
            "overview": "",
            "poster_path": None,
            "season_number": season.index,
            "vote_average": show.external.vote_average,
        }

    def episode(self, e: DemoEpisode, appends: list[str]) -> dict[str, object]:
        show = self.lib.show(e.show_key)
        out: dict[str, object] = {
            "air_date": e.aired,
            "crew": _tmdb_crew(e.directors, e.writers, "Writer"),
            "episode_number": e.index,
            "episode_type": "standard",
            "guest_stars": _tmdb_cast(e.guests),
            "id": int(e.tmdb_id),
            "name": e.title,
            "overview": e.external.tmdb_overview,
            "production_code": "",
            "runtime": e.external.runtime_min,
            "season_number": e.season_index,
            "show_id": int(show.tmdb_id) if show else None,
            "still_path": _image("s" + e.tmdb_id),
            "vote_average": e.external.vote_average,
            "vote_count": e.external.vote_count,
        }
        if "external_ids" in appends:
            out["external_ids"] = {"imdb_id": e.imdb_id, "tvdb_id": int(e.tvdb_id), "wikidata_id": None}
        if "credits" in appends:
            out["credits"] = {"cast": [], "crew": out["crew"], "guest_stars": out["guest_stars"]}
        return out

    def find(self, external_id: str, source: str) -> dict[str, object]:
        result: dict[str, list[object]] = {
            "movie_results": [],
            "person_results": [],
            "tv_results": [],
            "tv_episode_results": [],
            "tv_season_results": [],
        }
        if source != "imdb_id":
            return result
        item = self.lib.imdb_title(external_id)
        if isinstance(item, DemoMovie) and self.lib.tmdb_movie(item.tmdb_id):
            movie = self.movie(item, [])
            result["movie_results"].append(
                {k: movie[k] for k in ("id", "title", "original_title", "overview", "release_date", "poster_path", "vote_average", "vote_count")}
                | {"media_type": "movie", "genre_ids": [g["id"] for g in movie["genres"]]}  # type: ignore[index,union-attr]
            )
        elif isinstance(item, DemoShow) and self.lib.tmdb_show(item.tmdb_id):
            result["tv_results"].append(
                {"id": int(item.tmdb_id), "name": item.title, "overview": item.external.tmdb_overview,
                 "first_air_date": item.first_aired, "media_type": "tv"}
            )
        elif isinstance(item, DemoEpisode):
            result["tv_episode_results"].append(self.episode(item, []) | {"media_type": "tv_episode"})
        return result


# --------------------------------------------------------------------- IMDb
class _ImdbRoutes:
    """imdbapi.dev-shaped JSON for the demo library."""

    def __init__(self, library: DemoLibrary) -> None:
        self.lib = library

    def route(self, path: str, query: dict[str, list[str]]) -> _Reply:
        if path == "/titles:batchGet":
            ids = [i for v in query.get("titleIds", []) for i in v.split(",") if i]
            if not ids:
                raise _imdb_error(400, 3, "titleIds: at least one title id is required")
            if len(ids) > IMDB_MAX_BATCH:
                raise _imdb_error(400, 3, f"titleIds: at most {IMDB_MAX_BATCH} title ids are allowed, got {len(ids)}")
            titles = [self.title(item) for i in ids if (item := self.lib.imdb_title(i)) is not None]
            return _json(200, {"titles": titles})
        if path.startswith("/titles/"):
            item = self.lib.imdb_title(path[len("/titles/") :])
            if item is None:
                raise _imdb_error(404, 5, "Not Found")
            return _json(200, self.title(item))
        raise _imdb_error(404, 5, "Not Found")

    def title(self, item: DemoMovie | DemoShow | DemoEpisode) -> dict[str, object]:
        def people(names: Iterable[str], profession: str) -> list[dict[str, object]]:
            return [
                {"id": f"nm{_person_id(n):07d}", "displayName": n, "primaryProfessions": [profession]} for n in names
            ]

        if isinstance(item, DemoMovie):
            kind, directors, writers, stars = "movie", item.directors, item.writers, [c.name for c in item.cast[:3]]
        elif isinstance(item, DemoShow):
            kind, directors, writers, stars = "tvSeries", (), item.creators, [c.name for c in item.cast[:3]]
        else:
            kind, directors, writers, stars = "tvEpisode", item.directors, item.writers, [c.name for c in item.guests[:3]]
        genres = item.genres if not isinstance(item, DemoEpisode) else self._show_genres(item)
        return {
            "id": item.imdb_id,
            "type": kind,
            "primaryTitle": item.title,
            "originalTitle": item.title,
            "primaryImage": {"url": f"https://m.media-amazon.com/images/M{_image(item.imdb_id)}", "width": 1000, "height": 1500},
            "startYear": item.year,
            "runtimeSeconds": item.external.runtime_min * 60,
            "genres": list(genres),
            "rating": {"aggregateRating": item.external.imdb_rating, "voteCount": item.external.imdb_votes},
            "plot": item.external.imdb_plot,
            "directors": people(directors, "director"),
            "writers": people(writers, "writer"),
            "stars": people(stars, "actor"),
            "originCountries": [{"code": "US", "name": "United States"}],
            "spokenLanguages": [{"code": "eng", "name": "English"}],
        }

    def _show_genres(self, episode: DemoEpisode) -> tuple[str, ...]:
        show = self.lib.show(episode.show_key)
        return show.genres if show else ()


# --------------------------------------------------------------------- Plex
_SECTION_UUIDS = {1: "6d8e3c3a-0f4e-4b8e-9a51-6f0e5c1d2a11", 2: "a2b7c9d4-5e6f-4a1b-8c2d-3e4f5a6b7c22"}


class _PlexRoutes:
    """Plex Media Server XML for the demo library."""

    _all = re.compile(r"^/library/sections/(\d+)/all$")
    _section = re.compile(r"^/library/sections/(\d+)$")
    _metadata = re.compile(r"^/library/metadata/([\d,]+)$")
    _children = re.compile(r"^/library/metadata/(\d+)/(children|allLeaves)$")

    def __init__(self, demo: DemoServer, headers: Any) -> None:
        self.demo = demo
        self.lib = demo.library
        self.headers = headers

    # ----------------------------------------------------------- routing
    def route(self, path: str, query: dict[str, list[str]]) -> _Reply:
        if path == "/":
            return self.root()
        if path == "/identity":
            return _xml(
                f'<MediaContainer size="0" apiVersion="1.1.1" claimed="1" machineIdentifier="{self.demo.machine_identifier}"'
                f' version="{PLEX_VERSION}" />'
            )
        if path == "/library":
            return _xml(
                '<MediaContainer size="3" allowSync="0" art="/:/resources/library-art.png" content="" '
                'identifier="com.plexapp.plugins.library" mediaTagPrefix="/system/bundle/media/flags/" '
                'mediaTagVersion="1700000000" title1="Plex Library" title2="">'
                '<Directory key="sections" title="Library Sections" />'
                '<Directory key="recentlyAdded" title="Recently Added Content" />'
                '<Directory key="onDeck" title="On Deck Content" /></MediaContainer>'
            )
        if path == "/library/sections":
            return self.sections()
        if m := self._section.match(path):
            return self.section_dir(int(m.group(1)))
        if m := self._all.match(path):
            return self.listing(int(m.group(1)), query)
        if m := self._metadata.match(path):
            return self.metadata([int(k) for k in m.group(1).split(",") if k], query)
        if m := self._children.match(path):
            return self.children(int(m.group(1)), m.group(2), query)
        raise _html(404, "Not Found")

    # ----------------------------------------------------------- pages
    def root(self) -> _Reply:
        attrs = _attrs(
            (
                ("size", 1),
                ("allowCameraUpload", 0),
                ("allowChannelAccess", 1),
                ("allowMediaDeletion", 0),
                ("allowSharing", 0),
                ("allowSync", 1),
                ("backgroundProcessing", 1),
                ("certificate", 0),
                ("companionProxy", 1),
                ("countryCode", "usa"),
                ("diagnostics", "logs,databases"),
                ("eventStream", 1),
                ("friendlyName", self.demo.friendly_name),
                ("hubSearch", 1),
                ("machineIdentifier", self.demo.machine_identifier),
                ("multiuser", 1),
                ("myPlex", 0),
                ("myPlexSigninState", "none"),
                ("platform", "Linux"),
                ("platformVersion", "demo"),
                ("pluginHost", 1),
                ("readOnlyLibraries", 0),
                ("streamingBrainVersion", 2),
                ("sync", 0),
                ("transcoderActiveVideoSessions", 0),
                ("transcoderAudio", 1),
                ("transcoderVideo", 1),
                ("updatedAt", 1_700_000_000),
                ("version", PLEX_VERSION),
            )
        )
        return _xml(f'<MediaContainer{attrs}><Directory count="1" key="library" title="library" /></MediaContainer>')

    def _section_xml(self, key: int) -> str:
        movie = key == DemoLibrary.MOVIE_SECTION
        title = "Movies" if movie else "TV Shows"
        return (
            "<Directory"
            + _attrs(
                (
                    ("allowSync", 1),
                    ("art", f"/:/resources/{'movie' if movie else 'show'}-fanart.jpg"),
                    ("composite", f"/library/sections/{key}/composite/1700000000"),
                    ("filters", 1),
                    ("refreshing", 0),
                    ("thumb", f"/:/resources/{'movie' if movie else 'show'}.png"),
                    ("key", key),
                    ("type", "movie" if movie else "show"),
                    ("title", title),
                    ("agent", "tv.plex.agents.movie" if movie else "tv.plex.agents.series"),
                    ("scanner", "Plex Movie" if movie else "Plex TV Series"),
                    ("language", "en-US"),
                    ("uuid", _SECTION_UUIDS[key]),
                    ("updatedAt", 1_700_000_000),
                    ("createdAt", 1_600_000_000),
                    ("scannedAt", 1_700_000_000),
                    ("content", 1),
                    ("directory", 1),
                    ("contentChangedAt", 4242),
                    ("hidden", 0),
                )
            )
            + f'><Location id="{key}" path="/data/{"movies" if movie else "tv"}" /></Directory>'
        )

    def sections(self) -> _Reply:
        body = "".join(self._section_xml(k) for k in (DemoLibrary.MOVIE_SECTION, DemoLibrary.SHOW_SECTION))
        return _xml(f'<MediaContainer size="2" allowSync="0" title1="Plex Library">{body}</MediaContainer>')

    def section_dir(self, key: int) -> _Reply:
        if key not in _SECTION_UUIDS:
            raise _html(404, "Not Found")
        return _xml(f'<MediaContainer size="1" allowSync="0">{self._section_xml(key)}</MediaContainer>')

    def _paging(self, query: dict[str, list[str]]) -> tuple[int, int | None]:
        """Container start and size from the query, else the headers (plexapi uses both)."""

        def value(name: str) -> str | None:
            if name in query:
                return query[name][-1]
            return self.headers.get(name)

        try:
            start = int(value("X-Plex-Container-Start") or 0)
            raw_size = value("X-Plex-Container-Size")
            size = int(raw_size) if raw_size is not None else None
        except ValueError:
            raise _html(400, "Bad Request") from None
        if start < 0 or (size is not None and size < 0):
            raise _html(400, "Bad Request")
        return start, size

    def listing(self, section: int, query: dict[str, list[str]]) -> _Reply:
        if section not in _SECTION_UUIDS:
            raise _html(404, "Not Found")
        include_guids = (query.get("includeGuids") or ["0"])[-1] == "1"
        default_type = "1" if section == DemoLibrary.MOVIE_SECTION else "2"
        kind = (query.get("type") or [default_type])[-1]
        items: tuple[Any, ...]
        if section == DemoLibrary.MOVIE_SECTION:
            items, view = (self.lib.movies(), "movie") if kind == "1" else ((), "movie")
        else:
            items, view = {
                "2": (self.lib.shows(), "show"),
                "4": (self.lib.episodes(), "episode"),
            }.get(kind, ((), "show"))
        start, size = self._paging(query)
        total = len(items)
        page = items[start : (start + size) if size is not None else None]
        title = "Movies" if section == DemoLibrary.MOVIE_SECTION else "TV Shows"
        head = _attrs(
            (
                ("size", len(page)),
                ("totalSize", total),
                ("offset", start),
                ("allowSync", 1),
                ("art", f"/:/resources/{view}-fanart.jpg"),
                ("identifier", "com.plexapp.plugins.library"),
                ("librarySectionID", section),
                ("librarySectionTitle", title),
                ("librarySectionUUID", _SECTION_UUIDS[section]),
                ("mediaTagPrefix", "/system/bundle/media/flags/"),
                ("mediaTagVersion", 1_700_000_000),
                ("title1", title),
                ("title2", "All " + title),
                ("viewGroup", view),
            )
        )
        body = "".join(self._item(item, detail=False, guids=include_guids) for item in page)
        return _xml(f"<MediaContainer{head}>{body}</MediaContainer>")

    def metadata(self, keys: list[int], query: dict[str, list[str]]) -> _Reply:
        items = [item for k in keys if (item := self.lib.get(k)) is not None]
        if not items:
            raise _html(404, "Not Found")
        body = "".join(self._item(item, detail=True, guids=True) for item in items)
        return _xml(
            f'<MediaContainer size="{len(items)}" allowSync="1" identifier="com.plexapp.plugins.library"'
            f' mediaTagPrefix="/system/bundle/media/flags/" mediaTagVersion="1700000000">{body}</MediaContainer>'
        )

    def children(self, key: int, what: str, query: dict[str, list[str]]) -> _Reply:
        item = self.lib.get(key)
        if isinstance(item, DemoShow):
            kids: list[Any] = self.lib.seasons_of(key) if what == "children" else self.lib.episodes_of(key)
        elif isinstance(item, DemoSeason):
            kids = self.lib.episodes_of(key)
        else:
            raise _html(404, "Not Found")
        include_guids = (query.get("includeGuids") or ["0"])[-1] == "1"
        start, size = self._paging(query)
        page = kids[start : (start + size) if size is not None else None]
        body = "".join(self._item(k, detail=False, guids=include_guids) for k in page)
        return _xml(
            f'<MediaContainer size="{len(page)}" totalSize="{len(kids)}" offset="{start}" allowSync="1"'
            f' identifier="com.plexapp.plugins.library" key="{key}"{_attrs((("title2", item.title),))}>{body}</MediaContainer>'
        )

    # ----------------------------------------------------------- items
    def _item(self, item: Any, *, detail: bool, guids: bool) -> str:
        render = {
            DemoMovie: self._movie,
            DemoShow: self._show,
            DemoSeason: self._season,
            DemoEpisode: self._episode,
        }[type(item)]
        return self.demo._cached_xml(item, detail, guids, lambda: render(item, detail, guids))

    def _movie(self, m: DemoMovie, detail: bool, guids: bool) -> str:
        attrs = _attrs(
            (
                ("ratingKey", m.rating_key),
                ("key", f"/library/metadata/{m.rating_key}"),
                ("guid", m.guid),
                ("studio", m.studio),
                ("type", "movie"),
                ("title", m.title),
                ("titleSort", _sort_title(m.title)),
                ("librarySectionTitle", "Movies"),
                ("librarySectionID", DemoLibrary.MOVIE_SECTION),
                ("librarySectionKey", f"/library/sections/{DemoLibrary.MOVIE_SECTION}"),
                ("contentRating", m.content_rating),
                ("summary", m.summary),
                ("rating", m.rating),
                ("audienceRating", m.audience_rating),
                ("year", m.year),
                ("tagline", m.tagline),
                ("thumb", f"/library/metadata/{m.rating_key}/thumb/{m.updated_at}"),
                ("art", f"/library/metadata/{m.rating_key}/art/{m.updated_at}"),
                ("duration", m.duration_ms),
                ("originallyAvailableAt", m.released),
                ("addedAt", m.added_at),
                ("updatedAt", m.updated_at),
                ("audienceRatingImage", "rottentomatoes://image.rating.upright"),
                ("ratingImage", "rottentomatoes://image.rating.ripe"),
            )
        )
        # Like a real server, listings carry only the first few tags of a
        # kind; the full cast comes with /library/metadata/{id}.
        cast = m.cast if detail else m.cast[:3]
        children = (
            _media(m.rating_key, m.duration_ms, f"/data/movies/{m.title} ({m.year})/{m.title} ({m.year}).mkv")
            + _tags("Genre", m.genres)
            + _tags("Country", m.countries)
            + _tags("Director", m.directors)
            + _tags("Writer", m.writers)
            + _roles(cast)
            + (_guids(m.guids) if guids or detail else "")
        )
        return f"<Video{attrs}>{children}</Video>"

    def _show(self, s: DemoShow, detail: bool, guids: bool) -> str:
        seasons = self.lib.seasons_of(s.rating_key)
        leaves = len(self.lib.episodes_of(s.rating_key))
        attrs = _attrs(
            (
                ("ratingKey", s.rating_key),
                ("key", f"/library/metadata/{s.rating_key}/children"),
                ("guid", s.guid),
                ("studio", s.studio),
                ("type", "show"),
                ("title", s.title),
                ("titleSort", _sort_title(s.title)),
                ("librarySectionTitle", "TV Shows"),
                ("librarySectionID", DemoLibrary.SHOW_SECTION),
                ("librarySectionKey", f"/library/sections/{DemoLibrary.SHOW_SECTION}"),
                ("contentRating", s.content_rating),
                ("summary", s.summary),
                ("index", 1),
                ("audienceRating", s.external.vote_average),
                ("year", s.year),
                ("tagline", s.tagline),
                ("thumb", f"/library/metadata/{s.rating_key}/thumb/{s.updated_at}"),
                ("art", f"/library/metadata/{s.rating_key}/art/{s.updated_at}"),
                ("duration", s.external.runtime_min * 60_000),
                ("originallyAvailableAt", s.first_aired),
                ("leafCount", leaves),
                ("viewedLeafCount", 0),
                ("childCount", len(seasons)),
                ("addedAt", s.added_at),
                ("updatedAt", s.updated_at),
            )
        )
        cast = s.cast if detail else s.cast[:3]
        children = _tags("Genre", s.genres) + _roles(cast) + (_guids(s.guids) if guids or detail else "")
        return f"<Directory{attrs}>{children}</Directory>"

    def _season(self, season: DemoSeason, detail: bool, guids: bool) -> str:
        show = self.lib.show(season.show_key)
        attrs = _attrs(
            (
                ("ratingKey", season.rating_key),
                ("key", f"/library/metadata/{season.rating_key}/children"),
                ("parentRatingKey", season.show_key),
                ("guid", season.guid),
                ("parentGuid", show.guid if show else None),
                ("type", "season"),
                ("title", season.title),
                ("parentKey", f"/library/metadata/{season.show_key}"),
                ("parentTitle", show.title if show else None),
                ("librarySectionID", DemoLibrary.SHOW_SECTION),
                ("librarySectionTitle", "TV Shows"),
                ("index", season.index),
                ("parentIndex", 1),
                ("leafCount", len(self.lib.episodes_of(season.rating_key))),
                ("viewedLeafCount", 0),
                ("thumb", f"/library/metadata/{season.rating_key}/thumb/{season.updated_at}"),
                ("addedAt", season.added_at),
                ("updatedAt", season.updated_at),
            )
        )
        return f"<Directory{attrs} />"

    def _episode(self, e: DemoEpisode, detail: bool, guids: bool) -> str:
        show = self.lib.show(e.show_key)
        season = self.lib.season(e.season_key)
        show_title = show.title if show else ""
        attrs = _attrs(
            (
                ("ratingKey", e.rating_key),
                ("key", f"/library/metadata/{e.rating_key}"),
                ("parentRatingKey", e.season_key),
                ("grandparentRatingKey", e.show_key),
                ("guid", e.guid),
                ("parentGuid", season.guid if season else None),
                ("grandparentGuid", show.guid if show else None),
                ("type", "episode"),
                ("title", e.title),
                ("grandparentKey", f"/library/metadata/{e.show_key}"),
                ("parentKey", f"/library/metadata/{e.season_key}"),
                ("librarySectionTitle", "TV Shows"),
                ("librarySectionID", DemoLibrary.SHOW_SECTION),
                ("librarySectionKey", f"/library/sections/{DemoLibrary.SHOW_SECTION}"),
                ("grandparentTitle", show_title),
                ("parentTitle", f"Season {e.season_index}"),
                ("contentRating", e.content_rating),
                ("summary", e.summary),
                ("index", e.index),
                ("parentIndex", e.season_index),
                ("audienceRating", e.rating),
                ("year", e.year),
                ("thumb", f"/library/metadata/{e.rating_key}/thumb/{e.updated_at}"),
                ("parentThumb", f"/library/metadata/{e.season_key}/thumb/{e.updated_at}"),
                ("grandparentThumb", f"/library/metadata/{e.show_key}/thumb/{e.updated_at}"),
                ("duration", e.duration_ms),
                ("originallyAvailableAt", e.aired),
                ("addedAt", e.added_at),
                ("updatedAt", e.updated_at),
            )
        )
        guests = e.guests if detail else e.guests[:3]
        children = (
            _media(e.rating_key, e.duration_ms, f"/data/tv/{show_title}/Season {e.season_index:02d}/{e.index:02d}.mkv")
            + _tags("Director", e.directors)
            + _tags("Writer", e.writers)
            + _roles(guests)
            + (_guids(e.guids) if guids or detail else "")
        )
        return f"<Video{attrs}>{children}</Video>"


# ---------------------------------------------------------------- standalone
def run_standalone(
    port: int = 32400,
    items: int = 300,
    seed: int = 7,
    token: str | None = "demo-token",
    tmdb_api_key: str | None = "demo-tmdb-key",
    latency_ms: float = 0.0,
    error_rate: float = 0.0,
    rate_limit: float | None = None,
    malformed_rate: float = 0.0,
    host: str = "127.0.0.1",
    stop: threading.Event | None = None,
) -> int:
    """Serve the demo library until SIGINT/SIGTERM (or ``stop`` is set); return an exit code.

    The fault knobs apply to all three services. The URLs are printed once
    so a user can point another terminal (or a benchmark) at them.
    """
    faults = FaultSettings(
        latency_ms=latency_ms, error_rate=error_rate, rate_limit=rate_limit, malformed_rate=malformed_rate
    )
    library = DemoLibrary.generate(seed=seed, size=items)
    server = DemoServer(
        library,
        token=token,
        tmdb_api_key=tmdb_api_key,
        host=host,
        port=port,
        faults=dict.fromkeys(SERVICES, faults),
    )
    try:
        server.start()
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", host, port, exc)
        print(f"demo-server: cannot listen on {host}:{port}: {exc}", flush=True)
        return 2
    done = stop or threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        done.set()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        # This is the CLI's own output (the demo-server subcommand), not logging.
        # The built-in demo credentials are shown so another terminal can use
        # them; credentials the user chose are masked like every other secret.
        shown_token = token if token == "demo-token" else mask(token) or "none"
        shown_key = tmdb_api_key if tmdb_api_key == "demo-tmdb-key" else mask(tmdb_api_key) or "none"
        print(
            f"Demo server: {library.size} items (seed {seed})\n"
            f"  Plex:  {server.plex_url}  (token: {shown_token})\n"
            f"  TMDb:  {server.tmdb_url}  (api key: {shown_key})\n"
            f"  IMDb:  {server.imdb_url}\n"
            "Press Ctrl+C to stop.",
            flush=True,
        )
        done.wait()
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received and received[0] == signal.SIGINT:
        return 130
    if received and received[0] == signal.SIGTERM:
        return 143
    return 0
