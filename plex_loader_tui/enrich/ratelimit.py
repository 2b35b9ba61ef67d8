"""An adaptive token bucket, one per remote service, shared by all workers.

Every request to a service first takes a token from that service's bucket,
so the configured rate holds however many workers the stage runs. The bucket
adapts to the server: a 429 halves its rate (at most once per round of
requests sent before the previous cut) and, when the server sends
``Retry-After``, the *whole* bucket waits that long, because every worker
shares the one limit the server is enforcing. After a quiet spell the rate
climbs back toward the configured value in small steps (additive increase,
multiplicative decrease), so a brief storm does not slow the rest of the run.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..pipeline.errors import RetryAbandoned
from ..pipeline.waiting import wait_event

logger = logging.getLogger(__name__)

#: Seconds without a 429 before the rate starts to climb back.
RECOVERY_DELAY = 2.0
#: Seconds between two recovery steps.
RECOVERY_INTERVAL = 1.0
#: Each recovery step adds this fraction of the configured rate.
RECOVERY_STEP = 0.1
#: Pause when a 429 carries no ``Retry-After``.
DEFAULT_PAUSE = 1.0


@dataclass(frozen=True, slots=True)
class RateLimiterState:
    """A snapshot of one bucket, for the dashboard and summaries."""

    name: str
    rate: float
    configured_rate: float
    throttled: bool
    paused_for: float
    waiting: int
    rate_limited: int


@dataclass(frozen=True, slots=True)
class Pacing:
    """How much one service's rate limit held lookups back: what makes a load enrichment-bound.

    ``service`` is the name shown (``TMDb``), ``key`` the one in settings and metrics (``tmdb``);
    ``paced_s`` is wall-clock time a request slept for a token or a Retry-After pause (never
    more than the time measured).
    """

    service: str
    key: str
    rate: float
    requests: int
    paced_s: float

    @property
    def setting(self) -> str:
        """The setting of the service's rate (``tmdb_rate``)."""
        return f"{self.key}_rate"

    def since(self, earlier: Pacing | None) -> Pacing:
        """The requests and paced time after ``earlier`` (a reading of the same limiter)."""
        if earlier is None:
            return self
        return Pacing(
            self.service, self.key, self.rate,
            self.requests - earlier.requests, max(0.0, self.paced_s - earlier.paced_s),
        )


