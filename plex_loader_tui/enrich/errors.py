"""What can go wrong talking to TMDb and IMDb.

Only :class:`TmdbAuthError` stops a run. Everything else is about one
request: the transient kinds are retried, and whatever still fails becomes
an :class:`~plex_loader_tui.models.EnrichError` on the items that request
was for, so they flow on without that service's data and can be retried.
"""

from __future__ import annotations

from plex_loader_tui.pipeline.errors import FatalError


class TmdbAuthError(FatalError):
    """TMDb refused the API key (401); no request can succeed, so the run stops."""


class ServiceError(Exception):
    """A request to TMDb or IMDb failed; the message names the service and the URL (key masked)."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service


class TransientServiceError(ServiceError):
    """A failure worth another try: timeout, connection error, 5xx, 429, garbled body."""


class ServiceTimeout(TransientServiceError):
    """The service did not answer in time."""


class ServiceUnreachable(TransientServiceError):
    """The connection failed or broke."""


class ServerError(TransientServiceError):
    """The service answered 5xx."""


class MalformedResponse(TransientServiceError):
    """The service answered 200 with a body that is not the JSON object expected."""


class RateLimited(TransientServiceError):
    """The service answered 429; ``retry_after`` is its ``Retry-After`` in seconds, if any."""

    def __init__(self, service: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(service, message)
        self.retry_after = retry_after


class RequestRejected(ServiceError):
    """The service refused the request itself (a 4xx other than 401/404/429); not retried."""
