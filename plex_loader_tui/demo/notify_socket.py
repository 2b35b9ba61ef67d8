"""One WebSocket client of the demo server, framed by ``wsproto`` (sans-IO).

The threaded HTTP server has already read the upgrade request; its bytes are
fed to a server-side :class:`wsproto.WSConnection`, which checks the handshake
and writes the ``101 Switching Protocols`` answer. After that the handler's
thread reads the client's frames (answering pings, closing on a close) while
other threads send text messages through :meth:`WebSocketClient.send_text`;
one lock guards the connection's state, which wsproto does not share between
threads.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import BinaryIO

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import AcceptConnection, CloseConnection, Message, Ping, RejectConnection, Request
from wsproto.utilities import RemoteProtocolError

log = logging.getLogger(__name__)

#: Most bytes read from the client at a time.
_READ_SIZE = 64 * 1024


class WebSocketClient:
    """A client connected to ``/:/websockets/notifications``, after its handshake."""

    def __init__(self, sock: socket.socket, rfile: BinaryIO) -> None:
        self._sock = sock
        self._rfile = rfile
        self._ws = WSConnection(ConnectionType.SERVER)
        self._lock = threading.Lock()
        self._closed = threading.Event()

    # ------------------------------------------------------------- handshake
    def handshake(self, request_head: bytes) -> bool:
        """Answer the upgrade request (its request line and headers); False if it was not a valid one."""
        try:
            self._ws.receive_data(request_head)
            event = next(self._ws.events(), None)
        except RemoteProtocolError as exc:
            self._send_raw(self._ws.send(exc.event_hint or RejectConnection(status_code=400)))
            return False
        if not isinstance(event, Request):
            self._send_raw(self._ws.send(RejectConnection(status_code=400)))
            return False
        return self._send_raw(self._ws.send(AcceptConnection()))

    # ------------------------------------------------------------------ send
    def send_text(self, text: str) -> bool:
        """Send one text message; False once the connection is gone."""
        with self._lock:
            if self._closed.is_set() or self._ws.state is not ConnectionState.OPEN:
                return False
            data = self._ws.send(Message(data=text))
        return self._send_raw(data)

    def _send_raw(self, data: bytes) -> bool:
        try:
            self._sock.sendall(data)
            return True
        except OSError:
            self.cut()
            return False

    # ------------------------------------------------------------------ read
    def serve(self) -> None:
        """Read the client's frames until it closes, the socket breaks, or :meth:`cut` is called."""
        while not self._closed.is_set():
            try:
                data = self._rfile.read1(_READ_SIZE)  # type: ignore[attr-defined]
            except TimeoutError:
                continue  # an idle client: keep waiting (the socket's timeout only bounds each wait)
            except (OSError, ValueError):
                break
            if not data:
                break
            with self._lock:
                try:
                    self._ws.receive_data(data)
                    replies = [self._reply(event) for event in self._ws.events()]
                except RemoteProtocolError:
                    break
            for reply in replies:
                if reply:
                    self._send_raw(reply)
            if self._ws.state is ConnectionState.CLOSED:
                break
        self.cut()

    def _reply(self, event: object) -> bytes:
        # Called with the lock held.
        if isinstance(event, Ping):
            return self._ws.send(event.response())
        if isinstance(event, CloseConnection):
            return self._ws.send(event.response())
        return b""  # the client's own messages mean nothing to Plex's notification stream

    # ----------------------------------------------------------------- close
    def cut(self) -> None:
        """Drop the connection at once, as a server that goes away does (no close frame)."""
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    @property
    def closed(self) -> bool:
        return self._closed.is_set()
