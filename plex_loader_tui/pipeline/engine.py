"""The pipeline: stages joined by bounded queues, run concurrently on one event loop.

Items flow from a source through each stage's input queue. Every stage works
at the same time as the others, so the slowest stage sets the pace and the
rest wait on full or empty queues instead of piling items up in memory.

The front ends (dashboard, headless) drive a run through a small surface:
:meth:`Pipeline.run`, :meth:`pause`, :meth:`resume`, :meth:`drain`,
:meth:`cancel`, :meth:`set_workers`, :meth:`set_batch_size` and a cheap
:meth:`snapshot` of the metrics, polled a few times a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .bottleneck import bottleneck
from .errors import DeadLetter
from .metrics import PipelineSnapshot, PipelineState, RateMeter
from .queue import QueueClosed
from .stage import Stage, StageRuntime
from .waiting import wait_event

log = logging.getLogger(__name__)

#: Dead letters kept in memory for the result; the rest are counted (the
#: state store, not this list, is where failures persist).
MAX_KEPT_DEAD_LETTERS = 10_000
RECENT_FAILURES = 100
SOURCE_CHUNK = 256

Source = Iterable[Any] | AsyncIterable[Any]


@dataclass(frozen=True, slots=True)
class PipelineResult:
    """How a run ended.

    ``state`` is ``finished`` (source exhausted, everything processed),
    ``drained`` (stopped taking input on request, finished the batches in
    flight) or ``cancelled`` (stopped at once). ``unfinished`` items were
    released by the drain or cancel (the snapshot's ``released``).
    """

    state: PipelineState
    duration: float
    snapshot: PipelineSnapshot
    dead_letters: tuple[DeadLetter, ...]
    dead_letters_omitted: int
    unfinished: int


class Pipeline:
    """A run of items through ``stages``, in order.

    It is also the :class:`~plex_loader_tui.pipeline.host.StageHost` of its
    stages: :meth:`fail`, :meth:`count_loaded`, :meth:`count_skipped`,
    :meth:`count_changed`, :meth:`record_dead_letter`, :meth:`stage_finished`
    and :meth:`wait_until_resumed` are what they call back.

    ``on_dead_letter`` sees every item the engine dead-letters (not the ones a
    stage reports failed in its :class:`~plex_loader_tui.pipeline.spec.StageOutput`:
    that stage recorded them itself). ``on_batch`` hears of every batch a
    stage finishes: its name, the seconds it worked on it and its items (a
    latency histogram's observations).
    """

    def __init__(
        self,
        stages: Sequence[Stage],
        source: Source,
        *,
        total: int | None = None,
        on_dead_letter: Callable[[DeadLetter], None] | None = None,
        on_batch: Callable[[str, float, int], None] | None = None,
    ) -> None:
        if not stages:
            raise ValueError("a pipeline needs at least one stage")
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        self._specs = list(stages)
        self._source = source
        self._total = total
        self._on_dead_letter = on_dead_letter
        self._on_batch = on_batch
        self.state = PipelineState.PENDING
        self._stages: list[StageRuntime] = []
        self._by_name: dict[str, StageRuntime] = {}
        self._paused = asyncio.Event()
        self._paused.set()  # set = running; cleared = paused
        self._done = asyncio.Event()
        self._fatal: BaseException | None = None
        self._source_task: asyncio.Task[None] | None = None
        self._dead_letters: list[DeadLetter] = []
        self._dead_letters_omitted = 0
        self._recent: deque[DeadLetter] = deque(maxlen=RECENT_FAILURES)
        self._loaded = 0
        self._skipped = 0
        self._failed = 0
        self._rate = RateMeter()
        self._started = 0.0
        self._ended: float | None = None
        self._unfinished = 0  # released by a drain or cancel
        self._fed = 0  # items taken from the source (and what stages turned them into)
        self._held: list[Any] = []  # taken from the source, not queued yet
        self._held_base: int | None = None
        self._stopped = False
        # Set by a drain: batches sleeping before a retry are let go instead of waited for.
        self._draining = asyncio.Event()
        self._build()

    def _build(self) -> None:
        for index, spec in enumerate(self._specs):
            runtime = StageRuntime(spec, self, index)
            self._stages.append(runtime)
            self._by_name[spec.name] = runtime
        for upstream, downstream in zip(self._stages, self._stages[1:]):
            upstream.next = downstream

    # ------------------------------------------------------------------ control
    def stage_names(self) -> list[str]:
        return [s.name for s in self._stages]

    def _stage(self, name: str) -> StageRuntime:
        try:
            return self._by_name[name]
        except KeyError:
            raise ValueError(f"no stage named {name!r} (stages: {', '.join(self._by_name)})") from None

    def set_workers(self, stage: str, n: int) -> None:
        """Resize a stage's worker pool; removed workers finish their current batch first."""
        self._stage(stage).set_workers(n)

    def set_batch_size(self, stage: str, n: int) -> None:
        """Change a stage's batch size; the next batch a worker takes uses it."""
        self._stage(stage).set_batch_size(n)

    def workers(self, stage: str) -> int:
        return self._stage(stage).target_workers

    def batch_size(self, stage: str) -> int:
        return self._stage(stage).batch_size

    def set_total(self, total: int | None) -> None:
        """Tell the pipeline how many items to expect (for progress and ETA)."""
        self._total = total

    @property
    def paused(self) -> bool:
        return not self._paused.is_set()

    def pause(self) -> None:
        """Stop taking new batches; batches in flight finish."""
        if self.state == PipelineState.RUNNING:
            self._paused.clear()
            self.state = PipelineState.PAUSED

    def resume(self) -> None:
        if self.state == PipelineState.PAUSED:
            self._paused.set()
            self.state = PipelineState.RUNNING
        elif self.state == PipelineState.DRAINING:
            self._paused.set()

    def drain(self) -> None:
        """Take nothing new and finish the batches in flight, then stop.

        Items still waiting in queues are released (counted as unfinished, not
        failed): nothing was done to them that a later run cannot redo, and
        finishing whole queues could take minutes at embedding speed. What the
        in-flight batches produce still flows through every later stage.
        """
        if self.state in (PipelineState.RUNNING, PipelineState.PAUSED):
            self._paused.set()
            self.state = PipelineState.DRAINING
            if self._source_task is not None:
                self._source_task.cancel()
            for stage in self._stages:
                self._unfinished += stage.weigh(stage.queue.drop_all())
            self._stages[0].queue.close()
            self._release_held()
            self._draining.set()

    def cancel(self) -> None:
        """Stop now. Queued and in-flight items are dropped and reported as unfinished."""
        if self.state.ended or self.state == PipelineState.CANCELLING:
            return
        if self.state == PipelineState.PENDING:
            self.state = PipelineState.CANCELLED
            self._done.set()
            return
        self.state = PipelineState.CANCELLING
        self._stop_everything()
        self._done.set()

    # --------------------------------------------------------------------- run
    async def run(self) -> PipelineResult:
        """Run to the end (or until drained, cancelled, or a fatal error).

        Raises the fatal error, once, if a stage raised one. When this returns
        or raises, no task or thread of the run is left running.
        """
        if self.state != PipelineState.PENDING:
            if self.state == PipelineState.CANCELLED:
                return self._result()
            raise RuntimeError("a Pipeline runs once")
        self.state = PipelineState.RUNNING
        self._started = time.monotonic()
        self._rate = RateMeter(clock_start=self._started)
        for stage in self._stages:
            stage.rate = RateMeter(clock_start=self._started)
            stage.start()
        self._source_task = asyncio.get_running_loop().create_task(self._feed(), name="pipeline-source")
        try:
            await self._done.wait()
        finally:
            # Reached on normal end, cancel, fatal error, and when run() itself is cancelled.
            self._stop_everything()
            await self._source_join()
            self._release_held()
            for stage in self._stages:
                await stage.join()
            for stage in self._stages:
                await stage.shutdown_threads()
            self._ended = time.monotonic()
            if self.state in (PipelineState.RUNNING, PipelineState.PAUSED):
                self.state = PipelineState.FINISHED
            elif self.state == PipelineState.DRAINING:
                self.state = PipelineState.DRAINED
            elif self.state == PipelineState.CANCELLING:
                self.state = PipelineState.CANCELLED
        if self._fatal is not None:
            raise self._fatal
        return self._result()

    async def _source_join(self) -> None:
        if self._source_task is not None:
            await asyncio.gather(self._source_task, return_exceptions=True)

    def _stop_everything(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._source_task is not None and not self._source_task.done():
            self._source_task.cancel()
        for stage in self._stages:
            self._unfinished += stage.queued_weight() + stage.abandon()
            stage.queue.abort()
            stage.cancel()
        self._release_held()

    async def _feed(self) -> None:
        """Move items from the source into the first stage's queue, in chunks."""
        first = self._stages[0]
        try:
            if isinstance(self._source, AsyncIterable):
                async for item in self._source:
                    self._take(item)
                    if len(self._held) >= SOURCE_CHUNK:
                        await self._put_held()
            else:
                for item in self._source:
                    self._take(item)
                    if len(self._held) >= SOURCE_CHUNK:
                        await self._put_held()
            if self._held:
                await self._put_held()
        except QueueClosed:
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken source is fatal for the run
            self.fail(exc)
            return
        first.queue.close()

    def _take(self, item: Any) -> None:
        self._held.append(item)
        self._fed += self._stages[0].weigh((item,))

    async def _put_held(self) -> None:
        """Queue the chunk taken from the source (waiting while paused or full)."""
        if not self._paused.is_set():
            await self._paused.wait()
        queue = self._stages[0].queue
        self._held_base = queue.total_put
        await queue.put_many(self._held)
        self._held, self._held_base = [], None

    def _held_back(self) -> list[Any]:
        """Items taken from the source that a drain or cancel kept from being queued."""
        put = self._stages[0].queue.total_put - self._held_base if self._held_base is not None else 0
        return self._held[put:]

    def _release_held(self) -> None:
        """The run takes nothing more: what the feeder took but never queued is released.

        The feeder was told to stop (its task cancelled, its queue closed), so
        it queues nothing more from what it holds.
        """
        self._unfinished += self._stages[0].weigh(self._held_back())
        self._held, self._held_base = [], None

    # ------------------------------------------------- StageHost: callbacks from stages
    async def wait_until_resumed(self) -> None:
        if not self._paused.is_set():
            await self._paused.wait()

    def stage_finished(self, stage: StageRuntime) -> None:
        if stage.next is not None:
            stage.next.queue.close()
        else:
            self._done.set()

    async def wait_to_retry(self, seconds: float) -> bool:
        return not await wait_event(self._draining, seconds)

    def count_released(self, n: int) -> None:
        self._unfinished += n

    def fail(self, exc: BaseException) -> None:
        if self._fatal is None:
            self._fatal = exc
            log.error("fatal error, stopping the run: %s", exc)
            self.state = PipelineState.FAILED
            self._stop_everything()
            self._done.set()

    def batch_done(self, stage: str, seconds: float, items: int) -> None:
        """A batch of ``stage`` took ``seconds`` of work (reported to ``on_batch``)."""
        if self._on_batch is not None:
            try:
                self._on_batch(stage, seconds, items)
            except Exception:  # noqa: BLE001 - an observer must not break the run
                log.debug("on_batch observer failed", exc_info=True)

    def count_loaded(self, n: int) -> None:
        self._loaded += n
        self._rate.add(n)

    def count_skipped(self, n: int) -> None:
        if n:
            self._skipped += n
            self._rate.add(n)

    def count_changed(self, n: int, gone: int = 0) -> None:
        self._fed += n
        self._total = self._total - gone if self._total is not None else None

    def record_dead_letter(self, letter: DeadLetter, *, recorded: bool = False) -> None:
        self._failed += letter.weight
        self._rate.add(letter.weight)
        stage = self._by_name.get(letter.stage)
        if stage is not None:
            stage.failed += letter.weight
        self._recent.appendleft(letter)
        if len(self._dead_letters) < MAX_KEPT_DEAD_LETTERS:
            self._dead_letters.append(letter)
        else:
            self._dead_letters_omitted += 1
        if self._on_dead_letter is not None and not recorded:
            try:
                self._on_dead_letter(letter)
            except Exception:  # noqa: BLE001 - a failing observer must not lose the item
                log.exception("dead-letter handler failed for %s", letter.title or letter.item)

    # ----------------------------------------------------------------- metrics
    def snapshot(self) -> PipelineSnapshot:
        """Metrics right now. Cheap: O(stages); safe to call several times a second."""
        now = self._ended if self._ended is not None else time.monotonic()
        elapsed = (now - self._started) if self._started else 0.0
        done = self._loaded + self._skipped + self._failed
        if self._ended is not None:
            # The run is over: every rate is its average, not its last few seconds.
            stages = tuple(stage.snapshot(now, run_seconds=elapsed) for stage in self._stages)
            throughput = done / elapsed if elapsed > 0 else 0.0
        else:
            stages = tuple(stage.snapshot(now) for stage in self._stages)
            throughput = self._rate.rate(now=now) if self._started else 0.0
        eta = None
        if self._total is not None and throughput > 0 and self.state in (PipelineState.RUNNING, PipelineState.DRAINING):
            eta = max(0.0, (self._total - done) / throughput)
        first = self._stages[0]
        # Not taken up by the first stage (not yet listed): in its queue, the feeder's hands or the source.
        waiting_first = first.queue.depth + first.weigh(self._held_back())
        return PipelineSnapshot(
            state=self.state,
            elapsed=elapsed,
            total=self._total,
            loaded=self._loaded,
            skipped=self._skipped,
            failed=self._failed,
            in_flight=sum(s.in_flight for s in self._stages),
            throughput=throughput,
            eta=eta,
            bottleneck=bottleneck(self._stages, now) if self.state.moving else None,
            stages=stages,
            recent_failures=tuple(self._recent),
            fatal_error=str(self._fatal) if self._fatal is not None else None,
            queued=sum(s.queue.depth for s in self._stages[1:]),
            released=self._unfinished,
            unlisted=self._total - self._fed + waiting_first if self._total is not None else None,
        )

    def _result(self) -> PipelineResult:
        snapshot = self.snapshot()
        duration = ((self._ended or time.monotonic()) - self._started) if self._started else 0.0
        return PipelineResult(
            state=self.state,
            duration=duration,
            snapshot=snapshot,
            dead_letters=tuple(self._dead_letters),
            dead_letters_omitted=self._dead_letters_omitted,
            unfinished=self._unfinished,
        )
