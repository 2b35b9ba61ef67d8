"""Searching the configured collection outside a running load.

Inside a run the session answers with the run's own client and models (an
embedded Qdrant folder admits one client per process). Outside one, a
:class:`CollectionSearcher` opens the collection at its first query and keeps
it, and the models, for the next ones: opening is the slow part (an embedded
store of 100,000 points takes seconds). It lets go of the collection after
:data:`IDLE_CLOSE_S` without a query, since an embedded folder admits one
process at a time and a load started elsewhere must not find it held by a
search nobody is making.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from ..config import DEMO_COLLECTION, RunConfig
from . import wiring

if TYPE_CHECKING:
    from ..embed.models import Models
    from ..models import SearchFilters
    from ..ports import Sink
    from ..search import SearchHit

#: Seconds an idle searcher keeps the collection open (a person reading the hits, then asking again).
IDLE_CLOSE_S = 15.0


class CollectionSearcher:
    """Hybrid queries against ``config``'s collection through one client kept open while queries come.

    :meth:`close` lets go of the collection at once (the searcher reopens it
    at the next query); an idle one does so by itself after ``idle_close`` s.
    """

    def __init__(self, config: RunConfig, models: Models | None = None, *, idle_close: float = IDLE_CLOSE_S) -> None:
        self.config = config
        self.models = models
        self.idle_close = idle_close
        self._sink: Sink | None = None
        # Queries, the idle timer and close() run on different threads; one at a time touches the client.
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._generation = 0
        #: Times the collection was opened (a kept one is not opened again).
        self.opened = 0

    @property
    def is_open(self) -> bool:
        """Whether the collection is held open right now."""
        return self._sink is not None

    async def search(self, query: str, limit: int = 10, filters: SearchFilters | None = None) -> list[SearchHit]:
        return await asyncio.to_thread(self._search, query, limit, filters)

    def close(self) -> None:
        """Let go of the collection now (a later query opens it again)."""
        with self._lock:
            self._close_locked()

    def _search(self, query: str, limit: int, filters: SearchFilters | None = None) -> list[SearchHit]:
        from ..embed.stage import Embedder
        from ..search import search

        with self._lock:
            self._cancel_timer()
            sink = self._open_locked()
            try:
                hits = search(sink, Embedder(self.models), query, limit, filters)
            except BaseException:
                self._close_locked()  # a client that failed a query is not kept
                raise
            self._arm_timer()
            return hits

    def _open_locked(self) -> Sink:
        from ..sinks.qdrant_errors import CollectionMissingError

        if self._sink is not None:
            return self._sink
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
        except BaseException:
            sink.close()
            raise
        self._sink = sink
        self.opened += 1
        return sink

    def _close_locked(self) -> None:
        self._cancel_timer()
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.close()

    def _arm_timer(self) -> None:
        # Called after _cancel_timer: the generation is already this timer's own.
        self._timer = threading.Timer(self.idle_close, self._close_if_idle, args=(self._generation,))
        self._timer.daemon = True  # never keeps the process alive
        self._timer.start()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._generation += 1  # a timer already waiting for the lock finds itself stale

    def _close_if_idle(self, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._close_locked()


async def search_collection(config: RunConfig, query: str, limit: int = 10,
                            filters: SearchFilters | None = None) -> list[SearchHit]:
    """Run one hybrid (dense + sparse, RRF) query against the configured collection, then let go of it."""
    searcher = CollectionSearcher(config)
    try:
        return await searcher.search(query, limit, filters)
    finally:
        await asyncio.to_thread(searcher.close)
