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

Plex's notification stream (``/:/websockets/notifications``, a WebSocket)
tells connected clients about every change of the library (:mod:`.notifications`);
the library changes through :meth:`DemoServer.add_items`, :meth:`~DemoServer.touch_items`
and :meth:`~DemoServer.remove_items`, the same over HTTP under ``/demo``
(:mod:`.control`), or by itself with :meth:`DemoServer.start_churn` (:mod:`.churn`).

Each service has fault knobs (latency, 5xx rate, rate limit with 429 and
``Retry-After``, truncated bodies, paths that always fail, captive-portal HTML,
answers of the wrong shape, huge streamed bodies, long ``Retry-After``, stalls
before or after the headers, an under-reported ``totalSize``, hostile text:
see :mod:`.faults`) that tests change at run time, and every request is
recorded so tests can assert exact counts.

The pieces: :mod:`.faults` (the fault knobs), :mod:`.request_log`,
:mod:`.handler` (HTTP plumbing), :mod:`.plex_api` with :mod:`.plex_xml`,
:mod:`.tmdb_api`, :mod:`.imdb_api`; this module runs them as one server.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..secrets import mask
from .churn import Churn
from .faults import SERVICES, FaultSettings, Service, ServiceState
from .handler import IMDB_PREFIX, TMDB_PREFIX, DemoHTTPServer, RequestHandler
from .items import DemoMovie
from .library import DemoLibrary
from .notifications import NotificationHub
from .request_log import RequestLog, RequestRecord

__all__ = ["DemoServer", "FaultSettings", "RequestRecord", "Service"]

log = logging.getLogger(__name__)

#: Rendered item fragments kept (about 2 KB each).
_XML_CACHE_LIMIT = 50_000


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
        self._state: dict[Service, ServiceState] = {
            s: ServiceState((faults or {}).get(s, FaultSettings()), seed * 31 + i) for i, s in enumerate(SERVICES)
        }
        self._log = RequestLog()
        self._httpd: DemoHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        self._xml_cache: dict[tuple[int, int, bool, bool, bool], str] = {}
        # Set while stopping: wakes the handler threads that stall on purpose.
        self._stopping = threading.Event()
        self.notifications = NotificationHub()
        self.library.subscribe(self.notifications.on_library_change)
        self._churn: Churn | None = None
        self._seed = seed

    # ------------------------------------------------------------- lifecycle
    def start(self) -> DemoServer:
        """Bind the port and serve in a background thread. Returns ``self``."""
        if self._httpd is not None:
            return self
        httpd = DemoHTTPServer((self.host, self._port), RequestHandler)
        httpd.demo = self
        self._stopping.clear()
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
        self.stop_churn()
        self._stopping.set()
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
    def set_faults(self, service: Service, **knobs: Any) -> None:
        """Replace the fault settings of one service; every knob not given is reset.

        The knobs are :class:`FaultSettings`' fields (``error_rate=0.2``,
        ``html_paths=r"type=1"``, ``stall_ms=5000``, ``hostile=True``, …); an
        unknown knob is a ``TypeError``, a bad value a ``ValueError``.
        """
        if service not in self._state:
            raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
        faults = FaultSettings(**knobs)
        state = self._state[service]
        with state.lock:
            state.faults = faults
            state.window.clear()

    def faults(self, service: Service) -> FaultSettings:
        return self._state[service].faults

    # ------------------------------------------------------- library changes
    def add_items(self, count: int = 1, *, title: str | None = None) -> list[DemoMovie]:
        """Add ``count`` new movies (or one named ``title``); connected clients are notified."""
        return self.library.add(count, title=title)

    def touch_items(self, rating_keys: list[int]) -> None:
        """Change these movies/episodes (new summary and ``updatedAt``); clients are notified.

        ``KeyError`` for a key that is not a movie or episode (nothing is changed then).
        """
        self.library.touch(rating_keys)

    def remove_items(self, rating_keys: list[int]) -> list[int]:
        """Remove items (a show or season with its episodes); return every key removed.

        ``KeyError`` for a key the library does not hold (nothing is removed then).
        """
        return [item.rating_key for item in self.library.remove(rating_keys)]

    def start_churn(self, per_minute: int) -> Churn:
        """Change ``per_minute`` items a minute until :meth:`stop_churn` (or :meth:`stop`)."""
        self.stop_churn()
        self._churn = Churn(self.library, per_minute, seed=self.library.seed * 31 + self._seed).start()
        return self._churn

    def stop_churn(self) -> None:
        churn, self._churn = self._churn, None
        if churn is not None:
            churn.stop()

    # ---------------------------------------------------------- notifications
    def drop_notification_clients(self) -> int:
        """Cut every notification-stream connection, as a Plex restart does; return how many."""
        return self.notifications.drop_all()

    def set_notifications_down(self, down: bool) -> None:
        """Play a Plex whose notification stream is down: cut its clients and answer new ones 503."""
        self.notifications.refusing = down
        if down:
            self.drop_notification_clients()

    # ------------------------------------------------------------ request log
    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first."""
        return self._log.snapshot()

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
        return self._log.count(service, prefix)

    def reset_log(self) -> None:
        self._log.clear()

    # The hooks below are for the request handler (.handler) and the Plex routes (.plex_api).
    def _record(self, record: RequestRecord) -> None:
        self._log.add(record)

    def _pause(self, seconds: float) -> None:
        """Wait ``seconds`` (a stall fault), or less if the server stops meanwhile."""
        self._stopping.wait(seconds)

    # ---------------------------------------------------------- connections
    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ------------------------------------------------------------ XML cache
    def _cached_xml(self, item: Any, detail: bool, guids: bool, hostile: bool, render: Callable[[], str]) -> str:
        # updatedAt changes on every mutation, so a stale fragment is never served.
        key = (item.rating_key, item.updated_at, detail, guids, hostile)
        xml = self._xml_cache.get(key)
        if xml is None:
            xml = render()
            if len(self._xml_cache) >= _XML_CACHE_LIMIT:
                # Bounded memory for huge demo libraries: start over rather
                # than track recency (a listing pass is sequential anyway).
                self._xml_cache.clear()
            self._xml_cache[key] = xml
        return xml

