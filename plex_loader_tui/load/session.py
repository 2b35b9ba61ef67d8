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
from typing import TYPE_CHECKING

from ..config import RunConfig, StageConfig
from ..errors import FatalError
from ..pipeline import Pipeline, PipelineControls, PipelineState, StageReport
from ..ports import ListingPlan
from ..secrets import redact
from ..stages import STAGE_NAMES, StageName
from ..state.ledger import Deletions, MassDeleteGuard
from . import wiring
from .outcome import LoadResult, Phase, SessionInfo
from .searching import CollectionSearcher

if TYPE_CHECKING:
    from ..demo.server import DemoServer
    from ..embed.models import Models
    from ..embed.stage import Embedder
    from ..enrich import Enricher
    from ..ports import Sink
    from ..search import SearchHit
    from ..sources.plex import PlexSource
    from ..state.ledger import LoadLedger
    from ..state.store import StateStore

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
        self._demo: DemoServer | None = None
        self._source: PlexSource | None = None
        self._enricher: Enricher | None = None
        self._models: Models | None = None
        self._embedder: Embedder | None = None
        self._sink: Sink | None = None
        self._store: StateStore | None = None
        self._ledger: LoadLedger | None = None
        self._searcher: CollectionSearcher | None = None
        #: The stages' retry/error counters of the current run (its clients report into them).
        self._reports: dict[str, StageReport] = new_reports()
        #: Seconds from the start of run() to the first item (connecting, loading the models).
        self._startup: float | None = None

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

    # ---------------------------------------------------------------------- run
    async def run(self) -> LoadResult:
        """Prepare (connect, load models), run the pipeline, then delete what left Plex.

        Raises :class:`FatalError` (with secrets redacted from its message)
        when the load cannot go on.
        """
        started = time.monotonic()
        self._reports = new_reports()
        self._startup = None
        try:
            plan = await self._prepare()
            if self._cancelled or self._drain_requested:
                # Stopped before any item flowed: the whole library is left for the next run.
                self._set_phase(Phase.CANCELLED if self._cancelled else Phase.DRAINED)
                return LoadResult(state=self.phase, duration=time.monotonic() - started, snapshot=None,
                                  total=plan.total, unfinished=plan.total)
            self._startup = time.monotonic() - started
            result = await self._run_pipeline(plan)
            deletions = Deletions()
            if result.state == PipelineState.FINISHED and not self.config.no_delete and not self.config.retry_failed:
                deletions = await self._delete_gone()
            self._set_phase(Phase(result.state))
            assert self._ledger is not None
            return LoadResult(
                state=result.state,
                duration=time.monotonic() - started,
                snapshot=result.snapshot,
                dead_letters=result.dead_letters,
                dead_letters_omitted=result.dead_letters_omitted,
                deleted=deletions.deleted,
                deletions_held_back=deletions.held_back,
                failed_waiting=self.failed_waiting(),
                enrich_incomplete=self._ledger.enrich_incomplete,
                unfinished=result.unfinished,
                total=plan.total,
                startup=self._startup,
            )
        except FatalError as exc:
            self._set_phase(Phase.FAILED, str(exc))
            message = redact(str(exc), self._secrets())
            if message != str(exc):
                raise type(exc)(message) from None
            raise
        finally:
            await self._close()

    async def _prepare(self) -> ListingPlan:
        from ..embed.stage import Embedder
        from ..embed.text import TEXT_VERSION
        from ..state.ledger import LoadLedger
        from .stages import plan_listing

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
            self._source = wiring.make_source(config, self.endpoints, on_retry=self._reports[StageName.INGEST].retry)
            server = await asyncio.to_thread(self._source.connect)
            self.info = self._info(server)
            self._set_phase(Phase.LOADING_MODELS, f"{config.dense_model} + {config.sparse_model}")
        except BaseException:
            # Wait for the loading thread even when connecting failed (no thread
            # may outlive the run), and report the connection error, not its.
            await asyncio.gather(models_future, return_exceptions=True)
            raise
        models = self._models = await models_future
        names = models.describe().names
        self._embedder = Embedder(models, model_names=names)

        self._set_phase(Phase.CONNECTING, wiring.describe_target(config))
        self._sink = wiring.make_sink(config, models)
        await asyncio.to_thread(self._sink.connect)
        created = await asyncio.to_thread(self._sink.ensure_collection)
        self._store = await asyncio.to_thread(wiring.open_store, config, collection_created=created)
        self._ledger = LoadLedger(
            self._store,
            server_id=server.machine_identifier,
            model_names="|".join(names),
            text_version=TEXT_VERSION,
            full=config.full,
            retry_failed=config.retry_failed,
            secrets=self._secrets(),
            mass_delete=MassDeleteGuard(allowed=config.allow_mass_delete),
        )
        self._enricher = wiring.make_enricher(config, self.endpoints, on_retry=self._reports[StageName.ENRICH].retry)

        self._set_phase(Phase.CONNECTING, "listing the libraries")
        plan = await plan_listing(self._source)
        self._ledger.expect(plan)
        return plan

    async def _run_pipeline(self, plan: ListingPlan):  # type: ignore[no-untyped-def]
        from .stages import LoadStages, build_stages

        assert self._source and self._enricher and self._embedder and self._sink and self._ledger
        work = LoadStages(self._source, self._enricher, self._embedder, self._sink, self._ledger, self._reports)
        self._pipeline = Pipeline(
            build_stages(self.config, work, self._enricher.stage_status),
            plan.pages,
            total=plan.total,
            on_dead_letter=self._ledger.mark_failed,
        )
        if self._cancelled:
            self._pipeline.cancel()
        self._set_phase(Phase.RUNNING)
        return await self._pipeline.run()

    async def _delete_gone(self) -> Deletions:
        assert self._ledger is not None and self._sink is not None
        try:
            return await asyncio.to_thread(self._ledger.delete_gone, self._sink)
        except FatalError:
            raise
        except Exception as exc:  # noqa: BLE001 - the load itself succeeded
            # Deleting is idempotent: the next complete run tries again.
            log.warning("could not delete the points of items gone from Plex: %s", redact(str(exc), self._secrets()))
            return Deletions()

    async def _close(self) -> None:
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
    async def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """Hybrid query against the collection this session loads into.

        While a run holds the collection its own client and models answer (an
        embedded Qdrant folder admits one client per process); otherwise a
        client is opened for the query, and the models are kept for the next one.
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
