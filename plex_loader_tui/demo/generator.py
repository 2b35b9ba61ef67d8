"""Generating a demo library from a seed and a size.

:func:`generate` draws every title, summary, person, id and date from one
seeded RNG over the tables of :mod:`.words`, so the same seed and size give
the same items, byte for byte. The order of the draws is part of that
contract: reordering any of them changes every library.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from .items import Credit, DemoEpisode, DemoMovie, DemoSeason, DemoShow, ExternalRatings
from .words import (
    CITIES,
    COUNTRIES,
    ENDINGS,
    EVENTS,
    FIRST_NAMES,
    LAST_NAMES,
    MOVIE_RATINGS,
    NETWORKS,
    OBJECTS,
    PLACES,
    PREMISES,
    PROFESSIONS,
    SPECIAL_MOVIE_TITLES,
    SPECIAL_SHOW_TITLES,
    STUDIOS,
    TAGLINES,
    THEMES,
    TITLE_ADJECTIVES,
    TITLE_NOUNS,
    TV_RATINGS,
)

_EPOCH = 1_577_836_800  # 2020-01-01: addedAt values count up from here
#: Rating keys count up from here (movies first, then shows, seasons and episodes).
_FIRST_KEY = 1001


@dataclass(slots=True)
class GeneratedLibrary:
    """What :func:`generate` makes: the items, and the ids TMDb and IMDb answer 404 for."""

    movies: list[DemoMovie] = field(default_factory=list)
    shows: list[DemoShow] = field(default_factory=list)
    seasons: list[DemoSeason] = field(default_factory=list)
    episodes: list[DemoEpisode] = field(default_factory=list)
    tmdb_missing: list[str] = field(default_factory=list)
    imdb_missing: list[str] = field(default_factory=list)


def _article(noun: str) -> str:
    return "an" if noun[0].lower() in "aeiou" else "a"


class _Gen:
    """Generation helpers around one seeded RNG (kept out of the library's API)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._titles: set[str] = set()
        self._imdb: set[int] = set()
        self._tmdb: set[int] = set()

    def flavour(self, i: int) -> str:
        """What kind of item number ``i`` is: ``modern``, or one of the awkward cases."""
        # The first few items cover every case so that small libraries
        # (tests use 20-60 items) still contain each of them.
        forced = {1: "legacy-imdb", 2: "legacy-tmdb", 3: "no-ids", 4: "no-summary", 5: "tmdb-404", 6: "imdb-404"}
        if i in forced:
            return forced[i]
        x = self.rng.random()
        for name, share in (
            ("legacy-imdb", 0.06), ("legacy-tmdb", 0.06), ("no-ids", 0.08),
            ("no-summary", 0.06), ("tmdb-404", 0.03), ("imdb-404", 0.03),
        ):
            if x < share:
                return name
            x -= share
        return "modern"

    def reserve(self, ids: Iterable[str], titles: Iterable[str]) -> None:
        """Never hand out these TMDb/IMDb ids or titles (they exist already)."""
        for ident in ids:
            if ident.startswith("tt") and ident[2:].isdigit():
                self._imdb.add(int(ident[2:]))
            elif ident.isdigit():
                self._tmdb.add(int(ident))
        self._titles.update(titles)

    def hexid(self) -> str:
        return f"{self.rng.getrandbits(96):024x}"

    def imdb(self) -> str:
        while True:
            n = self.rng.randrange(100_000, 9_999_999)
            if n not in self._imdb:
                self._imdb.add(n)
                return f"tt{n:07d}"

    def tmdb(self) -> str:
        while True:
            n = self.rng.randrange(100, 999_999)
            if n not in self._tmdb:
                self._tmdb.add(n)
                return str(n)

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def people(self, lo: int, hi: int) -> tuple[str, ...]:
        names: list[str] = []
        for _ in range(self.rng.randint(lo, hi)):
            name = self.person()
            if name not in names:
                names.append(name)
        return tuple(names)

    def cast(self, lo: int, hi: int) -> tuple[Credit, ...]:
        credits: list[Credit] = []
        seen: set[str] = set()
        for _ in range(self.rng.randint(lo, hi)):
            name = self.person()
            if name in seen:
                continue
            seen.add(name)
            character = self.rng.choice(
                (self.person(), f"The {self.rng.choice(PROFESSIONS).title()}", self.rng.choice(FIRST_NAMES))
            )
            credits.append(Credit(name, character))
        return tuple(credits)

    def title(self, special: str | None = None) -> str:
        if special is not None and special not in self._titles:
            self._titles.add(special)
            return special
        for _ in range(50):
            pattern = self.rng.randrange(5)
            if pattern == 0:
                t = f"The {self.rng.choice(TITLE_ADJECTIVES)} {self.rng.choice(TITLE_NOUNS)}"
            elif pattern == 1:
                t = f"{self.rng.choice(TITLE_NOUNS)} of {self.rng.choice(CITIES)}"
            elif pattern == 2:
                t = f"{self.rng.choice(FIRST_NAMES)}'s {self.rng.choice(TITLE_NOUNS)}"
            elif pattern == 3:
                t = f"{self.rng.choice(TITLE_ADJECTIVES)} {self.rng.choice(TITLE_NOUNS)}s"
            else:
                t = f"A {self.rng.choice(TITLE_NOUNS)} in {self.rng.choice(CITIES)}"
            if t not in self._titles:
                self._titles.add(t)
                return t
        # Vocabulary exhausted for this pattern mix: number the sequel.
        base = f"The {self.rng.choice(TITLE_ADJECTIVES)} {self.rng.choice(TITLE_NOUNS)}"
        n = 2
        while f"{base} {n}" in self._titles:
            n += 1
        self._titles.add(f"{base} {n}")
        return f"{base} {n}"

    def summary(self, genres: tuple[str, ...], paragraphs: int) -> str:
        r = self.rng
        hero = self.person()
        job = r.choice(PROFESSIONS)
        first = (
            f"{hero}, {_article(job)} {job} in {r.choice(PLACES)}, {r.choice(EVENTS)}. "
            f"{r.choice(PREMISES[genres[0]])}"
        )
        second = (
            f"Helped by {self.person()} and haunted by {r.choice(OBJECTS)}, "
            f"{hero.split()[0]} must decide who to trust. {r.choice(THEMES)}."
        )
        third = f"{r.choice(ENDINGS)} {r.choice(PREMISES[r.choice(genres)])}"
        return "\n\n".join((first, second, third)[:paragraphs])

    def external(self, genres: tuple[str, ...], runtime: int) -> ExternalRatings:
        r = self.rng
        overview = (
            f"When {self.person()} {r.choice(EVENTS)}, nothing in {r.choice(PLACES)} stays the same. "
            f"{r.choice(PREMISES[genres[0]])}"
        )
        job = r.choice(PROFESSIONS)
        plot = f"{_article(job).capitalize()} {job} {r.choice(EVENTS)} and is drawn into a story of {r.choice(OBJECTS)}."
        return ExternalRatings(
            tmdb_overview=overview,
            vote_average=round(r.uniform(4.5, 8.9), 1),
            vote_count=r.randrange(20, 25_000),
            imdb_plot=plot,
            imdb_rating=round(r.uniform(4.0, 9.2), 1),
            imdb_votes=r.randrange(50, 900_000),
            runtime_min=runtime,
        )


def generate(seed: int, size: int) -> GeneratedLibrary:
    """Make ``size`` playable items (about 60% movies, 40% episodes) from ``seed``.

    See :meth:`~plex_loader_tui.demo.library.DemoLibrary.generate` for the
    shares of awkward cases.
    """
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    g = _Gen(seed)
    n_movies = round(size * 0.6) if size >= 2 else size
    out = GeneratedLibrary()
    next_key = _add_movies(g, out, n_movies, _FIRST_KEY)
    _add_shows(g, out, size - n_movies, next_key)
    return out


def more_movies(seed: int, count: int, next_key: int, first_index: int,
                taken_ids: Iterable[str] = (), taken_titles: Iterable[str] = ()) -> list[DemoMovie]:
    """``count`` new movies for a library that grows while it is served (``DemoLibrary.add``).

    Deterministic in ``seed``; their rating keys start at ``next_key``, and
    ``first_index`` (how many movies the library has made so far) keeps them
    out of the forced awkward cases of the first few. Their ids and titles
    avoid ``taken_ids`` (TMDb and IMDb ids) and ``taken_titles``.
    """
    g = _Gen(seed)
    g.reserve(taken_ids, taken_titles)
    out = GeneratedLibrary()
    _add_movies(g, out, count, next_key, first_index)
    return out.movies


def _add_movies(g: _Gen, out: GeneratedLibrary, n_movies: int, next_key: int, first_index: int = 0) -> int:
    """Add ``n_movies`` movies to ``out``; return the next free rating key."""
    r = g.rng
    movies, tmdb_missing, imdb_missing = out.movies, out.tmdb_missing, out.imdb_missing
    for i in range(first_index, first_index + n_movies):
        kind = g.flavour(i)
        genres = tuple(r.sample(sorted(PREMISES), r.randint(1, 3)))
        year = r.randint(1950, 2025)
        imdb_id, tmdb_id = g.imdb(), g.tmdb()
        special = SPECIAL_MOVIE_TITLES[i // 7] if i % 7 == 0 and i // 7 < len(SPECIAL_MOVIE_TITLES) else None
        title = g.title(special)
        runtime = r.randint(78, 175)
        added = _EPOCH + i * 5400 + r.randrange(3600)
        if kind == "legacy-imdb":
            guid, guids = f"com.plexapp.agents.imdb://{imdb_id}?lang=en", ()
        elif kind == "legacy-tmdb":
            guid, guids = f"com.plexapp.agents.themoviedb://{tmdb_id}?lang=en", ()
        elif kind == "no-ids":
            guid, guids = f"plex://movie/{g.hexid()}", ()
        else:
            guid, guids = f"plex://movie/{g.hexid()}", (f"imdb://{imdb_id}", f"tmdb://{tmdb_id}")
        if kind == "tmdb-404":
            tmdb_missing.append(tmdb_id)
        if kind == "imdb-404":
            imdb_missing.append(imdb_id)
        movies.append(
            DemoMovie(
                rating_key=next_key,
                guid=guid,
                guids=guids,
                title=title,
                year=year,
                summary="" if kind == "no-summary" else g.summary(genres, r.randint(2, 3)),
                tagline=r.choice(TAGLINES) if r.random() < 0.8 else "",
                content_rating=r.choice(MOVIE_RATINGS),
                studio=r.choice(STUDIOS),
                genres=genres,
                directors=g.people(1, 2),
                writers=g.people(1, 3),
                cast=g.cast(3, 9),
                countries=(r.choice(COUNTRIES),),
                imdb_id=imdb_id,
                tmdb_id=tmdb_id,
                released=f"{year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                duration_ms=runtime * 60_000,
                rating=round(r.uniform(3.0, 9.8), 1),
                audience_rating=round(r.uniform(3.0, 9.8), 1),
                added_at=added,
                updated_at=added + r.randrange(0, 86_400 * 30),
                external=g.external(genres, runtime),
                collections=_collections(i, genres),
            )
        )
        next_key += 1
    return next_key


def _collections(i: int, genres: tuple[str, ...]) -> tuple[str, ...]:
    """Every third movie is in its first genre's collection, every tenth in a second one too.

    Derived from the index and the genres, never from the generator's RNG: the
    rest of the library stays what it was for the same seed and size.
    """
    found: list[str] = []
    if i % 3 == 0:
        found.append(f"{genres[0].title()} Collection")
    if i % 10 == 0:
        found.append("Staff Picks")
    return tuple(found)


def _add_shows(g: _Gen, out: GeneratedLibrary, n_episodes: int, next_key: int) -> None:
    """Add shows with seasons and episodes to ``out`` until it has ``n_episodes`` episodes."""
    r = g.rng
    shows, seasons, episodes = out.shows, out.seasons, out.episodes
    tmdb_missing, imdb_missing = out.tmdb_missing, out.imdb_missing
    show_i = 0
    while len(episodes) < n_episodes:
        kind = g.flavour(show_i)
        genres = tuple(r.sample(sorted(PREMISES), r.randint(1, 2)))
        year = r.randint(1985, 2024)
        imdb_id, tmdb_id, tvdb_id = g.imdb(), g.tmdb(), str(r.randrange(70_000, 450_000))
        special = SPECIAL_SHOW_TITLES[show_i] if show_i < len(SPECIAL_SHOW_TITLES) else None
        legacy = kind in ("legacy-imdb", "legacy-tmdb")
        no_ids = kind == "no-ids"
        if kind == "tmdb-404":
            tmdb_missing.append(tmdb_id)
        if legacy:
            show_guid, show_guids = f"com.plexapp.agents.themoviedb://{tmdb_id}?lang=en", ()
        elif no_ids:
            show_guid, show_guids = f"plex://show/{g.hexid()}", ()
        else:
            show_guid = f"plex://show/{g.hexid()}"
            show_guids = (f"imdb://{imdb_id}", f"tmdb://{tmdb_id}", f"tvdb://{tvdb_id}")
        show_key = next_key
        next_key += 1
        added = _EPOCH + 86_400 * 40 + show_i * 86_400 + r.randrange(3600)
        show = DemoShow(
            rating_key=show_key,
            guid=show_guid,
            guids=show_guids,
            title=g.title(special),
            year=year,
            summary=g.summary(genres, 2),
            tagline="",
            content_rating=r.choice(TV_RATINGS),
            studio=r.choice(NETWORKS),
            genres=genres,
            cast=g.cast(4, 8),
            creators=g.people(1, 2),
            imdb_id=imdb_id,
            tmdb_id=tmdb_id,
            tvdb_id=tvdb_id,
            first_aired=f"{year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
            added_at=added,
            updated_at=added,
            external=g.external(genres, 45),
        )
        shows.append(show)
        for s_index in range(1, r.randint(1, 3) + 1):
            if len(episodes) >= n_episodes:
                break
            season_key = next_key
            next_key += 1
            seasons.append(
                DemoSeason(
                    rating_key=season_key,
                    show_key=show_key,
                    index=s_index,
                    title=f"Season {s_index}",
                    guid=f"plex://season/{g.hexid()}",
                    added_at=added,
                    updated_at=added,
                )
            )
            for e_index in range(1, r.randint(3, 8) + 1):
                if len(episodes) >= n_episodes:
                    break
                n = len(episodes)
                e_kind = "no-summary" if r.random() < 0.06 else ("imdb-404" if r.random() < 0.03 else "ok")
                ep_imdb, ep_tmdb, ep_tvdb = g.imdb(), str(r.randrange(1_000_000, 5_000_000)), str(
                    r.randrange(1_000_000, 9_000_000)
                )
                if e_kind == "imdb-404":
                    imdb_missing.append(ep_imdb)
                if legacy:
                    ep_guid = f"com.plexapp.agents.themoviedb://{tmdb_id}/{s_index}/{e_index}?lang=en"
                    ep_guids: tuple[str, ...] = ()
                elif no_ids:
                    ep_guid, ep_guids = f"plex://episode/{g.hexid()}", ()
                else:
                    ep_guid = f"plex://episode/{g.hexid()}"
                    ep_guids = (f"imdb://{ep_imdb}", f"tmdb://{ep_tmdb}", f"tvdb://{ep_tvdb}")
                ep_year = min(2025, year + s_index - 1)
                ep_added = added + n * 1800
                runtime = r.randint(22, 62)
                episodes.append(
                    DemoEpisode(
                        rating_key=next_key,
                        guid=ep_guid,
                        guids=ep_guids,
                        show_key=show_key,
                        season_key=season_key,
                        season_index=s_index,
                        index=e_index,
                        title=g.title(),
                        year=ep_year,
                        summary="" if e_kind == "no-summary" else g.summary(genres, r.randint(2, 3)),
                        content_rating=show.content_rating,
                        directors=g.people(1, 1),
                        writers=g.people(1, 2),
                        guests=g.cast(1, 4),
                        imdb_id=ep_imdb,
                        tmdb_id=ep_tmdb,
                        tvdb_id=ep_tvdb,
                        aired=f"{ep_year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                        duration_ms=runtime * 60_000,
                        rating=round(r.uniform(5.0, 9.6), 1),
                        added_at=ep_added,
                        updated_at=ep_added + r.randrange(0, 86_400),
                        external=g.external(genres, runtime),
                    )
                )
                next_key += 1
        show_i += 1
