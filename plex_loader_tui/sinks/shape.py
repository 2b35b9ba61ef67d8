"""What a stored collection looks like, in terms no client owns: what ``doctor`` checks.

Every sink (qdrant-client's :class:`~.qdrant.QdrantSink`, Qdrant Edge's
:class:`~.qdrant_edge.EdgeSink`) describes its collection as a
:class:`CollectionShape`, so ``doctor`` and ``status`` check either engine
with the same code and never reach into a client's own types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The distance ``dense`` must use (Qdrant's name for it).
COSINE = "Cosine"
#: The sparse modifier BM25 needs (Qdrant's name for it).
IDF = "idf"


@dataclass(frozen=True, slots=True)
class DenseShape:
    """One dense vector: its size and distance (``"Cosine"``, ``"Dot"``…)."""

    size: int
    distance: str


@dataclass(frozen=True, slots=True)
class CollectionShape:
    """A collection's vectors, model record and payload indexes, and how many points it holds.

    ``sparse`` maps each sparse vector to its modifier (``"idf"``, or ``None``);
    ``indexes`` maps each indexed payload key to its kind (``"keyword"``,
    ``"integer"``, ``"text"``…).
    """

    points: int
    dense: dict[str, DenseShape] = field(default_factory=dict)
    sparse: dict[str, str | None] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)

    def describe_vectors(self) -> str:
        """``dense: 384 dims Cosine, sparse: sparse (modifier idf)``."""
        return ", ".join(
            [f"{name or '(unnamed)'}: {v.size} dims {v.distance}" for name, v in self.dense.items()]
            + [f"{name}: sparse (modifier {modifier or 'none'})" for name, modifier in self.sparse.items()]
        ) or "no vectors"
