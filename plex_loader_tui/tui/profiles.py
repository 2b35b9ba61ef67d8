"""Profile operations the dashboard needs on top of :mod:`plex_loader_tui.profiles`.

Saving takes the live-tuned stage values; loading applies a profile to the
running config *without* breaking the precedence rule (defaults < profile <
environment < flags): a value that came from the environment or a flag stays,
everything that came from a default or the previous profile is replaced.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import DEFAULT_ORIGIN, SETTINGS, SETTINGS_BY_NAME, RunConfig, StageConfig
from ..profiles import ProfileStore, profile_values_from_config

log = logging.getLogger(__name__)

#: Settings a profile switch must never change mid-session (they choose the profile itself).
_FIXED = frozenset({"config_dir", "profile"})


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


def _overridable(config: RunConfig, name: str) -> bool:
    origin = config.origins.get(name, DEFAULT_ORIGIN)
    return origin == DEFAULT_ORIGIN or origin.startswith("profile ") or origin.startswith("live setting")


def config_with_profile(
    config: RunConfig, name: str, environ: Mapping[str, str] | None = None
) -> RunConfig:
    """A config for the next run with profile ``name`` applied.

    Raises :class:`~plex_loader_tui.pipeline.errors.ConfigError` (from the
    profile store or the config's own validation) with a message naming the
    file and key when the profile is unusable.
    """
    environ = os.environ if environ is None else environ
    store = ProfileStore(config.config_dir)
    loaded = store.load(name)
    path = store.path(name)
    fields: dict[str, Any] = {}
    origins = dict(config.origins)
    stages = {stage: dataclasses.asdict(cfg) for stage, cfg in config.stages.items()}
    # Values the previous profile set and this one does not mention go back to their defaults.
    for spec in SETTINGS:
        if spec.name in _FIXED or spec.name in loaded:
            continue
        if config.origins.get(spec.name, "").startswith("profile "):
            origins[spec.name] = DEFAULT_ORIGIN
            if spec.stage is not None:
                stages[spec.stage][spec.name.partition("_")[2]] = spec.default
            else:
                fields[spec.name] = spec.default
    for key, value in loaded.items():
        if key.endswith("_env"):
            secret = key[: -len("_env")]
            if _overridable(config, secret) and environ.get(value):
                fields[secret] = environ[value]
                origins[secret] = f"{value} (named by profile {path} key {key})"
            continue
        spec = SETTINGS_BY_NAME.get(key)
        if spec is None or key in _FIXED or not _overridable(config, key):
            continue
        origins[key] = f"profile {path} key {spec.profile_key}"
        if spec.stage is not None:
            stages[spec.stage][key.partition("_")[2]] = value
        else:
            fields[key] = value
    # Settings that exclude each other: as in resolve_config, the higher layer wins.
    for first, second in (("demo", "plex_url"), ("qdrant_path", "qdrant_url")):
        for mine, theirs in ((first, second), (second, first)):
            if fields.get(mine) and getattr(config, theirs) and theirs not in fields:
                if _overridable(config, theirs):
                    fields[theirs] = False if theirs == "demo" else None
                    origins[theirs] = DEFAULT_ORIGIN
                else:  # the other one came from a flag or the environment: it stays
                    log.info("profile %s: %s ignored, %s wins", name, mine, config.origin(theirs))
                    del fields[mine]
                    origins[mine] = config.origins.get(mine, DEFAULT_ORIGIN)
    return dataclasses.replace(
        config,
        **fields,
        stages={stage: StageConfig(**values) for stage, values in stages.items()},
        profile=name,
        origins=origins,
    )
