"""The command line: parsing, the subcommands, logging and one-line errors.

:func:`run_command_line` turns argv and the environment into one resolved
:class:`~plex_loader_tui.config.RunConfig`, sets up logging with secret
redaction, and runs the chosen command. The load itself is handed to the
``run_load`` callable that :mod:`plex_loader_tui.main` passes in: this
package imports no front end (neither ``tui`` nor ``headless``).

Modules: :mod:`.parser` (argparse, built from the settings table),
:mod:`.app` (argv to exit code), :mod:`.logs`, :mod:`.redaction`,
:mod:`.signals`, and one per subcommand (:mod:`.search`, :mod:`.profiles`,
:mod:`.demo_server`). Exit codes: :mod:`plex_loader_tui.exit_codes`.
"""

from __future__ import annotations

from .app import LoadRunner, run_command_line
from .logs import _remove_handlers, configure_logging
from .parser import build_parser
from .redaction import secrets_in_argv

__all__ = [
    "LoadRunner",
    "_remove_handlers",
    "build_parser",
    "configure_logging",
    "run_command_line",
    "secrets_in_argv",
]
