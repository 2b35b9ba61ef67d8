"""The data shapes a load session hands its front ends: phases, header facts, the result."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from ..exit_codes import ExitCode
from ..pipeline import DeadLetter, PipelineSnapshot
from ..state.runs import RunRecord, record_run

if TYPE_CHECKING:
    from ..embed.models import ModelInfo
    from ..enrich import Pacing
    from ..state.store import StateStore

log = logging.getLogger(__name__)


class Phase(StrEnum):
    """Where a load session is: preparing, running, or how it ended."""

    STARTING = "starting"
    CONNECTING = "connecting"
    LOADING_MODELS = "loading-models"
    RUNNING = "running"
    FINISHED = "finished"
    DRAINED = "drained"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def preparing(self) -> bool:
        """Still connecting or loading models (no pipeline yet)."""
        return self in (Phase.STARTING, Phase.CONNECTING, Phase.LOADING_MODELS)

    @property
    def ended(self) -> bool:
        """The session does no more work."""
        return self in (Phase.FINISHED, Phase.DRAINED, Phase.CANCELLED, Phase.FAILED)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What the dashboard header and the summary say about a load (secrets masked)."""

    source: str
    target: str
    collection: str
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The services a load talks to (the demo server's, under ``--demo``)."""

    plex_url: str | None
    plex_token: str | None
    tmdb_api_key: str | None
    tmdb_base_url: str
    imdb_base_url: str

    def __repr__(self) -> str:  # never show the secrets
        return (
            f"Endpoints(plex_url={self.plex_url!r}, tmdb_base_url={self.tmdb_base_url!r}, "
            f"imdb_base_url={self.imdb_base_url!r})"
        )


@dataclass(frozen=True, slots=True)
class ContentCounts:
    """What the embed stage did with the items it saw (a load's figures).

    ``embedded``: vectors computed (the text is new or changed);
    ``payload_only``: the stored text with a changed payload, written without
    embedding; ``unchanged``: text and payload as stored, nothing written.
    """

    embedded: int = 0
    payload_only: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class LoadResult:
    """How a load ended, with the figures for the summary.

    ``state``: finished | drained | cancelled | failed. ``duration`` is the
    whole session (connecting and loading the models included); ``startup``
    the part before the first item flowed (``None`` if it never did). The
    run's own time, and every count, is the final ``snapshot``'s: the one
    source every front end reads.
    """

    state: str
    duration: float
    snapshot: PipelineSnapshot | None
    dead_letters: tuple[DeadLetter, ...] = ()
    dead_letters_omitted: int = 0
    fatal_error: str | None = None
    deleted: int = 0
    #: Items a section's listing lacked, kept because so many at once needs --allow-mass-delete.
    deletions_held_back: int = 0
    failed_waiting: int = 0
    enrich_incomplete: int = 0
    unfinished: int = 0
    total: int | None = None
    startup: float | None = None
    content: ContentCounts = ContentCounts()
    #: The models that embedded (their build and device), once they were loaded.
    models: ModelInfo | None = None
    #: How much each enrichment service's rate limit held this run back.
    pacing: tuple[Pacing, ...] = ()

    @property
    def left(self) -> int:
        """Items this run did not get to (a drain or cancel): the next run picks them up."""
        total = self.total if self.total is not None else (self.snapshot.total if self.snapshot else None)
        if total is None:
            return self.unfinished
        done = self.snapshot.done if self.snapshot is not None else 0
        return max(0, total - done)

    @property
    def waiting_for_retry(self) -> int:
        """Items ``retry-failed`` (or the next run) will try again: the state's dead letters,
        or this run's failures when more (a failed listing page records no item of its own)."""
        failed = self.snapshot.failed if self.snapshot is not None else 0
        return max(self.failed_waiting, failed)

    @property
    def exit_code(self) -> ExitCode:
        if self.state == Phase.FAILED:
            return ExitCode.FATAL
        if self.state == Phase.DRAINED and self.left:
            return ExitCode.DRAINED
        if self.enrich_incomplete or (self.snapshot is not None and self.snapshot.failed > 0):
            return ExitCode.FAILED_ITEMS
        return ExitCode.OK


def run_record(command: str, started_at: float, result: LoadResult | None, error: str | None = None) -> RunRecord:
    """How a run ended, as the load state keeps it (``result`` None: it failed with ``error``)."""
    snap = result.snapshot if result is not None else None
    return RunRecord(
        command=command,
        started_at=started_at,
        ended_at=time.time(),
        state=result.state if result is not None else Phase.FAILED.value,
        exit_code=int(result.exit_code if result is not None else ExitCode.FATAL),
        loaded=snap.loaded if snap else 0,
        skipped=snap.skipped if snap else 0,
        failed=snap.failed if snap else 0,
        deleted=result.deleted if result is not None else 0,
        total=result.total if result is not None else None,
        error=error,
    )


def remember_run(store: StateStore, record: RunRecord) -> None:
    """Keep how a run ended in the load state (``status`` shows it); never fails the run."""
    try:
        record_run(store, record)
    except Exception:  # noqa: BLE001 - a record for display only
        log.warning("could not record this run in the load state", exc_info=True)