class RateLimiter:
    """Async token bucket with a configured rate that 429s turn down.

    ``rate`` is in requests per second; ``burst`` is how many requests may go
    back to back after an idle spell (default ``rate / 4``, at least 1). The
    bucket must be used from one event loop.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        name: str = "",
        min_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be positive, got {rate!r}")
        self.name = name
        self.configured_rate = float(rate)
        self.burst = float(burst) if burst is not None else max(1.0, rate / 4)
        self.min_rate = min_rate if min_rate is not None else min(rate, max(0.05, rate / 64))
        self._clock = clock
        self._rate = float(rate)
        self._tokens = self.burst
        self._updated = clock()
        self._paused_until = -math.inf
        self._last_throttle = -math.inf
        self._last_decrease = -math.inf
        self._last_increase = -math.inf
        self._lock: asyncio.Lock | None = None
        self._waiting = 0
        # Set by release() (a drain): a lookup waiting out a Retry-After gives up instead.
        self._released = False
        self._wake: asyncio.Event | None = None
        self.rate_limited = 0
        self.granted = 0
        #: Wall-clock seconds a request slept for a token or a Retry-After pause. The sleeper holds
        #: the lock, so sleeps never overlap: this is time the service's limit held lookups back.
        self.paced_seconds = 0.0

    # -- reading ---------------------------------------------------------------

    @property
    def rate(self) -> float:
        """The rate currently applied (the configured one unless 429s cut it)."""
        return self._rate

    @property
    def capacity(self) -> float:
        # The burst shrinks with the rate, so a slowed bucket cannot fire the
        # full configured burst the moment a pause ends.
        return max(1.0, self.burst * self._rate / self.configured_rate)

    @property
    def throttled(self) -> bool:
        """True while the server's rate limit is slowing this bucket down."""
        return self._clock() < self._paused_until or self._rate < self.configured_rate

    @property
    def waiting(self) -> int:
        """How many requests are waiting for a token right now."""
        return self._waiting

    def state(self) -> RateLimiterState:
        now = self._clock()
        return RateLimiterState(
            name=self.name,
            rate=self._rate,
            configured_rate=self.configured_rate,
            throttled=self.throttled,
            paused_for=max(0.0, self._paused_until - now),
            waiting=self._waiting,
            rate_limited=self.rate_limited,
        )

    def pacing(self, key: str) -> Pacing:
        """Requests granted and time paced so far; ``key`` is the service's (``tmdb``)."""
        return Pacing(self.name, key, self.configured_rate, self.granted, self.paced_seconds)

    # -- taking tokens -----------------------------------------------------------

    async def acquire(self) -> float:
        """Wait for a token; return the (clock) time it was granted.

        Waiters are served first come, first served.
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        self._waiting += 1
        try:
            async with self._lock:
                while True:
                    now = self._clock()
                    if now < self._paused_until:
                        # The server asked everyone to wait (Retry-After): wait, unless released.
                        await self._paced(self._wait_unless_released(self._paused_until - now), now)
                        continue
                    self._refill(now)
                    if self._tokens >= 1.0:
                        self._tokens -= 1.0
                        self.granted += 1
                        return now
                    # Pacing, not synchronisation: sleep until the next token is due.
                    await self._paced(asyncio.sleep((1.0 - self._tokens) / self._rate), now)
        finally:
            self._waiting -= 1

    async def _paced(self, wait: Awaitable[None], since: float) -> None:
        """Await ``wait``, counting its time in :attr:`paced_seconds` (however it ends)."""
        try:
            await wait
        finally:
            self.paced_seconds += max(0.0, self._clock() - since)

    def release(self) -> None:
        """The run is draining: lookups waiting out a Retry-After (now or later) stop waiting.

        They raise :class:`~plex_loader_tui.pipeline.errors.RetryAbandoned`, which the
        engine turns into "released for the next run" for their batch.
        """
        self._released = True
        if self._wake is not None:
            self._wake.set()

    async def _wait_unless_released(self, seconds: float) -> None:
        if self._wake is None:
            self._wake = asyncio.Event()
        if not self._released and not await wait_event(self._wake, seconds):
            return
        raise RetryAbandoned(f"released while waiting {seconds:.0f} s for the server's Retry-After")

    def _refill(self, now: float) -> None:
        if self._rate < self.configured_rate:
            calm_since = max(self._last_throttle + RECOVERY_DELAY, self._last_increase + RECOVERY_INTERVAL)
            if now >= calm_since:
                steps = 1 + int((now - calm_since) / RECOVERY_INTERVAL)
                self._rate = min(
                    self.configured_rate, self._rate + steps * RECOVERY_STEP * self.configured_rate
                )
                self._last_increase = now
                if self._rate >= self.configured_rate:
                    logger.info("%s: back to the configured %.3g requests/s", self.name, self._rate)
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self._rate)
        self._updated = now

    # -- feedback from responses ---------------------------------------------------

    def on_rate_limited(self, sent_at: float, retry_after: float | None = None) -> None:
        """A request granted at ``sent_at`` got a 429: slow down and pause the bucket.

        Only requests sent after the last cut may cut the rate again, so a
        burst of 429s for requests already in flight halves it once.
        """
        now = self._clock()
        self.rate_limited += 1
        if sent_at > self._last_decrease:
            old = self._rate
            self._rate = max(self.min_rate, self._rate / 2)
            self._last_decrease = now
            if self._rate < old:
                logger.warning(
                    "%s answered 429 (rate limited): slowing down to %.3g requests/s",
                    self.name,
                    self._rate,
                )
        pause = DEFAULT_PAUSE if retry_after is None else max(0.0, retry_after)
        self._paused_until = max(self._paused_until, now + pause)
        # Recovery counts from the end of the pause, not from the 429.
        self._last_throttle = max(now, self._paused_until)
        # Nothing saved up before or during the pause may be spent right after it.
        self._tokens = 0.0
        self._updated = max(self._updated, self._paused_until)
