"""Reciprocal Rank Fusion done on our side, exactly as Qdrant fuses prefetches.

A Qdrant server (and qdrant-client's local mode) fuses a query's prefetches
itself (``FusionQuery(fusion=RRF)``); the Qdrant Edge sink asks for the dense
and the sparse candidates and fuses them here, with the same formula and the
same constant, so both stores rank the same candidates in the same order.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

#: The RRF constant: a point at 0-based position ``i`` of a ranking scores
#: ``1 / (i + RRF_K)``. 2 is Qdrant's own default (the server's and
#: qdrant-client's ``DEFAULT_RANKING_CONSTANT_K``), which the server-side
#: fusion of the other modes uses; keeping it means the Edge sink ranks
#: exactly like them (the textbook k=60 flattens the top ranks much more).
RRF_K = 2

#: Candidates each prefetch hands to the fusion, at least; more helps RRF little.
MIN_PREFETCH = 50

K = TypeVar("K", bound=Hashable)


def prefetch_depth(limit: int) -> int:
    """How many candidates each of the dense and sparse searches returns for ``limit`` hits."""
    return max(MIN_PREFETCH, limit * 5)


def rrf_fuse(rankings: Sequence[Sequence[K]], limit: int, k: int = RRF_K) -> list[tuple[K, float]]:
    """Fuse best-first rankings of ids into the ``limit`` best ``(id, score)`` pairs.

    Ties keep the order in which the ids were first seen (the first ranking
    first), as qdrant-client's fusion does.
    """
    scores: dict[K, float] = {}
    for ranking in rankings:
        for position, key in enumerate(ranking):
            scores[key] = scores.get(key, 0.0) + 1.0 / (position + k)
    fused = sorted(scores.items(), key=lambda item: item[1], reverse=True)  # stable: ties keep first-seen order
    return fused[:limit]
