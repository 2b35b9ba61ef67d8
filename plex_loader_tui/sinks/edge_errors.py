"""What a Qdrant Edge failure means for a load, and the room checks that keep a full disk from killing it.

Edge raises plain exceptions whose text says what went wrong; :func:`classify`
turns the ones a load cannot go on from (another process holds the shard, a
shard that does not fit, a full or read-only disk) into the fatal errors every
sink raises, in one line. Edge writes through memory-mapped, preallocated
files, and a disk filling under such a write is a SIGBUS, not an error, so the
sink checks the room first (:func:`check_headroom`, :func:`check_room_to_open`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..pipeline.errors import FatalError
from .disk_room import opening_cost
from .qdrant_errors import (
    CollectionMismatchError,
    QdrantStorageError,
    QdrantUnavailableError,
    free_space,
    storage_failure,
)
from .qdrant_schema import CollectionSpec

#: Free space the sink wants before each write: Edge preallocates 32 MiB sparse files (two WAL
#: segments, the dense, sparse and payload storage of a segment, a few MiB per payload index)
#: that fill as it writes, and a write into one on a full disk is a SIGBUS, not an error.
EDGE_HEADROOM = 256 * 2**20

# What Edge's exception says when another opener holds the shard's WAL lock.
_LOCKED_TEXTS = ("wouldblock", "resource temporarily unavailable", "os error 11")
_INCOMPATIBLE_TEXT = "config is incompatible"


def _free_bytes(path: Path) -> int | None:
    """Free bytes on the file system of ``path`` (``None``: cannot tell, let Edge say what is wrong)."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def check_headroom(path: Path) -> None:
    """Raise the fatal storage error before a write that could fill the disk under ``path``."""
    free = _free_bytes(path)
    if free is not None and free < EDGE_HEADROOM:
        raise QdrantStorageError(
            f"Qdrant Edge cannot write to {path}: no space left ({free_space(path)}; it needs "
            f"{EDGE_HEADROOM / 2**20:.0f} MiB of headroom); free some space or point --qdrant-path elsewhere, "
            "then run the load again (it resumes)"
        )


def check_room_to_open(path: Path, shard_path: Path) -> None:
    """Raise the fatal storage error when opening the shard would fill a memory file system (SIGBUS)."""
    needed = opening_cost(shard_path)  # 0 on a disk: nothing to check
    free = _free_bytes(path) if needed else None
    if free is not None and needed > free:
        raise QdrantStorageError(
            f"Qdrant Edge cannot open {path}: on a memory file system (tmpfs) opening the collection "
            f"fills its preallocated files, up to {needed / 2**20:.0f} MiB ({free_space(path)}); free "
            "some space or move --qdrant-path to a disk, then run again"
        )


def classify(exc: BaseException, path: Path, collection: str, spec: CollectionSpec) -> BaseException:
    """``exc`` as a fatal error when a load cannot go on from it; else ``exc`` itself (a data error)."""
    if isinstance(exc, FatalError):
        return exc
    text = str(exc).lower()
    if any(t in text for t in _LOCKED_TEXTS):
        return QdrantUnavailableError(
            f"Collection {collection!r} in the Qdrant Edge folder {path} is in use by another "
            "process (another load or search?): stop it, or use a different --qdrant-path"
        )
    if _INCOMPATIBLE_TEXT in text:
        return CollectionMismatchError(
            f"Collection {collection!r} in Qdrant Edge at {path} does not fit this load "
            f"(it needs [{spec.needs()}]): {exc}. Choose another --collection or delete the collection."
        )
    storage = storage_failure(exc)
    if storage is not None:
        return QdrantStorageError(
            f"Qdrant Edge cannot write to {path}: {storage} ({free_space(path)}); free some space "
            "or point --qdrant-path elsewhere, then run the load again (it resumes)"
        )
    return exc
