"""Whether the dashboard can run here: it needs a terminal to read keys from and draw on.

Textual reads keys from stdin and draws on stderr, and a person reads the
result on stdout's terminal. Started from cron, CI, a pipe or with its output
in a file (``plex-loader-tui --demo > out 2>&1 < /dev/null``), the dashboard
would write escape codes into the file and wait for keys that never come, so
the load runs headless instead, and says so in one line.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import TextIO

from plex_loader_tui.config import RunConfig


def missing_terminals(streams: dict[str, TextIO | None] | None = None) -> list[str]:
    """The names of the standard streams that are not a terminal (``["stdin", "stdout"]``)."""
    if streams is None:
        streams = {"stdin": sys.stdin, "stdout": sys.stdout, "stderr": sys.stderr}
    return [name for name, stream in streams.items() if not _is_terminal(stream)]


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # closed, or not a real file
        return False


def headless_without_terminal(config: RunConfig) -> tuple[RunConfig, str | None]:
    """``config`` as it can run here, and the line that says why it changed (or None).

    A load that asks for the dashboard (no ``--no-ui``) where a standard stream is
    not a terminal runs headless.
    """
    if config.no_ui:
        return config, None
    missing = missing_terminals()
    if not missing:
        return config, None
    names = " and ".join((", ".join(missing[:-1]), missing[-1])) if len(missing) > 1 else missing[0]
    verb = "are not terminals" if len(missing) > 1 else "is not a terminal"
    return dataclasses.replace(config, no_ui=True), f"{names} {verb}: running headless (as with --no-ui)"
