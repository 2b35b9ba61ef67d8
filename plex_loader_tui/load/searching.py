"""Searching the configured collection outside a running load.

Inside a run the session answers with the run's own client and models (an
embedded Qdrant folder admits one client per process). Outside one, a
:class:`CollectionSearcher` opens the collection for each query and keeps the
models it loaded, since loading them is the slow part.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..config import DEMO_COLLECTION, RunConfig
from . import wiring

if TYPE_CHECKING:
    from ..embed.models import Models
    from ..models import SearchFilters
    from ..search import SearchHit


class CollectionSearcher:
    """Hybrid queries against ``config``'s collection, each through a freshly opened client."""

    def __init__(self, config: RunConfig, models: Models | None = None) -> None:
        self.config = config
        self.models = models

    async def search(self, query: str, limit: int = 10, filters: SearchFilters | None = None) -> list[SearchHit]:
        return await asyncio.to_thread(self._search, query, limit, filters)

    def _search(self, query: str, limit: int, filters: SearchFilters | None = None) -> list[SearchHit]:
        from ..embed.stage import Embedder
        from ..search import search
        from ..sinks.qdrant_errors import CollectionMissingError

        if self.models is None:
            self.models = wiring.load_models(self.config)
        sink = wiring.make_sink(self.config, self.models)
        sink.connect()
        try:
            if not sink.collection_exists():
                hint = "" if self.config.demo else f" (a --demo load writes {DEMO_COLLECTION}: search it with --demo)"
                raise CollectionMissingError(
                    f"collection {self.config.collection!r} does not exist in {sink.location}: run a load first{hint}"
                )
            return search(sink, Embedder(self.models), query, limit, filters)
        finally:
            sink.close()


async def search_collection(config: RunConfig, query: str, limit: int = 10,
                            filters: SearchFilters | None = None) -> list[SearchHit]:
    """Run one hybrid (dense + sparse, RRF) query against the configured collection."""
    return await CollectionSearcher(config).search(query, limit, filters)
