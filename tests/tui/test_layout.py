"""At 80x24, the default size of terminals and tmux, every figure is on screen and whole.

What the widgets draw at their size is read back (``render_line``), so a
figure cut at a panel's edge or a row pushed out of its box fails here; the
regions are checked against the screen, and the buttons and keys are clicked.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import seed_data
from helpers import wait_for
from textual.widget import Widget
from textual.widgets import Input, Select, Static

from plex_loader_tui.config import ProfileStore
from plex_loader_tui.pipeline.metrics import PipelineSnapshot
from plex_loader_tui.tui import format as fmt
from plex_loader_tui.tui.app import LoaderApp
from plex_loader_tui.tui.screens import ConfirmScreen, ProfileScreen
from plex_loader_tui.tui.widgets import StagePanel

SMALL = (80, 24)


def visible_text(widget: Widget) -> str:
    """The lines ``widget`` draws at its current size, as a terminal would show them."""
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


def _on_screen(app: LoaderApp, widget: Widget) -> bool:
    return widget.region.area > 0 and app.screen.region.contains_region(widget.region)


def big_snapshot() -> PipelineSnapshot:
    """The seeded mid-load frame with counts of six and seven digits and a full 100,000 queue."""
    mid = seed_data.mid_load_snapshot()
    stages = tuple(
        dataclasses.replace(
            stage, items_in=1_234_567, items_out=1_234_000, retries=12_345, errors=123_456,
            queue_depth=99_999, queue_capacity=100_000, busy_workers=64, workers=64, batch_size=10_000,
            throughput=1234.5, latency_p95=0.999,
        )
        for stage in mid.stages
    )
    return dataclasses.replace(
        mid, stages=stages, total=3_000_000, loaded=1_234_567, skipped=1_000_000, failed=123_456,
        in_flight=256_000, elapsed=3725.0, eta=9999.0,
    )


@pytest.mark.parametrize("snapshot", [seed_data.mid_load_snapshot(), big_snapshot()], ids=["seeded", "7-digit"])
async def test_every_stage_row_is_shown_whole_at_80x24(run_config, snapshot: PipelineSnapshot):
    app = LoaderApp(run_config, autostart=False)
    async with app.run_test(size=SMALL) as pilot:
        app.show_snapshot(snapshot)
        await pilot.pause()
        for stage in snapshot.stages:
            panel = app.query_one(f"#stage-{stage.name}", StagePanel)
            assert _on_screen(app, panel), f"{stage.name} panel is off screen"
            queue = panel.query_one(".queue-count", Static)
            assert panel.region.contains_region(queue.region)
            shown_queue = f"{fmt.short_count(stage.queue_depth)}/{fmt.short_count(stage.queue_capacity)}"
            assert visible_text(queue).strip() == shown_queue
            numbers = panel.query_one(".stage-numbers", Static)
            assert panel.region.contains_region(numbers.region), f"{stage.name}: figures outside the panel"
            lines = visible_text(numbers).splitlines()
            for label, value in [
                ("in", fmt.short_count(stage.items_in)),
                ("out", fmt.short_count(stage.items_out)),
                ("retries", fmt.short_count(stage.retries)),
                ("errors", fmt.short_count(stage.errors)),
                ("workers", f"{stage.busy_workers}/{stage.workers}"),
                ("p95", fmt.latency(stage.latency_p95)),  # the unit on the same line as the number
            ]:
                assert any(f"{label} {value}" in line for line in lines), (
                    f"{stage.name}: '{label} {value}' not whole in {lines}"
                )


@pytest.mark.parametrize("snapshot", [seed_data.mid_load_snapshot(), big_snapshot()], ids=["seeded", "7-digit"])
async def test_the_progress_figures_are_shown_whole_at_80x24(run_config, snapshot: PipelineSnapshot):
    app = LoaderApp(run_config, autostart=False)
    async with app.run_test(size=SMALL) as pilot:
        app.show_snapshot(snapshot)
        await pilot.pause()
        panel = app.query_one("#overall")
        assert _on_screen(app, panel)
        shown = "\n".join(visible_text(text) for text in panel.query(Static))
        for figure in [
            f"{fmt.count(snapshot.done)} / {fmt.count(snapshot.total)}",
            f"loaded {fmt.count(snapshot.loaded)}",
            f"skipped {fmt.count(snapshot.skipped)}",
            f"failed {fmt.count(snapshot.failed)}",
            f"in flight {fmt.count(snapshot.in_flight)}",
            f"elapsed {fmt.duration(snapshot.elapsed)}",
            snapshot.state,
        ]:
            assert figure in shown, f"{figure!r} not whole in {shown!r}"


async def test_the_footer_keeps_the_quit_key_at_80x24_and_it_works(sim_app):
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: app.running and app.session.snapshot() is not None, what="the load to run")
        await pilot.press("2")  # a focused stage panel brings its own keys: the footer is at its fullest
        await pilot.pause()
        keys = {key.key: key for key in app.screen.query("FooterKey")}
        for key, label in (("q", "Quit"), ("question_mark", "Keys")):
            assert key in keys, f"{key} is not in the footer"
            assert _on_screen(app, keys[key]), f"{key} is outside the screen"
            assert label in visible_text(keys[key])
        await pilot.click(keys["q"])
        assert isinstance(app.screen, ConfirmScreen)  # a load runs: quitting asks first
        await pilot.press("n")


async def test_the_profile_dialog_buttons_are_on_screen_and_clickable_at_80x24(sim_app, run_config):
    ProfileStore(Path(run_config.config_dir)).save("nightly", {"enrich_workers": 3})
    app = sim_app(items=30, delay=0.0)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: app.result is not None, what="the first run to end")
        app.clear_notifications()  # a toast may sit over the dialog's corner
        await pilot.press("o")
        assert isinstance(app.screen, ProfileScreen)
        await pilot.pause()
        for button_id in ("#profile-save", "#profile-load", "#profile-close"):
            button = app.screen.query_one(button_id)
            assert _on_screen(app, button), f"{button_id} is off screen: {button.region}"
            widget, _ = app.screen.get_widget_at(*button.region.center)
            assert button in (widget, *widget.ancestors), f"{button_id} is covered by {widget}"

        await pilot.click("#profile-close")
        assert not isinstance(app.screen, ProfileScreen)

        await pilot.press("o")
        app.screen.query_one("#profile-name", Input).value = "saved-at-80x24"
        await pilot.click("#profile-save")
        await wait_for(pilot, lambda: "saved-at-80x24" in ProfileStore(Path(run_config.config_dir)).list(),
                       what="the profile file")

        await pilot.press("o")
        app.screen.query_one("#profile-select", Select).value = "nightly"
        await pilot.click("#profile-load")
        await wait_for(pilot, lambda: len(app.sessions) == 2, what="a run with the loaded profile")
        assert app.sessions[1].config.stage("enrich").workers == 3
