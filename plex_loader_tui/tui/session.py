"""What the dashboard needs from a load session, spelled out as a protocol.

The dashboard drives :class:`plex_loader_tui.load.LoadSession`; writing the
surface down here keeps the TUI honest about what it uses and lets it host
any object with the same shape (the tests host a real :class:`Pipeline` of
simulated stages this way while the real session is exercised end to end).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..config import RunConfig, StageConfig
from ..load.outcome import LoadResult, SessionInfo
from ..pipeline.metrics import PipelineSnapshot

if TYPE_CHECKING:
    from ..search import SearchHit

log = logging.getLogger(__name__)


@runtime_checkable
class DashboardSession(Protocol):
    """The control surface of one load run, as the dashboard uses it.

    ``phase`` is a :class:`~plex_loader_tui.load.outcome.Phase` value.
    """

    config: RunConfig
    info: SessionInfo
    phase: str
    phase_detail: str

    @property
    def paused(self) -> bool: ...

    async def run(self) -> LoadResult: ...

    def snapshot(self) -> PipelineSnapshot | None: ...

    def set_workers(self, stage: str, n: int) -> None: ...

    def set_batch_size(self, stage: str, n: int) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def drain(self) -> None: ...

    def cancel(self) -> None: ...

    def stage_settings(self) -> Mapping[str, StageConfig]: ...

    async def search(self, query: str, limit: int = 10) -> Sequence[SearchHit]: ...

    async def release(self) -> None:
        """Let go of what the session holds between runs (a search's hold on the collection)."""

    def failed_waiting(self) -> int: ...


#: Builds a session for a config (``LoadSession`` by default).
SessionFactory = Callable[[RunConfig], DashboardSession]


def default_session_factory(config: RunConfig) -> DashboardSession:
    """Build the real :class:`~plex_loader_tui.load.LoadSession` (imported lazily)."""
    from ..load import LoadSession

    return LoadSession(config)
