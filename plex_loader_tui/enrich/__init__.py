"""TMDb and IMDb enrichment: rate-limited, retried, cached.

The stage function is :meth:`Enricher.enrich`; see :mod:`.stage` for how
requests are batched, :mod:`.ratelimit` for the shared adaptive limiter and
:mod:`.cache` for the persistent response cache, :mod:`.shapes` for what
an answer must hold and :mod:`.circuit` for pausing a service that asked
for a long ``Retry-After``.
"""

from .cache import ResponseCache, request_key
from .circuit import ServicePause
from .errors import InvalidAnswer, ServiceError, ServicePaused, TmdbAuthError, TransientServiceError
from .ratelimit import Pacing, RateLimiter, RateLimiterState
from .settings import EnrichSettings, default_cache_path
from .stage import Enricher, EnrichStats

__all__ = [
    "EnrichSettings",
    "EnrichStats",
    "Enricher",
    "InvalidAnswer",
    "Pacing",
    "RateLimiter",
    "RateLimiterState",
    "ResponseCache",
    "ServiceError",
    "ServicePause",
    "ServicePaused",
    "TmdbAuthError",
    "TransientServiceError",
    "default_cache_path",
    "request_key",
]
