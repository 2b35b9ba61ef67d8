"""The shape of the collection a load writes: vectors, payload indexes, model record.

:class:`CollectionSpec` says what a load needs; :func:`create_collection`
makes it, :func:`collection_problems` says why an existing one does not fit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import UnexpectedResponse

logger = logging.getLogger(__name__)

DENSE_VECTOR = "dense"
SPARSE_VECTOR = "sparse"

#: Payload fields indexed on a Qdrant server (local mode has no payload indexes).
PAYLOAD_INDEXES: dict[str, qm.PayloadSchemaType] = {
    "type": qm.PayloadSchemaType.KEYWORD,
    "year": qm.PayloadSchemaType.INTEGER,
    "genres": qm.PayloadSchemaType.KEYWORD,
    "imdb_id": qm.PayloadSchemaType.KEYWORD,
    "tmdb_id": qm.PayloadSchemaType.KEYWORD,
    "show_title": qm.PayloadSchemaType.KEYWORD,
}



@dataclass(frozen=True, slots=True)
class CollectionSpec:
    """The collection a load writes to: its name, dense size and the models that fill it."""

    name: str
    dense_dim: int
    dense_model: str
    sparse_model: str

    def metadata(self) -> dict[str, object]:
        """What the collection records about who filled it."""
        return {"dense_model": self.dense_model, "sparse_model": self.sparse_model, "created_by": "plex-loader-tui"}

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
    if not payload_indexes:
        logger.debug("Embedded Qdrant has no payload indexes; skipping %s", ", ".join(PAYLOAD_INDEXES))
        return
    for field_name, schema in PAYLOAD_INDEXES.items():
        client.create_payload_index(spec.name, field_name=field_name, field_schema=schema, wait=True)


@dataclass(frozen=True, slots=True)
class CollectionFit:
    """How an existing collection compares with a :class:`CollectionSpec`."""

    problems: tuple[str, ...]
    has: str
    recorded_models: bool


def collection_problems(info: qm.CollectionInfo, spec: CollectionSpec) -> CollectionFit:
    """Compare an existing collection's vectors and model record with ``spec``."""
    params = info.config.params
    vectors = params.vectors if isinstance(params.vectors, dict) else {"": params.vectors} if params.vectors else {}
    sparse = params.sparse_vectors or {}
    has = ", ".join(
        [f"{name or '(unnamed)'}: {v.size} dims {v.distance.value}" for name, v in vectors.items() if v]
        + [f"{name}: sparse (modifier {getattr(p.modifier, 'value', p.modifier) or 'none'})" for name, p in sparse.items()]
    ) or "no vectors"
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
    meta = getattr(info.config, "metadata", None) or {}
    for key, ours in (("dense_model", spec.dense_model), ("sparse_model", spec.sparse_model)):
        theirs = meta.get(key)
        if theirs is not None and theirs != ours:
            problems.append(f"it was loaded with {key.replace('_', ' ')} {theirs!r}, this run uses {ours!r}")
    return CollectionFit(tuple(problems), has, bool(meta))
