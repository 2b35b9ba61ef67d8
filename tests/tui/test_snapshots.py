"""Snapshot tests: what the main screens look like, from seeded data at a fixed size.

Run ``pytest tests/tui/test_snapshots.py --snapshot-update`` after an
intended change of the look, and review the SVG diffs before committing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import seed_data
from textual.pilot import Pilot
from textual.widgets import Input

from plex_loader_tui.config import RunConfig, StageConfig
from plex_loader_tui.config import ProfileStore
from plex_loader_tui.tui.app import LoaderApp
from plex_loader_tui.tui.screens import (
    ErrorDetailScreen,
    FatalErrorScreen,
    ProfileScreen,
    SearchScreen,
    StageEditScreen,
)
from plex_loader_tui.tui.widgets import StagePanel

SIZE = (120, 36)
#: The default size of most terminals and of tmux; the medium size; a big screen.
SIZES = {"80x24": (80, 24), "120x36": (120, 36), "200x50": (200, 50)}
SMALL = SIZES["80x24"]
SOURCE = "Demo Library at http://127.0.0.1:32400 (token ****abcd)"
TARGET = "Qdrant (embedded) qdrant"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LoaderApp:
    """A dashboard with no load running; relative paths keep the screens free of tmp names."""
    monkeypatch.chdir(tmp_path)
    config = RunConfig(
        demo=True,
        config_dir=Path("config"),
        data_dir=Path("data"),
        qdrant_path=Path("qdrant"),
        profile="nightly",
        stages={
            "ingest": StageConfig(2, 200),
            "enrich": StageConfig(6, 20),
            "embed": StageConfig(2, 16),
            "upsert": StageConfig(1, 64),
        },
    )
    ProfileStore(config.config_dir).save("nightly", {"enrich_workers": 6})
    ProfileStore(config.config_dir).save("small-box", {"embed_workers": 1})
    return LoaderApp(config, autostart=False)


async def _seed(pilot: Pilot, snapshot=None) -> None:
    app: LoaderApp = pilot.app  # type: ignore[assignment]
    app.show_info(SOURCE, TARGET, "media-items", "nightly")
    app.show_snapshot(snapshot or seed_data.mid_load_snapshot())
    await pilot.pause()


def _no_blink(pilot: Pilot) -> None:
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False


@pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))
def test_dashboard_mid_load(snap_compare, app, size):
    """Two by two below 120 columns, four in a row from there; compact below 36 rows."""

    async def run_before(pilot: Pilot) -> None:
        await _seed(pilot)
        app.query_one("#stage-enrich", StagePanel).focus()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_dashboard_finished_with_failures(snap_compare, app):
    async def run_before(pilot: Pilot) -> None:
        await _seed(pilot, seed_data.finished_snapshot())

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x36", "80x24"])
def test_tuning_dialog_with_a_refused_value(snap_compare, app, size):
    async def run_before(pilot: Pilot) -> None:
        await _seed(pilot)
        app.push_screen(StageEditScreen("enrich", 6, 20))
        await pilot.pause()
        app.screen.query_one("#edit-batch", Input).value = "0"
        app.screen.query_one("#edit-batch", Input).focus()
        await pilot.press("enter")
        app.clear_notifications()
        _no_blink(pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x36", "80x24"])
def test_profile_modal(snap_compare, app, size):
    async def run_before(pilot: Pilot) -> None:
        await _seed(pilot)
        app.action_profile()
        await pilot.pause()
        assert isinstance(app.screen, ProfileScreen)
        _no_blink(pilot)
        app.screen.query_one("#profile-config").focus()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_error_detail_modal(snap_compare, app):
    async def run_before(pilot: Pilot) -> None:
        await _seed(pilot)
        app.push_screen(ErrorDetailScreen(seed_data.failures()[1]))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_search_screen_with_hits(snap_compare, app):
    async def run_before(pilot: Pilot) -> None:
        await _seed(pilot)
        screen = SearchScreen(None, "media-items")
        app.push_screen(screen)
        await pilot.pause()
        screen.query_one("#search-query", Input).value = "a heist that goes wrong"
        screen.show_hits("a heist that goes wrong", seed_data.search_hits())
        screen.query_one("#search-hits").focus()
        _no_blink(pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_fatal_error_dialog(snap_compare, app):
    async def run_before(pilot: Pilot) -> None:
        await _seed(pilot)
        app.push_screen(
            FatalErrorScreen("Plex rejected the token (401) at http://127.0.0.1:32400: check PLEX_TOKEN")
        )
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_light_theme_dashboard(snap_compare, app):
    async def run_before(pilot: Pilot) -> None:
        app.theme = "plex-day"
        await _seed(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_key_help_at_80x24(snap_compare, app):
    async def run_before(pilot: Pilot) -> None:
        await _seed(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


@pytest.mark.parametrize("link", ["connected", "reconnecting"])
def test_attached_header(snap_compare, app, link):
    """Attached to a service: its URL, state and uptime at the top right, or "reconnecting…"."""
    from plex_loader_tui.service.controls import ServiceState
    from plex_loader_tui.tui.attach_mode import AttachHeader
    from plex_loader_tui.tui.attached import AttachView, Link

    async def run_before(pilot: Pilot) -> None:
        await _seed(pilot)
        header = app.query_one(AttachHeader)
        header.display = True
        header.show(AttachView("http://127.0.0.1:8765", Link(link), ServiceState.WATCHING, 7325.0, attempt=3))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
