"""Plex Media Server XML for the items of the demo library.

Attributes escaped like a real server's (newlines and tabs too), empty fields
left out, and the child elements a client reads: ``Media``/``Part``, ``Genre``,
``Country``, ``Director``, ``Writer``, ``Collection`` (movies: a real server lists
them in section listings too), ``Role`` and ``Guid``. Listings carry a
shorter element than ``/library/metadata/{id}`` (its *detail*).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from ..sources.plex_xml import LISTING_ROLES
from .items import Credit, DemoEpisode, DemoItem, DemoMovie, DemoSeason, DemoShow
from .library import DemoLibrary

_XML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
)


def xml_attrs(pairs: Iterable[tuple[str, object]]) -> str:
    """Render XML attributes, skipping ``None`` values (Plex omits empty fields)."""
    out = []
    for name, value in pairs:
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = int(value)
        out.append(f' {name}="{str(value).translate(_XML_ESCAPES)}"')
    return "".join(out)


def _tags(tag: str, values: Iterable[str]) -> str:
    return "".join(
        f'<{tag} id="{zlib.crc32(v.encode()) % 90_000 + 1}" filter="{tag.lower()}={zlib.crc32(v.encode()) % 90_000 + 1}"'
        f'{xml_attrs((("tag", v),))} />'
        for v in values
    )


def _roles(credits: Iterable[Credit]) -> str:
    return "".join(
        f'<Role id="{zlib.crc32(c.name.encode()) % 900_000 + 1}"{xml_attrs((("tag", c.name), ("role", c.character)))} />'
        for c in credits
    )


def _guids(guids: Iterable[str]) -> str:
    return "".join(f"<Guid{xml_attrs((('id', g),))} />" for g in guids)


def _sort_title(title: str) -> str | None:
    for article in ("The ", "A ", "An "):
        if title.startswith(article):
            return title[len(article) :]
    return None


def _media(key: int, duration_ms: int, path: str) -> str:
    return (
        f'<Media id="{key}" duration="{duration_ms}" bitrate="8421" width="1920" height="1080" '
        f'aspectRatio="1.78" audioChannels="6" audioCodec="eac3" videoCodec="h264" '
        f'videoResolution="1080" container="mkv" videoFrameRate="24p">'
        f'<Part id="{key}" key="/library/parts/{key}/1700000000/file.mkv" duration="{duration_ms}"'
        f'{xml_attrs((("file", path),))} size="{duration_ms * 1000}" container="mkv" /></Media>'
    )


def render_item(lib: DemoLibrary, item: DemoItem, *, detail: bool, guids: bool) -> str:
    """The ``Video`` or ``Directory`` element of ``item``.

    ``detail`` is the full element of ``/library/metadata/{id}`` (all the cast,
    and the ``Guid`` children); ``guids`` adds the ``Guid`` children to a
    listing's element (``includeGuids=1``).
    """
    render = {
        DemoMovie: _movie,
        DemoShow: _show,
        DemoSeason: _season,
        DemoEpisode: _episode,
    }[type(item)]
    return render(lib, item, detail, guids)  # type: ignore[operator]


def _movie(lib: DemoLibrary, m: DemoMovie, detail: bool, guids: bool) -> str:
    attrs = xml_attrs(
        (
            ("ratingKey", m.rating_key),
            ("key", f"/library/metadata/{m.rating_key}"),
            ("guid", m.guid),
            ("studio", m.studio),
            ("type", "movie"),
            ("title", m.title),
            ("titleSort", _sort_title(m.title)),
            ("librarySectionTitle", "Movies"),
            ("librarySectionID", DemoLibrary.MOVIE_SECTION),
            ("librarySectionKey", f"/library/sections/{DemoLibrary.MOVIE_SECTION}"),
            ("contentRating", m.content_rating),
            ("summary", m.summary),
            ("rating", m.rating),
            ("audienceRating", m.audience_rating),
            ("year", m.year),
            ("tagline", m.tagline),
            ("thumb", f"/library/metadata/{m.rating_key}/thumb/{m.updated_at}"),
            ("art", f"/library/metadata/{m.rating_key}/art/{m.updated_at}"),
            ("duration", m.duration_ms),
            ("originallyAvailableAt", m.released),
            ("addedAt", m.added_at),
            ("updatedAt", m.updated_at),
            ("audienceRatingImage", "rottentomatoes://image.rating.upright"),
            ("ratingImage", "rottentomatoes://image.rating.ripe"),
        )
    )
    # Like a real server, listings carry only the first few tags of a
    # kind; the full cast comes with /library/metadata/{id}.
    cast = m.cast if detail else m.cast[:LISTING_ROLES]
    children = (
        _media(m.rating_key, m.duration_ms, f"/data/movies/{m.title} ({m.year})/{m.title} ({m.year}).mkv")
        + _tags("Genre", m.genres)
        + _tags("Country", m.countries)
        + _tags("Director", m.directors)
        + _tags("Writer", m.writers)
        + _tags("Collection", m.collections)
        + _roles(cast)
        + (_guids(m.guids) if guids or detail else "")
    )
    return f"<Video{attrs}>{children}</Video>"


def _show(lib: DemoLibrary, s: DemoShow, detail: bool, guids: bool) -> str:
    seasons = lib.seasons_of(s.rating_key)
    leaves = len(lib.episodes_of(s.rating_key))
    attrs = xml_attrs(
        (
            ("ratingKey", s.rating_key),
            ("key", f"/library/metadata/{s.rating_key}/children"),
            ("guid", s.guid),
            ("studio", s.studio),
            ("type", "show"),
            ("title", s.title),
            ("titleSort", _sort_title(s.title)),
            ("librarySectionTitle", "TV Shows"),
            ("librarySectionID", DemoLibrary.SHOW_SECTION),
            ("librarySectionKey", f"/library/sections/{DemoLibrary.SHOW_SECTION}"),
            ("contentRating", s.content_rating),
            ("summary", s.summary),
            ("index", 1),
            ("audienceRating", s.external.vote_average),
            ("year", s.year),
            ("tagline", s.tagline),
            ("thumb", f"/library/metadata/{s.rating_key}/thumb/{s.updated_at}"),
            ("art", f"/library/metadata/{s.rating_key}/art/{s.updated_at}"),
            ("duration", s.external.runtime_min * 60_000),
            ("originallyAvailableAt", s.first_aired),
            ("leafCount", leaves),
            ("viewedLeafCount", 0),
            ("childCount", len(seasons)),
            ("addedAt", s.added_at),
            ("updatedAt", s.updated_at),
        )
    )
    cast = s.cast if detail else s.cast[:LISTING_ROLES]
    children = _tags("Genre", s.genres) + _roles(cast) + (_guids(s.guids) if guids or detail else "")
    return f"<Directory{attrs}>{children}</Directory>"


def _season(lib: DemoLibrary, season: DemoSeason, detail: bool, guids: bool) -> str:
    show = lib.show(season.show_key)
    attrs = xml_attrs(
        (
            ("ratingKey", season.rating_key),
            ("key", f"/library/metadata/{season.rating_key}/children"),
            ("parentRatingKey", season.show_key),
            ("guid", season.guid),
            ("parentGuid", show.guid if show else None),
            ("type", "season"),
            ("title", season.title),
            ("parentKey", f"/library/metadata/{season.show_key}"),
            ("parentTitle", show.title if show else None),
            ("librarySectionID", DemoLibrary.SHOW_SECTION),
            ("librarySectionTitle", "TV Shows"),
            ("index", season.index),
            ("parentIndex", 1),
            ("leafCount", len(lib.episodes_of(season.rating_key))),
            ("viewedLeafCount", 0),
            ("thumb", f"/library/metadata/{season.rating_key}/thumb/{season.updated_at}"),
            ("addedAt", season.added_at),
            ("updatedAt", season.updated_at),
        )
    )
    return f"<Directory{attrs} />"


def _episode(lib: DemoLibrary, e: DemoEpisode, detail: bool, guids: bool) -> str:
    show = lib.show(e.show_key)
    season = lib.season(e.season_key)
    show_title = show.title if show else ""
    attrs = xml_attrs(
        (
            ("ratingKey", e.rating_key),
            ("key", f"/library/metadata/{e.rating_key}"),
            ("parentRatingKey", e.season_key),
            ("grandparentRatingKey", e.show_key),
            ("guid", e.guid),
            ("parentGuid", season.guid if season else None),
            ("grandparentGuid", show.guid if show else None),
            ("type", "episode"),
            ("title", e.title),
            ("grandparentKey", f"/library/metadata/{e.show_key}"),
            ("parentKey", f"/library/metadata/{e.season_key}"),
            ("librarySectionTitle", "TV Shows"),
            ("librarySectionID", DemoLibrary.SHOW_SECTION),
            ("librarySectionKey", f"/library/sections/{DemoLibrary.SHOW_SECTION}"),
            ("grandparentTitle", show_title),
            ("parentTitle", f"Season {e.season_index}"),
            ("contentRating", e.content_rating),
            ("summary", e.summary),
            ("index", e.index),
            ("parentIndex", e.season_index),
            ("audienceRating", e.rating),
            ("year", e.year),
            ("thumb", f"/library/metadata/{e.rating_key}/thumb/{e.updated_at}"),
            ("parentThumb", f"/library/metadata/{e.season_key}/thumb/{e.updated_at}"),
            ("grandparentThumb", f"/library/metadata/{e.show_key}/thumb/{e.updated_at}"),
            ("duration", e.duration_ms),
            ("originallyAvailableAt", e.aired),
            ("addedAt", e.added_at),
            ("updatedAt", e.updated_at),
        )
    )
    guests = e.guests if detail else e.guests[:LISTING_ROLES]
    children = (
        _media(e.rating_key, e.duration_ms, f"/data/tv/{show_title}/Season {e.season_index:02d}/{e.index:02d}.mkv")
        + _tags("Director", e.directors)
        + _tags("Writer", e.writers)
        + _roles(guests)
        + (_guids(e.guids) if guids or detail else "")
    )
    return f"<Video{attrs}>{children}</Video>"

