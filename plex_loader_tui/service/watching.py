"""The notification stream feeding a running service.

Plex's notifications arrive on the watcher's threads
(:class:`~plex_loader_tui.sources.plex_watch.PlexWatcher`); they cross to the
service's event loop with ``call_soon_threadsafe`` into a
:class:`~plex_loader_tui.sources.change_batcher.ChangeBatcher`, which debounces
and de-duplicates them; each batch it closes is handed to the service as one
targeted sync. A reconnect (the stream dropped: changes were missed) asks the
service for a reconcile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..sources.change_batcher import ChangeBatcher
from ..sources.plex_watch import PlexWatcher
from .controls import WatchStatus

if TYPE_CHECKING:
    from .sync import SyncService

log = logging.getLogger(__name__)


class Watching:
    """One service's notification stream: watcher → batcher → :meth:`SyncService.changes_arrived`."""

    def __init__(self, service: SyncService, plex_url: str, plex_token: str | None) -> None:
        loop = asyncio.get_running_loop()
        self._service = service
        self._batcher = ChangeBatcher()
        self._watcher = PlexWatcher(
            plex_url,
            plex_token,
            on_change=lambda change: loop.call_soon_threadsafe(self._batcher.add, change),
            on_reconnect=lambda: loop.call_soon_threadsafe(service.stream_reconnected),
            on_state=self._on_state,
        )
        self._loop = loop
        self._was_connected = False
        self._pump_task: asyncio.Task[None] | None = None

    def _on_state(self, connected: bool) -> None:
        """On the watcher's thread: the first connection is news too (see :meth:`SyncService.stream_connected`)."""
        if connected and not self._was_connected:
            self._was_connected = True
            self._loop.call_soon_threadsafe(self._service.stream_connected)

    def start(self) -> None:
        self._watcher.start()
        self._pump_task = asyncio.get_running_loop().create_task(self._pump(), name="notification-batches")

    async def wait_connected(self, timeout: float) -> bool:
        """Wait (bounded) for the first connection; False if the stream is not up by then."""
        return await asyncio.to_thread(self._watcher.wait_connected, timeout)

    async def _pump(self) -> None:
        while (batch := await self._batcher.next_batch()) is not None:
            self._service.changes_arrived(batch.changes)

    def status(self) -> WatchStatus:
        counters = self._watcher.counters()
        return WatchStatus(
            connected=counters.connected,
            events_received=counters.events_received,
            events_dropped=counters.events_dropped,
            reconnects=counters.reconnects,
            last_event_at=counters.last_event_at,
            pending_changes=self._batcher.pending,
        )

    async def close(self) -> None:
        """Stop listening (no thread left); changes still pending are dropped with the run."""
        await asyncio.to_thread(self._watcher.close)
        self._batcher.close()
        if self._pump_task is not None:
            self._pump_task.cancel()
            await asyncio.gather(self._pump_task, return_exceptions=True)
