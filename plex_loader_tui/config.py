"""The run configuration: one typed, validated, frozen :class:`RunConfig`.

Every setting is declared once, in :data:`SETTINGS`, with its flag(s), its
environment variable(s), its default, its help text and its bounds. The
command line, the environment reader, the profile loader and the validator
are all driven from that table, so a setting cannot have a flag but no
environment variable, or a bound that the profile loader forgets.

Values resolve in layers: built-in defaults < saved profile < environment
variables < command-line flags (:func:`resolve_config`). The config keeps,
for every setting, a label for the layer its value came from (``--plex-url``,
``PLEX_URL``, ``profile /…/fast.toml key stages.enrich.workers`` or
``default``), and every validation error names the setting as the user wrote
it, so that a bad value can be found and fixed.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import platformdirs

from plex_loader_tui.errors import ConfigError

# The engine's own limits: a config never asks for more than the engine accepts.
from plex_loader_tui.pipeline.stage import MAX_BATCH_SIZE, MAX_WORKERS
from plex_loader_tui.secrets import SECRET_QUERY_KEYS, mask, mask_url
from plex_loader_tui.stages import STAGE_NAMES

if TYPE_CHECKING:
    from plex_loader_tui.profiles import ProfileStore

logger = logging.getLogger(__name__)

APP_NAME = "plex-loader-tui"

# --------------------------------------------------------------------------
# Stages. The defaults live here and only here; the lead sets measured values.
# --------------------------------------------------------------------------

MAX_QUEUE_SIZE = 100_000


@dataclass(frozen=True, slots=True)
class StageConfig:
    """Worker count and batch size of one pipeline stage."""

    workers: int
    batch_size: int


#: Default worker count and batch size per stage (ingest batch = Plex page size).
DEFAULT_STAGES: Mapping[str, StageConfig] = MappingProxyType(
    {
        "ingest": StageConfig(workers=2, batch_size=200),
        "enrich": StageConfig(workers=8, batch_size=20),
        # Measured (bench/bench_embed.py, bench/bench_load.py): one single-threaded ONNX
        # call per worker and one worker per core; batch 8 pads least (CPU per text:
        # 32.5 ms at 8, 34.8 at 16, 39.2 at 64, and 600+ MB of RSS at 64).
        "embed": StageConfig(workers=2, batch_size=8),
        "upsert": StageConfig(workers=1, batch_size=64),
    }
)
DEFAULT_QUEUE_SIZE = 256
#: ONNX intra-op threads per model. One per session, and the embed stage's
#: workers give the parallelism: ONNX's own pool spins while it waits, so
#: letting it take every core (``auto``) while two workers each run a session
#: (and other stages need CPU too) oversubscribes a small machine
#: (bench/bench_load.py, bench/bench_embed.py).
DEFAULT_ONNX_THREADS = 1

# Layers, lowest precedence first.
LAYER_DEFAULT, LAYER_PROFILE, LAYER_ENV, LAYER_FLAG = range(4)
#: Namespace attribute prefix under which the CLI records how a flag was spelled.
FLAG_NAME_PREFIX = "_flag__"
DEFAULT_ORIGIN = "default"


def default_data_dir() -> Path:
    """The platformdirs data directory (state DB, embedded Qdrant); not created here."""
    return platformdirs.user_data_path(APP_NAME)


def default_config_dir() -> Path:
    """The platformdirs config directory (profiles); not created here."""
    return platformdirs.user_config_path(APP_NAME)


# --------------------------------------------------------------------------
# The settings table
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Setting:
    """The declaration of one setting: how it is spelled everywhere and what it accepts.

    ``kind`` is one of ``str``, ``secret``, ``url``, ``int``, ``optint``
    (an int or ``auto``), ``float``, ``bool``, ``path``, ``strlist``,
    ``choice`` and ``name`` (a collection or profile name).
    """

    name: str
    kind: str
    default: Any
    group: str
    help: str
    flags: tuple[str, ...] = ()
    neg_flags: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] = ()
    in_profile: bool = True
    metavar: str | None = None

    @property
    def secret(self) -> bool:
        return self.kind == "secret"

    @property
    def stage(self) -> str | None:
        """The stage a ``<stage>_workers`` / ``<stage>_batch_size`` setting belongs to."""
        head, _, tail = self.name.partition("_")
        if head in STAGE_NAMES and tail in ("workers", "batch_size"):
            return head
        return None

    @property
    def profile_key(self) -> str:
        """The dotted key of this setting in a profile file."""
        stage = self.stage
        if stage is not None:
            return f"stages.{stage}.{self.name.partition('_')[2]}"
        return self.name


def _stage_settings() -> list[Setting]:
    # The mcp-plex loader's names are kept as the first spelling where they exist.
    flags: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
        # stage: (worker flags, worker env, batch flags, batch env)
        "ingest": (
            ("--ingest-workers",),
            ("INGEST_WORKERS",),
            ("--plex-chunk-size", "--ingest-batch-size"),
            ("PLEX_CHUNK_SIZE", "INGEST_BATCH_SIZE"),
        ),
        "enrich": (
            ("--enrichment-workers", "--enrich-workers"),
            ("ENRICH_WORKERS", "ENRICHMENT_WORKERS"),
            ("--enrichment-batch-size", "--enrich-batch-size"),
            ("ENRICH_BATCH_SIZE", "ENRICHMENT_BATCH_SIZE"),
        ),
        "embed": (
            ("--embed-workers",),
            ("EMBED_WORKERS",),
            ("--embed-batch-size",),
            ("EMBED_BATCH_SIZE",),
        ),
        "upsert": (
            ("--upsert-workers",),
            ("UPSERT_WORKERS",),
            ("--upsert-batch-size",),
            ("UPSERT_BATCH_SIZE",),
        ),
    }
    batch_help = {
        "ingest": "Plex page size: items per listing request",
        "enrich": "items per enrichment batch",
        "embed": "texts per embedding batch",
        "upsert": "points per Qdrant upsert",
    }
    out: list[Setting] = []
    for stage in STAGE_NAMES:
        wflags, wenv, bflags, benv = flags[stage]
        out.append(
            Setting(
                f"{stage}_workers", "int", DEFAULT_STAGES[stage].workers, "Stages",
                f"{stage} stage: concurrent workers", flags=wflags, env=wenv,
                minimum=1, maximum=MAX_WORKERS, metavar="N",
            )
        )
        out.append(
            Setting(
                f"{stage}_batch_size", "int", DEFAULT_STAGES[stage].batch_size, "Stages",
                f"{stage} stage: {batch_help[stage]}", flags=bflags, env=benv,
                minimum=1, maximum=MAX_BATCH_SIZE, metavar="N",
            )
        )
    return out


SETTINGS: tuple[Setting, ...] = (
    # Source
    Setting("plex_url", "url", None, "Source", "Plex Media Server URL, e.g. http://192.168.1.10:32400",
            flags=("--plex-url",), env=("PLEX_URL",), metavar="URL"),
    Setting("plex_token", "secret", None, "Source", "Plex token (X-Plex-Token)",
            flags=("--plex-token",), env=("PLEX_TOKEN",), metavar="TOKEN"),
    Setting("libraries", "strlist", (), "Source",
            "load only this library section (repeat for several; default: every movie and show library)",
            flags=("--library",), env=("PLEX_LIBRARIES",), metavar="NAME"),
    Setting("plex_timeout", "float", 30.0, "Source", "seconds to wait for a Plex response",
            flags=("--plex-timeout",), env=("PLEX_TIMEOUT",), minimum=0, exclusive_minimum=True,
            maximum=3600, metavar="SECONDS"),
    Setting("demo", "bool", False, "Source",
            "load the built-in demo library (starts a demo Plex/TMDb/IMDb server on loopback)",
            flags=("--demo",), neg_flags=("--no-demo",), env=("PLEX_LOADER_DEMO",)),
    Setting("demo_items", "int", 300, "Source", "number of items in the demo library",
            flags=("--demo-items",), env=("PLEX_LOADER_DEMO_ITEMS",), minimum=1, maximum=10_000_000,
            metavar="N"),
    Setting("demo_seed", "int", 7, "Source", "seed of the demo library (same seed, same library)",
            flags=("--demo-seed",), env=("PLEX_LOADER_DEMO_SEED",), minimum=0, metavar="N"),
    Setting("demo_latency_ms", "int", 0, "Source", "latency the demo server adds to each request",
            flags=("--demo-latency-ms",), env=("PLEX_LOADER_DEMO_LATENCY_MS",), minimum=0,
            maximum=60_000, metavar="MS"),
    # Enrichment
    Setting("tmdb_api_key", "secret", None, "Enrichment",
            "TMDb v3 API key or v4 bearer token (without it TMDb enrichment is off)",
            flags=("--tmdb-api-key",), env=("TMDB_API_KEY",), metavar="KEY"),
    Setting("tmdb_base_url", "url", "https://api.themoviedb.org/3", "Enrichment",
            "TMDb API base URL (the version is part of it)",
            flags=("--tmdb-base-url",), env=("TMDB_BASE_URL",), metavar="URL"),
    Setting("imdb_base_url", "url", "https://api.imdbapi.dev", "Enrichment", "IMDb (imdbapi.dev) base URL",
            flags=("--imdb-base-url",), env=("IMDB_BASE_URL",), metavar="URL"),
    Setting("tmdb_rate", "float", 40.0, "Enrichment", "TMDb request rate limit, requests per second",
            flags=("--tmdb-rate",), env=("TMDB_RATE",), minimum=0, exclusive_minimum=True,
            maximum=10_000, metavar="REQ_PER_S"),
    Setting("imdb_rate", "float", 10.0, "Enrichment", "IMDb request rate limit, requests per second",
            flags=("--imdb-rate",), env=("IMDB_RATE",), minimum=0, exclusive_minimum=True,
            maximum=10_000, metavar="REQ_PER_S"),
    Setting("http_timeout", "float", 10.0, "Enrichment", "seconds to wait for a TMDb/IMDb response",
            flags=("--http-timeout",), env=("HTTP_TIMEOUT",), minimum=0, exclusive_minimum=True,
            maximum=3600, metavar="SECONDS"),
    Setting("cache_ttl_days", "int", 7, "Enrichment", "days a cached TMDb/IMDb response stays fresh (0 = no cache)",
            flags=("--cache-ttl-days",), env=("CACHE_TTL_DAYS",), minimum=0, maximum=3650, metavar="DAYS"),
    # Target
    Setting("qdrant_path", "path", None, "Target",
            "embedded Qdrant storage folder (default: <data dir>/qdrant)",
            flags=("--qdrant-path",), env=("QDRANT_PATH",), metavar="PATH"),
    Setting("qdrant_url", "url", None, "Target", "Qdrant server or cluster URL (instead of a local path)",
            flags=("--qdrant-url",), env=("QDRANT_URL",), metavar="URL"),
    Setting("qdrant_api_key", "secret", None, "Target", "Qdrant API key",
            flags=("--qdrant-api-key",), env=("QDRANT_API_KEY",), metavar="KEY"),
    Setting("qdrant_grpc", "bool", False, "Target", "talk to the Qdrant server over gRPC",
            flags=("--qdrant-grpc",), neg_flags=("--no-qdrant-grpc",), env=("QDRANT_GRPC",)),
    Setting("collection", "name", "media-items", "Target", "Qdrant collection name",
            flags=("--collection",), env=("QDRANT_COLLECTION",), metavar="NAME"),
    # Models
    Setting("dense_model", "str", "BAAI/bge-small-en-v1.5", "Models",
            "dense embedding model (the default is bundled; other fastembed names need the hub)",
            flags=("--dense-model",), env=("DENSE_MODEL",), metavar="NAME"),
    Setting("sparse_model", "str", "Qdrant/bm25", "Models", "sparse embedding model",
            flags=("--sparse-model",), env=("SPARSE_MODEL",), metavar="NAME"),
    Setting("onnx_threads", "optint", DEFAULT_ONNX_THREADS, "Models", "ONNX Runtime threads per model ('auto' = let ONNX choose)",
            flags=("--onnx-threads",), env=("ONNX_THREADS",), minimum=1, maximum=256, metavar="N"),
    # Stages
    *_stage_settings(),
    Setting("queue_size", "int", DEFAULT_QUEUE_SIZE, "Stages", "capacity of each stage's input queue (items)",
            flags=("--queue-size",), env=("QUEUE_SIZE",), minimum=1, maximum=MAX_QUEUE_SIZE, metavar="N"),
    # Run
    Setting("no_ui", "bool", False, "Run", "run headless, without the dashboard",
            flags=("--no-ui",), neg_flags=("--ui",), env=("PLEX_LOADER_NO_UI",)),
    Setting("full", "bool", False, "Run", "reload everything, ignoring what the state says is unchanged",
            flags=("--full",), neg_flags=("--incremental",), env=("PLEX_LOADER_FULL",)),
    Setting("no_delete", "bool", False, "Run",
            "keep points of items that are gone from Plex (normally deleted after a complete listing)",
            flags=("--no-delete",), neg_flags=("--delete",), env=("PLEX_LOADER_NO_DELETE",)),
    Setting("reset_state", "bool", False, "Run", "discard the load state of this target and start fresh",
            flags=("--reset-state",), in_profile=False),
    Setting("retry_failed", "bool", False, "Run", "replay only the items that failed before",
            in_profile=False),
    Setting("data_dir", "path", None, "Run", "folder for the load state, caches and embedded Qdrant",
            flags=("--data-dir",), env=("PLEX_LOADER_DATA_DIR",), metavar="PATH"),
    Setting("config_dir", "path", None, "Run", "folder that holds profiles/",
            flags=("--config-dir",), env=("PLEX_LOADER_CONFIG_DIR",), in_profile=False, metavar="PATH"),
    Setting("profile", "name", None, "Run", "load settings from this saved profile",
            flags=("--profile",), env=("PLEX_LOADER_PROFILE",), in_profile=False, metavar="NAME"),
    Setting("theme", "str", None, "Run", "dashboard theme name",
            flags=("--theme",), env=("PLEX_LOADER_THEME",), metavar="NAME"),
    # Output
    Setting("summary_json", "path", None, "Output", "write a JSON summary of the run to this file",
            flags=("--summary-json",), env=("PLEX_LOADER_SUMMARY_JSON",), metavar="PATH"),
    Setting("progress_interval", "float", 5.0, "Output",
            "seconds between plain progress lines of --no-ui when the output is not a terminal",
            flags=("--progress-interval",), env=("PLEX_LOADER_PROGRESS_INTERVAL",), minimum=0,
            exclusive_minimum=True, maximum=3600, metavar="SECONDS"),
    Setting("log_level", "choice", "INFO", "Output",
            "log level (--no-ui shows only warnings on the console unless this is given)",
            flags=("--log-level",), env=("LOG_LEVEL",),
            choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), metavar="LEVEL"),
    Setting("log_file", "path", None, "Output", "also write the log to this file",
            flags=("--log-file",), env=("PLEX_LOADER_LOG_FILE",), metavar="PATH"),
)

SETTINGS_BY_NAME: Mapping[str, Setting] = MappingProxyType({s.name: s for s in SETTINGS})
SECRET_SETTINGS: tuple[str, ...] = tuple(s.name for s in SETTINGS if s.secret)
_URL_SETTINGS = frozenset(s.name for s in SETTINGS if s.kind == "url")
GROUPS: tuple[str, ...] = ("Source", "Enrichment", "Target", "Models", "Stages", "Run", "Output")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


# --------------------------------------------------------------------------
# Parsing and checking one value
# --------------------------------------------------------------------------


# Where each URL setting's credential belongs instead of inside the URL.
_CREDENTIAL_HOME = {
    "plex_url": "pass it with --plex-token / PLEX_TOKEN instead",
    "qdrant_url": "pass it with --qdrant-api-key / QDRANT_API_KEY instead",
    "tmdb_base_url": "pass it with --tmdb-api-key / TMDB_API_KEY instead",
}


def _credential_problem(spec: Setting | None, value: str) -> str | None:
    """Say that a URL carries a credential, naming where it is but never its value.

    Users paste ``http://h:32400/?X-Plex-Token=…`` from Plex's web app; such a
    URL would travel into logs, summaries and the dashboard header, so it is
    refused and the secret is sent to its own, masked, setting instead.
    """
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    where = ""
    if "@" in parts.netloc:
        where = "****@ before the host"
    else:
        for key, _ in parse_qsl(parts.query, keep_blank_values=True):
            if key.lower() in SECRET_QUERY_KEYS:
                where = f"{key}=****"
                break
    if not where:
        return None
    home = _CREDENTIAL_HOME.get(spec.name if spec else "", "remove it from the URL")
    return f"holds a credential ({where}); {home}"


def _url_problem(value: str, spec: Setting | None = None) -> str | None:
    credential = _credential_problem(spec, value)
    if credential:
        return credential
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return f"is not a valid URL: {mask_url(value)!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            f"is not a valid URL: {mask_url(value)!r} "
            "(expected http:// or https:// followed by a host)"
        )
    if port is not None and not 0 < port < 65536:
        return f"has an invalid port in {mask_url(value)!r}"
    return None


def _bounds_problem(spec: Setting, value: float) -> str | None:
    low, high = spec.minimum, spec.maximum
    too_low = low is not None and (value <= low if spec.exclusive_minimum else value < low)
    too_high = high is not None and value > high
    if not (too_low or too_high):
        return None
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    if spec.exclusive_minimum:
        limit = f"greater than {low:g}" + (f" and at most {high:g}" if high is not None else "")
        return f"must be {limit}, got {shown}"
    if high is None:
        return f"must be at least {low:g}, got {shown}"
    return f"must be between {low:g} and {high:g}, got {shown}"


def check_value(spec: Setting, value: Any) -> str | None:
    """Return what is wrong with an already-typed ``value`` for ``spec``, or None."""
    if value is None:
        return None
    kind = spec.kind
    if kind in ("int", "optint", "float"):
        return _bounds_problem(spec, value)
    if kind == "url":
        return _url_problem(value, spec)
    if kind == "name":
        if not _NAME_RE.match(value):
            return (
                f"{value!r} is not a valid name "
                "(letters, digits, '.', '_' and '-', starting with a letter or digit)"
            )
        return None
    if kind in ("str", "secret"):
        if not value.strip():
            return "must not be empty"
        return None
    if kind == "strlist":
        if any(not item.strip() for item in value):
            return "contains an empty name"
        return None
    if kind == "choice":
        if value not in spec.choices:
            return f"must be one of {', '.join(spec.choices)}, got {value!r}"
        return None
    return None


def parse_text(spec: Setting, text: str) -> Any:
    """Convert the text of a flag or environment variable to the setting's type.

    Raises ``ValueError`` with the problem (without the setting's name).
    """
    kind = spec.kind
    stripped = text.strip()
    if kind in ("int", "optint"):
        if kind == "optint" and stripped.lower() == "auto":
            return None
        try:
            return int(stripped)
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
    if kind == "float":
        try:
            number = float(stripped)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {text!r}")
        return number
    if kind == "bool":
        lowered = stripped.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"expected true or false (1/0, yes/no, on/off), got {text!r}")
    if kind == "path":
        if not stripped:
            raise ValueError("must not be empty")
        return Path(stripped).expanduser()
    if kind == "strlist":
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if kind == "choice":
        return stripped.upper()
    if kind == "secret":
        return text  # a secret is taken exactly as given
    return stripped


def parse_toml_value(spec: Setting, value: Any) -> Any:
    """Type-check a value read from a profile file; return it in the setting's type.

    Raises ``ValueError`` with the problem (without the file or key).
    """
    kind = spec.kind

    def wrong(expected: str) -> ValueError:
        return ValueError(f"expected {expected}, got {type(value).__name__} {value!r}")

    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        return int(value)
    if kind == "optint":
        if isinstance(value, str) and value.strip().lower() == "auto":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer or \"auto\"")
        return int(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if kind == "strlist":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of strings")
        return tuple(str(v).strip() for v in value)
    if not isinstance(value, str):
        raise wrong("a string")
    if kind == "path":
        return Path(str(value)).expanduser()
    if kind == "choice":
        return str(value).upper()
    return str(value)


def to_toml_value(spec: Setting, value: Any) -> Any:
    """The form of a typed value that goes into a profile file."""
    if value is None and spec.kind == "optint":
        return "auto"
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


# --------------------------------------------------------------------------
# RunConfig
# --------------------------------------------------------------------------


def _default_stages() -> Mapping[str, StageConfig]:
    return MappingProxyType(dict(DEFAULT_STAGES))


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything one run needs to know, validated; build it with :func:`resolve_config`.

    Constructing it directly (tests, the dashboard) also validates every
    value. Secrets are masked in ``repr()`` and in :meth:`masked`.
    """

    # Source
    plex_url: str | None = None
    plex_token: str | None = None
    libraries: tuple[str, ...] = ()
    plex_timeout: float = 30.0
    demo: bool = False
    demo_items: int = 300
    demo_seed: int = 7
    demo_latency_ms: int = 0
    # Enrichment
    tmdb_api_key: str | None = None
    tmdb_base_url: str = "https://api.themoviedb.org/3"
    imdb_base_url: str = "https://api.imdbapi.dev"
    tmdb_rate: float = 40.0
    imdb_rate: float = 10.0
    http_timeout: float = 10.0
    cache_ttl_days: int = 7
    # Target
    qdrant_path: Path | None = None
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_grpc: bool = False
    collection: str = "media-items"
    # Models
    dense_model: str = "BAAI/bge-small-en-v1.5"
    sparse_model: str = "Qdrant/bm25"
    onnx_threads: int | None = DEFAULT_ONNX_THREADS
    # Stages
    stages: Mapping[str, StageConfig] = field(default_factory=_default_stages)
    queue_size: int = DEFAULT_QUEUE_SIZE
    # Run
    no_ui: bool = False
    full: bool = False
    no_delete: bool = False
    reset_state: bool = False
    retry_failed: bool = False
    data_dir: Path = field(default_factory=default_data_dir)
    config_dir: Path = field(default_factory=default_config_dir)
    profile: str | None = None
    theme: str | None = None
    # Output
    summary_json: Path | None = None
    progress_interval: float = 5.0
    log_level: str = "INFO"
    log_file: Path | None = None
    #: setting name -> where its value came from ("--plex-url", "PLEX_URL", "profile … key …").
    origins: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), compare=False)

    def __post_init__(self) -> None:
        # Freeze the mappings so a shared config cannot be changed behind the engine's back.
        object.__setattr__(self, "stages", MappingProxyType(dict(self.stages)))
        object.__setattr__(self, "origins", MappingProxyType(dict(self.origins)))
        missing = [s for s in STAGE_NAMES if s not in self.stages]
        unknown = [s for s in self.stages if s not in STAGE_NAMES]
        if missing or unknown:
            raise ConfigError(
                f"stages: expected exactly {', '.join(STAGE_NAMES)}; "
                f"missing {missing or 'none'}, unknown {unknown or 'none'}"
            )
        for spec in SETTINGS:
            if spec.stage is not None:
                stage_cfg = self.stages[spec.stage]
                value = stage_cfg.workers if spec.name.endswith("_workers") else stage_cfg.batch_size
            else:
                value = getattr(self, spec.name)
            problem = check_value(spec, value)
            if problem:
                raise ConfigError(f"{self.origin(spec.name, spec.name)}: {problem}")
        if self.qdrant_path is not None and self.qdrant_url is not None:
            raise ConfigError(
                f"{self.origin('qdrant_path')} and {self.origin('qdrant_url')}: "
                "give either a local Qdrant path or a Qdrant URL, not both"
            )
        if self.demo and self.plex_url is not None:
            raise ConfigError(
                f"{self.origin('demo')} and {self.origin('plex_url')}: "
                "--demo loads the built-in demo server; drop the Plex URL or the demo switch"
            )

    # -- display -------------------------------------------------------------

    def origin(self, name: str, fallback: str | None = None) -> str:
        """Where the value of setting ``name`` came from, as the user would write it."""
        label = self.origins.get(name)
        if label and label != DEFAULT_ORIGIN:
            return label
        spec = SETTINGS_BY_NAME.get(name)
        if fallback is not None:
            return fallback
        if spec is not None and spec.flags:
            return spec.flags[0]
        return name

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            if f.name == "origins":
                continue
            value = getattr(self, f.name)
            if f.name in SECRET_SETTINGS and value:
                value = mask(value)
            elif f.name in _URL_SETTINGS and value:
                value = mask_url(value)
            elif f.name == "stages":
                value = dict(value)
            parts.append(f"{f.name}={value!r}")
        return f"RunConfig({', '.join(parts)})"

    def masked(self) -> dict[str, Any]:
        """A JSON-ready dict of every setting, secrets masked, for display and summaries."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "origins":
                continue
            value = getattr(self, f.name)
            if f.name in SECRET_SETTINGS:
                value = mask(value) if value else None
            elif f.name == "stages":
                value = {
                    name: {"workers": cfg.workers, "batch_size": cfg.batch_size}
                    for name, cfg in value.items()
                }
            elif f.name in _URL_SETTINGS and value:
                value = mask_url(value)
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out["qdrant_location"] = self.qdrant_location
        return out

    def secret_values(self) -> tuple[str, ...]:
        """The configured secrets, for log redaction."""
        return tuple(v for v in (getattr(self, n) for n in SECRET_SETTINGS) if v)

    # -- derived values ------------------------------------------------------

    def stage(self, name: str) -> StageConfig:
        """The worker count and batch size of stage ``name``."""
        try:
            return self.stages[name]
        except KeyError:
            raise KeyError(f"unknown stage {name!r} (stages: {', '.join(STAGE_NAMES)})") from None

    @property
    def effective_qdrant_path(self) -> Path | None:
        """The embedded Qdrant folder, or None when a Qdrant URL is configured."""
        if self.qdrant_url is not None:
            return None
        return self.qdrant_path if self.qdrant_path is not None else self.data_dir / "qdrant"

    @property
    def qdrant_location(self) -> str:
        """The Qdrant target for display: the URL (masked) or the local path."""
        if self.qdrant_url is not None:
            return mask_url(self.qdrant_url)
        return str(self.effective_qdrant_path)

    # -- changes ---------------------------------------------------------------

    def with_stage(
        self, name: str, *, workers: int | None = None, batch_size: int | None = None
    ) -> RunConfig:
        """A copy with stage ``name`` retuned (validated); used for live-tuned values."""
        current = self.stage(name)
        updated = StageConfig(
            workers=current.workers if workers is None else workers,
            batch_size=current.batch_size if batch_size is None else batch_size,
        )
        stages = dict(self.stages)
        stages[name] = updated
        origins = dict(self.origins)
        if workers is not None:
            origins[f"{name}_workers"] = f"live setting {name} workers"
        if batch_size is not None:
            origins[f"{name}_batch_size"] = f"live setting {name} batch size"
        return dataclasses.replace(self, stages=stages, origins=origins)

    def setting_value(self, name: str) -> Any:
        """The value of setting ``name`` (stage settings included, e.g. ``enrich_workers``)."""
        spec = SETTINGS_BY_NAME[name]
        if spec.stage is not None:
            cfg = self.stages[spec.stage]
            return cfg.workers if name.endswith("_workers") else cfg.batch_size
        return getattr(self, name)


# --------------------------------------------------------------------------
# Resolution: defaults < profile < environment < flags
# --------------------------------------------------------------------------


@dataclass(slots=True)
class _Layered:
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    layers: dict[str, int] = field(default_factory=dict)

    def set(self, name: str, value: Any, origin: str, layer: int) -> None:
        self.values[name] = value
        self.origins[name] = origin
        self.layers[name] = layer

    def drop(self, name: str) -> None:
        self.values[name] = SETTINGS_BY_NAME[name].default
        self.origins[name] = DEFAULT_ORIGIN
        self.layers[name] = LAYER_DEFAULT


def _checked(spec: Setting, value: Any, label: str) -> Any:
    problem = check_value(spec, value)
    if problem:
        raise ConfigError(f"{label}: {problem}")
    return value


def _from_text(spec: Setting, text: str, label: str) -> Any:
    try:
        value = parse_text(spec, text)
    except ValueError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    return _checked(spec, value, label)


def _env_value(spec: Setting, environ: Mapping[str, str]) -> tuple[Any, str] | None:
    for name in spec.env:
        raw = environ.get(name)
        # An empty variable counts as unset: shells and .env files leave them around.
        if raw is None or not raw.strip():
            continue
        return _from_text(spec, raw, name), name
    return None


def _flag_value(spec: Setting, raw: Any, label: str) -> Any:
    if isinstance(raw, bool) or raw is None:
        return raw
    if isinstance(raw, (list, tuple)):  # a repeatable flag (--library)
        items = tuple(str(item).strip() for item in raw)
        return _checked(spec, items, label)
    return _from_text(spec, str(raw), label)


def _resolve_one(
    name: str, args: Mapping[str, Any], flag_names: Mapping[str, str], environ: Mapping[str, str]
) -> tuple[Any, str] | None:
    """Flag, else environment, value of a setting that cannot come from a profile."""
    spec = SETTINGS_BY_NAME[name]
    if name in args:
        label = flag_names.get(name) or (spec.flags[0] if spec.flags else name)
        return _flag_value(spec, args[name], label), label
    return _env_value(spec, environ)


def resolve_config(
    args: Any = None,
    environ: Mapping[str, str] | None = None,
    profile_store: ProfileStore | None = None,
    *,
    command: str = "load",
) -> RunConfig:
    """Resolve the run configuration: defaults < profile < environment < flags.

    ``args`` is an ``argparse.Namespace`` (or a mapping) holding only the
    settings the user actually gave on the command line (the parser from
    :mod:`plex_loader_tui.cli` uses ``SUPPRESS`` defaults for that). An
    attribute ``_flag__<setting>`` (or a ``_flag_names`` mapping) holds the
    spelling of the flag the user typed, for error messages.
    ``profile_store`` defaults to the store in the resolved config directory.
    ``command`` is ``load``, ``retry-failed`` or ``search``: only the first two
    need a Plex source.

    Raises :class:`ConfigError` with one line naming the setting and the problem.
    """
    environ = os.environ if environ is None else environ
    if args is None:
        given: dict[str, Any] = {}
    elif isinstance(args, Mapping):
        given = dict(args)
    else:
        given = dict(vars(args))
    flag_names: dict[str, str] = dict(given.pop("_flag_names", None) or {})
    flag_names.update(
        {k[len(FLAG_NAME_PREFIX):]: str(v) for k, v in given.items() if k.startswith(FLAG_NAME_PREFIX)}
    )
    given = {k: v for k, v in given.items() if k in SETTINGS_BY_NAME}

    layered = _Layered()
    for spec in SETTINGS:
        layered.set(spec.name, spec.default, DEFAULT_ORIGIN, LAYER_DEFAULT)

    # The config dir and the profile name decide which profile to read, so
    # they come from flags or the environment only.
    config_dir_found = _resolve_one("config_dir", given, flag_names, environ)
    if config_dir_found is not None:
        layered.set("config_dir", config_dir_found[0], config_dir_found[1], LAYER_FLAG)
    profile_found = _resolve_one("profile", given, flag_names, environ)
    if profile_found is not None and profile_found[0]:
        profile_name, profile_label = profile_found
        layered.set("profile", profile_name, profile_label, LAYER_FLAG)
        if profile_store is None:
            from plex_loader_tui.profiles import ProfileStore

            profile_store = ProfileStore(layered.values["config_dir"] or default_config_dir())
        _apply_profile(layered, profile_store, profile_name, profile_label, environ)

    for spec in SETTINGS:
        if spec.name in ("config_dir", "profile"):
            continue
        found = _env_value(spec, environ)
        if found is not None:
            layered.set(spec.name, found[0], found[1], LAYER_ENV)
    for name, raw in given.items():
        if name in ("config_dir", "profile"):
            continue
        spec = SETTINGS_BY_NAME[name]
        label = flag_names.get(name) or (spec.flags[0] if spec.flags else name)
        layered.set(name, _flag_value(spec, raw, label), label, LAYER_FLAG)

    _settle_conflict(layered, "qdrant_path", "qdrant_url", "give either a local Qdrant path or a Qdrant URL")
    _settle_conflict(layered, "demo", "plex_url", "--demo loads the built-in demo server instead of a Plex URL")

    values = layered.values
    if command in ("load", "retry-failed") and not values["demo"] and not values["plex_url"]:
        raise ConfigError(
            "--plex-url / PLEX_URL: not set: give your Plex server's URL "
            "(e.g. http://192.168.1.10:32400), or use --demo for the built-in demo library"
        )
    if command == "retry-failed":
        layered.set("retry_failed", True, "retry-failed", LAYER_FLAG)

    fields: dict[str, Any] = {}
    stages: dict[str, dict[str, int]] = {name: {} for name in STAGE_NAMES}
    for spec in SETTINGS:
        value = values[spec.name]
        if spec.stage is not None:
            stages[spec.stage][spec.name.partition("_")[2]] = value
        else:
            fields[spec.name] = value
    if fields["data_dir"] is None:
        fields["data_dir"] = default_data_dir()
    if fields["config_dir"] is None:
        fields["config_dir"] = default_config_dir()
    fields["stages"] = {name: StageConfig(**kw) for name, kw in stages.items()}
    config = RunConfig(**fields, origins=layered.origins)
    logger.debug("resolved config: %r", config)
    return config


def _apply_profile(
    layered: _Layered,
    store: ProfileStore,
    name: str,
    label: str,
    environ: Mapping[str, str],
) -> None:
    from plex_loader_tui.profiles import ProfileNotFound

    try:
        loaded = store.load(name)
    except ProfileNotFound as exc:
        raise ConfigError(f"{label}: {exc}") from None
    path = store.path(name)
    for key, value in loaded.items():
        if key.endswith("_env") and key[: -len("_env")] in SECRET_SETTINGS:
            # The profile names the variable that holds the secret.
            secret = key[: -len("_env")]
            held = environ.get(value)
            if held:
                layered.set(secret, held, f"{value} (named by profile {path} key {key})", LAYER_PROFILE)
            continue
        spec = SETTINGS_BY_NAME[key]
        origin = (
            f"profile {store.secrets_path(name)} key {key}"
            if spec.secret
            else f"profile {path} key {spec.profile_key}"
        )
        layered.set(key, value, origin, LAYER_PROFILE)


def _settle_conflict(layered: _Layered, first: str, second: str, why: str) -> None:
    """Two settings that exclude each other: the higher layer wins; the same layer is an error."""
    a, b = layered.values[first], layered.values[second]
    if not a or b is None:
        return
    la, lb = layered.layers[first], layered.layers[second]
    if la == lb:
        raise ConfigError(f"{layered.origins[first]} and {layered.origins[second]}: {why}, not both")
    loser = first if la < lb else second
    winner = second if loser == first else first
    logger.info(
        "%s overrides %s (%s)", layered.origins[winner], layered.origins[loser], why
    )
    layered.drop(loser)


def settings_in_group(group: str) -> Iterable[Setting]:
    """The settings of one help group, in declaration order."""
    return (s for s in SETTINGS if s.group == group)
