"""Plex Media Server for the demo server, at its base URL.

``/``, ``/identity`` (the only page that needs no token), ``/library``,
``/library/sections``, ``/library/sections/{id}``, ``/library/sections/{id}/all``
(paged by ``X-Plex-Container-Start``/``-Size``, as query or headers),
``/library/metadata/{ids}`` and ``…/children``, ``…/allLeaves``. The items'
XML is in :mod:`.plex_xml`. Two faults change these answers: ``short_total``
(a section listing's ``totalSize`` under-reports) and ``hostile`` (the items'
text, see :mod:`.hostile`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .faults import FaultSettings, matches
from .hostile import hostile_item
from .items import DemoSeason, DemoShow
from .library import DemoLibrary
from .plex_xml import render_item, xml_attrs
from .replies import Reply, html_reply, xml_reply

if TYPE_CHECKING:
    from .server import DemoServer

#: Plex Media Server version the demo claims to be.
PLEX_VERSION = "1.41.3.9314-a0bfb8370"
_SECTION_UUIDS = {1: "6d8e3c3a-0f4e-4b8e-9a51-6f0e5c1d2a11", 2: "a2b7c9d4-5e6f-4a1b-8c2d-3e4f5a6b7c22"}


class PlexRoutes:
    """Plex Media Server XML for the demo library."""

    _all = re.compile(r"^/library/sections/(\d+)/all$")
    _section = re.compile(r"^/library/sections/(\d+)$")
    _metadata = re.compile(r"^/library/metadata/([\d,]+)$")
    _children = re.compile(r"^/library/metadata/(\d+)/(children|allLeaves)$")

    def __init__(self, demo: DemoServer, headers: Any, faults: FaultSettings | None = None, target: str = "") -> None:
        self.demo = demo
        self.lib = demo.library
        self.headers = headers
        self.faults = faults or FaultSettings()
        self.target = target

    # ----------------------------------------------------------- routing
    def route(self, path: str, query: dict[str, list[str]]) -> Reply:
        """Answer a GET of ``path`` (the query parsed, the headers given to the constructor)."""
        if path == "/":
            return self.root()
        if path == "/identity":
            return xml_reply(
                f'<MediaContainer size="0" apiVersion="1.1.1" claimed="1" machineIdentifier="{self.demo.machine_identifier}"'
                f' version="{PLEX_VERSION}" />'
            )
        if path == "/library":
            return xml_reply(
                '<MediaContainer size="3" allowSync="0" art="/:/resources/library-art.png" content="" '
                'identifier="com.plexapp.plugins.library" mediaTagPrefix="/system/bundle/media/flags/" '
                'mediaTagVersion="1700000000" title1="Plex Library" title2="">'
                '<Directory key="sections" title="Library Sections" />'
                '<Directory key="recentlyAdded" title="Recently Added Content" />'
                '<Directory key="onDeck" title="On Deck Content" /></MediaContainer>'
            )
        if path == "/library/sections":
            return self.sections()
        if m := self._section.match(path):
            return self.section_dir(int(m.group(1)))
        if m := self._all.match(path):
            return self.listing(int(m.group(1)), query)
        if m := self._metadata.match(path):
            return self.metadata([int(k) for k in m.group(1).split(",") if k], query)
        if m := self._children.match(path):
            return self.children(int(m.group(1)), m.group(2), query)
        raise html_reply(404, "Not Found")

    # ----------------------------------------------------------- pages
    def root(self) -> Reply:
        attrs = xml_attrs(
            (
                ("size", 1),
                ("allowCameraUpload", 0),
                ("allowChannelAccess", 1),
                ("allowMediaDeletion", 0),
                ("allowSharing", 0),
                ("allowSync", 1),
                ("backgroundProcessing", 1),
                ("certificate", 0),
                ("companionProxy", 1),
                ("countryCode", "usa"),
                ("diagnostics", "logs,databases"),
                ("eventStream", 1),
                ("friendlyName", self.demo.friendly_name),
                ("hubSearch", 1),
                ("machineIdentifier", self.demo.machine_identifier),
                ("multiuser", 1),
                ("myPlex", 0),
                ("myPlexSigninState", "none"),
                ("platform", "Linux"),
                ("platformVersion", "demo"),
                ("pluginHost", 1),
                ("readOnlyLibraries", 0),
                ("streamingBrainVersion", 2),
                ("sync", 0),
                ("transcoderActiveVideoSessions", 0),
                ("transcoderAudio", 1),
                ("transcoderVideo", 1),
                ("updatedAt", 1_700_000_000),
                ("version", PLEX_VERSION),
            )
        )
        return xml_reply(f'<MediaContainer{attrs}><Directory count="1" key="library" title="library" /></MediaContainer>')

    def _section_xml(self, key: int) -> str:
        movie = key == DemoLibrary.MOVIE_SECTION
        title = "Movies" if movie else "TV Shows"
        return (
            "<Directory"
            + xml_attrs(
                (
                    ("allowSync", 1),
                    ("art", f"/:/resources/{'movie' if movie else 'show'}-fanart.jpg"),
                    ("composite", f"/library/sections/{key}/composite/1700000000"),
                    ("filters", 1),
                    ("refreshing", 0),
                    ("thumb", f"/:/resources/{'movie' if movie else 'show'}.png"),
                    ("key", key),
                    ("type", "movie" if movie else "show"),
                    ("title", title),
                    ("agent", "tv.plex.agents.movie" if movie else "tv.plex.agents.series"),
                    ("scanner", "Plex Movie" if movie else "Plex TV Series"),
                    ("language", "en-US"),
                    ("uuid", _SECTION_UUIDS[key]),
                    ("updatedAt", 1_700_000_000),
                    ("createdAt", 1_600_000_000),
                    ("scannedAt", 1_700_000_000),
                    ("content", 1),
                    ("directory", 1),
                    ("contentChangedAt", 4242),
                    ("hidden", 0),
                )
            )
            + f'><Location id="{key}" path="/data/{"movies" if movie else "tv"}" /></Directory>'
        )

    def sections(self) -> Reply:
        body = "".join(self._section_xml(k) for k in (DemoLibrary.MOVIE_SECTION, DemoLibrary.SHOW_SECTION))
        return xml_reply(f'<MediaContainer size="2" allowSync="0" title1="Plex Library">{body}</MediaContainer>')

    def section_dir(self, key: int) -> Reply:
        if key not in _SECTION_UUIDS:
            raise html_reply(404, "Not Found")
        return xml_reply(f'<MediaContainer size="1" allowSync="0">{self._section_xml(key)}</MediaContainer>')

    def _paging(self, query: dict[str, list[str]]) -> tuple[int, int | None]:
        """Container start and size from the query, else the headers (plexapi uses both)."""

        def value(name: str) -> str | None:
            if name in query:
                return query[name][-1]
            return self.headers.get(name)

        try:
            start = int(value("X-Plex-Container-Start") or 0)
            raw_size = value("X-Plex-Container-Size")
            size = int(raw_size) if raw_size is not None else None
        except ValueError:
            raise html_reply(400, "Bad Request") from None
        if start < 0 or (size is not None and size < 0):
            raise html_reply(400, "Bad Request")
        return start, size

    def listing(self, section: int, query: dict[str, list[str]]) -> Reply:
        if section not in _SECTION_UUIDS:
            raise html_reply(404, "Not Found")
        include_guids = (query.get("includeGuids") or ["0"])[-1] == "1"
        default_type = "1" if section == DemoLibrary.MOVIE_SECTION else "2"
        kind = (query.get("type") or [default_type])[-1]
        items: tuple[Any, ...]
        if section == DemoLibrary.MOVIE_SECTION:
            items, view = (self.lib.movies(), "movie") if kind == "1" else ((), "movie")
        else:
            items, view = {
                "2": (self.lib.shows(), "show"),
                "4": (self.lib.episodes(), "episode"),
            }.get(kind, ((), "show"))
        start, size = self._paging(query)
        total = len(items)
        page = items[start : (start + size) if size is not None else None]
        short = self.faults.short_total
        if short is not None and (self.faults.short_total_paths is None or matches(self.faults.short_total_paths, self.target)):
            # A server that under-reports: the items past `short` are still
            # served to whoever asks, but a client paging by totalSize never does.
            total = min(total, short)
        title = "Movies" if section == DemoLibrary.MOVIE_SECTION else "TV Shows"
        head = xml_attrs(
            (
                ("size", len(page)),
                ("totalSize", total),
                ("offset", start),
                ("allowSync", 1),
                ("art", f"/:/resources/{view}-fanart.jpg"),
                ("identifier", "com.plexapp.plugins.library"),
                ("librarySectionID", section),
                ("librarySectionTitle", title),
                ("librarySectionUUID", _SECTION_UUIDS[section]),
                ("mediaTagPrefix", "/system/bundle/media/flags/"),
                ("mediaTagVersion", 1_700_000_000),
                ("title1", title),
                ("title2", "All " + title),
                ("viewGroup", view),
            )
        )
        body = "".join(self._item(item, detail=False, guids=include_guids) for item in page)
        return xml_reply(f"<MediaContainer{head}>{body}</MediaContainer>")

    def metadata(self, keys: list[int], query: dict[str, list[str]]) -> Reply:
        items = [item for k in keys if (item := self.lib.get(k)) is not None]
        if not items:
            raise html_reply(404, "Not Found")
        body = "".join(self._item(item, detail=True, guids=True) for item in items)
        return xml_reply(
            f'<MediaContainer size="{len(items)}" allowSync="1" identifier="com.plexapp.plugins.library"'
            f' mediaTagPrefix="/system/bundle/media/flags/" mediaTagVersion="1700000000">{body}</MediaContainer>'
        )

    def children(self, key: int, what: str, query: dict[str, list[str]]) -> Reply:
        item = self.lib.get(key)
        if isinstance(item, DemoShow):
            kids: list[Any] = self.lib.seasons_of(key) if what == "children" else self.lib.episodes_of(key)
        elif isinstance(item, DemoSeason):
            kids = self.lib.episodes_of(key)
        else:
            raise html_reply(404, "Not Found")
        include_guids = (query.get("includeGuids") or ["0"])[-1] == "1"
        start, size = self._paging(query)
        page = kids[start : (start + size) if size is not None else None]
        body = "".join(self._item(k, detail=False, guids=include_guids) for k in page)
        return xml_reply(
            f'<MediaContainer size="{len(page)}" totalSize="{len(kids)}" offset="{start}" allowSync="1"'
            f' identifier="com.plexapp.plugins.library" key="{key}"{xml_attrs((("title2", item.title),))}>{body}</MediaContainer>'
        )

    # ----------------------------------------------------------- items
    def _item(self, item: Any, *, detail: bool, guids: bool) -> str:
        hostile = self.faults.hostile
        shown = hostile_item(item) if hostile else item
        return self.demo._cached_xml(
            item, detail, guids, hostile, lambda: render_item(self.lib, shown, detail=detail, guids=guids)
        )
