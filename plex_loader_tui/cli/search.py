"""``plex-loader-tui search QUERY``: a hybrid query against the loaded collection."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from plex_loader_tui.config import RunConfig
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.models import SearchFilters
from plex_loader_tui.printable import one_line

if TYPE_CHECKING:
    from plex_loader_tui.search import SearchHit

#: The payload key that holds the embedded text (left out of --json unless --with-text).
TEXT_KEY = "text"


@dataclass(frozen=True, slots=True)
class SearchOptions:
    """How to print hits and which items to keep."""

    as_json: bool = False
    with_text: bool = False
    filters: SearchFilters = field(default_factory=SearchFilters)


def search_options(args: argparse.Namespace) -> SearchOptions:
    """The search command's own flags as :class:`SearchOptions`."""
    if args.with_text and not args.json:
        raise ConfigError("--with-text: only with --json (it adds the embedded text to each JSON hit)")
    for flag, value in (("--genre", args.genre), ("--actor", args.actor)):
        if value is not None and not value.strip():
            raise ConfigError(f"{flag}: must not be empty")
    return SearchOptions(
        as_json=args.json, with_text=args.with_text,
        filters=SearchFilters(type=args.item_type, year=args.year, genre=args.genre, actor=args.actor),
    )


def run_search(config: RunConfig, query: str, limit: int, options: SearchOptions | None = None) -> int:
    """Print the ``limit`` best hits for ``query``, one line each; return the exit code."""
    options = options or SearchOptions()
    if not 1 <= limit <= 1000:
        raise ConfigError(f"--limit: must be between 1 and 1000, got {limit}")
    if not query.strip():
        raise ConfigError("QUERY: must not be empty")
    hits = _search_through_service(config, query, limit, options)
    if hits is None:
        hits = _search_here(config, query, limit, options)
    return _print_hits(config, hits, options)


def _search_through_service(config: RunConfig, query: str, limit: int,
                            options: SearchOptions) -> Sequence[SearchHit] | None:
    """When a running service holds the collection: its hits (``GET /api/v1/search``); else None."""
    from .attach import held_by_service_line

    held = held_by_service_line(config)
    if held is None:
        return None
    if options.filters or options.with_text:
        raise ConfigError(f"{held}: --type, --year, --genre, --actor and --with-text need the folder itself; "
                          "search without them (through the service), or stop the service first")
    from plex_loader_tui.remote.client import ControlClient
    from plex_loader_tui.remote.where import attach_target

    target = attach_target(config)
    print(f"{held}: searching through it ({target.url})", file=sys.stderr, flush=True)

    async def ask() -> Sequence[SearchHit]:
        client = ControlClient(target.url, target.token)
        try:
            return await client.search(query, limit)
        finally:
            await client.aclose()
            client.close()

    try:
        return asyncio.run(ask())
    except ValueError as exc:  # the API refused the query (too long, ...): its own words
        raise ConfigError(f"QUERY: {exc}") from None


def _search_here(config: RunConfig, query: str, limit: int, options: SearchOptions) -> Sequence[SearchHit]:
    # Imported here: it brings in fastembed and qdrant-client.
    from plex_loader_tui.load import search_collection

    # Loading the models is the slow part (seconds): say so before, on stderr (stdout holds the hits).
    print(f"searching {config.collection!r} at {config.qdrant_location}: loading the embedding models "
          f"({config.dense_model} + {config.sparse_model})…", file=sys.stderr, flush=True)
    hits = search_collection(config, query, limit, options.filters or None)
    if inspect.isawaitable(hits):
        hits = asyncio.run(hits)
    return hits


def _print_hits(config: RunConfig, hits: Sequence[SearchHit], options: SearchOptions) -> int:
    out = sys.stdout
    if options.as_json:
        for hit in hits:
            payload = hit.payload if options.with_text else {k: v for k, v in hit.payload.items() if k != TEXT_KEY}
            # ensure_ascii: upstream text reaches the terminal as \u escapes, never as control characters.
            print(json.dumps({"score": hit.score, "id": hit.point_id, "payload": payload}, sort_keys=True), file=out)
        out.flush()
        return ExitCode.OK
    if not hits:
        print(f"no hits in collection {config.collection!r} at {config.qdrant_location}", file=out)
        return ExitCode.OK
    print(f"{'#':>3}  {'score':>7}  {'type':<7}  title", file=out)
    for rank, hit in enumerate(hits, start=1):
        # display_title names the show and episode of an episode and ends with the year:
        # "Harbor Lights — S02E04 — Fog Bank (2017)".
        print(f"{rank:>3}  {hit.score:>7.4f}  {one_line(hit.type or ''):<7}  {one_line(hit.display_title)}", file=out)
    return ExitCode.OK
