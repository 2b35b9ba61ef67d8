"""``plex-loader-tui migrate-store``: copy a local-mode embedded folder into Qdrant Edge."""

from __future__ import annotations

import sys

from plex_loader_tui.config import RunConfig
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.exit_codes import ExitCode


def run_migrate_store(config: RunConfig) -> int:
    """Migrate ``config``'s embedded folder (every collection in it); print one line per collection."""
    path = config.effective_qdrant_path
    if path is None:
        raise ConfigError("migrate-store copies an embedded folder (--qdrant-path), not a Qdrant server (--qdrant-url)")
    # Imported here: it brings in qdrant-client and Qdrant Edge.
    from plex_loader_tui.sinks.migrate import migrate_local_to_edge

    print(f"migrating {path} from qdrant-client local mode to Qdrant Edge…", file=sys.stderr, flush=True)
    result = migrate_local_to_edge(path)
    for collection in result.collections:
        print(f"migrated collection {collection.name!r}: {collection.points} points, counts checked")
    print(f"{path} is now a Qdrant Edge store; the local-mode files are kept in {result.backup} "
          "(delete them once you are happy)")
    return ExitCode.OK
