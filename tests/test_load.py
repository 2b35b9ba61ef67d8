"""End-to-end loads: demo server → plexapi → TMDb/IMDb → fastembed → embedded Qdrant.

Real parts throughout: the demo server on loopback, plexapi, httpx, the bundled
ONNX models and qdrant-client's embedded mode. Libraries are small (the
embedding model is the slow part on a 2-core machine).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from qdrant_client import QdrantClient, models as qm

from plex_loader_tui.config import resolve_config
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.settings import demo_settings
from plex_loader_tui.load import CollectionSearcher, LoadSession, search_collection
from plex_loader_tui.pipeline import FatalError
from plex_loader_tui.state import StateStore, state_db_path
from store_support import EmbeddedStore

SIZE = 60
PAYLOAD_FIELDS = {
    "rating_key", "guid", "type", "title", "year", "show_title", "season_number", "episode_number",
    "summary", "tagline", "genres", "directors", "writers", "actors", "imdb_id", "tmdb_id", "tvdb_id",
    "imdb_rating", "tmdb_rating", "content_rating", "added_at", "updated_at", "text",
}


def make_config(server: DemoServer, data_dir: Path, **overrides):
    values = {**demo_settings(server), "data_dir": str(data_dir), "no_ui": True}
    values.update(overrides)
    return resolve_config(values, environ={})


def read_collection(path: Path, collection: str = "media-items") -> dict[str, dict]:
    with EmbeddedStore(path) as store:
        return store.payloads(collection)


def demo(size: int = SIZE, seed: int = 11) -> DemoServer:
    return DemoServer(DemoLibrary.generate(seed=seed, size=size))


@pytest.fixture
def server():
    with demo() as srv:
        yield srv


async def load(config) -> tuple[LoadSession, object]:
    session = LoadSession(config)
    result = await session.run()
    return session, result


async def test_full_demo_load_fills_the_collection_and_a_rerun_changes_nothing(server, tmp_path) -> None:
    config = make_config(server, tmp_path)
    _, result = await load(config)
    library_size = server.library.size
    assert result.state == "finished"
    assert result.snapshot.loaded == library_size == result.total
    assert result.snapshot.failed == 0
    points = read_collection(tmp_path / "qdrant")
    assert len(points) == library_size
    for payload in points.values():
        assert PAYLOAD_FIELDS <= payload.keys()
        assert payload["type"] in ("movie", "episode")
        assert payload["text"].strip()
    episodes = [p for p in points.values() if p["type"] == "episode"]
    assert episodes and all(p["show_title"] and p["season_number"] is not None for p in episodes)
    assert any(p["tmdb_rating"] is not None for p in points.values())
    assert any(p["imdb_rating"] is not None for p in points.values())

    with EmbeddedStore(tmp_path / "qdrant") as store:
        dense, sparse = store.vectors(next(iter(points)))
        assert len(dense) == 384 and len(sparse) > 0
        assert store.sparse_modifier() == "idf"

    # Re-run with --full: every item goes through again, under the same ids.
    _, again = await load(make_config(server, tmp_path, full=True))
    assert again.snapshot.loaded == library_size
    assert read_collection(tmp_path / "qdrant").keys() == points.keys()


async def test_search_for_an_items_own_summary_ranks_it_first_for_most_items(server, tmp_path) -> None:
    config = make_config(server, tmp_path)
    await load(config)
    points = read_collection(tmp_path / "qdrant")
    candidates = [(pid, p) for pid, p in sorted(points.items()) if len(p["summary"] or "") > 200][:25]
    assert len(candidates) >= 15
    first = 0
    for pid, payload in candidates:
        hits = await search_collection(config, payload["summary"][:400], limit=5)
        first += hits[0].point_id == pid
    assert first >= 0.8 * len(candidates), f"{first}/{len(candidates)} ranked first"


async def test_a_searcher_keeps_the_collection_open_while_queries_come_and_lets_go_when_idle(server, tmp_path) -> None:
    config = make_config(server, tmp_path)
    session, _ = await load(config)
    points = sorted(read_collection(tmp_path / "qdrant").items())
    queries = [payload["summary"][:300] for _, payload in points[:3]]

    kept = CollectionSearcher(config, idle_close=3600)
    hits = [[h.point_id for h in await kept.search(q, 5)] for q in queries]
    assert (kept.opened, kept.is_open) == (1, True)
    kept.close()
    assert not kept.is_open
    # The same answers as a client opened for one query.
    assert hits == [[h.point_id for h in await search_collection(config, q, 5)] for q in queries]

    idle = CollectionSearcher(config, kept.models, idle_close=0.01)
    await idle.search(queries[0], 5)
    timer = idle._timer
    if timer is not None:
        timer.join(30)
    assert not idle.is_open

    # A search between runs holds the collection; the session's next run takes it over.
    assert len(await session.search(queries[0], 5)) == 5
    again = await session.run()
    assert again.state == "finished" and again.snapshot.failed == 0
    assert len(await session.search(queries[1], 5)) == 5
    await session.close()


async def test_unreachable_qdrant_url_is_fatal_and_names_the_url(server, tmp_path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again at once: nothing listens there
    url = f"http://127.0.0.1:{port}"
    config = make_config(server, tmp_path, qdrant_url=url, qdrant_api_key="secret-qdrant-key-123")
    with pytest.raises(FatalError) as excinfo:
        await load(config)
    assert f"127.0.0.1:{port}" in str(excinfo.value)
    assert "secret-qdrant-key-123" not in str(excinfo.value)


async def test_collection_with_other_vectors_is_a_clear_error_and_is_left_alone(server, tmp_path) -> None:
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    client.create_collection("media-items", vectors_config=qm.VectorParams(size=8, distance=qm.Distance.DOT))
    client.close()
    with pytest.raises(FatalError, match="media-items") as excinfo:
        await load(make_config(server, tmp_path))
    assert "--collection" in str(excinfo.value) or "delete" in str(excinfo.value)
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    try:
        assert client.get_collection("media-items").config.params.vectors.size == 8  # untouched
    finally:
        client.close()


async def test_unchanged_rerun_sends_no_requests_embeds_and_upserts_nothing_and_changes_reload_exactly(
    server, tmp_path
) -> None:
    config = make_config(server, tmp_path)
    await load(config)
    before = read_collection(tmp_path / "qdrant")
    server.reset_log()

    _, second = await load(config)
    snap = second.snapshot
    assert snap.skipped == server.library.size and snap.loaded == 0
    assert server.count("tmdb") == 0 and server.count("imdb") == 0
    assert snap.stage("enrich").items_in == 0
    assert snap.stage("embed").items_in == 0
    assert snap.stage("upsert").items_in == 0
    assert second.exit_code == 0

    movies = [m.rating_key for m in server.library.movies()][:3]
    episodes = [e.rating_key for e in server.library.episodes()][:2]
    server.library.touch(movies + episodes, summary="A lighthouse keeper befriends a migrating whale named Orla.")
    changed = [str(k) for k in movies + episodes]
    _, third = await load(config)
    assert third.snapshot.loaded == 5
    assert third.snapshot.skipped == server.library.size - 5
    after = read_collection(tmp_path / "qdrant")
    assert after.keys() == before.keys()
    reloaded = {p["rating_key"] for pid, p in after.items() if p != before[pid]}
    assert reloaded == set(changed)
    assert all("lighthouse keeper" in after[pid]["summary"] for pid in after if after[pid]["rating_key"] in changed)


async def test_removed_items_are_deleted_and_a_failed_listing_deletes_nothing(tmp_path) -> None:
    with demo(size=80, seed=5) as srv:
        config = make_config(srv, tmp_path, **{"ingest_batch_size": 20})
        await load(config)
        assert len(read_collection(tmp_path / "qdrant")) == srv.library.size

        gone = [m.rating_key for m in srv.library.movies()][-3:]
        gone_keys = {str(k) for k in gone}
        srv.library.remove(gone)
        # First, a listing that fails midway (one page of movies answers 500 every time).
        srv.set_faults("plex", fail_paths=r"X-Plex-Container-Start=20&.*type=1\b")
        _, partial = await load(config)
        assert partial.deleted == 0
        assert partial.snapshot.failed > 0 and partial.exit_code == 1
        assert {p["rating_key"] for p in read_collection(tmp_path / "qdrant").values()} >= gone_keys

        srv.set_faults("plex")  # healthy again
        _, complete = await load(config)
        assert complete.deleted == 3
        remaining = read_collection(tmp_path / "qdrant")
        assert len(remaining) == srv.library.size
        assert not {p["rating_key"] for p in remaining.values()} & gone_keys


async def test_items_whose_enrichment_fails_are_dead_lettered_and_retry_failed_recovers_them(tmp_path) -> None:
    with demo(size=60, seed=3) as srv:
        config = make_config(srv, tmp_path, http_timeout=2.0)
        movie = next(m for m in srv.library.movies() if m.tmdb_id and m.tmdb_id not in srv.library.tmdb_missing)
        srv.set_faults("tmdb", fail_paths=rf"^/movie/{movie.tmdb_id}\b")
        _, first = await load(config)
        assert first.exit_code == 1
        assert first.enrich_incomplete >= 1
        db = state_db_path(tmp_path, str((tmp_path / "qdrant").resolve()), "media-items")
        with StateStore.open(db) as state:
            failed = {r.title: r for r in state.failed_items()}
        assert movie.title in failed
        assert failed[movie.title].stage == "enrich" and "tmdb" in failed[movie.title].error
        assert "demo-tmdb-key" not in failed[movie.title].error

        srv.set_faults("tmdb")  # the fault clears
        srv.reset_log()
        _, retried = await load(make_config(srv, tmp_path, retry_failed=True))
        assert retried.exit_code == 0
        assert retried.snapshot.loaded == len(failed)
        assert retried.snapshot.skipped == srv.library.size - len(failed)
        with StateStore.open(db) as state:
            assert state.failed_count() == 0
        points = read_collection(tmp_path / "qdrant")
        payload = next(p for p in points.values() if p["rating_key"] == str(movie.rating_key))
        assert payload["enrich_errors"] == [] and payload["tmdb_rating"] is not None


def _loaded_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM items WHERE status = 'loaded'").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


@pytest.fixture(scope="module")
def clean_collection(tmp_path_factory):
    """The collection a clean, uninterrupted run produces (the reference)."""
    import asyncio

    data = tmp_path_factory.mktemp("clean")
    with demo(size=SIZE, seed=21) as srv:
        asyncio.run(load(make_config(srv, data)))
    return read_collection(data / "qdrant")


# The last point lands in Qdrant one upsert batch before the state says "loaded", so a kill
# at 90% of 60 items (one batch from the end) could find the collection already complete:
# 0.8 leaves at least two embed batches still to do when the kill lands.
@pytest.mark.parametrize("kill_at", [0.1, 0.5, 0.8])
async def test_a_load_killed_with_sigkill_resumes_to_exactly_the_clean_collection(
    kill_at: float, clean_collection, tmp_path
) -> None:
    with demo(size=SIZE, seed=21) as srv:
        config = make_config(srv, tmp_path)
        db = state_db_path(tmp_path, str((tmp_path / "qdrant").resolve()), "media-items")
        env = {**os.environ, "PLEX_TOKEN": srv.token, "TMDB_API_KEY": srv.tmdb_api_key}
        child = subprocess.Popen(
            [
                sys.executable, "-m", "plex_loader_tui", "--no-ui",
                "--plex-url", srv.plex_url, "--tmdb-base-url", srv.tmdb_url, "--imdb-base-url", srv.imdb_url,
                "--data-dir", str(tmp_path), "--upsert-batch-size", "4", "--embed-batch-size", "4",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            target = int(kill_at * srv.library.size)
            deadline = time.monotonic() + 240
            # The child is another process: watching its state database is the only signal there is.
            while _loaded_count(db) < target:
                assert child.poll() is None, "the load ended before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.02)
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait(timeout=30)
        partial = read_collection(tmp_path / "qdrant")
        assert len(partial) < srv.library.size

        _, resumed = await load(config)
        assert resumed.exit_code == 0
        assert resumed.snapshot.skipped >= target  # what was loaded before the kill is not redone
    final = read_collection(tmp_path / "qdrant")
    assert final == clean_collection  # same ids, same payloads, nothing missing, no duplicates


async def test_two_servers_loading_one_collection_never_delete_each_others_points(tmp_path) -> None:
    with demo(size=30, seed=31) as first:
        await load(make_config(first, tmp_path))
        first_points = read_collection(tmp_path / "qdrant")
    with demo(size=30, seed=32) as second:
        assert second.machine_identifier != first.machine_identifier
        _, result = await load(make_config(second, tmp_path))
    assert result.deleted == 0
    after = read_collection(tmp_path / "qdrant")
    assert first_points.keys() <= after.keys()
    assert len(after) > len(first_points)
