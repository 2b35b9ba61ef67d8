"""TMDb and IMDb failing in ways that used to pass as success: huge bodies, wrong-shape JSON, long Retry-After.

Served by the demo server's fault modes on loopback, read by the real
enricher (httpx, SQLite cache). Every failed lookup must leave the item
without that service's data, with the service and a groupable reason on it,
and never be cached as an answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.source_items import episode_source_item, movie_source_item
from plex_loader_tui.enrich import Enricher, ServicePause
from plex_loader_tui.enrich.circuit import Circuit, short_duration
from plex_loader_tui.enrich.settings import MAX_BODY_BYTES, MAX_RETRY_AFTER
from plex_loader_tui.pipeline import StageStatus

from enrich_support import TMDB_KEY, FirstN, episodes_of_show, modern_movies, settings_for, show_with

REPO = Path(__file__).resolve().parents[1]
HOUR = 3600
PAUSED = f"rate-limited, retry later (Retry-After {HOUR} s)"


@pytest.fixture(scope="module")
def library() -> DemoLibrary:
    return DemoLibrary.generate(seed=7, size=120)


@pytest.fixture(scope="module")
def shared(library: DemoLibrary) -> Iterator[DemoServer]:
    with DemoServer(library, tmdb_api_key=TMDB_KEY) as demo:
        yield demo


@pytest.fixture
def server(shared: DemoServer) -> Iterator[DemoServer]:
    """The module's demo server with no faults and an empty request log."""
    for service in ("tmdb", "imdb"):
        shared.set_faults(service)
    shared.reset_log()
    yield shared
    for service in ("tmdb", "imdb"):
        shared.set_faults(service)


def test_the_limits_are_the_documented_ones() -> None:
    assert MAX_BODY_BYTES == 2 * 1024 * 1024
    assert MAX_RETRY_AFTER == 120.0


# ----------------------------------------------------------------------------- huge bodies


@pytest.mark.parametrize("service", ["tmdb", "imdb"])
async def test_a_body_over_the_limit_fails_the_lookup_and_is_not_cached(
    server: DemoServer, library: DemoLibrary, service: str, tmp_path: Path
) -> None:
    # A little over the limit: a valid JSON object if read to the end, so only the limit stops it.
    server.set_faults(service, huge_rate=1.0, huge_bytes=MAX_BODY_BYTES + 64 * 1024)
    movies = modern_movies(library)[:3]
    items = [movie_source_item(m) for m in movies]
    settings = settings_for(server, cache_path=tmp_path / "cache.sqlite3")
    async with Enricher(settings) as enricher:
        out = await enricher.enrich(items)
        assert enricher.stats.failed_requests >= 1
    other = "imdb" if service == "tmdb" else "tmdb"
    for o in out:
        assert getattr(o, service) is None and getattr(o, other) is not None
        [error] = o.errors
        assert (error.service, error.reason) == (service, "body over 2 MB")
        assert "body over 2 MB" in error.message and TMDB_KEY not in error.message
    # Not retried: the same request would get the same answer.
    expected = len(movies) if service == "tmdb" else 1  # IMDb asks for up to 5 ids at once
    assert server.count(service) == expected

    # Nothing of it was cached: once the service answers properly, the items get their data.
    server.set_faults(service)
    async with Enricher(settings) as enricher:
        again = await enricher.enrich(items)
    assert all(o.errors == () and o.tmdb is not None and o.imdb is not None for o in again)


