"""What can go wrong talking to TMDb and IMDb.

Only :class:`TmdbAuthError` stops a run. Everything else is about one
request: the transient kinds are retried, and whatever still fails becomes
an :class:`~plex_loader_tui.models.EnrichError` on the items that request
was for, so they flow on without that service's data and can be retried.

Every :class:`ServiceError` has a ``reason``: a short phrase without URLs or
ids (``"answered 503"``, ``"body over 2 MB"``), the same for every item that
failed the same way, so failures can be grouped by service and reason.
"""

from __future__ import annotations

from plex_loader_tui.pipeline.errors import FatalError


class TmdbAuthError(FatalError):
    """TMDb refused the API key (401); no request can succeed, so the run stops."""


class ServiceError(Exception):
    """A request to TMDb or IMDb failed; the message names the service and the URL (key masked)."""

    #: The reason when the raiser gives none (each subclass says what it is).
    default_reason = "request failed"

    def __init__(self, service: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.service = service
        self.reason = reason or self.default_reason


class TransientServiceError(ServiceError):
    """A failure worth another try: timeout, connection error, 5xx, 429, garbled body."""


class ServiceTimeout(TransientServiceError):
    """The service did not answer in time."""

    default_reason = "did not answer in time"


class ServiceUnreachable(TransientServiceError):
    """The connection failed or broke."""

    default_reason = "unreachable"


class ServerError(TransientServiceError):
    """The service answered 5xx."""

    default_reason = "server error"


class MalformedResponse(TransientServiceError):
    """The service answered 200 with a body that is not the JSON object expected."""

    default_reason = "body is not a JSON object"


class RateLimited(TransientServiceError):
    """The service answered 429; ``retry_after`` is its ``Retry-After`` in seconds, if any."""

    default_reason = "rate-limited"

    def __init__(self, service: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(service, message)
        self.retry_after = retry_after


class RequestRejected(ServiceError):
    """The service refused the request itself (a 4xx other than 401/404/429); not retried."""

    default_reason = "refused the request"


class InvalidAnswer(ServiceError):
    """A 200 whose body cannot be what was asked for: too big, or JSON of the wrong shape.

    Not retried within the run: the same request gets the same answer (a
    proxy's page, an API that changed). The items go on without that
    service's data and are kept for ``retry-failed``.
    """

    default_reason = "invalid answer"


class BodyTooLarge(InvalidAnswer):
    """The body grew past the size limit; reading stopped there (like curl's ``--max-filesize``)."""

    default_reason = "body too large"


class WrongShape(InvalidAnswer):
    """The body is a JSON object but lacks the fields every answer of its kind has."""

    default_reason = "answer of the wrong shape"


class ServicePaused(ServiceError):
    """The service asked us to stay away longer than we wait (a long ``Retry-After``).

    Its lookups fail fast until then instead of holding the stage; see
    :class:`~plex_loader_tui.enrich.circuit.Circuit`.
    """

    default_reason = "rate-limited, retry later"
