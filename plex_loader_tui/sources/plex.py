"""The Plex ingestion stage: list every movie and episode through plexapi.

The stage works in three steps:

1. :meth:`PlexSource.connect` opens a :class:`plexapi.server.PlexServer` on a
   ``requests`` session that retries 429 and 5xx answers (with backoff, and
   honouring ``Retry-After``) and applies the configured timeout.
2. :meth:`PlexSource.plan` picks the movie and show sections, reads their
   sizes from ``totalSize`` and cuts them into :class:`PageRequest` pages.
   The total is known before any item is fetched, so front ends can show
   progress and an ETA from the start.
3. :meth:`PlexSource.fetch_page` (the engine runs it in a thread) turns one
   page into :class:`~plex_loader_tui.models.SourceItem` objects with exactly
   **one** HTTP request: the listing already carries every field we need
   (``includeGuids=1`` adds the external ids), and the items are read
   straight from the XML the server sent, so plexapi never gets the chance
   to lazily reload a partial object (one hidden request per item).

Errors: a refused token is fatal (:class:`PlexAuthError`), so is a server
that cannot be reached (:class:`PlexUnreachableError`). A page that fails
(malformed XML, a 5xx that outlived the retries, a timeout) raises
:class:`PlexPageError`, which the engine retries and then dead-letters while
the rest of the library goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from xml.etree.ElementTree import Element, ParseError

import requests

from ..errors import FatalError
from ..models import SourceItem
from ..ports import ListingPlan, PageKind, PageRequest, SectionPlan, ServerInfo
from ..secrets import mask, mask_url, redact
from .plex_http import PlexSettings, UnexpectedAnswer, build_session, reason
from .plex_xml import parse_external_ids, parse_int, parse_item

log = logging.getLogger(__name__)

#: Plex's numeric search types for the section listings we read.
_TYPE_MOVIE = 1
_TYPE_SHOW = 2
_TYPE_EPISODE = 4


# --------------------------------------------------------------------- errors
class PlexAuthError(FatalError):
    """Plex refused the token (401)."""


class PlexUnreachableError(FatalError):
    """The Plex server could not be reached (or did not answer like Plex) after retries."""


class PlexLibraryNotFoundError(FatalError):
    """A library named with ``--library`` does not exist on the server."""


class PlexPageError(Exception):
    """One page of a listing could not be fetched or parsed.

    Transient from the engine's point of view: it retries the page, then
    dead-letters it (with this message) and the load goes on.
    """


# ------------------------------------------------------------------- source
class PlexSource:
    """Reads a Plex server's movies and episodes, page by page (a :class:`~plex_loader_tui.ports.Source`).

    Not tied to the engine: ``connect()`` and ``plan()`` run once (in a thread,
    they block), then ``fetch_page``/``fetch_pages`` run from any number of
    threads at once.
    """

    #: Exceptions the engine should retry (a page), beside fatal ones.
    retry_on: tuple[type[BaseException], ...] = (PlexPageError,)

    def __init__(self, settings: PlexSettings, *, session: requests.Session | None = None) -> None:
        self.settings = settings
        self._session = session or build_session(settings)
        self._server = None  # plexapi.server.PlexServer once connected
        self._info: ServerInfo | None = None
        # Show rating key -> the show's TMDb id, for episodes (whose own
        # listing carries only episode ids). Filled by plan(), then read by
        # the page workers; new shows found later are added under the lock.
        self._show_tmdb: dict[str, str | None] = {}
        self._show_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PlexSource({self.settings!r})"

    # ------------------------------------------------------------- errors
    def _redact(self, text: str) -> str:
        return redact(text, [self.settings.token])

    def _auth_error(self) -> PlexAuthError:
        return PlexAuthError(
            f"Plex rejected the token (401) at {mask_url(self.settings.url)}: check PLEX_TOKEN "
            f"(token {mask(self.settings.token) or 'not set'})"
        )

    def _unreachable(self, exc: BaseException) -> PlexUnreachableError:
        return PlexUnreachableError(
            f"Cannot reach the Plex server at {mask_url(self.settings.url)} "
            f"after {self.settings.retries} retries: {self._redact(reason(exc))}. "
            "Check the URL and that the server is running."
        )

    def _unless_refused(self, answer: UnexpectedAnswer, error: Exception) -> Exception:
        """``error``, or the token error when the answer was a 401."""
        return self._auth_error() if answer.status == 401 else error

    # ------------------------------------------------------------ connect
    def connect(self) -> ServerInfo:
        """Open the server (``GET /``) and return who answered."""
        from plexapi.exceptions import BadRequest, NotFound, Unauthorized
        from plexapi.server import PlexServer

        url = self.settings.url.rstrip("/")
        try:
            server = PlexServer(url, self.settings.token, session=self._session, timeout=self.settings.timeout)
        except Unauthorized:
            raise self._auth_error() from None
        except UnexpectedAnswer as exc:
            raise self._unless_refused(exc, PlexUnreachableError(
                f"The server at {mask_url(url)} did not answer like a Plex server: it sent {exc}. "
                "Check the URL (and the port, usually 32400)."
            )) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise self._unreachable(exc) from None
        except (BadRequest, NotFound, ParseError, AttributeError) as exc:
            # 5xx/429 that outlived the retries, or something that is not Plex.
            raise PlexUnreachableError(
                f"The server at {mask_url(url)} did not answer like a Plex server: "
                f"{self._redact(reason(exc))}. Check the URL (and the port, usually 32400)."
            ) from None
        self._server = server
        self._info = ServerInfo(
            name=server.friendlyName or "",
            machine_identifier=server.machineIdentifier or "",
            version=server.version or "",
            url=mask_url(url),
        )
        log.info("connected to Plex %r (%s) at %s", self._info.name, self._info.version, self._info.url)
        return self._info

    @property
    def server_info(self) -> ServerInfo:
        if self._info is None:
            raise RuntimeError("PlexSource.connect() must be called first")
        return self._info

    def _query(self, key: str, headers: dict[str, str] | None = None) -> Element:
        """One request through plexapi, with errors translated; returns the XML root."""
        from plexapi.exceptions import BadRequest, NotFound, Unauthorized

        if self._server is None:
            raise RuntimeError("PlexSource.connect() must be called first")
        try:
            data = self._server.query(key, headers=headers)
        except Unauthorized:
            raise self._auth_error() from None
        except UnexpectedAnswer as exc:
            raise self._unless_refused(exc, PlexPageError(f"Plex answered {key} with {exc}")) from None
        except requests.Timeout as exc:
            raise PlexPageError(f"Plex timed out on {key}: {self._redact(reason(exc))}") from None
        except requests.ConnectionError as exc:
            raise self._unreachable(exc) from None
        except requests.RequestException as exc:  # body cut off mid-transfer and the like
            raise PlexPageError(f"Plex request {key} failed: {self._redact(reason(exc))}") from None
        except (BadRequest, NotFound) as exc:
            raise PlexPageError(f"Plex answered {self._redact(reason(exc))}") from None
        except ParseError as exc:
            raise PlexPageError(f"Plex sent malformed XML for {key}: {exc}") from None
        if data is None:
            raise PlexPageError(f"Plex sent an empty answer for {key}")
        return data

    # --------------------------------------------------------------- plan
    def plan(self) -> ListingPlan:
        """Choose the sections, read their sizes and cut them into pages."""
        from plexapi.exceptions import BadRequest, Unauthorized

        if self._server is None:
            self.connect()
        assert self._server is not None
        try:
            sections = [s for s in self._server.library.sections() if s.type in ("movie", "show")]
        except Unauthorized:
            raise self._auth_error() from None
        except UnexpectedAnswer as exc:
            raise self._unless_refused(exc, PlexUnreachableError(
                f"Plex at {mask_url(self.settings.url)} failed to list its libraries: it sent {exc}"
            )) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise self._unreachable(exc) from None
        except (BadRequest, ParseError) as exc:
            raise PlexUnreachableError(
                f"Plex at {mask_url(self.settings.url)} failed to list its libraries: {self._redact(reason(exc))}"
            ) from None
        chosen = self._choose(sections)
        try:
            return self._plan_sections(chosen)
        except PlexPageError as exc:
            # Without the sizes there is no plan: nothing to retry page by page.
            raise PlexUnreachableError(
                f"Plex at {mask_url(self.settings.url)} failed while sizing the libraries: {exc}"
            ) from None

    def _plan_sections(self, chosen: list) -> ListingPlan:  # type: ignore[type-arg]
        plans: list[SectionPlan] = []
        pages: list[PageRequest] = []
        size = self.settings.chunk_size
        for section in chosen:
            movie = section.type == "movie"
            type_id = _TYPE_MOVIE if movie else _TYPE_EPISODE
            root = self._query(
                f"/library/sections/{section.key}/all?type={type_id}&includeCollections=0"
                "&X-Plex-Container-Start=0&X-Plex-Container-Size=0"
            )
            total = parse_int(root.get("totalSize"))
            if total is None:
                raise PlexUnreachableError(
                    f"Plex at {mask_url(self.settings.url)} did not report the size of library "
                    f"{section.title!r} (no totalSize); cannot page through it safely"
                )
            plans.append(SectionPlan(str(section.key), section.title, "movie" if movie else "show", total))
            kind: PageKind = "movie" if movie else "episode"
            pages.extend(
                PageRequest(str(section.key), section.title, kind, start, min(size, total - start))
                for start in range(0, total, size)
            )
            if not movie:
                self._load_shows(str(section.key))
        plan = ListingPlan(self.server_info, tuple(plans), tuple(pages))
        log.info(
            "Plex plan: %d items in %s, %d pages of up to %d",
            plan.total,
            ", ".join(f"{s.title} ({s.total})" for s in plans) or "no libraries",
            len(pages),
            size,
        )
        return plan

    def _choose(self, sections: list) -> list:  # type: ignore[type-arg]
        if not self.settings.libraries:
            return sections
        by_title = {s.title: s for s in sections}
        by_folded = {s.title.casefold(): s for s in sections}
        chosen = []
        for name in self.settings.libraries:
            section = by_title.get(name) or by_folded.get(name.casefold())
            if section is None:
                available = ", ".join(repr(s.title) for s in sections) or "none"
                raise PlexLibraryNotFoundError(
                    f"Plex at {mask_url(self.settings.url)} has no movie or show library named {name!r}; "
                    f"available: {available}"
                )
            if section not in chosen:
                chosen.append(section)
        return chosen

    def _load_shows(self, section_key: str) -> None:
        """Remember each show's TMDb id (episodes' listings do not carry it)."""
        size = self.settings.chunk_size
        start = 0
        while True:
            root = self._query(
                f"/library/sections/{section_key}/all?type={_TYPE_SHOW}&includeGuids=1",
                headers={"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(size)},
            )
            shows = [el for el in root if el.get("type") == "show"]
            with self._show_lock:
                for el in shows:
                    self._remember_show(el)
            total = parse_int(root.get("totalSize"))
            start += size
            if not shows or total is None or start >= total:
                break

    def _remember_show(self, el: Element) -> None:
        key = el.get("ratingKey")
        if key:
            ids = parse_external_ids(el.get("guid"), (g.get("id") or "" for g in el.iter("Guid")))
            self._show_tmdb[key] = ids.tmdb

    def _show_ids(self, show_keys: set[str]) -> dict[str, str | None]:
        """TMDb ids for these shows; shows not seen by plan() are fetched in one request."""
        with self._show_lock:
            missing = sorted(k for k in show_keys if k not in self._show_tmdb)
        if missing:
            # A show added after plan(): rare, so one extra request is fine.
            try:
                root: Iterable[Element] = self._query(f"/library/metadata/{','.join(missing)}")
            except PlexPageError as exc:
                # The show is gone too (deleted mid-run): its episodes still
                # flow, just without the show's TMDb id.
                log.info("could not read shows %s: %s", ", ".join(missing), exc)
                root = ()
            with self._show_lock:
                for el in root:
                    if el.get("type") == "show":
                        self._remember_show(el)
                for key in missing:
                    self._show_tmdb.setdefault(key, None)
        with self._show_lock:
            return {k: self._show_tmdb.get(k) for k in show_keys}

    # -------------------------------------------------------------- pages
    def fetch_page(self, page: PageRequest) -> list[SourceItem]:
        """Fetch and parse one page with exactly one request (plus one in the rare
        case of episodes of a show added after :meth:`plan`)."""
        type_id = _TYPE_MOVIE if page.kind == "movie" else _TYPE_EPISODE
        key = f"/library/sections/{page.section_key}/all?type={type_id}&includeGuids=1"
        root = self._query(
            key, headers={"X-Plex-Container-Start": str(page.start), "X-Plex-Container-Size": str(page.size)}
        )
        elements = [el for el in root if el.tag == "Video" and el.get("type") == page.kind]
        if len(elements) != page.size:
            # The library changed since plan(): later pages have shifted, so this
            # listing cannot tell "gone" from "not seen" (the load then deletes nothing
            # in this section; the next run lists it afresh).
            log.warning("%s: expected %d items, Plex returned %d (the library changed during the load)",
                        page, page.size, len(elements))
        show_ids: dict[str, str | None] = {}
        if page.kind == "episode":
            show_ids = self._show_ids({k for el in elements if (k := el.get("grandparentRatingKey"))})
        items = []
        for el in elements:
            item = parse_item(el, page, self.server_info.machine_identifier, show_ids)
            if item is not None:
                items.append(item)
        return items

    def fetch_pages(self, pages: list[PageRequest]) -> list[SourceItem]:
        """Batch form for the engine: the items of every page, in order."""
        items: list[SourceItem] = []
        for page in pages:
            items.extend(self.fetch_page(page))
        return items

    # ------------------------------------------------------------ closing
    def close(self) -> None:
        """Close the HTTP session (its pooled connections)."""
        self._session.close()

    def __enter__(self) -> PlexSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
