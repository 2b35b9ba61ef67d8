"""The control API of a running service, as typed calls (httpx).

:class:`ControlClient` speaks the routes the README tables under ``serve`` →
*Control API*; every answer is rebuilt into the service's own typed shapes by
:mod:`plex_loader_tui.service.wire`, so an attached dashboard renders what the
service holds. The controls a key press triggers (pause, a stage's workers)
are blocking calls with a short timeout: the dashboard shows a refusal at once,
in the API's words, the way it shows an in-process refusal. The event stream
and search are async, on the dashboard's loop.

Failures fall in three kinds: :class:`ServiceUnreachable` and
:class:`TokenRefused` (fatal: exit 3, or the dashboard's fatal screen),
:class:`Refused` (a ``ValueError``: the API said no, with its message).
The token travels only in the ``Authorization`` header; no message here
quotes it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from ..config import StageConfig
from ..errors import FatalError
from ..printable import one_line
from ..search import SearchHit
from ..service import wire
from ..service.controls import FailurePage, ServiceStatus
from .sse import EventParser

log = logging.getLogger(__name__)

API = "/api/v1"
#: Seconds a control call (a key press) may take before the dashboard says the service did not answer.
CONTROL_TIMEOUT = 5.0
#: Seconds to set up a connection; the event stream itself may stay quiet for as long as it likes.
CONNECT_TIMEOUT = 3.0
#: Seconds a search may take (the service embeds the query first).
SEARCH_TIMEOUT = 30.0
#: Status messages per second the attached dashboard asks for (its own refresh rate).
EVENTS_HZ = 4


class ServiceUnreachable(FatalError):
    """Nothing answers at the URL (refused, timed out, not HTTP)."""


class TokenRefused(FatalError):
    """The service answered 401: the token is wrong or missing."""


class NotOurService(FatalError):
    """Something answered that is not this program's control API (wrong version, not JSON)."""


class Refused(ValueError):
    """The API refused a control (400 bad value, 404 unknown stage, 409 not now); ``str()`` is its message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _short(text: object, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (an answer may carry anything)."""
    line = one_line(text)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in str(exc).lower() else f"cannot connect ({_short(exc, 80)})"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return _short(str(exc) or type(exc).__name__, 120)


class ControlClient:
    """One service's control API at ``base_url`` (``http://127.0.0.1:8765``), with ``token``."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._sync = httpx.Client(base_url=self.base_url, headers=headers,
                                  timeout=httpx.Timeout(CONTROL_TIMEOUT, connect=CONNECT_TIMEOUT))
        self._async = httpx.AsyncClient(base_url=self.base_url, headers=headers,
                                        timeout=httpx.Timeout(CONTROL_TIMEOUT, connect=CONNECT_TIMEOUT))

    def __repr__(self) -> str:  # never the headers
        return f"ControlClient({self.base_url!r})"

    # ------------------------------------------------------------ answers
    def _answer(self, response: httpx.Response) -> Any:
        if response.status_code == 401:
            raise TokenRefused(
                f"the service at {self.base_url} refused the control token (401): give the one it uses in "
                "PLEX_LOADER_CONTROL_TOKEN, or the same --config-dir (its control-token file)"
            )
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise NotOurService(
                f"{self.base_url} answered {response.status_code} with something that is not JSON: "
                "is it a plex-loader-tui serve control API?"
            ) from None
        if response.status_code >= 400:
            message = body.get("error") if isinstance(body, Mapping) else None
            message = _short(message or f"HTTP {response.status_code}", 300)
            if response.status_code >= 500:
                raise Refused(response.status_code, f"the service failed: {message}")
            raise Refused(response.status_code, message)
        return body

    def _unreachable(self, exc: httpx.HTTPError) -> ServiceUnreachable:
        return ServiceUnreachable(f"cannot reach the service at {self.base_url}: {_reason(exc)} "
                                  "(is plex-loader-tui serve running there?)")

    def _wire(self, read: Any, body: Any) -> Any:
        try:
            return read(body)
        except wire.WireError as exc:
            raise NotOurService(f"{self.base_url}: unexpected answer: {exc}") from None

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._sync.request(method, f"{API}{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        return self._answer(response)

    async def _acall(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._async.request(method, f"{API}{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        return self._answer(response)

    # ------------------------------------------------------------ blocking controls
    def status(self) -> ServiceStatus:
        return self._wire(wire.status_from_json, self._call("GET", "/status"))

    def action(self, name: str) -> ServiceStatus:
        """``POST /api/v1/<name>``: pause, resume, drain, sync, retry-failed; the status after it."""
        return self._wire(wire.status_from_json, self._call("POST", f"/{name}"))

    def set_stage(self, stage: str, *, workers: int | None = None, batch_size: int | None = None) -> StageConfig:
        body = {k: v for k, v in (("workers", workers), ("batch_size", batch_size)) if v is not None}
        answer = self._call("PUT", f"/stages/{stage}", json=body)
        return self._wire(wire.stage_config_from_json, answer)

    def failures(self, limit: int = 50, offset: int = 0) -> FailurePage:
        answer = self._call("GET", "/failures", params={"limit": limit, "offset": offset})
        return self._wire(wire.failures_from_json, answer)

    # ------------------------------------------------------------ async
    async def astatus(self) -> ServiceStatus:
        return self._wire(wire.status_from_json, await self._acall("GET", "/status"))

    async def afailures(self, limit: int = 50, offset: int = 0) -> FailurePage:
        answer = await self._acall("GET", "/failures", params={"limit": limit, "offset": offset})
        return self._wire(wire.failures_from_json, answer)

    async def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        answer = await self._acall("GET", "/search", params={"q": query, "limit": limit}, timeout=SEARCH_TIMEOUT)
        return self._wire(wire.hits_from_json, answer)

    async def events(self, hz: int = EVENTS_HZ) -> AsyncIterator[ServiceStatus]:
        """The service's status, ``hz`` times a second, until the stream ends (the service stopped).

        Raises :class:`ServiceUnreachable` when it cannot connect or the connection
        breaks, :class:`TokenRefused` on 401.
        """
        parser = EventParser()
        timeout = httpx.Timeout(CONTROL_TIMEOUT, connect=CONNECT_TIMEOUT, read=max(5.0, 10 / hz))
        try:
            async with self._async.stream("GET", f"{API}/events", params={"hz": hz}, timeout=timeout,
                                          headers={"Accept": "text/event-stream"}) as response:
                if response.status_code != 200:
                    await response.aread()
                    self._answer(response)
                    raise NotOurService(f"{self.base_url}: the event stream answered {response.status_code}")
                async for text in response.aiter_text():
                    for event in parser.feed(text):
                        if event.event == "status":
                            yield self._wire(lambda data: wire.status_from_json(_json(data)), event.data)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None

    # ------------------------------------------------------------ life
    def close(self) -> None:
        self._sync.close()

    async def aclose(self) -> None:
        self._sync.close()
        await self._async.aclose()


def _json(data: str) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError:
        raise wire.WireError("an event's data is not JSON") from None
