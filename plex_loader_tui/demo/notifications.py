"""Plex's notification stream for the demo server (``/:/websockets/notifications``).

Every change of the :class:`~.library.DemoLibrary` becomes the JSON messages a
Plex Media Server sends its connected clients, in the order Plex sends them:

1. an ``activity`` notification: a library scan started;
2. ``timeline`` entries (``identifier`` ``com.plexapp.plugins.library``) per
   item: an **added** item is ``state 0`` / ``metadataState "created"``, then
   ``state 5`` while its media is still analysed (``mediaState "analyzing"``),
   then ``state 5`` alone (done); a **changed** item is ``state 4`` /
   ``metadataState "processing"``, then ``state 5`` alone; a **removed** one is
   ``state 9`` / ``metadataState "deleted"`` (a removed show: each episode,
   season and the show itself);
3. the ``activity`` ends, and a ``status`` notification says the scan is complete.

So a client must pick the library's finished and deleted timeline entries out
of a stream that holds more. Entries travel up to :data:`ENTRIES_PER_MESSAGE`
to a message (``size`` says how many), as Plex groups them during a scan.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .items import DemoEpisode, DemoItem, DemoMovie, DemoSeason, DemoShow
from .library import DemoLibrary, LibraryEvent
from .notify_socket import WebSocketClient

log = logging.getLogger(__name__)

#: Where clients listen, as on a real server.
NOTIFICATIONS_PATH = "/:/websockets/notifications"
#: Most timeline entries in one message.
ENTRIES_PER_MESSAGE = 10
#: Plex's metadata type numbers.
PLEX_TYPES: dict[type, int] = {DemoMovie: 1, DemoShow: 2, DemoSeason: 3, DemoEpisode: 4}
_LIBRARY = "com.plexapp.plugins.library"
_NAMESPACE = uuid.UUID("6f1d2c3e-8a4b-4c5d-9e6f-0a1b2c3d4e5f")

Notification = dict[str, Any]


def _container(kind: str, key: str, children: list[dict[str, Any]]) -> Notification:
    return {"NotificationContainer": {"type": kind, "size": len(children), key: children}}


def _entry(item: DemoItem, state: int, **extra: str) -> dict[str, Any]:
    section = DemoLibrary.MOVIE_SECTION if isinstance(item, DemoMovie) else DemoLibrary.SHOW_SECTION
    return {
        "identifier": _LIBRARY,
        "sectionID": str(section),
        "itemID": str(item.rating_key),
        "type": PLEX_TYPES[type(item)],
        "title": item.title,
        "state": state,
        **extra,
        "updatedAt": item.updated_at,
    }


def _timeline(entries: Sequence[dict[str, Any]]) -> Iterator[Notification]:
    for start in range(0, len(entries), ENTRIES_PER_MESSAGE):
        yield _container("timeline", "TimelineEntry", list(entries[start : start + ENTRIES_PER_MESSAGE]))


def _activity(event: str, activity_id: str, title: str, progress: int) -> Notification:
    activity = {
        "uuid": activity_id, "type": "library.update.section", "cancellable": False, "userID": 1,
        "title": title, "subtitle": "", "progress": progress,
    }
    return _container("activity", "ActivityNotification", [{"event": event, "uuid": activity_id, "Activity": activity}])


def notifications_for(events: Sequence[LibraryEvent], scan_number: int) -> list[Notification]:
    """The messages Plex sends for one change of its library (``scan_number`` names its activity)."""
    activity_id = str(uuid.uuid5(_NAMESPACE, str(scan_number)))
    added = [e.item for e in events if e.kind == "added"]
    changed = [e.item for e in events if e.kind == "changed"]
    removed = [e.item for e in events if e.kind == "removed"]
    messages = [_activity("started", activity_id, "Scanning libraries", 0)]
    messages += _timeline([_entry(i, 0, metadataState="created") for i in added])
    messages += _timeline([_entry(i, 5, mediaState="analyzing") for i in added])
    messages += _timeline([_entry(i, 4, metadataState="processing") for i in changed])
    messages += _timeline([_entry(i, 5) for i in (*added, *changed)])
    messages += _timeline([_entry(i, 9, metadataState="deleted") for i in removed])
    messages.append(_activity("ended", activity_id, "Scanning libraries", 100))
    messages.append(_container("status", "StatusNotification", [
        {"title": "Library scan complete", "description": f"{len(events)} items", "notificationName": "LIBRARY_UPDATE"}
    ]))
    return messages


class NotificationHub:
    """The clients connected to the notification stream, and what they are sent.

    ``refusing`` (set while the demo plays a Plex that is down) makes new
    connections fail their handshake with a 503.
    """

    def __init__(self) -> None:
        self._clients: set[WebSocketClient] = set()
        self._lock = threading.Lock()
        self._scans = 0
        self.refusing = False
        #: Messages sent (to all clients together), for tests and benchmarks.
        self.sent = 0

    @property
    def client_count(self) -> int:
        with self._lock:
            return sum(1 for c in self._clients if not c.closed)

    def on_library_change(self, events: Sequence[LibraryEvent]) -> None:
        """A :class:`DemoLibrary` listener: tell every connected client."""
        with self._lock:
            self._scans += 1
            scan = self._scans
            if not self._clients:
                return
        self.publish(notifications_for(events, scan))

    def publish(self, messages: Iterable[Notification]) -> None:
        """Send ``messages`` to every connected client, in order."""
        texts = [json.dumps(m, ensure_ascii=False, separators=(",", ":")) for m in messages]
        # One sender at a time, so every client sees every change's messages in order.
        with self._lock:
            for client in list(self._clients):
                for text in texts:
                    if not client.send_text(text):
                        self._clients.discard(client)
                        break
                else:
                    self.sent += len(texts)

    def serve(self, client: WebSocketClient, request_head: bytes) -> None:
        """Hand ``client`` its handshake, then keep it until it leaves (blocks the handler's thread)."""
        # Under the lock: a client is in the set from the moment its 101 is out, so it
        # hears every change its own "connected" can be followed by.
        with self._lock:
            if not client.handshake(request_head):
                return
            self._clients.add(client)
        log.debug("notification client connected (%d now)", self.client_count)
        try:
            client.serve()
        finally:
            with self._lock:
                self._clients.discard(client)

    def drop_all(self) -> int:
        """Cut every client's connection (no close frame, as a crashing server does); return how many."""
        with self._lock:
            clients = list(self._clients)
            self._clients.clear()
        for client in clients:
            client.cut()
        return len(clients)
