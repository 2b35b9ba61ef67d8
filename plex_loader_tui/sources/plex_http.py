"""Talking HTTP to Plex: where the server is, and a session that retries what a retry can fix.

The session retries refused connections, 429 and 5xx, with backoff. It does
not retry a request that timed out waiting for its answer: a server that
stalls once stalls again, and the load retries the page as a whole (a few
times, then gives up on it), so one stalled page costs a few timeouts, not
a few times a few.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from ..config.settings import default_of
from ..errors import ConfigError
from ..net import is_loopback
from ..secrets import mask, mask_url

#: Statuses worth another try at the HTTP layer.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Longest ``Retry-After`` we obey; a server asking for an hour is broken.
_MAX_RETRY_AFTER = 60.0
#: The body cap of a Plex answer: a floor, plus this much per item a page may hold.
#: A listing's item is 1-4 KiB of XML; 32 KiB leaves room for long summaries and casts.
_BODY_FLOOR = 1024 * 1024
_BODY_PER_ITEM = 32 * 1024
#: Rating keys asked for in one ``/library/metadata/{k1,k2,…}`` request. 100 keys of
#: up to 10 digits make a path of about 1.1 KB, well under the ~8 KB many servers and
#: proxies accept for a request line; 2,000 changed items cost 20 requests.
KEYS_PER_REQUEST = 100
#: The most keys one request may name (about 5.5 KB of path).
MAX_KEYS_PER_REQUEST = 500


@dataclass(frozen=True, slots=True)
class PlexSettings:
    """How to reach Plex and how to page through it.

    ``libraries`` names the sections to load (all movie and show sections when
    empty); ``chunk_size`` is the page size; ``retries`` bounds the HTTP-level
    retries of each request (429/5xx/connection errors) and ``timeout`` is how
    long, in seconds, to wait for an answer or for more of its body.
    ``max_body_bytes`` caps the body of any one answer (by default 1 MiB plus
    32 KiB per item of a page: about 7 MiB for pages of 200). ``keys_per_request``
    is how many rating keys one targeted fetch (``/library/metadata/{k1,k2,…}``)
    names at most.
    """

    url: str
    token: str | None
    libraries: tuple[str, ...] = ()
    chunk_size: int = default_of("ingest_batch_size")
    timeout: float = default_of("plex_timeout")
    retries: int = 4
    max_body_bytes: int | None = None
    keys_per_request: int = KEYS_PER_REQUEST

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"plex url: expected http(s)://host[:port], got {mask_url(self.url)!r}")
        if not isinstance(self.chunk_size, int) or not 1 <= self.chunk_size <= 10_000:
            raise ConfigError(f"plex chunk size: expected 1..10000, got {self.chunk_size!r}")
        if not self.timeout > 0:
            raise ConfigError(f"plex timeout: expected a positive number of seconds, got {self.timeout!r}")
        if not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigError(f"plex retries: expected a whole number >= 0, got {self.retries!r}")
        if not isinstance(self.keys_per_request, int) or not 1 <= self.keys_per_request <= MAX_KEYS_PER_REQUEST:
            raise ConfigError(
                f"plex keys per request: expected 1..{MAX_KEYS_PER_REQUEST}, got {self.keys_per_request!r}"
            )
        if self.max_body_bytes is not None and self.max_body_bytes < 1:
            raise ConfigError(f"plex body cap: expected a positive number of bytes, got {self.max_body_bytes!r}")

    @property
    def body_cap(self) -> int:
        """The most bytes read from one answer."""
        if self.max_body_bytes is not None:
            return self.max_body_bytes
        return _BODY_FLOOR + max(self.chunk_size, self.keys_per_request) * _BODY_PER_ITEM

    def __repr__(self) -> str:
        return (
            f"PlexSettings(url={mask_url(self.url)!r}, token={mask(self.token)!r}, libraries={self.libraries!r}, "
            f"chunk_size={self.chunk_size}, timeout={self.timeout}, retries={self.retries}, "
            f"max_body_bytes={self.max_body_bytes}, keys_per_request={self.keys_per_request})"
        )

    __str__ = __repr__


#: Called with a one-line reason each time a request is about to be tried again.
RetryHook = Callable[[str], None]


class _Retry(Retry):
    """urllib3 ``Retry`` that caps ``Retry-After``, leaves timed-out requests to the caller,
    and tells ``on_retry`` about each retry.

    A capped ``Retry-After`` keeps a bad header from stalling a worker. A read
    timeout is raised at once, as urllib3 does with retries off: the load
    retries the page, so retrying here too would multiply the waiting.
    urllib3 calls :meth:`increment` after every failed attempt; it raises once
    the retries are spent, so a call that returns is a retry about to happen.
    """

    on_retry: RetryHook | None = None

    def new(self, **kw):  # type: ignore[no-untyped-def]
        retry = super().new(**kw)
        retry.on_retry = self.on_retry  # urllib3 copies only its own fields
        return retry

    def get_retry_after(self, response):  # type: ignore[no-untyped-def]
        value = super().get_retry_after(response)
        return None if value is None else min(value, _MAX_RETRY_AFTER)

    def increment(  # type: ignore[no-untyped-def]
        self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None
    ):
        if isinstance(error, ReadTimeoutError):
            raise error.with_traceback(_stacktrace)
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if self.on_retry is not None:
            self.on_retry(_retry_reason(response, error))
        return retry


def _retry_reason(response, error: Exception | None) -> str:  # type: ignore[no-untyped-def]
    # No URL: the request's query is ours, but a proxy or redirect could add anything.
    if error is not None:
        return f"Plex request failed ({type(error).__name__}); retrying"
    status = getattr(response, "status", None)
    return f"Plex answered {status}; retrying" if status else "Plex request failed; retrying"


def build_session(
    settings: PlexSettings,
    *,
    pool_size: int = 32,
    backoff_factor: float = 0.25,
    on_retry: RetryHook | None = None,
) -> requests.Session:
    """A ``requests`` session that retries 429/5xx and connection errors with backoff.

    Waits grow as ``backoff_factor * 2**n`` seconds (capped at 8 s, with
    jitter); ``Retry-After`` is honoured (capped at a minute). After the last
    retry the final response is returned, for the source to describe. A read
    timeout is not retried (see :class:`_Retry`). Loopback URLs ignore proxy
    variables: a corporate ``HTTP_PROXY`` must not swallow requests to 127.0.0.1.
    ``on_retry`` is told about every retry as it happens (from the thread making the request).
    """
    session = requests.Session()
    if is_loopback(settings.url):
        session.trust_env = False
    retry = _Retry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        other=0,
        backoff_factor=backoff_factor,
        backoff_max=8.0,
        backoff_jitter=0.1,
        status_forcelist=_RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.on_retry = on_retry
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session

