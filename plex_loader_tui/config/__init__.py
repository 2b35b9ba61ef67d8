"""The run configuration: settings, their layered resolution, and saved profiles.

* :mod:`.settings` — the settings table (:data:`SETTINGS`), the only home of every default;
  :mod:`.declaration` and :mod:`.kinds` — how a setting is spelled, and what each kind accepts.
* :mod:`.run_config` — :class:`RunConfig` (validated once, frozen), :class:`StageConfig`,
  and the typed :class:`Provenance` of each value.
* :mod:`.resolve` — defaults < profile < environment < flags, for the command line and for
  a profile loaded in the dashboard alike.
* :mod:`.profiles` — :class:`ProfileStore`: the profile files themselves.
* :mod:`.preflight` — the places a run writes, checked before any work.
"""

from __future__ import annotations

from .declaration import InputSpec, Setting, StageKey
from .preflight import check_writable_places
from .profiles import ProfileNotFound, ProfileStore, default_env_name
from .resolve import apply_profile, profile_values_from_config, resolve_config
from .run_config import (
    DEFAULT_ORIGIN,
    DEFAULT_STAGES,
    Layer,
    Provenance,
    RunConfig,
    StageConfig,
)
from .settings import (
    APP_NAME,
    DEMO_COLLECTION,
    EXCLUSIONS,
    GROUPS,
    SECRET_SETTINGS,
    SERVICE_GROUP,
    SETTINGS,
    SETTINGS_BY_NAME,
    default_config_dir,
    default_data_dir,
    default_of,
    settings_in_group,
    stage_setting,
)

__all__ = [
    "APP_NAME",
    "DEFAULT_ORIGIN",
    "DEMO_COLLECTION",
    "DEFAULT_STAGES",
    "EXCLUSIONS",
    "GROUPS",
    "SECRET_SETTINGS",
    "SERVICE_GROUP",
    "SETTINGS",
    "SETTINGS_BY_NAME",
    "InputSpec",
    "Layer",
    "ProfileNotFound",
    "ProfileStore",
    "Provenance",
    "RunConfig",
    "Setting",
    "StageConfig",
    "StageKey",
    "apply_profile",
    "check_writable_places",
    "default_config_dir",
    "default_data_dir",
    "default_env_name",
    "default_of",
    "profile_values_from_config",
    "resolve_config",
    "settings_in_group",
    "stage_setting",
]
