"""Durable load state: what was loaded where, what failed, what Plex held."""

from plex_loader_tui.state.store import (
    SCHEMA_VERSION,
    FailedRecord,
    ItemState,
    LoadedRecord,
    PendingRecord,
    StateCorruptError,
    StateCounts,
    StateError,
    StateStore,
    state_db_path,
)

__all__ = [
    "SCHEMA_VERSION",
    "FailedRecord",
    "ItemState",
    "LoadedRecord",
    "PendingRecord",
    "StateCorruptError",
    "StateCounts",
    "StateError",
    "StateStore",
    "state_db_path",
]
