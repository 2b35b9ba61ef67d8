"""``plex-loader-tui web``: the attached dashboard in a browser, served by textual-serve.

textual-serve starts one ``plex-loader-tui attach URL`` per browser tab, as a
child process driving Textual's web driver. It has no authentication of its
own, so it listens on loopback unless told otherwise (``--allow-non-loopback``),
and the README shows an SSH tunnel and a reverse proxy with authentication.

The control token reaches the children through the environment (inherited),
never their command line (``ps`` shows that to every user) nor the page.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys

from plex_loader_tui.config import RunConfig
from plex_loader_tui.config.service_kinds import parse_listen
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.remote.where import attach_target
from plex_loader_tui.service.token import TOKEN_ENV

from .attach import check_service
from .parser import PROG

log = logging.getLogger(__name__)


def attach_command(url: str, config: RunConfig) -> str:
    """The shell command textual-serve runs per browser tab (no secret in it)."""
    argv = [sys.executable, "-m", "plex_loader_tui", "attach", url, "--config-dir", str(config.config_dir),
            "--collection", config.collection]
    if config.given("log_file") and config.log_file is not None:
        argv += ["--log-file", str(config.log_file)]
    return shlex.join(argv)


def run_web(config: RunConfig, args: argparse.Namespace) -> int:
    """Serve the attached dashboard until interrupted; exit 0 (2 bad address, 3 service unusable)."""
    try:
        address = parse_listen(args.web_listen)
    except ValueError as exc:
        raise ConfigError(f"--listen: {exc}") from None
    if not address.is_loopback and not args.allow_non_loopback:
        raise ConfigError(
            f"--listen: {address} is reachable from other machines and textual-serve has no login: anyone "
            "who opens the page controls the service. Listen on 127.0.0.1 and use an SSH tunnel or an "
            "authenticating reverse proxy (README), or add --allow-non-loopback"
        )
    target = attach_target(config, args.url)
    check_service(target)  # unreachable or refused: one line and exit 3 now, not in every browser tab
    # Inherited by every child textual-serve starts; this process's environment is its owner's alone.
    os.environ[TOKEN_ENV] = target.token
    from textual_serve.server import Server  # imported here: it is only needed by this command

    public_url = args.public_url or f"http://{address}"
    server = Server(attach_command(target.url, config), host=address.host, port=address.port,
                    title=f"{PROG} (attached)", public_url=public_url)
    print(f"{PROG}: serving the dashboard attached to {target.url} on {public_url} (Ctrl+C stops; "
          "the service keeps running)", file=sys.stderr, flush=True)
    server.serve()
    return ExitCode.OK
