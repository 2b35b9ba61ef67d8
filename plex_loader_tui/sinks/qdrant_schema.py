"""The shape of the collection a load writes: vectors, payload indexes, model record.

:class:`CollectionSpec` says what a load needs; :func:`create_collection`
makes it, :func:`collection_problems` says why an existing one does not fit
a load, and :func:`shape_of` describes it for ``doctor`` (:mod:`.shape`, as every sink does).

The payload indexes are declared once, here (:data:`PAYLOAD_INDEXES`), in
terms no client owns (:class:`IndexKind`), so every sink (qdrant-client's
here, Qdrant Edge's) builds the same indexes from the same list. They are the
indexes mcp-plex's server relies on (its filters, ``order_by`` and lookups)
plus the ids our own payload carries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import UnexpectedResponse

from .shape import CollectionShape, DenseShape

logger = logging.getLogger(__name__)

DENSE_VECTOR = "dense"
SPARSE_VECTOR = "sparse"

#: Who wrote a collection, in its metadata (``created_by``).
CREATOR = "plex-loader-tui"


class IndexKind(StrEnum):
    """What a payload index makes cheap: exact match, integer range/order, or words."""

    KEYWORD = "keyword"
    INTEGER = "integer"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class PayloadIndex:
    """One payload index: the payload key (dots reach into ``data``) and its kind."""

    field: str
    kind: IndexKind


def _indexes(kind: IndexKind, *fields: str) -> tuple[PayloadIndex, ...]:
    return tuple(PayloadIndex(f, kind) for f in fields)


#: Every payload index a collection gets on a Qdrant server (embedded Qdrant has none).
PAYLOAD_INDEXES: tuple[PayloadIndex, ...] = (
    *_indexes(IndexKind.TEXT, "title", "summary", "overview", "plot", "tagline", "reviews"),
    *_indexes(
        IndexKind.KEYWORD,
        "title_slug", "type", "actors", "directors", "writers", "genres", "show_title", "show_title_slug",
        "collections", "data.plex.rating_key", "data.plex.guid", "data.imdb.id", "imdb_id", "tmdb_id",
    ),
    *_indexes(IndexKind.INTEGER, "year", "added_at", "season_number", "episode_number", "data.tmdb.id"),
)

#: Full-text indexes split on words, keep tokens of 2+ characters, lower-case (as mcp-plex's).
TEXT_INDEX = qm.TextIndexParams(
    type=qm.TextIndexType.TEXT, tokenizer=qm.TokenizerType.WORD, min_token_len=2, lowercase=True
)


def client_schema(index: PayloadIndex) -> qm.PayloadSchemaType | qm.TextIndexParams:
    """The qdrant-client field schema of ``index``."""
    if index.kind is IndexKind.TEXT:
        return TEXT_INDEX
    return qm.PayloadSchemaType.KEYWORD if index.kind is IndexKind.KEYWORD else qm.PayloadSchemaType.INTEGER


@dataclass(frozen=True, slots=True)
class CollectionSpec:
    """The collection a load writes to: its name, dense size and what fills it.

    ``text_version`` and ``payload_format`` are recorded with the models so a
    consumer can tell what the points hold; ``None`` leaves them out.
    """

    name: str
    dense_dim: int
    dense_model: str
    sparse_model: str
    text_version: int | None = None
    payload_format: str | None = None

    def metadata(self) -> dict[str, object]:
        """What the collection records about who filled it (Qdrant collection metadata)."""
        meta: dict[str, object] = {
            "dense_model": self.dense_model, "sparse_model": self.sparse_model, "created_by": CREATOR,
        }
        if self.text_version is not None:
            meta["text_version"] = self.text_version
        if self.payload_format is not None:
            meta["payload_format"] = self.payload_format
        return meta

    def needs(self) -> str:
        return f"{DENSE_VECTOR}: {self.dense_dim} dims Cosine, {SPARSE_VECTOR}: sparse (modifier idf)"


def create_collection(client: QdrantClient, spec: CollectionSpec, *, payload_indexes: bool) -> None:
    """Create the collection: named dense (cosine) + sparse (IDF) vectors, the model record, indexes."""
    kwargs: dict[str, Any] = dict(
        collection_name=spec.name,
        vectors_config={DENSE_VECTOR: qm.VectorParams(size=spec.dense_dim, distance=qm.Distance.COSINE)},
        sparse_vectors_config={SPARSE_VECTOR: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
    )
    try:
        client.create_collection(**kwargs, metadata=spec.metadata())
    except UnexpectedResponse as exc:
        # Servers older than 1.16 do not know collection metadata: create without it.
        if exc.status_code not in (400, 422):
            raise
        logger.info("Qdrant server rejected collection metadata (%s); creating without it", exc.status_code)
        client.create_collection(**kwargs)
    if payload_indexes:
        create_payload_indexes(client, spec.name, PAYLOAD_INDEXES)
    else:
        logger.debug("Embedded Qdrant has no payload indexes; skipping %d", len(PAYLOAD_INDEXES))


def create_payload_indexes(client: QdrantClient, collection: str, indexes: tuple[PayloadIndex, ...]) -> None:
    """Create ``indexes`` (an existing index of a field is replaced by the same one)."""
    for index in indexes:
        client.create_payload_index(collection, field_name=index.field, field_schema=client_schema(index), wait=True)


def record_metadata(client: QdrantClient, spec: CollectionSpec) -> None:
    """Write ``spec``'s record into an existing collection's metadata (other keys kept)."""
    client.update_collection(spec.name, metadata=spec.metadata())


def recorded(info: qm.CollectionInfo) -> dict[str, Any]:
    """The collection's metadata (``{}`` when it has none)."""
    return dict(getattr(info.config, "metadata", None) or {})