def test_peak_memory_stays_flat_with_200_mb_bodies() -> None:
    """RSS growth while TMDb and IMDb both send 200 MB answers, in a process of its own."""
    script = r"""
import asyncio, json, resource
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.source_items import movie_source_item
from plex_loader_tui.enrich import Enricher, EnrichSettings

def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

async def main():
    library = DemoLibrary.generate(seed=7, size=60)
    items = [movie_source_item(m) for m in library.movies() if m.guids
             and m.tmdb_id not in library.tmdb_missing and m.imdb_id not in library.imdb_missing][:4]
    with DemoServer(library, tmdb_api_key="k") as server:
        settings = EnrichSettings(tmdb_api_key="k", tmdb_base_url=server.tmdb_url, imdb_base_url=server.imdb_url,
                                  tmdb_rate=1000.0, imdb_rate=1000.0, timeout=30.0, attempts=1)
        async with Enricher(settings) as enricher:
            await enricher.enrich(items[:1])
            before = peak_kib()
            for service in ("tmdb", "imdb"):
                server.set_faults(service, huge_rate=1.0, huge_bytes=200 * 1024 * 1024)
            out = await enricher.enrich(items)
            after = peak_kib()
    print(json.dumps({"growth_kib": after - before, "reasons": sorted({e.reason for o in out for e in o.errors}),
                      "items": len(out)}))

asyncio.run(main())
"""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["items"] == 4 and result["reasons"] == ["body over 2 MB"]
    # Linux reports ru_maxrss in KiB. Two 200 MB bodies read whole took over 2 GB.
    assert result["growth_kib"] < 100 * 1024, f"peak RSS grew {result['growth_kib'] / 1024:.0f} MiB"


# ----------------------------------------------------------------------------- wrong shape


async def test_a_tmdb_movie_answer_without_an_id_is_a_failed_lookup(
    server: DemoServer, library: DemoLibrary, tmp_path: Path
) -> None:
    server.set_faults("tmdb", wrong_shape_paths=r"^/movie/")
    movies = modern_movies(library)[:2]
    items = [movie_source_item(m) for m in movies]
    settings = settings_for(server, cache_path=tmp_path / "cache.sqlite3")
    async with Enricher(settings) as enricher:
        out = await enricher.enrich(items)
    for o in out:
        assert o.tmdb is None and o.imdb is not None
        assert [(e.service, e.reason) for e in o.errors] == [("tmdb", "answer without an id")]
    assert server.count("tmdb", "/movie/") == len(movies)  # not retried

    server.set_faults("tmdb")
    async with Enricher(settings) as enricher:
        again = await enricher.enrich(items)
    assert all(o.errors == () and o.tmdb is not None for o in again)


async def test_a_tmdb_show_answer_of_the_wrong_shape_fails_its_episodes(
    server: DemoServer, library: DemoLibrary
) -> None:
    show_key = show_with(library, modern=True, min_episodes=3)
    episodes = [episode_source_item(library, e) for e in episodes_of_show(library, show_key)[:3]]
    server.set_faults("tmdb", wrong_shape_paths=r"^/tv/")
    async with Enricher(settings_for(server)) as enricher:
        out = await enricher.enrich(episodes)
    for o in out:
        assert o.tmdb is None
        assert [(e.service, e.reason) for e in o.errors if e.service == "tmdb"] == [("tmdb", "answer without an id")]


async def test_an_imdb_answer_without_titles_is_a_failed_lookup_not_unknown_ids(
    server: DemoServer, library: DemoLibrary, tmp_path: Path
) -> None:
    server.set_faults("imdb", wrong_shape_rate=1.0)
    items = [movie_source_item(m) for m in modern_movies(library)[:3]]
    settings = settings_for(server, cache_path=tmp_path / "cache.sqlite3")
    async with Enricher(settings) as enricher:
        out = await enricher.enrich(items)
    for o in out:
        assert o.imdb is None and o.tmdb is not None
        [error] = o.errors
        assert (error.service, error.reason) == ("imdb", "answer without a titles list")
        assert "IMDb sent an answer without a titles list at" in error.message

    # Before, the ids were cached as unknown to IMDb for the cache's lifetime.
    server.set_faults("imdb")
    async with Enricher(settings) as enricher:
        again = await enricher.enrich(items)
    assert all(o.errors == () and o.imdb is not None for o in again)


# ----------------------------------------------------------------------------- long Retry-After


