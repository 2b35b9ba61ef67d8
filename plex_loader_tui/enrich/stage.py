"""The enrichment stage: :class:`SourceItem` batches in, :class:`EnrichedItem` lists out.

:meth:`Enricher.enrich` is a coroutine; the engine runs it on the event loop,
one call per worker at a time. Inside a call, the TMDb lookups and the IMDb
lookups run side by side, each as a sequence of requests, so the *worker
count* is the stage's concurrency dial and the shared per-service rate
limiters keep the total under the configured rates whatever it is set to.

Requests per batch are as few as the APIs allow:

* IMDb: ``/titles:batchGet`` with up to 5 ids per request;
* TMDb movies: one ``/movie/{id}?append_to_response=credits,external_ids``;
* TMDb episodes: grouped by show, up to 20 appends per
  ``/tv/{id}?append_to_response=credits,season/s/episode/e,...`` request,
  which also carries the show's own details and regular cast at no extra
  cost (``credits`` takes one of the 20 slots until the show is known);
* movies with only an IMDb id are looked up as ``/movie/{imdb id}`` (TMDb
  takes both); IMDb ids that only TMDb reveals get an IMDb lookup afterwards.

Every answer is cached per title (a combined episode answer is stored as one
entry per episode plus one for the show), so later batches and later runs
only ask for what they have not seen, however the items are batched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from plex_loader_tui.models import (
    EnrichedItem,
    EnrichError,
    ImdbInfo,
    SourceItem,
    TmdbInfo,
)
from plex_loader_tui.pipeline import FatalError, StageStatus
from plex_loader_tui.secrets import mask

from .cache import CachedResponse, ResponseCache, request_key
from .client import Service, ServiceClient, build_http_client
from .errors import ServiceError
from .mapping import imdb_title_info, tmdb_episode_info, tmdb_imdb_id, tmdb_movie_info
from .ratelimit import RateLimiter, RateLimiterState
from .settings import EnrichSettings

logger = logging.getLogger(__name__)

#: imdbapi.dev answers at most 5 ids per ``titles:batchGet``.
IMDB_BATCH_MAX = 5
#: TMDb accepts at most 20 ``append_to_response`` entries.
TMDB_APPEND_MAX = 20
MOVIE_APPEND = "credits,external_ids"


@dataclass(frozen=True, slots=True)
class EnrichStats:
    """Running totals of one :class:`Enricher` (for summaries and the benchmark)."""

    tmdb_requests: int = 0
    imdb_requests: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    retries: int = 0
    rate_limited: int = 0
    failed_requests: int = 0
    items: int = 0
    items_with_tmdb: int = 0
    items_with_imdb: int = 0
    items_with_errors: int = 0

    @property
    def requests(self) -> int:
        """Requests sent to both services (retries included)."""
        return self.tmdb_requests + self.imdb_requests


@dataclass(slots=True)
class _Slot:
    """What one item of a batch has collected so far."""

    tmdb: TmdbInfo | None = None
    imdb: ImdbInfo | None = None
    imdb_id_from_tmdb: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def fail(self, service: str, message: str) -> None:
        self.errors.setdefault(service, message)


@dataclass(slots=True)
class _Lookup:
    """Answers of one pass: found bodies (None = not found) and failures, by id."""

    found: dict[Any, Any] = field(default_factory=dict)
    failed: dict[Any, str] = field(default_factory=dict)


def _chunks(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def _body(entry: CachedResponse) -> Any:
    return entry.data if entry.status == 200 else None


class Enricher:
    """Adds TMDb and IMDb metadata to items; the enrichment stage's function is :meth:`enrich`.

    ``tmdb_client`` / ``imdb_client`` are optional ``httpx.AsyncClient``s to
    use instead of building one per service (the Enricher then does not close
    them). ``cache`` replaces the cache built from ``settings.cache_path``.
    Use it as an async context manager, or call :meth:`aclose`.
    """

    def __init__(
        self,
        settings: EnrichSettings,
        *,
        tmdb_client: httpx.AsyncClient | None = None,
        imdb_client: httpx.AsyncClient | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self.settings = settings
        self._owned_http: list[httpx.AsyncClient] = []
        self._owned_cache = cache is None and settings.cache_enabled
        self.cache: ResponseCache | None = cache
        if self._owned_cache:
            assert settings.cache_path is not None
            self.cache = ResponseCache(settings.cache_path, settings.cache_ttl)
        self.limiters: dict[str, RateLimiter] = {}
        self.tmdb: ServiceClient | None = None
        if settings.tmdb_enabled:
            self.tmdb = self._service("tmdb", settings.tmdb_base_url, tmdb_client, settings.tmdb_rate, settings.tmdb_burst)
        else:
            logger.warning(
                "TMDb enrichment is off: no TMDb API key (set --tmdb-api-key or TMDB_API_KEY); "
                "items get IMDb data only"
            )
        self.imdb = self._service("imdb", settings.imdb_base_url, imdb_client, settings.imdb_rate, settings.imdb_burst)
        self._fatal: FatalError | None = None
        self._cache_hits = 0
        self._cache_misses = 0
        self._items = 0
        self._items_tmdb = 0
        self._items_imdb = 0
        self._items_errors = 0

    def _service(
        self,
        service: Service,
        base_url: str,
        http: httpx.AsyncClient | None,
        rate: float,
        burst: float | None,
    ) -> ServiceClient:
        s = self.settings
        if http is None:
            http = build_http_client(base_url, timeout=s.timeout, max_connections=s.max_connections)
            self._owned_http.append(http)
        limiter = RateLimiter(rate, burst=burst, name={"tmdb": "TMDb", "imdb": "IMDb"}[service])
        self.limiters[service] = limiter
        is_tmdb = service == "tmdb"
        return ServiceClient(
            service,
            base_url,
            http,
            limiter,
            attempts=s.attempts,
            rate_limit_retries=s.rate_limit_retries,
            backoff_initial=s.backoff_initial,
            backoff_max=s.backoff_max,
            max_retry_after=s.max_retry_after,
            api_key=s.tmdb_api_key if is_tmdb else None,
            bearer=is_tmdb and s.tmdb_uses_bearer,
        )

    def __repr__(self) -> str:
        key = mask(self.settings.tmdb_api_key) or "off"
        return f"Enricher(tmdb={key}, cache={self.cache!r})"

    async def __aenter__(self) -> Enricher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP clients and the cache this Enricher made (not injected ones)."""
        for http in self._owned_http:
            await http.aclose()
        self._owned_http.clear()
        if self._owned_cache and self.cache is not None:
            await self.cache.aclose()

    # -- reading ---------------------------------------------------------------------

    @property
    def stats(self) -> EnrichStats:
        """Requests sent per service, cache hits and misses, retries and item counts so far."""
        clients = [c for c in (self.tmdb, self.imdb) if c is not None]
        return EnrichStats(
            tmdb_requests=self.tmdb.counters.requests if self.tmdb else 0,
            imdb_requests=self.imdb.counters.requests,
            cache_hits=self._cache_hits,
            cache_misses=self._cache_misses,
            retries=sum(c.counters.retries for c in clients),
            rate_limited=sum(c.counters.rate_limited for c in clients),
            failed_requests=sum(c.counters.failures for c in clients),
            items=self._items,
            items_with_tmdb=self._items_tmdb,
            items_with_imdb=self._items_imdb,
            items_with_errors=self._items_errors,
        )

    def rate_limits(self) -> dict[str, RateLimiterState]:
        """The state of each service's rate limiter."""
        return {name: limiter.state() for name, limiter in self.limiters.items()}

    def status(self) -> str | None:
        """A short note for the dashboard while a rate limit holds the stage back.

        ``"rate-limited (tmdb)"`` while a service's 429s have slowed or paused
        its limiter; ``"pacing (tmdb 40/s)"`` while requests wait for the
        configured rate; otherwise None.
        """
        limited = [name for name, lim in self.limiters.items() if lim.throttled]
        if limited:
            return f"rate-limited ({', '.join(limited)})"
        pacing = [f"{name} {lim.rate:g}/s" for name, lim in self.limiters.items() if lim.waiting]
        if pacing:
            return f"pacing ({', '.join(pacing)})"
        return None

    def stage_status(self) -> StageStatus | None:
        """The stage's status for the engine: rate limited (typed) plus :meth:`status`'s note."""
        note = self.status()
        if note is None:
            return None
        return StageStatus(rate_limited=any(lim.throttled for lim in self.limiters.values()), detail=note)

    # -- the stage function -------------------------------------------------------------

    async def enrich(self, batch: list[SourceItem]) -> list[EnrichedItem]:
        """Enrich ``batch``; the result has the same length and order.

        A service that stays unreachable after retries leaves its fields
        empty and an :class:`EnrichError` on the items concerned. Raises
        :class:`~plex_loader_tui.enrich.errors.TmdbAuthError` when TMDb
        refuses the key (then at once on every later call).
        """
        if self._fatal is not None:
            raise self._fatal
        slots = [_Slot() for _ in batch]
        try:
            async with asyncio.TaskGroup() as group:
                if self.tmdb is not None:
                    group.create_task(self._tmdb_pass(batch, slots))
                group.create_task(
                    self._imdb_pass([(i, item.imdb_id) for i, item in enumerate(batch) if item.imdb_id], slots)
                )
        except BaseExceptionGroup as grouped:
            first = _pick(grouped)
            if isinstance(first, FatalError):
                self._fatal = first
            raise first from None
        # IMDb ids that only TMDb knew (e.g. a Plex item matched by TMDb id).
        late = [
            (i, slot.imdb_id_from_tmdb)
            for i, (item, slot) in enumerate(zip(batch, slots, strict=True))
            if not item.imdb_id and slot.imdb_id_from_tmdb
        ]
        if late:
            await self._imdb_pass(late, slots)
        out: list[EnrichedItem] = []
        for item, slot in zip(batch, slots, strict=True):
            errors = tuple(EnrichError(service, message) for service, message in slot.errors.items())  # type: ignore[arg-type]
            out.append(EnrichedItem(source=item, tmdb=slot.tmdb, imdb=slot.imdb, errors=errors))
            self._items += 1
            self._items_tmdb += slot.tmdb is not None
            self._items_imdb += slot.imdb is not None
            self._items_errors += bool(errors)
        return out

    # -- cache helpers -------------------------------------------------------------------

    async def _cached(self, keys: Iterable[str]) -> dict[str, CachedResponse]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        found = await self.cache.get_many(wanted) if self.cache is not None else {}
        self._cache_hits += len(found)
        self._cache_misses += len(wanted) - len(found)
        return found

    async def _store(self, entries: list[tuple[str, int, Any]]) -> None:
        if self.cache is not None and entries:
            await self.cache.put_many(entries)

    def _language(self) -> dict[str, str]:
        return {"language": self.settings.language} if self.settings.language else {}

    # -- IMDb ------------------------------------------------------------------------------

    async def _imdb_pass(self, wanted: list[tuple[int, str]], slots: list[_Slot]) -> None:
        ids = list(dict.fromkeys(tt for _, tt in wanted))
        lookup = await self._imdb_titles(ids)
        for index, tt in wanted:
            if tt in lookup.failed:
                slots[index].fail("imdb", lookup.failed[tt])
            elif lookup.found.get(tt) is not None:
                slots[index].imdb = imdb_title_info(lookup.found[tt])

    async def _imdb_titles(self, ids: list[str]) -> _Lookup:
        lookup = _Lookup()
        keys = {tt: request_key("imdb", f"/titles/{tt}") for tt in ids}
        cached = await self._cached(keys.values())
        missing = []
        for tt in ids:
            if keys[tt] in cached:
                lookup.found[tt] = _body(cached[keys[tt]])
            else:
                missing.append(tt)
        for chunk in _chunks(missing, IMDB_BATCH_MAX):
            try:
                status, body = await self.imdb.get_json("/titles:batchGet", {"titleIds": list(chunk)})
            except ServiceError as exc:
                lookup.failed.update((tt, str(exc)) for tt in chunk)
                continue
            titles: dict[str, Any] = {}
            if status == 200:
                entries = body.get("titles")
                for title in entries if isinstance(entries, list) else []:
                    if isinstance(title, Mapping) and isinstance(title.get("id"), str):
                        titles[title["id"]] = title
            # Ids IMDb leaves out are unknown to it: cache that too.
            await self._store([(keys[tt], 200 if tt in titles else 404, titles.get(tt)) for tt in chunk])
            lookup.found.update((tt, titles.get(tt)) for tt in chunk)
        return lookup

    # -- TMDb --------------------------------------------------------------------------------

    async def _tmdb_pass(self, batch: list[SourceItem], slots: list[_Slot]) -> None:
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
            await self._tmdb_movies(movies, slots)
        for show_id, episodes in shows.items():
            await self._tmdb_show(show_id, episodes, batch, slots)

    async def _tmdb_movies(self, movies: dict[str, list[int]], slots: list[_Slot]) -> None:
        assert self.tmdb is not None
        params = {"append_to_response": MOVIE_APPEND, **self._language()}
        keys = {mid: request_key("tmdb", f"/movie/{mid}", params) for mid in movies}
        cached = await self._cached(keys.values())
        stored: list[tuple[str, int, Any]] = []
        try:
            for mid, indexes in movies.items():
                if keys[mid] in cached:
                    body = _body(cached[keys[mid]])
                else:
                    try:
                        status, body = await self.tmdb.get_json(f"/movie/{mid}", params)
                    except ServiceError as exc:
                        for i in indexes:
                            slots[i].fail("tmdb", str(exc))
                        continue
                    stored.append((keys[mid], status, body))
                if body is None:
                    continue  # TMDb does not know this id: not an error
                info = tmdb_movie_info(body, cast_limit=self.settings.cast_limit)
                imdb_id = tmdb_imdb_id(body)
                for i in indexes:
                    slots[i].tmdb = info
                    slots[i].imdb_id_from_tmdb = imdb_id
        finally:
            await self._store(stored)

    async def _tmdb_show(
        self,
        show_id: str,
        episodes: dict[tuple[int, int], list[int]],
        batch: list[SourceItem],
        slots: list[_Slot],
    ) -> None:
        """All episodes of one show in a batch: cached ones, then 20 per request."""
        assert self.tmdb is not None
        language = self._language()
        show_params = {"append_to_response": "credits", **language}
        show_key = request_key("tmdb", f"/tv/{show_id}", show_params)
        ep_keys = {
            (s, e): request_key("tmdb", f"/tv/{show_id}/season/{s}/episode/{e}", language) for s, e in episodes
        }
        cached = await self._cached([show_key, *ep_keys.values()])
        show: Any = _body(cached[show_key]) if show_key in cached else None
        have_show = show_key in cached
        show_error: str | None = None
        found: dict[tuple[int, int], Any] = {}
        failed: dict[tuple[int, int], str] = {}
        for pair, key in ep_keys.items():
            if key in cached:
                found[pair] = _body(cached[key])
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
                    status, body = await self.tmdb.get_json(
                        f"/tv/{show_id}", {"append_to_response": ",".join(appends), **language}
                    )
                except ServiceError as exc:
                    failed.update((pair, str(exc)) for pair in chunk)
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
                    status, show = await self.tmdb.get_json(f"/tv/{show_id}", show_params)
                    stored.append((show_key, status, show))
                except ServiceError as exc:
                    show, show_error = None, str(exc)
        finally:
            await self._store(stored)
        for pair, indexes in episodes.items():
            for i in indexes:
                if pair in failed:
                    slots[i].fail("tmdb", failed[pair])
                    continue
                episode = found.get(pair)
                if episode is None:
                    continue  # unknown to TMDb: not an error
                if show_error:
                    slots[i].fail("tmdb", show_error)
                slots[i].tmdb = tmdb_episode_info(
                    episode, show, tmdb_id=batch[i].tmdb_id or "", cast_limit=self.settings.cast_limit
                )


def _pick(group: BaseExceptionGroup) -> BaseException:
    """The exception to surface from a failed task group: a fatal one first."""
    flat: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            flat.append(exc)

    walk(group)
    for exc in flat:
        if isinstance(exc, FatalError):
            return exc
    return flat[0]
