"""The four stages of a load: what each does to a batch, and how the engine runs it.

:class:`LoadStages` holds the stage functions, thin adapters between the
engine's batches of :class:`~plex_loader_tui.models.LoadItem` and the domain
objects (source, enricher, embedder, sink), with the
:class:`~plex_loader_tui.state.ledger.LoadLedger` recording each step.
:func:`build_stages` turns them into engine :class:`Stage` specs with the
configured workers and batch sizes and the retry table below;
:func:`plan_listing` sizes the libraries with the same retries as a page.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..config import RunConfig
from ..embed.stage import Embedder
from ..enrich import Enricher
from ..errors import FatalError
from ..models import EmbeddedPoint, LoadItem, PayloadUpdate
from ..pipeline import ItemFailure, RetryPolicy, Stage, StageOutput, StageReport, StageStatus
from ..ports import ListingPlan, PageRequest, Sink, Source
from ..secrets import redact
from ..stages import StageName
from ..state.ledger import Deletions, LoadLedger
from .outcome import ContentCounts

log = logging.getLogger(__name__)


class ListingPlanError(FatalError):
    """The source's libraries could not be listed and sized, even after retries: nothing to load."""


class _ContentTally:
    """:class:`ContentCounts` added up from the embed workers' threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = ContentCounts()

    def add(self, embedded: int, payload_only: int, unchanged: int) -> None:
        with self._lock:
            c = self._counts
            self._counts = ContentCounts(c.embedded + embedded, c.payload_only + payload_only, c.unchanged + unchanged)

    def counts(self) -> ContentCounts:
        with self._lock:
            return self._counts


class LoadStages:
    """The stage functions of one load (ingest and embed and upsert run in worker threads).

    ``reports`` are the stages' retry and error counters: the functions count
    what they handle themselves there (an item enrichment could not complete).
    """

    def __init__(
        self,
        source: Source,
        enricher: Enricher,
        embedder: Embedder,
        sink: Sink,
        ledger: LoadLedger,
        reports: Mapping[str, StageReport],
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self.source = source
        self.enricher = enricher
        self.embedder = embedder
        self.sink = sink
        self.ledger = ledger
        self.reports = reports
        #: True once the run is cancelled: its counts are final, so nothing more is recorded loaded.
        self.cancelled = cancelled
        self._content = _ContentTally()

    @property
    def content(self) -> ContentCounts:
        """Items embedded, written payload-only, or left unchanged so far."""
        return self._content.counts()

    def ingest(self, pages: list[PageRequest]) -> StageOutput:
        """Fetch listing pages and drop the items unchanged since the last load.

        Every page is fetched before any is admitted: a batch retried after
        one page failed must not record the others twice.
        """
        fetched = [(page, self.source.fetch_page(page)) for page in pages]
        admitted: list[LoadItem] = []
        skipped = gone = 0
        for page, listed in fetched:
            items, unchanged = self.ledger.admit(page, listed)
            admitted.extend(items)
            skipped += unchanged
            if page.keys:
                # Keys the source no longer has were deleted: not items still to list.
                gone += max(0, page.size - len(listed))
        return StageOutput(admitted, skipped=skipped, gone=gone)

    async def enrich(self, batch: list[LoadItem]) -> list[LoadItem]:
        """Add TMDb/IMDb data; an item a service could not answer for goes on without it.

        Such an item counts as an enrich error now; it ends failed (a dead
        letter, in the collection with what we have) when its upsert is confirmed.
        """
        enriched = await self.enricher.enrich([item.source for item in batch])
        incomplete = [(item, e) for item, e in zip(batch, enriched, strict=True) if e.errors]
        if incomplete:
            item, e = incomplete[-1]
            services = ", ".join(error.service for error in e.errors)
            self.reports[StageName.ENRICH].error(f"{item.title}: no {services} data ({e.errors[0].message})", len(incomplete))
        return [item.with_enriched(e) for item, e in zip(batch, enriched, strict=True)]

    def embed(self, batch: list[LoadItem]) -> list[LoadItem]:
        """Embed the items whose text is new or changed; the others keep their stored vectors.

        An item whose text hash is the stored one gets a :class:`PayloadUpdate`
        (its payload may have changed: Plex's ``updatedAt`` alone changes it).
        """
        drafts = [self.embedder.draft(item.enriched) for item in batch if item.enriched is not None]
        fresh = [item.stored is None or item.stored.text_hash != d.text_hash for item, d in zip(batch, drafts, strict=True)]
        points = iter(self.embedder.embed_drafts([d for d, new in zip(drafts, fresh) if new]))
        out = []
        for item, d, new in zip(batch, drafts, fresh):
            point: EmbeddedPoint | PayloadUpdate = next(points) if new else PayloadUpdate(
                d.point_id, item.key, d.payload, d.content_hash, d.text_hash, item.title
            )
            out.append(item.with_point(point))
        unchanged = sum(item.unchanged for item in out)
        self._content.add(sum(fresh), len(out) - sum(fresh) - unchanged, unchanged)
        return out

    def upsert(self, batch: list[LoadItem]) -> StageOutput:
        """Record the items pending, upsert with the store's confirmation, then mark them loaded.

        "loaded" in the state therefore always means "in the collection", and a
        crash between the two leaves them pending, so the next run loads them
        again under the same ids (no duplicates). Items loaded without some
        TMDb/IMDb data, and items the store did not confirm, end failed (dead
        letters the ledger recorded in the same transaction): they count as
        failed, not loaded, at once.
        """
        self.ledger.mark_pending(batch)
        vectors = [item.point for item in batch if isinstance(item.point, EmbeddedPoint)]
        payloads = [item.point for item in batch if isinstance(item.point, PayloadUpdate) and not item.unchanged]
        confirmed = {item.key for item in batch if item.unchanged}  # the store already holds them as they are
        if vectors:
            confirmed.update(p.item_key for p in self.sink.upsert(vectors))
        if payloads:
            confirmed.update(u.item_key for u in self.sink.set_payload(payloads))
        if self.cancelled():
            # The run was cancelled while this thread wrote (a thread cannot be interrupted): the
            # engine already counted these items released. They stay pending, so the state never
            # says more was loaded than the run reported; the next run loads them under the same ids.
            return StageOutput([])
        loaded = [item for item in batch if item.key in confirmed]
        unconfirmed = [item for item in batch if item.key not in confirmed]
        failures = self.ledger.mark_loaded(loaded, unconfirmed=unconfirmed)
        failed = {f.item.key for f in failures}
        if unconfirmed:
            self.reports[StageName.UPSERT].error(f"{unconfirmed[-1].title}: the store did not confirm the point",
                                                 len(unconfirmed))
        return StageOutput(
            [item for item in loaded if item.key not in failed],
            failed=[ItemFailure(f.item, f.error, error_type=f.kind, stage=f.stage) for f in failures],
        )


def describe(item: Any) -> str:
    """The title of a unit of work, for error logs and dead letters."""
    if isinstance(item, LoadItem):
        return item.title
    return str(item)


def page_retry(source: Source) -> RetryPolicy:
    """How a listing page is retried: a few attempts with backoff, for what the source says a retry can fix."""
    return RetryPolicy(attempts=3, initial=0.2, max_wait=5.0, retry_on=source.retry_on)


async def plan_listing(source: Source) -> ListingPlan:
    """``source.plan()`` (in a thread), retried like a page: one bad answer while sizing is not fatal.

    Raises :class:`ListingPlanError` when it keeps failing: without the
    sizes there is no plan, so nothing can be retried page by page.
    """
    policy = page_retry(source)

    def on_retry(exc: BaseException) -> None:
        log.warning("listing the libraries failed, trying again: %s", exc)

    try:
        return await policy.call(lambda: asyncio.to_thread(source.plan), on_retry=on_retry)
    except source.retry_on as exc:
        raise ListingPlanError(f"Could not list the libraries ({policy.attempts} attempts): {exc}") from None


async def delete_gone(ledger: LoadLedger, sink: Sink, plan: ListingPlan, secrets: list[str | None]) -> Deletions:
    """After a finished run, delete the points of items gone from the source (in a thread).

    A complete listing deletes what it no longer lists; a plan of changed
    keys deletes the keys the source no longer knows. A failure is a warning,
    not a failed load: deleting is idempotent and the next complete run tries again.
    """
    gone = ledger.delete_missing if plan.targeted else ledger.delete_gone
    try:
        return await asyncio.to_thread(gone, sink)
    except FatalError:
        raise
    except Exception as exc:  # noqa: BLE001 - the load itself succeeded
        log.warning("could not delete the points of items gone from Plex: %s", redact(str(exc), secrets))
        return Deletions()


def retry_table(source: Source, sink: Sink) -> dict[str, RetryPolicy]:
    """How each stage retries a batch: only what a retry can fix is retried.

    Anything else is a data error and splits the batch at once.
    """
    return {
        StageName.INGEST: page_retry(source),
        # Enrichment retries its own HTTP requests and never fails a batch for a
        # service outage (the item goes on, the error recorded on it); what
        # reaches the engine is a bug or a fatal error: no engine-level retry.
        StageName.ENRICH: RetryPolicy(attempts=1, retry_on=()),
        # ONNX inference has no transient failures: an error is an item it cannot
        # take, so the batch is split at once to isolate it.
        StageName.EMBED: RetryPolicy(attempts=1, retry_on=()),
        StageName.UPSERT: RetryPolicy(attempts=4, initial=0.5, max_wait=10.0, retry_on=sink.transient_errors),
    }


def build_stages(config: RunConfig, work: LoadStages, enrich_status: Callable[[], StageStatus | None]) -> list[Stage]:
    """The engine's stage specs for one load, from the configured workers and batch sizes.

    Every stage counts items: a listing page weighs the items on it, so the
    ingest queue, its batch (the Plex page size, one page per batch) and its
    counters are in items like the others'.
    """
    retries = retry_table(work.source, work.sink)
    functions: dict[str, Callable[..., Any]] = {
        StageName.INGEST: work.ingest,
        StageName.ENRICH: work.enrich,
        StageName.EMBED: work.embed,
        StageName.UPSERT: work.upsert,
    }
    stages = []
    for name, fn in functions.items():
        settings = config.stage(name)
        ingest = name == StageName.INGEST
        stages.append(
            Stage(
                str(name),
                fn,
                workers=settings.workers,
                # For ingest the batch size is the Plex page size: one page per batch.
                batch_size=settings.batch_size,
                queue_size=config.queue_size,
                retry=retries[name],
                describe=describe,
                weight=(lambda page: page.size) if ingest else None,
                status=enrich_status if name == StageName.ENRICH else None,
                report=work.reports[name],
            )
        )
    return stages
