"""Data shapes that cross module boundaries.

Each stage of the load hands the next one of these: ingestion yields
:class:`SourceItem`, enrichment turns it into :class:`EnrichedItem`, embedding
turns that into :class:`EmbeddedPoint`, and the Qdrant sink writes points.
They are plain, typed, immutable dataclasses so that any stage (and any test)
can build them without the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    imdb_id: str | None = None
    tmdb_id: str | None = None
    tvdb_id: str | None = None
    show_title: str | None = None
    show_rating_key: str | None = None
    show_tmdb_id: str | None = None
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
            season = self.season_number if self.season_number is not None else 0
            episode = self.episode_number if self.episode_number is not None else 0
            return f"{self.show_title} — S{season:02d}E{episode:02d} — {self.title}"
        return self.title


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
    """

    service: Literal["tmdb", "imdb"]
    message: str


@dataclass(frozen=True, slots=True)
class EnrichedItem:
    """A :class:`SourceItem` plus whatever TMDb and IMDb had to say about it."""

    source: SourceItem
    tmdb: TmdbInfo | None = None
    imdb: ImdbInfo | None = None
    errors: tuple[EnrichError, ...] = ()


@dataclass(frozen=True, slots=True)
class SparseVector:
    indices: tuple[int, ...]
    values: tuple[float, ...]


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
