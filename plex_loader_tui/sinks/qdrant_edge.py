"""The Qdrant Edge sink: the Qdrant engine inside this process, on disk.

Qdrant Edge (``qdrant-edge-py``) runs Qdrant's own storage engine as a
library: one *shard* per collection, stored in the server's segment format
under ``<qdrant path>/edge/<collection>/shard``, with a write-ahead log.
Unlike qdrant-client's local mode it keeps payloads on disk and does not
read the collection into Python objects, so memory does not grow with the
library and opening a collection takes milliseconds
(``bench/bench_embedded_store.py``).

* **Vectors**: the same named vectors as every other mode: ``dense`` (cosine)
  and ``sparse`` with the IDF modifier (Edge supports it). Payload indexes are
  the ones declared in :mod:`.qdrant_schema` (Edge has them too).
* **Search**: the dense and the sparse candidates come from one
  ``query_batch`` and are fused here by :func:`.fusion.rrf_fuse`, with the
  constant and formula the server uses, so every mode ranks alike.
* **Durability**: an ``update`` returns once its operation is in the shard's
  WAL, so a point this sink confirmed survives the process being killed
  (``kill -9``); :meth:`close` flushes the segments and trims the WAL.
* **Upkeep**: Edge runs no optimizer or flush of its own. Every
  :data:`UPKEEP_EVERY` points the sink has the optimizer move the points of the
  segment being written (whose indexes grow in RAM) into an immutable segment
  kept on disk, then flushes: a load's memory stays flat with the library.
* **A full disk**: Edge writes through memory-mapped, preallocated (sparse)
  files; when the disk fills under such a write the kernel kills the process
  with SIGBUS, with no error to catch. So the sink refuses to write while the
  file system has less than :data:`.edge_errors.EDGE_HEADROOM` free: a fatal storage error
  in one line instead. (Another program filling the disk between the check
  and the write can still end the process; what was confirmed stays, as after
  a ``kill -9``.)
  On a memory file system (tmpfs) even *opening* a shard fills its files'
  holes, so :meth:`connect` checks that room first (:mod:`.disk_room`).
* **Lock**: the shard's WAL is locked by the one process that opened it. A
  second opener (another load or search on the same collection) gets one line
  saying so. Edge is thread-safe: upsert workers and queries share the shard.
* **The model record**: Edge has no collection metadata, so what filled a
  collection (models, text version, payload format: the record a server
  collection keeps in its metadata) is kept beside its shard in
  ``plex-loader.json``.
* **Filters and payload-only updates**: ``search --type/--year/--genre/--actor``
  filter inside both candidate queries (:func:`.edge_schema.edge_filter`), and
  :meth:`EdgeSink.set_payload` overwrites a stored point's payload, vectors
  untouched, as qdrant-client's sink does.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from ..models import EmbeddedPoint, PayloadUpdate, QueryVectors, ScoredPoint, SearchFilters
from ..pipeline.errors import FatalError
from .edge_errors import check_headroom, check_room_to_open, classify
from .edge_schema import CONFIG_FILE, edge_config, edge_filter, edge_index_schema, shard_shape, stale_indexes
from .fusion import prefetch_depth, rrf_fuse
from .qdrant_errors import (
    TRANSIENT_ERRORS,
    CollectionMismatchError,
    QdrantUnavailableError,
)
from .qdrant_schema import DENSE_VECTOR, SPARSE_VECTOR, CollectionSpec, PayloadIndex
from .shape import CollectionShape
from .store_format import EDGE_FOLDER, StoreFormat, StoreFormatError, detect_format

logger = logging.getLogger(__name__)

#: Points written between two rounds of upkeep: the optimizer moves the appendable segment's points
#: into an immutable on-disk segment (whose indexes are not kept in RAM: see edge_schema), then a
#: flush lets the WAL drop acknowledged segments. Edge does neither by itself. Costs ~1.1 ms of
#: writing per point (bench/bench_embedded_store.py), about 4% of the CPU embedding one takes.
UPKEEP_EVERY = 2000

#: The file beside a shard that records who filled the collection (Edge has no metadata).
RECORD_FILE = "plex-loader.json"
_SHARD = "shard"
# What Edge's exception says when a payload update names a point it does not hold.
_NO_POINT_TEXT = "no point with id"


def collection_folder(path: Path, collection: str) -> Path:
    """Where one collection's shard and model record live under an Edge ``--qdrant-path``."""
    return path / EDGE_FOLDER / collection


