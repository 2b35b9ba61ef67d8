"""The Plex ingestion stage: list every movie and episode, page by page.

The stage works in three steps:

1. :meth:`PlexSource.connect` asks the server who it is (``GET /``) on a
   ``requests`` session that retries refused connections, 429 and 5xx (with
   backoff, honouring ``Retry-After``) and applies the configured timeout.
2. :meth:`PlexSource.plan` picks the movie and show sections, reads their
   sizes from ``totalSize`` and cuts them into :class:`PageRequest` pages.
   The total is known before any item is fetched, so front ends can show
   progress and an ETA from the start.
3. :meth:`PlexSource.fetch_page` (the engine runs it in a thread) turns one
   page into :class:`~plex_loader_tui.models.SourceItem` objects with exactly
   **one** HTTP request: the listing already carries every field we need
   (``includeGuids=1`` adds the external ids), and the items are read
   straight from the XML the server sent.

Every request goes through :func:`~.plex_fetch.fetch`: the body is read with
a cap, and an answer counts only if it is a 200 holding a Plex
``MediaContainer`` — a captive portal's HTML page or a proxy's JSON is a
failed answer, not an empty library.

Errors: a refused token is fatal (:class:`PlexAuthError`), so is a server
that cannot be connected to, and anything that goes wrong while connecting
(:class:`PlexUnreachableError`). After that, an answer that fails (not a
Plex listing, a 5xx that outlived the retries, a timeout or a stall, a body
over the cap) raises :class:`PlexPageError`: the engine retries the page and
then dead-letters it while the rest of the library goes on, and the load
retries :meth:`PlexSource.plan` the same way. Messages describe a bad answer
by status, content type and size, never by its body.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from xml.etree.ElementTree import Element

import requests

from ..config.settings import APP_NAME
from ..errors import FatalError
from ..models import SourceItem
from ..ports import ListingPlan, PageKind, PageRequest, SectionPlan, ServerInfo
from ..secrets import mask, mask_url, redact
from .plex_fetch import Failure, PlexFetchError, fetch
from .plex_http import PlexSettings, RetryHook, build_session
from .plex_xml import (
    LISTING_ROLES,
    NotPlexAnswer,
    PlexSection,
    parse_container,
    parse_external_ids,
    parse_int,
    parse_item,
    parse_sections,
)

log = logging.getLogger(__name__)

#: Plex's numeric search types for the section listings we read.
_TYPE_MOVIE = 1
_TYPE_SHOW = 2
_TYPE_EPISODE = 4


#: What a ``Video`` element's ``type`` is as one of our items.
_KINDS: dict[str, PageKind] = {"movie": "movie", "episode": "episode"}


@dataclass(frozen=True, slots=True)
class SectionItem:
    """An item read by rating key, with the key of the library section it is in."""

    section_key: str
    item: SourceItem


# --------------------------------------------------------------------- errors
class PlexAuthError(FatalError):
    """Plex refused the token (401)."""


class PlexUnreachableError(FatalError):
    """The Plex server could not be reached, or did not answer like Plex while connecting."""


class PlexLibraryNotFoundError(FatalError):
    """A library named with ``--library`` does not exist on the server."""


class PlexPageError(Exception):
    """One answer (a page of a listing, or a step of sizing the libraries) could not be used.

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

    def __init__(
        self, settings: PlexSettings, *, session: requests.Session | None = None, on_retry: RetryHook | None = None
    ) -> None:
        """``on_retry`` hears of every HTTP-level retry as it happens (for the stage's counters)."""
        self.settings = settings
        self._session = session or build_session(settings, on_retry=on_retry)
        self._base = settings.url.rstrip("/")
        # Plex lists clients by identifier: one per machine, as plexapi does.
        self._headers = {
            "Accept": "application/xml",
            "X-Plex-Product": APP_NAME,
            "X-Plex-Client-Identifier": f"{APP_NAME}-{uuid.getnode():x}",
        }
        if settings.token:
            self._headers["X-Plex-Token"] = settings.token
        self._info: ServerInfo | None = None
        # Show rating key -> the show's TMDb id, for episodes (whose own
        # listing carries only episode ids). Filled by plan(), then read by
        # the page workers; new shows found later are added under the lock.
        self._show_tmdb: dict[str, str | None] = {}
        self._show_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PlexSource({self.settings!r})"

    # ------------------------------------------------------------- errors
    def _auth_error(self) -> PlexAuthError:
        return PlexAuthError(
            f"Plex rejected the token (401) at {mask_url(self.settings.url)}: check PLEX_TOKEN "
            f"(token {mask(self.settings.token) or 'not set'})"
        )

    def _unreachable(self, problem: str) -> PlexUnreachableError:
        return PlexUnreachableError(
            f"Cannot reach the Plex server at {mask_url(self.settings.url)}: {problem}. "
            "Check the URL and that the server is running."
        )

    def _not_plex(self, problem: str) -> PlexUnreachableError:
        return PlexUnreachableError(
            f"The server at {mask_url(self.settings.url)} did not answer like a Plex server ({problem}). "
            "Check the URL (and the port, usually 32400)."
        )

    def _page_error(self, key: str, problem: str) -> PlexPageError:
        return PlexPageError(f"Plex at {mask_url(self.settings.url)}, {key}: {problem}")

    # ------------------------------------------------------------ requests
    def _get(self, key: str, headers: dict[str, str] | None = None, *, connecting: bool = False) -> Element:
        """One request; returns the answer's ``MediaContainer`` (see :meth:`_request`)."""
        root = self._request(key, headers, connecting=connecting)
        assert root is not None  # only a missing_ok request answers None
        return root

    def _request(
        self, key: str, headers: dict[str, str] | None = None, *, connecting: bool = False,
        label: str | None = None, missing_ok: bool = False,
    ) -> Element | None:
        """One request; returns the answer's ``MediaContainer`` (None for a 404 when ``missing_ok``).

        Raises :class:`PlexAuthError` on a 401 and :class:`PlexUnreachableError`
        when no connection can be made; any other failure is a
        :class:`PlexPageError`, or fatal too while ``connecting``. Messages name
        the request by ``label`` (default: ``key``).
        """
        settings = self.settings
        shown = label or key
        try:
            answer = fetch(
                self._session,
                self._base + key,
                headers={**self._headers, **(headers or {})},
                timeout=settings.timeout,
                cap=settings.body_cap,
                attempts=settings.retries + 1,
            )
        except PlexFetchError as exc:
            problem = redact(str(exc), [settings.token])
            if exc.failure is Failure.UNREACHABLE or connecting:
                raise self._unreachable(f"{problem} on {shown}") from None
            raise self._page_error(shown, problem) from None
        if answer.status == 401:
            raise self._auth_error()
        if answer.status == 404 and missing_ok:
            return None
        problem = answer.describe()
        if answer.status == 200:
            try:
                return parse_container(answer.body)
            except NotPlexAnswer as exc:
                problem += f", not a Plex answer: {exc}"
        if connecting:
            raise self._not_plex(f"{shown}: {problem}")
        raise self._page_error(shown, problem)

    # ------------------------------------------------------------ connect
    def connect(self) -> ServerInfo:
        """Ask the server who it is (``GET /``); anything but a Plex answer is fatal."""
        root = self._get("/", connecting=True)
        machine = root.get("machineIdentifier") or ""
        if not machine:
            raise self._not_plex("its answer to / names no machineIdentifier")
        self._info = ServerInfo(
            name=root.get("friendlyName") or "",
            machine_identifier=machine,
            version=root.get("version") or "",
            url=mask_url(self._base),
        )
        log.info("connected to Plex %r (%s) at %s", self._info.name, self._info.version, self._info.url)
        return self._info

    @property
    def server_info(self) -> ServerInfo:
        if self._info is None:
            raise RuntimeError("PlexSource.connect() must be called first")
        return self._info

    # --------------------------------------------------------------- plan
    def plan(self) -> ListingPlan:
        """Choose the sections, read their sizes and cut them into pages.

        A failed answer raises :class:`PlexPageError`, for the caller to retry
        (the load retries the plan like a page).
        """
        if self._info is None:
            self.connect()
        sections = [s for s in parse_sections(self._get("/library/sections")) if s.type in ("movie", "show")]
        return self._plan_sections(self._choose(sections))

    def _plan_sections(self, chosen: list[PlexSection]) -> ListingPlan:
        plans: list[SectionPlan] = []
        pages: list[PageRequest] = []
        size = self.settings.chunk_size
        for section in chosen:
            movie = section.type == "movie"
            type_id = _TYPE_MOVIE if movie else _TYPE_EPISODE
            key = (
                f"/library/sections/{section.key}/all?type={type_id}&includeCollections=0"
                "&X-Plex-Container-Start=0&X-Plex-Container-Size=0"
            )
            total = parse_int(self._get(key).get("totalSize"))
            if total is None:
                raise self._page_error(
                    key, f"no totalSize: the size of library {section.title!r} is unknown, so it cannot be paged safely"
                )
            plans.append(SectionPlan(section.key, section.title, "movie" if movie else "show", total))
            kind: PageKind = "movie" if movie else "episode"
            pages.extend(
                PageRequest(section.key, section.title, kind, start, min(size, total - start))
                for start in range(0, total, size)
            )
            if not movie:
                self._load_shows(section.key)
        plan = ListingPlan(self.server_info, tuple(plans), tuple(pages))
        log.info(
            "Plex plan: %d items in %s, %d pages of up to %d",
            plan.total,
            ", ".join(f"{s.title} ({s.total})" for s in plans) or "no libraries",
            len(pages),
            size,
        )
        return plan

    def _choose(self, sections: list[PlexSection]) -> list[PlexSection]:
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
            root = self._get(
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
                root: Iterable[Element] = self._get(f"/library/metadata/{','.join(missing)}")
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
        if page.keys:
            return self._fetch_keyed(page)
        type_id = _TYPE_MOVIE if page.kind == "movie" else _TYPE_EPISODE
        key = f"/library/sections/{page.section_key}/all?type={type_id}&includeGuids=1"
        root = self._get(
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
            item = parse_item(el, page.kind, page.section_title, self.server_info.machine_identifier, show_ids, page)
            if item is not None:
                items.append(item)
        return items

    # ------------------------------------------------------ targeted fetch
    def fetch_items(self, rating_keys: Sequence[str]) -> list[SectionItem]:
        """The movies and episodes with these rating keys, read from ``/library/metadata/{k1,k2,…}``.

        One request per :attr:`PlexSettings.keys_per_request` keys (plus, for
        episodes of a show :meth:`plan` did not see, one request for the shows).
        Each item comes with the key of the section it is in, from whatever
        section (filter by ``section_key`` to keep only the chosen libraries).
        Keys Plex no longer knows are simply absent, as are shows and seasons;
        the caller treats an absent key as deleted. A failed answer raises
        :class:`PlexPageError` (the whole call: retry it like a page).

        The items are read from each item's full metadata, which can hold more
        tags (cast, genres) than a section listing shows of the same item.
        """
        keys = list(dict.fromkeys(str(k).strip() for k in rating_keys))
        bad = [k for k in keys if not k.isdigit()]
        if bad:
            raise ValueError(f"rating keys are whole numbers; got {bad[0][:40]!r}")
        if self._info is None:
            self.connect()
        size = self.settings.keys_per_request
        elements: list[tuple[Element, Element]] = []  # (item, the answer it came in)
        for start in range(0, len(keys), size):
            chunk = keys[start : start + size]
            label = f"/library/metadata/{chunk[0]},… ({len(chunk)} keys)" if len(chunk) > 1 else None
            root = self._request(f"/library/metadata/{','.join(chunk)}", label=label, missing_ok=True)
            if root is not None:  # a 404: none of these keys exists any more
                elements.extend((el, root) for el in root if el.tag == "Video" and el.get("type") in _KINDS)
        shows = {k for el, _ in elements if el.get("type") == "episode" and (k := el.get("grandparentRatingKey"))}
        show_ids = self._show_ids(shows) if shows else {}
        found: list[SectionItem] = []
        for el, root in elements:
            section = el.get("librarySectionID") or root.get("librarySectionID") or ""
            title = el.get("librarySectionTitle") or root.get("librarySectionTitle") or ""
            item = parse_item(el, _KINDS[el.get("type") or ""], title, self.server_info.machine_identifier, show_ids,
                              "/library/metadata")
            if item is not None:
                found.append(SectionItem(section, item))
        return found

    def _fetch_keyed(self, page: PageRequest) -> list[SourceItem]:
        """A page of changed rating keys: the items of its section Plex still has.

        An item's full metadata names its whole cast where a listing shows the
        first :data:`LISTING_ROLES` actors; the keyed read is cut to the same,
        so that the next listing finds the item unchanged instead of reloading it.
        """
        return [
            replace(found.item, actors=found.item.actors[:LISTING_ROLES])
            for found in self.fetch_items(page.keys)
            if found.section_key == page.section_key
        ]

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
