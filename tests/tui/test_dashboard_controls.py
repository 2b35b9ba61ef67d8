"""Pilot tests: keys pressed on the dashboard steer a real engine (simulated stage work)."""

from __future__ import annotations

import threading

from helpers import Settled, wait_for
from textual.widgets import Input, Static

from plex_loader_tui.pipeline import MAX_BATCH_SIZE
from plex_loader_tui.config import ProfileStore
from plex_loader_tui.tui.outcome import EXIT_CANCELLED, EXIT_DRAINED, EXIT_FAILED_ITEMS, EXIT_FATAL, EXIT_OK
from plex_loader_tui.tui.screens import ConfirmScreen, FatalErrorScreen, ProfileScreen, StageEditScreen
from plex_loader_tui.tui.widgets import StagePanel

SIZE = (130, 40)


def _running(app) -> bool:
    snap = app.session.snapshot() if app.session is not None else None
    return snap is not None and snap.state == "running"


async def test_plus_raises_enrich_workers_from_2_to_6_in_engine_and_panel(sim_app):
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _running(app), what="the load to start")
        session = app.sessions[0]
        assert session.pipeline.workers("enrich") == 2
        await pilot.press("2")  # focus the enrich panel
        assert isinstance(app.focused, StagePanel) and app.focused.stage == "enrich"
        for _ in range(4):
            await pilot.press("+")
        assert session.pipeline.workers("enrich") == 6
        assert session.stage_settings()["enrich"].workers == 6
        panel = app.query_one("#stage-enrich", StagePanel)
        await wait_for(pilot, lambda: "/6" in str(panel.query_one(".stage-numbers", Static).render()), what="panel shows 6 workers")
        await wait_for(pilot, lambda: session.snapshot().stage("enrich").workers == 6, what="snapshot reports 6")
        await pilot.press("minus")
        assert session.pipeline.workers("enrich") == 5
        await pilot.press("right_square_bracket")
        assert session.pipeline.batch_size("enrich") == 16
        await pilot.press("ctrl+c")
    assert app.return_code == EXIT_CANCELLED


async def test_edit_dialog_refuses_an_invalid_batch_size_and_applies_a_valid_one(sim_app):
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _running(app), what="the load to start")
        session = app.sessions[0]
        await pilot.press("3", "e")  # focus embed, open the dialog
        assert isinstance(app.screen, StageEditScreen)
        batch = app.screen.query_one("#edit-batch", Input)
        for bad in ("0", str(MAX_BATCH_SIZE + 1), ""):
            batch.value = bad
            await pilot.press("enter")
            assert isinstance(app.screen, StageEditScreen), f"{bad!r} was accepted"
            error = str(app.screen.query_one("#edit-error", Static).render())
            assert "Not applied" in error and "batch size" in error
            assert session.pipeline.batch_size("embed") == 8
        batch.value = "32"
        app.screen.query_one("#edit-workers", Input).value = "3"
        await pilot.press("enter")
        assert not isinstance(app.screen, StageEditScreen)
        assert session.pipeline.batch_size("embed") == 32
        assert session.pipeline.workers("embed") == 3
        await wait_for(pilot, lambda: session.snapshot().stage("embed").batch_size == 32)
        await pilot.press("ctrl+c")


async def test_pause_stops_items_flowing_and_resume_restarts_them(sim_app):
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _running(app) and app.session.snapshot().done > 0, what="items flowing")
        session = app.sessions[0]
        await pilot.press("p")
        assert session.paused
        # Batches already in flight finish; then nothing may move.
        await wait_for(pilot, Settled(session), what="in-flight batches to finish")
        done = session.snapshot().done
        moved = [s.items_in for s in session.snapshot().stages]
        await pilot.pause(0.5)  # several poll ticks and many batch times of nothing
        assert session.snapshot().done == done
        assert [s.items_in for s in session.snapshot().stages] == moved
        assert all(s.state == "paused" for s in session.snapshot().stages)
        await pilot.press("p")
        assert not session.paused
        await wait_for(pilot, lambda: session.snapshot().done > done, what="items flowing again")
        await pilot.press("ctrl+c")


async def test_cancel_asks_first_then_ends_the_run_cleanly(sim_app):
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _running(app), what="the load to start")
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert _running(app), "answering no must keep the load going"
        await pilot.press("c", "y")
        await wait_for(pilot, lambda: not app.running, what="the run to end")
        assert app.result.state == "cancelled"
        assert app.sessions[0].pipeline.state == "cancelled"
        assert not [t for t in threading.enumerate() if t.name.startswith("stage-")]
        assert app.outcome_code() == EXIT_CANCELLED
        await pilot.press("q")
    assert app.return_code == EXIT_CANCELLED


