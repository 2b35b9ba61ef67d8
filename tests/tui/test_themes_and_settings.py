"""Theme files, the remembered theme, the key map, the command palette and NO_COLOR."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from helpers import wait_for
from textual.widgets import Static

from plex_loader_tui.tui import themes
from plex_loader_tui.tui.app import LoaderApp
from plex_loader_tui.tui.widgets import StagePanel

SIZE = (120, 36)


def test_bundled_themes_include_a_light_and_a_dark_one():
    result = themes.load_theme_files([themes.BUNDLED_THEMES_DIR])
    assert result.errors == ()
    by_name = {t.name: t for t in result.themes}
    assert {"plex-night", "plex-day"} <= set(by_name)
    assert by_name["plex-night"].dark is True
    assert by_name["plex-day"].dark is False


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name = 'x'\nprimary = 'not-a-colour'\n", "'primary' is not a colour"),
        ("primary = '#ffffff'\n", "'name' is required"),
        ("name = 'x'\n", "'primary' colour is required"),
        ("name = 'x'\nprimary = '#fff'\nshiny = true\n", "unknown key(s) shiny"),
        ("name = 'x'\nprimary = '#fff'\ndark = 'yes'\n", "'dark' must be true or false"),
        ("name = 'x'\nprimary = '#fff'\ntext_alpha = 3\n", "'text_alpha' must be a number from 0 to 1"),
        ("name = 'x'\nprimary = '#fff'\n[variables]\nfoo = 1\n", "[variables] must map names to strings"),
        ("name = 'x\nprimary = '#fff'\n", "not valid TOML"),
    ],
)
def test_a_bad_theme_file_is_refused_with_its_name_and_problem(tmp_path: Path, text: str, problem: str):
    path = tmp_path / "broken.toml"
    path.write_text(text)
    result = themes.load_theme_files([tmp_path])
    assert result.themes == ()
    assert len(result.errors) == 1
    assert str(path) in result.errors[0] and problem in result.errors[0]


def test_a_user_theme_overrides_a_bundled_one_of_the_same_name(tmp_path: Path):
    (tmp_path / "mine.toml").write_text("name = 'plex-night'\nprimary = '#123456'\n")
    result = themes.load_theme_files([themes.BUNDLED_THEMES_DIR, tmp_path])
    night = [t for t in result.themes if t.name == "plex-night"]
    assert len(night) == 1 and night[0].primary == "#123456"


async def test_every_bad_theme_file_is_reported_in_one_notification_and_the_app_still_starts(run_config):
    user_themes = Path(run_config.config_dir) / "themes"
    user_themes.mkdir(parents=True)
    (user_themes / "one.toml").write_text("name = 'one'\nprimary = 'nope'\n")
    (user_themes / "two.toml").write_text("this is not toml = = \n")
    (user_themes / "good.toml").write_text("name = 'good'\nprimary = '#336699'\ndark = true\n")
    app = LoaderApp(run_config, autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert len(app.theme_errors) == 2
        notices = [n for n in app._notifications if "theme file" in (n.title or "")]
        assert len(notices) == 1
        assert "one.toml" in notices[0].message and "two.toml" in notices[0].message
        assert "good" in app.available_themes
        assert app.query_one("#stage-enrich", StagePanel) is not None


async def test_the_chosen_theme_is_remembered_for_the_next_start(run_config):
    app = LoaderApp(run_config, autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == themes.DEFAULT_THEME
        app.theme = "plex-day"
        await pilot.pause()
    state = tomllib.loads(themes.state_path(run_config.config_dir).read_text())
    assert state["theme"] == "plex-day"
    again = LoaderApp(run_config, autostart=False)
    async with again.run_test(size=SIZE):
        assert again.theme == "plex-day"


async def test_an_unknown_remembered_theme_falls_back_to_the_default_and_says_so(run_config):
    themes.save_state(run_config.config_dir, themes.DashboardState(theme="gone-theme"))
    app = LoaderApp(run_config, autostart=False)
    async with app.run_test(size=SIZE):
        assert app.theme == themes.DEFAULT_THEME
        assert any("gone-theme" in n.message for n in app._notifications)


async def test_the_theme_setting_wins_over_the_remembered_one(run_config):
    import dataclasses

    themes.save_state(run_config.config_dir, themes.DashboardState(theme="plex-day"))
    app = LoaderApp(dataclasses.replace(run_config, theme="textual-light"), autostart=False)
    async with app.run_test(size=SIZE):
        assert app.theme == "textual-light"


def test_a_broken_state_file_reads_as_defaults(tmp_path: Path):
    themes.state_path(tmp_path).write_text("theme = ")
    assert themes.load_state(tmp_path) == themes.DashboardState()


async def test_keymap_file_remaps_a_binding_by_id(sim_app, run_config):
    Path(run_config.config_dir).mkdir(parents=True, exist_ok=True)
    (Path(run_config.config_dir) / "keymap.toml").write_text('[keymap]\npause = "space"\n')
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session is not None and app.session.snapshot() is not None)
        await pilot.press("space")
        assert app.session.paused
        await pilot.press("p")  # the old key no longer pauses/resumes
        assert app.session.paused
        await pilot.press("ctrl+c")


async def test_command_palette_lists_the_dashboard_actions(sim_app):
    app = sim_app(items=100_000, delay=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session is not None and app.session.snapshot() is not None)
        await pilot.press("ctrl+p")
        await pilot.press(*"pause")
        from textual.command import CommandList

        options = app.screen.query_one(CommandList)
        await wait_for(pilot, lambda: options.option_count > 0, what="palette hits")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("Pause / resume the load" in p for p in prompts)
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.paused
        await pilot.press("ctrl+c")


async def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch, run_config):
    monkeypatch.setenv("NO_COLOR", "1")
    app = LoaderApp(run_config, autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.no_color
        assert app.query_one("#app-title", Static) is not None


async def test_missing_bundled_themes_fall_back_to_a_textual_theme(run_config, tmp_path: Path):
    # An install without the top-level themes/ folder: nothing registered but Textual's own.
    empty = tmp_path / "no-themes"
    empty.mkdir()
    themes.save_state(run_config.config_dir, themes.DashboardState(theme="plex-day"))
    app = LoaderApp(run_config, autostart=False, theme_dirs=[empty])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == themes.FALLBACK_THEME
        assert any("plex-day" in n.message for n in app._notifications)
    # The fallback is not remembered over the operator's own choice.
    assert themes.load_state(run_config.config_dir).theme == "plex-day"


async def test_a_missing_requested_theme_with_no_bundled_themes_is_reported(run_config, tmp_path: Path):
    import dataclasses

    app = LoaderApp(dataclasses.replace(run_config, theme="plex-night"), autostart=False, theme_dirs=[tmp_path])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == themes.FALLBACK_THEME
        notes = [n.message for n in app._notifications]
        assert any("No theme named 'plex-night'" in m and themes.FALLBACK_THEME in m for m in notes), notes


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        ('keymap = "x"\n', "'keymap' must be a table"),
        ("[keymap]\npause = 3\nquit = \"x\"\n", "ignored pause"),
        ("pause = [\"space\"]\n", "ignored pause"),
    ],
)
async def test_a_bad_keymap_file_is_reported_and_ignored(run_config, text: str, reported: str):
    Path(run_config.config_dir).mkdir(parents=True, exist_ok=True)
    (Path(run_config.config_dir) / "keymap.toml").write_text(text)
    app = LoaderApp(run_config, autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        notes = [n.message for n in app._notifications if (n.title or "").startswith("Key map")]
        assert len(notes) == 1 and reported in notes[0], notes
        assert app.query_one("#stage-enrich", StagePanel) is not None


async def test_the_header_masks_credentials_in_the_urls_it_shows(tmp_path: Path):
    from types import SimpleNamespace

    from plex_loader_tui.tui.widgets import SourceHeader

    secret = "plexTOKENabcdef123456"
    # RunConfig refuses such URLs; the header masks them anyway, whatever config it is given.
    config = SimpleNamespace(
        plex_url=f"http://me:pw-{secret}@h:32400/?X-Plex-Token={secret}", demo=False,
        qdrant_location=None, qdrant_url=f"https://q:6333/?api_key={secret}", collection="c",
        profile=None, theme=None, config_dir=tmp_path / "config",
    )
    app = LoaderApp(config, autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = str(app.query_one(SourceHeader).render())
        assert "h:32400" in shown and "q:6333" in shown
        assert secret not in shown and "****3456" in shown
