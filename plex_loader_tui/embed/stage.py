"""The embedding stage: enriched items in, points with dense + sparse vectors out.

:meth:`Embedder.embed` is synchronous; the engine runs it in a worker thread.
ONNX inference releases the GIL, so several workers sharing one
:class:`~plex_loader_tui.embed.models.Models` run in parallel (see
``bench/bench_embed.py`` for what that buys on a given machine).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..models import EmbeddedPoint, EnrichedItem, QueryVectors, SparseVector
from .models import Models
from .payload import build_payload
from .text import build_text, content_hash, point_id

logger = logging.getLogger(__name__)


class Embedder:
    """Turns :class:`EnrichedItem` batches into :class:`EmbeddedPoint` lists.

    ``model_names`` go into each point's content hash; they default to the
    names of ``models`` (pass them explicitly only to pin what is recorded).
    """

    def __init__(self, models: Models, *, model_names: Sequence[str] | None = None) -> None:
        self.models = models
        self.model_names: tuple[str, ...] = tuple(model_names or models.describe().names)

    @property
    def dense_dim(self) -> int:
        return self.models.dense_dim

    def embed(self, batch: list[EnrichedItem]) -> list[EmbeddedPoint]:
        """Embed ``batch`` (dense and sparse, one model call each) into points.

        Raises whatever the models raise: the engine retries, then splits the
        batch, so one unembeddable item cannot sink its neighbours.
        """
        if not batch:
            return []
        texts = [build_text(item) for item in batch]
        size = len(texts)
        dense = list(self.models.dense.embed(texts, batch_size=size))
        sparse = list(self.models.sparse.embed(texts, batch_size=size))
        if len(dense) != size or len(sparse) != size:  # pragma: no cover - fastembed contract
            raise RuntimeError(f"embedding returned {len(dense)}/{len(sparse)} vectors for {size} texts")
        points: list[EmbeddedPoint] = []
        for item, text, dvec, svec in zip(batch, texts, dense, sparse):
            payload = build_payload(item, text)
            points.append(
                EmbeddedPoint(
                    point_id=point_id(item.source),
                    item_key=item.source.key,
                    text=text,
                    payload=payload,
                    dense=tuple(dvec.tolist()),
                    sparse=_sparse(svec),
                    content_hash=content_hash(text, payload, self.model_names),
                    title=item.source.display_title,
                )
            )
        return points

    def embed_query(self, text: str) -> QueryVectors:
        """Embed a search query: dense query embedding + BM25 *query* weights.

        BM25 weighs query terms differently from document terms (no length
        normalisation), hence ``query_embed`` rather than ``embed``.
        """
        dense = next(iter(self.models.dense.query_embed(text)))
        sparse = next(iter(self.models.sparse.query_embed(text)))
        return QueryVectors(dense=tuple(dense.tolist()), sparse=_sparse(sparse))


def _sparse(embedding: Any) -> SparseVector:
    """fastembed's sparse embedding (numpy arrays) as our plain, hashable shape."""
    return SparseVector(
        indices=tuple(int(i) for i in embedding.indices.tolist()),
        values=tuple(float(v) for v in embedding.values.tolist()),
    )
