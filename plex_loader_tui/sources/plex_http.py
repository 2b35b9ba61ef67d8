"""Talking HTTP to Plex: where the server is, and a session that retries what a retry can fix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..answers import describe_answer, media_type
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


class UnexpectedAnswer(Exception):
    """The server at the Plex URL answered with an error status or with something that is not XML.

    Raised by the session itself (a response hook), before plexapi would put the
    whole body (a proxy's HTML error page, say) into its exception's message.
    ``str()`` says what came back: status, content type, size.
    """

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status


def refuse_unexpected_answers(response: requests.Response, *args: object, **kwargs: object) -> requests.Response:
    """Response hook: let Plex XML (and redirects, empty answers) through; raise for the rest."""
    status = response.status_code
    if 300 <= status < 400:  # requests follows redirects after the hooks ran
        return response
    content_type = response.headers.get("Content-Type")
    kind = media_type(content_type)
    if status in (200, 201, 204) and (not kind or "xml" in kind or not response.content):
        return response
    raise UnexpectedAnswer(status, describe_answer(status, content_type, response.content))


class _Retry(Retry):
    """urllib3 ``Retry`` that caps ``Retry-After`` so a bad header cannot stall a worker."""

    def get_retry_after(self, response):  # type: ignore[no-untyped-def]
        value = super().get_retry_after(response)
        return None if value is None else min(value, _MAX_RETRY_AFTER)


def build_session(settings: PlexSettings, *, pool_size: int = 32, backoff_factor: float = 0.25) -> requests.Session:
    """A ``requests`` session that retries 429/5xx and connection errors with backoff.

    Waits grow as ``backoff_factor * 2**n`` seconds (capped at 8 s, with
    jitter); ``Retry-After`` is honoured (capped at a minute). After the last retry an
    error status, or an answer that is not XML, raises :class:`UnexpectedAnswer`
    (which describes the answer instead of quoting it). Loopback URLs ignore proxy variables: a corporate
    ``HTTP_PROXY`` must not swallow requests to 127.0.0.1.
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
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.hooks["response"].append(refuse_unexpected_answers)
    return session


def reason(exc: BaseException) -> str:
    """A one-line reason for an exception, without urllib3's nested noise."""
    text = str(exc).replace("\n", " ").strip() or type(exc).__name__
    # requests wraps urllib3's MaxRetryError: keep the innermost cause.
    match = re.search(r"\(Caused by (\w+\(.*\))\)\s*$", text)
    if match:
        text = match.group(1)
    return text[:300]
