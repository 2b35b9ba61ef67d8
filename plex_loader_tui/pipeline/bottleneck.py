"""Which stage sets a run's pace right now (the dashboard's bottleneck marker)."""

from __future__ import annotations

from collections.abc import Sequence

from .stage import StageRuntime

#: Below this utilisation no stage is called the bottleneck (the run is starved, not limited).
MIN_UTILISATION = 0.2


def bottleneck(stages: Sequence[StageRuntime], now: float) -> str | None:
    """The stage that limits the pace: the busiest one over the last seconds.

    A stage that is fully busy while its input queue is backing up sets
    the pace; stages that wait on a full queue downstream only look busy,
    so blocked time does not count (their batches end when room appears,
    and that shows up as the next stage's utilisation instead).
    """
    best: tuple[float, int, str] | None = None
    for stage in stages:
        if stage.finished:
            continue
        score = stage.utilisation(now)
        if stage.next is not None and stage.next.queue.depth >= stage.next.queue.capacity:
            score *= 0.5  # mostly waiting for room downstream
        key = (score, stage.index, stage.name)
        if best is None or key > best:
            best = key
    if best is None or best[0] < MIN_UTILISATION:
        return None
    return best[2]
