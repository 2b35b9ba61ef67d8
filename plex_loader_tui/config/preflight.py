"""Checks of the places a run will write, made before any work starts.

A value can be well formed and still unusable: ``--qdrant-path`` naming a
file, a ``--data-dir`` the user cannot write. Found only after connecting to
Plex and loading the models, such a mistake costs a minute and ends as a
fatal error (exit 3); checked here, it is one line and exit 2 like every
other bad input.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .run_config import RunConfig


@dataclass(frozen=True, slots=True)
class _Place:
    """A path a run writes: a folder it fills, or a file it creates."""

    setting: str
    path: Path
    is_folder: bool


def check_writable_places(config: RunConfig) -> None:
    """Raise :class:`ConfigError` (one line, naming the setting) for a place the run cannot write."""
    for place in _places(config):
        problem = _problem(place)
        if problem:
            raise ConfigError(f"{config.origin(place.setting)}: {problem}")


def _places(config: RunConfig) -> list[_Place]:
    places = [_Place("data_dir", config.data_dir, True)]
    if config.qdrant_url is None:
        # Given or not, the embedded store's folder is where points are written.
        places.append(_Place("qdrant_path" if config.qdrant_path else "data_dir", config.effective_qdrant_path, True))
    for name in ("summary_json", "log_file"):
        path = config.setting_value(name)
        if path is not None:
            places.append(_Place(name, path, False))
    return places


def _problem(place: _Place) -> str | None:
    path = place.path
    if path.exists():
        if place.is_folder and not path.is_dir():
            return f"{path} is a file, not a folder"
        if not place.is_folder and path.is_dir():
            return f"{path} is a folder, not a file"
        if not os.access(path, os.W_OK):
            return f"cannot write {path} (permission denied)"
        return None
    # It will be created: its nearest existing ancestor must be a folder we can write into.
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"cannot write {path}: {ancestor} is a file, not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot write {path}: {ancestor} is not writable"
    return None
