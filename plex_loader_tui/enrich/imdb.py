"""IMDb (imdbapi.dev) lookups for a batch: ``/titles:batchGet``, at most 5 ids per request."""

from __future__ import annotations

from typing import Any

from .cache import request_key
from .client import ServiceClient
from .errors import ServiceError
from .lookups import CachedLookups, Lookup, Slot, cached_body, chunks
from .mapping import imdb_title_info
from .shapes import imdb_titles

#: imdbapi.dev answers at most 5 ids per ``titles:batchGet``.
IMDB_BATCH_MAX = 5


class ImdbLookups:
    """Fills the IMDb part of a batch's slots, cache first."""

    def __init__(self, client: ServiceClient, cache: CachedLookups) -> None:
        self.client = client
        self.cache = cache

    async def run(self, wanted: list[tuple[int, str]], slots: list[Slot]) -> None:
        """Look up ``(slot index, IMDb id)`` pairs into ``slots``."""
        ids = list(dict.fromkeys(tt for _, tt in wanted))
        lookup = await self._titles(ids)
        for index, tt in wanted:
            if tt in lookup.failed:
                slots[index].fail(lookup.failed[tt])
            elif lookup.found.get(tt) is not None:
                slots[index].imdb = imdb_title_info(lookup.found[tt])

    async def _titles(self, ids: list[str]) -> Lookup:
        lookup = Lookup()
        keys = {tt: request_key("imdb", f"/titles/{tt}") for tt in ids}
        cached = await self.cache.cached(keys.values())
        missing = []
        for tt in ids:
            if keys[tt] in cached:
                lookup.found[tt] = cached_body(cached[keys[tt]])
            else:
                missing.append(tt)
        for chunk in chunks(missing, IMDB_BATCH_MAX):
            try:
                status, body = await self.client.get_json(
                    "/titles:batchGet", {"titleIds": list(chunk)}, shape=imdb_titles
                )
            except ServiceError as exc:
                lookup.failed.update((tt, exc) for tt in chunk)
                continue
            titles: dict[str, Any] = {}
            if status == 200:
                # imdb_titles checked the shape: a list of titles, each with its id.
                titles = {title["id"]: title for title in body.get("titles", [])}
            # Ids IMDb leaves out are unknown to it: cache that too.
            await self.cache.store([(keys[tt], 200 if tt in titles else 404, titles.get(tt)) for tt in chunk])
            lookup.found.update((tt, titles.get(tt)) for tt in chunk)
        return lookup

