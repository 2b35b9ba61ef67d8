"""Profile operations the dashboard needs, on top of :mod:`plex_loader_tui.config`.

Saving takes the live-tuned stage values; loading applies a profile to the
running config *without* breaking the precedence rule (defaults < profile <
environment < flags): the same resolution as the command line
(:func:`plex_loader_tui.config.apply_profile`) keeps what came from the
environment or a flag, and replaces what came from a default or the previous
profile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import ProfileStore, RunConfig, apply_profile, profile_values_from_config

log = logging.getLogger(__name__)


def live_config(config: RunConfig, settings: Mapping[str, Any]) -> RunConfig:
    """``config`` with each stage's live worker count and batch size."""
    for name, value in settings.items():
        current = config.stage(name)
        if (current.workers, current.batch_size) != (value.workers, value.batch_size):
            config = config.with_stage(name, workers=value.workers, batch_size=value.batch_size)
    return config


def save_profile(config: RunConfig, name: str) -> Path:
    """Save ``config`` (secrets as references only) as profile ``name``; returns its file."""
    store = ProfileStore(config.config_dir)
    values = profile_values_from_config(config)
    return store.save(name, values, comment="saved from the plex-loader-tui dashboard")


def list_profiles(config_dir: Path) -> list[str]:
    """Names of the saved profiles (an unreadable folder lists as empty)."""
    try:
        return ProfileStore(config_dir).list()
    except OSError as exc:
        log.warning("cannot list profiles in %s: %s", config_dir, exc)
        return []


def config_with_profile(
    config: RunConfig, name: str, environ: Mapping[str, str] | None = None
) -> RunConfig:
    """A config for the next run with profile ``name`` applied.

    Raises :class:`~plex_loader_tui.errors.ConfigError` (from the profile
    store or the config's own validation) with a message naming the file and
    key when the profile is unusable.
    """
    return apply_profile(config, name, environ)
