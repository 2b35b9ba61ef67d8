"""Data shapes that cross module boundaries.

Each stage of the load hands the next one of these: ingestion yields
:class:`SourceItem`, enrichment turns it into :class:`EnrichedItem`, embedding
turns that into :class:`EmbeddedPoint`, and the Qdrant sink writes points.
They are plain, typed, immutable dataclasses so that any stage (and any test)
can build them without the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

ItemType = Literal["movie", "episode"]


@dataclass(frozen=True, slots=True)
class Person:
    """A credited person: actor (with the character in ``role``), director or writer."""

    name: str
    role: str | None = None


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One movie or episode as Plex describes it.

    ``key`` is the stable identity of the item inside one Plex server
    (``"<machine id>:<rating key>"``); the state store and the point id derive
    from it (or from a ``plex://`` guid when the item has one).
    """

    server_id: str
    rating_key: str
    guid: str
    type: ItemType
    title: str
    library: str = ""
    year: int | None = None
    summary: str = ""
    tagline: str = ""
    content_rating: str | None = None
    genres: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    actors: tuple[Person, ...] = ()
    #: Plex collections the item belongs to (``<Collection tag=…>`` in the listing).
    collections: tuple[str, ...] = ()
    imdb_id: str | None = None
    tmdb_id: str | None = None
    tvdb_id: str | None = None
    show_title: str | None = None
    show_rating_key: str | None = None
    show_tmdb_id: str | None = None
    #: The season's own title (Plex ``parentTitle``, e.g. "Season 1"), episodes only.
    season_title: str | None = None
    season_number: int | None = None
    episode_number: int | None = None
    added_at: int | None = None
    updated_at: int | None = None

    @property
    def key(self) -> str:
        return f"{self.server_id}:{self.rating_key}"

    @property
    def display_title(self) -> str:
        """Human title: episodes read as ``Show — S01E04 — Episode``."""
        if self.type == "episode" and self.show_title:
            return episode_title(self.show_title, self.season_number, self.episode_number, self.title)
        return self.title


def episode_title(show: str, season: int | None, episode: int | None, title: str) -> str:
    """How an episode is named everywhere: ``Show — S01E04 — Episode``."""
    return f"{show} — S{season or 0:02d}E{episode or 0:02d} — {title}"


@dataclass(frozen=True, slots=True)
class TmdbInfo:
    """What TMDb adds to an item (movie, or episode with its show's details)."""

    tmdb_id: str
    overview: str = ""
    tagline: str = ""
    genres: tuple[str, ...] = ()
    release_date: str | None = None
    runtime: int | None = None
    vote_average: float | None = None
    cast: tuple[Person, ...] = ()
    directors: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImdbInfo:
    """What IMDb (imdbapi.dev) adds to an item."""

    imdb_id: str
    plot: str = ""
    rating: float | None = None
    vote_count: int | None = None
    genres: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EnrichError:
    """A service that could not be reached for an item after retries.

    The item still flows on (without that service's data); the error is kept
    so that it is visible in the summary and the item can be retried.
    ``message`` is the full line (the URL asked, what came back); ``reason``
    the short phrase in it that is the same for every item failed the same
    way (``"body over 2 MB"``, ``"answered 503"``), to group failures by.
    """

    service: Literal["tmdb", "imdb"]
    message: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class EnrichedItem:
    """A :class:`SourceItem` plus whatever TMDb and IMDb had to say about it."""

    source: SourceItem
    tmdb: TmdbInfo | None = None
    imdb: ImdbInfo | None = None
    errors: tuple[EnrichError, ...] = ()


@dataclass(frozen=True, slots=True)
class SparseVector:
    """A sparse vector: parallel tuples of dimension indices and their weights."""

    indices: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class QueryVectors:
    """A search query embedded with the same models as the documents."""

    dense: tuple[float, ...]
    sparse: SparseVector

    def __iter__(self) -> Iterator[tuple[float, ...] | SparseVector]:
        # Lets callers write ``dense, sparse = embedder.embed_query(q)``.
        yield self.dense
        yield self.sparse


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Exact-match conditions a search adds to its query (each ``None`` = any).

    They filter on indexed payload keys (``type``, ``year``, ``genres``,
    ``actors``), so a Qdrant server answers them from its payload indexes.
    """

    type: ItemType | None = None
    year: int | None = None
    genre: str | None = None
    actor: str | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.type, self.year, self.genre, self.actor))

    def conditions(self) -> list[tuple[str, str | int]]:
        """``(payload key, value)`` of each set filter: what every sink matches exactly."""
        pairs = (("type", self.type), ("year", self.year), ("genres", self.genre), ("actors", self.actor))
        return [(key, value) for key, value in pairs if value is not None]


@dataclass(frozen=True, slots=True)
class ScoredPoint:
    """A stored point a query found: its id, fused score and payload."""

    point_id: str
    score: float
    payload: dict[str, object]


@dataclass(frozen=True, slots=True)
class EmbeddedPoint:
    """A point ready for Qdrant: id, the text embedded, payload and both vectors."""

    point_id: str
    item_key: str
    text: str
    payload: dict[str, object]
    dense: tuple[float, ...]
    sparse: SparseVector
    content_hash: str = ""
    title: str = field(default="", compare=False)
    #: Hash of the embedded text alone (with the models): equal means the vectors would be equal.
    text_hash: str = ""


@dataclass(frozen=True, slots=True)
class PayloadUpdate:
    """A stored point whose text did not change: only its payload is written, no embedding.

    ``content_hash`` and ``text_hash`` are what the load state records, as for
    an :class:`EmbeddedPoint`.
    """

    point_id: str
    item_key: str
    payload: dict[str, object]
    content_hash: str
    text_hash: str
    title: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class StoredHashes:
    """What the load state says the stored point of an item was made from."""

    text_hash: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class LoadItem:
    """One item on its way through a load, carrying what the ledger records about it.

    Ingestion makes it: the source item, the identity of its library section
    in the load state, the source fingerprint the skip decision used, the
    point id and ``stored`` (the hashes of the point loaded before, if any).
    Enrichment adds ``enriched``, embedding adds ``point`` (a
    :class:`PayloadUpdate` when the text is the stored one); each
    stage hands the next a new copy (:meth:`with_enriched`, :meth:`with_point`),
    so nothing about an item has to be looked up on the side.
    """

    source: SourceItem
    section: str
    source_hash: str
    point_id: str
    enriched: EnrichedItem | None = None
    point: EmbeddedPoint | PayloadUpdate | None = None
    stored: StoredHashes | None = None

    @property
    def key(self) -> str:
        return self.source.key

    @property
    def title(self) -> str:
        return self.source.display_title

    @property
    def updated_at(self) -> int | None:
        return self.source.updated_at

    @property
    def enrich_errors(self) -> tuple[EnrichError, ...]:
        """Services that failed for this item after their retries (empty when complete)."""
        return self.enriched.errors if self.enriched is not None else ()

    def with_enriched(self, enriched: EnrichedItem) -> LoadItem:
        return replace(self, enriched=enriched)

    @property
    def unchanged(self) -> bool:
        """The point this item would write is exactly the stored one (text and payload)."""
        return (
            self.point is not None and self.stored is not None
            and self.point.content_hash == self.stored.content_hash
        )

    def with_point(self, point: EmbeddedPoint | PayloadUpdate) -> LoadItem:
        return replace(self, point=point)
