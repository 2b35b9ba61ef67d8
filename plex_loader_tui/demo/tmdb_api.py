"""TMDb v3 for the demo server, under ``/tmdb/3``.

``/movie/{id}`` (a TMDb or an IMDb id), ``/tv/{id}``, ``/tv/{id}/season/{s}``,
``/tv/{id}/season/{s}/episode/{e}`` and ``/find/{external_id}``, with
``append_to_response`` (credits, external ids, seasons and episodes) and TMDb's
own JSON shapes and error bodies.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable

from .fake_ids import image_path, person_id
from .items import Credit, DemoEpisode, DemoMovie, DemoSeason, DemoShow
from .library import DemoLibrary
from .replies import TMDB_404, Reply, json_reply, tmdb_error

#: TMDb accepts at most this many ``append_to_response`` entries.
TMDB_MAX_APPEND = 20

#: TMDb's own genre ids, so the TMDb answers carry realistic ``genres[{id,name}]``.
GENRE_IDS: dict[str, int] = {
    "Action": 28,
    "Adventure": 12,
    "Animation": 16,
    "Comedy": 35,
    "Crime": 80,
    "Documentary": 99,
    "Drama": 18,
    "Family": 10751,
    "Fantasy": 14,
    "History": 36,
    "Horror": 27,
    "Music": 10402,
    "Mystery": 9648,
    "Romance": 10749,
    "Science Fiction": 878,
    "Thriller": 53,
    "War": 10752,
    "Western": 37,
}


def _tmdb_genres(genres: Iterable[str]) -> list[dict[str, object]]:
    return [{"id": GENRE_IDS.get(g, 18), "name": g} for g in genres]


def _tmdb_cast(credits: Iterable[Credit]) -> list[dict[str, object]]:
    return [
        {
            "adult": False,
            "gender": 0,
            "id": person_id(c.name),
            "known_for_department": "Acting",
            "name": c.name,
            "original_name": c.name,
            "popularity": round((person_id(c.name) % 500) / 10, 3),
            "profile_path": None,
            "cast_id": i + 1,
            "character": c.character or "",
            "credit_id": f"{zlib.crc32((c.name + str(i)).encode()):024x}",
            "order": i,
        }
        for i, c in enumerate(credits)
    ]


def _tmdb_crew(directors: Iterable[str], writers: Iterable[str], writer_job: str = "Screenplay") -> list[dict[str, object]]:
    crew: list[dict[str, object]] = []
    for name, job, dept in [(d, "Director", "Directing") for d in directors] + [
        (w, writer_job, "Writing") for w in writers
    ]:
        crew.append(
            {
                "adult": False,
                "gender": 0,
                "id": person_id(name),
                "known_for_department": dept,
                "name": name,
                "original_name": name,
                "profile_path": None,
                "credit_id": f"{zlib.crc32((name + job).encode()):024x}",
                "department": dept,
                "job": job,
            }
        )
    return crew


class TmdbRoutes:
    """TMDb v3 JSON for the demo library."""

    _movie = re.compile(r"^/movie/([^/]+)$")
    _tv = re.compile(r"^/tv/(\d+)$")
    _season = re.compile(r"^/tv/(\d+)/season/(\d+)$")
    _episode = re.compile(r"^/tv/(\d+)/season/(\d+)/episode/(\d+)$")
    _find = re.compile(r"^/find/([^/]+)$")
    _append_episode = re.compile(r"^season/(\d+)/episode/(\d+)$")
    _append_season = re.compile(r"^season/(\d+)$")

    def __init__(self, library: DemoLibrary) -> None:
        self.lib = library

    def route(self, path: str, query: dict[str, list[str]]) -> Reply:
        """Answer a GET of ``path`` (relative to ``/tmdb/3``); errors are raised as TMDb's."""
        appends = [a.strip() for a in ",".join(query.get("append_to_response", [])).split(",") if a.strip()]
        if len(appends) > TMDB_MAX_APPEND:
            raise tmdb_error(400, 47, f"The input is not valid: append_to_response takes at most {TMDB_MAX_APPEND} items.")
        if m := self._movie.match(path):
            movie = self.lib.tmdb_movie(m.group(1))
            if movie is None:
                raise tmdb_error(404, *TMDB_404)
            return json_reply(200, self.movie(movie, appends))
        if m := self._tv.match(path):
            show = self.lib.tmdb_show(m.group(1))
            if show is None:
                raise tmdb_error(404, *TMDB_404)
            return json_reply(200, self.tv(show, appends))
        if m := self._season.match(path):
            show = self.lib.tmdb_show(m.group(1))
            season = self._season_of(show, int(m.group(2))) if show else None
            if show is None or season is None:
                raise tmdb_error(404, *TMDB_404)
            return json_reply(200, self.season(show, season))
        if m := self._episode.match(path):
            episode = self.lib.tmdb_episode(m.group(1), int(m.group(2)), int(m.group(3)))
            if episode is None:
                raise tmdb_error(404, *TMDB_404)
            return json_reply(200, self.episode(episode, appends))
        if m := self._find.match(path):
            return json_reply(200, self.find(m.group(1), (query.get("external_source") or [""])[-1]))
        raise tmdb_error(404, *TMDB_404)

    def movie(self, m: DemoMovie, appends: list[str]) -> dict[str, object]:
        out: dict[str, object] = {
            "adult": False,
            "backdrop_path": image_path("b" + m.tmdb_id),
            "belongs_to_collection": None,
            "budget": (int(m.tmdb_id) % 90 + 1) * 1_000_000,
            "genres": _tmdb_genres(m.genres),
            "homepage": "",
            "id": int(m.tmdb_id),
            "imdb_id": m.imdb_id,
            "origin_country": ["US"],
            "original_language": "en",
            "original_title": m.title,
            "overview": m.external.tmdb_overview,
            "popularity": round(m.external.vote_count / 137, 3),
            "poster_path": image_path("p" + m.tmdb_id),
            "production_companies": [
                {"id": zlib.crc32(m.studio.encode()) % 100_000, "logo_path": None, "name": m.studio, "origin_country": "US"}
            ],
            "production_countries": [{"iso_3166_1": "US", "name": c} for c in m.countries],
            "release_date": m.released,
            "revenue": (int(m.tmdb_id) % 300) * 1_000_000,
            "runtime": m.external.runtime_min,
            "spoken_languages": [{"english_name": "English", "iso_639_1": "en", "name": "English"}],
            "status": "Released",
            "tagline": m.tagline,
            "title": m.title,
            "video": False,
            "vote_average": m.external.vote_average,
            "vote_count": m.external.vote_count,
        }
        if "credits" in appends:
            out["credits"] = {
                "cast": _tmdb_cast(m.cast),
                "crew": _tmdb_crew(m.directors, m.writers),
            }
        if "external_ids" in appends:
            out["external_ids"] = {
                "imdb_id": m.imdb_id,
                "wikidata_id": None,
                "facebook_id": None,
                "instagram_id": None,
                "twitter_id": None,
            }
        return out

    def _season_of(self, show: DemoShow | None, number: int) -> DemoSeason | None:
        if show is None:
            return None
        for season in self.lib.seasons_of(show.rating_key):
            if season.index == number:
                return season
        return None

    def tv(self, s: DemoShow, appends: list[str]) -> dict[str, object]:
        seasons = self.lib.seasons_of(s.rating_key)
        episodes = self.lib.episodes_of(s.rating_key)
        out: dict[str, object] = {
            "adult": False,
            "backdrop_path": image_path("b" + s.tmdb_id),
            "created_by": [{"id": person_id(n), "name": n, "original_name": n} for n in s.creators],
            "episode_run_time": [s.external.runtime_min],
            "first_air_date": s.first_aired,
            "genres": _tmdb_genres(s.genres),
            "homepage": "",
            "id": int(s.tmdb_id),
            "in_production": False,
            "languages": ["en"],
            "last_air_date": max((e.aired for e in episodes), default=s.first_aired),
            "name": s.title,
            "networks": [{"id": zlib.crc32(s.studio.encode()) % 1000, "name": s.studio, "origin_country": "US"}],
            "number_of_episodes": len(episodes),
            "number_of_seasons": len(seasons),
            "origin_country": ["US"],
            "original_language": "en",
            "original_name": s.title,
            "overview": s.external.tmdb_overview,
            "popularity": round(s.external.vote_count / 137, 3),
            "poster_path": image_path("p" + s.tmdb_id),
            "seasons": [
                {
                    "air_date": s.first_aired,
                    "episode_count": sum(1 for e in episodes if e.season_key == season.rating_key),
                    "id": season.rating_key * 7,
                    "name": season.title,
                    "overview": "",
                    "poster_path": None,
                    "season_number": season.index,
                }
                for season in seasons
            ],
            "status": "Ended",
            "tagline": s.tagline,
            "type": "Scripted",
            "vote_average": s.external.vote_average,
            "vote_count": s.external.vote_count,
        }
        for key in appends:
            if key == "credits":
                out["credits"] = {"cast": _tmdb_cast(s.cast), "crew": _tmdb_crew((), s.creators, "Creator")}
            elif key == "external_ids":
                out["external_ids"] = {"imdb_id": s.imdb_id, "tvdb_id": int(s.tvdb_id), "wikidata_id": None}
            elif m := self._append_episode.match(key):
                # Like TMDb: an appended episode that does not exist is left out.
                episode = self.lib.tmdb_episode(s.tmdb_id, int(m.group(1)), int(m.group(2)))
                if episode is not None:
                    out[key] = self.episode(episode, [])
            elif m := self._append_season.match(key):
                season = self._season_of(s, int(m.group(1)))
                if season is not None:
                    out[key] = self.season(s, season)
        return out

    def season(self, show: DemoShow, season: DemoSeason) -> dict[str, object]:
        return {
            "_id": f"{season.rating_key:024x}",
            "air_date": show.first_aired,
            "episodes": [self.episode(e, []) for e in self.lib.episodes_of(season.rating_key)],
            "id": season.rating_key * 7,
            "name": season.title,
            "overview": "",
            "poster_path": None,
            "season_number": season.index,
            "vote_average": show.external.vote_average,
        }

    def episode(self, e: DemoEpisode, appends: list[str]) -> dict[str, object]:
        show = self.lib.show(e.show_key)
        out: dict[str, object] = {
            "air_date": e.aired,
            "crew": _tmdb_crew(e.directors, e.writers, "Writer"),
            "episode_number": e.index,
            "episode_type": "standard",
            "guest_stars": _tmdb_cast(e.guests),
            "id": int(e.tmdb_id),
            "name": e.title,
            "overview": e.external.tmdb_overview,
            "production_code": "",
            "runtime": e.external.runtime_min,
            "season_number": e.season_index,
            "show_id": int(show.tmdb_id) if show else None,
            "still_path": image_path("s" + e.tmdb_id),
            "vote_average": e.external.vote_average,
            "vote_count": e.external.vote_count,
        }
        if "external_ids" in appends:
            out["external_ids"] = {"imdb_id": e.imdb_id, "tvdb_id": int(e.tvdb_id), "wikidata_id": None}
        if "credits" in appends:
            out["credits"] = {"cast": [], "crew": out["crew"], "guest_stars": out["guest_stars"]}
        return out

    def find(self, external_id: str, source: str) -> dict[str, object]:
        result: dict[str, list[object]] = {
            "movie_results": [],
            "person_results": [],
            "tv_results": [],
            "tv_episode_results": [],
            "tv_season_results": [],
        }
        if source != "imdb_id":
            return result
        item = self.lib.imdb_title(external_id)
        if isinstance(item, DemoMovie) and self.lib.tmdb_movie(item.tmdb_id):
            movie = self.movie(item, [])
            result["movie_results"].append(
                {k: movie[k] for k in ("id", "title", "original_title", "overview", "release_date", "poster_path", "vote_average", "vote_count")}
                | {"media_type": "movie", "genre_ids": [g["id"] for g in movie["genres"]]}  # type: ignore[index,union-attr]
            )
        elif isinstance(item, DemoShow) and self.lib.tmdb_show(item.tmdb_id):
            result["tv_results"].append(
                {"id": int(item.tmdb_id), "name": item.title, "overview": item.external.tmdb_overview,
                 "first_air_date": item.first_aired, "media_type": "tv"}
            )
        elif isinstance(item, DemoEpisode):
            result["tv_episode_results"].append(self.episode(item, []) | {"media_type": "tv_episode"})
        return result

