"""``plex-loader-tui attach [URL]``: the dashboard over a running service, until the operator detaches."""

from __future__ import annotations

import os
import sys

from ..config import RunConfig
from ..errors import FatalError
from ..printable import one_line
from ..remote.client import ControlClient
from ..remote.where import AttachTarget
from .app import LoaderApp
from .attached import AttachedSession
from .outcome import EXIT_CANCELLED, EXIT_FATAL

#: Set by Textual's web driver (``web``: textual-serve runs ``attach`` as its child): stdout is not a terminal then.
WEB_DRIVER_ENV = "TEXTUAL_DRIVER"


def attached_app(config: RunConfig, client: ControlClient) -> LoaderApp:
    """A dashboard that hosts ``client``'s service instead of a load of its own."""
    return LoaderApp(config, session_factory=lambda cfg: AttachedSession(cfg, client))


def run_attached(config: RunConfig, target: AttachTarget) -> int:
    """Attach to ``target``; return 0 when the operator detaches, 3 when the service cannot be used.

    The service is checked before the screen opens: an unreachable service or a
    refused token is one line on stderr and exit 3, not a flash of dashboard.
    """
    client = ControlClient(target.url, target.token)
    try:
        client.status()
    except FatalError:
        client.close()
        raise
    app = attached_app(config, client)
    try:
        app.run()
    except KeyboardInterrupt:
        return EXIT_CANCELLED
    finally:
        client.close()
    code = app.return_code
    code = EXIT_FATAL if app.fatal_message is not None else (0 if code is None else code)
    if os.environ.get(WEB_DRIVER_ENV):
        return code  # stdout is the browser's channel: nothing more to say there
    if app.fatal_message is not None:
        print(f"{LoaderApp.TITLE}: error: {one_line(app.fatal_message)}", file=sys.stderr, flush=True)
    else:
        print(f"detached from {target.url}: the service keeps running", flush=True)
    return code
