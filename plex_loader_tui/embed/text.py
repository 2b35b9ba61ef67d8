"""What gets embedded for an item, what is stored beside it, and its identity.

:func:`build_text` is the one place that decides the text embedded per item;
:func:`~.payload.build_payload` (in :mod:`.payload`) the payload stored with the point; :func:`point_id`
the point's deterministic id; :func:`content_hash` the fingerprint the state
store compares to skip unchanged items. Bump :data:`TEXT_VERSION` whenever
the output of :func:`build_text` or :func:`build_payload` changes for the same
input, so that every stored hash is invalidated and items are re-embedded.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Sequence

from ..models import EnrichedItem, SourceItem

#: Version of the text/payload building rules; part of every content hash.
#: 2: the payload became a superset of mcp-plex's (``embed/payload.py``).
TEXT_VERSION = 2

#: How many cast members the text names (billing order). More adds noise, not recall.
TOP_CAST = 8

#: Fixed namespace for point ids: changing it would orphan every stored point.
POINT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://plex-loader-tui/point-id")

_SPACES = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _unique(values: Iterable[str]) -> list[str]:
    """Non-empty values in first-seen order, without case-insensitive repeats."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        clean = _norm(value or "")
        key = clean.casefold()
        if clean and key not in seen:
            seen.add(key)
            out.append(clean)
    return out


def _year(item: EnrichedItem) -> int | None:
    if item.source.year is not None:
        return item.source.year
    date = item.tmdb.release_date if item.tmdb else None
    if date and len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return None


def _genres(item: EnrichedItem) -> list[str]:
    tmdb = item.tmdb.genres if item.tmdb else ()
    imdb = item.imdb.genres if item.imdb else ()
    return _unique([*item.source.genres, *tmdb, *imdb])


def _directors(item: EnrichedItem) -> list[str]:
    return _unique([*item.source.directors, *(item.tmdb.directors if item.tmdb else ())])


def _writers(item: EnrichedItem) -> list[str]:
    return _unique([*item.source.writers, *(item.tmdb.writers if item.tmdb else ())])


def _actors(item: EnrichedItem) -> list[str]:
    # Plex lists cast in billing order; TMDb fills in when Plex has none or few.
    tmdb_cast = item.tmdb.cast if item.tmdb else ()
    return _unique([p.name for p in item.source.actors] + [p.name for p in tmdb_cast])


def _tagline(item: EnrichedItem) -> str:
    return _norm(item.source.tagline or (item.tmdb.tagline if item.tmdb else ""))


def build_text(item: EnrichedItem) -> str:
    """Return the text embedded for ``item``: deterministic for the same item.

    Lines, in this order, each only when there is something to say::

        <display title> (<year>)          e.g. "Show — S01E04 — Episode (2019)"
        Genres: Drama, Thriller           Plex, then TMDb, then IMDb; no repeats
        <Plex summary>
        <tagline>                         Plex's, else TMDb's
        <TMDb overview>                   skipped when it repeats an earlier paragraph
        <IMDb plot>                       likewise
        Directed by: A, B
        Written by: C
        Starring: first TOP_CAST actors   Plex cast, then TMDb cast

    A paragraph is a repeat when, ignoring case and spacing, it equals or is
    contained in one already used (Plex summaries are often TMDb overviews).
    """
    src = item.source
    title = src.display_title
    year = _year(item)
    lines = [f"{title} ({year})" if year is not None else title]
    genres = _genres(item)
    if genres:
        lines.append("Genres: " + ", ".join(genres))

    paragraphs: list[str] = []
    seen: list[str] = []
    for candidate in (
        src.summary,
        _tagline(item),
        item.tmdb.overview if item.tmdb else "",
        item.imdb.plot if item.imdb else "",
    ):
        text = _norm(candidate or "")
        key = text.casefold()
        if not text or any(key in earlier for earlier in seen):
            continue
        # Only the shorter one of two overlapping paragraphs is dropped: a longer
        # one that contains an earlier paragraph still adds words worth embedding.
        seen.append(key)
        paragraphs.append(text)
    lines.extend(paragraphs)

    directors = _directors(item)
    if directors:
        lines.append("Directed by: " + ", ".join(directors))
    writers = _writers(item)
    if writers:
        lines.append("Written by: " + ", ".join(writers))
    actors = _actors(item)[:TOP_CAST]
    if actors:
        lines.append("Starring: " + ", ".join(actors))
    return "\n".join(lines)


def point_id(item: SourceItem) -> str:
    """Deterministic UUID5 point id for ``item``.

    A ``plex://`` guid is global across servers (the same film on two servers
    is one point); any other guid (``local://``, legacy agents) is only unique
    per server, so those fall back to the server machine id + rating key.
    """
    if item.guid.startswith("plex://"):
        name = item.guid
    else:
        name = f"{item.server_id}:{item.rating_key}"
    return str(uuid.uuid5(POINT_NAMESPACE, name))


def content_hash(text: str, payload: dict[str, object], model_names: Sequence[str]) -> str:
    """SHA-256 (hex) of everything a stored point depends on.

    Covers the embedded text, the payload, the model names and
    :data:`TEXT_VERSION`; equal hashes mean re-embedding would change nothing.
    """
    blob = json.dumps(
        {"v": TEXT_VERSION, "text": text, "payload": payload, "models": list(model_names)},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def text_hash(text: str, model_names: Sequence[str]) -> str:
    """SHA-256 (hex) of what the vectors depend on: the text, the model names, :data:`TEXT_VERSION`.

    Equal text hashes mean embedding again would give the same vectors, so a
    changed payload alone is written without embedding.
    """
    blob = json.dumps({"v": TEXT_VERSION, "text": text, "models": list(model_names)}, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
