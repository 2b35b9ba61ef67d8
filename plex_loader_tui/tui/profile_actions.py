"""The run-profile dialog's actions: show the effective config, save it, load another."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..config import RunConfig
from ..errors import ConfigError
from ..load.outcome import Phase
from .screens import ProfileRequest, ProfileScreen

if TYPE_CHECKING:
    from .app import LoaderApp

    _Base = LoaderApp
else:
    _Base = object


class ProfileMixin(_Base):
    """Profile viewing, saving and loading (mixed into :class:`~plex_loader_tui.tui.app.LoaderApp`)."""

    def _live_config(self) -> RunConfig:
        """The app's config plus every stage change the operator applied to the current run.

        Built from the dashboard's own record rather than read back from the
        engine: the engine's ingest "batch" counts listing pages, while the
        config's ingest batch size is the Plex page size, and only the latter
        belongs in a profile.
        """
        from .profiles import live_config

        if self.session is not None and self.running and self._tuned:
            return live_config(self.config, self._tuned)
        return self.config

    def profile_rows(self) -> list[tuple[str, str, str]]:
        """(setting, value, where it came from) for the profile dialog; secrets masked."""
        config = self._live_config()
        # Stage settings first: they are what an operator tunes and saves most.
        rows: list[tuple[str, str, str]] = []
        for stage, values in config.masked()["stages"].items():
            for field_name in ("workers", "batch_size"):
                name = f"{stage}_{field_name}"
                rows.append((f"stages.{stage}.{field_name}", str(values[field_name]), config.origin(name, "default")))
        for key, value in config.masked().items():
            if key == "stages":
                continue
            shown = "–" if value in (None, "", []) else (", ".join(map(str, value)) if isinstance(value, list) else str(value))
            rows.append((key, shown, config.origins.get(key, "default")))
        return rows

    def action_profile(self) -> None:
        from .profiles import list_profiles

        can_load = not self.running or (self.session is not None and Phase(self.session.phase).preparing)
        screen = ProfileScreen(
            self.config.profile,
            self.profile_rows(),
            list_profiles(Path(self.config.config_dir)),
            can_load=can_load,
        )
        self.push_screen(screen, self._profile_answered)

    def _profile_answered(self, request: ProfileRequest | None) -> None:
        if request is None:
            return
        from .profiles import config_with_profile, save_profile

        if request.action == "save":
            try:
                path = save_profile(self._live_config(), request.name)
            except (ConfigError, ValueError, OSError) as exc:
                self.notify(str(exc), title="Profile not saved", severity="error")
                return
            self.notify(f"Saved profile {request.name!r} to {path}", title="Profile saved", timeout=5)
            return
        try:
            config = config_with_profile(self.config, request.name)
        except (ConfigError, ValueError, OSError) as exc:
            self.notify(str(exc), title="Profile not loaded", severity="error")
            return
        self.config = config
        self._show_info_from_config(config)
        if self.running:
            # Still preparing: stop this session and start again with the profile.
            self._restart_with = config
            assert self.session is not None
            self.session.cancel()
            self.notify(f"Restarting with profile {request.name!r}…", timeout=4)
        else:
            self.notify(f"Loaded profile {request.name!r}; starting the load.", timeout=4)
            self.start_load(config)
