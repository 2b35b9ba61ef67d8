"""The items of the demo library: movies, shows, seasons and episodes.

Frozen dataclasses, so a served item never changes under a reader; the
library replaces an item to change it. Each playable item carries its true
external ids (the keys of its TMDb and IMDb records) next to the guids Plex
exposes, which may hide them, and :class:`ExternalRatings` with what TMDb and
IMDb say beyond Plex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Credit:
    """A credited person in the demo library (``character`` for actors)."""

    name: str
    character: str | None = None


@dataclass(frozen=True, slots=True)
class ExternalRatings:
    """What TMDb and IMDb say about an item beyond what Plex stores."""

    tmdb_overview: str
    vote_average: float
    vote_count: int
    imdb_plot: str
    imdb_rating: float
    imdb_votes: int
    runtime_min: int


def _ids_from_guids(guid: str, guids: tuple[str, ...]) -> dict[str, str]:
    """The external ids a Plex client can see in an item's guid and Guid children.

    Keys: ``imdb``, ``tmdb``, ``tvdb``, and ``show_tmdb`` for a legacy episode
    guid, which names its show rather than the episode.
    """
    ids: dict[str, str] = {}
    for g in guids:
        scheme, _, value = g.partition("://")
        ids[scheme] = value
    if guid.startswith("com.plexapp.agents."):
        agent, _, rest = guid[len("com.plexapp.agents.") :].partition("://")
        value, _, episode_path = rest.split("?", 1)[0].partition("/")
        if episode_path:
            # ``…themoviedb://<show>/<season>/<episode>``: the id is the show's.
            if agent == "themoviedb":
                ids.setdefault("show_tmdb", value)
        elif agent == "imdb":
            ids.setdefault("imdb", value)
        elif agent == "themoviedb":
            ids.setdefault("tmdb", value)
        elif agent == "thetvdb":
            ids.setdefault("tvdb", value)
    return ids


@dataclass(frozen=True, slots=True)
class DemoMovie:
    """One movie. ``imdb_id``/``tmdb_id`` are its true ids (keys of the TMDb/IMDb
    records); ``guid``/``guids`` are what Plex exposes, which may hide them."""

    rating_key: int
    guid: str
    guids: tuple[str, ...]
    title: str
    year: int
    summary: str
    tagline: str
    content_rating: str
    studio: str
    genres: tuple[str, ...]
    directors: tuple[str, ...]
    writers: tuple[str, ...]
    cast: tuple[Credit, ...]
    countries: tuple[str, ...]
    imdb_id: str
    tmdb_id: str
    released: str
    duration_ms: int
    rating: float
    audience_rating: float
    added_at: int
    updated_at: int
    external: ExternalRatings
    #: Plex collections the movie belongs to (listed as ``<Collection tag=…>``).
    collections: tuple[str, ...] = ()

    kind: Literal["movie"] = "movie"

    @property
    def visible_ids(self) -> dict[str, str]:
        """External ids as a Plex client sees them (``{"imdb": "tt…", "tmdb": "…"}``)."""
        return _ids_from_guids(self.guid, self.guids)


@dataclass(frozen=True, slots=True)
class DemoShow:
    """One TV show (a ``Directory type="show"`` in Plex)."""

    rating_key: int
    guid: str
    guids: tuple[str, ...]
    title: str
    year: int
    summary: str
    tagline: str
    content_rating: str
    studio: str
    genres: tuple[str, ...]
    cast: tuple[Credit, ...]
    creators: tuple[str, ...]
    imdb_id: str
    tmdb_id: str
    tvdb_id: str
    first_aired: str
    added_at: int
    updated_at: int
    external: ExternalRatings

    kind: Literal["show"] = "show"

    @property
    def visible_ids(self) -> dict[str, str]:
        return _ids_from_guids(self.guid, self.guids)


@dataclass(frozen=True, slots=True)
class DemoSeason:
    """One season of a show."""

    rating_key: int
    show_key: int
    index: int
    title: str
    guid: str
    added_at: int
    updated_at: int

    kind: Literal["season"] = "season"


@dataclass(frozen=True, slots=True)
class DemoEpisode:
    """One episode. ``tmdb_id`` is the episode's own TMDb id; TMDb serves it under
    its show's id, season and episode number."""

    rating_key: int
    guid: str
    guids: tuple[str, ...]
    show_key: int
    season_key: int
    season_index: int
    index: int
    title: str
    year: int
    summary: str
    content_rating: str
    directors: tuple[str, ...]
    writers: tuple[str, ...]
    guests: tuple[Credit, ...]
    imdb_id: str
    tmdb_id: str
    tvdb_id: str
    aired: str
    duration_ms: int
    rating: float
    added_at: int
    updated_at: int
    external: ExternalRatings

    kind: Literal["episode"] = "episode"

    @property
    def visible_ids(self) -> dict[str, str]:
        return _ids_from_guids(self.guid, self.guids)


#: Any item of the library: what ``DemoLibrary.get`` returns.
DemoItem = DemoMovie | DemoShow | DemoSeason | DemoEpisode
