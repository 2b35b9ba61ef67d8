"""Hybrid search over a loaded collection: dense + sparse, fused with RRF.

Both halves run inside Qdrant through one ``query_points`` call: two
prefetches (dense cosine, sparse BM25 with the IDF modifier) whose rankings
are merged by Reciprocal Rank Fusion. The query is embedded with the same
models (and BM25 stopwords) as the documents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from .embed.stage import Embedder
from .sinks.qdrant import DENSE_VECTOR, SPARSE_VECTOR, QdrantSink

logger = logging.getLogger(__name__)

#: Candidates each prefetch hands to the fusion, at least; more helps RRF little.
MIN_PREFETCH = 50


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: the point, its fused score and the fields worth showing."""

    point_id: str
    score: float
    title: str
    type: str
    year: int | None
    show_title: str | None
    payload: dict[str, object] = field(repr=False, compare=False)

    @property
    def display_title(self) -> str:
        """``Show — S01E04 — Episode (year)`` for episodes, ``Title (year)`` for movies."""
        p = self.payload
        title = self.title
        if self.type == "episode" and self.show_title:
            season = p.get("season_number") or 0
            episode = p.get("episode_number") or 0
            title = f"{self.show_title} — S{season:02d}E{episode:02d} — {title}"
        return f"{title} ({self.year})" if self.year else title


def hybrid_search(
    client_or_sink: QdrantClient | QdrantSink,
    collection: str | None,
    embedder: Embedder,
    query: str,
    limit: int = 10,
) -> list[SearchHit]:
    """Return the top ``limit`` hits for ``query`` (dense + sparse, RRF-fused).

    ``client_or_sink`` is a connected :class:`QdrantSink` (its lock is
    respected in embedded mode; ``collection`` may then be ``None``) or a plain
    ``QdrantClient``.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1 (got {limit})")
    vectors = embedder.embed_query(query)
    depth = max(MIN_PREFETCH, limit * 5)
    kwargs = dict(
        prefetch=[
            qm.Prefetch(query=list(vectors.dense), using=DENSE_VECTOR, limit=depth),
            qm.Prefetch(
                query=qm.SparseVector(indices=list(vectors.sparse.indices), values=list(vectors.sparse.values)),
                using=SPARSE_VECTOR,
                limit=depth,
            ),
        ],
        query=qm.FusionQuery(fusion=qm.Fusion.RRF),
        limit=limit,
        with_payload=True,
    )
    if isinstance(client_or_sink, QdrantSink):
        if collection not in (None, client_or_sink.collection):
            raise ValueError(f"sink writes {client_or_sink.collection!r}, not {collection!r}")
        response = client_or_sink.query_points(**kwargs)
    else:
        if not collection:
            raise ValueError("collection is required with a plain QdrantClient")
        response = client_or_sink.query_points(collection, **kwargs)
    hits = []
    for point in response.points:
        payload = dict(point.payload or {})
        year = payload.get("year")
        hits.append(
            SearchHit(
                point_id=str(point.id),
                score=float(point.score),
                title=str(payload.get("title") or ""),
                type=str(payload.get("type") or ""),
                year=year if isinstance(year, int) else None,
                show_title=payload.get("show_title") if isinstance(payload.get("show_title"), str) else None,
                payload=payload,
            )
        )
    logger.debug("hybrid search %r: %d hits", query, len(hits))
    return hits
