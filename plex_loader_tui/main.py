"""The program's entry: the ``plex-loader-tui`` console script and ``python -m plex_loader_tui``.

The command line (:mod:`plex_loader_tui.cli`) parses and resolves; this module
chooses the front end that runs a load: the dashboard, or headless with
``--no-ui``. Both are imported only when a load starts, so that ``--help``,
``profiles`` and configuration errors stay fast and load neither Textual nor
fastembed nor qdrant-client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from plex_loader_tui.cli import run_command_line
from plex_loader_tui.config import RunConfig

if TYPE_CHECKING:
    from plex_loader_tui.remote.where import AttachTarget


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command line; return the process exit code (see :mod:`plex_loader_tui.exit_codes`)."""
    return run_command_line(argv, environ, run_load=run_front_end, run_attach=run_attached)


def run_attached(config: RunConfig, target: AttachTarget) -> int:
    """The dashboard attached to a running service (``attach``)."""
    from plex_loader_tui.tui.attach_run import run_attached as run

    return int(run(config, target))


def run_front_end(config: RunConfig) -> int:
    """Run a load with ``config`` in the front end it asks for; return the exit code.

    When a running service holds the collection, the dashboard attaches to it
    instead (a headless load says so and stops: :func:`~plex_loader_tui.cli.attach.attach_instead`).
    """
    from plex_loader_tui.cli.attach import attach_instead

    attached = attach_instead(config, run_attached)
    if attached is not None:
        return attached
    if config.no_ui:
        from plex_loader_tui.headless import run_headless

        return int(run_headless(config))
    from plex_loader_tui.tui.app import run_dashboard

    return int(run_dashboard(config))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
