"""A bounded queue that hands out batches.

asyncio.Queue moves one item per call; the engine moves thousands of items a
second in batches, so this queue takes and gives lists. It never holds more
than ``capacity`` items: producers wait for room, which is what gives the
pipeline backpressure and flat memory.

With a ``weight`` function an entry stands for several items (a listing page
for the items on it): capacity, depth and batch sizes then count those items,
so every queue of a pipeline is measured in one unit. An entry heavier than
the room left still goes into an empty queue (it could never fit otherwise).

Only the event loop thread touches it, so plain futures are enough.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class QueueClosed(Exception):
    """Raised to a producer when the queue was closed under it (cancel)."""


class BatchQueue:
    """Bounded FIFO of items, read in batches."""

    def __init__(self, capacity: int, weight: Callable[[Any], int] | None = None) -> None:
        if capacity < 1:
            raise ValueError("queue capacity must be at least 1")
        self.capacity = capacity
        self._weight = weight
        self._items: deque[Any] = deque()
        self._depth = 0  # the items the entries stand for
        self._closed = False
        self._getters: list[asyncio.Future[None]] = []
        self._putters: list[asyncio.Future[None]] = []
        self.peak = 0
        #: Entries ever put (to account for what a cancelled producer held back).
        self.total_put = 0

    def __len__(self) -> int:
        """Entries queued (see :attr:`depth` for the items they stand for)."""
        return len(self._items)

    @property
    def depth(self) -> int:
        """Items queued: entries weighed by the ``weight`` function (one each without it)."""
        return self._depth

    def weigh(self, entries: Sequence[Any]) -> int:
        weight = self._weight
        return sum(weight(entry) for entry in entries) if weight is not None else len(entries)

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
        self._depth = 0
        self._release(self._getters)
        self._release(self._putters)

    def items(self) -> list[Any]:
        """A copy of what is queued now (for accounting; the queue is unchanged)."""
        return list(self._items)

    def drop_all(self) -> list[Any]:
        items = list(self._items)
        self._items.clear()
        self._depth = 0
        self._release(self._putters)
        return items

    def _fitting(self, items: Sequence[Any], start: int) -> int:
        """How many of ``items[start:]`` fit in the room left (one, into an empty queue)."""
        room = self.capacity - self._depth
        if self._weight is None:
            return max(0, min(room, len(items) - start))
        count = 0
        for entry in items[start:]:
            weight = self._weight(entry)
            if weight > room and (count or self._items):
                break
            room -= weight
            count += 1
        return count

    async def put_many(
        self, items: Sequence[Any], on_put: Callable[[Sequence[Any]], None] | None = None
    ) -> None:
        """Put all ``items``, waiting for room as needed (never exceeding capacity).

        ``on_put`` is called with each chunk as it lands, in the same step:
        an observer counting what is queued never sees an item in two places.
        """
        index = 0
        total = len(items)
        while index < total:
            if self._closed:
                raise QueueClosed()
            fits = self._fitting(items, index)
            if fits > 0:
                chunk = items[index : index + fits]
                self._items.extend(chunk)
                self._depth += self.weigh(chunk)
                index += fits
                self.total_put += fits
                if self._depth > self.peak:
                    self.peak = self._depth
                if on_put is not None:
                    on_put(chunk)
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
        if self._weight is None:
            n = min(max_items, len(self._items))
            popleft = self._items.popleft
            batch = [popleft() for _ in range(n)]
            self._depth -= n
        else:
            # At least one entry, then more while the batch stays within max_items items.
            batch, taken = [], 0
            while self._items:
                weight = self._weight(self._items[0])
                if batch and taken + weight > max_items:
                    break
                batch.append(self._items.popleft())
                taken += weight
            self._depth -= taken
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
        """Take up to ``max_items`` items (weighed entries: at least one entry).

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
        if self._depth < max_items and not self._closed and linger > 0:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + linger
            while self._depth < max_items and not self._closed:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await self._wait(remaining)
            # Another consumer may have taken everything while we lingered.
            if not self._items:
                return None if self._closed else []
        return self._take(max_items)
