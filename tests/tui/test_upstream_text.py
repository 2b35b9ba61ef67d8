"""Text from outside is shown as data: never read as markup, never sent as terminal control.

Titles, summaries, errors, queries, config values and file paths reach every
dashboard widget that shows them holding the demo's hostile fragments: markup
that crashes a parser (``[/]``), acts (``[@click=app.quit]``) or styles
(``[bold red]``, ``[link=…]``), and escape sequences that retitle (OSC 0) or
clear (``ESC [2J``) a terminal, a C1 CSI and a NUL. Each test checks that the app
is still up, that the widget shows the text literally (controls written out as
``\\e``, ``\\x07``), and that nothing on screen holds a raw control character.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import seed_data
from helpers import paths_under, small_stages, wait_for
from textual.coordinate import Coordinate
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.widgets._toast import Toast

from plex_loader_tui.config import RunConfig
from plex_loader_tui.demo.hostile import HOSTILE_LINE
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.settings import demo_settings
from plex_loader_tui.printable import one_line, printable
from plex_loader_tui.search import SearchHit
from plex_loader_tui.tui.app import EXIT_FATAL, LoaderApp
from plex_loader_tui.tui.details import HitDetailScreen
from plex_loader_tui.tui.keyhelp import KeyHelpScreen
from plex_loader_tui.tui.screens import ErrorDetailScreen, FatalErrorScreen, ProfileScreen, SearchScreen
from plex_loader_tui.tui.widgets import StagePanel

SIZE = (160, 45)
MARKUP = ("[/]", "[@click=app.quit]", "[bold red]x[/]", "[link=http://x]y[/link]")
ESCAPES = ("\x1b]0;pwned\x07", "\x1b[2J", "\x9b31m", "nul\x00")
#: The escapes as a widget shows them.
SHOWN_ESCAPES = ("\\e]0;pwned\\x07", "\\e[2J", "\\x9b31m", "nul\\x00")
#: Every fragment at once.
HOSTILE = " ".join(("heist", *MARKUP, *ESCAPES))
#: A title short enough for the error log's item column, and how it shows.
TITLE, SHOWN_TITLE = "[/] [@click=app.quit] \x1b]0;pwned\x07\x9b31m", "[/] [@click=app.quit] \\e]0;pwned\\x07\\x9b31m"
RAW_CONTROLS = ("\x1b", "\x07", "\x00", "\x9b")


def assert_inert(text: str) -> None:
    """No raw control character in ``text``."""
    assert not any(c in text for c in RAW_CONTROLS), repr(text)


def assert_literal(text: str) -> None:
    """``text`` shows every hostile fragment as written, with its controls written out."""
    assert_inert(text)
    missing = [f for f in (*MARKUP, *SHOWN_ESCAPES) if f not in text]
    assert not missing, f"{missing} not shown in {text!r}"


def shown(widget: Widget) -> str:
    """What ``widget`` renders, as text."""
    return str(widget.render())


def assert_screen_inert(app: LoaderApp) -> None:
    """What the terminal would get (the screenshot of the whole screen, toasts and borders included)."""
    assert_inert(app.export_screenshot())


def cells(table: DataTable, row: int) -> list[str]:
    """The plain text of ``row``'s cells; a cell given as a str would have been read as markup."""
    return [table.get_cell_at(Coordinate(row, column)).plain for column in range(len(table.columns))]


@pytest.fixture
def app(tmp_path: Path) -> LoaderApp:
    config = RunConfig(demo=True, **paths_under(tmp_path))
    return LoaderApp(config, autostart=False)


# ------------------------------------------------------------------ error log
async def test_the_error_log_and_its_details_show_failed_items_as_written(sim_app):
    # A real pipeline whose embed stage fails every 5th item: the engine makes the dead letters.
    app = sim_app(items=20, delay=0.001, fail_every=5, title=TITLE + " #{}", error=HOSTILE + " item {}")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.result is not None, what="the load to finish")
        table = app.query_one("#error-log", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4, what="four failures in the error log")
        _, stage, item, error = cells(table, 0)
        assert stage == "embed"
        assert item.startswith(SHOWN_TITLE + " #"), item
        assert_inert(item)
        assert error.startswith("ValueError: heist "), error
        assert_literal(error)
        assert_screen_inert(app)

        await pilot.press("l", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorDetailScreen), what="the error's details")
        await pilot.pause()
        summary = shown(app.screen.query_one("#error-summary", Static))
        assert SHOWN_TITLE in summary, summary
        assert_inert(summary)
        assert_literal(shown(app.screen.query_one("#error-text", Static)))
        assert_screen_inert(app)
        assert app.is_running


# -------------------------------------------------------------------- search
@pytest.fixture
def hostile_demo() -> Iterator[DemoServer]:
    """A demo server whose Plex titles and TMDb overviews carry the hostile fragments."""
    with DemoServer(DemoLibrary.generate(seed=7, size=12), token="demo-token-7f3a9c21") as server:
        server.set_faults("plex", hostile=True)
        server.set_faults("tmdb", hostile=True)
        yield server


