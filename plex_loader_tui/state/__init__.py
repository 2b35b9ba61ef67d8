"""Durable load state: what was loaded where, what failed, what Plex held."""

from .paths import state_db_path
from .records import FailedRecord, ItemState, LoadedRecord, PendingRecord, StateCorruptError, StateCounts, StateError
from .schema import SCHEMA_VERSION
from .store import StateStore

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
