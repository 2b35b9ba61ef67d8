"""The operator's key map file: ``<config dir>/keymap.toml`` with ``binding-id = "keys"``.

Read here, applied by the app; a broken file is reported, never fatal.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

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
    bindings = {k: v.strip() for k, v in table.items() if isinstance(v, str) and v.strip()}
    return UserKeymap(path, bindings, ignored=tuple(sorted(set(table) - set(bindings))))
