"""What a running stage may ask of the pipeline that hosts it.

:class:`~plex_loader_tui.pipeline.stage.StageRuntime` talks to its pipeline
only through this protocol: it never reaches into the pipeline's private
members, and the pipeline's bookkeeping (totals, dead letters, the fatal
error) stays in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .errors import DeadLetter
from .metrics import PipelineState

if TYPE_CHECKING:
    from .stage import StageRuntime


class StageHost(Protocol):
    """The pipeline, as its stages see it."""

    @property
    def state(self) -> PipelineState:
        """Where the run is (pending, running, paused, …)."""
        ...

    @property
    def paused(self) -> bool:
        """True while no new batch may start."""
        ...

    async def wait_until_resumed(self) -> None:
        """Return at once when running; otherwise when the run resumes (or drains)."""
        ...

    async def wait_to_retry(self, seconds: float) -> bool:
        """Sleep ``seconds`` before a retry; False at once if the run starts draining meanwhile."""
        ...

    def count_released(self, n: int) -> None:
        """``n`` items left the run unfinished (a drain let them go); the next run picks them up."""
        ...

    def fail(self, exc: BaseException) -> None:
        """Stop the whole run with ``exc`` (raised once from ``Pipeline.run``)."""
        ...

    def batch_done(self, stage: str, seconds: float, items: int) -> None:
        """A batch of ``stage`` with ``items`` items took ``seconds`` of work."""
        ...

    def count_loaded(self, n: int) -> None:
        """``n`` items left the last stage."""
        ...

    def count_skipped(self, n: int) -> None:
        """``n`` items were consumed on purpose without being passed on."""
        ...

    def count_changed(self, n: int, gone: int = 0) -> None:
        """A batch turned into ``n`` more items than it stood for (fewer when negative).

        ``gone`` of those it stood for no longer exist: the run's total is that much smaller.
        """
        ...

    def record_dead_letter(self, letter: DeadLetter, *, recorded: bool = False) -> None:
        """An item failed for good in ``letter.stage``; ``recorded``: the stage already stored it."""
        ...

    def stage_finished(self, stage: StageRuntime) -> None:
        """``stage`` will take no more work (its queue is exhausted, its workers gone)."""
        ...
