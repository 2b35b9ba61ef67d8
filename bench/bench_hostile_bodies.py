"""Peak memory of the enrichment stage when TMDb and IMDb answer with huge bodies.

    PYTHONPATH=. .venv/bin/python bench/bench_hostile_bodies.py [--mb 200] [--movies 4]

The demo server answers every TMDb and IMDb request with a 200 whose body is
``--mb`` MiB of valid JSON, streamed chunked without a ``Content-Length`` (its
``huge`` fault; the server never holds the body in memory). The enricher looks
up ``--movies`` movies, one batch. The figure is the growth of this process's
peak resident set (``ru_maxrss``) over the lookups, measured after the server,
the enricher and one healthy batch are warm, so it is what the answers cost.

It only uses APIs that exist before and after the body limit, so the same
script measures both: point ``PYTHONPATH`` at the code to measure.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import time

from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.source_items import movie_source_item
from plex_loader_tui.enrich import Enricher, EnrichSettings

KEY = "bench-tmdb-key-0123456789"
MIB = 1024 * 1024


def peak_rss_mib() -> float:
    """This process's peak resident set so far (Linux reports kilobytes, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


async def measure(mb: int, movies: int) -> None:
    library = DemoLibrary.generate(seed=7, size=max(60, movies * 4))
    items = [
        movie_source_item(m)
        for m in library.movies()
        if m.guids and m.tmdb_id not in library.tmdb_missing and m.imdb_id not in library.imdb_missing
    ][:movies]
    with DemoServer(library, tmdb_api_key=KEY) as server:
        settings = EnrichSettings(
            tmdb_api_key=KEY,
            tmdb_base_url=server.tmdb_url,
            imdb_base_url=server.imdb_url,
            tmdb_rate=1000.0,
            imdb_rate=1000.0,
            timeout=30.0,
            attempts=1,
        )
        async with Enricher(settings) as enricher:
            await enricher.enrich(items[:1])  # warm: imports, pools, the first connection
            before = peak_rss_mib()
            for service in ("tmdb", "imdb"):
                server.set_faults(service, huge_rate=1.0, huge_bytes=mb * MIB)
            started = time.perf_counter()
            out = await enricher.enrich(items)
            seconds = time.perf_counter() - started
            after = peak_rss_mib()
    with_data = sum(o.tmdb is not None or o.imdb is not None for o in out)
    failed = sum(bool(o.errors) for o in out)
    print(f"bodies: {mb} MiB from TMDb and IMDb, {len(items)} movies in one batch")
    print(f"peak RSS before the lookups: {before:8.1f} MiB")
    print(f"peak RSS after the lookups:  {after:8.1f} MiB  (growth {after - before:.1f} MiB)")
    print(f"lookups took {seconds:.2f} s; items with data: {with_data}; items with errors: {failed}")
    reasons = sorted({f"{e.service}: {getattr(e, 'reason', '') or e.message}" for o in out for e in o.errors})
    for reason in reasons:
        print(f"  {reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=200, help="size of each huge body in MiB (default 200)")
    parser.add_argument("--movies", type=int, default=4, help="movies to look up (default 4)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(measure(args.mb, args.movies))


if __name__ == "__main__":
    main()
