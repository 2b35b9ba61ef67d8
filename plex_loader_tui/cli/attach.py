"""``attach``, and the commands that attach instead of failing on a service's lock.

A running ``serve`` holds its collection's embedded Qdrant folder (one
process at a time) and its load state. A dashboard load or a ``search`` on
the same collection would fail on that lock; instead they say so and do the
attached equivalent: the dashboard attaches, ``search`` asks the service.

The dashboard itself is the caller's (``run_attach``, from :mod:`plex_loader_tui.main`):
this package imports no front end.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from plex_loader_tui.config import RunConfig
from plex_loader_tui.errors import ConfigError, FatalError
from plex_loader_tui.remote.where import AttachTarget, attach_target, service_holding

from .parser import PROG
from .terminal import missing_terminals

#: Runs the attached dashboard (``tui.attach_run.run_attached``); returns the exit code.
AttachRunner = Callable[[RunConfig, AttachTarget], int]
#: Set by Textual's web driver when ``web`` runs ``attach`` as textual-serve's child.
WEB_DRIVER_ENV = "TEXTUAL_DRIVER"


def run_attach(config: RunConfig, url: str | None, run_attached: AttachRunner) -> int:
    """``plex-loader-tui attach [URL]``: the service is checked first (unreachable, refused: exit 3)."""
    target = attach_target(config, url)
    check_service(target)
    if not os.environ.get(WEB_DRIVER_ENV) and (missing := missing_terminals()):
        names = ", ".join(missing)
        raise ConfigError(f"attach: {names}: not a terminal; the dashboard needs one (for a browser: {PROG} web)")
    return run_attached(config, target)


def check_service(target: AttachTarget) -> None:
    """Raise the one-line :class:`FatalError` (exit 3) when the service is unreachable or refuses the token."""
    from plex_loader_tui.remote.client import ControlClient  # httpx: only when a command talks to a service

    client = ControlClient(target.url, target.token)
    try:
        client.status()
    finally:
        client.close()


def held_by_service_line(config: RunConfig) -> str | None:
    """The line that says a service holds ``config``'s collection (None when none does)."""
    marker = service_holding(config)
    if marker is None:
        return None
    return (f"the service (pid {marker.pid}, {marker.listen}) holds collection {config.collection!r} "
            f"and its embedded Qdrant folder {config.qdrant_location}")


def attach_instead(config: RunConfig, run_attached: AttachRunner) -> int | None:
    """A dashboard load on a collection a service holds: attach to that service (None: no service)."""
    held = held_by_service_line(config)
    if held is None:
        return None
    if config.no_ui:
        raise FatalError(f"{held}: a load cannot open it now; ask the service for a sync "
                         f"(POST /api/v1/sync), use `{PROG} attach`, or stop the service first")
    print(f"{PROG}: {held}: attaching to it instead (q detaches; the service keeps running)",
          file=sys.stderr, flush=True)
    return run_attached(config, attach_target(config))
