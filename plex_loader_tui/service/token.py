"""The control API's bearer token: from the environment, else a file made once in the config dir.

``PLEX_LOADER_CONTROL_TOKEN`` wins when set (a service manager's secret). Else
``<config dir>/control-token`` is read, or created at first start with
:func:`secrets.token_urlsafe` (256 bits), mode 0600 from its first byte. A
token file others can read is refused, as ssh refuses such a key: a token that
may have leaked must be replaced, not used. Wherever it comes from, the token
is registered with the log redaction; only its path is ever logged.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..secrets import register_secret

log = logging.getLogger(__name__)

#: The variable that holds the token (a systemd credential, a container secret).
TOKEN_ENV = "PLEX_LOADER_CONTROL_TOKEN"
#: The token file's name inside the config dir.
TOKEN_FILE_NAME = "control-token"
#: Bytes of randomness of a generated token (token_urlsafe: 43 characters).
TOKEN_BYTES = 32
#: Shorter tokens are refused: a guessable token guards nothing.
MIN_TOKEN_CHARS = 16


@dataclass(frozen=True, slots=True)
class ControlToken:
    """The token and where it came from (``source``: the variable's name or the file's path)."""

    value: str = field(repr=False)
    source: str
    created: bool = False

    def __repr__(self) -> str:  # never show the value
        return f"ControlToken(source={self.source!r}, created={self.created})"


def token_path(config_dir: Path) -> Path:
    """Where the generated token lives."""
    return config_dir / TOKEN_FILE_NAME


def load_control_token(config_dir: Path, environ: dict[str, str] | os._Environ[str] | None = None) -> ControlToken:
    """The control token (see the module docstring); raises :class:`ConfigError` (exit 2) on a bad one."""
    environ = os.environ if environ is None else environ
    from_env = environ.get(TOKEN_ENV, "").strip()
    if from_env:
        _check(from_env, TOKEN_ENV)
        register_secret(from_env)
        log.info("control API token from %s", TOKEN_ENV)
        return ControlToken(from_env, TOKEN_ENV)
    path = token_path(config_dir)
    created = False
    if not path.exists():
        created = _create(path)
    value = _read(path)
    register_secret(value)
    log.info("control API token %s %s", "written to" if created else "read from", path)
    return ControlToken(value, str(path), created)


def read_control_token(config_dir: Path, environ: Mapping[str, str] | None = None) -> ControlToken:
    """The token a client (``attach``, ``web``) sends: the variable, else the file; never creates one.

    Raises :class:`ConfigError` when there is none, naming both places.
    """
    environ = os.environ if environ is None else environ
    from_env = environ.get(TOKEN_ENV, "").strip()
    if from_env:
        _check(from_env, TOKEN_ENV)
        register_secret(from_env)
        return ControlToken(from_env, TOKEN_ENV)
    path = token_path(config_dir)
    if not path.exists():
        raise ConfigError(
            f"no control token: set {TOKEN_ENV} to the service's token, or use the service's --config-dir "
            f"(its token file {path} does not exist)"
        )
    value = _read(path)
    register_secret(value)
    return ControlToken(value, str(path))


def _check(value: str, where: str) -> None:
    if len(value) < MIN_TOKEN_CHARS or any(c.isspace() or not c.isprintable() for c in value):
        raise ConfigError(
            f"{where}: the control token must be at least {MIN_TOKEN_CHARS} printable characters "
            "without spaces (e.g. the output of: openssl rand -base64 32)"
        )


def _create(path: Path) -> bool:
    """Write a new token to ``path`` unless one appears meanwhile; True when this call wrote it.

    The token is written to a private temporary file (0600 from creation) and
    linked into place, which fails if ``path`` exists: two services starting at
    once never overwrite each other's token, and nobody reads half a file.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # O_CREAT|O_EXCL, 0600
    except OSError as exc:
        raise ConfigError(f"control token: cannot create {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(TOKEN_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: exclusive create, then write
            return _create_exclusive(path, Path(tmp).read_text(encoding="ascii"))
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def _create_exclusive(path: Path, text: str) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise ConfigError(f"control token: cannot create {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    return True


def _read(path: Path) -> str:
    try:
        if os.name == "posix":
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise ConfigError(
                    f"control token file {path} is readable by others (mode {mode:04o}): "
                    f"delete it to have a new token made, or run: chmod 600 {path}"
                )
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"control token: cannot read {path}: {reason}") from None
    _check(value, f"control token file {path}")
    return value
