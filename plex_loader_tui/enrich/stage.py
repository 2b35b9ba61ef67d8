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
from dataclasses import dataclass

import httpx

from plex_loader_tui.models import EnrichedItem, SourceItem
from plex_loader_tui.pipeline import FatalError, StageStatus
from plex_loader_tui.secrets import mask

from .cache import ResponseCache
from .circuit import ServicePause
from .client import RetryHook, Service, ServiceClient, build_http_client
from .imdb import ImdbLookups
from .lookups import CachedLookups, Slot
from .ratelimit import Pacing, RateLimiter, RateLimiterState
from .settings import EnrichSettings
from .tmdb import TmdbLookups

logger = logging.getLogger(__name__)


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


class Enricher:
    """Adds TMDb and IMDb metadata to items; the enrichment stage's function is :meth:`enrich`.

    ``tmdb_client`` / ``imdb_client`` are optional ``httpx.AsyncClient``s to
    use instead of building one per service (the Enricher then does not close
    them). ``cache`` replaces the cache built from ``settings.cache_path``.
    ``on_retry`` hears of every request retry as it happens. Use it as an
    async context manager, or call :meth:`aclose`.
    """

    def __init__(
        self,
        settings: EnrichSettings,
        *,
        tmdb_client: httpx.AsyncClient | None = None,
        imdb_client: httpx.AsyncClient | None = None,
        cache: ResponseCache | None = None,
        on_retry: RetryHook | None = None,
    ) -> None:
        self.settings = settings
        self._on_retry = on_retry
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
        self._lookups = CachedLookups(self.cache)
        self._imdb = ImdbLookups(self.imdb, self._lookups)
        self._tmdb = (
            TmdbLookups(self.tmdb, self._lookups, language=settings.language, cast_limit=settings.cast_limit)
            if self.tmdb is not None
            else None
        )
        self._fatal: FatalError | None = None
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
            max_body_bytes=s.max_body_bytes,
            api_key=s.tmdb_api_key if is_tmdb else None,
            bearer=is_tmdb and s.tmdb_uses_bearer,
            on_retry=self._on_retry,
        )

    def __repr__(self) -> str:
        key = mask(self.settings.tmdb_api_key) or "off"
        return f"Enricher(tmdb={key}, cache={self.cache!r})"

    async def __aenter__(self) -> Enricher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def release(self) -> None:
        """A drain: lookups waiting out a server's Retry-After give up, and their batches
        are released for the next run instead of holding the drain (see :meth:`RateLimiter.release`)."""
        for limiter in self.limiters.values():
            limiter.release()

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
            cache_hits=self._lookups.hits,
            cache_misses=self._lookups.misses,
            retries=sum(c.counters.retries for c in clients),
            rate_limited=sum(c.counters.rate_limited for c in clients),
            failed_requests=sum(c.counters.failures for c in clients),
            items=self._items,
            items_with_tmdb=self._items_tmdb,
            items_with_imdb=self._items_imdb,
            items_with_errors=self._items_errors,
        )

    def pacing(self) -> tuple[Pacing, ...]:
        """How much each service's rate limit has held lookups back so far."""
        return tuple(limiter.pacing(service) for service, limiter in self.limiters.items())

    def rate_limited_by_service(self) -> dict[str, int]:
        """Answers that said "slow down" (429, Retry-After) so far, per service."""
        return {str(c.service): c.counters.rate_limited for c in (self.tmdb, self.imdb) if c is not None}

    def rate_limits(self) -> dict[str, RateLimiterState]:
        """The state of each service's rate limiter."""
        return {name: limiter.state() for name, limiter in self.limiters.items()}

    def pauses(self) -> list[ServicePause]:
        """The services paused by a long ``Retry-After`` right now (their lookups fail fast)."""
        clients = [c for c in (self.tmdb, self.imdb) if c is not None]
        return [p for c in clients if (p := c.circuit.pause()) is not None]

    def status(self) -> str | None:
        """A short note for the dashboard while a service holds the stage back.

        ``"tmdb paused: Retry-After 1h"`` while a long ``Retry-After`` has
        paused a service (see :meth:`pauses`); ``"rate-limited (tmdb)"``
        while a service's 429s have slowed or paused its limiter;
        ``"pacing (tmdb 40/s)"`` while requests wait for the configured rate;
        otherwise None. Notes of different kinds are joined with ``"; "``.
        """
        pauses = self.pauses()
        paused = {p.service for p in pauses}
        notes = [p.note for p in pauses]
        limited = [name for name, lim in self.limiters.items() if lim.throttled and name not in paused]
        if limited:
            notes.append(f"rate-limited ({', '.join(limited)})")
        elif not notes:
            pacing = [f"{name} {lim.rate:g}/s" for name, lim in self.limiters.items() if lim.waiting]
            if pacing:
                notes.append(f"pacing ({', '.join(pacing)})")
        return "; ".join(notes) or None

    def stage_status(self) -> StageStatus | None:
        """The stage's status for the engine: rate limited or paused (typed) plus :meth:`status`'s note."""
        note = self.status()
        if note is None:
            return None
        held = bool(self.pauses()) or any(lim.throttled for lim in self.limiters.values())
        return StageStatus(rate_limited=held, detail=note)

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
        slots = [Slot() for _ in batch]
        try:
            async with asyncio.TaskGroup() as group:
                if self._tmdb is not None:
                    group.create_task(self._tmdb.run(batch, slots))
                group.create_task(
                    self._imdb.run([(i, item.imdb_id) for i, item in enumerate(batch) if item.imdb_id], slots)
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
            await self._imdb.run(late, slots)
        out: list[EnrichedItem] = []
        for item, slot in zip(batch, slots, strict=True):
            errors = tuple(slot.errors.values())
            out.append(EnrichedItem(source=item, tmdb=slot.tmdb, imdb=slot.imdb, errors=errors))
            self._items += 1
            self._items_tmdb += slot.tmdb is not None
            self._items_imdb += slot.imdb is not None
            self._items_errors += bool(errors)
        return out

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
