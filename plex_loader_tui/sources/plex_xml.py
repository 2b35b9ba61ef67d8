"""Plex XML to our shapes: the answer's ``MediaContainer``, sections, items, and the ids in their guids."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, fromstring

from ..models import Person, SourceItem
from ..ports import PageKind

log = logging.getLogger(__name__)

_IMDB_RE = re.compile(r"^tt\d+$")
_DIGITS_RE = re.compile(r"^\d+$")
#: Characters XML 1.0 forbids even as references; a server that does not filter
#: them sends an invalid document, which Plex clients read with them left out.
_NOT_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")

#: A section listing names the first three actors of an item (``Role``); its full
#: metadata (``/library/metadata/{id}``) names them all.
LISTING_ROLES = 3


class NotPlexAnswer(ValueError):
    """A 200 whose body is not a Plex ``MediaContainer`` (HTML, JSON, cut-off XML); says why, never quotes it."""


def parse_container(body: bytes) -> Element:
    """The ``MediaContainer`` root of a Plex answer, or :class:`NotPlexAnswer`.

    Control characters XML forbids are dropped before a second try, as Plex
    clients do; what stays (markup, C1 controls, line breaks) is data.
    """
    try:
        root = fromstring(body)
    except ParseError as exc:
        cleaned = _NOT_XML.sub(b"", body)
        try:
            root = fromstring(cleaned) if cleaned != body else None
        except ParseError:
            root = None
        if root is None:
            raise NotPlexAnswer(f"not XML ({exc})") from None
    if root.tag != "MediaContainer":
        raise NotPlexAnswer(f"XML with no MediaContainer (its root is {root.tag[:40]!r})")
    return root


@dataclass(frozen=True, slots=True)
class PlexSection:
    """One library section of a server (``/library/sections``)."""

    key: str
    type: str
    title: str


def parse_sections(root: Element) -> list[PlexSection]:
    """The sections a ``/library/sections`` answer lists."""
    return [
        PlexSection(key, el.get("type") or "", el.get("title") or "")
        for el in root
        if el.tag == "Directory" and (key := el.get("key"))
    ]


@dataclass(frozen=True, slots=True)
class ExternalIds:
    """External ids found on one item (and, for legacy episodes, its show's TMDb id)."""

    imdb: str | None = None
    tmdb: str | None = None
    tvdb: str | None = None
    show_tmdb: str | None = None


_LEGACY_AGENTS = {"imdb": "imdb", "themoviedb": "tmdb", "thetvdb": "tvdb"}


def parse_external_ids(guid: str | None, guid_children: Iterable[str] = ()) -> ExternalIds:
    """External ids from a Plex item's ``Guid`` children and its (legacy) ``guid``.

    Modern items carry ``Guid id="imdb://tt…"``, ``"tmdb://…"``, ``"tvdb://…"``
    children. Items matched by the legacy agents have none; their ``guid``
    itself names one id: ``com.plexapp.agents.imdb://tt0137523?lang=en``,
    ``com.plexapp.agents.themoviedb://550?lang=en``. A legacy *episode* guid
    (``…themoviedb://1399/1/3?lang=en``) names its show, not the episode, so
    that id lands in ``show_tmdb`` (tvdb show ids are dropped: there is no
    field for them and enrichment looks shows up on TMDb).
    """
    found: dict[str, str] = {}
    for value in guid_children:
        scheme, sep, ident = value.partition("://")
        if sep and ident and scheme in ("imdb", "tmdb", "tvdb"):
            found.setdefault(scheme, ident)
    show_tmdb: str | None = None
    if guid and guid.startswith("com.plexapp.agents."):
        agent, sep, rest = guid[len("com.plexapp.agents.") :].partition("://")
        kind = _LEGACY_AGENTS.get(agent)
        if sep and kind:
            path = rest.split("?", 1)[0]
            ident, _, episode_part = path.partition("/")
            if episode_part:  # show id / season / episode
                if kind == "tmdb" and _DIGITS_RE.match(ident):
                    show_tmdb = ident
            elif ident:
                found.setdefault(kind, ident)
    imdb = found.get("imdb")
    tmdb = found.get("tmdb")
    tvdb = found.get("tvdb")
    return ExternalIds(
        imdb=imdb if imdb and _IMDB_RE.match(imdb) else None,
        tmdb=tmdb if tmdb and _DIGITS_RE.match(tmdb) else None,
        tvdb=tvdb if tvdb and _DIGITS_RE.match(tvdb) else None,
        show_tmdb=show_tmdb,
    )


def parse_int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _tags(el: Element, tag: str) -> tuple[str, ...]:
    return tuple(t for child in el.iter(tag) if (t := child.get("tag")))



def parse_item(
    el: Element, kind: PageKind, library: str, server_id: str, show_ids: Mapping[str, str | None], where: object
) -> SourceItem | None:
    """One ``<Video>`` of a listing page (or of a ``/library/metadata`` answer) as a
    :class:`SourceItem` of ``kind`` in the library titled ``library``; None without
    a rating key. ``where`` names the answer in the warning about that."""
    rating_key = el.get("ratingKey")
    if not rating_key:
        log.warning("%s: skipped an item without a ratingKey (title %r)", where, el.get("title"))
        return None
    guid = el.get("guid") or ""
    ids = parse_external_ids(guid, (g.get("id") or "" for g in el.iter("Guid")))
    episode = kind == "episode"
    show_key = el.get("grandparentRatingKey") if episode else None
    show_tmdb = None
    if episode:
        show_tmdb = (show_ids.get(show_key) if show_key else None) or ids.show_tmdb
    return SourceItem(
        server_id=server_id,
        rating_key=rating_key,
        guid=guid,
        type="episode" if episode else "movie",
        title=el.get("title") or "",
        library=library,
        year=parse_int(el.get("year")),
        summary=el.get("summary") or "",
        tagline=el.get("tagline") or "",
        content_rating=el.get("contentRating") or None,
        genres=_tags(el, "Genre"),
        directors=_tags(el, "Director"),
        writers=_tags(el, "Writer"),
        actors=tuple(Person(r.get("tag") or "", r.get("role") or None) for r in el.iter("Role") if r.get("tag")),
        collections=_tags(el, "Collection"),
        imdb_id=ids.imdb,
        tmdb_id=ids.tmdb,
        tvdb_id=ids.tvdb,
        show_title=el.get("grandparentTitle") if episode else None,
        show_rating_key=show_key,
        show_tmdb_id=show_tmdb,
        season_title=(el.get("parentTitle") or None) if episode else None,
        season_number=parse_int(el.get("parentIndex")) if episode else None,
        episode_number=parse_int(el.get("index")) if episode else None,
        added_at=parse_int(el.get("addedAt")),
        updated_at=parse_int(el.get("updatedAt")),
    )

