"""Which engine wrote an embedded Qdrant folder, and which one a load should open it with.

Two engines can live behind ``--qdrant-path``:

* **Qdrant Edge** (``edge``): the Qdrant engine in this process, one on-disk
  shard per collection under ``<path>/edge/<collection>/``.
* **qdrant-client local mode** (``local``): ``<path>/meta.json`` plus
  ``<path>/collection/<name>/storage.sqlite``; it reads every point into RAM.

A folder holds one format. ``--embedded-store auto`` (the default) opens a
folder with the engine that wrote it and a new folder with Edge; naming an
engine that does not match the folder is refused in one line that names the
``migrate-store`` command, so an existing store is never ignored or lost.
"""

from __future__ import annotations

import enum
from pathlib import Path

from ..config.settings import STORE_ENGINES
from ..pipeline.errors import FatalError

#: The folder under ``--qdrant-path`` that holds the Edge shards, one per collection.
EDGE_FOLDER = "edge"
#: The command that copies a local-mode folder into Qdrant Edge (``cli/migrate.py``).
MIGRATE_COMMAND = "plex-loader-tui migrate-store"


class StoreFormat(enum.Enum):
    """What an embedded Qdrant folder holds."""

    EMPTY = "empty"
    EDGE = "edge"
    LOCAL = "local"
    MIXED = "mixed"


class StoreFormatError(FatalError):
    """The folder's format and the engine asked for do not match (or the folder holds both)."""


def detect_format(path: Path) -> StoreFormat:
    """The format of ``path`` (a folder that does not exist yet is empty)."""
    local = (path / "meta.json").is_file() or (path / "collection").is_dir()
    edge = (path / EDGE_FOLDER).is_dir()
    if local and edge:
        return StoreFormat.MIXED
    if local:
        return StoreFormat.LOCAL
    return StoreFormat.EDGE if edge else StoreFormat.EMPTY


#: The engine ``auto`` gives a folder that holds no store yet: Qdrant Edge, better on every figure of
#: bench/bench_embedded_store.py (open time, RSS, query latency, write rate at 20,000 points).
NEW_FOLDER_ENGINE = "edge"


def choose_engine(path: Path, requested: str) -> str:
    """``"edge"`` or ``"local"``: the engine that opens ``path`` for ``--embedded-store requested``.

    Raises :class:`StoreFormatError` when the folder holds the other engine's
    store, or both.
    """
    if requested not in STORE_ENGINES:
        raise ValueError(f"unknown embedded store {requested!r} (one of {', '.join(STORE_ENGINES)})")
    found = detect_format(path)
    if found is StoreFormat.MIXED:
        raise StoreFormatError(
            f"{path} holds both a qdrant-client local-mode store and Qdrant Edge shards ({path / EDGE_FOLDER}); "
            f"was a migration interrupted? Move {path / EDGE_FOLDER} away and run `{MIGRATE_COMMAND} "
            f"--qdrant-path {path}` again"
        )
    if requested == "auto":
        if found is StoreFormat.EMPTY:
            return NEW_FOLDER_ENGINE
        return "local" if found is StoreFormat.LOCAL else "edge"
    if requested == "edge" and found is StoreFormat.LOCAL:
        raise StoreFormatError(
            f"{path} holds a qdrant-client local-mode store, not Qdrant Edge: copy it with "
            f"`{MIGRATE_COMMAND} --qdrant-path {path}`, or open it as it is with --embedded-store local"
        )
    if requested == "local" and found is StoreFormat.EDGE:
        raise StoreFormatError(
            f"{path} holds a Qdrant Edge store, not qdrant-client local mode: "
            "use --embedded-store edge (or auto), or another --qdrant-path"
        )
    return requested
