"""A bounded queue that hands out batches.

asyncio.Queue moves one item per call; the engine moves thousands of items a
second in batches, so this queue takes and gives lists. It never holds more
than ``capacity`` items: producers wait for room, which is what gives the
pipeline backpressure and flat memory.

Only the event loop thread touches it, so plain futures are enough.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Any


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class QueueClosed(Exception):
    """Raised to a producer when the queue was closed under it (cancel)."""


class BatchQueue:
    """Bounded FIFO of items, read in batches."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("queue capacity must be at least 1")
        self.capacity = capacity
        self._items: deque[Any] = deque()
        self._closed = False
        self._getters: list[asyncio.Future[None]] = []
        self._putters: list[asyncio.Future[None]] = []
        self.peak = 0
        #: Items ever put (to account for what a cancelled producer held back).
        self.total_put = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def exhausted(self) -> bool:
        """Closed and empty: nothing more will ever come out."""
        return self._closed and not self._items

    @staticmethod
    def _release(waiters: list[asyncio.Future[None]]) -> None:
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
        waiters.clear()

    def wake_getters(self) -> None:
        """Wake every waiting consumer, e.g. so a retiring worker can leave."""
        self._release(self._getters)

    def close(self) -> None:
        """No more items will be put. Consumers drain what is left, then see the end."""
        self._closed = True
        self._release(self._getters)

    def abort(self) -> None:
        """Close and drop everything (cancel): waiting producers get :class:`QueueClosed`."""
        self._closed = True
        self._items.clear()
        self._release(self._getters)
        self._release(self._putters)

    def items(self) -> list[Any]:
        """A copy of what is queued now (for accounting; the queue is unchanged)."""
        return list(self._items)

    def drop_all(self) -> list[Any]:
        items = list(self._items)
        self._items.clear()
        self._release(self._putters)
        return items

    async def put_many(self, items: Sequence[Any]) -> None:
        """Put all ``items``, waiting for room as needed (never exceeding capacity)."""
        index = 0
        total = len(items)
        while index < total:
            if self._closed:
                raise QueueClosed()
            room = self.capacity - len(self._items)
            if room > 0:
                chunk = items[index : index + room]
                self._items.extend(chunk)
                index += len(chunk)
                self.total_put += len(chunk)
                if len(self._items) > self.peak:
                    self.peak = len(self._items)
                self._release(self._getters)
                continue
            fut = asyncio.get_running_loop().create_future()
            self._putters.append(fut)
            try:
                await fut
            finally:
                if not fut.done():
                    fut.cancel()

    def _take(self, max_items: int) -> list[Any]:
        n = min(max_items, len(self._items))
        popleft = self._items.popleft
        batch = [popleft() for _ in range(n)]
        self._release(self._putters)
        return batch

    async def _wait(self, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._getters.append(fut)
        # call_later is far cheaper than wait_for, which wraps the wait in a task.
        handle = loop.call_later(timeout, _resolve, fut) if timeout is not None else None
        try:
            await fut
        finally:
            if handle is not None:
                handle.cancel()
            if not fut.done():
                fut.cancel()
            try:
                self._getters.remove(fut)
            except ValueError:
                pass

    async def get_batch(self, max_items: int, linger: float = 0.0) -> list[Any] | None:
        """Take up to ``max_items``.

        Waits for at least one item. With fewer than ``max_items`` available
        and the queue still open, waits up to ``linger`` seconds for more so
        batches fill up. Returns ``None`` once the queue is exhausted and an
        empty list when woken with nothing to take (a control change: the
        caller re-checks its state and calls again).
        """
        if not self._items:
            if self._closed:
                return None
            await self._wait(None)
            if not self._items:
                return None if self._closed else []
        if len(self._items) < max_items and not self._closed and linger > 0:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + linger
            while len(self._items) < max_items and not self._closed:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await self._wait(remaining)
            # Another consumer may have taken everything while we lingered.
            if not self._items:
                return None if self._closed else []
        return self._take(max_items)
