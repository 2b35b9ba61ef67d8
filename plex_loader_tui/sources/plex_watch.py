"""Plex's notification stream: which library items changed, as they change.

:class:`PlexWatcher` keeps a WebSocket open to ``/:/websockets/notifications``
through plexapi's :class:`~plexapi.alert.AlertListener` (on websocket-client),
turns the library's timeline entries into :class:`LibraryChange` objects and
hands each to ``on_change``. When the stream drops (Plex restarts, the network
goes) it reconnects with exponential backoff and jitter, and says so through
``on_reconnect``: changes made while it was away were missed, so the consumer
reconciles.

Which entries count (Plex's ``state`` values, as plexapi and Tautulli read them):

* ``identifier`` ``com.plexapp.plugins.library``, a numeric ``itemID`` and a
  ``sectionID`` above 0, of ``type`` 1 (movie) or 4 (episode);
* ``state 5`` with no ``metadataState`` and no ``mediaState``: the item has
  finished processing → ``"changed"`` (new items included);
* ``state 9`` → ``"deleted"``.

Everything else is dropped and counted: other notifications (``activity``,
``status``, ``playing``…), states 0–4 and a ``state 5`` still analysing (a
finished ``state 5`` follows them), and shows and seasons (type 2, 3): Plex
sends an entry for each episode that changes or goes, and a show's own fields
reach its episodes' points only through a reconcile. A library without an
agent stops at ``state 1``; its changes are caught by the periodic reconcile.

Threads: the socket is read on the listener's thread (one per connection);
a supervisor thread reconnects. ``on_change``, ``on_state`` and
``on_reconnect`` are called from those threads; an asyncio consumer hands them
to its loop with ``loop.call_soon_threadsafe``. The token travels in the
``X-Plex-Token`` header (as Tautulli sends it), never in the URL, so no
library's log line about the URL can show it.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import websocket
from plexapi.alert import AlertListener

from ..models import ItemType
from ..printable import one_line
from ..secrets import mask_in_text, mask_url, redact

log = logging.getLogger(__name__)

ChangeKind = Literal["changed", "deleted"]
_LIBRARY = "com.plexapp.plugins.library"
_ITEM_TYPES: dict[int, ItemType] = {1: "movie", 4: "episode"}
_DONE, _DELETED = 5, 9


@dataclass(frozen=True, slots=True)
class LibraryChange:
    """A movie or episode Plex says finished changing (new ones too) or was deleted.

    ``at`` is when the notification arrived (epoch seconds).
    """

    rating_key: str
    section_key: str
    kind: ChangeKind
    item_type: ItemType
    at: float


def parse_notification(data: Mapping[str, Any], at: float) -> tuple[list[LibraryChange], int]:
    """The changes one ``NotificationContainer`` names, and how many entries it held that were dropped.

    A notification that is not a timeline counts as one dropped entry.
    """
    if data.get("type") != "timeline":
        return [], 1
    entries = data.get("TimelineEntry")
    if not isinstance(entries, list):
        return [], 1
    changes: list[LibraryChange] = []
    for entry in entries:
        change = _change(entry, at) if isinstance(entry, Mapping) else None
        if change is not None:
            changes.append(change)
    return changes, len(entries) - len(changes)


def _change(entry: Mapping[str, Any], at: float) -> LibraryChange | None:
    if entry.get("identifier") != _LIBRARY:
        return None
    item_type = _ITEM_TYPES.get(entry.get("type"))  # type: ignore[arg-type]
    key, section = str(entry.get("itemID", "")), str(entry.get("sectionID", ""))
    if item_type is None or not key.isdigit() or not section.isdigit() or int(section) <= 0:
        return None
    state = entry.get("state")
    if state == _DELETED:
        return LibraryChange(key, section, "deleted", item_type, at)
    if state == _DONE and entry.get("metadataState") is None and entry.get("mediaState") is None:
        return LibraryChange(key, section, "changed", item_type, at)
    return None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between reconnection attempts: ``base * 2**attempt`` capped at ``cap``, with jitter.

    The wait is drawn between half and all of that ("equal jitter"), so
    clients that lost the same server do not all come back at once.
    """

    base: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(attempt, 30))
        return rng.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True, slots=True)
class WatchCounters:
    """What the watcher has seen (the fields of the service's ``WatchStatus``)."""

    connected: bool
    events_received: int
    events_dropped: int
    reconnects: int
    last_event_at: float | None


