"""Copy a qdrant-client local-mode folder into Qdrant Edge (``plex-loader-tui migrate-store``).

Every collection of the folder is copied page by page (scroll, upsert),
each page checked (its ids read back from Edge) and each collection's count
compared at the end. The copy is written under ``<path>/edge.migrating`` and
moved to ``<path>/edge`` only once every collection checked out; then the
local-mode files move to ``<path>/local-mode-backup-<time>`` (kept, never
deleted: remove them once the Edge store serves you well). A migration that
stops half-way leaves the local-mode store as it was; the next one starts
over.

Point ids, vectors and payloads are copied as they are, so a load's state
(keyed by the folder and the collection) stays valid: the next load skips
what is unchanged.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import qdrant_edge as qe

from .qdrant_edge import EdgeSink
from .qdrant_errors import QdrantUnavailableError
from .qdrant_schema import DENSE_VECTOR, SPARSE_VECTOR
from .store_format import EDGE_FOLDER, StoreFormat, StoreFormatError, detect_format

logger = logging.getLogger(__name__)

#: Points per scroll page (and per Edge upsert).
PAGE = 256
_STAGING = f"{EDGE_FOLDER}.migrating"
_LOCAL_FILES = ("meta.json", "collection", ".lock")


@dataclass(frozen=True, slots=True)
class MigratedCollection:
    """One collection copied: its name and how many points it holds in both stores."""

    name: str
    points: int


@dataclass(frozen=True, slots=True)
class Migration:
    """What :func:`migrate_local_to_edge` did."""

    collections: tuple[MigratedCollection, ...]
    backup: Path


class MigrationError(StoreFormatError):
    """The copy did not check out; the local-mode store was left as it was."""


def migrate_local_to_edge(path: Path, *, on_page: Callable[[str, int], None] | None = None) -> Migration:
    """Copy every collection of the local-mode folder ``path`` into Qdrant Edge, in place.

    ``on_page(collection, copied_so_far)`` hears of each page. Raises
    :class:`StoreFormatError` when ``path`` is not a local-mode folder, and
    :class:`MigrationError` when a page or a count does not check out.
    """
    found = detect_format(path)
    if found is not StoreFormat.LOCAL:
        raise StoreFormatError(f"{path} holds no qdrant-client local-mode store to migrate (found: {found.value})")
    from qdrant_client import QdrantClient  # only here: importing it takes about a second

    staging = path / _STAGING
    if staging.exists():
        logger.info("Removing %s, left by an earlier migration that did not finish", staging)
        shutil.rmtree(staging)
    try:
        client = QdrantClient(path=str(path))
    except RuntimeError as exc:
        raise QdrantUnavailableError(
            f"the local Qdrant folder {path} is in use by another process (a load or a search?): stop it, then migrate"
        ) from exc
    try:
        names = sorted(c.name for c in client.get_collections().collections)
        done = tuple(_copy(client, name, staging, on_page) for name in names)
    finally:
        client.close()
    (staging / EDGE_FOLDER).mkdir(parents=True, exist_ok=True)  # no collections: an empty Edge store
    (staging / EDGE_FOLDER).rename(path / EDGE_FOLDER)
    staging.rmdir()
    backup = path / f"local-mode-backup-{time.strftime('%Y%m%d-%H%M%S')}"
    backup.mkdir()
    for name in _LOCAL_FILES:
        if (path / name).exists():
            (path / name).rename(backup / name)
    logger.info("Migrated %s to Qdrant Edge; local-mode files kept in %s", path, backup)
    return Migration(done, backup)


def _copy(client, name: str, staging: Path, on_page: Callable[[str, int], None] | None) -> MigratedCollection:
    info = client.get_collection(name)
    vectors = info.config.params.vectors
    dense = vectors.get(DENSE_VECTOR) if isinstance(vectors, dict) else None
    if dense is None or SPARSE_VECTOR not in (info.config.params.sparse_vectors or {}):
        raise MigrationError(
            f"collection {name!r} in {staging.parent} has no {DENSE_VECTOR!r} + {SPARSE_VECTOR!r} vectors "
            "(not written by plex-loader-tui?): nothing was migrated"
        )
    record = dict(getattr(info.config, "metadata", None) or {})
    # The staging folder stands in for <path>: the shard lands in edge.migrating/edge/<name>, moved up at the end.
    sink = EdgeSink(staging, name, dense.size, str(record.get("dense_model", "")), str(record.get("sparse_model", "")))
    sink.connect()
    try:
        sink.ensure_collection()
        sink.write_record(record)  # the local collection's own record (or none), not invented model names
        copied, offset = 0, None
        while True:
            page, offset = client.scroll(name, limit=PAGE, offset=offset, with_payload=True, with_vectors=True)
            if not page:
                break
            sink.upsert_records([_edge_point(r) for r in page])
            ids = [str(r.id) for r in page]
            if len(sink.retrieve(ids)) != len(ids):
                raise MigrationError(f"collection {name!r}: a page of {len(ids)} points did not read back from Edge; "
                                     "the local-mode store is untouched")
            copied += len(page)
            if on_page is not None:
                on_page(name, copied)
            if offset is None:
                break
        local_count = client.count(name, exact=True).count
        edge_count = sink.count()
        if not local_count == edge_count == copied:
            raise MigrationError(f"collection {name!r}: local mode holds {local_count} points, Edge {edge_count} "
                                 f"after copying {copied}; the local-mode store is untouched")
    finally:
        sink.close()
    return MigratedCollection(name, copied)


def _edge_point(record) -> qe.Point:
    vector = record.vector or {}
    sparse = vector.get(SPARSE_VECTOR)
    named: dict[str, object] = {DENSE_VECTOR: list(vector[DENSE_VECTOR])}
    if sparse is not None:
        named[SPARSE_VECTOR] = qe.SparseVector(list(sparse.indices), list(sparse.values))
    return qe.Point(str(record.id), named, dict(record.payload or {}))
