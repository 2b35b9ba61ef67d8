"""Talking HTTP to Plex: where the server is, and a session that retries what a retry can fix."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..config.settings import default_of
from ..errors import ConfigError
from ..net import is_loopback
from ..secrets import mask, mask_url

#: Statuses worth another try at the HTTP layer.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Longest ``Retry-After`` we obey; a server asking for an hour is broken.
_MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class PlexSettings:
    """How to reach Plex and how to page through it.

    ``libraries`` names the sections to load (all movie and show sections when
    empty); ``chunk_size`` is the page size; ``retries`` bounds the HTTP-level
    retries of each request (429/5xx/connection errors) and ``timeout`` is the
    per-request timeout in seconds.
    """

    url: str
    token: str | None
    libraries: tuple[str, ...] = ()
    chunk_size: int = default_of("ingest_batch_size")
    timeout: float = default_of("plex_timeout")
    retries: int = 4

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

    def __repr__(self) -> str:
        return (
            f"PlexSettings(url={mask_url(self.url)!r}, token={mask(self.token)!r}, libraries={self.libraries!r}, "
            f"chunk_size={self.chunk_size}, timeout={self.timeout}, retries={self.retries})"
        )

    __str__ = __repr__


#: Called with a one-line reason each time a request is about to be tried again.
RetryHook = Callable[[str], None]


class _Retry(Retry):
    """urllib3 ``Retry`` that caps ``Retry-After`` and tells ``on_retry`` about each retry.

    urllib3 calls :meth:`increment` after every failed attempt; it raises once
    the retries are spent, so a call that returns is a retry about to happen.
    """

    on_retry: RetryHook | None = None

    def new(self, **kw):  # type: ignore[no-untyped-def]
        retry = super().new(**kw)
        retry.on_retry = self.on_retry  # urllib3 copies only its own fields
        return retry

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # type: ignore[no-untyped-def]
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if self.on_retry is not None:
            self.on_retry(_retry_reason(response, error))
        return retry

    def get_retry_after(self, response):  # type: ignore[no-untyped-def]
        value = super().get_retry_after(response)
        return None if value is None else min(value, _MAX_RETRY_AFTER)


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
    jitter); ``Retry-After`` is honoured (capped at a minute). After the last retry the
    final response is handed to plexapi, which turns its status into an
    exception we translate. Loopback URLs ignore proxy variables: a corporate
    ``HTTP_PROXY`` must not swallow requests to 127.0.0.1. ``on_retry`` is told
    about every retry as it happens (from the thread making the request).
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


def reason(exc: BaseException) -> str:
    """A one-line reason for an exception, without urllib3's nested noise."""
    text = str(exc).replace("\n", " ").strip() or type(exc).__name__
    # requests wraps urllib3's MaxRetryError: keep the innermost cause.
    match = re.search(r"\(Caused by (\w+\(.*\))\)\s*$", text)
    if match:
        text = match.group(1)
    return text[:300]
