"""Theme files for the dashboard, and the small state file that remembers the choice.

A theme file is TOML with the fields of Textual's :class:`~textual.theme.Theme`
(``name``, ``primary`` and optionally ``secondary``, ``accent``, ``foreground``,
``background``, ``surface``, ``panel``, ``boost``, ``warning``, ``error``,
``success``, ``dark``, ``luminosity_spread``, ``text_alpha`` and a
``[variables]`` table). Every file is validated on its own: a bad file is
skipped and reported, never fatal, so one typo cannot keep the dashboard from
starting.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from textual.color import Color, ColorParseError
from textual.theme import Theme

log = logging.getLogger(__name__)

#: Where the themes shipped with the project live (the repository's top-level ``themes/``).
BUNDLED_THEMES_DIR = Path(__file__).resolve().parents[2] / "themes"
#: File (under the config directory) where the dashboard remembers its theme.
STATE_FILE_NAME = "dashboard-state.toml"
#: The theme used when nothing was chosen yet.
DEFAULT_THEME = "plex-night"
#: Textual's own theme, used when :data:`DEFAULT_THEME` is not there (an install
#: without the bundled ``themes/`` folder): it is always registered.
FALLBACK_THEME = "textual-dark"

_COLOUR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "warning",
    "error",
    "success",
)
_FLOAT_KEYS = ("luminosity_spread", "text_alpha")
_ALLOWED_KEYS = frozenset({"name", "dark", "variables", *_COLOUR_KEYS, *_FLOAT_KEYS})


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class ThemeLoadResult:
    """Themes read from theme folders, plus one message per file that was refused."""

    themes: tuple[Theme, ...]
    errors: tuple[str, ...]


def theme_dirs(config_dir: Path | None) -> list[Path]:
    """The folders searched for theme files: the bundled one, then ``<config_dir>/themes``."""
    dirs = [BUNDLED_THEMES_DIR]
    if config_dir is not None:
        dirs.append(Path(config_dir) / "themes")
    return dirs


def parse_theme(data: dict[str, Any], source: str) -> Theme:
    """Validate one theme's TOML table and build a Textual :class:`Theme` from it.

    Raises :class:`ThemeFileError` naming ``source`` and the first problem found.
    """
    unknown = sorted(set(data) - _ALLOWED_KEYS)
    if unknown:
        raise ThemeFileError(f"{source}: unknown key(s) {', '.join(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError(f"{source}: 'name' is required and must be a non-empty string")
    if "primary" not in data:
        raise ThemeFileError(f"{source}: 'primary' colour is required")
    kwargs: dict[str, Any] = {"name": name.strip()}
    for key in _COLOUR_KEYS:
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, str):
            raise ThemeFileError(f"{source}: '{key}' must be a colour string, got {value!r}")
        try:
            Color.parse(value)
        except ColorParseError:
            raise ThemeFileError(f"{source}: '{key}' is not a colour: {value!r}") from None
        kwargs[key] = value
    if "dark" in data:
        if not isinstance(data["dark"], bool):
            raise ThemeFileError(f"{source}: 'dark' must be true or false, got {data['dark']!r}")
        kwargs["dark"] = data["dark"]
    for key in _FLOAT_KEYS:
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ThemeFileError(f"{source}: '{key}' must be a number from 0 to 1, got {value!r}")
            kwargs[key] = float(value)
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ThemeFileError(f"{source}: [variables] must map names to strings")
    kwargs["variables"] = dict(variables)
    theme = Theme(**kwargs)
    try:
        # Building the colour system catches what single-field checks miss.
        theme.to_color_system().generate()
    except Exception as exc:  # noqa: BLE001 - any failure here means the file is unusable
        raise ThemeFileError(f"{source}: cannot build a colour system: {exc}") from None
    return theme


def load_theme_files(directories: Iterable[Path]) -> ThemeLoadResult:
    """Read every ``*.toml`` file in ``directories`` (missing folders are fine).

    Later folders override earlier ones for a theme of the same name, so a user
    can replace a bundled theme from their config directory.
    """
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    for directory in directories:
        directory = Path(directory)
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(f"{path}: cannot read: {exc}")
                continue
            except tomllib.TOMLDecodeError as exc:
                errors.append(f"{path}: not valid TOML: {exc}")
                continue
            try:
                theme = parse_theme(data, str(path))
            except ThemeFileError as exc:
                errors.append(str(exc))
                continue
            themes[theme.name] = theme
    for message in errors:
        log.warning("theme file refused: %s", message)
    return ThemeLoadResult(themes=tuple(themes.values()), errors=tuple(errors))


@dataclass(frozen=True, slots=True)
class DashboardState:
    """What the dashboard remembers between runs (kept deliberately tiny)."""

    theme: str | None = None


def state_path(config_dir: Path) -> Path:
    """The dashboard's state file under ``config_dir``."""
    return Path(config_dir) / STATE_FILE_NAME


def load_state(config_dir: Path | None) -> DashboardState:
    """Read the remembered state; a missing or broken file gives the defaults (and a log line)."""
    if config_dir is None:
        return DashboardState()
    path = state_path(config_dir)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DashboardState()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.warning("ignoring unreadable dashboard state %s: %s", path, exc)
        return DashboardState()
    theme = data.get("theme")
    return DashboardState(theme=theme if isinstance(theme, str) and theme else None)


def save_state(config_dir: Path | None, state: DashboardState) -> None:
    """Write the state file, keeping any comments a user added to it."""
    if config_dir is None:
        return
    path = state_path(config_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            document = tomlkit.parse(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, tomlkit.exceptions.ParseError):
            document = tomlkit.document()
        if state.theme:
            document["theme"] = state.theme
        elif "theme" in document:
            del document["theme"]
        path.write_text(tomlkit.dumps(document), encoding="utf-8")
    except OSError as exc:
        # Remembering the theme is a nicety; failing to must not disturb a load.
        log.warning("could not save dashboard state to %s: %s", path, exc)
