"""What enrichment lookups share: per-item slots, pass results, and the counted cache."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from plex_loader_tui.models import EnrichError, ImdbInfo, TmdbInfo

from .cache import CachedResponse, ResponseCache
from .errors import ServiceError


@dataclass(slots=True)
class Slot:
    """What one item of a batch has collected so far."""

    tmdb: TmdbInfo | None = None
    imdb: ImdbInfo | None = None
    imdb_id_from_tmdb: str | None = None
    errors: dict[str, EnrichError] = field(default_factory=dict)

    def fail(self, error: ServiceError) -> None:
        """Record the first failure of ``error.service`` for this item, with its reason."""
        if error.service not in self.errors:
            self.errors[error.service] = EnrichError(error.service, str(error), error.reason)  # type: ignore[arg-type]


@dataclass(slots=True)
class Lookup:
    """Answers of one pass: found bodies (None = not found) and failures, by id."""

    found: dict[Any, Any] = field(default_factory=dict)
    failed: dict[Any, ServiceError] = field(default_factory=dict)


def chunks(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def cached_body(entry: CachedResponse) -> Any:
    return entry.data if entry.status == 200 else None


class CachedLookups:
    """The response cache (or none) with hit and miss counters, shared by both services."""

    def __init__(self, cache: ResponseCache | None) -> None:
        self.cache = cache
        self.hits = 0
        self.misses = 0

    async def cached(self, keys: Iterable[str]) -> dict[str, CachedResponse]:
        """The fresh cached answers among ``keys`` (duplicates asked once)."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        found = await self.cache.get_many(wanted) if self.cache is not None else {}
        self.hits += len(found)
        self.misses += len(wanted) - len(found)
        return found

    async def store(self, entries: list[tuple[str, int, Any]]) -> None:
        """Remember answers: ``(key, status, body)``."""
        if self.cache is not None and entries:
            await self.cache.put_many(entries)
