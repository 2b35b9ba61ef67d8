"""One remote service (TMDb or IMDb): its HTTP client, rate limiter and retries.

:class:`ServiceClient.get_json` is the only way the stage talks to a
service. Every attempt takes a token from the service's shared
:class:`~plex_loader_tui.enrich.ratelimit.RateLimiter`; failures are sorted
into the types of :mod:`plex_loader_tui.enrich.errors` and the transient
ones retried with tenacity. The API key never leaves this module in clear
text: URLs in logs and messages are built without it.

Bodies are streamed and read up to a limit (``max_body_bytes``), and a 200
must pass the caller's shape check (:mod:`.shapes`). A 429 with a
``Retry-After`` longer than ``max_retry_after`` opens the service's
:class:`~.circuit.Circuit` rather than sleeping through it.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from plex_loader_tui.answers import describe_answer
from plex_loader_tui.secrets import mask, mask_in_text, redact

from ..net import is_loopback
from .bodies import ERROR_BODY_BYTES, read_capped, size_text
from .circuit import Circuit, short_duration
from .errors import (
    BodyTooLarge,
    InvalidAnswer,
    MalformedResponse,
    RateLimited,
    RequestRejected,
    ServerError,
    ServicePaused,
    ServiceTimeout,
    ServiceUnreachable,
    TmdbAuthError,
    TransientServiceError,
    WrongShape,
)
from .ratelimit import RateLimiter
from .shapes import ShapeCheck

logger = logging.getLogger(__name__)

Service = Literal["tmdb", "imdb"]
LABELS: dict[str, str] = {"tmdb": "TMDb", "imdb": "IMDb"}
USER_AGENT = "plex-loader-tui/0.1 (+https://github.com/)"


class _MaskQueryCredentials(logging.Filter):
    """Masks ``api_key=…`` in httpx's own request log lines.

    httpx logs every request URL at INFO, and a TMDb v3 key can only travel
    in the query, so without this a ``--log-level info`` run would print it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                mask_in_text(str(arg)) if isinstance(arg, (str, httpx.URL)) else arg for arg in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = mask_in_text(record.msg)
        return True


def _install_httpx_log_mask() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _MaskQueryCredentials) for f in httpx_logger.filters):
        httpx_logger.addFilter(_MaskQueryCredentials())


_install_httpx_log_mask()


def build_http_client(base_url: str, *, timeout: float, max_connections: int) -> httpx.AsyncClient:
    """A pooled ``httpx.AsyncClient`` for one service.

    Proxy variables are honoured for real services but ignored for loopback
    ones, so the demo server and tests work behind a corporate proxy.
    """
    return httpx.AsyncClient(
        # No pool timeout: with more workers than connections, a request
        # waiting for a free connection is queued work, not a failure.
        timeout=httpx.Timeout(timeout, pool=None),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        trust_env=not is_loopback(base_url),
        follow_redirects=True,
    )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(slots=True)
