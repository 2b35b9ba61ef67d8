"""The embedding stage: enriched items in, points with dense + sparse vectors out.

:meth:`Embedder.embed` is synchronous; the engine runs it in a worker thread.
ONNX inference releases the GIL, so several workers sharing one
:class:`~plex_loader_tui.embed.models.Models` run in parallel (see
``bench/bench_embed.py`` for what that buys on a given machine).

fastembed pads every model call to its longest text, so a batch is embedded
in sub-batches of :data:`MODEL_BATCH` texts of similar length: the stage's
batch (what a worker takes from its queue, without waiting for more than the
queue holds) is the window the texts are sorted in
(``bench/bench_embed_ceiling.py`` measures it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..models import EmbeddedPoint, EnrichedItem, QueryVectors, SparseVector
from .models import Models
from .payload import build_payload
from .text import build_text, content_hash, point_id, text_hash

logger = logging.getLogger(__name__)

#: Texts per dense model call. Small calls are faster and lighter on two cores
#: (bench/bench_embed.py); sorting a larger stage batch by length fills them evenly.
MODEL_BATCH = 8
#: Padded tokens per dense model call (8 texts of 256 tokens): a call of long texts takes fewer.
#: Memory follows the longest call: its attention tensors (texts x 12 heads x tokens^2 floats:
#: 100 MB for 8 texts of 512 tokens) and ONNX Runtime's arena, which keeps the largest it served.
#: Without a budget that size came with the first 8 long texts, whenever a library had them.
MODEL_TOKENS = 2048


@dataclass(frozen=True, slots=True)
class Draft:
    """An item's text, payload and hashes: everything but the vectors (cheap to make)."""

    item: EnrichedItem
    point_id: str
    text: str
    payload: dict[str, object]
    text_hash: str
    content_hash: str


class Embedder:
    """Turns :class:`EnrichedItem` batches into :class:`EmbeddedPoint` lists.

    ``model_names`` go into each point's content hash; they default to the
    names of ``models`` (pass them explicitly only to pin what is recorded).
    ``model_batch`` is the number of texts per dense model call (the batch is
    sorted by length into calls of that size).
    """

    def __init__(
        self, models: Models, *, model_names: Sequence[str] | None = None, model_batch: int = MODEL_BATCH
    ) -> None:
        if model_batch < 1:
            raise ValueError(f"model_batch must be at least 1 (got {model_batch})")
        self.models = models
        self.model_names: tuple[str, ...] = tuple(model_names or models.describe().names)
        self.model_batch = model_batch
        self._length: Callable[[list[str]], list[int]] = models.text_lengths

    @property
    def dense_dim(self) -> int:
        return self.models.dense_dim

    def draft(self, item: EnrichedItem) -> Draft:
        """The text, payload and hashes ``item`` would be stored with."""
        text = build_text(item)
        payload = build_payload(item, text)
        return Draft(
            item=item,
            point_id=point_id(item.source),
            text=text,
            payload=payload,
            text_hash=text_hash(text, self.model_names),
            content_hash=content_hash(text, payload, self.model_names),
        )

    def embed(self, batch: list[EnrichedItem]) -> list[EmbeddedPoint]:
        """Embed ``batch`` (dense and sparse) into points, in the order given.

        Raises whatever the models raise: the engine retries, then splits the
        batch, so one unembeddable item cannot sink its neighbours.
        """
        return self.embed_drafts([self.draft(item) for item in batch])

    def embed_drafts(self, drafts: Sequence[Draft]) -> list[EmbeddedPoint]:
        """Compute the vectors of ``drafts`` (see :meth:`embed`)."""
        if not drafts:
            return []
        dense, sparse = self.vectors([d.text for d in drafts])
        return [
            EmbeddedPoint(
                point_id=d.point_id,
                item_key=d.item.source.key,
                text=d.text,
                payload=d.payload,
                dense=tuple(dvec.tolist()),
                sparse=_sparse(svec),
                content_hash=d.content_hash,
                title=d.item.source.display_title,
                text_hash=d.text_hash,
            )
            for d, dvec, svec in zip(drafts, dense, sparse, strict=True)
        ]

    def vectors(self, texts: list[str]) -> tuple[list[Any], list[Any]]:
        """The model calls alone: dense (sorted by length, :attr:`model_batch` per call) and sparse vectors."""
        dense = self._dense_by_length(texts)
        # BM25 pads nothing: one call for the whole batch.
        sparse = list(self.models.sparse.embed(texts, batch_size=len(texts)))
        if len(sparse) != len(texts):  # pragma: no cover - fastembed contract
            raise RuntimeError(f"sparse embedding returned {len(sparse)} vectors for {len(texts)} texts")
        return dense, sparse

    def _dense_by_length(self, texts: list[str]) -> list[Any]:
        """Dense vectors of ``texts`` in their order, computed in calls of texts of similar length."""
        lengths = self._length(texts) if len(texts) > 1 else [0] * len(texts)
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        out: list[Any] = [None] * len(texts)
        for chunk in model_calls(order, lengths, self.model_batch, MODEL_TOKENS):
            vectors = list(self.models.dense.embed([texts[i] for i in chunk], batch_size=len(chunk)))
            if len(vectors) != len(chunk):  # pragma: no cover - fastembed contract
                raise RuntimeError(f"dense embedding returned {len(vectors)} vectors for {len(chunk)} texts")
            for i, vector in zip(chunk, vectors):
                out[i] = vector
        return out

    def embed_query(self, text: str) -> QueryVectors:
        """Embed a search query: dense query embedding + BM25 *query* weights.

        BM25 weighs query terms differently from document terms (no length
        normalisation), hence ``query_embed`` rather than ``embed``.
        """
        dense = next(iter(self.models.dense.query_embed(text)))
        sparse = next(iter(self.models.sparse.query_embed(text)))
        return QueryVectors(dense=tuple(dense.tolist()), sparse=_sparse(sparse))


def model_calls(order: Sequence[int], lengths: Sequence[int], size: int, budget: int) -> list[list[int]]:
    """``order`` (indexes sorted by length) cut into calls of at most ``size`` texts and ``budget`` padded tokens.

    A call pads to its longest text; a text longer than the budget gets a call of its own.
    """
    calls: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        longer = max(longest, lengths[i])
        if current and (len(current) == size or (len(current) + 1) * longer > budget):
            calls.append(current)
            current, longer = [], lengths[i]
        current.append(i)
        longest = longer
    if current:
        calls.append(current)
    return calls


def _sparse(embedding: Any) -> SparseVector:
    """fastembed's sparse embedding (numpy arrays) as our plain, hashable shape."""
    return SparseVector(
        indices=tuple(int(i) for i in embedding.indices.tolist()),
        values=tuple(float(v) for v in embedding.values.tolist()),
    )
