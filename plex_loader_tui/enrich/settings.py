"""Settings of the enrichment stage, and where its response cache lives."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from plex_loader_tui.config.settings import default_of
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.secrets import mask

if TYPE_CHECKING:
    from plex_loader_tui.config import RunConfig

# The user settings' defaults are declared in the settings table; these names are
# kept for the benchmarks and tests that build EnrichSettings directly.
DEFAULT_TMDB_BASE_URL: str = default_of("tmdb_base_url")
DEFAULT_IMDB_BASE_URL: str = default_of("imdb_base_url")
DEFAULT_TMDB_RATE: float = default_of("tmdb_rate")
DEFAULT_IMDB_RATE: float = default_of("imdb_rate")
DEFAULT_TIMEOUT: float = default_of("http_timeout")
SECONDS_PER_DAY = 86_400.0
DEFAULT_CACHE_TTL: float = default_of("cache_ttl_days") * SECONDS_PER_DAY
CACHE_FILE_NAME = "http-cache.sqlite3"
#: The largest TMDb/IMDb answer read (a real one is tens of KB): reading stops
#: there and the lookup fails, like curl's ``--max-filesize``.
MAX_BODY_BYTES = 2 * 1024 * 1024
#: The longest ``Retry-After`` waited for; a longer one pauses the service
#: (its lookups fail fast until then) instead of holding the stage.
MAX_RETRY_AFTER = 120.0
#: The demo's own cache: its synthetic answers are keyed by ids that real titles have too.
DEMO_CACHE_FILE_NAME = "http-cache-demo.sqlite3"


def default_cache_path(data_dir: Path, *, demo: bool = False) -> Path:
    """Where the TMDb/IMDb response cache lives: beside the load state in ``data_dir``."""
    return Path(data_dir) / (DEMO_CACHE_FILE_NAME if demo else CACHE_FILE_NAME)


@dataclass(frozen=True, slots=True)
class EnrichSettings:
    """Everything the enrichment stage needs to know, validated on construction.

    ``tmdb_api_key`` may be a v3 API key (sent as the ``api_key`` query
    parameter) or a v4 read access token (sent as ``Authorization: Bearer``);
    without one, only IMDb enrichment runs. ``cache_path=None`` or
    ``cache_ttl=0`` turns the response cache off.

    Retries: a request that times out, cannot connect, or gets a 5xx or an
    unreadable body is tried ``attempts`` times in all, with exponential
    backoff and jitter between ``backoff_initial`` and ``backoff_max``
    seconds. A 429 does not use up those attempts: it slows the service's
    rate limiter down and is retried up to ``rate_limit_retries`` more times,
    after the server's ``Retry-After``. A ``Retry-After`` longer than
    ``max_retry_after`` pauses the service instead: its lookups fail at once
    as "rate-limited, retry later" until that time has passed.

    Answers: a body longer than ``max_body_bytes`` is not read past the
    limit, and a body that is not the JSON a lookup asked for fails the lookup
    (not retried: the same request gets the same answer).
    """

    tmdb_api_key: str | None = None
    tmdb_base_url: str = DEFAULT_TMDB_BASE_URL
    imdb_base_url: str = DEFAULT_IMDB_BASE_URL
    tmdb_rate: float = DEFAULT_TMDB_RATE
    imdb_rate: float = DEFAULT_IMDB_RATE
    #: Requests a service may send back to back before the rate applies (None: rate / 4).
    tmdb_burst: float | None = None
    imdb_burst: float | None = None
    timeout: float = DEFAULT_TIMEOUT
    attempts: int = 4
    rate_limit_retries: int = 20
    backoff_initial: float = 0.5
    backoff_max: float = 10.0
    max_retry_after: float = MAX_RETRY_AFTER
    max_body_bytes: int = MAX_BODY_BYTES
    cache_path: Path | None = None
    cache_ttl: float = DEFAULT_CACHE_TTL
    #: TMDb ``language`` parameter (None: TMDb's default, en-US).
    language: str | None = "en-US"
    #: Connections per service; TMDb allows about 20 per IP.
    max_connections: int = 20
    cast_limit: int = 10

    def __post_init__(self) -> None:
        for name in ("tmdb_base_url", "imdb_base_url"):
            url = getattr(self, name)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"{name}: {url!r} is not an http(s) URL")
        for name in ("tmdb_rate", "imdb_rate", "timeout", "backoff_max", "max_retry_after"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError(f"{name}: must be a positive number, got {value!r}")
        for name in ("tmdb_burst", "imdb_burst"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 1):
                raise ConfigError(f"{name}: must be at least 1, got {value!r}")
        if self.backoff_initial < 0 or not math.isfinite(self.backoff_initial):
            raise ConfigError(f"backoff_initial: must be >= 0, got {self.backoff_initial!r}")
        if self.cache_ttl < 0:
            raise ConfigError(f"cache_ttl: must be >= 0 seconds, got {self.cache_ttl!r}")
        for name, low in (
            ("attempts", 1),
            ("rate_limit_retries", 0),
            ("max_connections", 1),
            ("cast_limit", 0),
            ("max_body_bytes", 1),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise ConfigError(f"{name}: must be an integer >= {low}, got {value!r}")

    @property
    def tmdb_enabled(self) -> bool:
        return bool(self.tmdb_api_key)

    @property
    def tmdb_uses_bearer(self) -> bool:
        """v4 read access tokens are long JWTs; v3 keys are 32 hex characters."""
        key = self.tmdb_api_key or ""
        return key.count(".") >= 2 or len(key) > 40

    @property
    def cache_enabled(self) -> bool:
        return self.cache_path is not None and self.cache_ttl > 0

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "tmdb_api_key" and value:
                value = mask(value)
            parts.append(f"{f.name}={value!r}")
        return f"EnrichSettings({', '.join(parts)})"

    @classmethod
    def from_config(cls, config: RunConfig, *, cache_path: Path | None = None) -> EnrichSettings:
        """Settings from a resolved :class:`~plex_loader_tui.config.RunConfig`.

        The cache goes beside the load state (``config.data_dir``; a demo load
        keeps its own) unless ``cache_path`` says otherwise; ``cache_ttl_days = 0``
        turns it off.
        """
        ttl = float(config.cache_ttl_days) * SECONDS_PER_DAY
        path = cache_path if cache_path is not None else default_cache_path(config.data_dir, demo=config.demo)
        return cls(
            tmdb_api_key=config.tmdb_api_key,
            tmdb_base_url=config.tmdb_base_url,
            imdb_base_url=config.imdb_base_url,
            tmdb_rate=float(config.tmdb_rate),
            imdb_rate=float(config.imdb_rate),
            timeout=float(config.http_timeout),
            cache_path=path if ttl > 0 else None,
            cache_ttl=ttl,
        )