class _Listener(AlertListener):
    """One connection of the stream: plexapi's ``AlertListener`` with what a service needs.

    Its ``run`` differs from plexapi's: the token goes in a header (plexapi puts
    it in the URL and logs that URL), the socket is opened with a timeout,
    pings find a dead peer, and opening and closing are reported. Messages are
    decoded by ``AlertListener._onMessage``, which calls ``callback`` with the
    ``NotificationContainer``.
    """

    def __init__(self, watcher: PlexWatcher) -> None:
        super().__init__(None, callback=watcher._on_data, callbackError=watcher._on_error)
        self.name = "plex-watch-socket"
        self._watcher = watcher
        self._closing = threading.Event()
        self._sock: socket.socket | None = None
        self.opened = False

    def run(self) -> None:
        w = self._watcher
        try:
            sock = self._sock = w._open_socket()
        except OSError as exc:
            w._on_error(exc)
            return
        self._ws = websocket.WebSocketApp(
            w.ws_url, header=w._header, socket=sock, on_open=self._opened, on_message=self._onMessage,
            on_error=lambda _ws, err: w._on_error(err), on_close=lambda *_: None,
        )
        if not self._closing.is_set():
            self._ws.run_forever(ping_interval=w.ping_interval, ping_timeout=w.ping_timeout)
        sock.close()

    def _opened(self, ws: websocket.WebSocketApp) -> None:
        if self._closing.is_set():
            self._hang_up()
            return
        self.opened = True
        self._watcher._on_open()

    def stop(self) -> None:
        self._closing.set()
        if self._ws is not None:
            self._ws.keep_running = False
        self._hang_up()

    def _hang_up(self) -> None:
        # Shut the socket down rather than WebSocketApp.close(): that closes the
        # descriptor under the reading thread's poll, which then never wakes.
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class PlexWatcher:
    """Listens to a Plex server's notifications and reports library changes (see the module doc).

    ``on_change`` gets each :class:`LibraryChange`; ``on_state(connected)``
    hears every connect and disconnect; ``on_reconnect()`` is called after each
    successful connection but the first. Call :meth:`start`, then
    :meth:`close` (which returns once no thread is left).
    """

    def __init__(
        self,
        url: str,
        token: str | None,
        on_change: Callable[[LibraryChange], None],
        *,
        on_reconnect: Callable[[], None] | None = None,
        on_state: Callable[[bool], None] | None = None,
        backoff: Backoff = Backoff(),
        ping_interval: float = 10.0,
        ping_timeout: float = 5.0,
        connect_timeout: float = 10.0,
        seed: int | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"plex url: expected http(s)://host[:port], got {mask_url(url)!r}")
        self._base = url.rstrip("/")
        self.ws_url = ("wss" if parts.scheme == "https" else "ws") + self._base[len(parts.scheme):] + AlertListener.key
        self._token = token
        self._header = {"X-Plex-Token": token} if token else {}
        self._on_change, self._on_reconnect, self._on_state = on_change, on_reconnect, on_state
        self.backoff = backoff
        self.ping_interval, self.ping_timeout, self.connect_timeout = ping_interval, ping_timeout, connect_timeout
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._connected_once = False
        self._connected = threading.Event()
        self._listener: _Listener | None = None
        self._thread: threading.Thread | None = None
        self._received = self._dropped = self._reconnects = 0
        self._last_event_at: float | None = None
        self.last_error: str | None = None

    def __repr__(self) -> str:
        return f"PlexWatcher({mask_url(self._base)!r})"

    # ------------------------------------------------------------ lifecycle
    def start(self) -> PlexWatcher:
        """Connect in the background (and keep reconnecting) until :meth:`close`."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._supervise, name="plex-watch", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Stop listening; returns once the threads have ended (or ``timeout`` passed)."""
        with self._lock:  # with the supervisor's check: no new listener starts after this
            self._stop.set()
            listener = self._listener
        if listener is not None:
            listener.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> PlexWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_connected(self, timeout: float) -> bool:
        """Block until the stream is open (True) or ``timeout`` passes (False)."""
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def counters(self) -> WatchCounters:
        with self._lock:
            return WatchCounters(self.connected, self._received, self._dropped, self._reconnects, self._last_event_at)

    # ----------------------------------------------------------- the threads
    def _supervise(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            listener = _Listener(self)
            with self._lock:
                if self._stop.is_set():
                    break
                self._listener = listener
            listener.start()
            listener.join()
            if listener.opened:
                attempt = 0  # it worked: the next outage starts with a short wait
                self._connected.clear()
                self._tell_state(False)
            if self._stop.is_set():
                break
            delay = self.backoff.delay(attempt, self._rng)
            attempt += 1
            log.info("Plex notifications: disconnected (%s); reconnecting in %.1f s",
                     self.last_error or "closed", delay)
            if self._stop.wait(delay):
                break
        with self._lock:
            self._listener = None

    def _open_socket(self) -> socket.socket:
        parts = urlsplit(self._base)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        sock = socket.create_connection((parts.hostname, port), timeout=self.connect_timeout)
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
        return sock

    def _on_open(self) -> None:
        with self._lock:
            again = self._connected_once
            self._connected_once = True
            if again:
                self._reconnects += 1
        self.last_error = None
        self._connected.set()
        log.info("Plex notifications: connected to %s", mask_url(self._base))
        self._tell_state(True)
        if again and self._on_reconnect is not None:
            self._on_reconnect()

    def _on_data(self, data: Any) -> None:
        now = time.time()
        changes, dropped = parse_notification(data, now) if isinstance(data, Mapping) else ([], 1)
        with self._lock:
            self._received += len(changes)
            self._dropped += dropped
            if changes:
                self._last_event_at = now
        for change in changes:
            self._on_change(change)

    def _on_error(self, err: object) -> None:
        # What websocket-client says may quote the server's answer: one inert line, secrets masked.
        self.last_error = mask_in_text(redact(one_line(str(err) or type(err).__name__), [self._token]))[:200]
        log.debug("Plex notifications: %s", self.last_error)

    def _tell_state(self, connected: bool) -> None:
        if self._on_state is not None:
            self._on_state(connected)
