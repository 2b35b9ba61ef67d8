"""Cheap, lock-free metrics for the engine and the frozen snapshots front ends read.

The engine updates plain counters from the event loop thread only, so no locks
are needed. Front ends call :meth:`Pipeline.snapshot` a few times a second and
get immutable dataclasses back; the engine never pushes a message per item.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from .errors import DeadLetter

#: How many seconds of per-second throughput each stage keeps (for sparklines).
HISTORY_SECONDS = 300
#: Window for the "items/s now" figure.
RATE_WINDOW_SECONDS = 5.0
#: How many recent batch latencies feed the percentiles.
LATENCY_SAMPLES = 256


class StageState(StrEnum):
    """What one stage is doing (or waiting for) right now."""

    IDLE = "idle"  # the run has not started
    RUNNING = "running"
    STARVED = "starved"  # nothing to do: its input queue is empty
    BACKPRESSURE = "backpressure"  # its workers wait for room downstream
    PAUSED = "paused"
    PAUSING = "pausing"  # paused, batches in flight still finishing
    RATE_LIMITED = "rate-limited"  # a remote service is slowing it down
    DONE = "done"  # its work is over (and, once the run has ended, the run finished)
    # Once a run has ended otherwise, every stage says how:
    DRAINED = "drained"
    CANCELLED = "cancelled"
    FAILED = "failed"


class PipelineState(StrEnum):
    """Where a run is in its life."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    DRAINING = "draining"
    CANCELLING = "cancelling"
    FINISHED = "finished"
    DRAINED = "drained"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def ended(self) -> bool:
        """True once the run does no more work."""
        return self in _ENDED

    @property
    def moving(self) -> bool:
        """True while items can still flow (a tuning change applies at once)."""
        return self in (PipelineState.RUNNING, PipelineState.PAUSED, PipelineState.DRAINING)


_ENDED = frozenset({PipelineState.FINISHED, PipelineState.DRAINED, PipelineState.CANCELLED, PipelineState.FAILED})


@dataclass(frozen=True, slots=True)
class StageSnapshot:
    """One stage at one moment. Times are in seconds, rates in items/s.

    Every count is in items (a listing page counts as the items on it), so
    ``queue_depth``/``queue_capacity``, ``batch_size``, ``items_in`` and
    ``in_flight`` share one unit. ``retries`` and ``errors`` include what the
    stage's own code reported (an HTTP client's retries). ``workers`` is the
    pool size (never less than ``busy_workers``). ``throughput`` is the rate
    over the last seconds while the run moves and the run's average once it
    has ended.
    """

    name: str
    state: StageState
    items_in: int
    items_out: int
    skipped: int
    failed: int
    retries: int
    errors: int
    queue_depth: int
    queue_capacity: int
    busy_workers: int
    workers: int
    batch_size: int
    throughput: float
    latency_p50: float | None
    latency_p95: float | None
    last_error: str | None
    history: tuple[float, ...]
    detail: str | None = None
    in_flight: int = 0


@dataclass(frozen=True, slots=True)
class PipelineSnapshot:
    """The whole run at one moment.

    Every item of ``total`` is in exactly one place, at every snapshot::

        loaded + skipped + failed + queued + in_flight + released + unlisted == total

    ``unlisted`` the first stage has not taken up yet: still in the source or
    waiting for the first stage (for a load: not yet listed; ``None`` when the
    total is unknown); ``queued`` waits in the queue of a later stage;
    ``in_flight`` was taken by a stage and is not yet passed on, loaded,
    skipped or failed; ``released`` was let go by a drain or cancel (the next
    run picks it up). ``done`` counts the
    items that reached the end (loaded, skipped as unchanged, or failed); ETA
    is ``(total - done) / throughput``. ``elapsed`` is the run's time (the one
    clock of every front end); ``throughput`` is items/s over the last seconds
    while the run moves and the run's average once it has ended.
    """

    state: PipelineState
    elapsed: float
    total: int | None
    loaded: int
    skipped: int
    failed: int
    in_flight: int
    throughput: float
    eta: float | None
    bottleneck: str | None
    stages: tuple[StageSnapshot, ...]
    recent_failures: tuple[DeadLetter, ...]
    fatal_error: str | None = None
    queued: int = 0
    released: int = 0
    unlisted: int | None = None

    @property
    def done(self) -> int:
        return self.loaded + self.skipped + self.failed

    @property
    def left(self) -> int:
        """Items this run will not get to (or has not yet): the total less what is done."""
        return max(0, self.total - self.done) if self.total is not None else self.released

    def stage(self, name: str) -> StageSnapshot:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)


class RateMeter:
    """Counts events into one-second buckets; gives a sliding-window rate and a history."""

    __slots__ = ("_buckets", "_start", "_maxlen", "total")

    def __init__(self, seconds: int = HISTORY_SECONDS, clock_start: float | None = None) -> None:
        self._maxlen = seconds
        self._buckets: deque[list[float]] = deque(maxlen=seconds)  # [second, count]
        self._start = time.monotonic() if clock_start is None else clock_start
        #: Everything ever counted (for the run's average).
        self.total = 0

    def add(self, n: int, now: float | None = None) -> None:
        self.total += n
        second = math.floor((time.monotonic() if now is None else now) - self._start)
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += n
        else:
            self._buckets.append([second, n])

    def rate(self, window: float = RATE_WINDOW_SECONDS, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        age = now - self._start
        span = min(window, age)
        if span <= 0:
            return 0.0
        cutoff = age - window
        total = sum(c for s, c in self._buckets if s + 1 > cutoff)
        # Partial current second: divide by the real span, not the full window.
        return total / max(span, 1.0)

    def history(self, seconds: int = 60, now: float | None = None) -> tuple[float, ...]:
        """Items per second for each of the last ``seconds`` whole seconds (oldest first)."""
        now = time.monotonic() if now is None else now
        current = math.floor(now - self._start)
        counts = {int(s): c for s, c in self._buckets}
        first = max(0, current - seconds)
        return tuple(float(counts.get(s, 0)) for s in range(first, current))


class LatencyWindow:
    """The last few batch latencies, for p50/p95."""

    __slots__ = ("_samples",)

    def __init__(self, size: int = LATENCY_SAMPLES) -> None:
        self._samples: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self._samples.append(seconds)

    def percentile(self, p: float) -> float | None:
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
        return ordered[index]
