"""Drift between the load state and the collection, found by paging through the collection.

The collection is read a page at a time (payloads, no vectors) and never
held whole: what stays in memory is the state's claims (one small row per
item) and the ids of the points seen. For each point the content hash is
computed again from its stored payload (the embedded text is part of it),
so a payload changed by hand shows as drift just like a point written by
another version; a point no item maps to is an orphan; an item the state
calls loaded whose point never came by is missing.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..embed.text import content_hash
from ..state.records import PointClaim

#: Points read per request: small enough for any server's answer limit, big enough to be quick.
PAGE_SIZE = 256


class PagedCollection(Protocol):
    """What drift needs of a sink: pages of points (either sink's ``scroll_page``)."""

    def scroll_page(self, offset: Any, limit: int) -> tuple[list[Any], Any]: ...


@dataclass
class Drift:
    """What differs: claims whose point is missing or changed, and orphan point ids."""

    missing: list[PointClaim] = field(default_factory=list)
    changed: list[PointClaim] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    points: int = 0
    pages: int = 0
    seconds: float = 0.0


def stored_hash(payload: dict[str, Any], model_names: Sequence[str]) -> str:
    """The content hash of a stored point, computed from its payload as the embed stage did."""
    return content_hash(str(payload.get("text") or ""), payload, model_names)


def find_drift(collection: PagedCollection, claims: Sequence[PointClaim], model_names: Sequence[str] | None,
               page_size: int = PAGE_SIZE) -> Drift:
    """Compare every point of ``collection`` with the state's ``claims``, one page at a time.

    ``model_names`` are those the content hashes were made with; ``None``
    compares presence only (missing points, orphans), not payloads.
    """
    started = time.monotonic()
    by_point: dict[str, list[PointClaim]] = defaultdict(list)
    for claim in claims:
        by_point[claim.point_id].append(claim)
    drift = Drift()
    seen: set[str] = set()
    offset: Any = None
    while True:
        records, offset = collection.scroll_page(offset, page_size)
        drift.pages += 1
        for record in records:
            pid = str(record.id)
            drift.points += 1
            owners = by_point.get(pid)
            if not owners:
                drift.orphans.append(pid)
                continue
            seen.add(pid)
            loaded = [c for c in owners if c.status == "loaded"]
            # A point shared by several items (one plex:// guid in two libraries) holds the
            # last one written: it is right when it matches any of them.
            if model_names is not None and loaded and not any(c.content_hash == stored_hash(dict(record.payload or {}), model_names) for c in loaded):
                drift.changed.extend(loaded)
        if offset is None or not records:
            break
    drift.missing = [c for c in claims if c.status == "loaded" and c.point_id not in seen]
    drift.seconds = time.monotonic() - started
    return drift
