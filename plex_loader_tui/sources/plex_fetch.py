"""One request to Plex, read with a size cap: the answer, or what went wrong.

A client that reads whatever comes back whole (plexapi does, and so does
``requests`` unless told otherwise) lets a runaway body fill memory and, when
it quotes the body in its error, lets a captive portal's page or a hostile
server's escape sequences into our messages. :func:`fetch` streams the body
with a cap (like curl's ``--max-filesize``) and sorts what went wrong into a
:class:`Failure`, so the source can tell a server that cannot be reached (stop
the run) from one answer that failed (retry it, then give up on that page).
What came back is described by status, content type and size — never by the
body itself.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ReadTimeoutError

from ..answers import describe_answer
from ..printable import one_line

#: How much of the body is read at a time.
_CHUNK = 64 * 1024
_CONNECTION_PREFIX = re.compile(r"^(?:<[^>]*>|HTTPS?Connection\([^)]*\)): ")


class Failure(StrEnum):
    """Why a request got no usable answer."""

    #: No connection at all (refused, unknown host, connect timeout, TLS): the server is not there.
    UNREACHABLE = "unreachable"
    #: Connected, but no answer (no headers) within the timeout.
    TIMEOUT = "timeout"
    #: The headers came, then the body stopped for longer than the timeout.
    STALLED = "stalled"
    #: The connection broke mid-answer (reset, closed, cut-off body).
    BROKEN = "broken"
    #: The body is larger than the cap.
    TOO_LARGE = "too-large"


class PlexFetchError(Exception):
    """A request that got no usable answer; ``str()`` says what happened in one inert line
    (``no answer within 30 s (read timed out)``), for the caller to put after the URL."""

    def __init__(self, failure: Failure, detail: str) -> None:
        super().__init__(detail)
        self.failure = failure


@dataclass(frozen=True, slots=True)
class PlexAnswer:
    """What a server sent back: status, content type and the body (within the cap)."""

    status: int
    reason: str
    content_type: str
    body: bytes
    #: Requests sent for this answer (the session retries 429 and 5xx).
    attempts: int = 1

    def describe(self) -> str:
        """``HTTP 502 (text/html, 1,234 bytes)``: what came back, never the body (:mod:`..answers`)."""
        described = describe_answer(self.status, self.content_type, self.body)
        return f"{described} after {self.attempts} attempts" if self.attempts > 1 else described


def size_text(n: int) -> str:
    """A byte count for people: ``64 MiB``, ``512 KiB``, ``900 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def fetch(
    session: requests.Session,
    url: str,
    *,
    headers: Mapping[str, str],
    timeout: float,
    cap: int,
    attempts: int,
) -> PlexAnswer:
    """GET ``url`` and read the body up to ``cap`` bytes (after decompression).

    ``timeout`` bounds the wait for the headers and each wait for more of the
    body; ``attempts`` is how many requests the session makes before it gives
    up on a connection (its retries + 1), for the messages. Raises
    :class:`PlexFetchError`.
    """
    try:
        response = session.get(url, headers=dict(headers), timeout=timeout, stream=True)
    except requests.RequestException as exc:
        raise _failure(exc, timeout, attempts, headers_seen=False) from None
    with response:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise PlexFetchError(
                Failure.TOO_LARGE, f"a body of {size_text(int(declared))} announced, over the {size_text(cap)} cap"
            )
        body = bytearray()
        try:
            for chunk in response.iter_content(_CHUNK):
                body += chunk
                if len(body) > cap:
                    raise PlexFetchError(Failure.TOO_LARGE, f"a body over the {size_text(cap)} cap (reading stopped)")
        except requests.RequestException as exc:
            raise _failure(exc, timeout, attempts, headers_seen=True, received=len(body)) from None
        retries = getattr(response.raw, "retries", None)
        history = getattr(retries, "history", ()) or ()
        return PlexAnswer(
            status=response.status_code,
            reason=response.reason or "",
            content_type=response.headers.get("Content-Type", ""),
            body=bytes(body),
            attempts=len(history) + 1,
        )


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: requests puts urllib3's error in ``args``, urllib3 its cause in ``reason``."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 12:
        e = todo.pop()
        if e in seen:
            continue
        seen.append(e)
        todo.extend(a for a in e.args if isinstance(a, BaseException))
        for inner in (getattr(e, "reason", None), e.__cause__, e.__context__):
            if isinstance(inner, BaseException):
                todo.append(inner)
    return seen


def _why(exc: BaseException) -> str:
    """The innermost useful words of an error (``[Errno 111] Connection refused``), one inert line."""
    # urllib3 prefixes its messages with the connection (``HTTPConnection(host=…, port=…): ``).
    text = _CONNECTION_PREFIX.sub("", str(exc)).removeprefix("Failed to establish a new connection: ")
    return one_line(text)[:200] or type(exc).__name__


def _failure(
    exc: requests.RequestException, timeout: float, attempts: int, *, headers_seen: bool, received: int = 0
) -> PlexFetchError:
    causes = _causes(exc)
    gave_up = any(isinstance(e, MaxRetryError) for e in causes)
    tries = f"{attempts} attempts" if gave_up and attempts > 1 else "1 attempt"
    # NewConnectionError and NameResolutionError are ConnectTimeoutErrors too.
    connect = next((e for e in causes if isinstance(e, ConnectTimeoutError)), None)
    if connect is not None or isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError,
                                               requests.exceptions.ProxyError)):
        return PlexFetchError(Failure.UNREACHABLE, f"no connection ({_why(connect or exc)}; {tries})")
    if any(isinstance(e, (ReadTimeoutError, requests.ReadTimeout, socket.timeout)) for e in causes):
        if headers_seen:
            so_far = f" and {received:,} bytes of the body" if received else ""
            return PlexFetchError(
                Failure.STALLED, f"the answer stalled: no data for {timeout:g} s after the headers{so_far}"
            )
        return PlexFetchError(Failure.TIMEOUT, f"no answer within {timeout:g} s (read timed out; {tries})")
    inner = next((e for e in reversed(causes) if not isinstance(e, (requests.RequestException, MaxRetryError))), exc)
    return PlexFetchError(Failure.BROKEN, f"the answer broke off ({_why(inner)}; {tries})")
