"""The payload stored with each point: our own keys and mcp-plex's, in one dict.

One payload serves two readers. Our ``search``, the README's schema and any
tool written against it read the *native* keys (:data:`NATIVE_KEYS`);
mcp-plex's MCP server reads its own flat keys and a nested ``data`` object
(:data:`MCP_PLEX_KEYS`, taken from its server's filters, ``order_by`` and
lookups). Most keys are shared (``title``, ``type``, ``year``, ``actors`` …);
the rest cost a few hundred bytes per point (``bench/bench_payload_format.py``
measures it), which buys a collection that mcp-plex serves as loaded.
:data:`PAYLOAD_FORMAT` names this layout in the collection's metadata.
"""

from __future__ import annotations

import re
import unicodedata

from ..models import EnrichedItem
from .text import _actors, _directors, _genres, _norm, _tagline, _writers, _year

#: The layout of the payload, recorded in the collection metadata (``payload_format``).
PAYLOAD_FORMAT = "superset-1"

#: The keys our own search and the README promise.
NATIVE_KEYS: frozenset[str] = frozenset({
    "rating_key", "guid", "type", "title", "year", "show_title", "season_number", "episode_number",
    "summary", "tagline", "genres", "directors", "writers", "actors", "collections", "imdb_id", "tmdb_id",
    "tvdb_id", "imdb_rating", "tmdb_rating", "content_rating", "added_at", "updated_at", "library",
    "server_id", "enrich_errors", "text",
})

#: The keys mcp-plex's server reads (filters, ranking, lookups by ``data.*``).
MCP_PLEX_KEYS: frozenset[str] = frozenset({
    "title", "type", "title_slug", "show_title", "show_title_slug", "season_title", "season_number",
    "episode_number", "actors", "directors", "writers", "genres", "collections", "summary", "overview",
    "plot", "tagline", "reviews", "year", "added_at", "data",
})

_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(title: str | None) -> str | None:
    """``"The Iron Parade"`` → ``"iron-parade"``: no leading article, ASCII, lower case, dashes.

    The form mcp-plex's server looks titles up by (``title_slug``); ``None``
    when nothing is left.
    """
    if not title or not title.strip():
        return None
    text = _LEADING_ARTICLE.sub("", title.strip()).strip() or title.strip()
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-") or None


def _int_id(value: str | None) -> int | None:
    # mcp-plex looks TMDb ids up as integers (an integer index on data.tmdb.id).
    return int(value) if value and value.isdigit() else None


def build_payload(item: EnrichedItem, text: str) -> dict[str, object]:
    """Return the payload stored with the point (every key is in the README's table).

    Lists are plain lists (JSON), absent values are ``None``; ``text`` is what
    was embedded; ``added_at`` is epoch seconds.
    """
    src = item.source
    tmdb, imdb = item.tmdb, item.imdb
    episode = src.type == "episode"
    imdb_id = src.imdb_id or (imdb.imdb_id if imdb else None)
    tmdb_id = src.tmdb_id or (tmdb.tmdb_id if tmdb else None)
    year = _year(item)
    return {
        "rating_key": src.rating_key,
        "guid": src.guid,
        "type": src.type,
        "title": src.title,
        "title_slug": slug(src.title),
        "year": year,
        "show_title": src.show_title,
        "show_title_slug": slug(src.show_title) if episode else None,
        "season_title": src.season_title if episode else None,
        "season_number": src.season_number,
        "episode_number": src.episode_number,
        "summary": _norm(src.summary) or (_norm(tmdb.overview) if tmdb else ""),
        "overview": (_norm(tmdb.overview) or None) if tmdb else None,
        "plot": (_norm(imdb.plot) or None) if imdb else None,
        "tagline": _tagline(item),
        # mcp-plex full-text searches reviews; no source of ours has any yet.
        "reviews": [],
        "genres": _genres(item),
        "directors": _directors(item),
        "writers": _writers(item),
        "actors": _actors(item),
        "collections": list(src.collections),
        "imdb_id": imdb_id,
        "tmdb_id": tmdb_id,
        "tvdb_id": src.tvdb_id,
        "imdb_rating": imdb.rating if imdb else None,
        "tmdb_rating": tmdb.vote_average if tmdb else None,
        "content_rating": src.content_rating,
        "added_at": src.added_at,
        "updated_at": src.updated_at,
        "library": src.library,
        "server_id": src.server_id,
        # Service names only (not messages), so a retried timeout does not change the hash.
        "enrich_errors": sorted({e.service for e in item.errors}),
        "data": {
            "plex": {
                "rating_key": src.rating_key, "guid": src.guid, "type": src.type, "title": src.title,
                "year": year, "added_at": src.added_at,
            },
            "tmdb": {"id": tid} if (tid := _int_id(tmdb_id)) is not None else None,
            "imdb": {"id": imdb_id} if imdb_id else None,
        },
        "text": text,
    }
