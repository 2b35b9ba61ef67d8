"""A deterministic synthetic media library for the demo server.

:meth:`DemoLibrary.generate` builds movies and TV shows (with seasons and
episodes) from a seed and a size. The same seed and size always give the same
library, byte for byte, so tests can assert exact values and request counts.

The library is meant to look like a real one to every stage of the load:

* titles, years, multi-paragraph summaries built from large vocabularies so
  that every summary is about something different (semantic search must be
  able to tell items apart), genres, directors, writers and actors with roles;
* unicode and XML-special characters (``& < > " ' é ü 日本``) in titles,
  summaries and names;
* a share of items with legacy agent guids
  (``com.plexapp.agents.imdb://tt…?lang=en``), a share with no external ids at
  all, a share with no summary, and modern ``plex://movie/<hex>`` guids with
  ``Guid`` children for the rest;
* TMDb and IMDb records for the ids it uses, except a few ids that answer 404.

It can also change after it is served (``add``/``touch``/``remove``) so that
tests of incremental re-runs and of the sync service see new, updated and
deleted items; each change is told to the library's listeners (the demo
server turns them into Plex notifications). Every read and write goes through
one lock, so the server's threads always see a consistent library.

The items are in :mod:`.items`, their generation in :mod:`.generator`; this
module holds the library itself: its lookups and its mutations.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from . import generator
from .items import DemoEpisode, DemoItem, DemoMovie, DemoSeason, DemoShow

__all__ = ["DemoEpisode", "DemoItem", "DemoLibrary", "DemoMovie", "DemoSeason", "DemoShow", "LibraryEvent"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LibraryEvent:
    """One item the library added, changed or removed (``item`` as it is now, or was)."""

    kind: Literal["added", "changed", "removed"]
    item: DemoItem


#: Hears each mutation's events, after the library's lock is released.
LibraryListener = Callable[[Sequence[LibraryEvent]], None]


class DemoLibrary:
    """A synthetic Plex library with matching TMDb and IMDb records.

    Build one with :meth:`generate`. The server reads it through the query
    methods below (each returns a snapshot taken under the lock); tests may
    change it while it is served with :meth:`touch` and :meth:`remove`.
    """

    MOVIE_SECTION = 1
    SHOW_SECTION = 2

    def __init__(
        self,
        movies: Iterable[DemoMovie],
        shows: Iterable[DemoShow],
        seasons: Iterable[DemoSeason],
        episodes: Iterable[DemoEpisode],
        *,
        seed: int = 0,
        tmdb_missing: Iterable[str] = (),
        imdb_missing: Iterable[str] = (),
    ) -> None:
        self.seed = seed
        self._lock = threading.RLock()
        self._movies: dict[int, DemoMovie] = {m.rating_key: m for m in movies}
        self._shows: dict[int, DemoShow] = {s.rating_key: s for s in shows}
        self._seasons: dict[int, DemoSeason] = {s.rating_key: s for s in seasons}
        self._episodes: dict[int, DemoEpisode] = {e.rating_key: e for e in episodes}
        #: TMDb ids (movie or show) and IMDb ids that answer 404 although items use them.
        self.tmdb_missing: frozenset[str] = frozenset(tmdb_missing)
        self.imdb_missing: frozenset[str] = frozenset(imdb_missing)
        self._listeners: list[LibraryListener] = []
        self._added = 0  # movies made by add(): seeds the next ones
        self._reindex()

    # ---------------------------------------------------------------- building
    @classmethod
    def generate(cls, seed: int = 7, size: int = 300) -> DemoLibrary:
        """Make a library of ``size`` playable items (about 60% movies, 40% episodes).

        Deterministic: the same ``seed`` and ``size`` give the same library.
        Shares (rounded, at least one each once ``size`` >= 20): ~12% legacy
        agent guids, ~8% without external ids, ~6% without a summary, ~3% of
        TMDb ids and ~3% of IMDb ids that answer 404.
        """
        made = generator.generate(seed, size)
        log.debug("generated demo library seed=%s: %d movies, %d shows, %d episodes",
                  seed, len(made.movies), len(made.shows), len(made.episodes))
        return cls(made.movies, made.shows, made.seasons, made.episodes, seed=seed,
                   tmdb_missing=made.tmdb_missing, imdb_missing=made.imdb_missing)

    def _reindex(self) -> None:
        """Rebuild the lookup tables; call with the lock held after any change."""
        self._movie_list = tuple(self._movies.values())
        self._episode_list = tuple(self._episodes.values())
        self._show_list = tuple(self._shows.values())
        self._by_tmdb_movie = {m.tmdb_id: m for m in self._movie_list}
        self._by_tmdb_show = {s.tmdb_id: s for s in self._show_list}
        self._by_imdb: dict[str, DemoMovie | DemoShow | DemoEpisode] = {}
        for item in (*self._movie_list, *self._show_list, *self._episode_list):
            self._by_imdb[item.imdb_id] = item
        self._episode_by_number = {
            (e.show_key, e.season_index, e.index): e for e in self._episode_list
        }
        # Children by parent key, so listings of big libraries stay linear.
        self._children: dict[int, list[DemoEpisode]] = {}
        for e in self._episode_list:
            self._children.setdefault(e.show_key, []).append(e)
            self._children.setdefault(e.season_key, []).append(e)
        self._seasons_by_show: dict[int, list[DemoSeason]] = {}
        for season in self._seasons.values():
            self._seasons_by_show.setdefault(season.show_key, []).append(season)

    # ----------------------------------------------------------------- queries
    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def movies(self) -> tuple[DemoMovie, ...]:
        """Every movie, in listing order."""
        with self._lock:
            return self._movie_list

    def shows(self) -> tuple[DemoShow, ...]:
        with self._lock:
            return self._show_list

    def episodes(self) -> tuple[DemoEpisode, ...]:
        """Every episode of every show, in listing order (show, season, episode)."""
        with self._lock:
            return self._episode_list

    def seasons_of(self, show_key: int) -> list[DemoSeason]:
        with self._lock:
            return list(self._seasons_by_show.get(show_key, ()))

    def episodes_of(self, key: int) -> list[DemoEpisode]:
        """Episodes of a show or of a season, by its rating key."""
        with self._lock:
            return list(self._children.get(key, ()))

    def get(self, rating_key: int) -> DemoItem | None:
        """Any item (movie, show, season, episode) by rating key."""
        with self._lock:
            return (
                self._movies.get(rating_key)
                or self._episodes.get(rating_key)
                or self._shows.get(rating_key)
                or self._seasons.get(rating_key)
            )

    def show(self, rating_key: int) -> DemoShow | None:
        with self._lock:
            return self._shows.get(rating_key)

    def season(self, rating_key: int) -> DemoSeason | None:
        with self._lock:
            return self._seasons.get(rating_key)

    @property
    def size(self) -> int:
        """Playable items (movies + episodes)."""
        with self._lock:
            return len(self._movies) + len(self._episodes)

    def tmdb_movie(self, tmdb_or_imdb_id: str) -> DemoMovie | None:
        """The movie TMDb knows by this id (TMDb also accepts IMDb ids on ``/movie``)."""
        with self._lock:
            if tmdb_or_imdb_id.startswith("tt"):
                item = self._by_imdb.get(tmdb_or_imdb_id)
                movie = item if isinstance(item, DemoMovie) else None
            else:
                movie = self._by_tmdb_movie.get(tmdb_or_imdb_id)
            if movie is None or movie.tmdb_id in self.tmdb_missing:
                return None
            return movie

    def tmdb_show(self, tmdb_id: str) -> DemoShow | None:
        with self._lock:
            show = self._by_tmdb_show.get(tmdb_id)
            if show is None or show.tmdb_id in self.tmdb_missing:
                return None
            return show

    def tmdb_episode(self, tmdb_show_id: str, season: int, episode: int) -> DemoEpisode | None:
        with self._lock:
            show = self.tmdb_show(tmdb_show_id)
            if show is None:
                return None
            return self._episode_by_number.get((show.rating_key, season, episode))

    def imdb_title(self, imdb_id: str) -> DemoMovie | DemoShow | DemoEpisode | None:
        with self._lock:
            if imdb_id in self.imdb_missing:
                return None
            return self._by_imdb.get(imdb_id)

    # --------------------------------------------------------------- mutations
    def touch(self, rating_keys: Iterable[int], *, summary: str | None = None, revise: bool = True) -> None:
        """Change the summary of these movies/episodes and bump their ``updatedAt``.

        Without ``summary`` the old one gets a numbered revision mark (replacing
        the last one, so a summary touched often does not grow), so the content
        (and its hash downstream) really changes; with ``revise=False`` only
        ``updatedAt`` moves (Plex does that on a metadata refresh that found nothing new).
        """
        keys = list(rating_keys)
        events: list[LibraryEvent] = []
        with self._lock:
            for key in keys:
                if key not in self._movies and key not in self._episodes:
                    raise KeyError(f"no movie or episode with rating key {key}")  # before any change
            now = int(time.time())
            for key in keys:
                table: dict[int, DemoMovie] | dict[int, DemoEpisode]
                if key in self._movies:
                    table = self._movies
                elif key in self._episodes:
                    table = self._episodes
                else:
                    raise KeyError(f"no movie or episode with rating key {key}")
                old = table[key]
                if summary is not None:
                    new_summary = summary
                elif revise:
                    new_summary = _revised(old.summary)
                else:
                    new_summary = old.summary
                new = replace(old, summary=new_summary, updated_at=max(old.updated_at + 1, now))
                table[key] = new  # type: ignore[index,assignment]
                events.append(LibraryEvent("changed", new))
            self._reindex()
        self._tell(events)

    def remove(self, rating_keys: Iterable[int]) -> list[DemoItem]:
        """Delete movies, episodes, seasons or whole shows (with their episodes); return every item deleted.

        ``KeyError`` for a key the library does not hold, before anything is deleted.
        """
        keys = list(rating_keys)
        gone: list[DemoItem] = []
        with self._lock:
            for key in keys:
                if self.get(key) is None:
                    raise KeyError(f"no item with rating key {key}")
            for key in keys:
                if self.get(key) is None:
                    continue  # already gone with its show or season
                if key in self._movies:
                    gone.append(self._movies.pop(key))
                elif key in self._episodes:
                    gone.append(self._episodes.pop(key))
                elif key in self._seasons:
                    for e in [e for e in self._episodes.values() if e.season_key == key]:
                        gone.append(self._episodes.pop(e.rating_key))
                    gone.append(self._seasons.pop(key))
                elif key in self._shows:
                    for e in [e for e in self._episodes.values() if e.show_key == key]:
                        gone.append(self._episodes.pop(e.rating_key))
                    for s in [s for s in self._seasons.values() if s.show_key == key]:
                        gone.append(self._seasons.pop(s.rating_key))
                    gone.append(self._shows.pop(key))
            self._reindex()
        # Like Plex, a removed show or season is told item by item (its episodes first).
        self._tell([LibraryEvent("removed", item) for item in gone])
        return gone

    def add(self, count: int = 1, *, title: str | None = None) -> list[DemoMovie]:
        """Add ``count`` new movies (with their TMDb and IMDb records); return them.

        Deterministic: the library's seed and how many movies it has added so
        far decide them. ``title`` names the (single) new movie.
        """
        if count < 1 or (title is not None and count != 1):
            raise ValueError(f"add: expected count >= 1 (1 with a title), got {count}")
        with self._lock:
            items = (*self._movies.values(), *self._shows.values(), *self._episodes.values())
            made = generator.more_movies(
                self.seed * 1_000_003 + self._added,
                count,
                next_key=max((*self._movies, *self._shows, *self._seasons, *self._episodes), default=0) + 1,
                first_index=len(self._movies) + self._added,
                taken_ids=[i for item in items for i in (item.tmdb_id, item.imdb_id)],
                taken_titles=[m.title for m in self._movies.values()],
            )
            if title is not None:
                made = [replace(made[0], title=title)]
            now = int(time.time())
            made = [replace(m, added_at=now, updated_at=now) for m in made]
            for movie in made:
                self._movies[movie.rating_key] = movie
            self._added += count
            self._reindex()
        self._tell([LibraryEvent("added", m) for m in made])
        return made

    # --------------------------------------------------------------- listeners
    def subscribe(self, listener: LibraryListener) -> None:
        """Have ``listener`` told of every later change (from the thread that made it)."""
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: LibraryListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _tell(self, events: list[LibraryEvent]) -> None:
        if not events:
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(events)


_REVISION = re.compile(r"\n*\(Revised cut (\d+)\.\)$")


def _revised(summary: str) -> str:
    """``summary`` with its revision mark counted up: ``… (Revised cut 2.)``."""
    found = _REVISION.search(summary)
    n = int(found.group(1)) + 1 if found else 1
    base = summary[: found.start()] if found else summary
    return f"{base}\n\n(Revised cut {n}.)".lstrip()
