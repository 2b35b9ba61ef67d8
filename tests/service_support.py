"""A sync service for the control API's tests: :class:`ServiceControls` over a real engine.

:class:`SimService` runs one sync: a real :class:`~plex_loader_tui.pipeline.Pipeline`
of the four stages, whose functions only wait (``asyncio.sleep``) instead of
calling Plex, TMDb, fastembed and Qdrant. Pause, drain, tuning, dead letters and
the snapshot are the engine's own, so a test of a route sees what a real
service would do: pause stops items flowing, ``PUT /stages`` changes the
engine's worker pool, drain ends the run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from plex_loader_tui.config import StageConfig
from plex_loader_tui.load import SessionInfo
from plex_loader_tui.pipeline import DeadLetter, Pipeline, PipelineState, RetryPolicy, Stage
from plex_loader_tui.pipeline.spec import validate_batch_size, validate_workers
from plex_loader_tui.search import SearchHit
from plex_loader_tui.service.controls import (
    BatchObserver,
    Failure,
    FailurePage,
    NotAllowedNow,
    ServiceState,
    ServiceStatus,
    ServiceTotals,
    SyncKind,
    SyncRecord,
    UnknownStage,
    WatchStatus,
)
from plex_loader_tui.stages import STAGE_NAMES


class SimService:
    """See the module docstring. ``fail_every``: every n-th item fails in embed (a dead letter)."""

    def __init__(self, *, items: int = 100_000, delay: float = 0.005, fail_every: int = 0) -> None:
        self.items = items
        self.delay = delay
        self.fail_every = fail_every
        self.started_at = time.time()
        self.state = ServiceState.STARTING
        self.info = SessionInfo(source="Simulated Plex at http://127.0.0.1:1 (token ****abcd)",
                                target="Qdrant (embedded) /tmp/sim", collection="media-items-sim")
        self.settings = {name: StageConfig(workers=2, batch_size=4) for name in STAGE_NAMES}
        self.pipeline: Pipeline | None = None
        self.run_task: asyncio.Task[None] | None = None
        self.dead: list[DeadLetter] = []
        self.observers: list[BatchObserver] = []
        self.sync_requests = 0
        self.retry_requests = 0
        self.last_sync: SyncRecord | None = None
        self.stopped = asyncio.Event()

    # ---------------------------------------------------------------- the sync
    def _work(self, name: str):
        async def fn(batch: list[int]) -> list[int]:
            started = time.monotonic()
            await asyncio.sleep(self.delay)
            if name == "embed" and self.fail_every:
                bad = [i for i in batch if i % self.fail_every == self.fail_every - 1]
                if bad:
                    raise ValueError(f"cannot embed item {bad[0]}: no text")
            for observe in self.observers:
                observe(name, time.monotonic() - started, len(batch))
            return batch

        return fn

    async def start(self) -> None:
        """Start the sync; returns at once (the run goes on in a task)."""
        stages = [
            Stage(name, self._work(name), workers=cfg.workers, batch_size=cfg.batch_size, queue_size=64,
                  retry=RetryPolicy(attempts=1), describe="Simulated item {}".format, linger=0.0)
            for name, cfg in self.settings.items()
        ]
        self.pipeline = Pipeline(stages, range(self.items), total=self.items, on_dead_letter=self.dead.append)
        self.state = ServiceState.LOADING
        self.run_task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        assert self.pipeline is not None
        began = time.time()
        result = await self.pipeline.run()
        snap = result.snapshot
        self.last_sync = SyncRecord(SyncKind.STARTUP, began, time.time(), str(result.state),
                                    loaded=snap.loaded, skipped=snap.skipped, failed=snap.failed)
        self.state = ServiceState.STOPPED if self.state is ServiceState.DRAINING else ServiceState.WATCHING
        self.stopped.set()

    async def close(self) -> None:
        if self.pipeline is not None:
            self.pipeline.cancel()
        if self.run_task is not None:
            await asyncio.gather(self.run_task, return_exceptions=True)

    # ---------------------------------------------------------------- controls
    def status(self) -> ServiceStatus:
        snapshot = self.pipeline.snapshot() if self.pipeline is not None else None
        items: dict[tuple[str, str], int] = {}
        retries: dict[str, int] = {}
        errors: dict[str, int] = {}
        if snapshot is not None:
            for stage in snapshot.stages:
                items[(stage.name, "out")] = stage.items_out
                items[(stage.name, "skipped")] = stage.skipped
                items[(stage.name, "failed")] = stage.failed
                retries[stage.name] = stage.retries
                errors[stage.name] = stage.errors
        return ServiceStatus(
            state=self.state,
            started_at=self.started_at,
            now=time.time(),
            info=self.info,
            snapshot=snapshot,
            stage_settings=dict(self.settings),
            watch=WatchStatus(connected=False),
            totals=ServiceTotals(items=items, retries=retries, errors=errors, syncs={"startup": 1}),
            failed_waiting=len(self.dead),
            last_sync=self.last_sync,
            last_success=self.last_sync,
            current_sync=SyncKind.STARTUP if self.state in (ServiceState.LOADING, ServiceState.PAUSED) else None,
        )

    def pause(self) -> None:
        if self.state is not ServiceState.LOADING or self.pipeline is None:
            raise NotAllowedNow(f"cannot pause while {self.state}")
        self.pipeline.pause()
        self.state = ServiceState.PAUSED

    def resume(self) -> None:
        if self.state is not ServiceState.PAUSED or self.pipeline is None:
            raise NotAllowedNow(f"cannot resume while {self.state}: not paused")
        self.pipeline.resume()
        self.state = ServiceState.LOADING

    def drain(self) -> None:
        if self.state in (ServiceState.DRAINING, ServiceState.STOPPED):
            raise NotAllowedNow(f"already {self.state}")
        if self.pipeline is not None and self.pipeline.state.moving:
            self.state = ServiceState.DRAINING
            self.pipeline.drain()
        else:
            self.state = ServiceState.STOPPED
            self.stopped.set()

    def request_sync(self) -> None:
        if self.state in (ServiceState.DRAINING, ServiceState.STOPPED):
            raise NotAllowedNow(f"the service is {self.state}")
        self.sync_requests += 1

    def retry_failed(self) -> None:
        if self.state in (ServiceState.DRAINING, ServiceState.STOPPED):
            raise NotAllowedNow(f"the service is {self.state}")
        self.retry_requests += 1

    def set_stage(self, stage: str, *, workers: int | None = None, batch_size: int | None = None) -> StageConfig:
        if stage not in self.settings:
            raise UnknownStage(f"no stage named {stage!r} (stages: {', '.join(STAGE_NAMES)})")
        # The engine's own checks, both before either applies: a PUT changes all or nothing.
        if workers is not None:
            validate_workers(stage, workers)
        if batch_size is not None:
            validate_batch_size(stage, batch_size)
        if self.pipeline is not None and self.pipeline.state.moving:
            if workers is not None:
                self.pipeline.set_workers(stage, workers)
            if batch_size is not None:
                self.pipeline.set_batch_size(stage, batch_size)
        current = self.settings[stage]
        self.settings[stage] = StageConfig(workers if workers is not None else current.workers,
                                           batch_size if batch_size is not None else current.batch_size)
        return self.settings[stage]

    def failures(self, limit: int = 50, offset: int = 0) -> FailurePage:
        page = self.dead[offset:offset + limit]
        return FailurePage(total=len(self.dead), items=tuple(
            Failure(key=str(d.item), stage=d.stage, title=d.title, error=d.error, attempts=d.attempts, failed_at=d.at)
            for d in page
        ))

    async def search(self, query: str, limit: int = 10) -> Sequence[SearchHit]:
        loaded = self.pipeline.snapshot().loaded if self.pipeline is not None else 0
        return [SearchHit(f"sim-{i}", 1.0 / (i + 1), f"Simulated item {i}", "movie", 2000 + i, None,
                          {"title": f"Simulated item {i}", "query": query, "text": "embedded text"})
                for i in range(min(loaded, limit))]

    def observe_batches(self, observer: BatchObserver) -> None:
        self.observers.append(observer)

    @property
    def paused_still(self) -> bool:
        """Paused, and every batch in flight has finished."""
        return (self.pipeline is not None and self.pipeline.state is PipelineState.PAUSED
                and all(s.busy_workers == 0 for s in self.pipeline.snapshot().stages))
