"""One batch through a stage: the function called with retries, data errors split, failures
dead-lettered, and what the batch turned into passed on.

:class:`Batch` is what a worker took; :class:`BatchRun` carries it through the
stage's function. Every item of the batch is accounted for in the step where
it leaves the stage (put into the next queue, loaded, skipped, failed), so
the pipeline's snapshot never counts an item twice or loses one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import DeadLetter, RetryAbandoned
from .spec import ItemFailure, StageOutput

if TYPE_CHECKING:
    from .stage import StageRuntime

log = logging.getLogger(__name__)

class Batch:
    """A batch a worker took: its items not accounted for yet, and its clock.

    ``open`` is how many of the items it stands for are still in the stage
    (not yet passed on, loaded, skipped, failed or released); ``started`` is
    when work on it began (``None`` while a pause holds it), ``waited`` how
    long it has waited for room downstream.
    """

    __slots__ = ("open", "started", "waited", "blocked_since")

    def __init__(self, items: int) -> None:
        self.open = items
        self.started: float | None = None
        self.waited = 0.0
        self.blocked_since: float | None = None


class BatchRun:
    """Carries one :class:`Batch` through ``stage``'s function (see the module docstring)."""

    def __init__(self, stage: StageRuntime, batch: Batch) -> None:
        self.stage = stage
        self.batch = batch

    async def process(self, items: list[Any]) -> None:
        stage = self.stage
        policy = stage.spec.retry
        try:
            result = await policy.call(lambda: stage.call(items), self._on_retry, stage.host.wait_to_retry)
        except asyncio.CancelledError:
            raise
        except RetryAbandoned:
            # A drain came while the batch slept before its next try: nothing is wrong
            # with the items, so they are released (unfinished), not dead-lettered.
            weight = stage.weigh(items)
            stage.resolve(self.batch, weight)
            stage.host.count_released(weight)
            return
        except BaseException as exc:  # noqa: BLE001 - every failure is routed somewhere
            if policy.is_fatal(exc):
                stage.report.error(describe_error(exc))
                stage.host.fail(exc)  # cancels every worker, this one included
                return
            if not isinstance(exc, Exception):
                raise
            stage.report.error(describe_error(exc))
            if policy.is_retryable(exc):
                # Still failing after every retry: the service is down, not the data
                # bad. Splitting would only multiply the retries (and the waiting).
                for item in items:
                    self._dead_letter(item, exc, policy.attempts)
                return
            if len(items) > 1:
                # A data error: split so one bad item does not sink its neighbours.
                middle = len(items) // 2
                log.debug("stage %s: batch of %d failed (%s); splitting", stage.name, len(items), exc)
                await self.process(items[:middle])
                await self.process(items[middle:])
                return
            self._dead_letter(items[0], exc, 1)
            return
        if isinstance(result, StageOutput):
            outputs, skipped, failures, gone = result.items, result.skipped, result.failed, result.gone
        else:
            outputs, skipped, failures, gone = result, 0, (), 0
        # What the inputs turned into (a page into its items, a fan-out): the
        # difference changes how many items the run has, not what is in flight.
        change = self._out_weight(outputs) + skipped + len(failures) - stage.weigh(items)
        if change or gone:
            self.batch.open += change
            stage.in_flight += change
            stage.host.count_changed(change, gone)
        if skipped:
            stage.skipped += skipped
            stage.resolve(self.batch, skipped)
            stage.host.count_skipped(skipped)
        for failure in failures:
            self._fail_item(failure)
        await self._emit(outputs, skipped)

    def _on_retry(self, exc: BaseException) -> None:
        self.stage.report.retry(describe_error(exc))

    def _out_weight(self, outputs: Sequence[Any]) -> int:
        following = self.stage.next
        return following.weigh(outputs) if following is not None else len(outputs)

    async def _emit(self, outputs: Sequence[Any], skipped: int) -> None:
        stage, batch = self.stage, self.batch
        done_weight = skipped
        if stage.next is not None:
            next_queue = stage.next.queue

            def landed(chunk: Sequence[Any]) -> None:
                stage.resolve(batch, next_queue.weigh(chunk))

            stage.blocked += 1
            batch.blocked_since = time.monotonic()
            try:
                await next_queue.put_many(outputs, landed)
            finally:
                stage.blocked -= 1
                batch.waited += time.monotonic() - batch.blocked_since
                batch.blocked_since = None
            done_weight += next_queue.weigh(outputs)
        else:
            stage.resolve(batch, len(outputs))
            stage.host.count_loaded(len(outputs))
            done_weight += len(outputs)
        stage.items_out += len(outputs)
        stage.rate.add(done_weight)

    def _title(self, item: Any) -> str:
        describe = self.stage.spec.describe
        if describe is None:
            return ""
        try:
            return describe(item)
        except Exception:  # noqa: BLE001 - a title is best effort
            return repr(item)[:80]

    def _dead_letter(self, item: Any, exc: BaseException, attempts: int) -> None:
        stage = self.stage
        weight = stage.weigh([item])
        letter = DeadLetter(
            stage=stage.name,
            item=item,
            error=describe_error(exc),
            error_type=type(exc).__name__,
            attempts=attempts,
            title=self._title(item),
            at=time.time(),
            weight=weight,
        )
        stage.resolve(self.batch, weight)
        stage.rate.add(weight)
        stage.host.record_dead_letter(letter)

    def _fail_item(self, failure: ItemFailure) -> None:
        """An output the stage function handled itself and reports failed (see StageOutput)."""
        stage = self.stage
        letter = DeadLetter(
            stage=failure.stage or stage.name,
            item=failure.item,
            error=failure.error,
            error_type=failure.error_type,
            attempts=1,
            title=self._title(failure.item),
            at=time.time(),
            weight=1,
        )
        stage.resolve(self.batch, 1)
        stage.rate.add(1)
        stage.host.record_dead_letter(letter, recorded=True)


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