@pytest.mark.timeout(60)  # far below the hour asked for: the test cannot pass by waiting it out
async def test_a_long_retry_after_pauses_the_service_and_its_lookups_fail_fast(
    server: DemoServer, library: DemoLibrary
) -> None:
    server.set_faults("tmdb", throttle_rate=1.0, retry_after=HOUR)
    movies = modern_movies(library)[:12]
    async with Enricher(settings_for(server)) as enricher:
        first = await enricher.enrich([movie_source_item(m) for m in movies[:6]])
        later = await enricher.enrich([movie_source_item(m) for m in movies[6:]])
        [pause] = enricher.pauses()
        status = enricher.status()
        stage = enricher.stage_status()
    for o in first + later:
        assert o.tmdb is None and o.imdb is not None  # IMDb is not paused
        [error] = o.errors
        assert (error.service, error.reason) == ("tmdb", PAUSED)
        assert PAUSED in error.message
    # One 429 opened the circuit; every later lookup failed without a request.
    assert server.count("tmdb") == 1
    assert pause == ServicePause("tmdb", float(HOUR), pause.resumes_in) and 0 < pause.resumes_in <= HOUR
    assert status == "tmdb paused: Retry-After 1h"
    assert stage == StageStatus(rate_limited=True, detail="tmdb paused: Retry-After 1h")


async def test_a_short_retry_after_is_waited_for_and_the_item_enriched(
    server: DemoServer, library: DemoLibrary
) -> None:
    server.set_faults("tmdb", throttle_paths=FirstN(1), retry_after=1)
    m = modern_movies(library)[0]
    async with Enricher(settings_for(server)) as enricher:
        [out] = await enricher.enrich([movie_source_item(m)])
        assert enricher.pauses() == []
    assert out.errors == () and out.tmdb is not None
    assert [r.status for r in server.requests if r.service == "tmdb"] == [429, 200]


async def test_lookups_resume_once_the_retry_after_has_passed(server: DemoServer, library: DemoLibrary) -> None:
    now = [1000.0]
    server.set_faults("tmdb", throttle_paths=FirstN(1), retry_after=HOUR)
    movies = modern_movies(library)[:2]
    async with Enricher(settings_for(server)) as enricher:
        assert enricher.tmdb is not None
        # The service's own circuit, on a clock the test moves instead of waiting an hour.
        enricher.tmdb.circuit = Circuit("tmdb", clock=lambda: now[0])
        [paused] = await enricher.enrich([movie_source_item(movies[0])])
        assert [e.reason for e in paused.errors] == [PAUSED]
        now[0] += HOUR - 1
        [still] = await enricher.enrich([movie_source_item(movies[1])])
        assert [e.reason for e in still.errors] == [PAUSED]
        assert server.count("tmdb") == 1
        now[0] += 2
        assert enricher.pauses() == [] and enricher.status() is None
        [resumed] = await enricher.enrich([movie_source_item(movies[1])])
    assert resumed.errors == () and resumed.tmdb is not None
    assert server.count("tmdb") == 2


def test_circuit_reports_its_pause_and_closes_by_itself() -> None:
    now = [0.0]
    circuit = Circuit("imdb", clock=lambda: now[0])
    assert not circuit.is_open and circuit.pause() is None
    assert circuit.open(5400.0) is True
    assert circuit.open(600.0) is False  # already open; a shorter one does not shorten it
    now[0] = 600.0
    pause = circuit.pause()
    assert pause == ServicePause("imdb", 5400.0, 4800.0)
    assert pause.note == "imdb paused: Retry-After 1h30m"
    now[0] = 5400.0
    assert not circuit.is_open and circuit.pause() is None


@pytest.mark.parametrize(
    ("seconds", "text"), [(3600, "1h"), (5400, "1h30m"), (150, "2m30s"), (45, "45s"), (0, "0s"), (86400, "24h")]
)
def test_short_duration(seconds: float, text: str) -> None:
    assert short_duration(seconds) == text
