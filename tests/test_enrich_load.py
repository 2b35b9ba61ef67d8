"""A whole load while TMDb asks for an hour's pause and IMDb answers with the wrong shape.

Real parts end to end (demo server, plexapi, httpx, fastembed, embedded
Qdrant, the SQLite load state): the load must finish without waiting for the
hour, load every item, and keep the ones that miss data for retry-failed with
the service and the reason of each failure.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from plex_loader_tui.config import resolve_config
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.settings import demo_settings
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.load import LoadSession
from plex_loader_tui.state import StateStore, state_db_path
from store_support import EmbeddedStore

HOUR = 3600
TMDB_PAUSED = f"rate-limited, retry later (Retry-After {HOUR} s)"
IMDB_WRONG = "answer without a titles list"

def payloads(path: Path) -> list[dict]:
    with EmbeddedStore(path) as store:
        return list(store.payloads().values())


@pytest.mark.timeout(240)  # far below the hour asked for: the test cannot pass by waiting it out
async def test_a_load_finishes_while_tmdb_asks_for_an_hour_and_every_reason_is_kept(tmp_path: Path) -> None:
    with DemoServer(DemoLibrary.generate(seed=11, size=40)) as server:
        server.set_faults("tmdb", throttle_rate=1.0, retry_after=HOUR)
        server.set_faults("imdb", wrong_shape_rate=1.0)
        config = resolve_config(
            {**demo_settings(server), "data_dir": str(tmp_path), "no_ui": True}, environ={}
        )
        result = await LoadSession(config).run()
        tmdb_requests = server.count("tmdb")

    assert result.state == "finished"
    assert result.exit_code == ExitCode.FAILED_ITEMS  # items wait for retry-failed
    # Every point is in the collection; an item without some enrichment counts as failed
    # (a dead letter for retry-failed), the others as loaded.
    assert result.snapshot.loaded + result.snapshot.failed == result.total == 40
    assert result.snapshot.failed == result.enrich_incomplete
    points = payloads(tmp_path / "qdrant")
    assert len(points) == 40
    assert all(p["tmdb_rating"] is None and p["imdb_rating"] is None for p in points)
    missing_data = [p for p in points if p["enrich_errors"]]
    assert missing_data and result.enrich_incomplete == len(missing_data)
    # Every item there was something to look up for is loaded-but-incomplete.
    assert all(not p["tmdb_id"] and not p["imdb_id"] for p in points if not p["enrich_errors"])
    # A handful of requests at most (the workers' first ones), not one per item: the rest failed fast.
    assert tmdb_requests < len(missing_data) / 2

    db = state_db_path(tmp_path, str((tmp_path / "qdrant").resolve()), "media-items")
    with StateStore.open(db) as state:
        kept = state.failed_items()
    assert len(kept) == len(missing_data)
    for record in kept:
        assert record.stage == "enrich"
        # The ledger keeps "loaded without some TMDb/IMDb data: " then "service: message"
        # per failed service, joined with "; ".
        detail = record.error.removeprefix("loaded without some TMDb/IMDb data: ")
        failures = dict(part.split(": ", 1) for part in re.split(r"; (?=(?:tmdb|imdb): )", detail))
        assert failures.keys() <= {"tmdb", "imdb"} and failures, record.error
        assert TMDB_PAUSED in failures.get("tmdb", TMDB_PAUSED), record.error
        assert IMDB_WRONG in failures.get("imdb", IMDB_WRONG), record.error
    assert sum("tmdb: " in r.error for r in kept) > 0 and sum("imdb: " in r.error for r in kept) > 0


@pytest.mark.timeout(60)  # the Retry-After is 100 s: only letting go of the waiting lookups can pass
async def test_a_drain_does_not_wait_out_a_retry_after_the_service_asked_for(tmp_path: Path) -> None:
    import asyncio

    with DemoServer(DemoLibrary.generate(seed=11, size=60)) as server:
        # Under the pause bound: the lookups wait for it (the limiter holds them back).
        server.set_faults("tmdb", throttle_rate=1.0, retry_after=100)
        config = resolve_config({**demo_settings(server), "data_dir": str(tmp_path), "no_ui": True}, environ={})
        session = LoadSession(config)
        run = asyncio.create_task(session.run())
        while server.count("tmdb") == 0:  # the first 429 has been sent: lookups are waiting now
            await asyncio.sleep(0.05)
        session.drain()
        result = await run
    assert result.state == "drained"
    assert result.snapshot.failed == 0, "waiting items are released for the next run, not failed"
    assert result.unfinished > 0 and result.snapshot.loaded + result.unfinished == result.total
