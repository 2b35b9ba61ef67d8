"""The answers of the demo server's routes: a status, a body and headers.

A route raises or returns a :class:`Reply`; the helpers build the bodies the
real services send, errors included, so clients meet the same shapes. The
fault answers (:mod:`.faults`) are built here too: each service's error and
429 bodies, a captive portal's sign-in page, well-formed answers of the wrong
shape, and huge bodies streamed chunk by chunk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from http import HTTPStatus

from .faults import Service
from .hostile import HOSTILE_LINE


class Reply(Exception):
    """Raised inside a route to answer with a status, body and headers.

    ``chunks``, when set, streams the body instead (chunked transfer encoding,
    no ``Content-Length``): a body too big to build in memory.
    """

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        *,
        chunks: Callable[[], Iterator[bytes]] | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}
        self.chunks = chunks


def json_reply(status: int, payload: object, headers: dict[str, str] | None = None) -> Reply:
    """Compact UTF-8 JSON, as TMDb and imdbapi.dev send it."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Reply(status, body, "application/json;charset=utf-8", headers)


def tmdb_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """TMDb's error body: ``success``, ``status_code`` and ``status_message``."""
    return json_reply(status, {"success": False, "status_code": code, "status_message": message}, headers)


def imdb_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """imdbapi.dev's error body: ``code``, ``message`` and ``details``."""
    return json_reply(status, {"code": code, "message": message, "details": []}, headers)


def html_reply(status: int, title: str, headers: dict[str, str] | None = None) -> Reply:
    """A bare HTML page, as Plex answers its errors."""
    body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>".encode()
    return Reply(status, body, "text/html;charset=utf-8", headers)


def xml_reply(body: str) -> Reply:
    """A 200 with a Plex XML document."""
    return Reply(200, ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode(), "text/xml;charset=utf-8")


#: TMDb's ``status_code`` and ``status_message`` for an unknown resource and a bad key.
TMDB_404 = (34, "The resource you requested could not be found.")
TMDB_401 = (7, "Invalid API key: You must be granted a valid key.")


# ------------------------------------------------------------------ faults
def service_error(service: Service, status: int | None, *, hostile: bool = False) -> Reply:
    """The ``error`` fault: the service's own error body (5xx unless ``status`` says otherwise).

    ``hostile`` puts escape sequences and markup into the body, as a broken
    proxy or a hostile server might.
    """
    extra = f" {HOSTILE_LINE}" if hostile else ""
    if service == "tmdb":
        status = status or 503
        return tmdb_error(status, 9, "Service offline: This service is temporarily offline, try again later." + extra)
    if service == "imdb":
        status = status or 503
        return imdb_error(status, 14, "The service is currently unavailable." + extra)
    status = status or 500
    return html_reply(status, HTTPStatus(status).phrase + extra)


def too_many_requests(service: Service, retry_after: int, *, hostile: bool = False) -> Reply:
    """A 429 with ``Retry-After`` in the service's own shape (rate limit and ``throttle`` faults)."""
    headers = {"Retry-After": str(retry_after)}
    extra = f" {HOSTILE_LINE}" if hostile else ""
    if service == "tmdb":
        return tmdb_error(429, 25, "Your request count (#) is over the allowed limit of (40)." + extra, headers)
    if service == "imdb":
        return imdb_error(429, 8, "Too Many Requests" + extra, headers)
    return html_reply(429, "Too Many Requests" + extra, headers)


#: A captive portal's sign-in page: well-formed, so an XML parser takes it without complaint.
_PORTAL = (
    '<!DOCTYPE html><html lang="en"><head><title>Sign in to Guest Wi-Fi</title></head>'
    '<body><form action="/login" method="post"><h1>Welcome</h1>'
    "<p>Please accept the terms of use to continue.</p>"
    '<input type="checkbox" name="accept" /><input type="submit" value="Sign in" /></form></body></html>'
)


def captive_portal() -> Reply:
    """The ``html`` fault: 200, ``text/html``, a sign-in page instead of the API's answer."""
    return Reply(200, _PORTAL.encode(), "text/html; charset=utf-8")


def wrong_shape(service: Service) -> Reply:
    """The ``wrong_shape`` fault: a 200 that parses but is not what the client asked for.

    Plex: an XML document without a ``MediaContainer``. TMDb and IMDb: JSON
    shaped like their status bodies, without any of a title's fields.
    """
    if service == "tmdb":
        return json_reply(200, {"success": True, "status_code": 1, "status_message": "Success."})
    if service == "imdb":
        return json_reply(200, {"code": 0, "message": "OK", "details": []})
    return Reply(
        200, b'<?xml version="1.0" encoding="UTF-8"?>\n<Response code="200" status="OK" />', "text/xml;charset=utf-8"
    )


#: The chunk a huge body is streamed in (the same bytes over and over: no memory grows).
_CHUNK = 64 * 1024


def huge_body(service: Service, size: int) -> Reply:
    """The ``huge`` fault: a 200 of exactly ``size`` bytes, streamed chunked and never built in memory.

    The body is a valid document if read to the end (a JSON object with one
    long string, or a ``MediaContainer`` around one long comment), so only a
    size limit stops a client from reading it all.
    """
    if service == "plex":
        head, tail, content_type = b'<?xml version="1.0"?><MediaContainer size="0"><!--', b"--></MediaContainer>", "text/xml"
    else:
        head, tail, content_type = b'{"overview":"', b'"}', "application/json;charset=utf-8"
    fill = max(0, size - len(head) - len(tail))

    def chunks() -> Iterator[bytes]:
        yield head
        block = b"x" * _CHUNK
        left = fill
        while left > 0:
            yield block[: min(left, _CHUNK)]
            left -= _CHUNK
        yield tail

    return Reply(200, b"", content_type, chunks=chunks)