@dataclass(frozen=True, slots=True)
class CollectionFit:
    """How an existing collection compares with a :class:`CollectionSpec`."""

    problems: tuple[str, ...]
    has: str
    recorded_models: bool


def _vectors(info: qm.CollectionInfo) -> tuple[dict[str, Any], dict[str, Any]]:
    params = info.config.params
    vectors = params.vectors if isinstance(params.vectors, dict) else {"": params.vectors} if params.vectors else {}
    return vectors, dict(params.sparse_vectors or {})


def shape_of(info: qm.CollectionInfo) -> CollectionShape:
    """``info`` as the client-free :class:`~.shape.CollectionShape` ``doctor`` checks."""
    vectors, sparse = _vectors(info)
    return CollectionShape(
        points=info.points_count or 0,
        dense={name: DenseShape(v.size, v.distance.value) for name, v in vectors.items() if v},
        sparse={name: getattr(p.modifier, "value", p.modifier) or None for name, p in sparse.items()},
        metadata=recorded(info),
        indexes={name: str(getattr(getattr(have, "data_type", None), "value", "")) for name, have in (info.payload_schema or {}).items()},
    )


def describe_vectors(info: qm.CollectionInfo) -> str:
    """``dense: 384 dims Cosine, sparse: sparse (modifier idf)``."""
    return shape_of(info).describe_vectors()


def collection_problems(info: qm.CollectionInfo, spec: CollectionSpec) -> CollectionFit:
    """Compare an existing collection's vectors and model record with ``spec`` (what stops a load)."""
    vectors, sparse = _vectors(info)
    problems: list[str] = []
    dense = vectors.get(DENSE_VECTOR)
    if dense is None:
        problems.append(f"no {DENSE_VECTOR!r} vector")
    elif dense.size != spec.dense_dim or dense.distance != qm.Distance.COSINE:
        problems.append(f"{DENSE_VECTOR!r} is {dense.size} dims {dense.distance.value}")
    sp = sparse.get(SPARSE_VECTOR)
    if sp is None:
        problems.append(f"no {SPARSE_VECTOR!r} sparse vector")
    elif sp.modifier != qm.Modifier.IDF:
        problems.append(f"{SPARSE_VECTOR!r} has no IDF modifier")
    meta = recorded(info)
    for key, ours in (("dense_model", spec.dense_model), ("sparse_model", spec.sparse_model)):
        theirs = meta.get(key)
        if theirs is not None and theirs != ours:
            problems.append(f"it was loaded with {key.replace('_', ' ')} {theirs!r}, this run uses {ours!r}")
    return CollectionFit(tuple(problems), describe_vectors(info), bool(meta))


def missing_indexes(shape: CollectionShape) -> tuple[PayloadIndex, ...]:
    """The declared indexes the collection lacks or has of another kind."""
    return tuple(index for index in PAYLOAD_INDEXES if shape.indexes.get(index.field) != index.kind.value)
