"""Layered resolution: built-in defaults < profile < environment < flags.

:func:`resolve_config` builds the run's config from the command line, the
environment and the chosen profile. :func:`apply_profile` builds the config
for the next run when the dashboard loads another profile mid-session: the old
profile's values go, the new profile's come in, and whatever the environment
or a flag set stays on top. Both stack their layers and call the same
:func:`_layered_config`, which the values' typed :class:`Provenance` drives.

Text is parsed here (a flag's or a variable's text becomes a typed value);
whether a value is acceptable is checked by :class:`RunConfig`, once. A value
that a higher layer hides never reaches the RunConfig, so it is checked when
it is hidden: every value a user gives is checked exactly once, used or not.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plex_loader_tui.errors import ConfigError
from plex_loader_tui.stages import STAGE_NAMES

from .declaration import Setting
from .flags import split_given
from .profiles import SECRET_ENV_KEYS, ProfileNotFound, ProfileStore
from .run_config import Layer, Provenance, RunConfig, StageConfig
from .settings import (
    EXCLUSIONS,
    SELECTION_SETTINGS,
    SETTINGS,
    SETTINGS_BY_NAME,
    Exclusion,
)

logger = logging.getLogger(__name__)

#: Commands whose run reads a Plex library (``search`` only reads Qdrant).
_NEEDS_SOURCE = ("load", "retry-failed", "serve")


@dataclass(frozen=True, slots=True)
class Given:
    """One typed value one layer offers for a setting, with where it came from.

    ``unchecked``: parsed from text the user typed and not checked yet. If a
    higher layer hides it, it is checked then (it never reaches the RunConfig).
    """

    value: Any
    provenance: Provenance
    unchecked: bool = False


Layered = Mapping[str, Given]


# --------------------------------------------------------------------------
# The one resolution function
# --------------------------------------------------------------------------


class _Stack:
    """The winning value of every setting so far, and the rank of the layer that set it."""

    def __init__(self, base: Layered) -> None:
        self.top: dict[str, Given] = dict(base)
        self.rank: dict[str, int] = dict.fromkeys(base, 0)

    def put(self, name: str, given: Given, rank: int) -> None:
        self._hide(name)
        self.top[name] = given
        self.rank[name] = rank

    def drop(self, name: str) -> None:
        """Back to the built-in default (the loser of an exclusion)."""
        self._hide(name)
        self.top[name] = Given(SETTINGS_BY_NAME[name].default, Provenance.default())
        self.rank[name] = 0

    def _hide(self, name: str) -> None:
        hidden = self.top.get(name)
        if hidden is not None and hidden.unchecked:
            _check(SETTINGS_BY_NAME[name], hidden)

    def settle(self, exclusion: Exclusion) -> None:
        """Two settings that exclude each other: the higher layer wins.

        Both from the same layer is left to the RunConfig, which reports it
        after it has checked each value.
        """
        first, second = self.top[exclusion.first], self.top[exclusion.second]
        if not exclusion.clash(first.value, second.value):
            return
        first_rank, second_rank = self.rank[exclusion.first], self.rank[exclusion.second]
        if first_rank == second_rank:
            return
        loser, winner = (first, second) if first_rank < second_rank else (second, first)
        logger.info("%s overrides %s (%s)", winner.provenance.label, loser.provenance.label, exclusion.why)
        self.drop(exclusion.first if loser is first else exclusion.second)


def _check(spec: Setting, given: Given) -> None:
    problem = spec.problem(given.value)
    if problem:
        raise ConfigError(f"{given.provenance.label}: {problem}")


def _layered_config(base: Layered, layers: Sequence[Layered], *, command: str | None) -> RunConfig:
    """The RunConfig of ``base`` (every setting) overridden by ``layers``, lowest first.

    ``command`` (``load``, ``retry-failed``, ``search``) adds what the command
    needs; None (a profile loaded in the dashboard) adds nothing.
    """
    stack = _Stack(base)
    for rank, layer in enumerate(layers, start=1):
        for name, given in layer.items():
            stack.put(name, given, rank)
    for exclusion in EXCLUSIONS:
        stack.settle(exclusion)
    if command == "retry-failed":
        stack.put("retry_failed", Given(True, Provenance.flag("retry-failed")), len(layers) + 1)

    fields: dict[str, Any] = {}
    stages: dict[str, dict[str, Any]] = {name: {} for name in STAGE_NAMES}
    for spec in SETTINGS:
        value = stack.top[spec.name].value
        if value is None:
            value = spec.computed_default()
        if spec.stage_key is not None:
            stages[spec.stage_key.stage][spec.stage_key.field] = value
        else:
            fields[spec.name] = value
    provenance = {name: given.provenance for name, given in stack.top.items()}
    config = RunConfig(
        **fields, stages={name: StageConfig(**kw) for name, kw in stages.items()}, provenance=provenance
    )
    if command in _NEEDS_SOURCE and not config.demo and not config.plex_url:
        raise ConfigError(
            "--plex-url / PLEX_URL: not set: give your Plex server's URL "
            "(e.g. http://192.168.1.10:32400), or use --demo for the built-in demo library"
        )
    logger.debug("resolved config: %r", config)
    return config


# --------------------------------------------------------------------------
# The layers
# --------------------------------------------------------------------------


def _defaults() -> dict[str, Given]:
    return {spec.name: Given(spec.default, Provenance.default()) for spec in SETTINGS}


def _parsed(parse: Callable[[Any], Any], raw: Any, provenance: Provenance) -> Given:
    try:
        value = parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{provenance.label}: {exc}") from None
    return Given(value, provenance, unchecked=True)


def _env_value(spec: Setting, environ: Mapping[str, str]) -> Given | None:
    for name in spec.env:
        raw = environ.get(name)
        # An empty variable counts as unset: shells and .env files leave them around.
        if raw is None or not raw.strip():
            continue
        return _parsed(spec.parse_text, raw, Provenance.env(name))
    return None


def _flag_value(spec: Setting, raw: Any, spellings: Mapping[str, str]) -> Given:
    label = spellings.get(spec.name) or (spec.flags[0] if spec.flags else spec.name)
    return _parsed(spec.from_flag, raw, Provenance.flag(label))


def _environment_layer(environ: Mapping[str, str]) -> dict[str, Given]:
    found = {spec.name: _env_value(spec, environ) for spec in SETTINGS if spec.name not in SELECTION_SETTINGS}
    return {name: given for name, given in found.items() if given is not None}


def _profile_layer(
    store: ProfileStore, name: str, environ: Mapping[str, str], label: str | None = None
) -> dict[str, Given]:
    """The values profile ``name`` sets; its ``<secret>_env`` keys read their variables."""
    try:
        loaded = store.load(name)
    except ProfileNotFound as exc:
        if label is None:
            raise
        raise ConfigError(f"{label}: {exc}") from None
    path = store.path(name)
    layer: dict[str, Given] = {}
    for key, value in loaded.items():
        secret = SECRET_ENV_KEYS.get(key)
        if secret is not None:
            held = environ.get(value)
            if held:
                layer[secret] = Given(held, Provenance.named_by_profile(value, path, key))
            continue
        spec = SETTINGS_BY_NAME[key]
        # The store has checked every value it loads: a profile file is valid as a whole.
        where = (store.secrets_path(name), key) if spec.secret else (path, spec.profile_key)
        layer[key] = Given(value, Provenance.profile(*where))
    return layer


def _selected(name: str, given: Mapping[str, Any], spellings: Mapping[str, str],
              environ: Mapping[str, str]) -> Given | None:
    """A setting that chooses the profile, from its flag or else its variable.

    Checked at once: it is used (to find the profile) before any RunConfig exists.
    """
    spec = SETTINGS_BY_NAME[name]
    found = _flag_value(spec, given[name], spellings) if name in given else _env_value(spec, environ)
    if found is None:
        return None
    _check(spec, found)
    return Given(found.value, found.provenance)


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def resolve_config(
    args: Any = None,
    environ: Mapping[str, str] | None = None,
    profile_store: ProfileStore | None = None,
    *,
    command: str = "load",
) -> RunConfig:
    """Resolve the run configuration: defaults < profile < environment < flags.

    ``args`` is an ``argparse.Namespace`` (or a mapping) holding only the
    settings the user actually gave on the command line (the parser uses
    ``SUPPRESS`` defaults for that). An attribute ``_flag__<setting>`` (or a
    ``_flag_names`` mapping) holds the spelling of the flag the user typed, for
    error messages. ``profile_store`` defaults to the store in the resolved
    config directory. ``command`` is ``load``, ``retry-failed`` or ``search``:
    only the first two need a Plex source.

    Raises :class:`ConfigError` with one line naming the setting and the problem.
    """
    environ = os.environ if environ is None else environ
    values, spellings = split_given(args)
    given = {k: v for k, v in values.items() if k in SETTINGS_BY_NAME}

    base = _defaults()
    profile: dict[str, Given] = {}
    # The config dir and the profile name decide which profile to read, so they
    # come from flags or the environment only.
    config_dir = _selected("config_dir", given, spellings, environ)
    if config_dir is not None:
        base["config_dir"] = config_dir
    selected = _selected("profile", given, spellings, environ)
    if selected is not None and selected.value:
        base["profile"] = selected
        if profile_store is None:
            profile_store = ProfileStore(
                config_dir.value if config_dir else SETTINGS_BY_NAME["config_dir"].computed_default()
            )
        profile = _profile_layer(profile_store, selected.value, environ, selected.provenance.label)

    environment = _environment_layer(environ)
    flags = {
        name: _flag_value(SETTINGS_BY_NAME[name], raw, spellings)
        for name, raw in given.items()
        if name not in SELECTION_SETTINGS
    }
    return _layered_config(base, [profile, environment, flags], command=command)


def apply_profile(config: RunConfig, name: str, environ: Mapping[str, str] | None = None) -> RunConfig:
    """The config for the next run with profile ``name`` in place of the current one.

    Keeps the precedence rule: what came from the environment or a flag stays
    above the profile; what came from the previous profile goes (back to its
    default, unless the new profile sets it); defaults and live-tuned values
    are kept unless the new profile sets them. The environment is not read
    again: ``environ`` only serves the profile's ``<secret>_env`` references.

    Raises :class:`ConfigError` naming the file and key when the profile is unusable.
    """
    environ = os.environ if environ is None else environ
    base: dict[str, Given] = {}
    carried: dict[Layer, dict[str, Given]] = {Layer.ENV: {}, Layer.FLAG: {}}
    for spec in SETTINGS:
        provenance = config.provenance_of(spec.name)
        kept = Given(config.setting_value(spec.name), provenance)
        if spec.name in SELECTION_SETTINGS or provenance.layer in (Layer.DEFAULT, Layer.LIVE):
            base[spec.name] = kept
        elif provenance.layer is Layer.PROFILE:
            base[spec.name] = Given(spec.default, Provenance.default())
        else:
            carried[provenance.layer][spec.name] = kept
    base["profile"] = Given(name, config.provenance_of("profile"))
    profile = _profile_layer(ProfileStore(config.config_dir), name, environ)
    return _layered_config(base, [profile, carried[Layer.ENV], carried[Layer.FLAG]], command=None)


def profile_values_from_config(config: RunConfig) -> dict[str, Any]:
    """What the dashboard saves as a profile: the settings of ``config``, minus secrets.

    Included: every setting that was set somewhere (not a built-in default)
    or differs from its default, and every stage's worker count and batch size
    (live-tuned values included). Per-run switches are left out. Each secret
    that is configured is saved as a reference to the variable that holds it:
    the one it came from when known, else its standard name.
    """
    out: dict[str, Any] = {}
    for spec in SETTINGS:
        if not spec.in_profile:
            continue
        value = config.setting_value(spec.name)
        provenance = config.provenance_of(spec.name)
        if spec.secret:
            if value:
                out[f"{spec.name}_env"] = provenance.variable or spec.env[0]
            continue
        if spec.stage_key is not None:
            out[spec.name] = value
            continue
        if value is None or (provenance.layer is Layer.DEFAULT and value == spec.default):
            continue
        if provenance.layer is Layer.DEFAULT and spec.default_is_computed:
            continue  # the platformdirs default; pinning it would break a move
        out[spec.name] = value
    return out
