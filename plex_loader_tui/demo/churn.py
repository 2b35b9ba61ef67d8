"""Churn: the demo library changes by itself, N items a minute (``--churn N``).

So that ``plex-loader-tui serve --demo --churn N`` shows live sync on a fresh
machine. One timer thread waits on an :class:`threading.Event` between
changes (no polling; :meth:`Churn.stop` wakes it at once). Each change is,
by a seeded roll: a touched movie or episode (most), a new movie, or a
removed movie or episode. The sequence of changes is the same for the same
seed and library; only their timing follows the clock.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Literal

from .library import DemoLibrary

log = logging.getLogger(__name__)

#: Shares of the changes (the rest are touches).
ADD_SHARE = 0.15
REMOVE_SHARE = 0.15
#: The library never shrinks below this many playable items through churn.
MIN_ITEMS = 10

ChurnKind = Literal["touched", "added", "removed"]


class Churn:
    """Change ``per_minute`` items of ``library`` a minute, from a thread, until :meth:`stop`."""

    def __init__(self, library: DemoLibrary, per_minute: int, *, seed: int = 0) -> None:
        if per_minute < 1:
            raise ValueError(f"churn: expected at least 1 change a minute, got {per_minute}")
        self.library = library
        self.per_minute = per_minute
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Changes made so far, by kind.
        self.counts: dict[ChurnKind, int] = {"touched": 0, "added": 0, "removed": 0}

    @property
    def interval(self) -> float:
        """Seconds between two changes."""
        return 60.0 / self.per_minute

    def start(self) -> Churn:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="demo-churn", daemon=True)
            self._thread.start()
            log.info("demo churn: %d changes a minute", self.per_minute)
        return self

    def stop(self) -> None:
        """Stop changing; returns once the thread has ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.step()
            except Exception:  # a bug here must not end the churn silently
                log.exception("demo churn: a change failed")

    def step(self) -> ChurnKind:
        """Make one change now; return what it was."""
        roll = self._rng.random()
        playable = [m.rating_key for m in self.library.movies()] + [e.rating_key for e in self.library.episodes()]
        if roll < ADD_SHARE or not playable:
            self.library.add(1)
            kind: ChurnKind = "added"
        elif roll < ADD_SHARE + REMOVE_SHARE and len(playable) > MIN_ITEMS:
            self.library.remove([self._rng.choice(playable)])
            kind = "removed"
        else:
            self.library.touch([self._rng.choice(playable)])
            kind = "touched"
        self.counts[kind] += 1
        return kind
