"""``plex-loader-tui profiles list|show|save|delete``: the saved profiles."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plex_loader_tui.config import (
    SECRET_SETTINGS,
    SETTINGS_BY_NAME,
    ProfileStore,
    default_env_name,
    resolve_config,
)
from plex_loader_tui.config.flags import FLAG_NAMES_KEY, split_given
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.secrets import mask


def profile_store(args: argparse.Namespace, environ: Mapping[str, str]) -> ProfileStore:
    """The store in ``--config-dir``, else ``PLEX_LOADER_CONFIG_DIR``, else the platformdirs folder."""
    spec = SETTINGS_BY_NAME["config_dir"]
    config_dir = getattr(args, "config_dir", None) or environ.get(spec.env[0], "").strip()
    return ProfileStore(Path(config_dir).expanduser() if config_dir else spec.computed_default())


def run_profiles(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run one ``profiles`` action; return the exit code."""
    store = profile_store(args, environ)
    action = args.profiles_action
    if action == "list":
        return _list(store)
    if action == "show":
        return _show(store, args.name)
    if action == "delete":
        store.delete(args.name)
        print(f"deleted profile {args.name!r} ({store.path(args.name)})", file=sys.stdout)
        return ExitCode.OK
    return _save(store, args)


def _list(store: ProfileStore) -> int:
    out = sys.stdout
    names = store.list()
    if not names:
        print(f"no profiles in {store.directory}", file=out)
    for name in names:
        note = "  (with stored secrets)" if store.secrets_path(name).is_file() else ""
        print(f"{name}{note}", file=out)
    return ExitCode.OK


def _show(store: ProfileStore, name: str) -> int:
    out = sys.stdout
    store.load(name)  # validate first: show only what a run would accept
    print(f"# {store.path(name)}", file=out)
    print(store.read_text(name).rstrip("\n"), file=out)
    secrets = store.stored_secrets(name)
    if secrets:
        print(f"\n# secrets stored in {store.secrets_path(name)} (mode 0600), masked here:", file=out)
        for key, value in secrets.items():
            print(f'{key} = "{mask(value)}"', file=out)
    return ExitCode.OK


def _save(store: ProfileStore, args: argparse.Namespace) -> int:
    out = sys.stdout
    values, spellings = split_given(args)
    given = {k: v for k, v in values.items() if k in SETTINGS_BY_NAME and k != "config_dir"}
    if not given and not any(getattr(args, f"{s}_env", None) for s in SECRET_SETTINGS):
        raise ConfigError("profiles save: give at least one setting flag to save (see `profiles save --help`)")
    for name in given:
        if not SETTINGS_BY_NAME[name].in_profile:
            raise ConfigError(f"{spellings.get(name, name)}: cannot be saved in a profile (give it per run)")
    # Resolve the given flags alone: the same parsing and checks as a run.
    resolved = resolve_config({**given, FLAG_NAMES_KEY: spellings}, {}, None, command="search")
    to_save: dict[str, Any] = {name: resolved.setting_value(name) for name in given}
    notes: list[str] = []
    for secret in SECRET_SETTINGS:
        env_ref = getattr(args, f"{secret}_env", None)
        if secret in to_save and not args.store_secrets:
            to_save.pop(secret)
            env_ref = env_ref or default_env_name(secret)
            notes.append(f"{secret} not stored: the profile reads it from ${env_ref} "
                         "(use --store-secrets to store it in a 0600 file)")
        if env_ref:
            to_save[f"{secret}_env"] = env_ref
    path = store.save(args.name, to_save, comment=args.comment, store_secrets=args.store_secrets)
    print(f"saved profile {args.name!r} to {path}", file=out)
    if args.store_secrets and any(s in to_save for s in SECRET_SETTINGS):
        print(f"secrets stored in {store.secrets_path(args.name)} (mode 0600)", file=out)
    for note in notes:
        print(note, file=out)
    return ExitCode.OK
