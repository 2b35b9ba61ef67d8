"""Enrichment benchmark: items/s of the enrichment stage against the demo TMDb/IMDb server.

    .venv/bin/python bench/bench_enrich.py [--movies 1000] [--latency-ms 50]
        [--workers 1,4,8,16] [--batch-size 20] [--skip-default-rates] [--skip-cache]

Every request to the demo server takes ``--latency-ms`` (simulated network
and server time). The stage runs under the real engine (``Pipeline`` with
one ``enrich`` stage of N workers), over the first ``--movies`` movies of a
deterministic demo library: a realistic mix with legacy-agent ids, items
without ids and ids TMDb or IMDb do not know.

1. Workers: items/s at each worker count with the rate limits lifted, so the
   number shows what concurrency buys (ideal: linear in workers).
2. Default rates: the same at the highest worker count with the shipped
   limits (TMDb 40 req/s, IMDb 10 req/s), which is what a real run gets.
3. Cache: a second run over the same items with the response cache warm
   (target: zero requests).

Requests per item are counted by the demo server (retries included).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.source_items import movie_source_item
from plex_loader_tui.enrich import Enricher, EnrichSettings
from plex_loader_tui.enrich.settings import DEFAULT_IMDB_RATE, DEFAULT_TMDB_RATE
from plex_loader_tui.models import SourceItem
from plex_loader_tui.pipeline import Pipeline, Stage

KEY = "bench-tmdb-key-0123456789"
UNLIMITED = 100_000.0


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    workers: int
    items: int
    seconds: float
    tmdb_requests: int
    imdb_requests: int
    with_tmdb: int
    with_imdb: int
    errors: int

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    @property
    def per_item(self) -> float:
        return (self.tmdb_requests + self.imdb_requests) / self.items


def movie_items(library: DemoLibrary, n: int) -> list[SourceItem]:
    items = [movie_source_item(m) for m in library.movies()[:n]]
    if len(items) < n:
        raise SystemExit(f"the demo library has only {len(items)} movies")
    return items


async def run_stage(
    server: DemoServer,
    items: list[SourceItem],
    *,
    label: str,
    workers: int,
    batch_size: int,
    tmdb_rate: float,
    imdb_rate: float,
    cache_path: Path | None = None,
) -> Row:
    settings = EnrichSettings(
        tmdb_api_key=KEY,
        tmdb_base_url=server.tmdb_url,
        imdb_base_url=server.imdb_url,
        tmdb_rate=tmdb_rate,
        imdb_rate=imdb_rate,
        cache_path=cache_path,
    )
    server.reset_log()
    async with Enricher(settings) as enricher:
        stage = Stage("enrich", enricher.enrich, workers=workers, batch_size=batch_size, status=enricher.status)
        pipeline = Pipeline([stage], items, total=len(items))
        started = time.perf_counter()
        result = await pipeline.run()
        seconds = time.perf_counter() - started
        stats = enricher.stats
    if result.snapshot.loaded != len(items):
        raise SystemExit(f"{label}: only {result.snapshot.loaded} of {len(items)} items came through")
    return Row(
        label=label,
        workers=workers,
        items=len(items),
        seconds=seconds,
        tmdb_requests=server.count("tmdb"),
        imdb_requests=server.count("imdb"),
        with_tmdb=stats.items_with_tmdb,
        with_imdb=stats.items_with_imdb,
        errors=stats.items_with_errors,
    )


def show(row: Row, base: Row | None) -> None:
    speedup = f"{row.rate / base.rate:5.2f}x" if base else "  —  "
    print(
        f"  {row.label:<22} {row.workers:>3}  {row.seconds:7.2f} s  {row.rate:8.1f} items/s  {speedup}"
        f"  {row.per_item:5.3f} req/item (TMDb {row.tmdb_requests}, IMDb {row.imdb_requests})"
        f"  tmdb {row.with_tmdb} imdb {row.with_imdb} errors {row.errors}"
    )


async def main(args: argparse.Namespace) -> None:
    library = DemoLibrary.generate(seed=7, size=int(args.movies / 0.6) + 50)
    items = movie_items(library, args.movies)
    workers = [int(w) for w in args.workers.split(",")]
    print(
        f"enrichment: {len(items)} movies, {args.latency_ms:g} ms per request, batch size {args.batch_size}, "
        "real engine + demo server on loopback"
    )
    print(f"  {'run':<22} {'wkr':>3}  {'time':>9}  {'throughput':>14}  speedup")
    with DemoServer(library, tmdb_api_key=KEY) as server:
        for service in ("tmdb", "imdb"):
            server.set_faults(service, latency_ms=args.latency_ms)  # type: ignore[arg-type]
        base: Row | None = None
        for n in workers:
            row = await run_stage(
                server, items, label="rate limits lifted", workers=n, batch_size=args.batch_size,
                tmdb_rate=UNLIMITED, imdb_rate=UNLIMITED,
            )
            base = base or row
            show(row, base)
        if not args.skip_default_rates:
            row = await run_stage(
                server, items, label="default rate limits", workers=max(workers), batch_size=args.batch_size,
                tmdb_rate=DEFAULT_TMDB_RATE, imdb_rate=DEFAULT_IMDB_RATE,
            )
            show(row, base)
        if not args.skip_cache:
            with tempfile.TemporaryDirectory() as tmp:
                cache = Path(tmp) / "http-cache.sqlite3"
                n = max(workers)
                cold = await run_stage(
                    server, items, label="cache cold", workers=n, batch_size=args.batch_size,
                    tmdb_rate=UNLIMITED, imdb_rate=UNLIMITED, cache_path=cache,
                )
                show(cold, base)
                warm = await run_stage(
                    server, items, label="cache warm (2nd run)", workers=n, batch_size=args.batch_size,
                    tmdb_rate=UNLIMITED, imdb_rate=UNLIMITED, cache_path=cache,
                )
                show(warm, base)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--movies", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--workers", default="1,4,8,16")
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--skip-default-rates", action="store_true")
    parser.add_argument("--skip-cache", action="store_true")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args()))
