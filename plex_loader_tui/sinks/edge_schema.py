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
from .qdrant_schema import DENSE_VECTOR, PAYLOAD_INDEXES, SPARSE_VECTOR, TEXT_INDEX, IndexKind, PayloadIndex
from .shape import CollectionShape, DenseShape

#: The file Edge keeps a shard's vector configuration in.
CONFIG_FILE = "edge_config.json"


#: Edge writes into an appendable segment whose indexes (sparse, payload) live in RAM and grow with
#: every point. The sink has the optimizer turn it into an immutable segment every few thousand
#: points (:meth:`~.qdrant_edge.EdgeSink.upsert`), stored on disk and read through mmap without
#: preloading (``Memory.Cold``), so a load's memory stays flat (bench/bench_load_memory.py). A
#: segment stops growing at this many KiB of vectors (~2,600 points of 384 floats), so each
#: optimization rewrites a bounded amount.
MAX_SEGMENT_KB = 4000


def edge_config(dense_dim: int) -> qe.EdgeConfig:
    """The shard a load writes: named dense (cosine) + sparse (IDF) vectors, everything on disk.

    ``m=0`` builds no HNSW graph: a query scans every vector exactly, as it always did in the
    appendable segment (search results do not depend on how the points are segmented).
    """
    cold = qe.Memory.Cold
    return qe.EdgeConfig(
        vectors={DENSE_VECTOR: qe.EdgeVectorParams(size=dense_dim, distance=qe.Distance.Cosine, memory=cold)},
        sparse_vectors={SPARSE_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf, memory=cold)},
        payload_memory=cold,
        id_tracker_memory=cold,
        hnsw_config=qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10),
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=1, max_segment_size=MAX_SEGMENT_KB,
                                           default_segment_number=2),
    )


def edge_index_schema(index: PayloadIndex) -> qe.KeywordIndexParams | qe.IntegerIndexParams | qe.TextIndexParams:
    """Edge's schema of one declared payload index (text indexes tokenised as qdrant-client's), on disk."""
    cold = qe.Memory.Cold
    if index.kind is IndexKind.TEXT:
        return qe.TextIndexParams(
            tokenizer=qe.TokenizerType.Word, min_token_len=TEXT_INDEX.min_token_len, lowercase=TEXT_INDEX.lowercase,
            memory=cold,
        )
    if index.kind is IndexKind.KEYWORD:
        return qe.KeywordIndexParams(memory=cold)
    return qe.IntegerIndexParams(lookup=True, range=True, memory=cold)


def edge_filter(filters: SearchFilters | None) -> qe.Filter | None:
    """``filters`` as an Edge filter on the indexed keys (``None`` when there is nothing to filter)."""
    if not filters:
        return None
    return qe.Filter(must=[qe.FieldCondition(key=key, match=qe.MatchValue(value)) for key, value in filters.conditions()])


def stale_indexes(info: qe.ShardInfo) -> list[PayloadIndex]:
    """The declared payload indexes the shard lacks, has as another kind, or keeps in RAM.

    Shards written before the indexes moved to disk keep theirs in RAM
    (``memory`` unset, or no params at all: the first versions created
    keyword and integer indexes from a bare schema type) whatever config they
    are opened with; recreating such an index puts it on disk.
    """
    have = info.payload_schema
    kinds = index_kinds(info)
    return [
        index for index in PAYLOAD_INDEXES
        if kinds.get(index.field) != index.kind.value
        or getattr(have[index.field].params, "memory", None) != qe.Memory.Cold
    ]


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
