"""The queries our own search sends: one hybrid ``query_points`` with optional filters.

Kept apart from the sink so that a plain ``QdrantClient`` (tests, other
tools) can run the same query the ``search`` command does.
"""

from __future__ import annotations

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from ..models import QueryVectors, ScoredPoint, SearchFilters
from .fusion import prefetch_depth
from .qdrant_schema import DENSE_VECTOR, SPARSE_VECTOR


def search_filter(filters: SearchFilters | None) -> qm.Filter | None:
    """``filters`` as a Qdrant filter on indexed keys (``None`` when there is nothing to filter)."""
    if not filters:
        return None
    return qm.Filter(must=[
        qm.FieldCondition(key=key, match=qm.MatchValue(value=value)) for key, value in filters.conditions()
    ])


def hybrid_query(client: QdrantClient, collection: str, vectors: QueryVectors, limit: int,
                 filters: SearchFilters | None = None) -> list[ScoredPoint]:
    """One ``query_points``: a dense (cosine) and a sparse (BM25, IDF) prefetch merged by RRF.

    ``filters`` apply inside each prefetch, so the fusion ranks only matching points.
    """
    depth = prefetch_depth(limit)
    where = search_filter(filters)
    response = client.query_points(
        collection,
        prefetch=[
            qm.Prefetch(query=list(vectors.dense), using=DENSE_VECTOR, limit=depth, filter=where),
            qm.Prefetch(
                query=qm.SparseVector(indices=list(vectors.sparse.indices), values=list(vectors.sparse.values)),
                using=SPARSE_VECTOR,
                limit=depth,
                filter=where,
            ),
        ],
        query=qm.FusionQuery(fusion=qm.Fusion.RRF),
        limit=limit,
        with_payload=True,
    )
    return [ScoredPoint(str(p.id), float(p.score), dict(p.payload or {})) for p in response.points]
