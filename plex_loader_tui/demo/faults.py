"""Fault injection for the demo server: latency, errors, rate limits, truncated bodies.

Each service (Plex, TMDb, IMDb) has its own :class:`FaultSettings`, which
tests change at run time, and a :class:`ServiceState` with the seeded RNG that
decides which requests fail and the window that enforces its rate limit.
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Service = Literal["plex", "tmdb", "imdb"]
SERVICES: tuple[Service, ...] = ("plex", "tmdb", "imdb")
#: A path predicate: a regular expression (searched) or a function.
PathMatcher = str | re.Pattern[str] | Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """How one service misbehaves.

    ``fail_paths`` and ``malformed_paths`` are matched against the request's
    *target*: the service-relative path, then ``?`` and the query sorted by
    name (``str`` order: upper case first). For Plex the container paging
    headers are folded into that query, so
    ``r"X-Plex-Container-Start=200&.*type=1\\b"`` picks exactly one page of the
    movie listing whether the client sent the paging as headers or query.
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit: float | None = None
    malformed_rate: float = 0.0
    fail_paths: PathMatcher | None = None
    malformed_paths: PathMatcher | None = None

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must be >= 0, got {self.latency_ms}")
        for name in ("error_rate", "malformed_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError(f"rate_limit must be > 0 requests/s, got {self.rate_limit}")


def matches(matcher: PathMatcher | None, target: str) -> bool:
    """Whether ``target`` (see :class:`FaultSettings`) is one ``matcher`` picks."""
    if matcher is None:
        return False
    if callable(matcher) and not isinstance(matcher, re.Pattern):
        return bool(matcher(target))
    return re.search(matcher, target) is not None


class ServiceState:
    """Faults, RNG and rate-limit window of one service (guarded by ``lock``)."""

    def __init__(self, faults: FaultSettings, seed: int) -> None:
        self.faults = faults
        self.rng = random.Random(seed)
        self.window: deque[float] = deque()
        self.lock = threading.Lock()

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self.lock:
            return self.rng.random() < rate

    def admit(self, now: float) -> float | None:
        """Count a request against the rate limit; return seconds to wait if over it."""
        limit = self.faults.rate_limit
        if limit is None:
            return None
        with self.lock:
            while self.window and now - self.window[0] >= 1.0:
                self.window.popleft()
            if len(self.window) >= limit:
                return max(0.0, 1.0 - (now - self.window[0]))
            self.window.append(now)
            return None

