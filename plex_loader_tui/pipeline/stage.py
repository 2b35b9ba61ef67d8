"""A stage at work: the engine's running copy of a :class:`~plex_loader_tui.pipeline.spec.Stage`.

:class:`StageRuntime` owns the stage's input queue, its workers (resizable
while items flow), its batch size (likewise), its retries and splits, and its
metrics. The declarative part a caller builds lives in :mod:`.spec`.
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

from .errors import DeadLetter
from .metrics import LatencyWindow, PipelineState, RateMeter, StageSnapshot, StageState
from .queue import BatchQueue, QueueClosed
from .spec import MAX_WORKERS, Stage, StageOutput, StageStatus, validate_batch_size, validate_workers

if TYPE_CHECKING:
    from .host import StageHost

log = logging.getLogger(__name__)


def _is_async(fn: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)
    return call is not None and inspect.iscoroutinefunction(call)


class _BatchClock:
    """When a batch started, and how long it has waited for room downstream."""

    __slots__ = ("started", "waited", "blocked_since")

    def __init__(self, started: float) -> None:
        self.started = started
        self.waited = 0.0
        self.blocked_since: float | None = None


class StageRuntime:
    """The live state of one stage inside a running pipeline."""

    def __init__(self, spec: Stage, host: StageHost, index: int) -> None:
        self.spec = spec
        self.name = spec.name
        self.host = host
        self.index = index
        self.queue = BatchQueue(spec.queue_size)
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
        # Metrics: plain counters, touched only from the event loop thread.
        self.items_in = 0
        self.items_out = 0
        self.skipped = 0
        self.failed = 0
        self.retries = 0
        self.errors = 0
        self.busy = 0
        self.blocked = 0  # workers waiting for room downstream
        self.in_flight = 0  # items taken from the queue and not yet passed on
        self.last_error: str | None = None
        self.rate = RateMeter()
        self.latency = LatencyWindow()
        self.finished = False
        self.busy_seconds: deque[tuple[float, float]] = deque(maxlen=512)
        self._thread_calls: set[Future[Any]] = set()
        self._active: set[_BatchClock] = set()

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
        weight = self.spec.weight
        return sum(weight(item) for item in items) if weight is not None else len(items)

    def queued_weight(self) -> int:
        return self.weigh(self.queue.items()) if self.spec.weight is not None else len(self.queue)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

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
                return
            if host.paused:
                await host.wait_until_resumed()
                continue
            batch = await queue.get_batch(self.batch_size, self.spec.linger)
            if batch is None:
                return
            if not batch:
                continue
            weight = self.weigh(batch)
            self.items_in += len(batch)
            self.in_flight += weight
            if host.paused:
                # Paused while this worker waited for items: hold the batch (still
                # counted in flight, so a cancel reports it), do not process it.
                await host.wait_until_resumed()
            self.busy += 1
            clock = _BatchClock(time.monotonic())
            self._active.add(clock)
            try:
                await self._process(batch, clock)
            except QueueClosed:
                return
            finally:
                self._active.discard(clock)
                self.busy -= 1
                self.in_flight -= weight
                # Time spent waiting for room downstream is not this stage's work:
                # it would make every stage upstream of the bottleneck look busy.
                working = time.monotonic() - clock.started - clock.waited
                self.latency.add(working)
                self.busy_seconds.append((clock.started, working))

    # --------------------------------------------------------------- a batch
    async def _call(self, batch: list[Any]) -> Sequence[Any] | StageOutput:
        if self._executor is not None:
            future = self._executor.submit(self.spec.fn, batch)
            self._thread_calls.add(future)
            future.add_done_callback(self._thread_calls.discard)
            return await asyncio.wrap_future(future)
        return await self.spec.fn(batch)  # type: ignore[misc]

    def _on_retry(self, exc: BaseException) -> None:
        self.retries += 1
        self.errors += 1
        self.last_error = _describe_error(exc)

    async def _process(self, batch: list[Any], clock: _BatchClock) -> None:
        policy = self.spec.retry
        try:
            result = await policy.call(lambda: self._call(batch), self._on_retry)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure is routed somewhere
            if policy.is_fatal(exc):
                self.errors += 1
                self.last_error = _describe_error(exc)
                self.host.fail(exc)  # cancels every worker, this one included
                return
            if not isinstance(exc, Exception):
                raise
            self.errors += 1
            self.last_error = _describe_error(exc)
            if policy.is_retryable(exc):
                # Still failing after every retry: the service is down, not the data
                # bad. Splitting would only multiply the retries (and the waiting).
                for item in batch:
                    self._dead_letter(item, exc, policy.attempts)
                return
            if len(batch) > 1:
                # A data error: split so one bad item does not sink its neighbours.
                middle = len(batch) // 2
                log.debug("stage %s: batch of %d failed (%s); splitting", self.name, len(batch), exc)
                await self._process(batch[:middle], clock)
                await self._process(batch[middle:], clock)
                return
            self._dead_letter(batch[0], exc, 1)
            return
        if isinstance(result, StageOutput):
            outputs, skipped = result.items, result.skipped
        else:
            outputs, skipped = result, 0
        self.skipped += skipped
        self.host.count_skipped(skipped)
        await self._emit(outputs, skipped, clock)

    async def _emit(self, outputs: Sequence[Any], skipped: int, clock: _BatchClock) -> None:
        done_weight = skipped
        if self.next is not None:
            self.blocked += 1
            clock.blocked_since = time.monotonic()
            try:
                await self.next.queue.put_many(outputs)
            finally:
                self.blocked -= 1
                clock.waited += time.monotonic() - clock.blocked_since
                clock.blocked_since = None
        else:
            self.host.count_loaded(len(outputs))
        self.items_out += len(outputs)
        done_weight += len(outputs)
        self.rate.add(done_weight)

    def _dead_letter(self, item: Any, exc: BaseException, attempts: int) -> None:
        weight = self.spec.weight(item) if self.spec.weight is not None else 1
        title = ""
        if self.spec.describe is not None:
            try:
                title = self.spec.describe(item)
            except Exception:  # noqa: BLE001 - a title is best effort
                title = repr(item)[:80]
        letter = DeadLetter(
            stage=self.name,
            item=item,
            error=_describe_error(exc),
            error_type=type(exc).__name__,
            attempts=attempts,
            title=title,
            at=time.time(),
            weight=weight,
        )
        self.failed += weight
        self.rate.add(weight)
        self.host.record_dead_letter(letter)

    # -------------------------------------------------------------- metrics
    def status(self) -> StageStatus | None:
        """What the stage function reports about itself, if it reports anything."""
        return self.spec.status() if self.spec.status is not None else None

    def state(self, status: StageStatus | None = None) -> StageState:
        if self.finished:
            return StageState.DONE
        if self.host.state == PipelineState.PENDING:
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

    def utilisation(self, now: float, window: float = 5.0) -> float:
        """Fraction of worker time spent on batches over the last ``window`` seconds."""
        workers = max(1, self.workers)
        since = now - window
        busy = 0.0
        for started, working in self.busy_seconds:
            end = started + working
            if end > since:
                busy += end - max(started, since)
        for clock in self._active:  # batches still running count too
            end = clock.blocked_since if clock.blocked_since is not None else now
            busy += max(0.0, end - max(clock.started, since) - clock.waited)
        return min(1.0, busy / (workers * window))

    def snapshot(self, now: float) -> StageSnapshot:
        status = self.status()
        return StageSnapshot(
            name=self.name,
            state=self.state(status),
            items_in=self.items_in,
            items_out=self.items_out,
            skipped=self.skipped,
            failed=self.failed,
            retries=self.retries,
            errors=self.errors,
            queue_depth=len(self.queue),
            queue_capacity=self.queue.capacity,
            busy_workers=self.busy,
            workers=self.target_workers if self.finished else max(0, self.workers),
            batch_size=self.batch_size,
            throughput=self.rate.rate(now=now),
            latency_p50=self.latency.percentile(50),
            latency_p95=self.latency.percentile(95),
            last_error=self.last_error,
            history=self.rate.history(60, now=now),
            detail=status.detail if status is not None else None,
        )


def _describe_error(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
