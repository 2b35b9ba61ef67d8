"""From a :class:`RunConfig` to the clients a load uses: the composition root's parts.

Each function builds one collaborator from the config (the demo server, the
Plex source, the models, the Qdrant sink, the state store, the enricher), so
the session only sequences them and a later front end (a long-running
service) can build the same parts the same way.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import RunConfig
from ..secrets import mask
from .outcome import Endpoints

if TYPE_CHECKING:
    from ..demo.server import DemoServer
    from ..embed.models import Models, ModelSettings
    from ..enrich import Enricher
    from ..ports import ServerInfo, Sink
    from ..sinks.qdrant import QdrantSink
    from ..sinks.qdrant_edge import EdgeSink
    from ..sources.plex import PlexSettings, PlexSource
    from ..state.ledger import LoadLedger
    from ..state.store import StateStore

log = logging.getLogger(__name__)

#: The demo services whose latency ``--demo-latency-ms`` sets.
DEMO_SERVICES = ("plex", "tmdb", "imdb")


def configured_endpoints(config: RunConfig) -> Endpoints:
    """The services as configured (``--demo`` replaces them once its server runs)."""
    return Endpoints(
        plex_url=config.plex_url,
        plex_token=config.plex_token,
        tmdb_api_key=config.tmdb_api_key,
        tmdb_base_url=config.tmdb_base_url,
        imdb_base_url=config.imdb_base_url,
    )


def start_demo(config: RunConfig) -> tuple[DemoServer, Endpoints]:
    """Serve the demo library on loopback; return the server and the endpoints pointing at it."""
    from ..demo.library import DemoLibrary
    from ..demo.server import DemoServer
    from ..demo.settings import demo_settings

    library = DemoLibrary.generate(seed=config.demo_seed, size=config.demo_items)
    demo = DemoServer(library)
    demo.start()
    if config.demo_latency_ms:
        for service in DEMO_SERVICES:
            demo.set_faults(service, latency_ms=config.demo_latency_ms)
    if config.demo_churn:
        demo.start_churn(config.demo_churn)
    return demo, Endpoints(**demo_settings(demo))


def plex_settings(config: RunConfig, endpoints: Endpoints) -> PlexSettings:
    from ..sources.plex import PlexSettings

    return PlexSettings(
        url=endpoints.plex_url or "",
        token=endpoints.plex_token,
        libraries=tuple(config.libraries),
        chunk_size=config.stage("ingest").batch_size,
        timeout=config.plex_timeout,
    )


def make_source(
    config: RunConfig, endpoints: Endpoints, on_retry: Callable[[str], None] | None = None
) -> PlexSource:
    """The Plex source; ``on_retry`` hears of every HTTP retry (the ingest stage's counter)."""
    from ..sources.plex import PlexSource

    return PlexSource(plex_settings(config, endpoints), on_retry=on_retry)


def load_models(config: RunConfig) -> Models:
    """Create the dense and sparse models (slow: call it in a thread)."""
    from ..embed.models import load_models as load

    return load(model_settings(config))


def model_settings(config: RunConfig) -> ModelSettings:
    """The models of a load (and of a search: the same build, so queries match the stored vectors)."""
    from ..embed.models import ModelSettings

    return ModelSettings(
        dense_model=config.dense_model,
        sparse_model=config.sparse_model,
        onnx_threads=config.onnx_threads,
        build=config.model_build,
        build_dir=Path(config.data_dir) / "models",
        device=config.device,
    )


def make_sink(config: RunConfig, models: Models) -> Sink:
    """The sink for the configured target, sized for ``models``.

    A Qdrant URL gets the server sink; an embedded folder gets the engine
    ``--embedded-store`` and the folder's format choose (``sinks/store_format.py``):
    Qdrant Edge, or qdrant-client local mode for a folder it wrote.
    """
    dense, sparse = models.describe().names
    return make_target_sink(config, models.dense_dim, dense, sparse)


def make_target_sink(config: RunConfig, dense_dim: int, dense_model: str,
                     sparse_model: str) -> QdrantSink | EdgeSink:
    """The sink of the configured target, built without loading the models (``doctor``, ``status`` too).

    A Qdrant URL gets qdrant-client's sink; an embedded folder gets the engine
    ``--embedded-store`` and the folder's format choose (``sinks/store_format.py``).
    Either records the text version and payload format this version writes.
    """
    from ..embed.payload import PAYLOAD_FORMAT
    from ..embed.text import TEXT_VERSION
    from ..sinks.qdrant import QdrantSettings, QdrantSink

    path = config.effective_qdrant_path
    if not config.qdrant_url and path is not None and embedded_engine(config) == "edge":
        from ..sinks.qdrant_edge import EdgeSink

        return EdgeSink(path, config.collection, dense_dim, dense_model, sparse_model,
                        text_version=TEXT_VERSION, payload_format=PAYLOAD_FORMAT)
    return QdrantSink(
        QdrantSettings(
            path=config.effective_qdrant_path,
            url=config.qdrant_url,
            api_key=config.qdrant_api_key,
            prefer_grpc=config.qdrant_grpc,
            collection=config.collection,
        ),
        dense_dim=dense_dim,
        dense_model=dense_model,
        sparse_model=sparse_model,
        text_version=TEXT_VERSION,
        payload_format=PAYLOAD_FORMAT,
    )


def embedded_engine(config: RunConfig) -> str:
    """``"edge"`` or ``"local"`` for the embedded folder (raises when the folder holds the other's store)."""
    from ..sinks.store_format import MIGRATE_COMMAND, NEW_FOLDER_ENGINE, choose_engine

    path = config.effective_qdrant_path
    assert path is not None, "a Qdrant URL has no embedded engine"
    engine = choose_engine(path, config.embedded_store)
    if engine == "local" and config.embedded_store == "auto" and NEW_FOLDER_ENGINE == "edge":
        log.warning("%s is a qdrant-client local-mode store (it holds every point in RAM; slow to open): "
                    "`%s --qdrant-path %s` copies it into Qdrant Edge", path, MIGRATE_COMMAND, path)
    return engine


def target_id(config: RunConfig) -> str:
    """The Qdrant location, for naming the state database."""
    from ..state.paths import target_location

    return target_location(config.qdrant_url, config.effective_qdrant_path)


def open_store(config: RunConfig, *, collection_created: bool) -> StateStore:
    """Open the load state of the configured target and collection.

    ``--reset-state`` starts it over; so does a collection that was just
    created: whatever the state says was loaded is not in it any more.
    """
    from ..state import StateStore
    from ..state.paths import state_path_of

    path = state_path_of(config)
    if config.reset_state:
        StateStore.reset(path)
    elif collection_created and path.exists():
        log.warning("collection %r is new: clearing the load state at %s", config.collection, path)
        StateStore.reset(path)
    return StateStore.open(path)


def new_ledger(
    config: RunConfig, store: StateStore, server: ServerInfo, model_names: tuple[str, ...], *,
    full: bool, retry_failed: bool, secrets: list[str | None],
) -> LoadLedger:
    """The bookkeeping of one run over ``store``: what is loaded, for which server, models and text."""
    from ..embed.text import TEXT_VERSION
    from ..state.ledger import LoadLedger, MassDeleteGuard

    return LoadLedger(
        store,
        server_id=server.machine_identifier,
        model_names="|".join(model_names),
        text_version=TEXT_VERSION,
        full=full,
        retry_failed=retry_failed,
        secrets=secrets,
        mass_delete=MassDeleteGuard(allowed=config.allow_mass_delete),
    )


def make_enricher(
    config: RunConfig, endpoints: Endpoints, on_retry: Callable[[str], None] | None = None
) -> Enricher:
    """The TMDb/IMDb enricher, from the config, pointed at ``endpoints``.

    One response cache for every target: TMDb/IMDb answers do not depend on where points go.
    ``on_retry`` hears of every request retry (the enrich stage's counter).
    """
    from ..enrich import Enricher, EnrichSettings

    settings = dataclasses.replace(
        EnrichSettings.from_config(config),
        tmdb_api_key=endpoints.tmdb_api_key,
        tmdb_base_url=endpoints.tmdb_base_url,
        imdb_base_url=endpoints.imdb_base_url,
    )
    return Enricher(settings, on_retry=on_retry)


def describe_source(config: RunConfig, endpoints: Endpoints, server: ServerInfo | None = None) -> str:
    """``"Name at URL (token ****abcd)"`` for the header and the summary."""
    token = f"token {mask(endpoints.plex_token)}" if endpoints.plex_token else "no token"
    if server is not None:
        return f"{server.name} at {server.url} ({token})"
    url = endpoints.plex_url or ("built-in demo server" if config.demo else "?")
    return f"{url} ({token})"


def describe_target(config: RunConfig) -> str:
    """``"Qdrant <url>, key ****abcd"`` or ``"Qdrant (embedded) <folder>"``."""
    if config.qdrant_url:
        key = f", key {mask(config.qdrant_api_key)}" if config.qdrant_api_key else ""
        return f"Qdrant {config.qdrant_url}{key}"
    return f"Qdrant (embedded) {config.effective_qdrant_path}"
