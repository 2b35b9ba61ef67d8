"""What the dashboard needs from a load session, spelled out as a protocol.

The dashboard drives :class:`plex_loader_tui.load.LoadSession`; writing the
surface down here keeps the TUI honest about what it uses and lets it host
any object with the same shape (the tests host a real :class:`Pipeline` of
simulated stages this way while the real session is exercised end to end).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from ..pipeline.metrics import PipelineSnapshot

log = logging.getLogger(__name__)

#: Phases in which the session is still preparing (the loading indicator shows).
PREPARING_PHASES = frozenset({"starting", "connecting", "loading-models"})
#: Phases after which the session does no more work.
ENDED_PHASES = frozenset({"finished", "drained", "cancelled", "failed"})


class StageSettings(Protocol):
    """A stage's live settings (``StageConfig`` in :mod:`plex_loader_tui.config`)."""

    workers: int
    batch_size: int


@runtime_checkable
class DashboardSession(Protocol):
    """The control surface of one load run, as the dashboard uses it."""

    config: Any
    info: Any
    phase: str
    phase_detail: str

    @property
    def paused(self) -> bool: ...

    async def run(self) -> Any: ...

    def snapshot(self) -> PipelineSnapshot | None: ...

    def set_workers(self, stage: str, n: int) -> None: ...

    def set_batch_size(self, stage: str, n: int) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def drain(self) -> None: ...

    def cancel(self) -> None: ...

    def stage_settings(self) -> Mapping[str, StageSettings]: ...

    async def search(self, query: str, limit: int = 10) -> Sequence[Any]: ...

    def failed_waiting(self) -> int: ...


#: Builds a session for a config (``LoadSession`` by default).
SessionFactory = Callable[[Any], DashboardSession]


def default_session_factory(config: Any) -> DashboardSession:
    """Build the real :class:`~plex_loader_tui.load.LoadSession` (imported lazily)."""
    from ..load import LoadSession

    return LoadSession(config)  # type: ignore[return-value]
