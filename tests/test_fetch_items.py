"""PlexSource.fetch_items: many rating keys in a few /library/metadata requests, against the demo server."""

from __future__ import annotations

import asyncio
import dataclasses
import math

import pytest

from plex_loader_tui.demo import DemoLibrary, DemoServer
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.sources.change_batcher import ChangeBatcher
from plex_loader_tui.sources.plex import PlexSource
from plex_loader_tui.sources.plex_http import KEYS_PER_REQUEST, PlexSettings
from plex_loader_tui.sources.plex_watch import Backoff, PlexWatcher


@pytest.fixture(scope="module")
def server():
    with DemoServer(DemoLibrary.generate(seed=7, size=450)) as s:
        yield s


def _source(server: DemoServer, **kw) -> PlexSource:
    source = PlexSource(PlexSettings(server.url, server.token, **kw))
    source.plan()  # as a service does at start: the shows' TMDb ids are known then
    return source


def _metadata_requests(server: DemoServer) -> int:
    return server.count("plex", "/library/metadata/")


def test_many_keys_cost_one_request_per_hundred_and_unknown_keys_are_absent(server: DemoServer):
    source = _source(server)
    keys = [str(m.rating_key) for m in server.library.movies()] + [str(e.rating_key) for e in server.library.episodes()]
    unknown = ["999991", "999992"]
    server.reset_log()
    found = source.fetch_items(keys[:200] + unknown + keys[200:])
    assert _metadata_requests(server) == math.ceil((len(keys) + 2) / KEYS_PER_REQUEST) == 5
    assert sorted(f.item.rating_key for f in found) == sorted(keys)
    sections = {f.item.rating_key: f.section_key for f in found}
    assert {sections[str(m.rating_key)] for m in server.library.movies()} == {"1"}
    assert {sections[str(e.rating_key)] for e in server.library.episodes()} == {"2"}
    server.reset_log()
    assert source.fetch_items(unknown) == [] and _metadata_requests(server) == 1  # Plex answers 404


def test_items_read_by_key_match_the_listing_except_the_full_cast(server: DemoServer):
    source = _source(server)
    plan = source.plan()
    listed = {i.rating_key: i for page in plan.pages for i in source.fetch_page(page)}
    fetched = {f.item.rating_key: f.item for f in source.fetch_items(list(listed))}
    assert fetched.keys() == listed.keys()
    for key, item in listed.items():
        assert dataclasses.replace(fetched[key], actors=item.actors) == item
        assert fetched[key].actors[: len(item.actors)] == item.actors  # a listing shows the first three


def test_keys_per_request_is_a_setting(server: DemoServer):
    keys = [str(m.rating_key) for m in server.library.movies()][:50]
    source = _source(server, keys_per_request=7)
    server.reset_log()
    assert len(source.fetch_items(keys)) == 50
    assert _metadata_requests(server) == 8
    with pytest.raises(ConfigError, match="keys per request"):
        PlexSettings(server.url, server.token, keys_per_request=501)
    with pytest.raises(ValueError, match="whole numbers"):
        source.fetch_items(["12/../34"])


async def test_a_burst_of_2000_changes_costs_a_handful_of_plex_requests():
    """Demo → notifications → PlexWatcher → ChangeBatcher → fetch_items, over real sockets."""
    with DemoServer(DemoLibrary.generate(seed=11, size=2_100)) as server:
        source = _source(server)
        loop = asyncio.get_running_loop()
        batcher = ChangeBatcher(quiet=0.5, max_delay=5.0, max_batch=1_000)
        watcher = PlexWatcher(server.url, server.token, lambda c: loop.call_soon_threadsafe(batcher.add, c),
                              backoff=Backoff(base=0.05, cap=0.2))
        with watcher:
            assert await loop.run_in_executor(None, watcher.wait_connected, 20)
            keys = [m.rating_key for m in server.library.movies()] + [e.rating_key for e in server.library.episodes()]
            keys = keys[:2_000]
            # The scan: each item is touched once, in bursts of 100 (200 timeline entries each).
            for start in range(0, len(keys), 100):
                await loop.run_in_executor(None, server.touch_items, keys[start : start + 100])
            server.reset_log()
            seen: set[str] = set()
            batches = 0
            while len(seen) < len(keys):
                batch = await asyncio.wait_for(batcher.next_batch(), 60)
                batches += 1
                found = await loop.run_in_executor(None, source.fetch_items, [c.rating_key for c in batch.changed])
                seen.update(f.item.rating_key for f in found)
        assert seen == {str(k) for k in keys}
        assert batcher.added == 2_000 and watcher.counters().events_received == 2_000
        requests = _metadata_requests(server)
        # ceil(keys in each batch / 100) summed: 20 when the batches split at multiples of 100.
        print(f"\n2,000 changes: {batches} batches, {requests} metadata requests")
        assert requests <= 20 + batches and batches <= 4, (requests, batches)
