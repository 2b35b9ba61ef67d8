"""The settings table: every setting of a run, declared once, with its kind.

Each row of :data:`SETTINGS` gives a setting's name, its **default** (this
table is the only place a default is written), its help group and text, its
flags, its environment variables and its bounds. Its class is its kind
(:mod:`plex_loader_tui.config.kinds`), which knows how to parse, check, show
and offer it. The command line, the environment reader, the profile files, the
validator and the dashboard are all driven from this table, so a setting cannot
have a flag but no environment variable, or a bound that the profile loader
forgets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import platformdirs

# The engine's own limits: a config never asks for more than the engine accepts.
from plex_loader_tui.pipeline import MAX_BATCH_SIZE, MAX_WORKERS
from plex_loader_tui.stages import STAGE_NAMES

from .declaration import STAGE_FIELDS, Setting, StageKey
from .kinds import (
    BoolSetting,
    ChoiceSetting,
    FloatSetting,
    IntSetting,
    NameSetting,
    OptIntSetting,
    PathSetting,
    SecretSetting,
    StrListSetting,
    StrSetting,
    UrlSetting,
    WordSetting,
)
from .service_kinds import DurationSetting, ListenSetting

APP_NAME = "plex-loader-tui"

#: The engines that can hold an embedded store (``--embedded-store``); "auto" picks by the folder.
STORE_ENGINES: tuple[str, ...] = ("auto", "edge", "local")

MAX_QUEUE_SIZE = 100_000

GROUPS: tuple[str, ...] = ("Source", "Enrichment", "Target", "Models", "Stages", "Run", "Output")
#: The settings only ``serve`` reads (its control API and its sync schedule); not a load's.
SERVICE_GROUP = "Service"

# The collection a load writes when none is named, and the one a demo load writes:
# synthetic titles must never land in a real library's collection (or its load state).
_COLLECTION = "media-items"
DEMO_COLLECTION = f"{_COLLECTION}-demo"


def default_data_dir() -> Path:
    """The platformdirs data directory (state DB, embedded Qdrant); not created here."""
    return platformdirs.user_data_path(APP_NAME)


def default_config_dir() -> Path:
    """The platformdirs config directory (profiles); not created here."""
    return platformdirs.user_config_path(APP_NAME)


# --------------------------------------------------------------------------
# Stages: the defaults live here and only here; the lead sets measured values.
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _StageRow:
    """The two settings of one stage: defaults and spellings."""

    stage: str
    workers: int
    batch_size: int
    worker_flags: tuple[str, ...]
    worker_env: tuple[str, ...]
    batch_flags: tuple[str, ...]
    batch_env: tuple[str, ...]
    batch_help: str


# The mcp-plex loader's names are kept as the first spelling where they exist.
_STAGE_ROWS: tuple[_StageRow, ...] = (
    # ingest batch = Plex page size
    _StageRow("ingest", 2, 200, ("--ingest-workers",), ("INGEST_WORKERS",),
              ("--plex-chunk-size", "--ingest-batch-size"), ("PLEX_CHUNK_SIZE", "INGEST_BATCH_SIZE"),
              "Plex page size: items per listing request"),
    _StageRow("enrich", 8, 20, ("--enrichment-workers", "--enrich-workers"), ("ENRICH_WORKERS", "ENRICHMENT_WORKERS"),
              ("--enrichment-batch-size", "--enrich-batch-size"), ("ENRICH_BATCH_SIZE", "ENRICHMENT_BATCH_SIZE"),
              "items per enrichment batch"),
    # Measured (bench/bench_embed.py, bench/bench_load.py): one single-threaded ONNX
    # call per worker and one worker per core; 8 texts per model call pad least.
    # The stage batch is the window a worker sorts by length into calls of 8
    # (embed/stage.py): 64 pads ~14% fewer tokens than 8 in arrival order
    # (bench/bench_embed_ceiling.py), with the RSS of calls of 8.
    _StageRow("embed", 2, 64, ("--embed-workers",), ("EMBED_WORKERS",),
              ("--embed-batch-size",), ("EMBED_BATCH_SIZE",), "texts per embedding batch (sorted by length)"),
    _StageRow("upsert", 1, 64, ("--upsert-workers",), ("UPSERT_WORKERS",),
              ("--upsert-batch-size",), ("UPSERT_BATCH_SIZE",), "points per Qdrant upsert"),
)
assert tuple(row.stage for row in _STAGE_ROWS) == STAGE_NAMES, "one row per stage, in pipeline order"


def _stage_settings() -> list[Setting]:
    out: list[Setting] = []
    for row in _STAGE_ROWS:
        workers, batch = (StageKey(row.stage, f) for f in STAGE_FIELDS)
        out.append(IntSetting(
            workers.setting_name, row.workers, "Stages", f"{row.stage} stage: concurrent workers",
            flags=row.worker_flags, env=row.worker_env, minimum=1, maximum=MAX_WORKERS, metavar="N",
            stage_key=workers,
        ))
        out.append(IntSetting(
            batch.setting_name, row.batch_size, "Stages", f"{row.stage} stage: {row.batch_help}",
            flags=row.batch_flags, env=row.batch_env, minimum=1, maximum=MAX_BATCH_SIZE, metavar="N",
            stage_key=batch,
        ))
    return out


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------

SETTINGS: tuple[Setting, ...] = (
    # Source
    UrlSetting("plex_url", None, "Source", "Plex Media Server URL, e.g. http://192.168.1.10:32400",
               flags=("--plex-url",), env=("PLEX_URL",), metavar="URL",
               credential_home="pass it with --plex-token / PLEX_TOKEN instead"),
    SecretSetting("plex_token", None, "Source", "Plex token (X-Plex-Token)",
                  flags=("--plex-token",), env=("PLEX_TOKEN",), metavar="TOKEN"),
    StrListSetting("libraries", (), "Source",
                   "load only this library section (repeat for several; default: every movie and show library)",
                   flags=("--library",), env=("PLEX_LIBRARIES",), metavar="NAME"),
    FloatSetting("plex_timeout", 30.0, "Source", "seconds to wait for a Plex response",
                 flags=("--plex-timeout",), env=("PLEX_TIMEOUT",), minimum=0, exclusive_minimum=True,
                 maximum=3600, metavar="SECONDS"),
    BoolSetting("demo", False, "Source",
                "load the built-in demo library (starts a demo Plex/TMDb/IMDb server on loopback)",
                flags=("--demo",), neg_flags=("--no-demo",), env=("PLEX_LOADER_DEMO",)),
    IntSetting("demo_items", 300, "Source", "number of items in the demo library",
               flags=("--demo-items",), env=("PLEX_LOADER_DEMO_ITEMS",), minimum=1, maximum=10_000_000,
               metavar="N"),
    IntSetting("demo_seed", 7, "Source", "seed of the demo library (same seed, same library)",
               flags=("--demo-seed",), env=("PLEX_LOADER_DEMO_SEED",), minimum=0, metavar="N"),
    IntSetting("demo_latency_ms", 0, "Source", "latency the demo server adds to each request",
               flags=("--demo-latency-ms",), env=("PLEX_LOADER_DEMO_LATENCY_MS",), minimum=0,
               maximum=60_000, metavar="MS"),
    IntSetting("demo_churn", 0, "Source",
               "with --demo: the demo server changes N items a minute (touch, add, remove; seeded) and tells "
               "connected clients through Plex's notification stream",
               flags=("--churn",), env=("PLEX_LOADER_DEMO_CHURN",), minimum=0, maximum=600_000, metavar="N"),
    # Enrichment
    SecretSetting("tmdb_api_key", None, "Enrichment",
                  "TMDb v3 API key or v4 bearer token (without it TMDb enrichment is off)",
                  flags=("--tmdb-api-key",), env=("TMDB_API_KEY",), metavar="KEY"),
    UrlSetting("tmdb_base_url", "https://api.themoviedb.org/3", "Enrichment",
               "TMDb API base URL (the version is part of it)",
               flags=("--tmdb-base-url",), env=("TMDB_BASE_URL",), metavar="URL",
               credential_home="pass it with --tmdb-api-key / TMDB_API_KEY instead"),
    UrlSetting("imdb_base_url", "https://api.imdbapi.dev", "Enrichment", "IMDb (imdbapi.dev) base URL",
               flags=("--imdb-base-url",), env=("IMDB_BASE_URL",), metavar="URL"),
    # TMDb's CDN allows about 40-50 requests/s per IP; stay at the low end.
    FloatSetting("tmdb_rate", 40.0, "Enrichment", "TMDb request rate limit, requests per second",
                 flags=("--tmdb-rate",), env=("TMDB_RATE",), minimum=0, exclusive_minimum=True,
                 maximum=10_000, metavar="REQ_PER_S"),
    # imdbapi.dev publishes no limit and answers 429 when pushed; be gentle.
    FloatSetting("imdb_rate", 10.0, "Enrichment", "IMDb request rate limit, requests per second",
                 flags=("--imdb-rate",), env=("IMDB_RATE",), minimum=0, exclusive_minimum=True,
                 maximum=10_000, metavar="REQ_PER_S"),
    FloatSetting("http_timeout", 10.0, "Enrichment", "seconds to wait for a TMDb/IMDb response",
                 flags=("--http-timeout",), env=("HTTP_TIMEOUT",), minimum=0, exclusive_minimum=True,
                 maximum=3600, metavar="SECONDS"),
    IntSetting("cache_ttl_days", 7, "Enrichment", "days a cached TMDb/IMDb response stays fresh (0 = no cache)",
               flags=("--cache-ttl-days",), env=("CACHE_TTL_DAYS",), minimum=0, maximum=3650, metavar="DAYS"),
    # Target
    PathSetting("qdrant_path", None, "Target",
                "embedded Qdrant storage folder (default: <data dir>/qdrant)",
                flags=("--qdrant-path",), env=("QDRANT_PATH",), metavar="PATH"),
    # "auto" opens an existing folder with the engine that wrote it; a new folder gets
    # sinks/store_format.py's NEW_FOLDER_ENGINE.
    ChoiceSetting("embedded_store", "auto", "Target",
                  "engine of the embedded store: auto (the folder's own; a new folder gets Qdrant Edge), "
                  "edge (Qdrant Edge) or local (qdrant-client local mode)",
                  flags=("--embedded-store",), env=("QDRANT_EMBEDDED_STORE",), choices=STORE_ENGINES,
                  upper=False, metavar="ENGINE"),
    UrlSetting("qdrant_url", None, "Target", "Qdrant server or cluster URL (instead of a local path)",
               flags=("--qdrant-url",), env=("QDRANT_URL",), metavar="URL",
               credential_home="pass it with --qdrant-api-key / QDRANT_API_KEY instead"),
    SecretSetting("qdrant_api_key", None, "Target", "Qdrant API key",
                  flags=("--qdrant-api-key",), env=("QDRANT_API_KEY",), metavar="KEY"),
    BoolSetting("qdrant_grpc", False, "Target", "talk to the Qdrant server over gRPC",
                flags=("--qdrant-grpc",), neg_flags=("--no-qdrant-grpc",), env=("QDRANT_GRPC",)),
    NameSetting("collection", _COLLECTION, "Target",
                f"Qdrant collection name (a --demo load writes {DEMO_COLLECTION} unless one is named)",
                flags=("--collection",), env=("QDRANT_COLLECTION",), metavar="NAME"),
    # Models
    StrSetting("dense_model", "BAAI/bge-small-en-v1.5", "Models",
               "dense embedding model (the default is bundled; other fastembed names need the hub)",
               flags=("--dense-model",), env=("DENSE_MODEL",), metavar="NAME"),
    StrSetting("sparse_model", "Qdrant/bm25", "Models", "sparse embedding model",
               flags=("--sparse-model",), env=("SPARSE_MODEL",), metavar="NAME"),
    # ONNX intra-op threads per model. One per session, and the embed stage's
    # workers give the parallelism: ONNX's own pool spins while it waits, so
    # letting it take every core (``auto``) while two workers each run a session
    # (and other stages need CPU too) oversubscribes a small machine
    # (bench/bench_load.py, bench/bench_embed.py).
    OptIntSetting("onnx_threads", 1, "Models", "ONNX Runtime threads per model ('auto' = let ONNX choose)",
                  flags=("--onnx-threads",), env=("ONNX_THREADS",), minimum=1, maximum=256, metavar="N"),
    # The bundled dense model as shipped (int8 weights, activations quantized on the fly)
    # or the same weights as an fp32 graph (better retrieval; 2x the CPU time on an
    # AVX-512 VNNI CPU). auto picks by CPU (embed/builds.py; bench/bench_embed_ceiling.py).
    WordSetting("model_build", "auto", "Models",
                "ONNX build of the bundled dense model: int8, fp32 or auto (by CPU)",
                flags=("--model-build",), env=("MODEL_BUILD",), choices=("auto", "int8", "fp32"), metavar="BUILD"),
    WordSetting("device", "cpu", "Models",
                "where the dense model runs: cpu, cuda (needs the [gpu] extra) or auto",
                flags=("--device",), env=("EMBED_DEVICE",), choices=("cpu", "cuda", "auto"), metavar="DEVICE"),
    # Stages
    *_stage_settings(),
    IntSetting("queue_size", 256, "Stages", "capacity of each stage's input queue (items)",
               flags=("--queue-size",), env=("QUEUE_SIZE",), minimum=1, maximum=MAX_QUEUE_SIZE, metavar="N"),
    # Run
    BoolSetting("no_ui", False, "Run", "run headless, without the dashboard",
                flags=("--no-ui",), neg_flags=("--ui",), env=("PLEX_LOADER_NO_UI",)),
    BoolSetting("full", False, "Run", "reload everything, ignoring what the state says is unchanged",
                flags=("--full",), neg_flags=("--incremental",), env=("PLEX_LOADER_FULL",)),
    BoolSetting("no_delete", False, "Run",
                "keep points of items that are gone from Plex (normally deleted after a complete listing)",
                flags=("--no-delete",), neg_flags=("--delete",), env=("PLEX_LOADER_NO_DELETE",)),
    BoolSetting("allow_mass_delete", False, "Run",
                "delete even when a section's listing lacks many of the items loaded before "
                "(normally held back: so many gone at once looks like a bad listing)",
                flags=("--allow-mass-delete",), env=("PLEX_LOADER_ALLOW_MASS_DELETE",), in_profile=False),
    BoolSetting("reset_state", False, "Run", "discard the load state of this target and start fresh",
                flags=("--reset-state",), in_profile=False),
    BoolSetting("retry_failed", False, "Run", "replay only the items that failed before",
                in_profile=False),
    PathSetting("data_dir", None, "Run", "folder for the load state, caches and embedded Qdrant",
                flags=("--data-dir",), env=("PLEX_LOADER_DATA_DIR",), metavar="PATH",
                fallback=default_data_dir, fallback_help="the platformdirs user data dir"),
    PathSetting("config_dir", None, "Run", "folder that holds profiles/",
                flags=("--config-dir",), env=("PLEX_LOADER_CONFIG_DIR",), in_profile=False, metavar="PATH",
                fallback=default_config_dir),
    NameSetting("profile", None, "Run", "load settings from this saved profile",
                flags=("--profile",), env=("PLEX_LOADER_PROFILE",), in_profile=False, metavar="NAME"),
    StrSetting("theme", None, "Run", "dashboard theme name",
               flags=("--theme",), env=("PLEX_LOADER_THEME",), metavar="NAME"),
    # Output
    PathSetting("summary_json", None, "Output", "write a JSON summary of the run to this file",
                flags=("--summary-json",), env=("PLEX_LOADER_SUMMARY_JSON",), metavar="PATH"),
    FloatSetting("progress_interval", 5.0, "Output",
                 "seconds between plain progress lines of --no-ui when the output is not a terminal",
                 flags=("--progress-interval",), env=("PLEX_LOADER_PROGRESS_INTERVAL",), minimum=0,
                 exclusive_minimum=True, maximum=3600, metavar="SECONDS"),
    ChoiceSetting("log_level", "INFO", "Output",
                  "log level (--no-ui shows only warnings on the console unless this is given)",
                  flags=("--log-level",), env=("LOG_LEVEL",),
                  choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), metavar="LEVEL"),
    PathSetting("log_file", None, "Output", "also write the log to this file",
                flags=("--log-file",), env=("PLEX_LOADER_LOG_FILE",), metavar="PATH"),
    # Service (serve)
    ListenSetting("listen", "127.0.0.1:8765", SERVICE_GROUP,
                  "address of the control API and /metrics: HOST:PORT, [IPv6]:PORT (port 0 = any free port)",
                  flags=("--listen",), env=("PLEX_LOADER_LISTEN",), metavar="HOST:PORT"),
    PathSetting("tls_cert", None, SERVICE_GROUP, "serve the control API over HTTPS with this certificate (PEM)",
                flags=("--tls-cert",), env=("PLEX_LOADER_TLS_CERT",), metavar="PATH"),
    PathSetting("tls_key", None, SERVICE_GROUP, "private key (PEM) of --tls-cert",
                flags=("--tls-key",), env=("PLEX_LOADER_TLS_KEY",), metavar="PATH"),
    BoolSetting("metrics_public", False, SERVICE_GROUP, "serve /metrics without the control token",
                flags=("--metrics-public",), neg_flags=("--no-metrics-public",), env=("PLEX_LOADER_METRICS_PUBLIC",)),
    # Not in profiles: opening the control API to the network in clear text is decided per start.
    BoolSetting("allow_insecure_listen", False, SERVICE_GROUP,
                "listen on a non-loopback address without TLS (the token travels in clear text)",
                flags=("--allow-insecure-listen",), env=("PLEX_LOADER_ALLOW_INSECURE_LISTEN",), in_profile=False),
    DurationSetting("sync_interval", 6 * 3600.0, SERVICE_GROUP,
                    "time between reconciling syncs while serving, e.g. 30m, 6h, 1d (0 = never)",
                    flags=("--sync-interval",), env=("PLEX_LOADER_SYNC_INTERVAL",), metavar="DURATION",
                    maximum=30 * 86400.0),
)

SETTINGS_BY_NAME: Mapping[str, Setting] = MappingProxyType({s.name: s for s in SETTINGS})
SECRET_SETTINGS: tuple[str, ...] = tuple(s.name for s in SETTINGS if s.secret)
#: (stage, field) -> its setting, e.g. ("embed", "batch_size") -> embed_batch_size.
STAGE_SETTINGS: Mapping[tuple[str, str], Setting] = MappingProxyType(
    {(s.stage_key.stage, s.stage_key.field): s for s in SETTINGS if s.stage_key is not None}
)
#: Settings that choose the profile to read: they come from flags or the environment only,
#: and a profile loaded later (from the dashboard) never changes them.
SELECTION_SETTINGS: tuple[str, ...] = ("config_dir", "profile")


def default_of(name: str) -> Any:
    """The default of setting ``name``: how other modules use a default without writing it again."""
    return SETTINGS_BY_NAME[name].default


def stage_setting(stage: str, field: str) -> Setting:
    """The setting of ``stage``'s ``field`` (``workers`` or ``batch_size``)."""
    return STAGE_SETTINGS[(stage, field)]


def settings_in_group(group: str) -> Iterable[Setting]:
    """The settings of one help group, in declaration order."""
    return (s for s in SETTINGS if s.group == group)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Two settings that cannot both be set: ``first`` on and ``second`` given."""

    first: str
    second: str
    why: str

    def clash(self, first: Any, second: Any) -> bool:
        """Whether these values of ``first`` and ``second`` exclude each other."""
        return bool(first) and second is not None


#: The pairs that exclude each other. Across layers the higher one wins; in one layer
#: (or in a RunConfig built directly) both is an error.
EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion("qdrant_path", "qdrant_url", "give either a local Qdrant path or a Qdrant URL"),
    Exclusion("demo", "plex_url", "--demo loads the built-in demo server instead of a Plex URL"),
)
