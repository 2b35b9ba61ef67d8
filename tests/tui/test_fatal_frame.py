"""After a fatal error's "Back to dashboard", the dashboard still says the run failed.

A real load (LoadSession against the demo server on loopback) with a refused
token stops while connecting; before this, the dashboard behind the dialog went
on pulsing ``--%`` with every stage "idle", as if a load were about to start.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import paths_under, small_stages, wait_for
from textual.widgets import ProgressBar, Static

from plex_loader_tui.config import RunConfig
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.settings import demo_settings
from plex_loader_tui.tui.app import EXIT_FATAL, LoaderApp
from plex_loader_tui.tui.screens import FatalErrorScreen
from plex_loader_tui.tui.widgets import StagePanel

SIZE = (130, 40)


@pytest.fixture
def demo() -> Iterator[DemoServer]:
    with DemoServer(DemoLibrary.generate(seed=7, size=20), token="demo-token-7f3a9c21") as server:
        yield server


def _frame(app: LoaderApp) -> tuple[float | None, str, list[str]]:
    overall = app.query_one("#overall")
    states = [str(panel.query_one(".stage-state", Static).render()) for panel in app.query(StagePanel)]
    return app.query_one("#overall-bar", ProgressBar).total, overall.border_subtitle, states


async def test_back_to_the_dashboard_after_a_fatal_error_it_still_says_failed(tmp_path: Path, demo: DemoServer):
    config = dataclasses.replace(
        RunConfig(**demo_settings(demo), **paths_under(tmp_path), stages=small_stages()),
        plex_token="wrong-token-0123456789",
    )
    app = LoaderApp(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FatalErrorScreen), timeout=60, what="the fatal dialog")
        await pilot.press("escape")  # Back to dashboard
        assert not isinstance(app.screen, FatalErrorScreen)
        for _ in range(2):  # and it stays so, poll after poll
            total, note, states = _frame(app)
            assert total is not None, "the progress bar still pulses as if the load were starting"
            assert note.startswith("✗ failed: Plex rejected the token (401)"), note
            assert "wrong-token" not in note
            assert states == ["✗ stopped"] * 4, states
            assert "failed before any item was loaded" in str(app.query_one("#overall-stats", Static).render())
            app._poll()
            await pilot.pause()
        await pilot.press("q")
    assert app.return_code == EXIT_FATAL
