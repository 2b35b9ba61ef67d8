"""Choosing the dashboard's theme at start and remembering the operator's choice."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from . import themes as theme_files

if TYPE_CHECKING:
    from .app import LoaderApp

    _Base = LoaderApp
else:
    _Base = object

log = logging.getLogger(__name__)


class ThemingMixin(_Base):
    """Theme files, the starting theme and its memory (mixed into :class:`~plex_loader_tui.tui.app.LoaderApp`)."""

    #: Set once the starting theme is chosen; theme changes after that are saved.
    _theme_settled = False

    def _load_themes(self) -> None:
        loaded = theme_files.load_theme_files(self._theme_dirs)
        for theme in loaded.themes:
            self.register_theme(theme)
        self.theme_errors = loaded.errors
        if loaded.errors:
            # One notification for every bad file: a typo must not hide behind another.
            self.notify(
                "\n".join(loaded.errors),
                title=f"{len(loaded.errors)} theme file(s) skipped",
                severity="warning",
                timeout=12,
            )
        available = self.available_themes
        # The bundled themes live outside the package (the top-level themes/ folder):
        # an install without them still gets a working dashboard, in Textual's own theme.
        default = theme_files.DEFAULT_THEME
        if default not in available:
            log.warning("default theme %r not found in %s; using %s", default,
                        ", ".join(map(str, self._theme_dirs)), theme_files.FALLBACK_THEME)
            default = theme_files.FALLBACK_THEME
        wanted = self.config.theme or theme_files.load_state(self._config_dir).theme
        if wanted and wanted not in available:
            log.warning("theme %r is not available", wanted)
            self.notify(
                f"No theme named {wanted!r}; using {default}. "
                "Ctrl+P → 'Change theme' lists the ones there are.",
                severity="warning",
            )
            wanted = None
        self.theme = wanted or default
        # From now on a theme change is the operator's choice, worth remembering; the
        # fallback above is not (it would overwrite a remembered theme on a broken install).
        self._theme_settled = True

    def watch_theme(self, theme: str) -> None:
        if self._theme_settled:
            theme_files.save_state(self._config_dir, theme_files.DashboardState(theme=theme))
