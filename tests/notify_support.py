"""A real WebSocket client of the demo server's notification stream, for tests (websocket-client)."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import websocket

from plex_loader_tui.demo import DemoServer
from plex_loader_tui.demo.notifications import NOTIFICATIONS_PATH


class StreamClient:
    """Collects every ``NotificationContainer`` the demo server sends; waits on a condition, never sleeps."""

    def __init__(self, server: DemoServer, token: str | None = "demo-token") -> None:
        self.messages: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self.opened = threading.Event()
        self.closed = threading.Event()
        header = {"X-Plex-Token": token} if token else {}
        self.app = websocket.WebSocketApp(
            server.url.replace("http://", "ws://") + NOTIFICATIONS_PATH, header=header,
            on_open=lambda _ws: self.opened.set(), on_message=self._message,
            on_close=lambda *_: self.closed.set(), on_error=lambda _ws, err: setattr(self, "error", err),
        )
        self.error: object = None
        self._thread = threading.Thread(target=self.app.run_forever, name="test-stream", daemon=True)

    def __enter__(self) -> StreamClient:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.app.keep_running = False
        ws = self.app.sock
        if ws is not None and ws.sock is not None:
            ws.sock.shutdown(socket.SHUT_RDWR)  # wakes the reading thread (WebSocketApp.close may not)
        self._thread.join(10)
        assert not self._thread.is_alive()

    def _message(self, _ws: object, text: str) -> None:
        with self._cond:
            self.messages.append(json.loads(text)["NotificationContainer"])
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 20.0) -> bool:
        """Wait until ``predicate(messages)`` holds (True) or ``timeout`` passes (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.messages), timeout)

    def entries(self) -> list[dict[str, Any]]:
        with self._cond:
            return [e for m in self.messages if m.get("type") == "timeline" for e in m["TimelineEntry"]]

    def scans_completed(self) -> int:
        with self._cond:
            return sum(1 for m in self.messages if m.get("type") == "status")
