"""A dashboard session over a running service's control API: ``plex-loader-tui attach``.

:class:`AttachedSession` has the shape of :class:`~.session.DashboardSession`,
so :class:`~.app.LoaderApp` hosts it as it hosts a load: the same screens,
panels and keys. What differs is what its parts mean:

* ``run()`` follows ``GET /api/v1/events`` until the operator detaches
  (``cancel()``) or the service stops after a drain asked from here. A broken
  stream (the service restarting) is retried with backoff; the header says
  "reconnecting…" meanwhile. A refused token is fatal (the service's token
  changed: no retry fixes that).
* ``snapshot()`` is the pipeline of the service's running sync, else its last one.
* tuning, pause, resume, drain and retry-failed are the API's routes; a
  refusal raises ``ValueError`` with the API's message, which the dashboard
  shows as it shows an in-process refusal.
* ``cancel()`` detaches. Nothing here can stop the service except ``drain()``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..config import RunConfig, StageConfig
from ..load.outcome import LoadResult, Phase, SessionInfo
from ..pipeline import DeadLetter, PipelineSnapshot
from ..pipeline.waiting import wait_event
from ..remote.client import ControlClient, NotOurService, ServiceUnreachable, TokenRefused
from ..search import SearchHit
from ..service.controls import FailurePage, ServiceState, ServiceStatus

log = logging.getLogger(__name__)

#: Seconds before the first reconnect attempt; doubled each failure up to :data:`MAX_BACKOFF`.
FIRST_BACKOFF = 0.25
MAX_BACKOFF = 5.0
#: Seconds a tuning answer wins over events that do not show it yet (events made before the change).
TUNE_HOLD = 2.0
#: Dead letters the error log lists (newest first), fetched from ``GET /api/v1/failures``.
FAILURES_SHOWN = 50


class Link(StrEnum):
    """The dashboard's link to the service."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DETACHED = "detached"
    STOPPED = "stopped"  # drained from here: the service is gone for good


@dataclass(frozen=True, slots=True)
class AttachView:
    """What the attached header shows."""

    url: str
    link: Link
    state: ServiceState | None
    uptime: float | None
    attempt: int = 0
    reason: str = ""
    last_seen: float | None = None  # epoch seconds of the last status received