async def test_a_search_for_heist_markup_lists_hostile_hits_as_written(tmp_path: Path, hostile_demo: DemoServer):
    # A real load (Plex → TMDb/IMDb → fastembed → embedded Qdrant), then a real hybrid search.
    config = RunConfig(**demo_settings(hostile_demo), **paths_under(tmp_path), stages=small_stages())
    app = LoaderApp(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.result is not None, timeout=180, what="the load to finish")
        assert app.result.snapshot.loaded > 0
        await pilot.press("s")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await pilot.pause()
        await pilot.press(*"heist [/]", "enter")
        await wait_for(pilot, lambda: bool(screen.hits), timeout=60, what="the hits")
        status = shown(screen.query_one("#search-status", Static))
        assert f"for {'heist [/]'!r}" in status, status
        table = screen.query_one("#search-hits", DataTable)
        titles = [cells(table, row)[3] for row in range(table.row_count)]
        # Each title cell is the hit's title as Plex sent it, on one line, controls written out.
        assert titles == [one_line(hit.display_title) for hit in screen.hits]
        for title in titles:
            assert_inert(title)
        together = " ".join(titles)
        assert "[/]" in together and "[@click=app.quit]" in together, together
        assert_screen_inert(app)

        table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HitDetailScreen), what="the hit's details")
        await pilot.pause()
        detail = app.screen
        border = detail.query_one("#hit-detail")._border_title
        assert border is not None and border.plain == one_line(screen.hits[0].display_title)
        fields = shown(detail.query_one("#hit-fields", Static))
        # The overviews TMDb sent hold every fragment (Plex's XML cannot carry the controls).
        shown_line = printable(HOSTILE_LINE, keep_newlines=True)
        assert shown_line.startswith("[bold red]x[/] [@click=app.quit] [link=http://x]y[/link] \\e]0;pwned\\x07\\e[2J")
        assert shown_line.split("\\r")[0] in fields, fields
        assert_inert(fields)
        assert_screen_inert(app)
        assert app.is_running


async def test_a_failed_search_says_why_in_plain_text(app: LoaderApp):
    async def search(query: str, limit: int) -> list[SearchHit]:
        raise RuntimeError(HOSTILE)

    async with app.run_test(size=SIZE) as pilot:
        screen = SearchScreen(search, "media-items")
        app.push_screen(screen)
        await pilot.pause()
        await pilot.press(*"heist [/]", "enter")
        status = screen.query_one("#search-status", Static)
        await wait_for(pilot, lambda: "Search failed" in shown(status), what="the failure")
        assert_literal(shown(status))
        assert_screen_inert(app)


# --------------------------------------------------------- phase and fatal
async def test_the_phase_text_shows_the_model_names_as_written(sim_app):
    app = sim_app(hold_models=True, models=HOSTILE)
    async with app.run_test(size=SIZE) as pilot:
        phase = app.query_one("#phase-text", Static)
        await wait_for(pilot, lambda: "heist" in shown(phase), what="the phase text")
        assert_literal(shown(phase))
        assert_screen_inert(app)
        app.sessions[0].cancel()


async def test_a_click_on_an_action_in_the_phase_text_does_nothing(sim_app):
    app = sim_app(hold_models=True, models="[@click=app.quit]quit[/] BAAI/bge-small-en-v1.5")
    async with app.run_test(size=SIZE) as pilot:
        phase = app.query_one("#phase-text", Static)
        await wait_for(pilot, lambda: "bge-small" in shown(phase), what="the phase text")
        label = "Loading embedding models… "
        # Where "quit" would be, were the detail read as markup (the literal "[@c" is there now).
        await pilot.click(phase, offset=(len(label) + 1, 0))
        await pilot.pause()
        # app.quit would have asked "A load is running. Cancel it and quit?"
        assert len(app.screen_stack) == 1, app.screen
        assert app.is_running and app.return_code is None
        assert shown(phase).startswith(label + "[@click=app.quit]quit[/]")
        app.sessions[0].cancel()


async def test_a_dense_model_named_in_markup_ends_in_the_fatal_dialog_not_a_traceback(tmp_path: Path):
    server = DemoServer(DemoLibrary.generate(seed=7, size=12), token="demo-token-7f3a9c21")
    with server:
        model = "[/]x " + " ".join(MARKUP[1:])
        config = RunConfig(**demo_settings(server), **paths_under(tmp_path), stages=small_stages(), dense_model=model)
        app = LoaderApp(config)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, FatalErrorScreen), timeout=60, what="the fatal dialog")
            await pilot.pause()
            message = shown(app.screen.query_one("#fatal-message", Static))
            assert model in message, message
            assert_screen_inert(app)
            await pilot.press("escape")  # back to the dashboard: the progress panel says why it failed
            assert model in app.query_one("#overall")._border_subtitle.plain
            await pilot.press("q")
    assert app.return_code == EXIT_FATAL


async def test_the_fatal_dialog_shows_a_message_with_escapes_written_out(app: LoaderApp):
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(FatalErrorScreen(f"Plex answered 400: {HOSTILE}", title=f"The load stopped {HOSTILE}"))
        await pilot.pause()
        assert_literal(shown(app.screen.query_one("#fatal-message", Static)))
        assert_literal(app.screen.query_one("#fatal")._border_title.plain)
        assert_screen_inert(app)