async def test_a_finished_run_with_failures_exits_1_and_retry_starts_a_retry_run(sim_app):
    app = sim_app(items=60, delay=0.0, fail_every=20)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.result is not None, what="the run to finish")
        assert app.result.state == "finished"
        assert app.result.snapshot.failed == 3
        assert len(app.query_one("#error-log").letters) == 3
        await pilot.press("r")
        await wait_for(pilot, lambda: len(app.sessions) == 2 and app.result is not None, what="the retry run")
        assert app.sessions[1].config.retry_failed is True
        assert app.config.retry_failed is False
        await pilot.press("q")
    assert app.return_code == EXIT_FAILED_ITEMS


async def test_a_clean_finish_exits_0(sim_app):
    app = sim_app(items=40, delay=0.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.result is not None, what="the run to finish")
        assert app.result.snapshot.loaded == 40
        await pilot.press("q")
    assert app.return_code == EXIT_OK


async def test_a_fatal_error_is_shown_then_quit_exits_3_with_the_secret_masked(sim_app, run_config):
    app = sim_app(items=1000, delay=0.0, fatal_after=20)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FatalErrorScreen) and bool(app.screen.query("#fatal-message")), what="the fatal error dialog")
        message = str(app.screen.query_one("#fatal-message", Static).render())
        assert "Qdrant rejected the API key (403)" in message
        assert app.fatal_message is not None
        await pilot.press("escape")  # back to the dashboard: the error stays on record
        assert not isinstance(app.screen, FatalErrorScreen)
        await pilot.press("q")
    assert app.return_code == EXIT_FATAL


async def test_quit_while_running_asks_then_cancels_and_exits_130(sim_app):
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _running(app), what="the load to start")
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert app.return_code == EXIT_CANCELLED
    assert app.sessions[0].pipeline.state == "cancelled"


async def test_ctrl_c_during_model_loading_exits_130(sim_app):
    app = sim_app(items=100, hold_models=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.sessions), what="a session")
        session = app.sessions[0]
        await wait_for(pilot, lambda: session.phase == "loading-models", what="model loading")
        enrich_numbers = str(app.query_one("#stage-enrich .stage-numbers", Static).render())
        assert "–/2" in enrich_numbers and "batch 8" in enrich_numbers  # planned settings, before the pipeline
        phase_text = app.query_one("#phase-text", Static)
        await wait_for(pilot, lambda: "Loading embedding models" in str(phase_text.render()), what="the indicator text")
        assert app.query_one("#phase").display
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert app.return_code == EXIT_CANCELLED


async def test_profile_saved_from_the_dashboard_loads_back_with_the_same_values(sim_app, run_config):
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _running(app), what="the load to start")
        await pilot.press("2", "+", "+", "+", "3", "right_square_bracket")  # enrich 5 workers, embed batch 16
        await pilot.press("o")
        assert isinstance(app.screen, ProfileScreen)
        rows = {row[0]: row[1] for row in app.screen.rows}
        assert rows["stages.enrich.workers"] == "5"
        assert rows["stages.embed.batch_size"] == "16"
        assert app.screen.query_one("#profile-load").disabled  # no loading while running
        app.screen.query_one("#profile-name", Input).value = "tuned"
        await pilot.click("#profile-save")
        assert not isinstance(app.screen, ProfileScreen)
        store = ProfileStore(run_config.config_dir)
        assert "tuned" in store.list()
        values = store.load("tuned")
        assert values["enrich_workers"] == 5 and values["embed_batch_size"] == 16
        assert values["enrich_batch_size"] == 8 and values["ingest_workers"] == 1
        # End this run, then load the profile: the next run starts with the saved values.
        await pilot.press("c", "y")
        await wait_for(pilot, lambda: not app.running, what="the run to end")
        await pilot.press("o")
        app.screen.query_one("#profile-select").value = "tuned"
        await pilot.click("#profile-load")
        await wait_for(pilot, lambda: len(app.sessions) == 2 and _running(app), what="the run with the profile")
        second = app.sessions[1]
        assert second.config.profile == "tuned"
        assert second.config.stage("enrich").workers == 5
        assert second.config.stage("embed").batch_size == 16
        assert second.pipeline.workers("enrich") == 5
        assert "tuned" in str(app.query_one("#source-header", Static).render())
        await pilot.press("ctrl+c")


