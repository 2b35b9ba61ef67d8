"""The dashboard's numbers after a run: how it ended, what is left, what the next run will use.

Pilot tests on a real engine with simulated stage work (``SimSession``).
"""

from __future__ import annotations

from helpers import wait_for
from textual.widgets import Static

from plex_loader_tui.tui.outcome import EXIT_CANCELLED, EXIT_DRAINED
from plex_loader_tui.tui.widgets import OverallPanel, StagePanel

SIZE = (130, 40)


def _running(app) -> bool:
    snap = app.session.snapshot() if app.session is not None else None
    return snap is not None and snap.state == "running" and snap.loaded > 0


def _panel_text(app, stage: str) -> tuple[str, str, str]:
    panel = app.query_one(f"#stage-{stage}", StagePanel)
    state = str(panel.query_one(".stage-state", Static).render())
    return state, str(panel.query_one(".stage-numbers", Static).render()), panel.border_subtitle or ""


async def test_a_tuning_change_after_the_run_shows_in_the_panel_at_once(sim_app):
    app = sim_app(items=40, delay=0.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.result is not None, what="the run to finish")
        _, numbers, note = _panel_text(app, "enrich")
        assert "workers 0/2" in numbers and note == ""
        await pilot.press("2", "+")
        _, numbers, note = _panel_text(app, "enrich")
        assert "workers 0/3" in numbers and note == "next run"  # at once, without another run
        await pilot.press("+", "right_square_bracket")  # each step goes on from the next run's values
        _, numbers, _ = _panel_text(app, "enrich")
        assert "workers 0/4" in numbers and "batch 16" in numbers
        assert app.config.stage("enrich").workers == 4 and app.config.stage("enrich").batch_size == 16
        await pilot.press("q")


async def test_after_a_cancel_every_stage_says_cancelled_and_keeps_its_workers(sim_app):
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _running(app), what="items flowing")
        await pilot.press("c", "y")
        await wait_for(pilot, lambda: not app.running, what="the run to stop")
        snap = app.result.snapshot
        for name, configured in (("ingest", 1), ("enrich", 2), ("embed", 2), ("upsert", 1)):
            state, numbers, _ = _panel_text(app, name)
            assert "cancelled" in state and "starved" not in state
            assert f"workers 0/{configured}" in numbers  # not 0/0
        left = snap.total - snap.done
        assert left > 0
        note = app.query_one(OverallPanel).border_subtitle
        assert note.startswith(f"cancelled: {left:,} items left for the next run")
        assert "avg" in str(app.query_one("#overall-figures", Static).render())  # the run's average rate
        await pilot.press("q")
    assert app.return_code == EXIT_CANCELLED


async def test_a_drained_run_exits_with_its_own_code_and_the_hint_says_how_many_remain(sim_app):
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _running(app), what="items flowing")
        await pilot.press("d")
        await wait_for(pilot, lambda: not app.running, what="the drain to finish")
        snap = app.result.snapshot
        left = snap.total - snap.done
        assert app.result.state == "drained" and left > 0
        assert app.query_one(OverallPanel).border_subtitle.startswith(f"drained: {left:,} items left for the next run")
        assert all("drained" in _panel_text(app, name)[0] for name in ("ingest", "enrich", "embed", "upsert"))
        assert app.outcome_code() == EXIT_DRAINED
        await pilot.press("q")
    assert app.return_code == EXIT_DRAINED == 4
