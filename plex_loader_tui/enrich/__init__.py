"""TMDb and IMDb enrichment: rate-limited, retried, cached.

The stage function is :meth:`Enricher.enrich`; see :mod:`.stage` for how
requests are batched, :mod:`.ratelimit` for the shared adaptive limiter and
:mod:`.cache` for the persistent response cache.
"""

from .cache import ResponseCache, request_key
from .errors import ServiceError, TmdbAuthError, TransientServiceError
from .ratelimit import RateLimiter, RateLimiterState
from .settings import EnrichSettings, default_cache_path
from .stage import Enricher, EnrichStats

__all__ = [
    "EnrichSettings",
    "EnrichStats",
    "Enricher",
    "RateLimiter",
    "RateLimiterState",
    "ResponseCache",
    "ServiceError",
    "TmdbAuthError",
    "TransientServiceError",
    "default_cache_path",
    "request_key",
]
