"""``plex-loader-tui search QUERY``: a hybrid query against the loaded collection."""

from __future__ import annotations

import asyncio
import inspect
import sys

from plex_loader_tui.config import RunConfig
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.printable import one_line


def run_search(config: RunConfig, query: str, limit: int) -> int:
    """Print the ``limit`` best hits for ``query``, one line each; return the exit code."""
    if not 1 <= limit <= 1000:
        raise ConfigError(f"--limit: must be between 1 and 1000, got {limit}")
    if not query.strip():
        raise ConfigError("QUERY: must not be empty")
    # Imported here: it brings in fastembed and qdrant-client.
    from plex_loader_tui.load import search_collection

    # Loading the models is the slow part (seconds): say so before, on stderr (stdout holds the hits).
    print(f"searching {config.collection!r} at {config.qdrant_location}: loading the embedding models "
          f"({config.dense_model} + {config.sparse_model})…", file=sys.stderr, flush=True)
    hits = search_collection(config, query, limit)
    if inspect.isawaitable(hits):
        hits = asyncio.run(hits)
    out = sys.stdout
    if not hits:
        print(f"no hits in collection {config.collection!r} at {config.qdrant_location}", file=out)
        return ExitCode.OK
    print(f"{'#':>3}  {'score':>7}  {'type':<7}  title", file=out)
    for rank, hit in enumerate(hits, start=1):
        # display_title names the show and episode of an episode and ends with the year:
        # "Harbor Lights — S02E04 — Fog Bank (2017)".
        print(f"{rank:>3}  {hit.score:>7.4f}  {one_line(hit.type or ''):<7}  {one_line(hit.display_title)}", file=out)
    return ExitCode.OK
