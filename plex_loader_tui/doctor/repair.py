"""``doctor --repair``: fix what can be fixed in place, reload drifted items through a real load.

Collection fixes (the sparse IDF modifier, the model record, payload
indexes) and orphan deletions are single Qdrant calls. Drifted items are
not rebuilt here: they are marked failed in the load state (a dead letter
saying why) and a ``retry-failed`` load runs them through the same four
stages as any load, which lists Plex, enriches, embeds and upserts them and
marks them loaded. The next plain load would pick them up too.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ..config import RunConfig
from ..stages import StageName
from ..state.paths import state_path_of
from .diagnosis import Diagnosis, expected_of, open_target
from .findings import FindingKind

log = logging.getLogger(__name__)

#: Orphan point ids deleted per request.
DELETE_CHUNK = 500

_WHY = {
    FindingKind.MISSING_POINTS: "doctor: its point is missing from the collection",
    FindingKind.CHANGED_POINTS: "doctor: its point holds another payload than the one loaded",
}


@dataclass(frozen=True, slots=True)
class RepairDone:
    """What ``--repair`` did; ``load_exit`` is the reload's exit code (``None``: nothing to reload)."""

    fixed: tuple[str, ...]
    reloaded: int
    deleted: int
    load_exit: int | None


def repair(config: RunConfig, diagnosis: Diagnosis, run_load: Callable[[RunConfig], int]) -> RepairDone:
    """Repair what ``diagnosis`` found that can be repaired; reload drifted items with ``run_load``."""
    from ..state import StateStore

    kinds = {f.kind for f in diagnosis.findings}
    fixed: list[str] = []
    deleted = 0
    expected = expected_of(config)
    sink = open_target(config, expected)
    try:
        if FindingKind.SPARSE_IDF in kinds:
            sink.set_sparse_idf()
            fixed.append("set the IDF modifier of the sparse vector")
        if FindingKind.NO_RECORD in kinds:
            sink.record_models()
            fixed.append(f"recorded the models {expected.dense_model} + {expected.sparse_model}")
        for finding in diagnosis.findings:
            if finding.kind is FindingKind.INDEXES:
                from ..sinks.qdrant_schema import PAYLOAD_INDEXES

                sink.create_indexes([i for i in PAYLOAD_INDEXES if i.field in finding.subjects])
                fixed.append(f"created {len(finding.subjects)} payload indexes")
            elif finding.kind is FindingKind.ORPHANS:
                orphans = list(finding.subjects)
                for start in range(0, len(orphans), DELETE_CHUNK):
                    sink.delete(orphans[start : start + DELETE_CHUNK])
                deleted += len(orphans)
    finally:
        sink.close()  # before the reload: an embedded folder admits one client

    drifted = [(f, key) for f in diagnosis.findings if f.kind in _WHY for key in f.subjects]
    if not drifted:
        return RepairDone(tuple(fixed), 0, deleted, None)
    with StateStore.open(state_path_of(config)) as store:
        failures = []
        for finding, key in drifted:
            item = store.get(key)
            if item is not None:
                failures.append((key, item.point_id, item.title, StageName.UPSERT.value, _WHY[finding.kind], ""))
        store.mark_failed_many(failures)
    log.info("doctor: marked %d drifted items for reloading", len(failures))
    retry = dataclasses.replace(config, retry_failed=True, no_ui=True)
    return RepairDone(tuple(fixed), len(failures), deleted, run_load(retry))
