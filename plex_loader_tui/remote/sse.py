"""Server-sent events, parsed as the HTML standard says (``text/event-stream``).

:class:`EventParser` is fed the stream's text in whatever pieces the network
delivers and hands back each complete event. Lines end in ``\\n``, ``\\r\\n``
or ``\\r``; a line starting with ``:`` is a comment (a keep-alive); ``data``
lines of one event are joined with ``\\n``; a blank line ends the event; an
event with no ``data`` is dropped. ``id`` and ``retry`` are kept for the
caller (the control API sends neither today).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One dispatched event: its type (``message`` when unnamed) and its data."""

    event: str
    data: str
    id: str | None = None
    retry_ms: int | None = None


class EventParser:
    """Incremental parser: :meth:`feed` text, get the events it completed."""

    def __init__(self) -> None:
        self._buffer = ""
        self._pending_cr = False
        self._reset()
        self.last_id: str | None = None

    def _reset(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._retry: int | None = None

    def feed(self, text: str) -> list[ServerEvent]:
        """Take the next piece of the stream; return the events it completed, in order."""
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]  # the \n of a \r\n split between two pieces
        self._pending_cr = False
        self._buffer += text
        events: list[ServerEvent] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                break
            line, ending = self._buffer[:cut], self._buffer[cut]
            skip = 2 if self._buffer.startswith("\r\n", cut) else 1
            if ending == "\r" and cut + 1 == len(self._buffer):
                self._pending_cr = True  # may be half of \r\n: the next piece tells
            self._buffer = self._buffer[cut + skip:]
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> ServerEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerEvent | None:
        event = None
        if self._data:
            event = ServerEvent(self._event or "message", "\n".join(self._data), self.last_id, self._retry)
        self._reset()
        return event


def _line_end(text: str) -> int | None:
    positions = [p for p in (text.find("\n"), text.find("\r")) if p >= 0]
    return min(positions) if positions else None
