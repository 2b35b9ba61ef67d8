"""A stage at work: the engine's running copy of a :class:`~plex_loader_tui.pipeline.spec.Stage`.

:class:`StageRuntime` owns the stage's input queue, its workers (resizable
while items flow), its batch size (likewise) and its metrics; each batch a
worker takes goes through :class:`~plex_loader_tui.pipeline.batch.BatchRun`
(retries, splits, dead letters). The declarative part a caller builds lives
in :mod:`.spec`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .batch import Batch, BatchRun
from .metrics import LatencyWindow, PipelineState, RateMeter, StageSnapshot, StageState
from .queue import BatchQueue, QueueClosed
from .report import StageReport
from .spec import MAX_WORKERS, Stage, StageOutput, StageStatus, validate_batch_size, validate_workers

if TYPE_CHECKING:
    from .host import StageHost

log = logging.getLogger(__name__)

#: How each way a run can end shows on its stages once it has ended.
_ENDED_STAGE_STATE = {
    PipelineState.FINISHED: StageState.DONE,
    PipelineState.DRAINED: StageState.DRAINED,
    PipelineState.CANCELLING: StageState.CANCELLED,
    PipelineState.CANCELLED: StageState.CANCELLED,
    PipelineState.FAILED: StageState.FAILED,
}


def _is_async(fn: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)
    return call is not None and inspect.iscoroutinefunction(call)


class StageRuntime:
    """The live state of one stage inside a running pipeline.

    Every item it holds is in exactly one place: its queue (:attr:`queue`'s
    depth), one of its batches (:attr:`in_flight`), or gone on (passed to the
    next queue, loaded, skipped, failed, released). Each move happens in one
    step of the event loop, so a snapshot never sees an item twice or not at all.
    """

    def __init__(self, spec: Stage, host: StageHost, index: int) -> None:
        self.spec = spec
        self.name = spec.name
        self.host = host
        self.index = index
        self.queue = BatchQueue(spec.queue_size, spec.weight)
        self.next: StageRuntime | None = None
        self.batch_size = spec.batch_size
        self.target_workers = spec.workers
        self._tasks: set[asyncio.Task[None]] = set()
        self._retire = 0
        self._threaded = spec.threaded if spec.threaded is not None else not _is_async(spec.fn)
        self._executor: ThreadPoolExecutor | None = (
            ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix=f"stage-{spec.name}")
            if self._threaded
            else None
        )
        # Metrics: plain counters, touched only from the event loop thread (the
        # report's retries and errors also come from threads: it has a lock).
        self.report: StageReport = spec.report
        self.items_in = 0
        self.items_out = 0
        self.skipped = 0
        self.failed = 0
        self.busy = 0
        self.blocked = 0  # workers waiting for room downstream
        self.in_flight = 0  # items taken from the queue and not accounted for yet
        self.rate = RateMeter()
        self.latency = LatencyWindow()
        self.finished = False
        self.busy_seconds: deque[tuple[float, float]] = deque(maxlen=512)
        self._thread_calls: set[Future[Any]] = set()
        self._batches: set[Batch] = set()

    # ----------------------------------------------------------------- workers
    @property
    def workers(self) -> int:
        """Workers that will keep taking batches (excludes those retiring)."""
        return len(self._tasks) - self._retire

    def start(self) -> None:
        for _ in range(self.target_workers):
            self._spawn()

    def _spawn(self) -> None:
        task = asyncio.get_running_loop().create_task(self._worker(), name=f"{self.name}-worker")
        self._tasks.add(task)
        task.add_done_callback(self._worker_done)

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:  # a bug in the engine itself: stop everything, loudly
            self.host.fail(exc)
            return
        if not self._tasks and self.queue.exhausted and not self.finished:
            self.finished = True
            self.host.stage_finished(self)

    def set_workers(self, n: int) -> None:
        validate_workers(self.name, n)
        self.target_workers = n
        if self.finished:
            return
        current = self.workers
        if n > current:
            # Cancel pending retirements first; they are cheaper than new tasks.
            take_back = min(self._retire, n - current)
            self._retire -= take_back
            for _ in range(n - current - take_back):
                self._spawn()
        elif n < current:
            self._retire += current - n
            self.queue.wake_getters()

    def set_batch_size(self, n: int) -> None:
        validate_batch_size(self.name, n)
        self.batch_size = n

    def weigh(self, items: Sequence[Any]) -> int:
        """How many library items ``items`` stand for (a listing page: its size)."""
        return self.queue.weigh(items)

    def queued_weight(self) -> int:
        return self.queue.depth

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def abandon(self) -> int:
        """The run stops now: its batches' open items are released; returns how many."""
        released = self.in_flight
        for batch in self._batches:
            batch.open = 0
        self.in_flight = 0
        return released

    async def join(self) -> None:
        tasks = list(self._tasks)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def shutdown_threads(self) -> None:
        """Wait for any thread still finishing a batch, so no thread outlives the run.

        A cancelled worker cannot interrupt a thread mid-batch; we wait for
        those calls to return, then join the (now idle) pool threads.
        """
        if self._executor is None:
            return
        pending = [asyncio.wrap_future(f) for f in self._thread_calls if not f.done()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def _worker(self) -> None:
        host = self.host
        queue = self.queue
        while True:
            if self._retire > 0:
                self._retire -= 1
                # Leave the pool now, not in the done callback: a resize in between
                # would still count this worker and retire one more than asked.
                self._tasks.discard(asyncio.current_task())  # type: ignore[arg-type]
                return
            if host.paused:
                await host.wait_until_resumed()
                continue
            batch = await queue.get_batch(self.batch_size, self.spec.linger)
            if batch is None:
                return
            if not batch:
                continue
            work = Batch(self.weigh(batch))
            self._batches.add(work)
            self.items_in += work.open
            self.in_flight += work.open
            try:
                if host.paused:
                    # Paused while this worker waited for items: hold the batch (still
                    # in flight, so a cancel releases it), do not process it.
                    await host.wait_until_resumed()
                await self._work_on(batch, work)
            except QueueClosed:
                return
            finally:
                self._batches.discard(work)
                # Only a cancelled or failed run leaves items open here, and it
                # released them (abandon) before the workers stopped.
                self.in_flight -= work.open

    async def _work_on(self, batch: list[Any], work: Batch) -> None:
        self.busy += 1
        work.started = time.monotonic()
        try:
            await BatchRun(self, work).process(batch)
        finally:
            self.busy -= 1
            # Time spent waiting for room downstream is not this stage's work:
            # it would make every stage upstream of the bottleneck look busy.
            working = time.monotonic() - work.started - work.waited
            self.latency.add(working)
            self.busy_seconds.append((work.started, working))
            self.host.batch_done(self.spec.name, working, self.weigh(batch))

    # --------------------------------------------------------------- a batch
    async def call(self, batch: list[Any]) -> Sequence[Any] | StageOutput:
        """The stage function on ``batch``: in the stage's threads, or on the loop if it is async."""
        if self._executor is not None:
            future = self._executor.submit(self.spec.fn, batch)
            self._thread_calls.add(future)
            future.add_done_callback(self._thread_calls.discard)
            return await asyncio.wrap_future(future)
        return await self.spec.fn(batch)  # type: ignore[misc]

    def resolve(self, batch: Batch, n: int) -> None:
        """``n`` of ``batch``'s items left this stage (passed on, loaded, skipped or failed)."""
        batch.open -= n
        self.in_flight -= n

    # -------------------------------------------------------------- metrics
    def status(self) -> StageStatus | None:
        """What the stage function reports about itself, if it reports anything."""
        return self.spec.status() if self.spec.status is not None else None

    def state(self, status: StageStatus | None = None) -> StageState:
        host_state = self.host.state
        if host_state.ended or host_state == PipelineState.CANCELLING:
            # Once the run is over every stage says how it ended, not "starved".
            return _ENDED_STAGE_STATE[host_state]
        if self.finished:
            return StageState.DONE
        if host_state == PipelineState.PENDING:
            return StageState.IDLE
        if self.host.paused:
            return StageState.PAUSED if self.busy == 0 else StageState.PAUSING
        if status is not None and status.rate_limited:
            return StageState.RATE_LIMITED
        if self.blocked and self.blocked >= self.busy:
            return StageState.BACKPRESSURE
        if self.busy == 0 and len(self.queue) == 0:
            return StageState.STARVED
        return StageState.RUNNING

    @property
    def pool_size(self) -> int:
        """Workers in the pool: the target, or more while removed ones finish their batch.

        Never less than the target (workers leaving at the end of a run do not
        shrink it) and never less than the busy workers.
        """
        return max(self.target_workers, len(self._tasks))

    def utilisation(self, now: float, window: float = 5.0) -> float:
        """Fraction of worker time spent on batches over the last ``window`` seconds."""
        workers = max(1, self.workers)
        since = now - window
        busy = 0.0
        for started, working in self.busy_seconds:
            end = started + working
            if end > since:
                busy += end - max(started, since)
        for batch in self._batches:  # batches still running count too
            if batch.started is None:
                continue
            end = batch.blocked_since if batch.blocked_since is not None else now
            busy += max(0.0, end - max(batch.started, since) - batch.waited)
        return min(1.0, busy / (workers * window))

    def snapshot(self, now: float, run_seconds: float | None = None) -> StageSnapshot:
        """The stage now; ``run_seconds`` once the run has ended (rates become its averages)."""
        status = self.status()
        report = self.report.counts()
        if run_seconds is None:
            throughput = self.rate.rate(now=now)
        else:
            throughput = self.rate.total / run_seconds if run_seconds > 0 else 0.0
        return StageSnapshot(
            name=self.name,
            state=self.state(status),
            items_in=self.items_in,
            items_out=self.items_out,
            skipped=self.skipped,
            failed=self.failed,
            retries=report.retries,
            errors=report.errors,
            queue_depth=self.queue.depth,
            queue_capacity=self.queue.capacity,
            busy_workers=self.busy,
            workers=self.pool_size,
            batch_size=self.batch_size,
            throughput=throughput,
            latency_p50=self.latency.percentile(50),
            latency_p95=self.latency.percentile(95),
            last_error=report.last_error,
            history=self.rate.history(60, now=now),
            detail=status.detail if status is not None else None,
            in_flight=self.in_flight,
        )