class AttachedSession:
    """See the module docstring. ``client`` is owned (closed when :meth:`run` ends)."""

    def __init__(self, config: RunConfig, client: ControlClient) -> None:
        self.config = config
        self.client = client
        self.url = client.base_url
        self.info = SessionInfo(source=f"service at {self.url}", target="", collection=config.collection)
        self.phase: str = Phase.CONNECTING
        self.phase_detail = self.url
        self.link = Link.CONNECTING
        self.status: ServiceStatus | None = None
        self._received_at = 0.0  # time.monotonic() of the last status
        self._attempt = 0
        self._reason = ""
        self._detached = asyncio.Event()
        self._stream: asyncio.Task[None] | None = None
        self._drain_asked = False
        self._failures: tuple[DeadLetter, ...] = ()
        self._failures_key: tuple[object, ...] | None = None
        self._held: dict[str, tuple[StageConfig, float]] = {}
        #: Set by tests and the benchmark: called with each status received.
        self.on_status: list = []

    # ------------------------------------------------------------ what the dashboard reads
    @property
    def paused(self) -> bool:
        return self.status is not None and self.status.state is ServiceState.PAUSED

    def snapshot(self) -> PipelineSnapshot | None:
        return self.status.snapshot if self.status is not None else None

    def stage_settings(self) -> Mapping[str, StageConfig]:
        return self.status.stage_settings if self.status is not None else dict(self.config.stages)

    def failed_waiting(self) -> int:
        return self.status.failed_waiting if self.status is not None else 0

    def view(self) -> AttachView:
        status = self.status
        uptime = None
        if status is not None and self.link is Link.CONNECTED:
            uptime = status.uptime + (time.monotonic() - self._received_at)
        return AttachView(self.url, self.link, status.state if status is not None else None, uptime,
                          self._attempt, self._reason, status.now if status is not None else None)

    # ------------------------------------------------------------ controls (the API's routes)
    def set_workers(self, stage: str, n: int) -> None:
        self._tuned(stage, self.client.set_stage(stage, workers=n))

    def set_batch_size(self, stage: str, n: int) -> None:
        self._tuned(stage, self.client.set_stage(stage, batch_size=n))

    def _tuned(self, stage: str, settings: StageConfig) -> None:
        """Keep the service's answer at once: the next key press steps from it, not from the last event.

        An event already on its way was made before the change: until one shows the new
        value (or :data:`TUNE_HOLD` seconds pass, another client may have tuned since),
        the answer wins over the events.
        """
        self._held[stage] = (settings, time.monotonic() + TUNE_HOLD)
        if self.status is not None:
            self.status = self._with_held(self.status)

    def _with_held(self, status: ServiceStatus) -> ServiceStatus:
        now = time.monotonic()
        settings = dict(status.stage_settings)
        for stage, (held, until) in list(self._held.items()):
            if settings.get(stage) == held or now > until:
                del self._held[stage]
            else:
                settings[stage] = held
        return dataclasses.replace(status, stage_settings=settings) if settings != status.stage_settings else status

    def pause(self) -> None:
        self._take(self.client.action("pause"))

    def resume(self) -> None:
        self._take(self.client.action("resume"))

    def drain(self) -> None:
        """Drain the service: it finishes the batches in flight and stops (the dashboard then stays, detached)."""
        self._take(self.client.action("drain"))
        self._drain_asked = True

    def retry_failed(self) -> None:
        """Have the service load its dead letters again as soon as its current sync ends."""
        self._take(self.client.action("retry-failed"))

    def request_sync(self) -> None:
        self._take(self.client.action("sync"))

    async def search(self, query: str, limit: int = 10) -> Sequence[SearchHit]:
        return await self.client.search(query, limit)

    async def release(self) -> None:
        """Nothing to let go of: the service holds the collection."""

    def failures(self, limit: int = FAILURES_SHOWN, offset: int = 0) -> FailurePage:
        return self.client.failures(limit, offset)

    def cancel(self) -> None:
        """Detach: stop following the service (it keeps running)."""
        self._detached.set()
        if self._stream is not None:
            self._stream.cancel()

    # ------------------------------------------------------------ following the service
    async def run(self) -> LoadResult:
        began = time.monotonic()
        try:
            self._take(await self.client.astatus())  # unreachable or refused: the app's fatal screen
            await self._follow_until_done()
        finally:
            await self.client.aclose()
        state = Phase.DRAINED if self.link is Link.STOPPED else Phase.CANCELLED
        self.phase = state
        if self.link is not Link.STOPPED:
            self.link = Link.DETACHED
        snapshot = self.snapshot()
        return LoadResult(state=state, duration=time.monotonic() - began, snapshot=snapshot,
                          failed_waiting=self.failed_waiting(), total=snapshot.total if snapshot else None)

    async def _follow_until_done(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._detached.is_set():
            self._stream = asyncio.ensure_future(self._follow())
            try:
                await self._stream
                self._reason = "the service closed the event stream"
            except asyncio.CancelledError:
                if self._detached.is_set():
                    return
                raise
            except TokenRefused:
                raise
            except (ServiceUnreachable, NotOurService) as exc:
                self._reason = str(exc)
            finally:
                self._stream = None
            if self._drain_asked and self.status is not None and self.status.state in (
                    ServiceState.DRAINING, ServiceState.STOPPED):
                self.link = Link.STOPPED
                return
            if self.link is Link.CONNECTED:
                backoff = FIRST_BACKOFF  # it was up: try again soon
                self._attempt = 0
            self.link = Link.RECONNECTING
            self._attempt += 1
            log.info("attached: lost %s (%s); reconnecting in %.2f s", self.url, self._reason, backoff)
            await wait_event(self._detached, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def _follow(self) -> None:
        async for status in self.client.events():
            self._take(status)
            if self.link is not Link.CONNECTED:
                if self._attempt:
                    log.info("attached: back on %s", self.url)
                self.link, self._attempt, self._reason = Link.CONNECTED, 0, ""
            await self._refresh_failures(status)

    def _take(self, status: ServiceStatus) -> None:
        """Keep ``status`` as the latest (an answer to a control, or an event).

        A control's answer can overtake events the stream had already brought
        (they wait in the socket while the control's call blocks): such an older
        event must not undo what the answer showed (a pause would seem undone).
        """
        if self.status is not None and status.now < self.status.now:
            return
        snapshot = status.snapshot
        if snapshot is not None and self._failures_key is not None:
            # The error log lists the service's dead letters (GET /failures), not the sync's own list.
            snapshot = dataclasses.replace(snapshot, recent_failures=self._failures)
            status = dataclasses.replace(status, snapshot=snapshot)
        self.status = self._with_held(status) if self._held else status
        self._received_at = time.monotonic()
        if self.info != status.info:  # a new object only when it changed: the header redraws on identity
            self.info = status.info
        self.phase = Phase.STARTING if status.state is ServiceState.STARTING else Phase.RUNNING
        self.phase_detail = "the service is connecting to Plex and loading its models"
        for observer in self.on_status:
            observer(status)

    async def _refresh_failures(self, status: ServiceStatus) -> None:
        """Fetch the dead letters when their count or the last sync changed (not at every event)."""
        key = (status.failed_waiting, status.last_sync, status.current_sync)
        if key == self._failures_key:
            return
        try:
            page = await self.client.afailures(FAILURES_SHOWN)
        except ValueError as exc:  # refused: keep the last list
            log.warning("attached: failures not read: %s", exc)
            return
        letters = [DeadLetter(stage=f.stage, item={"key": f.key}, error=f.error, error_type="", attempts=f.attempts,
                              title=f.title, at=f.failed_at or 0.0) for f in page.items]
        letters.sort(key=lambda d: d.at, reverse=True)
        self._failures, self._failures_key = tuple(letters), key
        self._take(status)
