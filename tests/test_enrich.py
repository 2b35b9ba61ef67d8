"""The enrichment stage against the demo TMDb/IMDb server on loopback (real httpx, real SQLite)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.source_items import episode_source_item, movie_source_item
from plex_loader_tui.enrich import (
    Enricher,
    EnrichSettings,
    RateLimiter,
    ResponseCache,
    TmdbAuthError,
    request_key,
)
from plex_loader_tui.enrich.mapping import (
    imdb_title_info,
    tmdb_episode_info,
    tmdb_movie_info,
)
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.models import EnrichedItem, Person, SourceItem
from plex_loader_tui.pipeline.errors import FatalError
from plex_loader_tui.secrets import mask

from enrich_support import TMDB_KEY, FirstN, episodes_of_show, modern_movies, settings_for, show_with

# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def library() -> DemoLibrary:
    return DemoLibrary.generate(seed=7, size=300)


@pytest.fixture
def server(library: DemoLibrary) -> Iterator[DemoServer]:
    with DemoServer(library, tmdb_api_key=TMDB_KEY) as demo:
        yield demo


# ----------------------------------------------------------------------------- fields


async def test_movie_gets_tmdb_and_imdb_fields(server: DemoServer, library: DemoLibrary) -> None:
    m = next(m for m in modern_movies(library) if len(m.cast) > 1 and m.tagline)
    async with Enricher(settings_for(server)) as enricher:
        [out] = await enricher.enrich([movie_source_item(m)])
    assert out.errors == ()
    assert out.source == movie_source_item(m)
    tmdb = out.tmdb
    assert tmdb is not None
    assert tmdb.tmdb_id == m.tmdb_id
    assert tmdb.overview == m.external.tmdb_overview
    assert tmdb.tagline == m.tagline
    assert tmdb.genres == m.genres
    assert tmdb.release_date == m.released
    assert tmdb.runtime == m.external.runtime_min
    assert tmdb.vote_average == m.external.vote_average
    assert tmdb.cast == tuple(Person(c.name, c.character) for c in m.cast[:10])
    assert tmdb.directors == m.directors
    assert tmdb.writers == m.writers
    imdb = out.imdb
    assert imdb is not None
    assert imdb.imdb_id == m.imdb_id
    assert imdb.plot == m.external.imdb_plot
    assert imdb.rating == m.external.imdb_rating
    assert imdb.vote_count == m.external.imdb_votes
    assert imdb.genres == m.genres


async def test_episode_gets_its_own_fields_and_its_show_context(server: DemoServer, library: DemoLibrary) -> None:
    show_key = show_with(library, modern=True, min_episodes=3)
    show = library.show(show_key)
    assert show is not None
    e = next(e for e in episodes_of_show(library, show_key) if e.imdb_id not in library.imdb_missing)
    async with Enricher(settings_for(server)) as enricher:
        [out] = await enricher.enrich([episode_source_item(library, e)])
    assert out.errors == ()
    tmdb = out.tmdb
    assert tmdb is not None
    assert tmdb.tmdb_id == e.tmdb_id
    assert tmdb.overview == e.external.tmdb_overview
    assert tmdb.release_date == e.aired
    assert tmdb.runtime == e.external.runtime_min
    assert tmdb.vote_average == e.external.vote_average
    assert tmdb.genres == show.genres  # from the show
    assert tmdb.directors == e.directors
    assert tmdb.writers == e.writers
    # The show's regular cast first, then the episode's guest stars, at most 10.
    expected: dict[str, Person] = {}
    for c in (*show.cast, *e.guests):
        expected.setdefault(c.name, Person(c.name, c.character))
    assert tmdb.cast == tuple(expected.values())[:10]
    assert out.imdb is not None and out.imdb.plot == e.external.imdb_plot


async def test_items_without_ids_and_unknown_ids_pass_through_without_errors(
    server: DemoServer, library: DemoLibrary
) -> None:
    no_ids = next(m for m in library.movies() if not m.visible_ids)
    tmdb_404 = next(m for m in library.movies() if m.guids and m.tmdb_id in library.tmdb_missing)
    imdb_404 = next(m for m in library.movies() if m.guids and m.imdb_id in library.imdb_missing)
    async with Enricher(settings_for(server)) as enricher:
        a, b, c = await enricher.enrich([movie_source_item(no_ids), movie_source_item(tmdb_404), movie_source_item(imdb_404)])
    assert (a.tmdb, a.imdb, a.errors) == (None, None, ())
    assert b.tmdb is None and b.imdb is not None and b.errors == ()
    assert c.tmdb is not None and c.imdb is None and c.errors == ()
    assert server.count("tmdb", "/movie/") == 2  # nothing asked for the item without ids


async def test_legacy_items_use_the_one_id_they_have(server: DemoServer, library: DemoLibrary) -> None:
    only_imdb = next(m for m in library.movies() if set(m.visible_ids) == {"imdb"} and m.tmdb_id not in library.tmdb_missing)
    only_tmdb = next(m for m in library.movies() if set(m.visible_ids) == {"tmdb"} and m.imdb_id not in library.imdb_missing)
    async with Enricher(settings_for(server)) as enricher:
        a, b = await enricher.enrich([movie_source_item(only_imdb), movie_source_item(only_tmdb)])
    # /movie/{imdb id} works on TMDb; the IMDb id TMDb reveals gets an IMDb lookup.
    assert a.tmdb is not None and a.tmdb.tmdb_id == only_imdb.tmdb_id
    assert b.imdb is not None and b.imdb.imdb_id == only_tmdb.imdb_id
    assert a.errors == b.errors == ()


async def test_output_keeps_order_and_length(server: DemoServer, library: DemoLibrary) -> None:
    items = [movie_source_item(m) for m in library.movies()[:15]]
    items += [episode_source_item(library, e) for e in library.episodes()[:15]]
    items.reverse()
    async with Enricher(settings_for(server)) as enricher:
        out = await enricher.enrich(items)
        assert await enricher.enrich([]) == []
    assert [o.source for o in out] == items


# ----------------------------------------------------------------------------- batching


async def test_imdb_asks_five_ids_per_request(server: DemoServer, library: DemoLibrary) -> None:
    movies = modern_movies(library)[:12]
    async with Enricher(settings_for(server, tmdb_api_key=None)) as enricher:
        out = await enricher.enrich([movie_source_item(m) for m in movies])
    assert all(o.imdb is not None for o in out)
    batches = [r for r in server.requests if r.service == "imdb"]
    assert [len(r.query["titleIds"]) for r in batches] == [5, 5, 2]
    assert sorted(i for r in batches for i in r.query["titleIds"]) == sorted(m.imdb_id for m in movies)
    assert server.count("tmdb") == 0


async def test_episodes_are_grouped_per_show_with_exact_request_counts(
    server: DemoServer, library: DemoLibrary
) -> None:
    big = show_with(library, modern=False, min_episodes=21)  # legacy: TMDb ids only
    small = show_with(library, modern=True, min_episodes=5)
    big_eps = episodes_of_show(library, big)
    small_eps = episodes_of_show(library, small)[:5]
    movies = modern_movies(library)[:3]
    batch = [episode_source_item(library, e) for e in big_eps] + [movie_source_item(m) for m in movies]
    batch += [episode_source_item(library, e) for e in small_eps]
    async with Enricher(settings_for(server)) as enricher:
        out = await enricher.enrich(batch)
    assert all(o.tmdb is not None for o in out) and all(o.errors == () for o in out)
    big_tmdb = library.show(big).tmdb_id  # type: ignore[union-attr]
    small_tmdb = library.show(small).tmdb_id  # type: ignore[union-attr]
    tv = [r for r in server.requests if r.service == "tmdb" and r.path.startswith("/tv/")]
    appends = {r.path: [] for r in tv}
    for r in tv:
        appends[r.path].append(r.query["append_to_response"][0].split(","))
    # 21+ episodes: credits + 19 episodes, then the rest; each request <= 20 appends.
    n_big = len(big_eps)
    assert len(appends[f"/tv/{big_tmdb}"]) == math.ceil((n_big + 1) / 20)
    assert appends[f"/tv/{big_tmdb}"][0][0] == "credits"
    assert all(len(a) <= 20 for a in appends[f"/tv/{big_tmdb}"])
    assert sum(len(a) for a in appends[f"/tv/{big_tmdb}"]) == n_big + 1
    assert len(appends[f"/tv/{small_tmdb}"]) == 1
    assert server.count("tmdb", "/tv/") == len(tv) == math.ceil((n_big + 1) / 20) + 1
    assert server.count("tmdb", "/movie/") == 3
    # IMDb: the 3 movies + 5 episodes with visible IMDb ids, 5 per request.
    assert server.count("imdb") == math.ceil(8 / 5)


# ----------------------------------------------------------------------------- failures


async def test_429_storm_completes_under_the_bucket_with_every_item_enriched(
    server: DemoServer, library: DemoLibrary
) -> None:
    server.set_faults("tmdb", rate_limit=8)  # the server allows 8 requests/s
    server.set_faults("imdb", rate_limit=2)
    movies = modern_movies(library)[:16]
    tmdb_rate, burst = 30.0, 4.0
    settings = settings_for(server, tmdb_rate=tmdb_rate, tmdb_burst=burst, imdb_rate=10.0, imdb_burst=4.0)
    seen_status: list[str | None] = []
    async with Enricher(settings) as enricher:
        batches = [[movie_source_item(m) for m in movies[i::4]] for i in range(4)]
        tasks = [asyncio.create_task(enricher.enrich(b)) for b in batches]
        while not all(t.done() for t in tasks):
            seen_status.append(enricher.status())
            await asyncio.wait(tasks, timeout=0.05)
        out = [o for t in tasks for o in t.result()]
        stats = enricher.stats
        assert enricher.limiters["tmdb"].rate < tmdb_rate  # it slowed down
    assert len(out) == 16
    assert all(o.errors == () and o.tmdb is not None and o.imdb is not None for o in out)
    tmdb = [r for r in server.requests if r.service == "tmdb"]
    assert any(r.status == 429 for r in tmdb)
    assert any(r.status == 429 for r in server.requests if r.service == "imdb")
    assert stats.rate_limited == sum(1 for r in server.requests if r.status == 429)
    assert "rate-limited (tmdb" in " ".join(s or "" for s in seen_status)
    # Token bucket: never more than burst + rate x elapsed requests, 429s included.
    span = tmdb[-1].at - tmdb[0].at
    assert len(tmdb) <= burst + tmdb_rate * span + 1
    # After the first 429 the bucket halves and waits; the server never saw more
    # than a few times its limit in any one second.
    per_second: dict[int, int] = {}
    for r in tmdb:
        per_second[int(r.at - tmdb[0].at)] = per_second.get(int(r.at - tmdb[0].at), 0) + 1
    assert max(per_second.values()) <= burst + tmdb_rate


async def test_5xx_burst_is_retried_and_every_item_enriched(server: DemoServer, library: DemoLibrary) -> None:
    server.set_faults("tmdb", fail_paths=FirstN(5))
    server.set_faults("imdb", fail_paths=FirstN(2))
    movies = modern_movies(library)[:6]
    async with Enricher(settings_for(server, attempts=8)) as enricher:
        out = await enricher.enrich([movie_source_item(m) for m in movies])
        stats = enricher.stats
    assert all(o.errors == () and o.tmdb is not None and o.imdb is not None for o in out)
    assert sum(1 for r in server.requests if r.status == 503) == 7
    assert stats.retries == 7
    assert stats.tmdb_requests == 6 + 5 and stats.imdb_requests == 2 + 2


async def test_garbled_body_is_retried(server: DemoServer, library: DemoLibrary) -> None:
    server.set_faults("tmdb", malformed_paths=FirstN(1))
    m = modern_movies(library)[0]
    async with Enricher(settings_for(server)) as enricher:
        [out] = await enricher.enrich([movie_source_item(m)])
        assert enricher.stats.retries == 1
    assert out.tmdb is not None and out.errors == ()
    assert server.count("tmdb", "/movie/") == 2


async def test_persistent_failure_is_recorded_on_the_item_and_the_batch_goes_on(
    server: DemoServer, library: DemoLibrary
) -> None:
    movies = modern_movies(library)[:4]
    broken = movies[1]
    server.set_faults("tmdb", fail_paths=rf"^/movie/{broken.tmdb_id}\?")
    async with Enricher(settings_for(server, attempts=3)) as enricher:
        out = await enricher.enrich([movie_source_item(m) for m in movies])
        assert enricher.stats.failed_requests == 1
    bad = out[1]
    assert bad.tmdb is None
    assert bad.imdb is not None  # the other service still answered
    [error] = bad.errors
    assert error.service == "tmdb"
    assert "TMDb answered HTTP 503" in error.message and f"/movie/{broken.tmdb_id}" in error.message
    assert TMDB_KEY not in error.message
    assert server.count("tmdb", f"/movie/{broken.tmdb_id}") == 3  # the attempts, then given up
    assert all(o.tmdb is not None and o.errors == () for i, o in enumerate(out) if i != 1)


async def test_timeouts_are_retried_then_recorded(server: DemoServer, library: DemoLibrary) -> None:
    server.set_faults("imdb", latency_ms=400)
    movies = modern_movies(library)[:3]
    async with Enricher(settings_for(server, timeout=0.1, attempts=2)) as enricher:
        out = await enricher.enrich([movie_source_item(m) for m in movies])
        # One batch of 3 ids, tried twice. (Counted here: the server is still
        # sleeping on the abandoned requests when the client has given up.)
        assert enricher.stats.imdb_requests == 2 and enricher.stats.failed_requests == 1
    for o in out:
        assert o.tmdb is not None and o.imdb is None
        assert [(e.service, "did not answer in time" in e.message) for e in o.errors] == [("imdb", True)]


async def test_bad_tmdb_key_stops_the_run_naming_tmdb_and_the_masked_key(
    server: DemoServer, library: DemoLibrary
) -> None:
    wrong = "wrong-key-abcdef0123456789"
    async with Enricher(settings_for(server, tmdb_api_key=wrong)) as enricher:
        with pytest.raises(TmdbAuthError) as caught:
            await enricher.enrich([movie_source_item(m) for m in modern_movies(library)[:3]])
        assert isinstance(caught.value, FatalError)
        message = str(caught.value)
        assert "TMDb" in message and "API key" in message and mask(wrong) in message
        assert wrong not in message and "TMDB_API_KEY" in message
        sent = server.count("tmdb")
        with pytest.raises(TmdbAuthError):  # later batches fail at once, without asking again
            await enricher.enrich([movie_source_item(modern_movies(library)[5])])
        assert server.count("tmdb") == sent == 1
    assert wrong not in repr(enricher) and wrong not in repr(enricher.settings)


async def test_v4_token_goes_in_the_authorization_header(library: DemoLibrary) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9." + "a" * 120 + ".signature-part"
    with DemoServer(library, tmdb_api_key=token) as demo:
        async with Enricher(settings_for(demo, tmdb_api_key=token)) as enricher:
            [out] = await enricher.enrich([movie_source_item(modern_movies(library)[0])])
        assert out.tmdb is not None
        assert all("api_key" not in r.query for r in demo.requests)


async def test_without_a_tmdb_key_imdb_still_runs_and_says_so_once(
    server: DemoServer, library: DemoLibrary, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="plex_loader_tui.enrich"):
        async with Enricher(settings_for(server, tmdb_api_key=None)) as enricher:
            for m in modern_movies(library)[:3]:
                [out] = await enricher.enrich([movie_source_item(m)])
                assert out.tmdb is None and out.imdb is not None and out.errors == ()
    notes = [r for r in caplog.records if "TMDb" in r.getMessage()]
    assert len(notes) == 1 and "off" in notes[0].getMessage()
    assert server.count("tmdb") == 0


async def test_the_api_key_never_reaches_the_logs(
    server: DemoServer, library: DemoLibrary, caplog: pytest.LogCaptureFixture
) -> None:
    server.set_faults("tmdb", fail_paths=FirstN(1))
    with caplog.at_level(logging.DEBUG):
        async with Enricher(settings_for(server)) as enricher:
            await enricher.enrich([movie_source_item(m) for m in modern_movies(library)[:2]])
    assert any("/movie/" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if TMDB_KEY in r.getMessage()]


# ----------------------------------------------------------------------------- cache


async def test_second_run_sends_zero_requests_for_cached_items(
    server: DemoServer, library: DemoLibrary, tmp_path: Path
) -> None:
    show_key = show_with(library, modern=True, min_episodes=6)
    episodes = [episode_source_item(library, e) for e in episodes_of_show(library, show_key)]
    movies = [movie_source_item(m) for m in library.movies()[:20]]  # includes 404s and items without ids
    settings = settings_for(server, cache_path=tmp_path / "cache.sqlite3")
    async with Enricher(settings) as enricher:
        first = await enricher.enrich(movies + episodes[:3])
        first += await enricher.enrich(episodes[3:])
    assert server.count() > 0
    server.reset_log()
    async with Enricher(settings) as enricher:
        # Batched differently this time: the cache is per title, not per request.
        second = await enricher.enrich(episodes[::-1])
        second = second[::-1]
        second = await enricher.enrich(movies) + second
        stats = enricher.stats
    assert server.count() == 0
    assert stats.requests == 0 and stats.cache_hits > 0 and stats.cache_misses == 0
    assert second == first


async def test_expired_entries_are_fetched_again(server: DemoServer, library: DemoLibrary, tmp_path: Path) -> None:
    now = [1_000_000.0]
    cache = ResponseCache(tmp_path / "cache.sqlite3", ttl=3600, clock=lambda: now[0])
    items = [movie_source_item(m) for m in modern_movies(library)[:6]]
    try:
        async with Enricher(settings_for(server), cache=cache) as enricher:
            await enricher.enrich(items)
            first = server.count()
            now[0] += 3599
            await enricher.enrich(items)
            assert server.count() == first  # still fresh
            now[0] += 2
            await enricher.enrich(items)
            assert server.count() == 2 * first  # expired: asked again
        assert cache.count() > 0  # an injected cache belongs to the caller: still open
    finally:
        cache.close()


async def test_cache_off_when_ttl_is_zero(server: DemoServer, library: DemoLibrary, tmp_path: Path) -> None:
    settings = settings_for(server, cache_path=tmp_path / "cache.sqlite3", cache_ttl=0)
    items = [movie_source_item(modern_movies(library)[0])]
    async with Enricher(settings) as enricher:
        assert enricher.cache is None
        await enricher.enrich(items)
        await enricher.enrich(items)
    assert server.count("tmdb") == 2
    assert not (tmp_path / "cache.sqlite3").exists()


def test_cache_key_sorts_the_query_and_leaves_credentials_out() -> None:
    a = request_key("tmdb", "/movie/1", {"language": "en-US", "append_to_response": "credits", "api_key": "s3cret"})
    b = request_key("tmdb", "/movie/1", {"append_to_response": "credits", "language": "en-US"})
    assert a == b == "tmdb GET /movie/1?append_to_response=credits&language=en-US"
    assert request_key("imdb", "/titles/tt1") != request_key("tmdb", "/titles/tt1")


def test_a_corrupt_cache_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    cache = ResponseCache(path, ttl=60)
    try:
        cache.put_many_sync([("k", 200, {"a": 1}), ("gone", 404, None)])
        found = cache.get_many_sync(["k", "gone", "other"])
        assert set(found) == {"k", "gone"}
        assert (found["k"].status, found["k"].data) == (200, {"a": 1})
        assert (found["gone"].status, found["gone"].data) == (404, None)
    finally:
        cache.close()
    assert (tmp_path / "cache.sqlite3.corrupt").exists()


# ----------------------------------------------------------------------------- concurrency


async def test_eight_workers_give_at_least_four_times_the_throughput_of_one(
    server: DemoServer, library: DemoLibrary
) -> None:
    # 150 ms per request: waiting, not our CPU (shared with the demo server here), dominates.
    server.set_faults("tmdb", latency_ms=150)
    server.set_faults("imdb", latency_ms=150)
    movies = [movie_source_item(m) for m in modern_movies(library)]
    one, eight = movies[:24], movies[24:88]
    assert len(eight) == 64

    async def run(items: list[SourceItem], workers: int, batch_size: int = 8) -> float:
        batches = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
        queue: asyncio.Queue[list[SourceItem]] = asyncio.Queue()
        for b in batches:
            queue.put_nowait(b)
        done: list[EnrichedItem] = []

        async def worker() -> None:
            while not queue.empty():
                done.extend(await enricher.enrich(queue.get_nowait()))

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        elapsed = time.perf_counter() - start
        assert len(done) == len(items) and all(o.tmdb is not None for o in done)
        return len(items) / elapsed

    async with Enricher(settings_for(server)) as enricher:
        single = await run(one, 1)
        parallel = await run(eight, 8)
    assert parallel >= 4 * single, f"1 worker {single:.1f} items/s, 8 workers {parallel:.1f} items/s"


# ----------------------------------------------------------------------------- rate limiter


async def test_status_says_when_requests_wait_for_the_configured_rate(
    server: DemoServer, library: DemoLibrary
) -> None:
    movies = modern_movies(library)[:3]
    settings = settings_for(server, tmdb_api_key=None, imdb_rate=10.0, imdb_burst=1.0)
    async with Enricher(settings) as enricher:
        assert enricher.status() is None
        tasks = [asyncio.create_task(enricher.enrich([movie_source_item(m)])) for m in movies]
        seen: set[str | None] = set()
        while not all(t.done() for t in tasks):
            seen.add(enricher.status())
            await asyncio.wait(tasks, timeout=0.01)
        assert all(t.result()[0].imdb is not None for t in tasks)
        assert "pacing (imdb 10/s)" in seen
        assert enricher.status() is None and not enricher.rate_limits()["imdb"].throttled


async def test_rate_limiter_paces_requests() -> None:
    limiter = RateLimiter(100.0, burst=1.0)
    start = time.monotonic()
    for _ in range(21):
        await limiter.acquire()
    # 1 from the burst, then 20 at 100/s: at least 0.2 s (a lower bound holds on any machine).
    elapsed = time.monotonic() - start
    assert elapsed >= 0.19
    # That time is what the limit held the requests back.
    pacing = limiter.pacing("tmdb")
    assert (pacing.requests, pacing.rate) == (21, 100.0)
    assert 0.19 <= pacing.paced_s <= elapsed
    assert pacing.since(pacing).requests == 0 and pacing.since(pacing).paced_s == 0.0


async def test_rate_limiter_halves_on_429_once_per_round_pauses_and_recovers() -> None:
    now = [100.0]
    limiter = RateLimiter(40.0, burst=10.0, name="TMDb", clock=lambda: now[0])
    sent = await limiter.acquire()
    assert not limiter.throttled
    limiter.on_rate_limited(sent, retry_after=3.0)
    assert limiter.rate == 20.0 and limiter.throttled
    assert limiter.state().paused_for == pytest.approx(3.0)
    limiter.on_rate_limited(sent, retry_after=1.0)  # sent before the cut: no second halving
    assert limiter.rate == 20.0 and limiter.state().paused_for == pytest.approx(3.0)
    now[0] += 3.5
    later = await limiter.acquire()  # the pause is over and tokens have refilled
    limiter.on_rate_limited(later, retry_after=0)  # sent after the cut: halves again
    assert limiter.rate == 10.0
    now[0] += 60.0
    await limiter.acquire()
    assert limiter.rate == 40.0 and not limiter.throttled  # calm for a minute: recovered


# ----------------------------------------------------------------------------- settings and mapping


def test_settings_validate_and_mask_the_key() -> None:
    with pytest.raises(ConfigError, match="tmdb_rate"):
        EnrichSettings(tmdb_rate=0)
    with pytest.raises(ConfigError, match="imdb_base_url"):
        EnrichSettings(imdb_base_url="ftp://example.org")
    with pytest.raises(ConfigError, match="attempts"):
        EnrichSettings(attempts=0)
    key = "0123456789abcdef0123456789abcdef"
    settings = EnrichSettings(tmdb_api_key=key)
    assert key not in repr(settings) and mask(key) in repr(settings)
    assert not settings.tmdb_uses_bearer
    assert replace(settings, tmdb_api_key="eyJ" + "x" * 200).tmdb_uses_bearer


def test_settings_from_run_config(tmp_path: Path) -> None:
    from plex_loader_tui.config import resolve_config

    config = resolve_config(
        {"demo": True, "tmdb_api_key": "k" * 32, "tmdb_rate": "12", "cache_ttl_days": "2", "data_dir": str(tmp_path)},
        environ={},
    )
    settings = EnrichSettings.from_config(config)
    assert settings.tmdb_rate == 12.0 and settings.cache_ttl == 2 * 86_400
    # A demo load keeps its own cache: its synthetic answers use ids real titles have too.
    assert settings.cache_path == tmp_path / "http-cache-demo.sqlite3"
    real = EnrichSettings.from_config(resolve_config({"plex_url": "http://plex.lan:32400", "data_dir": str(tmp_path)},
                                                     environ={}))
    assert real.cache_path == tmp_path / "http-cache.sqlite3"
    off = EnrichSettings.from_config(resolve_config({"demo": True, "cache_ttl_days": "0"}, environ={}))
    assert off.cache_path is None and not off.cache_enabled


def test_mapping_tolerates_odd_records() -> None:
    odd = {"id": 5, "genres": [{"name": "Drama"}, "x", {"id": 1}], "runtime": "long", "vote_average": True,
           "credits": {"cast": [{"name": "A", "order": 2}, {"name": "B", "character": "Bee", "order": 1}, "junk"],
                       "crew": [{"name": "D", "job": "Director"}, {"name": "W", "department": "Writing", "job": "Novel"}]}}
    info = tmdb_movie_info(odd, cast_limit=1)
    assert info.genres == ("Drama", "x") and info.runtime is None and info.vote_average is None
    assert info.cast == (Person("B", "Bee"),) and info.directors == ("D",) and info.writers == ("W",)
    assert tmdb_episode_info(None, {"overview": "show"}, tmdb_id="9").overview == "show"
    assert imdb_title_info({"id": "tt1", "rating": "bad"}).rating is None
