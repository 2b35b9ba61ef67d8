"""The dashboard hosting real loads: LoadSession against the demo server on loopback.

Plex ingestion (plexapi), TMDb/IMDb enrichment (httpx), fastembed with the
bundled model and embedded Qdrant under ``tmp_path`` all run for real here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Settled, paths_under, small_stages, wait_for
from textual.widgets import Static

from plex_loader_tui.config import RunConfig, StageConfig
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.settings import demo_settings
from plex_loader_tui.tui.app import EXIT_CANCELLED, EXIT_FATAL, EXIT_OK, LoaderApp
from plex_loader_tui.tui.screens import ConfirmScreen, FatalErrorScreen, SearchScreen
from plex_loader_tui.tui.widgets import StagePanel

SIZE = (130, 40)


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    server = DemoServer(DemoLibrary.generate(seed=7, size=60), token="demo-token-7f3a9c21", tmdb_api_key="tmdb-key-51b2e88d")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def demo_config(tmp_path: Path, demo: DemoServer) -> RunConfig:
    """A load of the demo library into embedded Qdrant under ``tmp_path`` (enrich at 2 workers)."""
    demo.set_faults("tmdb", latency_ms=0)
    return RunConfig(**demo_settings(demo), **paths_under(tmp_path), stages=small_stages())


def _stage_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("stage-")]


@pytest.fixture
def builtin_demo_config(tmp_path: Path) -> RunConfig:
    """``--demo --demo-items 60`` with every path under ``tmp_path``; the demo server adds latency."""
    return RunConfig(
        demo=True,
        demo_items=60,
        demo_latency_ms=60,  # slow enough that the load is still running while we tune it
        **paths_under(tmp_path),
        stages=small_stages(),
    )


async def test_raising_enrich_workers_2_to_6_during_a_demo_load(builtin_demo_config):
    app = LoaderApp(builtin_demo_config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session is not None and app.session.snapshot() is not None, timeout=60, what="the pipeline")
        session = app.session
        assert session.pipeline.workers("enrich") == 2
        # Paused, the load cannot finish under us while we tune it.
        await pilot.press("p")
        await pilot.press("2")
        for _ in range(4):
            await pilot.press("+")
        assert session.pipeline.workers("enrich") == 6
        panel = app.query_one("#stage-enrich", StagePanel)
        await wait_for(pilot, lambda: "/6" in str(panel.query_one(".stage-numbers", Static).render()), what="the panel")
        await pilot.press("p")
        await wait_for(pilot, lambda: app.result is not None, timeout=120, what="the load to finish")
        assert app.result.state == "finished"
        assert app.result.snapshot.loaded + app.result.snapshot.skipped == 60
        # The final snapshot keeps the tuned value.
        assert app.result.snapshot.stage("enrich").workers == 6
        assert "demo" in str(app.query_one("#source-header", Static).render()).lower()
        await pilot.press("q")
    assert app.return_code == EXIT_OK


async def test_pause_and_cancel_a_demo_load(builtin_demo_config):
    import dataclasses

    # Large enough that the load is still running when cancel arrives after the resume.
    app = LoaderApp(dataclasses.replace(builtin_demo_config, demo_items=400))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: app.session is not None and (s := app.session.snapshot()) is not None and s.stage("enrich").items_in > 0,
            timeout=60,
            what="items flowing",
        )
        session = app.session
        await pilot.press("p")
        assert session.paused
        await wait_for(pilot, Settled(session), timeout=30, what="in-flight work to finish")
        before = session.snapshot()
        await pilot.pause(0.6)
        after = session.snapshot()
        assert [s.items_in for s in after.stages] == [s.items_in for s in before.stages]
        assert after.done == before.done
        await pilot.press("p")
        await wait_for(pilot, lambda: session.snapshot().done > before.done or session.snapshot().stage("enrich").items_in > before.stage("enrich").items_in, timeout=30, what="items flowing again")
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.running, timeout=60, what="the load to stop")
        assert app.result.state == "cancelled"
        assert _stage_threads() == []
        await pilot.press("q")
    assert app.return_code == EXIT_CANCELLED


async def test_a_refused_token_is_shown_masked_and_quitting_exits_3(demo, demo_config):
    import dataclasses

    secret = "wrong-token-0123456789"
    config = dataclasses.replace(demo_config, plex_token=secret)
    app = LoaderApp(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FatalErrorScreen) and bool(app.screen.query("#fatal-message")), timeout=60, what="the fatal error dialog")
        message = str(app.screen.query_one("#fatal-message", Static).render())
        assert "401" in message or "token" in message.lower()
        assert secret not in message
        assert secret not in str(app.query_one("#source-header", Static).render())
        await pilot.press("q")
    assert app.return_code == EXIT_FATAL


async def test_retry_after_a_run_with_failures_loads_the_failed_items(demo, demo_config):
    import dataclasses

    from plex_loader_tui.tui.outcome import EXIT_FAILED_ITEMS

    # The second page of the movie listing fails on every attempt during the first run.
    config = dataclasses.replace(
        demo_config,
        stages={**demo_config.stages, "ingest": StageConfig(1, 20)},
    )
    demo.set_faults("plex", fail_paths=r"X-Plex-Container-Start=20&.*type=1\b")
    app = LoaderApp(config)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.result is not None, timeout=120, what="the first run")
            first = app.result.snapshot
            letters = app.query_one("#error-log").letters
            assert [letter.stage for letter in letters] == ["ingest"]
            assert first.failed == letters[0].weight > 0
            assert first.loaded == 60 - first.failed
            assert app.outcome_code() == EXIT_FAILED_ITEMS
            assert "waiting for a retry: press r" in app.query_one("#overall").border_subtitle
            # A search between the runs opens the collection and keeps it while queries come ...
            await pilot.press("s")
            screen = app.screen
            assert isinstance(screen, SearchScreen)
            await pilot.press(*"detective", "enter")
            await wait_for(pilot, lambda: len(screen.hits) == 10, timeout=60, what="hits from the collection")
            await pilot.press("escape")
            demo.set_faults("plex")  # the server recovers
            # ... and the retry run takes it over (one client per embedded folder).
            await pilot.press("r")
            await wait_for(pilot, lambda: app.result is not None and app.session.config.retry_failed, timeout=120, what="the retry run")
            retry = app.result.snapshot
            assert retry.failed == 0
            assert retry.loaded == first.failed  # only the items that failed; the rest are skipped as unchanged
            await pilot.press("q")
    finally:
        demo.set_faults("plex")
    assert app.return_code == EXIT_OK


async def test_on_a_demo_load_a_bad_batch_size_is_refused_and_a_saved_profile_loads_back(builtin_demo_config):
    from textual.widgets import Input

    from plex_loader_tui.config import ProfileStore
    from plex_loader_tui.tui.screens import ProfileScreen, StageEditScreen

    config = builtin_demo_config
    app = LoaderApp(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session is not None and app.session.snapshot() is not None, timeout=60, what="the pipeline")
        session = app.session
        await pilot.press("p")  # hold the load while we edit it
        await pilot.press("3", "e")
        assert isinstance(app.screen, StageEditScreen)
        app.screen.query_one("#edit-batch", Input).value = "0"
        await pilot.press("enter")
        assert isinstance(app.screen, StageEditScreen)  # refused, still open
        assert session.pipeline.batch_size("embed") == 8
        app.screen.query_one("#edit-batch", Input).value = "12"
        app.screen.query_one("#edit-workers", Input).value = "2"
        await pilot.press("enter")
        assert session.pipeline.batch_size("embed") == 12 and session.pipeline.workers("embed") == 2
        await pilot.press("2", "+", "+")  # enrich 2 → 4
        assert session.pipeline.workers("enrich") == 4
        await pilot.press("o")
        assert isinstance(app.screen, ProfileScreen)
        app.screen.query_one("#profile-name", Input).value = "tuned-demo"
        await pilot.click("#profile-save")
        await pilot.press("p")
        values = ProfileStore(config.config_dir).load("tuned-demo")
        assert values["enrich_workers"] == 4
        assert values["embed_workers"] == 2 and values["embed_batch_size"] == 12
        assert values["ingest_batch_size"] == 20  # the Plex page size, not the engine's pages per batch
        assert values["demo"] is True
        await wait_for(pilot, lambda: app.result is not None, timeout=120, what="the load to finish")
        await pilot.press("o")
        app.screen.query_one("#profile-select").value = "tuned-demo"
        await pilot.click("#profile-load")
        await wait_for(pilot, lambda: app.session is not session and app.session.snapshot() is not None, timeout=60, what="the run with the profile")
        second = app.session
        assert second.config.profile == "tuned-demo"
        assert second.pipeline.workers("enrich") == 4
        assert second.pipeline.batch_size("embed") == 12
        await wait_for(pilot, lambda: app.result is not None, timeout=120, what="the second run")
        assert app.result.snapshot.skipped == 60  # nothing changed since the first run
        await pilot.press("q")
    assert app.return_code == EXIT_OK