class EdgeSink:
    """Writes :class:`EmbeddedPoint` batches into one Qdrant Edge shard (a :class:`~plex_loader_tui.ports.Sink`).

    Build it, :meth:`connect`, :meth:`ensure_collection`, then call
    :meth:`upsert` from any number of worker threads; :meth:`close` at the end.
    """

    transient_errors = TRANSIENT_ERRORS
    #: Edge keeps payload indexes (``doctor`` checks them).
    keeps_indexes = True

    def __init__(self, path: Path, collection: str, dense_dim: int, dense_model: str, sparse_model: str, *,
                 text_version: int | None = None, payload_format: str | None = None) -> None:
        self.path = Path(path)
        self.collection = collection
        self.spec = CollectionSpec(collection, dense_dim, dense_model, sparse_model,
                                   text_version=text_version, payload_format=payload_format)
        self.folder = collection_folder(self.path, collection)
        self._shard: qe.EdgeShard | None = None
        self._open_lock = threading.Lock()  # guards opening/closing and the flush counter: Edge is thread-safe
        self._unflushed = 0

    def __repr__(self) -> str:
        return f"EdgeSink(path={str(self.path)!r}, collection={self.collection!r})"

    @property
    def location(self) -> str:
        """``edge:<folder>`` (no secret)."""
        return f"edge:{self.path}"

    @property
    def shard_path(self) -> Path:
        return self.folder / _SHARD

    @property
    def shard(self) -> qe.EdgeShard:
        """The open shard (after :meth:`connect` found it or :meth:`ensure_collection` made it)."""
        if self._shard is None:
            raise RuntimeError(f"the Edge shard of {self.collection!r} is not open (connect / ensure_collection)")
        return self._shard

    # -- opening ------------------------------------------------------------

    def connect(self) -> None:
        """Check the folder is an Edge store and open the collection's shard if it exists."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise QdrantUnavailableError(f"Cannot open the Qdrant Edge folder {self.path}: {exc}") from exc
        found = detect_format(self.path)
        if found in (StoreFormat.LOCAL, StoreFormat.MIXED):
            raise StoreFormatError(f"{self.path} is not a Qdrant Edge folder ({found.value}): see --embedded-store")
        if self.collection_exists():
            # A dense size of 0 (doctor, with a model fastembed does not know) takes the shard's own.
            config = edge_config(self.spec.dense_dim) if self.spec.dense_dim else None
            check_room_to_open(self.path, self.shard_path)
            with self._open_lock, self._calling():
                self._shard = qe.EdgeShard.load(str(self.shard_path), config)
            self._check_record()
        logger.info("Using Qdrant Edge at %s (collection %r)", self.path, self.collection)

    def ensure_collection(self) -> bool:
        """Create the collection's shard if missing (returns True), else check that it fits.

        Raises :class:`CollectionMismatchError` when the existing shard's
        vectors or recorded models differ from what this load needs.
        """
        if self._shard is not None:
            self._ensure_indexes()  # here, not in connect: opening to read (doctor, search) writes nothing
            record = self.read_record()
            if record is not None and any(record.get(k) != v for k, v in self.spec.metadata().items()):
                self.write_record(self.spec.metadata())  # an older version's record: what fills it now
            return False
        check_headroom(self.path)
        with self._open_lock, self._calling():
            self._shard = qe.EdgeShard.create(str(self.shard_path), edge_config(self.spec.dense_dim))
        self._ensure_indexes()
        self.write_record(self.spec.metadata())
        logger.info("Created collection %r in Qdrant Edge at %s", self.collection, self.path)
        return True

    def write_record(self, record: Mapping[str, object]) -> None:
        """Write the model record beside the shard (atomically: a crash leaves the old one or none)."""
        body = {**record, "dense_dim": self.spec.dense_dim}
        tmp = self.folder / f".{RECORD_FILE}.tmp"
        try:
            tmp.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, self.folder / RECORD_FILE)
        except OSError as exc:
            raise classify(exc, self.path, self.collection, self.spec) from exc

    def read_record(self) -> dict[str, object] | None:
        """The record beside the shard (``None`` when there is none)."""
        try:
            return dict(json.loads((self.folder / RECORD_FILE).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise CollectionMismatchError(f"Cannot read the model record {self.folder / RECORD_FILE}: {exc}") from exc

    def _check_record(self) -> None:
        record = self.read_record()
        if record is None:
            logger.warning("Collection %r has no model record (%s); its vector shapes fit, so it is used as is",
                           self.collection, self.folder / RECORD_FILE)
            return
        problems = [
            f"it was loaded with {key.replace('_', ' ')} {record[key]!r}, this run uses {ours!r}"
            for key, ours in (("dense_model", self.spec.dense_model), ("sparse_model", self.spec.sparse_model))
            if record.get(key) is not None and record[key] != ours
        ]
        if problems:
            self.close()
            raise CollectionMismatchError(
                f"Collection {self.collection!r} in Qdrant Edge at {self.path} does not fit this load: "
                f"{'; '.join(problems)}. Choose another --collection, pick the models it was loaded with, "
                "or delete the collection to reload it from scratch."
            )

    def _ensure_indexes(self) -> None:
        """Create the payload indexes of :mod:`.qdrant_schema` the shard lacks, or holds in RAM (older shards)."""
        with self._calling():
            info = self.shard.info()
        stale = stale_indexes(info)
        moved = [i.field for i in stale if i.field in info.payload_schema]
        if moved:
            # Once per older shard: its indexes would otherwise grow in RAM with the collection.
            logger.info("Rebuilding %d payload indexes of collection %r on disk, once for a collection written "
                        "before they moved there (about 30 s at 100,000 points)", len(moved), self.collection)
        self.create_indexes(stale)

    def create_indexes(self, indexes: Sequence[PayloadIndex]) -> None:
        """Create the given payload indexes (an existing index of a field is replaced)."""
        if indexes:
            check_headroom(self.path)  # an index is written through preallocated files too
        with self._calling():
            for index in indexes:
                self.shard.update(qe.UpdateOperation.create_field_index(index.field, edge_index_schema(index)))

    def record_models(self) -> None:
        """Write this sink's models, text version and payload format into the record (``doctor --repair``)."""
        self.write_record(self.spec.metadata())

    def set_sparse_idf(self) -> None:
        """Edge cannot change a shard's sparse modifier; a shard this sink made always has IDF."""
        raise CollectionMismatchError(
            f"the sparse vector of {self.collection!r} in Qdrant Edge at {self.path} has no IDF modifier and Edge "
            "cannot add one in place: delete the collection and load again"
        )

    def shape(self) -> CollectionShape:
        """The shard's vectors, record, payload indexes and size (what ``doctor`` checks)."""
        record = {k: v for k, v in (self.read_record() or {}).items() if k != "dense_dim"}
        with self._calling():
            return shard_shape(self.shard_path, self.shard.info(), self.count(), record)

    def close(self) -> None:
        """Flush the segments to disk and release the shard's lock. Safe to call twice."""
        with self._open_lock:
            shard, self._shard = self._shard, None
        if shard is not None:
            try:
                shard.flush()
            finally:
                shard.close()

    def __enter__(self) -> EdgeSink:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- errors -------------------------------------------------------------

    @contextmanager
    def _calling(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            classified = classify(exc, self.path, self.collection, self.spec)
            if classified is exc:
                raise
            raise classified from exc

    # -- points -------------------------------------------------------------

    def upsert(self, points: list[EmbeddedPoint]) -> list[EmbeddedPoint]:
        """Write ``points``; on return they are in the shard's WAL (they survive a kill)."""
        if not points:
            return []
        structs = [
            qe.Point(
                p.point_id,
                {
                    DENSE_VECTOR: [float(v) for v in p.dense],
                    SPARSE_VECTOR: qe.SparseVector([int(i) for i in p.sparse.indices], [float(v) for v in p.sparse.values]),
                },
                p.payload,
            )
            for p in points
        ]
        check_headroom(self.path)
        with self._calling():
            self.shard.update(qe.UpdateOperation.upsert_points(structs))
        self._upkeep_now_and_then(len(points))
        return points

    def _upkeep_now_and_then(self, written: int) -> None:
        """Optimize and flush every :data:`UPKEEP_EVERY` points (durability needs neither: the WAL has them)."""
        with self._open_lock:
            self._unflushed += written
            due = self._unflushed >= UPKEEP_EVERY
            if due:
                self._unflushed = 0
        if due:
            with self._calling():
                self.shard.optimize()
                self.shard.flush()

    def set_payload(self, updates: list[PayloadUpdate]) -> list[PayloadUpdate]:
        """Replace the payloads of stored points (vectors untouched); return the ones Edge confirmed.

        A point that is gone from the shard (deleted behind the load's back) is
        left out of the answer, so the load records it as unconfirmed.
        """
        if not updates:
            return []
        check_headroom(self.path)
        confirmed = []
        for update in updates:
            try:
                with self._calling():
                    self.shard.update(qe.UpdateOperation.overwrite_payload([update.point_id], update.payload))
            except Exception as exc:
                if isinstance(exc, FatalError) or _NO_POINT_TEXT not in str(exc).lower():
                    raise
                logger.warning("Qdrant Edge holds no point %s (%s) to update", update.point_id, update.title)
                continue
            confirmed.append(update)
        self._upkeep_now_and_then(len(confirmed))
        return confirmed

    def upsert_records(self, records: Sequence[qe.Point]) -> None:
        """Write points already in Edge's shape (the migration from local mode)."""
        check_headroom(self.path)
        with self._calling():
            self.shard.update(qe.UpdateOperation.upsert_points(list(records)))
        self._upkeep_now_and_then(len(records))

    def delete(self, point_ids: Sequence[str]) -> None:
        """Delete points by id (missing ids are ignored)."""
        if not point_ids:
            return
        with self._calling():
            self.shard.update(qe.UpdateOperation.delete_points(list(point_ids)))

    def count(self) -> int:
        """Exact number of points in the collection."""
        with self._calling():
            return self.shard.count(qe.CountRequest(exact=True))

    def retrieve(self, point_ids: Sequence[str], *, with_vectors: bool = False) -> list[qe.Record]:
        """Fetch stored points by id (payload always, vectors on request)."""
        with self._calling():
            return self.shard.retrieve(list(point_ids), True, with_vectors)

    def scroll_page(self, offset: Any, limit: int) -> tuple[list[qe.Record], Any]:
        """One page of points (payload, no vectors) from ``offset``; the next offset or ``None``."""
        with self._calling():
            return self.shard.scroll(qe.ScrollRequest(offset=offset, limit=limit, with_payload=True, with_vector=False))

    def collection_exists(self) -> bool:
        """True when the collection's shard is there (a search before any load finds nothing)."""
        return self._shard is not None or (self.shard_path / CONFIG_FILE).is_file()

    def hybrid_query(self, vectors: QueryVectors, limit: int, filters: SearchFilters | None = None) -> list[ScoredPoint]:
        """Dense + sparse candidates from one batch, fused here with RRF (:mod:`.fusion`), best first.

        ``filters`` apply inside both candidate queries, so the fusion ranks only matching points.
        """
        depth = prefetch_depth(limit)
        where = edge_filter(filters)
        sparse = qe.SparseVector([int(i) for i in vectors.sparse.indices], [float(v) for v in vectors.sparse.values])
        dense = qe.Query.Nearest([float(v) for v in vectors.dense], using=DENSE_VECTOR)
        batch = qe.QueryBatchRequest([
            qe.QueryRequest(limit=depth, query=dense, filter=where),
            qe.QueryRequest(limit=depth, query=qe.Query.Nearest(sparse, using=SPARSE_VECTOR), filter=where),
        ])
        with self._calling():
            dense_hits, sparse_hits = self.shard.query_batch(batch)
            fused = rrf_fuse([[str(p.id) for p in dense_hits], [str(p.id) for p in sparse_hits]], limit)
            payloads = {str(r.id): dict(r.payload or {}) for r in self.shard.retrieve([i for i, _ in fused], True, False)}
        return [ScoredPoint(point_id, score, payloads.get(point_id, {})) for point_id, score in fused]
