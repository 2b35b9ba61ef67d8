"""TMDb lookups for a batch: movies one request each, episodes grouped per show.

* movies: ``/movie/{id}?append_to_response=credits,external_ids`` (TMDb also
  takes an IMDb id there, so legacy-agent items cost no extra lookup);
* episodes: up to 20 appends per ``/tv/{id}?append_to_response=credits,
  season/s/episode/e,...`` request, which also carries the show's details
  (``credits`` takes one of the 20 slots until the show is known).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plex_loader_tui.models import SourceItem

from .cache import request_key
from .client import ServiceClient
from .errors import ServiceError
from .lookups import CachedLookups, Slot, cached_body
from .mapping import tmdb_episode_info, tmdb_imdb_id, tmdb_movie_info
from .shapes import tmdb_movie, tmdb_show

#: TMDb accepts at most 20 ``append_to_response`` entries.
TMDB_APPEND_MAX = 20
MOVIE_APPEND = "credits,external_ids"


class TmdbLookups:
    """Fills the TMDb part of a batch's slots, cache first."""

    def __init__(self, client: ServiceClient, cache: CachedLookups, *, language: str | None, cast_limit: int) -> None:
        self.client = client
        self.cache = cache
        self.cast_limit = cast_limit
        self._language_params = {"language": language} if language else {}

    def _language(self) -> dict[str, str]:
        return dict(self._language_params)

    async def run(self, batch: list[SourceItem], slots: list[Slot]) -> None:
        """Look up every movie and episode of ``batch`` that has a TMDb (or IMDb) id."""
        movies: dict[str, list[int]] = {}
        shows: dict[str, dict[tuple[int, int], list[int]]] = {}
        for i, item in enumerate(batch):
            if item.type == "movie":
                # TMDb's /movie/{id} also takes an IMDb id: legacy-agent items
                # that only know their IMDb id cost no extra lookup.
                movie_id = item.tmdb_id or item.imdb_id
                if movie_id:
                    movies.setdefault(movie_id, []).append(i)
            elif item.type == "episode" and item.show_tmdb_id:
                if item.season_number is None or item.episode_number is None:
                    continue
                episodes = shows.setdefault(item.show_tmdb_id, {})
                episodes.setdefault((item.season_number, item.episode_number), []).append(i)
        if movies:
            await self._movies(movies, slots)
        for show_id, episodes in shows.items():
            await self._show(show_id, episodes, batch, slots)

    async def _movies(self, movies: dict[str, list[int]], slots: list[Slot]) -> None:
        params = {"append_to_response": MOVIE_APPEND, **self._language()}
        keys = {mid: request_key("tmdb", f"/movie/{mid}", params) for mid in movies}
        cached = await self.cache.cached(keys.values())
        stored: list[tuple[str, int, Any]] = []
        try:
            for mid, indexes in movies.items():
                if keys[mid] in cached:
                    body = cached_body(cached[keys[mid]])
                else:
                    try:
                        status, body = await self.client.get_json(f"/movie/{mid}", params, shape=tmdb_movie)
                    except ServiceError as exc:
                        for i in indexes:
                            slots[i].fail(exc)
                        continue
                    stored.append((keys[mid], status, body))
                if body is None:
                    continue  # TMDb does not know this id: not an error
                info = tmdb_movie_info(body, cast_limit=self.cast_limit)
                imdb_id = tmdb_imdb_id(body)
                for i in indexes:
                    slots[i].tmdb = info
                    slots[i].imdb_id_from_tmdb = imdb_id
        finally:
            await self.cache.store(stored)

    async def _show(
        self,
        show_id: str,
        episodes: dict[tuple[int, int], list[int]],
        batch: list[SourceItem],
        slots: list[Slot],
    ) -> None:
        """All episodes of one show in a batch: cached ones, then 20 per request."""
        language = self._language()
        show_params = {"append_to_response": "credits", **language}
        show_key = request_key("tmdb", f"/tv/{show_id}", show_params)
        ep_keys = {
            (s, e): request_key("tmdb", f"/tv/{show_id}/season/{s}/episode/{e}", language) for s, e in episodes
        }
        cached = await self.cache.cached([show_key, *ep_keys.values()])
        show: Any = cached_body(cached[show_key]) if show_key in cached else None
        have_show = show_key in cached
        show_error: ServiceError | None = None
        found: dict[tuple[int, int], Any] = {}
        failed: dict[tuple[int, int], ServiceError] = {}
        for pair, key in ep_keys.items():
            if key in cached:
                found[pair] = cached_body(cached[key])
        missing = [pair for pair in episodes if pair not in found]
        if have_show and show is None:
            # TMDb does not know the show (cached 404): nor its episodes.
            found.update((pair, None) for pair in missing)
            missing = []
        stored: list[tuple[str, int, Any]] = []
        try:
            while missing:
                # The first request for a show also asks for its credits.
                room = TMDB_APPEND_MAX - (0 if have_show else 1)
                chunk, missing = missing[:room], missing[room:]
                appends = [f"season/{s}/episode/{e}" for s, e in chunk]
                if not have_show:
                    appends.insert(0, "credits")
                try:
                    status, body = await self.client.get_json(
                        f"/tv/{show_id}", {"append_to_response": ",".join(appends), **language}, shape=tmdb_show
                    )
                except ServiceError as exc:
                    failed.update((pair, exc) for pair in chunk)
                    continue
                if status == 404 or body is None:
                    show, have_show = None, True
                    stored.append((show_key, 404, None))
                    for pair in chunk:
                        found[pair] = None
                        stored.append((ep_keys[pair], 404, None))
                    continue
                if not have_show:
                    show, have_show = {k: v for k, v in body.items() if not k.startswith("season/")}, True
                    stored.append((show_key, 200, show))
                for pair in chunk:
                    episode = body.get(f"season/{pair[0]}/episode/{pair[1]}")
                    # TMDb reports an unknown appended episode as an error object.
                    if not isinstance(episode, Mapping) or episode.get("success") is False:
                        episode = None
                    found[pair] = episode
                    stored.append((ep_keys[pair], 200 if episode is not None else 404, episode))
            if not have_show and any(found.get(pair) is not None for pair in episodes):
                # The episodes came from the cache but the show's details did not.
                try:
                    status, show = await self.client.get_json(f"/tv/{show_id}", show_params, shape=tmdb_show)
                    stored.append((show_key, status, show))
                except ServiceError as exc:
                    show, show_error = None, exc
        finally:
            await self.cache.store(stored)
        for pair, indexes in episodes.items():
            for i in indexes:
                if pair in failed:
                    slots[i].fail(failed[pair])
                    continue
                episode = found.get(pair)
                if episode is None:
                    continue  # unknown to TMDb: not an error
                if show_error is not None:
                    slots[i].fail(show_error)
                slots[i].tmdb = tmdb_episode_info(
                    episode, show, tmdb_id=batch[i].tmdb_id or "", cast_limit=self.cast_limit
                )
