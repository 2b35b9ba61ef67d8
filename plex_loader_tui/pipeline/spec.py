"""The declarative side of a stage: what a caller builds and hands the engine.

:class:`Stage` says what a stage does to a batch and how it may run (workers,
batch size, queue, retries); the engine's running copy is
:class:`~plex_loader_tui.pipeline.stage.StageRuntime`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .report import StageReport
from .retry import RetryPolicy

#: Upper bound for a stage's worker count (also the size of its thread pool).
MAX_WORKERS = 64
#: Upper bound for a stage's batch size.
MAX_BATCH_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class ItemFailure:
    """An item a stage handled itself and that ends failed (see :class:`StageOutput`).

    ``stage`` names the stage the failure belongs to when it is not the one
    reporting it (an item upserted without the data enrichment could not get
    ends failed at the upsert, but failed in enrich); ``None`` means the
    reporting stage.
    """

    item: Any
    error: str
    error_type: str = ""
    stage: str | None = None


@dataclass(frozen=True, slots=True)
class StageOutput:
    """What a stage function may return instead of a plain list.

    ``skipped`` counts items the stage consumed on purpose without passing
    them on (e.g. items unchanged since the last load). ``failed`` lists items
    the stage handled itself and that end failed: they are not passed on,
    they count as failed and show in the recent failures at once, and the
    engine does not hand them to ``on_dead_letter`` (the stage recorded them
    as it needed; its error was counted, through its :class:`StageReport`,
    when it happened).

    Items, skipped and failed together are the items the batch turned into:
    a stage whose inputs stand for several items (``Stage.weight``) or that
    fans out accounts for what its inputs became here.

    ``gone`` counts items the inputs stood for that no longer exist (a page of
    rating keys, some of them deleted at the source): the run's total shrinks
    by them, instead of their waiting as never listed.
    """

    items: Sequence[Any]
    skipped: int = 0
    failed: Sequence[ItemFailure] = ()
    gone: int = 0


@dataclass(frozen=True, slots=True)
class StageStatus:
    """What a stage reports about itself beyond its counters.

    ``rate_limited`` marks the stage as held back by a remote service (the
    dashboard shows "rate limited"); ``detail`` is a short note for people
    ("rate-limited (tmdb)", "pacing (tmdb 40/s)").
    """

    rate_limited: bool = False
    detail: str | None = None


BatchFn = Callable[[list[Any]], "Sequence[Any] | StageOutput | Awaitable[Sequence[Any] | StageOutput]"]


@dataclass(slots=True)
class Stage:
    """One step of the pipeline.

    ``fn`` takes a list of inputs and returns a list of outputs (any length)
    or a :class:`StageOutput`. A coroutine function runs on the event loop;
    a plain function runs in the stage's own thread pool so blocking work
    (HTTP with requests, ONNX inference) never stalls the loop.
    """

    name: str
    fn: BatchFn
    workers: int = 1
    batch_size: int = 1
    queue_size: int = 256
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: How long a worker waits for a partial batch to fill before taking it.
    linger: float = 0.02
    #: Title of an item for error logs and dead letters.
    describe: Callable[[Any], str] | None = None
    #: How many library items an input stands for (a page of a listing: its size). Queues,
    #: batch sizes and counters of the stage then count those items, not the inputs.
    weight: Callable[[Any], int] | None = None
    #: What the stage reports about itself (e.g. a remote service rate-limits it).
    status: Callable[[], StageStatus | None] | None = None
    #: Force thread (True) or loop (False) execution; None decides from ``fn``.
    threaded: bool | None = None
    #: Where the stage's retries and errors are counted; give one to let the stage's own
    #: code (its HTTP clients) report what it handled itself. Default: a fresh one.
    report: StageReport = field(default_factory=StageReport)

    def __post_init__(self) -> None:
        validate_workers(self.name, self.workers)
        validate_batch_size(self.name, self.batch_size)
        if self.queue_size < 1:
            raise ValueError(f"stage {self.name!r}: queue size must be at least 1, got {self.queue_size}")


def validate_workers(stage: str, n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_WORKERS:
        raise ValueError(f"stage {stage!r}: workers must be a whole number from 1 to {MAX_WORKERS}, got {n!r}")


def validate_batch_size(stage: str, n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_BATCH_SIZE:
        raise ValueError(
            f"stage {stage!r}: batch size must be a whole number from 1 to {MAX_BATCH_SIZE}, got {n!r}"
        )
