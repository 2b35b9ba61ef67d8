"""What the load state holds, as typed records, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..pipeline.errors import FatalError

Status = Literal["pending", "loaded", "failed"]

#: The advice every "cannot use the state" message ends with.
RESET_HINT = "start fresh with --reset-state (the next run then reloads everything)"


class StateError(FatalError):
    """The load state cannot be used; the run must stop."""


class StateCorruptError(StateError):
    """The state database is corrupt, unreadable or not ours."""



@dataclass(frozen=True, slots=True)
class PendingRecord:
    """An item that is about to be loaded (recorded before it is upserted).

    Recording it first means a point that reached Qdrant just before a crash is
    still known to the state, so a later deletion pass can find it.
    """

    key: str
    point_id: str
    section_key: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class LoadedRecord:
    """An item whose point Qdrant has confirmed (``wait=True`` or read back)."""

    key: str
    point_id: str
    updated_at: int | None
    source_hash: str
    content_hash: str
    section_key: str = ""
    title: str = ""
    text_hash: str = ""


@dataclass(frozen=True, slots=True)
class FailedRecord:
    """A dead letter: an item that failed for good in some stage.

    ``failed_at`` is the time of the most recent failure (seconds since the
    epoch); ``attempts`` counts failures since the item was last loaded.
    """

    key: str
    point_id: str
    section_key: str
    title: str
    stage: str
    error: str
    attempts: int
    failed_at: float


@dataclass(frozen=True, slots=True)
class ItemState:
    """Everything the store knows about one item (for inspection and tests)."""

    key: str
    point_id: str
    section_key: str
    title: str
    status: Status
    updated_at: int | None
    source_hash: str | None
    content_hash: str | None
    attempts: int
    last_error: str | None
    error_stage: str | None
    first_seen: float
    loaded_at: float | None
    updated: float
    text_hash: str | None = None


@dataclass(frozen=True, slots=True)
class StateCounts:
    """How many items the state holds per status."""

    loaded: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.loaded + self.failed + self.pending


@dataclass(frozen=True, slots=True)
class PointClaim:
    """An item of the state and the point it maps to (what ``doctor`` compares with the collection)."""

    key: str
    point_id: str
    title: str
    status: Status
    content_hash: str | None
