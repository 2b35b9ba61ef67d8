"""The collection of :mod:`.qdrant_schema` in Qdrant Edge's terms: shard config, indexes, filters, shape.

Kept apart from the sink so the translation from the one declared schema
(vectors, :data:`~.qdrant_schema.PAYLOAD_INDEXES`, search filters) to Edge's
types reads in one place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from ..models import SearchFilters
from .qdrant_schema import DENSE_VECTOR, SPARSE_VECTOR, TEXT_INDEX, IndexKind, PayloadIndex
from .shape import CollectionShape, DenseShape

#: The file Edge keeps a shard's vector configuration in.
CONFIG_FILE = "edge_config.json"


def edge_config(dense_dim: int) -> qe.EdgeConfig:
    """The shard a load writes: named dense (cosine) + sparse (IDF) vectors, payload on disk."""
    return qe.EdgeConfig(
        vectors={DENSE_VECTOR: qe.EdgeVectorParams(size=dense_dim, distance=qe.Distance.Cosine)},
        sparse_vectors={SPARSE_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        payload_memory=qe.Memory.Cold,
    )


def edge_index_schema(index: PayloadIndex) -> qe.PayloadSchemaType | qe.TextIndexParams:
    """Edge's schema of one declared payload index (text indexes tokenised as qdrant-client's)."""
    if index.kind is IndexKind.TEXT:
        return qe.TextIndexParams(
            tokenizer=qe.TokenizerType.Word, min_token_len=TEXT_INDEX.min_token_len, lowercase=TEXT_INDEX.lowercase,
        )
    return qe.PayloadSchemaType.Keyword if index.kind is IndexKind.KEYWORD else qe.PayloadSchemaType.Integer


def edge_filter(filters: SearchFilters | None) -> qe.Filter | None:
    """``filters`` as an Edge filter on the indexed keys (``None`` when there is nothing to filter)."""
    if not filters:
        return None
    return qe.Filter(must=[qe.FieldCondition(key=key, match=qe.MatchValue(value)) for key, value in filters.conditions()])


def index_kinds(info: qe.ShardInfo) -> dict[str, str]:
    """Each indexed payload key and its kind (``"keyword"``, ``"integer"``, ``"text"``…)."""
    # The enum is a Rust one without `.name`: its str is "PayloadSchemaType.Keyword".
    return {name: str(index.data_type).rsplit(".", 1)[-1].lower() for name, index in info.payload_schema.items()}


def shard_shape(shard_path: Path, info: qe.ShardInfo, points: int, record: dict[str, Any]) -> CollectionShape:
    """The shard's :class:`~.shape.CollectionShape`: vectors from its config file, indexes from ``info``."""
    config = json.loads((shard_path / CONFIG_FILE).read_text(encoding="utf-8"))
    return CollectionShape(
        points=points,
        dense={name: DenseShape(int(v["size"]), str(v["distance"])) for name, v in config.get("vectors", {}).items()},
        sparse={name: (v or {}).get("modifier") for name, v in config.get("sparse_vectors", {}).items()},
        metadata=record,
        indexes=index_kinds(info),
    )
