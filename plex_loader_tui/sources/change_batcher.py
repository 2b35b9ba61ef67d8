"""Group Plex's library changes into batches: a scan's thousands of notifications, a few fetches.

A library scan sends an entry per item, often several per item, over seconds.
:class:`ChangeBatcher` collects the :class:`~.plex_watch.LibraryChange` objects
and hands them out as :class:`ChangeBatch` objects: a batch closes once no
change came for ``quiet`` seconds, but never later than ``max_delay`` seconds
after its first change (a scan that never pauses still gets loaded), or at
once when it holds ``max_batch`` distinct items. Within a batch each rating
key appears once, with the last kind Plex said (changed, then deleted:
deleted). Each batch then costs ``ceil(keys / keys_per_request)`` Plex
requests (:meth:`~.plex.PlexSource.fetch_items`): 2,000 changed items in 2
batches of 1,000 are 20 requests.

It lives on one asyncio loop: :meth:`ChangeBatcher.add` is called on the
loop's thread (from the watcher's thread through ``call_soon_threadsafe``),
and :meth:`ChangeBatcher.next_batch` waits on an event with a timeout, never
polls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from ..pipeline.waiting import wait_event
from .plex_watch import LibraryChange

#: Seconds without a new change that close a batch.
QUIET_SECONDS = 1.0
#: Longest a change waits for its batch to close, in seconds.
MAX_DELAY_SECONDS = 5.0
#: Most distinct rating keys in one batch.
MAX_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """Distinct changes (one per rating key, the last kind Plex said), oldest first."""

    changes: tuple[LibraryChange, ...]

    def __len__(self) -> int:
        return len(self.changes)

    @property
    def changed(self) -> tuple[LibraryChange, ...]:
        return tuple(c for c in self.changes if c.kind == "changed")

    @property
    def deleted(self) -> tuple[LibraryChange, ...]:
        return tuple(c for c in self.changes if c.kind == "deleted")

    def keys_by_section(self, kind: str = "changed") -> dict[str, list[str]]:
        """Rating keys of one kind, grouped by section key (in order of arrival)."""
        grouped: dict[str, list[str]] = {}
        for change in self.changes:
            if change.kind == kind:
                grouped.setdefault(change.section_key, []).append(change.rating_key)
        return grouped


class ChangeBatcher:
    """Collects changes and hands them out in batches (see the module doc)."""

    def __init__(self, *, quiet: float = QUIET_SECONDS, max_delay: float = MAX_DELAY_SECONDS,
                 max_batch: int = MAX_BATCH) -> None:
        if not (quiet > 0 and max_delay > 0):
            raise ValueError(f"batching: expected waits above 0 s, got quiet {quiet} and max delay {max_delay}")
        if max_batch < 1:
            raise ValueError(f"batching: expected a batch of at least 1 item, got {max_batch}")
        self.quiet, self.max_delay, self.max_batch = quiet, max_delay, max_batch
        self._pending: dict[str, LibraryChange] = {}  # rating key -> its last change, in order of first arrival
        self._first_at: float | None = None  # loop time the oldest pending change arrived
        self._last_at = 0.0
        self._arrived = asyncio.Event()
        self._closed = False
        #: Changes added, and those folded into a pending one for the same key.
        self.added = 0
        self.merged = 0

    @property
    def pending(self) -> int:
        """Distinct rating keys waiting for a batch."""
        return len(self._pending)

    def add(self, change: LibraryChange) -> None:
        """Take one change (on the loop's thread)."""
        self.add_all((change,))

    def add_all(self, changes: Iterable[LibraryChange]) -> None:
        now = asyncio.get_running_loop().time()
        for change in changes:
            self.added += 1
            if change.rating_key in self._pending:
                self.merged += 1
            # A known key keeps its place (and its age); the last word on it wins.
            self._pending[change.rating_key] = change
            if self._first_at is None:
                self._first_at = now
            self._last_at = now
        self._arrived.set()

    def close(self) -> None:
        """No more changes: :meth:`next_batch` hands out what is pending at once, then None."""
        self._closed = True
        self._arrived.set()

    async def next_batch(self) -> ChangeBatch | None:
        """Wait for the next batch; None once closed and empty."""
        loop = asyncio.get_running_loop()
        while not self._pending:
            if self._closed:
                return None
            self._arrived.clear()
            await self._arrived.wait()
        while not self._closed and len(self._pending) < self.max_batch:
            assert self._first_at is not None
            deadline = min(self._last_at + self.quiet, self._first_at + self.max_delay)
            wait = deadline - loop.time()
            if wait <= 0:
                break
            self._arrived.clear()
            if not await wait_event(self._arrived, wait):
                break
        return self._take()

    def _take(self) -> ChangeBatch:
        keys = list(self._pending)[: self.max_batch]
        batch = ChangeBatch(tuple(self._pending.pop(k) for k in keys))
        if not self._pending:
            self._first_at = None
        # Else the rest keeps its age: it closes as soon as it is asked for.
        return batch