# ------------------------------------------------------ config values and paths
@pytest.fixture
def hostile_config(tmp_path: Path) -> RunConfig:
    """Paths and library names the operator typed, holding every fragment."""
    folder = tmp_path / HOSTILE.replace("\x00", "")  # a path cannot hold NUL
    return RunConfig(
        demo=True,
        config_dir=tmp_path / "config",
        data_dir=tmp_path / "data",
        qdrant_path=folder / "qdrant",
        log_file=folder / "run.log",
        libraries=(HOSTILE,),
    )


async def test_the_header_shows_the_target_path_as_written(hostile_config: RunConfig):
    app = LoaderApp(hostile_config, autostart=False)
    async with app.run_test(size=(400, 40)) as pilot:  # wide: the header shows the whole path
        await pilot.pause()
        header = shown(app.query_one("#source-header", Static))
        path = printable(hostile_config.qdrant_path)
        assert f"target Qdrant {path}" in header, header
        assert "[/] [@click=app.quit] [bold red]x[/]" in path and "\\e]0;pwned\\x07 \\e[2J \\x9b31m" in path, path
        assert_inert(header)
        assert_screen_inert(app)


async def test_the_profile_dialog_shows_paths_and_names_as_written(hostile_config: RunConfig):
    app = LoaderApp(hostile_config, autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfileScreen), what="the profile dialog")
        await pilot.pause()
        table = app.screen.query_one("#profile-config", DataTable)
        rows = {row[0]: row[1] for row in (cells(table, i) for i in range(table.row_count))}
        assert_literal(rows["libraries"])
        for key in ("log_file", "qdrant_path"):
            assert "[/] [@click=app.quit] [bold red]x[/]" in rows[key] and "\\e[2J" in rows[key], rows[key]
            assert_inert(rows[key])
        assert_screen_inert(app)
        assert app.is_running


@pytest.mark.parametrize(
    ("size", "detail", "expected"),
    [
        ((200, 50), HOSTILE, None),  # tall: the state has a row of its own
        ((100, 30), "[/]x \x1b[2J", "[/]x \\e[2J"),  # short: the state and its detail ride in the border title
    ],
    ids=["state-row", "border-title"],
)
async def test_stage_panels_show_a_stage_detail_as_written(app: LoaderApp, size, detail, expected):
    snapshot = seed_data.mid_load_snapshot()  # enrich is rate limited: its detail is shown
    stages = tuple(dataclasses.replace(s, detail=detail) if s.name == "enrich" else s for s in snapshot.stages)
    async with app.run_test(size=size) as pilot:
        app.show_snapshot(dataclasses.replace(snapshot, stages=stages))
        await pilot.pause()
        panel = app.query_one("#stage-enrich", StagePanel)
        state = panel.query_one(".stage-state", Static)
        if expected is None:
            assert state.display
            assert_literal(shown(state))
        else:
            assert not state.display
            title = panel._border_title.plain  # the Content the border draws
            assert title.endswith(f"rate limited · {expected}"), title
            assert_inert(title)
        assert_screen_inert(app)


# ------------------------------------------------- the operator's own files
async def test_notifications_and_key_help_show_theme_and_key_map_entries_as_written(tmp_path: Path):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "keymap.toml").write_text(
        'pause = "[/]"\n'
        'drain = "x\\u001b[2J"\n'  # a control character names no key: ignored, and said so
        '"[bold red]x[/] \\u001b]0;pwned\\u0007" = 1\n',  # not binding-id = "keys": ignored, and said so
        encoding="utf-8",
    )
    config = RunConfig(demo=True, config_dir=config_dir, data_dir=tmp_path / "data", qdrant_path=tmp_path / "q",
                       theme=HOSTILE)
    app = LoaderApp(config, autostart=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: len(app.screen.query(Toast)) >= 2, what="the notifications")
        toasts = [shown(toast) for toast in app.screen.query(Toast)]
        theme = next(t for t in toasts if "No theme named" in t)
        assert f"No theme named {HOSTILE!r}" in theme, theme
        assert "[/] [@click=app.quit] [bold red]x[/] [link=http://x]y[/link]" in theme
        keymap = next(t for t in toasts if "ignored" in t)
        assert "ignored [bold red]x[/] \\e]0;pwned\\x07, drain: every entry" in keymap, keymap
        for toast in toasts:
            assert_inert(toast)
        assert_screen_inert(app)

        app.clear_notifications()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, KeyHelpScreen), what="the key help")
        await pilot.pause()
        keys = shown(app.screen.query_one("#key-help-text", Static))
        pause_row = next(line for line in keys.splitlines() if "Pause taking new batches" in line)
        assert pause_row.split()[0] == "[/]", pause_row
        drain_row = next(line for line in keys.splitlines() if "Finish the batches in flight" in line)
        assert drain_row.split()[0] == "d", drain_row
        assert_inert(keys)
        assert_screen_inert(app)
        assert app.is_running