async def test_error_log_row_opens_the_details(sim_app):
    app = sim_app(items=60, delay=0.0, fail_every=20)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.result is not None, what="the run to finish")
        await pilot.press("l", "enter")
        from plex_loader_tui.tui.screens import ErrorDetailScreen

        assert isinstance(app.screen, ErrorDetailScreen)
        assert app.screen.letter.stage == "embed"
        assert "cannot embed item" in str(app.screen.query_one("#error-text", Static).render())
        await pilot.press("escape")
        assert not isinstance(app.screen, ErrorDetailScreen)
        await pilot.press("q")


async def test_search_screen_lists_hits(sim_app):
    app = sim_app(items=40, delay=0.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.result is not None, what="the run to finish")
        await pilot.press("s")
        from plex_loader_tui.tui.screens import SearchScreen

        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"space heist", "enter")
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.hits) == 10, what="hits")
        assert "10 hits" in str(screen.query_one("#search-status", Static).render())
        await pilot.press("escape")
        assert not isinstance(app.screen, SearchScreen)
        await pilot.press("q")


async def test_drain_finishes_the_batches_in_flight_and_stops(sim_app):
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _running(app) and app.session.snapshot().done > 0, what="items flowing")
        await pilot.press("d")
        await wait_for(pilot, lambda: not app.running, what="the drain to finish")
        result = app.result
        assert result.state == "drained"
        snap = result.snapshot
        assert 0 < snap.done < 100_000
        assert all(stage.state == "drained" for stage in snap.stages)
        assert "drained" in str(app.query_one("#overall-stats", Static).render())
        # (That in-flight batches still reach the end is the engine's promise, tested there.)
        assert app.outcome_code() == EXIT_DRAINED  # items were left: not "everything loaded"
        await pilot.press("q")
    assert app.return_code == EXIT_DRAINED


async def test_actions_that_need_a_running_load_are_disabled_after_it(sim_app):
    app = sim_app(items=30, delay=0.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.result is not None, what="the run to finish")
        # False, not None: a key that cannot act leaves the footer rather than showing dimmed.
        assert app.check_action("toggle_pause", ()) is False
        assert app.check_action("cancel_load", ()) is False
        assert app.check_action("retry_failed", ()) is True
        await pilot.press("p", "c")  # nothing to pause or cancel: no dialog, no crash
        assert not isinstance(app.screen, ConfirmScreen)
        assert "press s to search" in app.query_one("#overall").border_subtitle
        await pilot.press("q")


async def test_dashboard_keys_do_not_fire_behind_a_dialog_or_the_search_screen(sim_app):
    from plex_loader_tui.tui.screens import SearchScreen

    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _running(app), what="the load to start")
        await pilot.press("3", "e")
        dialog = app.screen
        assert isinstance(dialog, StageEditScreen)
        await pilot.press("tab", "tab")  # focus off the inputs, onto the buttons
        await pilot.press("o", "p", "s")
        assert app.screen is dialog
        assert not app.session.paused
        await pilot.press("escape")
        await pilot.press("s")
        search = app.screen
        assert isinstance(search, SearchScreen)
        await pilot.press("tab")  # onto the hits table
        await pilot.press("s", "o")
        assert app.screen is search
        await pilot.press("escape", "ctrl+c")
    assert app.return_code == EXIT_CANCELLED


async def test_loading_a_profile_while_models_load_restarts_with_it(sim_app, run_config):
    ProfileStore(run_config.config_dir).save("wide", {"enrich_workers": 7})
    app = sim_app(items=100_000, delay=0.01, hold_models=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.sessions) and app.sessions[0].phase == "loading-models", what="model loading")
        await pilot.press("o")
        assert isinstance(app.screen, ProfileScreen)
        assert not app.screen.query_one("#profile-load").disabled  # nothing has been loaded yet
        app.screen.query_one("#profile-select").value = "wide"
        await pilot.click("#profile-load")
        await wait_for(pilot, lambda: len(app.sessions) == 2, what="the restart")
        assert app.sessions[0].phase == "cancelled"
        second = app.sessions[1]
        second.models_ready.set()
        await wait_for(pilot, lambda: second.pipeline is not None, what="the new pipeline")
        assert second.config.profile == "wide"
        assert second.pipeline.workers("enrich") == 7
        await pilot.press("ctrl+c")
    assert app.return_code == EXIT_CANCELLED
