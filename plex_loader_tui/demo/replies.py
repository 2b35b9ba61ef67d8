"""The answers of the demo server's routes: a status, a body and headers.

A route raises or returns a :class:`Reply`; the helpers build the bodies the
real services send, errors included, so clients meet the same shapes.
"""

from __future__ import annotations

import json


class Reply(Exception):
    """Raised inside a route to answer with a status, body and headers."""

    def __init__(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


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

