"""Ingestion benchmark: items/s of the Plex stage alone against the demo server.

    .venv/bin/python bench/bench_ingest.py [--items 10000] [--page-size 200]
        [--workers 4] [--latency-ms 0 20] [--server-process]

For each latency the demo server adds per request, the library is planned
(``connect`` + ``plan``) and then every page is fetched by ``--workers``
threads, as the engine's thread pool does. Printed per run: items/s of the
page fetching (the steady-state rate), items/s including connect+plan, and
the request counts by kind (so "one request per page" is visible).
Target: >= 2,000 items/s at 20 ms per request with page size 200.

By default the demo server runs in this process (its request log gives exact
counts). It shares the GIL with the client there, which makes the figures
pessimistic; ``--server-process`` runs it in a child process instead (then
request counts come from the plan, not from the server's log).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("PLEXAPI_PLEXAPI_AUTORELOAD", "false")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from plex_loader_tui.demo import DemoLibrary, DemoServer, FaultSettings  # noqa: E402
from plex_loader_tui.sources.plex import PlexSettings, PlexSource  # noqa: E402

TARGET = 2000.0


def run_once(url: str, token: str, page_size: int, workers: int) -> tuple[int, float, float, int]:
    """Return (items, seconds for pages, seconds total, pages)."""
    settings = PlexSettings(url, token, chunk_size=page_size)
    with PlexSource(settings) as source:
        t0 = time.perf_counter()
        source.connect()
        plan = source.plan()
        t1 = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            counts = list(pool.map(lambda p: len(source.fetch_page(p)), plan.pages))
        t2 = time.perf_counter()
    items = sum(counts)
    assert items == plan.total, (items, plan.total)
    return items, t2 - t1, t2 - t0, len(plan.pages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 20.0])
    parser.add_argument("--server-process", action="store_true", help="run the demo server in a child process")
    args = parser.parse_args()

    t = time.perf_counter()
    library = DemoLibrary.generate(seed=7, size=args.items)
    print(
        f"library: {library.size} items ({len(library.movies())} movies, {len(library.episodes())} episodes "
        f"of {len(library.shows())} shows), generated in {time.perf_counter() - t:.1f}s"
    )
    print(f"page size {args.page_size}, {args.workers} page workers, server "
          f"{'in a child process' if args.server_process else 'in process'}")
    worst = math.inf
    for latency in args.latency_ms:
        if args.server_process:
            items, pages_s, total_s, pages, counts = _run_child(args, latency)
        else:
            with DemoServer(library, faults={"plex": FaultSettings(latency_ms=latency)}) as server:
                # A fresh server per latency: its XML cache starts cold, as a real first load.
                items, pages_s, total_s, pages = run_once(server.plex_url, server.token or "", args.page_size, args.workers)
                counts = (
                    f"requests: {server.count('plex')} total = "
                    f"{server.count('plex') - server.count('plex', '/library/sections/')} setup + "
                    f"{server.count('plex', '/library/sections/')} listing "
                    f"({pages} pages + totals/shows); per-item /library/metadata: "
                    f"{server.count('plex', '/library/metadata')}"
                )
        rate = items / pages_s
        worst = min(worst, rate) if latency >= 20 else worst
        print(
            f"latency {latency:>4.0f} ms: {items} items, pages in {pages_s:.2f}s = {rate:,.0f} items/s; "
            f"with connect+plan {total_s:.2f}s = {items / total_s:,.0f} items/s\n    {counts}"
        )
    if worst is not math.inf:
        verdict = "OK" if worst >= TARGET else "BELOW TARGET"
        print(f"target >= {TARGET:,.0f} items/s at 20 ms: {verdict} ({worst:,.0f})")
    return 0


def _run_child(args: argparse.Namespace, latency: float) -> tuple[int, float, float, int, str]:
    command = [sys.executable, "-m", "plex_loader_tui", "demo-server", "--port", "0", "--items", str(args.items),
               "--seed", "7", "--latency-ms", str(latency), "--log-level", "WARNING"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        url = proc.stdout.readline().split()[1]
        items, pages_s, total_s, pages = run_once(url, "demo-token", args.page_size, args.workers)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return items, pages_s, total_s, pages, f"requests: {pages} pages (one request each) + setup"


if __name__ == "__main__":
    raise SystemExit(main())
