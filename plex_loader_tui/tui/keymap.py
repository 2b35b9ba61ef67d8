"""The operator's key map file: ``<config dir>/keymap.toml`` with ``binding-id = "keys"``.

Read here and applied to the app by :class:`KeysMixin`, which also opens the
key help; a broken file is reported, never fatal.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from .keyhelp import KeyHelpScreen, dashboard_key_sections

if TYPE_CHECKING:
    from .app import LoaderApp

    _Base = LoaderApp
else:
    _Base = object

log = logging.getLogger(__name__)

#: File (under the config directory) with user key bindings: ``binding id = "keys"``.
KEYMAP_FILE_NAME = "keymap.toml"


@dataclass(frozen=True, slots=True)
class UserKeymap:
    """What a key map file says: the bindings to apply, and what was wrong with it."""

    path: Path
    bindings: dict[str, str]
    #: A problem that stopped the whole file from loading.
    problem: str | None = None
    #: Entries that were not ``binding-id = "keys"`` (skipped, the rest applies).
    ignored: tuple[str, ...] = ()


def read_keymap(config_dir: Path) -> UserKeymap | None:
    """Read ``<config_dir>/keymap.toml`` (a top-level table or a ``[keymap]`` one); None if absent."""
    path = config_dir / KEYMAP_FILE_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return UserKeymap(path, {}, problem=f"{path}: {exc}")
    table = data.get("keymap", data)
    if not isinstance(table, dict):
        return UserKeymap(path, {}, problem=f"{path}: 'keymap' must be a table of binding-id = \"keys\"")
    # A control character names no key, and the footer would send it to the terminal as it is.
    bindings = {k: v.strip() for k, v in table.items() if isinstance(v, str) and v.strip() and v.isprintable()}
    return UserKeymap(path, bindings, ignored=tuple(sorted(set(table) - set(bindings))))


class KeysMixin(_Base):
    """The key map applied at start-up, and the key help (mixed into :class:`~plex_loader_tui.tui.app.LoaderApp`)."""

    #: The operator's key map as applied (binding id → keys); the key help shows these keys.
    keymap: Mapping[str, str] = MappingProxyType({})

    def _load_keymap(self) -> None:
        """Apply ``<config_dir>/keymap.toml``; problems are reported, not fatal."""
        user = read_keymap(self._config_dir)
        if user is None:
            return
        if user.problem is not None:
            self.notify(user.problem, title="Key map not loaded", severity="warning")
            return
        if user.ignored:
            self.notify(f"{user.path}: ignored {', '.join(user.ignored)}: every entry must be binding-id = \"keys\"",
                        title="Key map", severity="warning")
        try:
            self.set_keymap(user.bindings)
        except Exception as exc:  # noqa: BLE001 - a user file must never stop the dashboard
            log.warning("key map %s not applied: %s", user.path, exc)
            self.notify(f"{user.path}: {exc}", title="Key map not loaded", severity="warning")
            return
        self.keymap = dict(user.bindings)

    def action_key_help(self) -> None:
        """Show every key (after the key map) and what it does."""
        self.push_screen(KeyHelpScreen(dashboard_key_sections(self.help_bindings(list(self.BINDINGS)), self.keymap, self.get_key_display)))
