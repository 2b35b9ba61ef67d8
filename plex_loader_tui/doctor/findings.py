"""What ``doctor`` finds: one line each, with what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FindingKind(StrEnum):
    """What is wrong; ``--repair`` knows what to do for each kind marked in :data:`REPAIRABLE`."""

    NO_COLLECTION = "no-collection"
    VECTORS = "vectors"
    SPARSE_IDF = "sparse-idf"
    MODELS = "models"
    NO_RECORD = "no-record"
    TEXT_VERSION = "text-version"
    INDEXES = "indexes"
    MISSING_POINTS = "missing-points"
    CHANGED_POINTS = "changed-points"
    ORPHANS = "orphans"


#: Kinds ``--repair`` fixes: the rest need the user's decision (another collection, other models).
REPAIRABLE = frozenset({
    FindingKind.SPARSE_IDF, FindingKind.NO_RECORD, FindingKind.INDEXES,
    FindingKind.MISSING_POINTS, FindingKind.CHANGED_POINTS, FindingKind.ORPHANS,
})


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: its kind, the line that says it and what to do, and the items or points it concerns."""

    kind: FindingKind
    line: str
    #: State keys (drifted items) or point ids (orphans) the finding names.
    subjects: tuple[str, ...] = ()

    @property
    def repairable(self) -> bool:
        return self.kind in REPAIRABLE


def examples(titles: list[str], total: int, shown: int = 3, *, quote: bool = True) -> str:
    """``"'A', 'B', 'C' and 4 more"``: enough to recognise the items without flooding the line."""
    head = ", ".join(repr(t) if quote else t for t in titles[:shown])
    return head + (f" and {total - shown} more" if total > shown else "")
