"""What a TMDb or IMDb answer must hold to count as one.

:mod:`.mapping` is forgiving about the fields it reads, so a captive portal's
JSON, an API's status body or an error object served with a 200 would map to
an empty record and pass as success. Each check here looks for the fields
every real answer of its kind has and returns the reason an answer is not one
(``"answer without an id"``), or None. :class:`~.client.ServiceClient` turns
a reason into a failed lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

#: A check of a 200's JSON object: the reason it is not a valid answer, or None.
ShapeCheck = Callable[[Mapping[str, Any]], str | None]


def _has_id(value: Any) -> bool:
    """TMDb ids are integers; a non-empty string is taken too (never a bool)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(value.strip()))


def _has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def tmdb_movie(body: Mapping[str, Any]) -> str | None:
    """``/movie/{id}``: an ``id`` and a ``title``."""
    if not _has_id(body.get("id")):
        return "answer without an id"
    if not _has_text(body.get("title")):
        return "answer without a title"
    return None


def tmdb_show(body: Mapping[str, Any]) -> str | None:
    """``/tv/{id}`` (with or without appended episodes): an ``id`` and a ``name``."""
    if not _has_id(body.get("id")):
        return "answer without an id"
    if not _has_text(body.get("name")):
        return "answer without a name"
    return None


def imdb_titles(body: Mapping[str, Any]) -> str | None:
    """``/titles:batchGet``: a ``titles`` list whose entries each have an IMDb id.

    An empty object is a valid answer: imdbapi.dev leaves out an empty list
    (proto3 JSON), which is how it says it knows none of the ids.
    """
    if not body:
        return None
    titles = body.get("titles")
    if not isinstance(titles, list):
        return "answer without a titles list"
    for title in titles:
        if not isinstance(title, Mapping) or not _text_id(title.get("id")):
            return "answer without an id"
    return None


def _text_id(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("tt")
