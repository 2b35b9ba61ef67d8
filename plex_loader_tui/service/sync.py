"""The sync service: a load that stays open and keeps the collection in step with Plex.

:class:`SyncService` opens the load's parts once (Plex, the models, Qdrant,
the load state, the enricher: :meth:`LoadSession.open`), runs a startup sync
(an incremental load, which also reloads the items a killed run left
pending), and then waits. Each wake-up runs one *sync* on the same parts,
each with its own pipeline:

* ``changes``: the rating keys Plex's notification stream named (already
  debounced and grouped), fetched in batched requests; keys Plex no longer
  knows lose their points;
* ``reconcile``: an incremental load, asked for over the API, after the
  notification stream reconnected (changes were missed), or every
  ``--sync-interval``;
* ``retry-failed``: the dead letters again.

Waiting is an :class:`asyncio.Event` with the next periodic reconcile as its
timeout: an idle service does no work at all. Everything here runs on the
service's event loop; the notification watcher's thread hands its changes
over with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..config import RunConfig, StageConfig
from ..errors import ConfigError, FatalError
from ..load import LoadSession
from ..pipeline.spec import validate_batch_size, validate_workers
from ..pipeline.waiting import wait_event
from ..ports import SectionPlan
from ..secrets import redact
from ..sources.plex_http import KEYS_PER_REQUEST
from ..stages import STAGE_NAMES
from .controls import (
    BatchObserver,
    Failure,
    FailurePage,
    NotAllowedNow,
    ServiceState,
    ServiceStatus,
    SyncKind,
    SyncRecord,
    UnknownStage,
    WatchStatus,
)
from .targets import ChangedItem, plan_changes, unread_changes
from .totals import RunningTotals
from .watching import Watching

if TYPE_CHECKING:
    from ..load.outcome import LoadResult
    from ..search import SearchHit

log = logging.getLogger(__name__)

#: After a sync that failed (Plex down, Qdrant refusing), the next reconcile waits this long, doubling.
FIRST_RETRY_SECONDS = 30.0
#: How long the startup sync waits for the notification stream to come up first.
STREAM_WAIT_SECONDS = 10.0


class SyncService:
    """A running ``serve`` (implements :class:`~.controls.ServiceControls`)."""

    def __init__(
        self,
        config: RunConfig,
        *,
        session: LoadSession | None = None,
        keys_per_request: int = KEYS_PER_REQUEST,
        watch: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.session = session if session is not None else LoadSession(config)
        self.session.on_batch = self._on_batch
        self.keys_per_request = keys_per_request
        self._watch_enabled = watch
        self._watching: Watching | None = None
        self._clock = clock
        self._started_at = clock()
        self._state = ServiceState.STARTING
        self._wake = asyncio.Event()
        self._paused = False
        self._stopping = False
        self._want_reconcile = False
        self._want_retry = False
        self._changes: list[ChangedItem] = []
        self._current: SyncKind | None = None
        self._last: SyncRecord | None = None
        self._last_success: SyncRecord | None = None
        self._next_reconcile_at: float | None = None
        self._retry_delay = FIRST_RETRY_SECONDS
        self._sections: dict[str, SectionPlan] = {}
        self._asked_about: set[str] = set()  # unknown sections a reconcile was asked for
        self._not_loaded: set[str] = set()  # sections a listing confirmed this load does not take
        self._totals = RunningTotals()
        self._observers: list[BatchObserver] = []
        #: Called with each finished sync (tests and the headless log wait on it).
        self.on_sync: Callable[[SyncRecord], None] | None = None

    # ------------------------------------------------------------ notifications
    def changes_arrived(self, changes: Sequence[ChangedItem]) -> None:
        """A debounced batch of changed rating keys (call on the service's loop)."""
        if changes:
            self._changes.extend(changes)
            self._poke()

    def stream_connected(self) -> None:
        """The stream is up for the first time: a listing made before that may have missed changes."""
        if self._sections:
            log.info("notification stream connected after the libraries were listed: reconciling")
            self._want_reconcile = True
            self._poke()

    def stream_reconnected(self) -> None:
        """The notification stream came back: what it missed needs a reconcile."""
        log.info("notification stream reconnected: reconciling with Plex")
        self._want_reconcile = True
        self._poke()

    def _poke(self) -> None:
        self._wake.set()

    # ----------------------------------------------------------------- controls
    @property
    def stopping(self) -> bool:
        """A drain or cancel was asked for."""
        return self._stopping

    @property
    def state(self) -> ServiceState:
        if self._state in (ServiceState.LOADING, ServiceState.WATCHING) and self._paused:
            return ServiceState.PAUSED
        return self._state

    def status(self) -> ServiceStatus:
        snapshot = self.session.snapshot()
        running = snapshot if self._current is not None else None
        watch = self._watching.status() if self._watching is not None else WatchStatus(connected=False)
        # Changes handed over and not yet synced, plus those the batcher still holds.
        waiting = len({(c.section_key, c.rating_key) for c in self._changes})
        watch = replace(watch, pending_changes=watch.pending_changes + waiting)
        return ServiceStatus(
            state=self.state,
            started_at=self._started_at,
            now=self._clock(),
            info=self.session.info,
            snapshot=snapshot,
            stage_settings=self._stage_settings(),
            watch=watch,
            totals=self._totals.view(
                running, self.session.rate_limited_by_service(), self.session.paced_seconds_by_service()
            ),
            failed_waiting=self.session.failed_waiting(),
            last_sync=self._last,
            last_success=self._last_success,
            next_sync_at=self._next_reconcile_at,
            current_sync=self._current,
        )

    def _refuse_when_stopping(self) -> None:
        if self._stopping:
            raise NotAllowedNow("the service is stopping")

    def pause(self) -> None:
        self._refuse_when_stopping()
        if self._paused:
            raise NotAllowedNow("the service is already paused")
        self._paused = True
        self.session.pause()
        log.info("paused: no batch starts and no sync begins until resumed")

    def resume(self) -> None:
        self._refuse_when_stopping()
        if not self._paused:
            raise NotAllowedNow("the service is not paused")
        self._paused = False
        self.session.resume()
        log.info("resumed")
        self._poke()

    def drain(self) -> None:
        """Finish the batches in flight, then stop (SIGTERM does the same)."""
        self._refuse_when_stopping()
        self._stopping = True
        self._state = ServiceState.DRAINING
        if self._current is not None:
            self.session.drain()
        log.info("draining: finishing the batches in flight, then stopping")
        self._poke()

    def cancel(self) -> None:
        """Stop now (a second signal): items in flight are left for the next start."""
        self._stopping = True
        self._state = ServiceState.DRAINING
        self.session.cancel()
        self._poke()

    def request_sync(self) -> None:
        self._refuse_when_stopping()
        self._want_reconcile = True
        self._poke()

    def retry_failed(self) -> None:
        self._refuse_when_stopping()
        self._want_retry = True
        self._poke()

    def set_stage(self, stage: str, *, workers: int | None = None, batch_size: int | None = None) -> StageConfig:
        if stage not in STAGE_NAMES:
            raise UnknownStage(f"no stage named {stage!r} (stages: {', '.join(STAGE_NAMES)})")
        if workers is None and batch_size is None:
            raise ValueError("give workers, batch_size or both")
        if workers is not None:
            validate_workers(stage, workers)
        if batch_size is not None:
            validate_batch_size(stage, batch_size)
        moving = self._current is not None and self.session.pipeline is not None
        if moving:
            # The engine's refusals (ingest's page size during a listing) come back as they are.
            if batch_size is not None:
                self.session.set_batch_size(stage, batch_size)
            if workers is not None:
                self.session.set_workers(stage, workers)
        try:
            self.config = self.config.with_stage(stage, workers=workers, batch_size=batch_size)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        self.session.config = self.config  # every later sync starts with it
        return self._stage_settings()[stage]

    def _stage_settings(self) -> dict[str, StageConfig]:
        """The running sync's live settings; between syncs, what the next one starts with."""
        if self._current is not None:
            return self.session.stage_settings()
        # The last sync's finished pipeline still answers with its own, older figures.
        return {name: self.config.stage(name) for name in STAGE_NAMES}

    def failures(self, limit: int = 50, offset: int = 0) -> FailurePage:
        # One page read from the state: a TMDb outage can leave every item a dead letter.
        page = self.session.failed_records(limit, offset)
        items = [Failure(r.key, r.stage, r.title, r.error, r.attempts, r.failed_at) for r in page]
        return FailurePage(total=self.session.failed_waiting(), items=items)

    async def search(self, query: str, limit: int = 10) -> Sequence[SearchHit]:
        return await self.session.search(query, limit)

    def observe_batches(self, observer: BatchObserver) -> None:
        self._observers.append(observer)

    def _on_batch(self, stage: str, seconds: float, items: int) -> None:
        for observer in self._observers:
            observer(stage, seconds, items)

    # ---------------------------------------------------------------------- run
    async def open(self) -> None:
        """Connect and load the models (raises :class:`FatalError`: the service cannot start)."""
        try:
            await self.session.open()
        except BaseException:
            await self.session.close()
            self._state = ServiceState.STOPPED
            raise

    async def run(self) -> None:
        """Sync at start, then on every change, request and interval, until drained or cancelled.

        Call :meth:`open` first. Returns once stopped; the parts are closed.
        """
        try:
            if self._watch_enabled and not self._stopping:
                # Listening before the startup sync: what changes during it is not missed.
                endpoints = self.session.endpoints
                assert endpoints.plex_url is not None
                self._watching = Watching(self, endpoints.plex_url, endpoints.plex_token)
                self._watching.start()
                # Listing before the stream is up would cost a reconcile when it comes up (see
                # stream_connected); a stream that is slow to come is not waited for long.
                await self._watching.wait_connected(STREAM_WAIT_SECONDS)
            if not self._stopping:
                await self._sync(SyncKind.STARTUP)
            while (kind := await self._next_work()) is not None:
                await self._sync(kind)
        finally:
            self._state = ServiceState.STOPPED
            if self._watching is not None:
                await self._watching.close()
            await self.session.close()
            log.info("stopped")

    async def _next_work(self) -> SyncKind | None:
        while True:
            self._wake.clear()
            if self._stopping:
                return None
            if not self._paused:
                now = self._clock()
                if self._want_retry:
                    self._want_retry = False
                    return SyncKind.RETRY_FAILED
                if self._want_reconcile or (self._next_reconcile_at is not None and now >= self._next_reconcile_at):
                    self._want_reconcile = False
                    return SyncKind.RECONCILE
                if self._changes:
                    return SyncKind.CHANGES
            timeout = None
            if not self._paused and self._next_reconcile_at is not None:
                timeout = max(0.0, self._next_reconcile_at - self._clock())
            await wait_event(self._wake, timeout)

    async def _sync(self, kind: SyncKind) -> None:
        self._current = kind
        self._state = ServiceState.LOADING
        started = self._clock()
        result: LoadResult | None = None
        error: str | None = None
        try:
            result = await self._run_sync(kind)
            if result is not None and kind == SyncKind.CHANGES:
                error = unread_changes(result.dead_letters)
        except FatalError as exc:
            error = redact(str(exc), self.config.secret_values())
        except Exception as exc:  # noqa: BLE001 - the service outlives one bad sync
            # Not one of ours (a store or a disk refusing): keep serving, try again later.
            log.debug("%s sync raised", kind, exc_info=True)
            error = redact(f"{type(exc).__name__}: {exc}", self.config.secret_values())
        finally:
            self._current = None
            if not self._stopping:
                self._state = ServiceState.WATCHING
        if error is not None:
            log.error("%s sync failed: %s (reconciling in %.0f s)", kind, error, self._retry_delay)
        if result is None and error is None:
            return  # nothing to do (no known section changed)
        self._finish(kind, started, result, error)

    async def _run_sync(self, kind: SyncKind) -> LoadResult | None:
        session = self.session
        if kind == SyncKind.CHANGES:
            changes, self._changes = self._changes, []
            server = session.server
            assert server is not None
            planned = plan_changes(changes, server, self._sections, self.keys_per_request)
            unknown = planned.unknown_sections - self._not_loaded
            if unknown:
                # A section the last listing did not have (a new library): only a listing can place it.
                self._want_reconcile = True
                self._asked_about |= unknown
            if planned.empty:
                return None
            log.info("syncing %d changed items (%d requests)", planned.plan.total, len(planned.plan.pages))
            return await session.run_plan(planned.plan, full=False, retry_failed=False)
        plan = await session.plan_listing()
        self._sections = {s.key: s for s in plan.sections}
        # Sections a listing still lacks are not loaded here (--library): their changes are ignored.
        self._not_loaded |= self._asked_about - self._sections.keys()
        self._asked_about.clear()
        full = kind == SyncKind.STARTUP and self.config.full
        log.info("%s sync: listing %d items", kind, plan.total)
        return await session.run_plan(plan, full=full, retry_failed=kind == SyncKind.RETRY_FAILED)

    def _finish(self, kind: SyncKind, started: float, result: LoadResult | None, error: str | None) -> None:
        finished = self._clock()
        snapshot = result.snapshot if result is not None else None
        record = SyncRecord(
            kind=kind,
            started_at=started,
            finished_at=finished,
            outcome=str(result.state) if result is not None and error is None else "failed",
            loaded=snapshot.loaded if snapshot else 0,
            skipped=snapshot.skipped if snapshot else 0,
            failed=snapshot.failed if snapshot else 0,
            deleted=result.deleted if result is not None else 0,
            error=error,
        )
        self._totals.add_sync(kind, snapshot, record.deleted)
        self._last = record
        interval = self.config.sync_interval
        if error is not None:
            # Plex or Qdrant is down: come back sooner than the interval, then less and less often.
            self._next_reconcile_at = finished + self._retry_delay
            cap = interval if interval > 0 else 3600.0
            self._retry_delay = min(self._retry_delay * 2, cap)
        else:
            if record.outcome == "finished":
                self._last_success = record
            self._retry_delay = FIRST_RETRY_SECONDS
            if kind != SyncKind.CHANGES:
                self._next_reconcile_at = finished + interval if interval > 0 else None
        log.info(
            "%s sync %s in %.1f s: %d loaded, %d unchanged, %d failed, %d deleted",
            kind, record.outcome, record.duration, record.loaded, record.skipped, record.failed, record.deleted,
        )
        if self.on_sync is not None:
            self.on_sync(record)