class ServiceCounters:
    """Running totals for one service (mutated only on the event loop)."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    failures: int = 0


#: Told about each retry as it happens, with a one-line reason (the API key never in it).
RetryHook = Callable[[str], None]


class ServiceClient:
    """GET JSON from one service with rate limiting, retries and clear errors.

    ``api_key`` is sent as ``api_key=`` (TMDb v3 keys) or, with
    ``bearer=True``, as ``Authorization: Bearer`` (v4 read access tokens).
    ``on_retry`` hears of every retry as it happens (for the stage's counters).
    """

    def __init__(
        self,
        service: Service,
        base_url: str,
        http: httpx.AsyncClient,
        limiter: RateLimiter,
        *,
        attempts: int,
        rate_limit_retries: int,
        backoff_initial: float,
        backoff_max: float,
        max_retry_after: float,
        max_body_bytes: int,
        api_key: str | None = None,
        bearer: bool = False,
        on_retry: RetryHook | None = None,
    ) -> None:
        self.service = service
        self._on_retry = on_retry
        self.label = LABELS[service]
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.limiter = limiter
        self.attempts = attempts
        self.rate_limit_retries = rate_limit_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.max_body_bytes = max_body_bytes
        self.circuit = Circuit(service)
        self.counters = ServiceCounters()
        self._api_key = api_key
        self._bearer = bearer

    def __repr__(self) -> str:
        return f"ServiceClient({self.service!r}, {self.base_url!r}, key={mask(self._api_key)!r})"

    def display_url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """The request URL as shown to people: never with the key."""
        query = urlencode(list((params or {}).items()), doseq=True, safe=",/")
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def _clean(self, text: str) -> str:
        return redact(text, [self._api_key])

    # -- retry policy ------------------------------------------------------------------

    async def get_json(
        self, path: str, params: Mapping[str, Any] | None = None, *, shape: ShapeCheck | None = None
    ) -> tuple[int, Any]:
        """GET ``base_url + path``; return ``(200, body)`` or ``(404, None)``.

        Raises :class:`TmdbAuthError` on a TMDb 401, :class:`RequestRejected`
        on another 4xx, :class:`InvalidAnswer` for a 200 over the size limit
        or failing ``shape``, :class:`ServicePaused` while the service's
        circuit is open (without sending anything), and the last
        :class:`TransientServiceError` once the retries are spent
        (``attempts`` for failures, plus up to ``rate_limit_retries`` for
        429s, which wait on the rate limiter).
        """
        self._refuse_while_paused()
        failures = 0
        throttles = 0

        def failed(state: RetryCallState) -> BaseException | None:
            return state.outcome.exception() if state.outcome is not None else None

        # tenacity calls ``after`` first, then ``wait``, then ``stop``: count here.
        def after(state: RetryCallState) -> None:
            nonlocal failures, throttles
            if isinstance(failed(state), RateLimited):
                throttles += 1
            else:
                failures += 1

        def stop(state: RetryCallState) -> bool:
            if isinstance(failed(state), RateLimited):
                return throttles > self.rate_limit_retries
            return failures >= self.attempts

        def wait(state: RetryCallState) -> float:
            if isinstance(failed(state), RateLimited):
                return 0.0  # the rate limiter holds the next attempt back
            delay = min(self.backoff_max, self.backoff_initial * 2 ** max(0, failures - 1))
            return delay + random.uniform(0, min(delay, self.backoff_initial or delay))

        def before_sleep(state: RetryCallState) -> None:
            self.counters.retries += 1
            exc = failed(state)
            if self._on_retry is not None:
                # Messages name the display URL (never the key); _clean makes sure.
                self._on_retry(self._clean(f"{exc}; retrying"))
            logger.info(
                "%s; trying again (%d failed, %d rate limited so far)",
                exc,
                failures,
                throttles,
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientServiceError),
            after=after,
            stop=stop,
            wait=wait,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(path, params, shape)
        except (TransientServiceError, InvalidAnswer):
            self.counters.failures += 1
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    # -- one attempt ---------------------------------------------------------------------

    def _refuse_while_paused(self) -> None:
        pause = self.circuit.pause()
        if pause is not None:
            reason = self.circuit.reason
            left = short_duration(pause.resumes_in)
            raise ServicePaused(self.service, f"{self.label} lookups are paused for {left} more: {reason}", reason)

    async def _attempt(
        self, path: str, params: Mapping[str, Any] | None, shape: ShapeCheck | None
    ) -> tuple[int, Any]:
        query: dict[str, Any] = dict(params or {})
        headers = {"Accept": "application/json"}
        if self._api_key:
            if self._bearer:
                headers["Authorization"] = f"Bearer {self._api_key}"
            else:
                query["api_key"] = self._api_key
        shown = self.display_url(path, params)
        sent_at = await self.limiter.acquire()
        # The circuit may have opened while this request waited for its token.
        self._refuse_while_paused()
        self.counters.requests += 1
        logger.debug("%s GET %s", self.label, shown)
        try:
            async with self.http.stream("GET", f"{self.base_url}{path}", params=query, headers=headers) as response:
                status = response.status_code
                limit = self.max_body_bytes if status == 200 else ERROR_BODY_BYTES
                content, complete = await read_capped(response, limit)
                retry_after_header = response.headers.get("Retry-After")
                content_type = response.headers.get("Content-Type")
        except httpx.TimeoutException as exc:
            raise ServiceTimeout(
                self.service, f"{self.label} did not answer in time at {shown} ({type(exc).__name__})"
            ) from None
        except httpx.TransportError as exc:
            raise ServiceUnreachable(
                self.service,
                f"cannot reach {self.label} at {shown}: {self._clean(str(exc)) or type(exc).__name__}",
            ) from None
        except httpx.DecodingError:
            raise MalformedResponse(
                self.service, f"{self.label} sent a body that cannot be decoded at {shown}", "body cannot be decoded"
            ) from None
        if status == 200:
            if not complete:
                reason = f"body over {size_text(self.max_body_bytes)}"
                raise BodyTooLarge(self.service, f"{self.label} sent a {reason} at {shown}: stopped reading", reason)
            return 200, self._json_object(content, shown, shape)
        if status == 404:
            return 404, None
        answer = self._describe(status, content_type, content)
        if status == 429:
            retry_after = parse_retry_after(retry_after_header)
            self.counters.rate_limited += 1
            if retry_after is not None and retry_after > self.max_retry_after:
                self._pause(retry_after)
                reason = self.circuit.reason
                raise ServicePaused(self.service, f"{self.label} {reason}: 429 at {shown}", reason)
            self.limiter.on_rate_limited(sent_at, retry_after)
            raise RateLimited(self.service, f"{self.label} rate limited the request at {shown}: {answer}", retry_after)
        if status >= 500:
            raise ServerError(self.service, f"{self.label} answered {answer} at {shown}", f"answered {status}")
        if status == 401 and self.service == "tmdb":
            raise TmdbAuthError(
                f"TMDb refused the API key {mask(self._api_key) or '(none)'} at {shown} ({answer}): "
                "check --tmdb-api-key / TMDB_API_KEY (a v3 API key or a v4 read access token "
                "from https://www.themoviedb.org/settings/api)"
            )
        raise RequestRejected(
            self.service, f"{self.label} refused the request at {shown}: {answer}", f"refused ({status})"
        )

    def _pause(self, retry_after: float) -> None:
        """Open the circuit: lookups fail fast until ``retry_after`` has passed."""
        if self.circuit.open(retry_after):
            logger.warning(
                "%s asked to wait %.0f s (Retry-After), more than the %.0f s waited: its lookups are paused "
                "until then, and the items go on without %s data and are kept for retry-failed",
                self.label,
                retry_after,
                self.max_retry_after,
                self.label,
            )

    def _json_object(self, content: bytes, shown: str, shape: ShapeCheck | None) -> dict[str, Any]:
        """The 200's body as a JSON object that passes ``shape``."""
        try:
            data = json.loads(content)
        except ValueError:
            raise MalformedResponse(
                self.service, f"{self.label} sent a body that is not JSON at {shown}", "body is not JSON"
            ) from None
        if not isinstance(data, dict):
            raise MalformedResponse(
                self.service, f"{self.label} sent {type(data).__name__} instead of a JSON object at {shown}"
            )
        problem = shape(data) if shape is not None else None
        if problem is not None:
            raise WrongShape(self.service, f"{self.label} sent an {problem} at {shown}", problem)
        return data

    def _describe(self, status: int, content_type: str | None, content: bytes) -> str:
        """What came back, for a message: status, content type, size, and a short message if there is one.

        An HTML error page (a proxy's, a CDN's) is described, never quoted.
        """
        return self._clean(describe_answer(status, content_type, content))
