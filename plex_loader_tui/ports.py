"""The seams of a load: where a source of items and a store of points plug in.

A load reads items from a :class:`Source` (today Plex: ``sources/plex.py``)
and writes points to a :class:`Sink` (today Qdrant: ``sinks/qdrant.py``).
The load's wiring and the engine only know these protocols and the data
shapes below, so another media server or another vector store is one module
that implements the protocol plus its rows in the settings table (see
``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from .models import EmbeddedPoint, PayloadUpdate, QueryVectors, ScoredPoint, SearchFilters, SourceItem

PageKind = Literal["movie", "episode"]


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Who answered: the server's name, machine identifier, version and (masked) URL."""

    name: str
    machine_identifier: str
    version: str
    url: str


@dataclass(frozen=True, slots=True)
class SectionPlan:
    """One library section chosen for the load and how many items it holds."""

    key: str
    title: str
    type: Literal["movie", "show"]
    total: int


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page of a section listing: the unit of work of the ingestion stage.

    ``kind`` is ``"movie"`` for a movie section and ``"episode"`` for a show
    section (its whole-section episode listing). ``start`` is 0-based.

    A page with ``keys`` asks for those items of the section by their rating
    keys instead (the sync service's changed items): ``start`` is 0 and
    ``size`` is the number of keys; keys the server no longer knows are
    missing from the answer.
    """

    section_key: str
    section_title: str
    kind: PageKind
    start: int
    size: int
    keys: tuple[str, ...] = ()

    @classmethod
    def for_keys(cls, section_key: str, section_title: str, kind: PageKind, keys: Sequence[str]) -> PageRequest:
        """A page of the items ``keys`` of one section."""
        return cls(section_key, section_title, kind, 0, len(keys), tuple(keys))

    @property
    def title(self) -> str:
        """Human name for logs and dead letters: ``"Movies items 200–399"``."""
        if self.keys:
            return f"{self.section_title}: {self.size} changed items"
        return f"{self.section_title} items {self.start}–{self.start + self.size - 1}"

    @property
    def description(self) -> str:
        """The page in full, for an error's details: ``section 1 "Movies", items 200–399``."""
        if self.keys:
            return f'section {self.section_key} "{self.section_title}", {self.size} changed items'
        return f'section {self.section_key} "{self.section_title}", items {self.start}–{self.start + self.size - 1}'

    @property
    def weight(self) -> int:
        """How many library items this page stands for."""
        return self.size

    def __str__(self) -> str:
        return self.title


@dataclass(frozen=True, slots=True)
class ListingPlan:
    """What the load will read: the sections and the pages that cover them."""

    server: ServerInfo
    sections: tuple[SectionPlan, ...]
    pages: tuple[PageRequest, ...]

    @property
    def total(self) -> int:
        """Items known up front (movies + episodes of the chosen sections, or the keys asked for)."""
        if self.targeted:
            return sum(p.size for p in self.pages)
        return sum(s.total for s in self.sections)

    @property
    def targeted(self) -> bool:
        """A plan of changed rating keys, not a listing of whole sections."""
        return any(p.keys for p in self.pages)

    def pages_of(self, section_key: str) -> tuple[PageRequest, ...]:
        return tuple(p for p in self.pages if p.section_key == section_key)


class Source(Protocol):
    """A media server the load reads items from, page by page.

    ``connect`` and ``plan`` run once (in a thread: they block); then
    ``fetch_page`` runs from any number of worker threads at once. Errors
    that stop the run are :class:`~plex_loader_tui.pipeline.errors.FatalError`
    subclasses; a page that fails raises one of :attr:`retry_on`, which the
    engine retries and then dead-letters while the rest goes on. ``plan``
    raises one of :attr:`retry_on` for an answer that failed too: the load
    retries it like a page, and stops only if it keeps failing.
    """

    #: Exception types worth another try of a page.
    retry_on: tuple[type[BaseException], ...]

    def connect(self) -> ServerInfo: ...

    def plan(self) -> ListingPlan: ...

    def fetch_page(self, page: PageRequest) -> list[SourceItem]: ...

    def close(self) -> None: ...


class Sink(Protocol):
    """A vector store the load writes points to, and searches.

    ``upsert`` returns only once the store has confirmed the points, so the
    caller may record them as loaded. Errors a retry may fix are one of
    :attr:`transient_errors`; unusable credentials or a vanished collection
    are :class:`~plex_loader_tui.pipeline.errors.FatalError` subclasses;
    anything else is a data error (the engine splits the batch).
    """

    #: Exception types worth another try of an upsert.
    transient_errors: tuple[type[BaseException], ...]
    #: The collection written to.
    collection: str

    @property
    def location(self) -> str:
        """Where the points live, for messages and for naming the load state (no secret)."""
        ...

    def connect(self) -> None: ...

    def ensure_collection(self) -> bool:
        """Create the collection if missing (True) or check that it fits this load."""
        ...

    def upsert(self, points: list[EmbeddedPoint]) -> list[EmbeddedPoint]: ...

    def set_payload(self, updates: list[PayloadUpdate]) -> list[PayloadUpdate]:
        """Replace the whole payload of stored points, vectors untouched; return what the store confirmed."""
        ...

    def delete(self, point_ids: Sequence[str]) -> None: ...

    def collection_exists(self) -> bool: ...

    def hybrid_query(self, vectors: QueryVectors, limit: int, filters: SearchFilters | None = None) -> list[ScoredPoint]:
        """Dense + sparse candidates fused with Reciprocal Rank Fusion, best first.

        ``filters`` (exact type / year / genre / actor) apply inside the query;
        callers pass them only when set.
        """
        ...

    def close(self) -> None: ...
