"""One load, start to finish: the piece both front ends host.

:class:`LoadSession` turns a :class:`~plex_loader_tui.config.RunConfig` into a
running pipeline: it starts the demo server when asked, connects to Plex and
Qdrant, loads the embedding models (in threads, before any item flows), plans
the listing, builds the four stages around the state store, runs them, and
afterwards deletes points for items that left the library. The dashboard and
the headless runner only call its small control surface and poll
:meth:`LoadSession.snapshot`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .fingerprint import source_fingerprint
from .models import EmbeddedPoint, EnrichedItem, SourceItem
from .pipeline import DeadLetter, FatalError, Pipeline, PipelineSnapshot, RetryPolicy, Stage, StageOutput
from .pipeline.control import PipelineControls
from .exit_codes import ExitCode
from .secrets import mask, redact
from .stages import STAGE_NAMES

if TYPE_CHECKING:
    from .config import RunConfig, StageConfig
    from .search import SearchHit

log = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What the dashboard header and the summary say about a load."""

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
        return f"Endpoints(plex_url={self.plex_url!r}, tmdb_base_url={self.tmdb_base_url!r}, imdb_base_url={self.imdb_base_url!r})"


@dataclass(frozen=True, slots=True)
class LoadResult:
    """How a load ended, with the figures for the summary.

    ``state``: finished | drained | cancelled | failed.
    """

    state: str
    duration: float
    snapshot: PipelineSnapshot | None
    dead_letters: tuple[DeadLetter, ...] = ()
    dead_letters_omitted: int = 0
    fatal_error: str | None = None
    deleted: int = 0
    failed_waiting: int = 0
    enrich_incomplete: int = 0
    unfinished: int = 0
    total: int | None = None

    @property
    def exit_code(self) -> int:
        if self.state == "failed":
            return ExitCode.FATAL
        if self.enrich_incomplete or (self.snapshot is not None and self.snapshot.failed > 0):
            return ExitCode.FAILED_ITEMS
        return ExitCode.OK


@dataclass
class _ListingTracker:
    """Which items each section listed, and whether every page of it arrived.

    Deletions are only safe after a complete, successful listing of a section:
    one failed page means we cannot tell "gone" from "not seen".
    """

    pages_expected: dict[str, int] = field(default_factory=dict)
    pages_done: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failed_sections: set[str] = field(default_factory=set)
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def complete_sections(self) -> list[str]:
        return [
            section
            for section, expected in self.pages_expected.items()
            if section not in self.failed_sections and self.pages_done.get(section, 0) == expected
        ]


