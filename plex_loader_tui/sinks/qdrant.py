"""The Qdrant sink: creates the collection and writes embedded points to it.

Two modes, one class:

* **embedded local mode** (a folder an earlier version wrote, or `--embedded-store local`;
  new folders get Qdrant Edge: `.qdrant_edge`): qdrant-client's in-process store at a
  folder (``QdrantSettings.path``). It holds an exclusive file lock on that
  folder, so there is exactly one client per path per process, shared by
  every upsert worker. Local mode keeps each collection in plain Python/numpy
  structures with no locking of its own, so this sink serialises every call
  on it with one lock. That costs little: a local upsert takes about 1 ms of
  CPU per point (embedding takes ~30 ms), and what remains is SQLite commit
  time, which parallel writers to one file could not overlap anyway. To keep
  that commit time small the sink switches the local SQLite file to WAL (see
  ``QdrantSettings.durable_local_writes``).
* **server mode** (``QdrantSettings.url``): REST (or gRPC) to a Qdrant server
  or cluster. The client is thread-safe and calls run concurrently, no lock.

Errors are sorted for the engine: :data:`TRANSIENT_ERRORS` (timeouts,
connection resets, 5xx/429) are worth a retry; authentication failures and a
vanished collection are :class:`~plex_loader_tui.pipeline.errors.FatalError`
subclasses; anything else is a data error (the engine splits the batch). The sorting
is :func:`.qdrant_failures.classify`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from ..config.settings import default_of
from ..models import EmbeddedPoint, PayloadUpdate, QueryVectors, ScoredPoint, SearchFilters
from ..secrets import mask
from .qdrant_errors import (
    TRANSIENT_ERRORS,
    CollectionMismatchError,
    QdrantUnavailableError,
)
from .qdrant_failures import classify, describe_error, where
from .qdrant_query import hybrid_query
from .qdrant_schema import (
    DENSE_VECTOR,
    SPARSE_VECTOR,
    CollectionSpec,
    collection_problems,
    create_collection,
    create_payload_indexes,
    missing_indexes,
    record_metadata,
    recorded,
    shape_of,
)
from .shape import CollectionShape

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QdrantSettings:
    """Where the collection lives.

    Exactly one of ``path`` (embedded local mode) and ``url`` (server) is
    used; ``url`` wins when both are set. ``timeout`` is in seconds per call.

    ``durable_local_writes`` (embedded mode only): qdrant-client commits every
    point in its own SQLite transaction with a full fsync, which on this
    machine's disk caps local upserts near 55 points/s, below the embedding
    rate. By default the sink switches the collection's SQLite file to WAL
    with ``synchronous=NORMAL`` (15-30x faster; a killed process loses
    nothing, only an OS crash or power cut can lose the last writes). Set it
    to keep qdrant-client's fsync-per-point behaviour.
    """

    path: Path | None = None
    url: str | None = None
    api_key: str | None = None
    prefer_grpc: bool = False
    collection: str = default_of("collection")
    timeout: int = 30
    durable_local_writes: bool = False

    @property
    def is_local(self) -> bool:
        return not self.url

    @property
    def location(self) -> str:
        """Where the data is, for messages and the state store's key (no secret)."""
        return self.url if self.url else f"local:{self.path}"

    def __repr__(self) -> str:  # the api key only ever appears masked
        return (
            f"QdrantSettings(path={self.path!r}, url={self.url!r}, api_key={mask(self.api_key)!r}, "
            f"prefer_grpc={self.prefer_grpc}, collection={self.collection!r}, timeout={self.timeout}, "
            f"durable_local_writes={self.durable_local_writes})"
        )


