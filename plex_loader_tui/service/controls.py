"""What the control API (and an attached dashboard) can see and do in a running service.

The service (:mod:`.sync`) implements :class:`ServiceControls`; the HTTP API
(:mod:`.api`) and the metrics (:mod:`.metrics`) only use this surface and the
typed shapes below, so each side can be read (and tested) on its own.

Refusals are exceptions with a message written for the operator:
:class:`UnknownStage` (HTTP 404), :class:`ValueError` (400: a bad value, the
engine's own words), :class:`NotAllowedNow` (409: e.g. ``resume`` while not
paused).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..config import StageConfig
from ..load.outcome import SessionInfo
from ..pipeline import PipelineSnapshot

if TYPE_CHECKING:
    from ..search import SearchHit


class ServiceState(StrEnum):
    """Where the service is in its life."""

    STARTING = "starting"  # connecting, loading models, recovering
    LOADING = "loading"  # a sync (incremental, reconcile or targeted changes) is running
    WATCHING = "watching"  # idle, listening to Plex's notifications
    PAUSED = "paused"
    DRAINING = "draining"
    STOPPED = "stopped"


class SyncKind(StrEnum):
    """Why a sync ran."""

    STARTUP = "startup"  # recovery + incremental load at start
    RECONCILE = "reconcile"  # periodic, after a reconnect, or asked for (POST /sync)
    CHANGES = "changes"  # targeted: rating keys Plex said changed or were deleted
    RETRY_FAILED = "retry-failed"


class NotAllowedNow(Exception):
    """A control that makes no sense in the service's current state (HTTP 409)."""


class UnknownStage(KeyError):
    """No stage of that name (HTTP 404)."""

    def __str__(self) -> str:  # KeyError would quote its argument
        return str(self.args[0]) if self.args else "unknown stage"


@dataclass(frozen=True, slots=True)
class SyncRecord:
    """One finished sync. Times are epoch seconds; ``outcome`` is how its run ended."""

    kind: SyncKind
    started_at: float
    finished_at: float
    outcome: str  # finished | drained | cancelled | failed
    loaded: int = 0
    skipped: int = 0
    failed: int = 0
    deleted: int = 0
    error: str | None = None

    @property
    def duration(self) -> float:
        return self.finished_at - self.started_at


@dataclass(frozen=True, slots=True)
class WatchStatus:
    """The notification stream: connected or not, and what it has delivered."""

    connected: bool
    events_received: int = 0  # timeline entries that named a library item
    events_dropped: int = 0  # entries ignored (not a library item, unknown state, over the cap)
    reconnects: int = 0
    last_event_at: float | None = None
    pending_changes: int = 0  # rating keys waiting for the next targeted sync


@dataclass(frozen=True, slots=True)
class ServiceTotals:
    """Counters since the service started (monotonic across syncs, for metrics).

    ``items`` maps ``(stage, outcome)`` to a count; outcomes are ``loaded``,
    ``skipped``, ``failed`` (per stage: ``out``/``failed``), see :mod:`.metrics`.
    """

    items: Mapping[tuple[str, str], int] = field(default_factory=dict)
    retries: Mapping[str, int] = field(default_factory=dict)
    errors: Mapping[str, int] = field(default_factory=dict)
    rate_limited: Mapping[str, int] = field(default_factory=dict)  # per service (tmdb, imdb, plex)
    paced_seconds: Mapping[str, float] = field(default_factory=dict)  # per service: its rate limit held lookups back
    syncs: Mapping[str, int] = field(default_factory=dict)  # per SyncKind
    deleted: int = 0


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """Everything ``GET /api/v1/status`` answers. Times are epoch seconds."""

    state: ServiceState
    started_at: float
    now: float
    info: SessionInfo
    snapshot: PipelineSnapshot | None  # the running sync's, else the last one's
    stage_settings: Mapping[str, StageConfig]
    watch: WatchStatus
    totals: ServiceTotals
    failed_waiting: int
    last_sync: SyncRecord | None = None
    last_success: SyncRecord | None = None
    next_sync_at: float | None = None  # the next periodic reconcile (None: never)
    current_sync: SyncKind | None = None

    @property
    def uptime(self) -> float:
        return self.now - self.started_at


@dataclass(frozen=True, slots=True)
class Failure:
    """One dead letter waiting for retry-failed (upstream text kept as sent; print it safely)."""

    key: str
    stage: str
    title: str
    error: str
    attempts: int
    failed_at: float | None = None


@dataclass(frozen=True, slots=True)
class FailurePage:
    total: int
    items: Sequence[Failure]


#: Called once per finished batch: stage name, seconds it took, items in it.
BatchObserver = Callable[[str, float, int], None]


@runtime_checkable
class ServiceControls(Protocol):
    """The control surface of a running sync service."""

    def status(self) -> ServiceStatus: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def drain(self) -> None:
        """Finish the batches in flight, then stop the service (as SIGTERM does)."""

    def request_sync(self) -> None:
        """Run a reconcile (incremental load) as soon as the current sync ends."""

    def retry_failed(self) -> None:
        """Load the dead letters again as soon as the current sync ends."""

    def set_stage(self, stage: str, *, workers: int | None = None, batch_size: int | None = None) -> StageConfig:
        """Tune a stage now and for every later sync; returns the stage's settings after the change."""

    def failures(self, limit: int = 50, offset: int = 0) -> FailurePage: ...

    async def search(self, query: str, limit: int = 10) -> Sequence[SearchHit]: ...

    def observe_batches(self, observer: BatchObserver) -> None:
        """Have ``observer`` called for every batch any later sync finishes (batch latency histogram)."""
