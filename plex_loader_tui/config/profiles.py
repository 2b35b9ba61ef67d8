"""Saved run profiles: one human-editable TOML file per profile.

A profile lives at ``<config dir>/profiles/<name>.toml`` and holds any subset
of the settings in :data:`plex_loader_tui.config.SETTINGS`, by their setting
names, with the stage settings in ``[stages.<stage>]`` tables::

    # nightly load of the big server
    plex_url = "http://192.168.1.10:32400"
    plex_token_env = "PLEX_TOKEN"   # the variable that holds the token
    libraries = ["Movies", "TV Shows"]

    [stages.enrich]
    workers = 12
    batch_size = 20

Files are written with tomlkit so that an operator's comments and layout
survive a save from the dashboard, and read strictly: an unknown key, a value
of the wrong type or out of bounds is a :class:`ConfigError` that names the
file, the key and the problem.

Secrets (Plex token, TMDb key, Qdrant key) never go into the profile file.
The profile names the environment variable that holds each one
(``plex_token_env``). Only when the operator insists (``--store-secrets``)
are they written, to ``<name>.secrets.toml`` beside it, with mode 0600.

This module is the files only: it reads, checks and writes them. How a
profile's values take their place among the other layers is
:mod:`plex_loader_tui.config.resolve`'s business.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from plex_loader_tui.errors import ConfigError
from plex_loader_tui.stages import STAGE_NAMES

from .declaration import Setting
from .settings import EXCLUSIONS, SECRET_SETTINGS, SETTINGS, SETTINGS_BY_NAME

logger = logging.getLogger(__name__)

SECRETS_SUFFIX = ".secrets.toml"
_PROFILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BAD_ENV_NAME = (
    "is not a valid environment variable name "
    "(letters, digits and '_', not starting with a digit; give the variable's name, not the secret)"
)

#: ``<secret>_env`` key -> secret setting name, e.g. ``plex_token_env`` -> ``plex_token``.
SECRET_ENV_KEYS: Mapping[str, str] = {f"{name}_env": name for name in SECRET_SETTINGS}

# Keys a profile file may hold, by dotted key (stage settings as stages.<stage>.<field>).
_PROFILE_KEYS: dict[str, Setting] = {
    spec.profile_key: spec for spec in SETTINGS if spec.in_profile and not spec.secret
}


# Settings that exclude each other (RunConfig refuses both from the same layer).
_EXCLUSIVE = {a: b for e in EXCLUSIONS for a, b in ((e.first, e.second), (e.second, e.first))}


class ProfileNotFound(ConfigError):
    """No profile file has the requested name."""


def default_env_name(secret: str) -> str:
    """The standard environment variable of a secret setting (``plex_token`` -> ``PLEX_TOKEN``)."""
    return SETTINGS_BY_NAME[secret].env[0]


def _check_name(name: str) -> str:
    if not _PROFILE_NAME_RE.match(name or "") or name.endswith(".secrets"):
        raise ConfigError(
            f"profile name {name!r}: use letters, digits, '.', '_' and '-' "
            "(starting with a letter or digit)"
        )
    return name


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Replace ``path`` with ``text`` in one step, so a crash never leaves half a profile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if mode is None:
            # mkstemp makes 0600 files; a plain profile keeps the mode it had (or a normal 0644).
            mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
        # Set before any byte is written: a secret is never readable by others, even briefly.
        if hasattr(os, "fchmod"):  # POSIX; elsewhere the file keeps the platform's default ACL
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _disk_errors(doing: str, path: Path) -> Iterator[None]:
    """Turn an OSError (unwritable or missing config dir, ...) into one actionable ConfigError."""
    try:
        yield
    except OSError as exc:
        # The failing file is often a parent folder (a config dir that cannot be created).
        at = f" (at {exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
        raise ConfigError(
            f"cannot {doing} {path}: {exc.strerror or exc}{at}; "
            "check --config-dir / PLEX_LOADER_CONFIG_DIR"
        ) from None


class ProfileStore:
    """The profiles under one config directory (``<config_dir>/profiles``).

    Every public operation reports a file-system problem as a
    :class:`ConfigError` naming the file, never as a bare ``OSError``.
    """

    def __init__(self, config_dir: Path | str) -> None:
        self.config_dir = Path(config_dir)
        self.directory = self.config_dir / "profiles"

    def __repr__(self) -> str:
        return f"ProfileStore({str(self.directory)!r})"

    # -- paths ---------------------------------------------------------------

    def path(self, name: str) -> Path:
        """The TOML file of profile ``name`` (it may not exist yet)."""
        return self.directory / f"{_check_name(name)}.toml"

    def secrets_path(self, name: str) -> Path:
        """The 0600 file that holds the stored secrets of profile ``name``, if any."""
        return self.directory / f"{_check_name(name)}{SECRETS_SUFFIX}"

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def list(self) -> list[str]:
        """Names of the saved profiles, sorted."""
        with _disk_errors("list the profiles in", self.directory):
            if not self.directory.is_dir():
                return []
            names = []
            for entry in self.directory.glob("*.toml"):
                if entry.name.endswith(SECRETS_SUFFIX) or not entry.is_file():
                    continue
                if _PROFILE_NAME_RE.match(entry.stem):
                    names.append(entry.stem)
        return sorted(names)

    # -- reading -------------------------------------------------------------

    def _require(self, name: str) -> Path:
        path = self.path(name)
        with _disk_errors("read", path):
            found = path.is_file()
        if not found:
            available = ", ".join(self.list()) or "none saved yet"
            raise ProfileNotFound(
                f"no profile named {name!r} in {self.directory} (available: {available})"
            )
        return path

    def read_text(self, name: str) -> str:
        """The profile file exactly as it is on disk (it holds no secrets)."""
        path = self._require(name)
        with _disk_errors("read", path):
            return path.read_text(encoding="utf-8")

    def _parse(self, path: Path) -> tomlkit.TOMLDocument:
        try:
            return tomlkit.parse(path.read_text(encoding="utf-8"))
        except TOMLKitError as exc:
            raise ConfigError(f"profile {path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"profile {path}: cannot be read: {exc}") from None

    def load(self, name: str) -> dict[str, Any]:
        """Read and validate profile ``name``; return flat, typed setting values.

        Stage settings come back by setting name (``enrich_workers``); secret
        references as ``<secret>_env`` (the variable name); stored secrets (from
        the 0600 file) by their setting name, after everything else.
        Raises :class:`ProfileNotFound` or :class:`ConfigError`.
        """
        path = self._require(name)
        data = self._parse(path).unwrap()
        values: dict[str, Any] = {}
        self._load_table(path, data, "", values)
        secrets_path = self.secrets_path(name)
        with _disk_errors("read", secrets_path):
            if secrets_path.is_file():
                values.update(self._load_secrets(secrets_path))
        return values

    def _load_table(self, path: Path, table: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
        for key, value in table.items():
            dotted = f"{prefix}{key}"
            where = f"profile {path} key {dotted}"
            if dotted == "stages" or (prefix == "stages." and key in STAGE_NAMES):
                if not isinstance(value, dict):
                    raise ConfigError(f"{where}: expected a table ([{dotted}]), got {value!r}")
                self._load_table(path, value, f"{dotted}.", out)
                continue
            if dotted in SECRET_ENV_KEYS:
                if not isinstance(value, str) or not _ENV_NAME_RE.match(value):
                    # The value is not echoed: a secret pasted here by mistake must not show.
                    raise ConfigError(f"{where}: {_BAD_ENV_NAME}")
                out[dotted] = value
                continue
            if dotted in SECRET_SETTINGS:
                raise ConfigError(
                    f"{where}: secrets are not kept in profile files; write "
                    f"{dotted}_env = \"{default_env_name(dotted)}\" (the variable that holds it), "
                    "or save it with `profiles save NAME --store-secrets`"
                )
            spec = _PROFILE_KEYS.get(dotted)
            if spec is None:
                if dotted in SETTINGS_BY_NAME:
                    raise ConfigError(f"{where}: cannot be set in a profile (give it on the command line)")
                known = list(_PROFILE_KEYS) + list(SECRET_ENV_KEYS)
                raise ConfigError(f"{where}: unknown setting{_suggest(dotted, known)}")
            try:
                typed = spec.parse_toml(value)
            except ValueError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            problem = spec.problem(typed)
            if problem:
                raise ConfigError(f"{where}: {problem}")
            out[spec.name] = typed

    def _load_secrets(self, path: Path) -> dict[str, str]:
        if os.name == "posix":
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                # Like ssh with a private key: refuse rather than use a leaked secret.
                raise ConfigError(
                    f"profile {path}: holds secrets but is readable by others "
                    f"(mode {mode:04o}); run: chmod 600 {path}"
                )
        data = self._parse(path).unwrap()
        out: dict[str, str] = {}
        for key, value in data.items():
            where = f"profile {path} key {key}"
            if key not in SECRET_SETTINGS:
                raise ConfigError(
                    f"{where}: only secrets ({', '.join(SECRET_SETTINGS)}) belong in a secrets file"
                )
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: expected a non-empty string")
            out[key] = value
        return out

    def stored_secrets(self, name: str) -> dict[str, str]:
        """The secrets stored for profile ``name`` (empty when it has no secrets file)."""
        path = self.secrets_path(name)
        with _disk_errors("read", path):
            return self._load_secrets(path) if path.is_file() else {}

    # -- writing -------------------------------------------------------------

    def save(
        self,
        name: str,
        values: Mapping[str, Any],
        comment: str | None = None,
        *,
        store_secrets: bool = False,
    ) -> Path:
        """Merge ``values`` (flat setting names) into profile ``name``; return its path.

        Existing keys, comments and layout are kept; a value of ``None``
        removes its key. Secrets are refused unless ``store_secrets`` is true,
        in which case they go to the 0600 secrets file. Every value is checked
        exactly as :meth:`load` will check it, so a saved profile always loads.
        """
        path = self.path(name)
        plain: dict[str, Any] = {}
        secrets: dict[str, str | None] = {}
        for key, value in values.items():
            if key in SECRET_SETTINGS:
                if value is not None and not store_secrets:
                    raise ValueError(
                        f"{key} is a secret: save {key}_env (the variable that holds it) "
                        "or pass store_secrets=True"
                    )
                secrets[key] = value
            elif key in SECRET_ENV_KEYS:
                if value is not None and (not isinstance(value, str) or not _ENV_NAME_RE.match(value)):
                    raise ConfigError(f"{key}: {_BAD_ENV_NAME}")
                plain[key] = value
            else:
                spec = SETTINGS_BY_NAME.get(key)
                if spec is None or not spec.in_profile:
                    raise ConfigError(f"{key}: not a setting a profile can hold")
                if value is not None:
                    try:
                        typed = spec.parse_toml(spec.to_toml(value))
                    except ValueError as exc:
                        raise ConfigError(f"{key}: {exc}") from None
                    problem = spec.problem(typed)
                    if problem:
                        raise ConfigError(f"{key}: {problem}")
                plain[key] = value

        with _disk_errors("read", path):
            exists = path.is_file()
        if exists:
            doc = self._parse(path)
        else:
            doc = tomlkit.document()
            doc.add(tomlkit.comment(f'plex-loader-tui run profile "{name}".'))
            doc.add(tomlkit.comment("Any subset of settings; what is left out comes from the environment or the defaults."))
            doc.add(tomlkit.comment("Secrets are never written here: <secret>_env names the variable that holds one."))
            if comment:
                for line in comment.splitlines():
                    doc.add(tomlkit.comment(line))
            doc.add(tomlkit.nl())
        for key, value in list(plain.items()):
            # A new source or target replaces the one it excludes, so the file stays loadable.
            other = _EXCLUSIVE.get(key)
            if other and value and other not in plain and other in doc:
                logger.info("profile %s: %s replaces %s", name, key, other)
                doc.pop(other)
        for key, value in plain.items():
            spec = SETTINGS_BY_NAME.get(key)
            if spec is not None and spec.stage_key is not None:
                self._set_stage_value(doc, spec, value)
            elif value is None:
                doc.pop(key, None)
            else:
                doc[key] = spec.to_toml(value) if spec is not None else value
        with _disk_errors("save the profile to", path):
            _write_atomic(path, tomlkit.dumps(doc))
        logger.info("saved profile %s to %s", name, path)

        if secrets:
            self._save_secrets(name, secrets)
        return path

    @staticmethod
    def _set_stage_value(doc: tomlkit.TOMLDocument, spec: Setting, value: Any) -> None:
        assert spec.stage_key is not None
        stage, field_name = spec.stage_key.stage, spec.stage_key.field
        if value is None:
            stages = doc.get("stages")
            if stages is not None and stage in stages:
                stages[stage].pop(field_name, None)
            return
        if "stages" not in doc:
            doc.add("stages", tomlkit.table(is_super_table=True))
        stages = doc["stages"]
        if stage not in stages:
            stages[stage] = tomlkit.table()
        stages[stage][field_name] = value

    def _save_secrets(self, name: str, secrets: Mapping[str, str | None]) -> None:
        path = self.secrets_path(name)
        with _disk_errors("store the secrets in", path):
            self._write_secrets(name, path, secrets)

    def _write_secrets(self, name: str, path: Path, secrets: Mapping[str, str | None]) -> None:
        doc = self._parse(path) if path.is_file() else tomlkit.document()
        if not path.is_file():
            doc.add(tomlkit.comment(f'Secrets of plex-loader-tui profile "{name}". Keep this file mode 0600.'))
        for key, value in secrets.items():
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value
        if not doc.unwrap():
            path.unlink(missing_ok=True)
            return
        _write_atomic(path, tomlkit.dumps(doc), mode=0o600)
        logger.info("stored secrets of profile %s in %s (mode 0600)", name, path)

    def delete(self, name: str) -> None:
        """Remove profile ``name`` and its secrets file."""
        path = self._require(name)
        with _disk_errors("delete", path):
            path.unlink()
            self.secrets_path(name).unlink(missing_ok=True)
        logger.info("deleted profile %s (%s)", name, path)

