"""Counters that keep counting across syncs (what Prometheus counters need).

Each sync runs its own pipeline, whose figures start from zero. The service
adds every finished sync's figures to a :class:`RunningTotals` and, while a
sync runs, reports the sum of both, so a counter never goes down.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..pipeline import PipelineSnapshot
from .controls import ServiceTotals, SyncKind

#: The outcomes of an item in one stage (the ``outcome`` label of the items counter).
OUTCOME_OUT = "out"  # passed on (the last stage: loaded)
OUTCOME_SKIPPED = "skipped"  # consumed on purpose (unchanged since the last load)
OUTCOME_FAILED = "failed"


@dataclass
class RunningTotals:
    """The sums of every finished sync (mutated on the event loop only)."""

    items: Counter[tuple[str, str]] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    syncs: Counter[str] = field(default_factory=Counter)
    deleted: int = 0

    def add_sync(self, kind: SyncKind, snapshot: PipelineSnapshot | None, deleted: int) -> None:
        """Fold a finished sync's final figures in."""
        self.syncs[kind.value] += 1
        self.deleted += deleted
        if snapshot is not None:
            _add_snapshot(self.items, self.retries, self.errors, snapshot)

    def view(
        self, running: PipelineSnapshot | None, rate_limited: dict[str, int], paced_seconds: dict[str, float]
    ) -> ServiceTotals:
        """The totals now: finished syncs plus the one running (``running``), if any.

        ``rate_limited`` and ``paced_seconds`` come from the enricher, which lives as long as the service.
        """
        items, retries, errors = Counter(self.items), Counter(self.retries), Counter(self.errors)
        if running is not None:
            _add_snapshot(items, retries, errors, running)
        return ServiceTotals(
            items=dict(items),
            retries=dict(retries),
            errors=dict(errors),
            rate_limited=dict(rate_limited),
            paced_seconds=dict(paced_seconds),
            syncs=dict(self.syncs),
            deleted=self.deleted,
        )


def _add_snapshot(
    items: Counter[tuple[str, str]], retries: Counter[str], errors: Counter[str], snapshot: PipelineSnapshot
) -> None:
    for stage in snapshot.stages:
        items[(stage.name, OUTCOME_OUT)] += stage.items_out
        items[(stage.name, OUTCOME_SKIPPED)] += stage.skipped
        items[(stage.name, OUTCOME_FAILED)] += stage.failed
        retries[stage.name] += stage.retries
        errors[stage.name] += stage.errors
