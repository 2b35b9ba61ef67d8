"""A real sync service for end-to-end tests: the demo server, embedded Qdrant, the control API.

:func:`running_service` starts :class:`~plex_loader_tui.service.sync.SyncService`
in-process against a :class:`~plex_loader_tui.demo.server.DemoServer` the test
owns, with its control API on a free loopback port, and waits for the startup
sync. :class:`Syncs` records every finished sync (the service's ``on_sync``)
and lets a test wait for one with a bounded timeout, on an event, never a sleep.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from plex_loader_tui.config import RunConfig, resolve_config
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.settings import demo_settings
from plex_loader_tui.service.api import make_app
from plex_loader_tui.service.controls import SyncKind, SyncRecord
from plex_loader_tui.service.listen import listen_plan
from plex_loader_tui.service.server import start_api
from plex_loader_tui.service.sync import SyncService
from store_support import EmbeddedStore

TOKEN = "e2e-control-token-0123456789abcdef"
#: The longest any single wait of these tests may take (a loaded machine is slow, never this slow).
WAIT = 120.0


def service_config(server: DemoServer, data_dir: Path, **overrides: Any) -> RunConfig:
    values = {**demo_settings(server), "data_dir": str(data_dir), "config_dir": str(data_dir / "cfg"),
              "no_ui": True, "listen": "127.0.0.1:0"}
    values.update(overrides)
    return resolve_config(values, environ={})


async def until(condition: Callable[[], bool], timeout: float = WAIT, what: str = "the condition") -> None:
    """Poll ``condition`` on the loop (for figures only a status shows), with a deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@dataclass
class Syncs:
    """Every sync the service finished, and a way to wait for the next that matches."""

    records: list[SyncRecord] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, record: SyncRecord) -> None:
        self.records.append(record)
        self._changed.set()

    def of(self, kind: SyncKind) -> list[SyncRecord]:
        return [r for r in self.records if r.kind == kind]

    async def wait(self, match: Callable[[SyncRecord], bool], *, after: int = 0,
                   timeout: float = WAIT) -> SyncRecord:
        """The first record from index ``after`` on that ``match``es."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.records[after:]:
                if match(record):
                    return record
            left = deadline - time.monotonic()
            assert left > 0, f"no matching sync within {timeout:.0f} s; saw {self.records[after:]}"
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                pass


@dataclass
class Running:
    """A running service, its API's base URL and an authorised HTTP client."""

    service: SyncService
    syncs: Syncs
    url: str
    http: aiohttp.ClientSession
    task: asyncio.Task[None]

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.http.request(method, self.url + path, **kwargs) as answer:
            if answer.content_type == "application/json":
                return answer.status, await answer.json()
            return answer.status, await answer.text()

    async def hits(self, query: str, limit: int = 10) -> list[dict[str, Any]]:
        status, body = await self.call("GET", "/api/v1/search", params={"q": query, "limit": str(limit)})
        assert status == 200, body
        return body["hits"]


@asynccontextmanager
async def running_service(config: RunConfig, *, wait_startup: bool = True) -> AsyncIterator[Running]:
    """The service open and running (its startup sync finished), drained on the way out."""
    service = SyncService(config)
    syncs = Syncs()
    service.on_sync = syncs
    api = await start_api(make_app(service, token=TOKEN, metrics_public=False), listen_plan(config))
    http = aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"})
    task: asyncio.Task[None] | None = None
    try:
        await service.open()
        task = asyncio.get_running_loop().create_task(service.run())
        running = Running(service, syncs, api.url, http, task)
        if wait_startup:
            await syncs.wait(lambda r: r.kind == SyncKind.STARTUP)
        yield running
    finally:
        if task is not None:
            if not service.stopping:
                service.drain()
            await asyncio.wait_for(task, WAIT)
        else:
            await service.session.close()
        await http.close()
        await api.stop()


def points(qdrant_path: Path, collection: str = "media-items") -> dict[str, dict[str, Any]]:
    """Every point of the collection, whichever engine wrote the folder (the store must not be held by a service)."""
    with EmbeddedStore(qdrant_path) as store:
        return store.payloads(collection)


def rating_keys(hits: Sequence[dict[str, Any]]) -> set[str]:
    return {str(h["payload"].get("rating_key")) for h in hits}
