"""One load, start to finish: the piece both front ends host.

:class:`LoadSession` sequences a load: it starts the demo server when asked,
connects to Plex while the embedding models load (in threads, before any
item flows), opens the Qdrant collection and the load state, plans the
listing, runs the four stages, and afterwards deletes the points of items
that left the library. The parts come from :mod:`.wiring`, the stage
functions from :mod:`.stages`, the bookkeeping from the
:class:`~plex_loader_tui.state.ledger.LoadLedger`. Front ends only call its
small control surface (:class:`~plex_loader_tui.pipeline.PipelineControls`
plus :meth:`LoadSession.stage_settings`, :meth:`LoadSession.search`) and poll
:meth:`LoadSession.snapshot`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..config import RunConfig, StageConfig
from ..errors import FatalError
from ..pipeline import Pipeline, PipelineControls, PipelineState, StageReport
from ..ports import ListingPlan, ServerInfo
from ..secrets import redact
from ..stages import STAGE_NAMES, StageName
from ..state.ledger import Deletions
from . import wiring
from .outcome import ContentCounts, LoadResult, Phase, SessionInfo, remember_run, run_record
from .searching import CollectionSearcher

if TYPE_CHECKING:
    from ..demo.server import DemoServer
    from ..embed.models import Models
    from ..embed.stage import Embedder
    from ..enrich import Enricher, Pacing
    from ..ports import Sink
    from ..search import SearchHit
    from ..sources.plex import PlexSource
    from ..state.ledger import LoadLedger
    from ..state.records import FailedRecord
    from ..state.store import StateStore
    from .stages import LoadStages

log = logging.getLogger(__name__)


class LoadSession(PipelineControls):
    """One load of a Plex library into Qdrant (see the module docstring)."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        #: Where the services are: from the config, or the demo server once it runs.
        self.endpoints = wiring.configured_endpoints(config)
        self.phase = Phase.STARTING
        self.phase_detail = ""
        self.info = self._info()
        self._pipeline: Pipeline | None = None
        self._cancelled = False
        self._drain_requested = False
        self._pause_requested = False
        self._demo: DemoServer | None = None
        self._source: PlexSource | None = None
        self._enricher: Enricher | None = None
        self._models: Models | None = None
        self._embedder: Embedder | None = None
        self._sink: Sink | None = None
        self._store: StateStore | None = None
        self._ledger: LoadLedger | None = None
        self._searcher: CollectionSearcher | None = None
        self._work: LoadStages | None = None
        #: The stages' retry/error counters of the current run (its clients report into them).
        self._reports: dict[str, StageReport] = new_reports()
        #: Seconds from the start of run() to the first item (connecting, loading the models).
        self._startup: float | None = None
        self._server: ServerInfo | None = None
        #: Called for every finished batch (stage, seconds, items): a service's latency histogram.
        self.on_batch: Callable[[str, float, int], None] | None = None
        #: When run() started (epoch seconds), for the run record ``status`` shows.
        self._started_at = time.time()

    def _info(self, server: object = None) -> SessionInfo:
        c = self.config
        source = wiring.describe_source(c, self.endpoints, server)  # type: ignore[arg-type]
        return SessionInfo(source=source, target=wiring.describe_target(c), collection=c.collection, profile=c.profile)

    def _secrets(self) -> list[str | None]:
        c, e = self.config, self.endpoints
        return [c.plex_token, c.tmdb_api_key, c.qdrant_api_key, e.plex_token, e.tmdb_api_key]

    def _set_phase(self, phase: Phase, detail: str = "") -> None:
        self.phase = phase
        self.phase_detail = detail
        log.debug("%s%s", phase, f": {detail}" if detail else "")

    # ------------------------------------------------------------------ control
    def drain(self) -> None:
        """Finish the batches in flight, take nothing new, stop.

        Asked while the session is still preparing (connecting, loading models),
        the load stops as soon as preparing ends, before any item flows.
        """
        self._drain_requested = True
        super().drain()
        if self._enricher is not None:
            # A lookup sleeping out a Retry-After would hold the drain for as long.
            self._enricher.release()

    def cancel(self) -> None:
        self._cancelled = True
        super().cancel()

    def pause(self) -> None:
        """Pause the run now, or the next pipeline as soon as it starts (a service between syncs)."""
        self._pause_requested = True
        super().pause()

    def resume(self) -> None:
        self._pause_requested = False
        super().resume()

    def set_batch_size(self, stage: str, n: int) -> None:
        if stage == StageName.INGEST:
            # The engine's ingest unit is one listing page; the page size itself
            # was fixed when the listing was planned.
            raise ValueError(
                "the Plex page size is fixed once the listing is planned: set --plex-chunk-size before the run"
            )
        super().set_batch_size(stage, n)

    def stage_settings(self) -> dict[str, StageConfig]:
        """Live worker counts and batch sizes (what a saved profile should hold).

        For ingest the batch size is the Plex page size, as in the config.
        """
        pipeline = self._pipeline
        settings = {}
        for name in STAGE_NAMES:
            configured = self.config.stage(name)
            if pipeline is None:
                settings[name] = configured
            else:
                batch = configured.batch_size if name == StageName.INGEST else pipeline.batch_size(name)
                settings[name] = StageConfig(workers=pipeline.workers(name), batch_size=batch)
        return settings

    @property
    def startup_seconds(self) -> float | None:
        """Seconds the current run spent connecting and loading models before items flowed."""
        return self._startup

    def failed_waiting(self) -> int:
        """Dead letters waiting in the state store for a retry."""
        if self._ledger is None:
            return 0
        try:
            return self._ledger.failed_count()
        except Exception:  # noqa: BLE001 - a count for display only
            return 0

    def failed_records(self, limit: int, offset: int = 0) -> list[FailedRecord]:
        """One page of the dead letters waiting for a retry, most recent first (empty while closed)."""
        return self._store.failed_items(limit=limit, offset=offset) if self._store is not None else []

    def paced_seconds_by_service(self) -> dict[str, float]:
        """Seconds each enrichment service's rate limit held lookups back, since :meth:`open`."""
        return {p.key: p.paced_s for p in self._pacing().values()}

    def rate_limited_by_service(self) -> dict[str, int]:
        """Answers that said "slow down", per enrichment service, since :meth:`open`."""
        return self._enricher.rate_limited_by_service() if self._enricher is not None else {}

    @property
    def server(self) -> ServerInfo | None:
        """Who answered at :meth:`open` (None before)."""
        return self._server

    # ---------------------------------------------------------------------- run
    async def run(self) -> LoadResult:
        """Prepare (connect, load models), run the pipeline, then delete what left Plex.

        Raises :class:`FatalError` (with secrets redacted from its message)
        when the load cannot go on.
        """
        started = time.monotonic()
        self._started_at = time.time()
        self._reports = new_reports()
        self._startup = None
        try:
            await self.open()
            plan = await self.plan_listing()
            if self._cancelled or self._drain_requested:
                # Stopped before any item flowed: the whole library is left for the next run.
                self._set_phase(Phase.CANCELLED if self._cancelled else Phase.DRAINED)
                return LoadResult(state=self.phase, duration=time.monotonic() - started, snapshot=None,
                                  total=plan.total, unfinished=plan.total)
            self._startup = time.monotonic() - started
            outcome = await self.run_plan(plan, started=started, fresh_reports=False)
            await asyncio.to_thread(self._record_run, outcome)
            return outcome
        except FatalError as exc:
            redacted = self._redacted(exc)
            await asyncio.to_thread(self._record_run, None, str(redacted))
            raise redacted from None
        finally:
            await self.close()

    def _redacted(self, exc: FatalError) -> FatalError:
        self._set_phase(Phase.FAILED, str(exc))
        message = redact(str(exc), self._secrets())
        return type(exc)(message) if message != str(exc) else exc

    async def run_plan(
        self,
        plan: ListingPlan,
        *,
        started: float | None = None,
        full: bool | None = None,
        retry_failed: bool | None = None,
        fresh_reports: bool = True,
    ) -> LoadResult:
        """Run the pipeline over ``plan`` with the parts :meth:`open` made (they stay open).

        A complete listing (the plan of :meth:`plan_listing`) then deletes the
        points of items gone from Plex; a plan of changed rating keys
        (``PageRequest.keys``) deletes the keys Plex no longer knows instead.
        ``full``/``retry_failed`` override the config for this run (the
        service's syncs are incremental whatever the command line said).
        ``fresh_reports``: start the stages' retry/error counters from zero.
        """
        started = time.monotonic() if started is None else started
        if fresh_reports:
            self._reports = new_reports()
        ledger = self._ledger = self._new_ledger(
            full=self.config.full if full is None else full,
            retry_failed=self.config.retry_failed if retry_failed is None else retry_failed,
        )
        ledger.expect(plan)
        paced_before = self._pacing()
        try:
            result = await self._run_pipeline(plan)
        except FatalError as exc:
            raise self._redacted(exc) from None
        deletions = Deletions()
        if result.state == PipelineState.FINISHED and not self.config.no_delete and not ledger.retry_failed:
            from .stages import delete_gone

            assert self._sink is not None
            deletions = await delete_gone(ledger, self._sink, plan, self._secrets())
        self._set_phase(Phase(result.state))
        return LoadResult(
            state=result.state,
            duration=time.monotonic() - started,
            snapshot=result.snapshot,
            dead_letters=result.dead_letters,
            dead_letters_omitted=result.dead_letters_omitted,
            deleted=deletions.deleted,
            deletions_held_back=deletions.held_back,
            failed_waiting=self.failed_waiting(),
            enrich_incomplete=ledger.enrich_incomplete,
            unfinished=result.unfinished,
            total=plan.total,
            startup=self._startup,
            content=self._work.content if self._work is not None else ContentCounts(),
            models=self._models.describe() if self._models is not None else None,
            pacing=tuple(now.since(paced_before.get(now.service)) for now in self._pacing().values()),
        )

    def _pacing(self) -> dict[str, Pacing]:
        """Each enrichment service's pacing so far (a session runs many plans: a run's is the difference)."""
        return {p.service: p for p in self._enricher.pacing()} if self._enricher is not None else {}

    def _record_run(self, result: LoadResult | None, error: str | None = None) -> None:
        if self._store is not None:
            command = "retry-failed" if self.config.retry_failed else "load"
            remember_run(self._store, run_record(command, self._started_at, result, error))

    async def open(self) -> None:
        """Start the demo server if asked, connect to Plex while the models load, open the sink and the state."""
        from ..embed.stage import Embedder

        config = self.config
        if config.demo:
            self._set_phase(Phase.CONNECTING, "starting the built-in demo server")
            self._demo, self.endpoints = await asyncio.to_thread(wiring.start_demo, config)

        # Loading the models (CPU, ~1-2 s) overlaps with connecting to Plex (network).
        cached = self._models
        models_future = asyncio.ensure_future(
            asyncio.to_thread(wiring.load_models, config) if cached is None else _ready(cached)
        )
        try:
            self._set_phase(Phase.CONNECTING, f"Plex at {wiring.plex_settings(config, self.endpoints).url}")
            # The callbacks look the report up when they fire: each run has its own counters.
            self._source = wiring.make_source(config, self.endpoints, on_retry=self._reporter(StageName.INGEST))
            self._server = await asyncio.to_thread(self._source.connect)
            self.info = self._info(self._server)
            self._set_phase(Phase.LOADING_MODELS, f"{config.dense_model} + {config.sparse_model}")
        except BaseException:
            # Wait for the loading thread even when connecting failed (no thread
            # may outlive the run), and report the connection error, not its.
            await asyncio.gather(models_future, return_exceptions=True)
            raise
        models = self._models = await models_future
        self._embedder = Embedder(models, model_names=models.describe().names)

        self._set_phase(Phase.CONNECTING, wiring.describe_target(config))
        await self.release()  # a search between runs may hold the collection: one client per embedded folder
        self._sink = wiring.make_sink(config, models)
        await asyncio.to_thread(self._sink.connect)
        created = await asyncio.to_thread(self._sink.ensure_collection)
        self._store = await asyncio.to_thread(wiring.open_store, config, collection_created=created)
        self._enricher = wiring.make_enricher(config, self.endpoints, on_retry=self._reporter(StageName.ENRICH))

    def _reporter(self, stage: StageName):  # type: ignore[no-untyped-def]
        return lambda error: self._reports[stage].retry(error)

    def _new_ledger(self, *, full: bool, retry_failed: bool) -> LoadLedger:
        assert self._store is not None and self._embedder is not None and self._server is not None
        return wiring.new_ledger(self.config, self._store, self._server, self._embedder.model_names,
                                 full=full, retry_failed=retry_failed, secrets=self._secrets())

    async def plan_listing(self) -> ListingPlan:
        """List and size the libraries (retried like a page)."""
        from .stages import plan_listing

        assert self._source is not None
        self._set_phase(Phase.CONNECTING, "listing the libraries")
        return await plan_listing(self._source)

    async def _run_pipeline(self, plan: ListingPlan):  # type: ignore[no-untyped-def]
        from .stages import LoadStages, build_stages

        assert self._source and self._enricher and self._embedder and self._sink and self._ledger
        work = self._work = LoadStages(
            self._source, self._enricher, self._embedder, self._sink, self._ledger, self._reports,
            cancelled=lambda: self._cancelled,
        )
        self._pipeline = Pipeline(
            build_stages(self.config, work, self._enricher.stage_status),
            plan.pages,
            total=plan.total,
            on_dead_letter=self._ledger.mark_failed,
            on_batch=self.on_batch,
        )
        if self._cancelled:
            self._pipeline.cancel()
        elif self._pause_requested:
            # Pausing takes a running pipeline: once run() has started it, before any batch.
            asyncio.get_running_loop().call_soon(self._pipeline.pause)
        self._set_phase(Phase.RUNNING)
        return await self._pipeline.run()

    async def close(self) -> None:
        """Close every part :meth:`open` made (the models stay, for a search or the next run)."""
        if self._enricher is not None:
            try:
                await self._enricher.aclose()
            except Exception:  # noqa: BLE001 - best effort on the way out
                log.debug("closing the enricher failed", exc_info=True)
        closers = [
            ("Plex source", self._source.close if self._source else None),
            ("Qdrant sink", self._sink.close if self._sink else None),
            ("load state", self._store.close if self._store else None),
            ("demo server", self._demo.stop if self._demo else None),
            ("collection searcher", self._searcher.close if self._searcher else None),
        ]
        for what, close in closers:
            if close is None:
                continue
            try:
                await asyncio.to_thread(close)
            except Exception:  # noqa: BLE001
                log.debug("closing the %s failed", what, exc_info=True)
        self._source = self._sink = self._store = self._demo = None
        self._embedder = None

    # ------------------------------------------------------------------ search
    async def release(self) -> None:
        """Let go of the collection a search between runs holds (a later search opens it again)."""
        if self._searcher is not None:
            await asyncio.to_thread(self._searcher.close)

    async def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """Hybrid query against the collection this session loads into.

        While a run holds the collection its own client and models answer (an
        embedded Qdrant folder admits one client per process); otherwise a
        :class:`CollectionSearcher` answers, keeping the collection open while
        queries come, and the models for the next run.
        """
        from ..search import search

        sink, embedder = self._sink, self._embedder
        if sink is not None and embedder is not None:
            return await asyncio.to_thread(search, sink, embedder, query, limit)
        if self._searcher is None:
            self._searcher = CollectionSearcher(self.config, self._models)
        hits = await self._searcher.search(query, limit)
        self._models = self._searcher.models  # the next run (and search) reuses them
        return hits


def new_reports() -> dict[str, StageReport]:
    """Fresh retry/error counters for each stage of one run (its clients report into them)."""
    return {name: StageReport() for name in STAGE_NAMES}


async def _ready(value: Models) -> Models:
    return value
