"""Keeping secrets out of what the command line prints."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from plex_loader_tui.config import SECRET_SETTINGS, SETTINGS_BY_NAME
from plex_loader_tui.printable import one_line
from plex_loader_tui.secrets import mask_in_text, redact
from plex_loader_tui.service.token import TOKEN_ENV

from .parser import PROG

#: Flags whose value is a credential (the settings' and demo-server's own).
_SECRET_FLAGS: tuple[str, ...] = tuple(
    flag for name in SECRET_SETTINGS for flag in SETTINGS_BY_NAME[name].flags
) + ("--token",)


def secrets_in_argv(argv: Sequence[str]) -> tuple[str, ...]:
    """The values given to secret flags in ``argv`` (``--plex-token X`` and ``--plex-token=X``).

    Collected before parsing, so that an argparse error that quotes the command
    line ("unrecognized arguments: --plex-token …") can be redacted. A prefix
    that argparse would accept as an abbreviation (``--plex-tok``) counts too;
    masking a value that was not a secret only costs some of an error line.
    """
    found: list[str] = []
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if not arg.startswith("--") or len(arg) <= 2:
            continue
        option, eq, value = arg.partition("=")
        if not any(flag.startswith(option) for flag in _SECRET_FLAGS):
            continue
        if eq:
            found.append(value)
        elif index + 1 < len(argv):
            found.append(argv[index + 1])
    return tuple(v for v in found if v)


def known_secrets(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[str, ...]:
    """Every secret known before parsing: the standard variables' (the control token's too) and the secret flags' values."""
    variables = [SETTINGS_BY_NAME[s].env[0] for s in SECRET_SETTINGS] + [TOKEN_ENV]
    from_environment = tuple(v for v in (environ.get(name) for name in variables) if v)
    return from_environment + secrets_in_argv(argv)


def print_error(message: str, secrets: Sequence[str] = ()) -> None:
    """Print ``message`` as the one ``plex-loader-tui: error: …`` line, secrets masked, controls shown."""
    text = mask_in_text(redact(one_line(message), secrets))
    print(f"{PROG}: error: {text}", file=sys.stderr)
