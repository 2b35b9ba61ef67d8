"""Hybrid search over a loaded collection: dense + sparse, fused with RRF.

:func:`search` embeds the query with the same models (and BM25 stopwords) as
the documents and asks the sink for its fused candidates
(:meth:`~plex_loader_tui.ports.Sink.hybrid_query`: for Qdrant, one
``query_points`` with two prefetches merged by Reciprocal Rank Fusion). It
takes the sink and the embedder it is given: whoever owns them (a running
load, the ``search`` command) decides where they come from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .embed.stage import Embedder
from .models import ScoredPoint, SearchFilters, episode_title
from .ports import Sink

logger = logging.getLogger(__name__)


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
            title = episode_title(self.show_title, _int(p.get("season_number")), _int(p.get("episode_number")), title)
        return f"{title} ({self.year})" if self.year else title

    @classmethod
    def from_point(cls, point: ScoredPoint) -> SearchHit:
        payload = point.payload
        show = payload.get("show_title")
        return cls(
            point_id=point.point_id,
            score=point.score,
            title=str(payload.get("title") or ""),
            type=str(payload.get("type") or ""),
            year=_int(payload.get("year")),
            show_title=show if isinstance(show, str) else None,
            payload=payload,
        )


def search(sink: Sink, embedder: Embedder, query: str, limit: int = 10,
           filters: SearchFilters | None = None) -> list[SearchHit]:
    """Return the top ``limit`` hits for ``query`` (dense + sparse, RRF-fused), best first.

    ``filters`` keep only matching items (type, year, genre, actor), inside the query.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1 (got {limit})")
    vectors = embedder.embed_query(query)
    points = sink.hybrid_query(vectors, limit, filters) if filters else sink.hybrid_query(vectors, limit)
    hits = [SearchHit.from_point(p) for p in points]
    logger.debug("hybrid search %r: %d hits", query, len(hits))
    return hits


def hybrid_search(sink_or_client: Any, collection: str | None, embedder: Embedder, query: str, limit: int = 10) -> list[SearchHit]:
    """:func:`search` on a connected sink, or on a plain ``QdrantClient`` and a collection name.

    With a sink, ``collection`` may be ``None`` (or must name the sink's own).
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1 (got {limit})")
    if hasattr(sink_or_client, "hybrid_query"):
        if collection not in (None, sink_or_client.collection):
            raise ValueError(f"sink writes {sink_or_client.collection!r}, not {collection!r}")
        return search(sink_or_client, embedder, query, limit)
    if not collection:
        raise ValueError("collection is required with a plain QdrantClient")
    from .sinks.qdrant import hybrid_query

    points = hybrid_query(sink_or_client, collection, embedder.embed_query(query), limit)
    return [SearchHit.from_point(p) for p in points]


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