class LoadSession(PipelineControls):
    """One load of a Plex library into Qdrant (see the module docstring)."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        #: Where the services are: from the config, or the demo server once it runs.
        self.endpoints = Endpoints(
            plex_url=config.plex_url,
            plex_token=config.plex_token,
            tmdb_api_key=config.tmdb_api_key,
            tmdb_base_url=config.tmdb_base_url,
            imdb_base_url=config.imdb_base_url,
        )
        self.phase = "starting"
        self.phase_detail = ""
        self.info = SessionInfo(
            source=self._describe_source(None),
            target=self._describe_target(),
            collection=config.collection,
            profile=config.profile,
        )
        self._pipeline: Pipeline | None = None
        self._cancelled = False
        self._drain_requested = False
        self._demo: Any = None
        self._plex: Any = None
        self._server_info: Any = None
        self._enricher: Any = None
        self._models: Any = None
        self._embedder: Any = None
        self._sink: Any = None
        self._state: Any = None
        self._tracker = _ListingTracker()
        self._enrich_incomplete = 0
        self._model_names = ""
        # Ingest and upsert run in worker threads; this guards what they share.
        self._lock = threading.Lock()
        self._fingerprints: dict[str, str] = {}
        self._enrich_errors: dict[str, str] = {}
        self._item_sections: dict[str, str] = {}
        self._failed_key_cache: set[str] | None = None

    # ------------------------------------------------------------ descriptions
    def _secrets(self) -> list[str | None]:
        c = self.config
        return [c.plex_token, c.tmdb_api_key, c.qdrant_api_key, self.endpoints.plex_token, self.endpoints.tmdb_api_key]

    def _describe_source(self, server: Any) -> str:
        c = self.config
        token = f"token {mask(self.endpoints.plex_token)}" if self.endpoints.plex_token else "no token"
        url = self.endpoints.plex_url or ("built-in demo server" if c.demo else "?")
        if server is not None:
            return f"{server.name} at {server.url} ({token})"
        return f"{url} ({token})"

    def _describe_target(self) -> str:
        c = self.config
        if c.qdrant_url:
            key = f", key {mask(c.qdrant_api_key)}" if c.qdrant_api_key else ""
            return f"Qdrant {c.qdrant_url}{key}"
        return f"Qdrant (embedded) {self.qdrant_path}"

    @property
    def qdrant_path(self) -> Path:
        return _qdrant_path(self.config)

    @property
    def target_id(self) -> str:
        """The Qdrant location, for naming the state database."""
        return self.config.qdrant_url or str(self.qdrant_path.resolve())

    def _set_phase(self, phase: str, detail: str = "") -> None:
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

    def cancel(self) -> None:
        self._cancelled = True
        super().cancel()

    def set_batch_size(self, stage: str, n: int) -> None:
        if stage == "ingest":
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
        from .config import StageConfig

        settings = {}
        for name in STAGE_NAMES:
            configured = self.config.stage(name)
            if name == "ingest" and self._pipeline is not None:
                settings[name] = StageConfig(workers=self._pipeline.workers(name), batch_size=configured.batch_size)
            elif self._pipeline is not None:
                settings[name] = StageConfig(
                    workers=self._pipeline.workers(name), batch_size=self._pipeline.batch_size(name)
                )
            else:
                settings[name] = configured
        return settings

    def failed_waiting(self) -> int:
        """Dead letters waiting in the state store for a retry."""
        if self._state is None:
            return 0
        try:
            return self._state.failed_count()
        except Exception:  # noqa: BLE001 - a count for display only
            return 0

    # ---------------------------------------------------------------------- run
    async def run(self) -> LoadResult:
        """Prepare (connect, load models), run the pipeline, then delete what left Plex.

        Raises :class:`FatalError` (with secrets redacted from its message)
        when the load cannot go on.
        """
        started = time.monotonic()
        try:
            plan = await self._prepare()
            if self._cancelled or self._drain_requested:
                self._set_phase("cancelled" if self._cancelled else "drained")
                return LoadResult(state=self.phase, duration=time.monotonic() - started, snapshot=None)
            result = await self._run_pipeline(plan)
            deleted = 0
            if result.state == "finished" and not self.config.no_delete and not self.config.retry_failed:
                try:
                    deleted = await asyncio.to_thread(self._delete_gone)
                except FatalError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the load itself succeeded
                    # Deleting is idempotent: the next complete run tries again.
                    log.warning("could not delete the points of items gone from Plex: %s", redact(str(exc), self._secrets()))
            self._set_phase(result.state)
            return LoadResult(
                state=result.state,
                duration=time.monotonic() - started,
                snapshot=result.snapshot,
                dead_letters=result.dead_letters,
                dead_letters_omitted=result.dead_letters_omitted,
                deleted=deleted,
                failed_waiting=self.failed_waiting(),
                enrich_incomplete=self._enrich_incomplete,
                unfinished=result.unfinished,
                total=plan.total,
            )
        except FatalError as exc:
            self._set_phase("failed", str(exc))
            message = redact(str(exc), self._secrets())
            if message != str(exc):
                raise type(exc)(message) from None
            raise
        finally:
            await self._close()

    async def _prepare(self) -> Any:
        from .embed.text import TEXT_VERSION
        from .state.store import StateStore, state_db_path

        config = self.config
        if config.demo:
            self._set_phase("connecting", "starting the built-in demo server")
            await asyncio.to_thread(self._start_demo)

        from .embed.stage import Embedder
        from .sources.plex import PlexSource

        # Loading the models (CPU, ~1-2 s) overlaps with connecting to Plex (network).
        models_future = asyncio.ensure_future(
            asyncio.to_thread(_load_models, config) if self._models is None else _ready(self._models)
        )
        try:
            self._set_phase("connecting", f"Plex at {self._plex_settings().url}")
            self._plex = PlexSource(self._plex_settings())
            self._server_info = await asyncio.to_thread(self._plex.connect)
            self.info = SessionInfo(
                source=self._describe_source(self._server_info),
                target=self._describe_target(),
                collection=config.collection,
                profile=config.profile,
            )
            self._set_phase("loading-models", f"{config.dense_model} + {config.sparse_model}")
        except BaseException:
            # Wait for the loading thread even when connecting failed (no thread
            # may outlive the run), and report the connection error, not its.
            await asyncio.gather(models_future, return_exceptions=True)
            raise
        models = self._models = await models_future
        info = models.describe()
        self._model_names = "|".join(info.names)
        self._embedder = Embedder(models, model_names=info.names)

        self._set_phase("connecting", self._describe_target())
        self._sink = _make_sink(config, models, self.qdrant_path)
        await asyncio.to_thread(self._sink.connect)
        created = await asyncio.to_thread(self._sink.ensure_collection)

        db_path = state_db_path(Path(config.data_dir), self.target_id, config.collection)
        if config.reset_state:
            StateStore.reset(db_path)
        elif created and db_path.exists():
            # A new, empty collection: whatever the state says was loaded is not
            # in it any more (the collection was dropped), so start the state over.
            log.warning("collection %r is new: clearing the load state at %s", config.collection, db_path)
            StateStore.reset(db_path)
        self._state = await asyncio.to_thread(StateStore.open, db_path)
        self._text_version = TEXT_VERSION

        from .enrich import EnrichSettings, Enricher, default_cache_path

        self._enricher = Enricher(
            EnrichSettings(
                tmdb_api_key=self.endpoints.tmdb_api_key,
                tmdb_base_url=self.endpoints.tmdb_base_url,
                imdb_base_url=self.endpoints.imdb_base_url,
                tmdb_rate=config.tmdb_rate,
                imdb_rate=config.imdb_rate,
                timeout=config.http_timeout,
                # One cache for every target: TMDb/IMDb answers do not depend on where points go.
                cache_path=default_cache_path(Path(config.data_dir)),
                cache_ttl=config.cache_ttl_days * 86400.0,
            )
        )

        self._set_phase("connecting", "listing the libraries")
        plan = await asyncio.to_thread(self._plex.plan)
        for page in plan.pages:
            section = self._section_id(page.section_key)
            self._tracker.pages_expected[section] = self._tracker.pages_expected.get(section, 0) + 1
        return plan

    def _section_id(self, section_key: str) -> str:
        """A section's identity in the state: servers number their sections alike,
        and several servers may load into one collection."""
        return f"{self._server_info.machine_identifier}:{section_key}"

    def _plex_settings(self) -> Any:
        from .sources.plex import PlexSettings

        c = self.config
        return PlexSettings(
            url=self.endpoints.plex_url,
            token=self.endpoints.plex_token,
            libraries=tuple(c.libraries),
            chunk_size=c.stage("ingest").batch_size,
            timeout=c.plex_timeout,
        )

    def _start_demo(self) -> None:
        """Serve the demo library on loopback and point the load at it."""
        from .demo.library import DemoLibrary
        from .demo.server import DemoServer

        c = self.config
        library = DemoLibrary.generate(seed=c.demo_seed, size=c.demo_items)
        self._demo = DemoServer(library)
        self._demo.start()
        if c.demo_latency_ms:
            for service in ("plex", "tmdb", "imdb"):
                self._demo.set_faults(service, latency_ms=c.demo_latency_ms)
        self.endpoints = Endpoints(
            plex_url=self._demo.plex_url,
            plex_token=self._demo.token,
            tmdb_api_key=self._demo.tmdb_api_key,
            tmdb_base_url=self._demo.tmdb_url,
            imdb_base_url=self._demo.imdb_url,
        )

    @property
    def demo_server(self) -> Any:
        return self._demo

    # ----------------------------------------------------------------- stages
    def _build_stages(self) -> list[Stage]:
        c = self.config
        from .sinks.qdrant import TRANSIENT_ERRORS
        from .sources.plex import PlexSource

        # Only what a retry can fix is retried; anything else splits the batch at once.
        plex_retry = RetryPolicy(attempts=3, initial=0.2, max_wait=5.0, retry_on=PlexSource.retry_on)
        # Enrichment retries its own HTTP requests and never fails a batch for a
        # service outage (the item goes on, the error recorded on it); what
        # reaches the engine is a bug or a fatal error: no engine-level retry.
        enrich_retry = RetryPolicy(attempts=1, retry_on=())
        # ONNX inference has no transient failures: an error is an item it cannot
        # take, so the batch is split at once to isolate it.
        embed_retry = RetryPolicy(attempts=1, retry_on=())
        upsert_retry = RetryPolicy(attempts=4, initial=0.5, max_wait=10.0, retry_on=TRANSIENT_ERRORS)
        queue = c.queue_size

        def title_of(item: Any) -> str:
            if isinstance(item, SourceItem):
                return item.display_title
            if isinstance(item, EnrichedItem):
                return item.source.display_title
            if isinstance(item, EmbeddedPoint):
                return item.title or item.item_key
            return str(item)

        return [
            Stage(
                "ingest",
                self._ingest,
                workers=c.stage("ingest").workers,
                batch_size=1,  # a page of `plex_chunk_size` items is one unit of work
                queue_size=max(1, queue),
                retry=plex_retry,
                describe=title_of,
                weight=lambda page: page.size,
            ),
            Stage(
                "enrich",
                self._enrich,
                workers=c.stage("enrich").workers,
                batch_size=c.stage("enrich").batch_size,
                queue_size=queue,
                retry=enrich_retry,
                describe=title_of,
                status=self._enricher.status,
            ),
            Stage(
                "embed",
                self._embed,
                workers=c.stage("embed").workers,
                batch_size=c.stage("embed").batch_size,
                queue_size=queue,
                retry=embed_retry,
                describe=title_of,
            ),
            Stage(
                "upsert",
                self._upsert,
                workers=c.stage("upsert").workers,
                batch_size=c.stage("upsert").batch_size,
                queue_size=queue,
                retry=upsert_retry,
                describe=title_of,
            ),
        ]

    def _ingest(self, pages: list[Any]) -> StageOutput:
        """Fetch listing pages (in a thread) and drop items unchanged since the last load."""
        items: list[SourceItem] = []
        for page in pages:
            page_items = self._plex.fetch_page(page)
            section = self._section_id(page.section_key)
            with self._lock:
                self._tracker.pages_done[section] += 1
                if len(page_items) != page.size:
                    # The library changed mid-listing: offsets shifted, so an item may
                    # have slipped past us. Deleting on this listing could drop it.
                    self._tracker.failed_sections.add(section)
                self._tracker.seen[section].update(item.key for item in page_items)
                for item in page_items:
                    self._item_sections[item.key] = section
            items.extend(page_items)
        if not items:
            return StageOutput([], 0)
        config = self.config
        fingerprints = {
            item.key: source_fingerprint(item, self._model_names, self._text_version) for item in items
        }
        if config.full:
            wanted = items
        else:
            keys = [(item.key, item.updated_at, fingerprints[item.key]) for item in items]
            unchanged = self._state.unchanged_keys(keys)
            wanted = [item for item in items if item.key not in unchanged]
            if config.retry_failed:
                # Replay the dead letters, plus anything never recorded (a page that failed).
                failed = self._failed_keys()
                wanted = [item for item in wanted if item.key in failed or self._state.get(item.key) is None]
        with self._lock:
            # Kept only until the item is loaded or fails: bounded by what is in flight.
            for item in wanted:
                self._fingerprints[item.key] = fingerprints[item.key]
        return StageOutput(wanted, skipped=len(items) - len(wanted))

    def _failed_keys(self) -> set[str]:
        if self._failed_key_cache is None:
            self._failed_key_cache = {record.key for record in self._state.failed_items()}
        return self._failed_key_cache

    async def _enrich(self, batch: list[SourceItem]) -> list[EnrichedItem]:
        return await self._enricher.enrich(batch)

    def _embed(self, batch: list[EnrichedItem]) -> list[EmbeddedPoint]:
        incomplete = {
            item.source.key: "; ".join(f"{e.service}: {e.message}" for e in item.errors)
            for item in batch
            if item.errors
        }
        if incomplete:
            with self._lock:
                self._enrich_errors.update(incomplete)
        return self._embedder.embed(batch)

    def _upsert(self, points: list[EmbeddedPoint]) -> list[EmbeddedPoint]:
        """Record the points as pending, upsert with wait=True, then mark them loaded.

        "loaded" in the state therefore always means "in the collection", and
        a crash between the two leaves them pending, so the next run loads
        them again under the same ids (no duplicates).
        """
        from .state.store import LoadedRecord, PendingRecord

        self._state.mark_pending(
            [
                PendingRecord(key=p.item_key, point_id=p.point_id, section_key=self._section_of(p), title=p.title)
                for p in points
            ]
        )
        confirmed = self._sink.upsert(points)
        records = []
        incomplete = []
        for point in confirmed:
            with self._lock:
                fingerprint = self._fingerprints.pop(point.item_key, "")
                enrich_error = self._enrich_errors.pop(point.item_key, None)
            section = self._section_of(point)
            records.append(
                LoadedRecord(
                    key=point.item_key,
                    point_id=point.point_id,
                    updated_at=_as_int(point.payload.get("updated_at")),
                    source_hash=fingerprint,
                    content_hash=point.content_hash,
                    section_key=section,
                    title=point.title,
                )
            )
            if enrich_error is not None:
                incomplete.append(
                    (point.item_key, point.point_id, point.title, "enrich", redact(enrich_error, self._secrets()), section)
                )
        # Items in the collection (searchable with what we have) whose TMDb/IMDb
        # data is missing after retries stay dead letters, so retry-failed and the
        # next run enrich them again; one transaction, so a crash cannot leave
        # them looking complete.
        self._state.mark_loaded(records, failures=incomplete)
        if incomplete:
            with self._lock:
                self._enrich_incomplete += len(incomplete)
        return list(confirmed)

    def _section_of(self, point: EmbeddedPoint) -> str:
        return self._item_sections.get(point.item_key, "")

    def _on_dead_letter(self, letter: DeadLetter) -> None:
        item = letter.item
        if letter.stage == "ingest":
            self._tracker.failed_sections.add(self._section_id(getattr(item, "section_key", "")))
            return
        if isinstance(item, EmbeddedPoint):
            key, point_id, title = item.item_key, item.point_id, item.title
        else:
            source = item.source if isinstance(item, EnrichedItem) else item
            from .embed.text import point_id as make_point_id

            key, point_id, title = source.key, make_point_id(source), source.display_title
        with self._lock:
            self._fingerprints.pop(key, None)
            self._enrich_errors.pop(key, None)
        self._state.mark_failed(
            key, point_id, title, letter.stage, redact(letter.error, self._secrets()), self._item_sections.get(key, "")
        )

    async def _run_pipeline(self, plan: Any) -> Any:
        self._pipeline = Pipeline(
            self._build_stages(),
            plan.pages,
            total=plan.total,
            on_dead_letter=self._on_dead_letter,
        )
        if self._cancelled:
            self._pipeline.cancel()
        self._set_phase("running")
        return await self._pipeline.run()

    def _delete_gone(self) -> int:
        """Delete points of items no longer in Plex, for sections listed completely.

        A point that another item still maps to (the same ``plex://`` guid in
        another library or on another server) is kept; only the item is forgotten.
        """
        deleted = 0
        for section in self._tracker.complete_sections():
            known = self._state.keys_in_section(section)
            seen = self._tracker.seen.get(section, set())
            gone = {key: pid for key, pid in known.items() if key not in seen}
            if not gone:
                continue
            shared = self._state.points_in_use(gone.values(), excluding=gone.keys())
            points = sorted({pid for pid in gone.values() if pid not in shared})
            log.info("section %s: %d items left Plex; deleting %d points", section, len(gone), len(points))
            if points:
                self._sink.delete(points)
            self._state.delete(list(gone))
            deleted += len(gone)
        return deleted

    async def _close(self) -> None:
        if self._enricher is not None:
            try:
                await self._enricher.aclose()
            except Exception:  # noqa: BLE001 - best effort on the way out
                log.debug("closing the enricher failed", exc_info=True)
        for obj in (self._plex, self._sink, self._state, self._demo):
            if obj is None:
                continue
            try:
                await asyncio.to_thread(getattr(obj, "close", None) or obj.stop)
            except Exception:  # noqa: BLE001
                log.debug("closing %r failed", type(obj).__name__, exc_info=True)
        self._plex = self._sink = self._state = self._demo = None

    # ------------------------------------------------------------------ search
    async def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """Hybrid query against the collection this session loads into."""
        return await search_collection(self.config, query, limit, session=self)


async def _ready(value: Any) -> Any:
    return value


def _load_models(config: RunConfig) -> Any:
    from .embed.models import ModelSettings, load_models

    return load_models(
        ModelSettings(dense_model=config.dense_model, sparse_model=config.sparse_model, onnx_threads=config.onnx_threads)
    )


def _make_sink(config: RunConfig, models: Any, qdrant_path: Path) -> Any:
    """A Qdrant sink for the configured target, sized for ``models``."""
    from .sinks.qdrant import QdrantSettings, QdrantSink

    names = models.describe().names
    return QdrantSink(
        QdrantSettings(
            path=None if config.qdrant_url else qdrant_path,
            url=config.qdrant_url,
            api_key=config.qdrant_api_key,
            prefer_grpc=config.qdrant_grpc,
            collection=config.collection,
        ),
        dense_dim=models.dense_dim,
        dense_model=names[0],
        sparse_model=names[1],
    )


def _qdrant_path(config: RunConfig) -> Path:
    return Path(config.qdrant_path) if config.qdrant_path else Path(config.data_dir) / "qdrant"


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def search_collection(
    config: RunConfig, query: str, limit: int = 10, *, session: LoadSession | None = None
) -> list[SearchHit]:
    """Run a hybrid (dense + sparse, fused with RRF) query against the configured collection.

    Inside a running session the session's own client and models are used
    (an embedded Qdrant folder admits one client per process); otherwise the
    models are loaded and a client opened for the query, then closed.
    """
    from .search import hybrid_search

    if session is not None and session._sink is not None and session._embedder is not None:
        return await asyncio.to_thread(hybrid_search, session._sink, None, session._embedder, query, limit)
    return await asyncio.to_thread(_search_once, config, query, limit, session)


def _search_once(config: RunConfig, query: str, limit: int, session: LoadSession | None) -> list[SearchHit]:
    from .embed.stage import Embedder
    from .search import hybrid_search
    from .sinks.qdrant import CollectionMissingError

    models = session._models if session is not None and session._models is not None else None
    if models is None:
        models = _load_models(config)
        if session is not None:
            session._models = models  # the next search reuses them
    sink = _make_sink(config, models, _qdrant_path(config))
    sink.connect()
    try:
        if not sink.client.collection_exists(config.collection):
            raise CollectionMissingError(
                f"collection {config.collection!r} does not exist in {sink.settings.location}: run a load first"
            )
        return hybrid_search(sink, None, Embedder(models), query, limit)
    finally:
        sink.close()
