"""Describing what a server sent back, without pasting its body into a message.

A proxy's error page, a router's login page or a stack trace can come back
where Plex, TMDb or Qdrant was expected. Messages name the status, the content
type and the size of such an answer; a body is quoted only when it is a short
plain-text or JSON message (``{"status_message": "Invalid API key"}``), and
with its control characters shown, never obeyed (:mod:`.printable`).
"""

from __future__ import annotations

import json

from .printable import one_line

#: Longest message quoted from a body (longer ones are described, not quoted).
MAX_QUOTED = 200
#: Content types whose short bodies are worth quoting.
_QUOTABLE_TYPES = frozenset({"text/plain", "application/json", "application/problem+json"})
def media_type(content_type: str | None) -> str:
    """``"text/html; charset=utf-8"`` → ``"text/html"``; ``""`` when the server sent none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def describe_answer(status: int | None, content_type: str | None, body: bytes | str,
                    message: str | None = None) -> str:
    """One line about an answer: ``HTTP 502 (text/html, 12,345 bytes)``.

    ``message`` is what the caller read from a structured body (TMDb's
    ``status_message``); without one, a short plain-text or JSON body is quoted:
    ``HTTP 400 (application/json, 58 bytes): Wrong input: vector dimension error``.
    """
    size = len(body.encode("utf-8", "replace") if isinstance(body, str) else body)
    kind = media_type(content_type) or "no content type"
    head = f"HTTP {status} ({kind}, {size:,} bytes)" if status is not None else f"an answer ({kind}, {size:,} bytes)"
    quoted = _one_line(message) if message is not None else quotable(content_type, body)
    return f"{head}: {quoted}" if quoted else head


def quotable(content_type: str | None, body: bytes | str) -> str | None:
    """The body as one short line, if it is a plain-text or JSON message; else None.

    HTML, XML, binary and long bodies are never quoted. A JSON object's
    ``message``-like field is preferred over the whole object.
    """
    if media_type(content_type) not in _QUOTABLE_TYPES:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if media_type(content_type) != "text/plain":
        text = _json_message(text) or text
    line = one_line(text)
    if not line or len(line) > MAX_QUOTED or line.startswith("<"):
        return None
    return line


def _json_message(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    status = data.get("status")
    for value in (data.get("status_message"), data.get("message"), data.get("error"),
                  status.get("error") if isinstance(status, dict) else None):
        if isinstance(value, str) and value.strip():
            return value
    return None


def _one_line(text: str | None) -> str:
    flat = one_line(text or "")
    return flat if len(flat) <= MAX_QUOTED else flat[: MAX_QUOTED - 1] + "…"
