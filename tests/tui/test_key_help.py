"""``?`` and F1 show every key and what it does, after the operator's key map; Escape closes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.binding import Binding
from textual.widgets import Static

from plex_loader_tui.tui.app import LoaderApp
from plex_loader_tui.tui.keyhelp import KeyHelpScreen
from plex_loader_tui.tui.screens import SearchScreen
from plex_loader_tui.tui.widgets import ErrorLog, StagePanel

SMALL = (80, 24)
#: Every binding of ours the help must list (each has an id, so it can be remapped).
OUR_BINDINGS: list[Binding] = [
    b for b in (*LoaderApp.BINDINGS, *StagePanel.BINDINGS, *ErrorLog.BINDINGS, *SearchScreen.BINDINGS)
    if isinstance(b, Binding)
]


def _help_lines(app: LoaderApp) -> list[str]:
    assert isinstance(app.screen, KeyHelpScreen)
    return str(app.screen.query_one("#key-help-text", Static).render()).splitlines()


def _row_of(lines: list[str], description: str) -> str:
    rows = [line for line in lines if line.startswith("  ") and line.rstrip().endswith(description)]
    assert len(rows) == 1, f"{description!r} is on {len(rows)} rows"
    return rows[0]


@pytest.mark.parametrize("opener", ["question_mark", "f1"])
@pytest.mark.parametrize("closer", ["escape", "question_mark", "q", "f1"])
async def test_the_key_help_opens_lists_every_binding_and_closes(run_config, opener: str, closer: str):
    app = LoaderApp(run_config, autostart=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press(opener)
        assert isinstance(app.screen, KeyHelpScreen)
        lines = _help_lines(app)
        for binding in OUR_BINDINGS:
            assert binding.id, f"{binding.key} has no id to remap it by"
            if binding.action == "quit_app" and not binding.tooltip:
                continue  # ctrl+q shares the row of q
            _row_of(lines, binding.tooltip or binding.description)
        # Every row has keys and a description: no twin of a key pair as a row of its own.
        for line in lines:
            if line.startswith("  "):
                keys, _, description = line.strip().partition("  ")
                assert keys and len(description.split()) >= 2, f"odd row {line!r}"
        box = app.screen.query_one("#key-help")
        assert app.screen.region.contains_region(box.region)
        assert app.screen.region.contains_region(app.screen.query_one("#help-close").region)
        await pilot.press(closer)
        assert not isinstance(app.screen, KeyHelpScreen)


async def test_the_key_help_shows_remapped_keys(run_config):
    Path(run_config.config_dir).mkdir(parents=True, exist_ok=True)
    (Path(run_config.config_dir) / "keymap.toml").write_text(
        '[keymap]\npause = "space"\n"stage.workers-up" = "k"\nhelp = "h"\n'
    )
    app = LoaderApp(run_config, autostart=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("h")
        lines = _help_lines(app)
        assert _row_of(lines, "Pause taking new batches, or resume").split()[0] == "space"
        assert _row_of(lines, "Add a worker to the focused stage").split()[0] == "k"
        assert _row_of(lines, "Show every key and what it does").split()[0] == "h"
        await pilot.press("escape")
        await pilot.press("question_mark")  # remapped away: "?" no longer opens it
        assert not isinstance(app.screen, KeyHelpScreen)