class QdrantSink:
    """Writes :class:`EmbeddedPoint` batches into one Qdrant collection (a :class:`~plex_loader_tui.ports.Sink`).

    Build it, :meth:`connect`, :meth:`ensure_collection`, then call
    :meth:`upsert` from any number of worker threads; :meth:`close` at the end.
    """

    transient_errors = TRANSIENT_ERRORS

    def __init__(self, settings: QdrantSettings, dense_dim: int, dense_model: str, sparse_model: str, *,
                 text_version: int | None = None, payload_format: str | None = None) -> None:
        if settings.is_local and settings.path is None:
            raise ValueError("QdrantSettings needs a path (embedded mode) or a url (server mode)")
        self.settings = settings
        self.collection = settings.collection
        self.dense_dim = dense_dim
        self.dense_model = dense_model
        self.sparse_model = sparse_model
        self.spec = CollectionSpec(settings.collection, dense_dim, dense_model, sparse_model,
                                   text_version=text_version, payload_format=payload_format)
        self._client: QdrantClient | None = None
        self.keeps_indexes = not settings.is_local  # local mode has no payload indexes (doctor checks them)
        # Local mode is not thread-safe (see module docstring); server mode needs no lock.
        self._lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if settings.is_local else contextlib.nullcontext()
        )

    def __repr__(self) -> str:
        return f"QdrantSink({self.settings!r})"

    @property
    def location(self) -> str:
        """The server URL, or ``local:<folder>`` (no secret)."""
        return self.settings.location

    # -- connection ---------------------------------------------------------

    @property
    def client(self) -> QdrantClient:
        """The underlying client (after :meth:`connect`)."""
        if self._client is None:
            raise RuntimeError("QdrantSink.connect() has not been called")
        return self._client

    def _where(self) -> str:
        return where(self.settings)

    def connect(self) -> None:
        """Open the client and check that Qdrant answers; raise a fatal error if not."""
        s = self.settings
        if s.is_local:
            assert s.path is not None
            try:
                s.path.mkdir(parents=True, exist_ok=True)
                # The one client is used from worker threads; our lock serialises it.
                client = QdrantClient(path=str(s.path), force_disable_check_same_thread=True)
            except RuntimeError as exc:
                raise QdrantUnavailableError(
                    f"{self._where()} is in use by another process (another load or search?): "
                    "stop it, or use a different --qdrant-path"
                ) from exc
            except OSError as exc:
                raise QdrantUnavailableError(f"Cannot open {self._where()}: {exc}") from exc
            self._client = client
            logger.info("Using embedded Qdrant at %s", s.path)
            return
        try:
            client = QdrantClient(
                url=s.url, api_key=s.api_key, prefer_grpc=s.prefer_grpc, timeout=s.timeout
            )
        except Exception as exc:  # a URL that does not parse
            raise QdrantUnavailableError(f"Invalid Qdrant URL {s.url!r}: {describe_error(exc, s.api_key)}") from exc
        try:
            client.get_collections()
        except Exception as exc:
            client.close()
            raise classify(exc, self.settings, self.collection, connecting=True) from exc
        self._client = client
        logger.info("Connected to %s", self._where())

    def close(self) -> None:
        """Close the client (releases the local folder's lock). Safe to call twice."""
        if self._client is not None:
            with self._lock:
                self._client.close()
            self._client = None

    def __enter__(self) -> QdrantSink:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- error sorting ------------------------------------------------------

    @contextlib.contextmanager
    def _call(self) -> Iterator[None]:
        with self._lock:
            try:
                yield
            except Exception as exc:
                mapped = classify(exc, self.settings, self.collection)
                if mapped is exc:
                    raise
                raise mapped from exc

    # -- collection ---------------------------------------------------------

    def ensure_collection(self) -> bool:
        """Create the collection if missing (returns True), else check it fits.

        Raises :class:`CollectionMismatchError` when an existing collection's
        vectors (names, size, distance, sparse modifier) or recorded model
        names differ from what this load needs. Nothing is ever overwritten.
        """
        client = self.client
        with self._call():
            exists = client.collection_exists(self.collection)
            if exists:
                info = client.get_collection(self.collection)
        if exists:
            self._check(info)
            self._bring_up_to_date(info)
        else:
            with self._call():
                create_collection(client, self.spec, payload_indexes=not self.settings.is_local)
            logger.info("Created collection %r in %s", self.collection, self._where())
        if self.settings.is_local and not self.settings.durable_local_writes:
            self._speed_up_local_storage()
        return not exists

    def _speed_up_local_storage(self) -> None:
        """Put the local collection's SQLite file in WAL mode with NORMAL sync.

        qdrant-client has no option for this, so it reaches one private
        attribute chain; if a future client moves it, we log and go on at the
        slower default rather than fail the load.
        """
        with self._lock:
            try:
                local = self.client._client  # QdrantLocal
                conn = local.collections[self.collection].storage.storage  # sqlite3.Connection
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                conn.execute("PRAGMA synchronous=NORMAL")
            except Exception as exc:  # noqa: BLE001 - an optimisation, never a reason to stop
                logger.warning("Could not switch embedded Qdrant storage to WAL (%s); upserts will be slower", exc)
                return
        logger.debug("Embedded Qdrant collection %r: journal_mode=%s, synchronous=NORMAL", self.collection, mode)

    def _check(self, info: qm.CollectionInfo) -> None:
        fit = collection_problems(info, self.spec)
        if fit.problems:
            raise CollectionMismatchError(
                f"Collection {self.collection!r} in {self._where()} does not fit this load: "
                f"{'; '.join(fit.problems)}. It has [{fit.has}]; the models ({self.dense_model}, {self.sparse_model}) "
                f"need [{self.spec.needs()}]. Choose another --collection, pick the models it was loaded with, "
                "or delete the collection to reload it from scratch."
            )
        if not fit.recorded_models:
            logger.warning(
                "Collection %r has no model record (not created by plex-loader-tui?); "
                "its vector shapes fit, so it is used as is", self.collection,
            )

    def _bring_up_to_date(self, info: qm.CollectionInfo) -> None:
        """Record what fills the collection now, and add the payload indexes it lacks (server).

        A collection made by an older version (another text version, fewer
        indexes) is loaded into as it is; its record and indexes follow.
        """
        meta = recorded(info)
        wanted = self.spec.metadata()
        if any(meta.get(k) != v for k, v in wanted.items()):
            with self._call():
                record_metadata(self.client, self.spec)
            logger.info("Collection %r: recorded %s", self.collection, wanted)
        if not self.settings.is_local:
            missing = missing_indexes(shape_of(info))
            if missing:
                with self._call():
                    create_payload_indexes(self.client, self.collection, missing)
                logger.info("Collection %r: created %d payload indexes", self.collection, len(missing))

    def shape(self) -> CollectionShape:
        """The collection's vectors, model record, payload indexes and size (what ``doctor`` checks)."""
        with self._call():
            return shape_of(self.client.get_collection(self.collection))

    def scroll_page(self, offset: Any, limit: int) -> tuple[list[qm.Record], Any]:
        """One page of points (payload, no vectors) from ``offset``; the next offset or ``None``."""
        with self._call():
            return self.client.scroll(
                self.collection, limit=limit, offset=offset, with_payload=True, with_vectors=False
            )

    def set_sparse_idf(self) -> None:
        """Give the sparse vector the IDF modifier BM25 needs (Qdrant re-weighs in place)."""
        with self._call():
            self.client.update_collection(
                self.collection, sparse_vectors_config={SPARSE_VECTOR: qm.SparseVectorParams(modifier=qm.Modifier.IDF)}
            )

    def record_models(self) -> None:
        """Write this sink's models, text version and payload format into the collection's metadata."""
        with self._call():
            record_metadata(self.client, self.spec)

    def create_indexes(self, indexes: Sequence[Any]) -> None:
        """Create the given payload indexes (:class:`~.qdrant_schema.PayloadIndex`)."""
        with self._call():
            create_payload_indexes(self.client, self.collection, tuple(indexes))

    # -- points -------------------------------------------------------------

    def upsert(self, points: list[EmbeddedPoint]) -> list[EmbeddedPoint]:
        """Write ``points`` and wait until Qdrant confirms; return the confirmed points.

        On return every point is in the collection (``wait=True``), so the
        caller may record them as loaded.
        """
        if not points:
            return []
        structs = [
            qm.PointStruct(
                id=p.point_id,
                vector={
                    DENSE_VECTOR: list(p.dense),
                    SPARSE_VECTOR: qm.SparseVector(indices=list(p.sparse.indices), values=list(p.sparse.values)),
                },
                payload=p.payload,
            )
            for p in points
        ]
        with self._call():
            self.client.upsert(self.collection, points=structs, wait=True)
        return points

    def set_payload(self, updates: list[PayloadUpdate]) -> list[PayloadUpdate]:
        """Replace the payloads of stored points (vectors untouched), in one request; return the confirmed ones."""
        if not updates:
            return []
        operations = [
            qm.OverwritePayloadOperation(overwrite_payload=qm.SetPayload(payload=u.payload, points=[u.point_id]))
            for u in updates
        ]
        with self._call():
            self.client.batch_update_points(self.collection, update_operations=operations, wait=True)
        return updates

    def delete(self, point_ids: Sequence[str]) -> None:
        """Delete points by id (missing ids are ignored), waiting for confirmation."""
        if not point_ids:
            return
        with self._call():
            self.client.delete(self.collection, points_selector=qm.PointIdsList(points=list(point_ids)), wait=True)

    def count(self) -> int:
        """Exact number of points in the collection."""
        with self._call():
            return self.client.count(self.collection, exact=True).count

    def retrieve(self, point_ids: Sequence[str], *, with_vectors: bool = False) -> list[qm.Record]:
        """Fetch stored points by id (payload always, vectors on request)."""
        with self._call():
            return self.client.retrieve(
                self.collection, ids=list(point_ids), with_payload=True, with_vectors=with_vectors
            )

    def collection_exists(self) -> bool:
        """True when the collection is there (a search before any load finds nothing)."""
        with self._call():
            return self.client.collection_exists(self.collection)

    def hybrid_query(self, vectors: QueryVectors, limit: int, filters: SearchFilters | None = None) -> list[ScoredPoint]:
        """Dense + sparse prefetches fused with RRF inside Qdrant, in one call."""
        with self._call():
            return hybrid_query(self.client, self.collection, vectors, limit, filters)
