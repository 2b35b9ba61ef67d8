"""``search`` latency, local mode against Qdrant Edge: process start → first hit, and per query.

Builds the demo collection (``media-items-demo``) in a fresh data folder for
each engine, with N synthetic points of the real shapes (the store is what is
measured, so no embedding of N texts), recorded with the default models, then:

* **CLI**: ``plex-loader-tui search --demo --data-dir D "QUERY"`` run R times;
  wall seconds from starting the process to its exit, hits printed;
* **in process**: a ``CollectionSearcher`` (what the dashboard's search uses
  outside a run: it keeps the models, and the collection open while queries
  come) answers Q queries; the first (which loads the models) apart, then the
  median of the rest; and the same with the collection closed after each
  query (how it was before the searcher kept it: a reopen per query).

    .venv/bin/python bench/bench_search_latency.py                   # 2,000 and 20,000 points
    .venv/bin/python bench/bench_search_latency.py --sizes 20000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_embedded_store import BATCH, batches  # noqa: E402

from plex_loader_tui.config import DEMO_COLLECTION, RunConfig  # noqa: E402
from plex_loader_tui.config.settings import default_of  # noqa: E402

QUERIES = ["a heist on a ship", "lighthouse keeper and smugglers", "jazz in new orleans", "robot saving a plant",
           "wine fraud at auction", "a storm at the harbor", "spy thriller in berlin", "love and war"]


def build(engine: str, data_dir: Path, n: int) -> None:
    """The demo collection with ``n`` synthetic points, in ``engine``'s format, at ``<data_dir>/qdrant``."""
    path = data_dir / "qdrant"
    dense, sparse = default_of("dense_model"), default_of("sparse_model")
    if engine == "edge":
        from plex_loader_tui.sinks.qdrant_edge import EdgeSink

        sink = EdgeSink(path, DEMO_COLLECTION, 384, dense, sparse)
    else:
        from plex_loader_tui.sinks.qdrant import QdrantSettings, QdrantSink

        sink = QdrantSink(QdrantSettings(path=path, collection=DEMO_COLLECTION), 384, dense, sparse)
    sink.connect()
    sink.ensure_collection()
    for batch in batches(0, n):
        sink.upsert(batch)
    sink.close()


def cli_seconds(engine: str, data_dir: Path, query: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "plex_loader_tui", "search", "--demo", "--data-dir", str(data_dir),
                          "--embedded-store", engine, query], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if out.returncode != 0 or "  1  " not in out.stdout:
        raise SystemExit(f"search failed ({out.returncode}): {out.stderr[-2000:]}")
    return seconds


def in_process(engine: str, data_dir: Path, queries: int, *, reopen: bool) -> tuple[float, list[float]]:
    from plex_loader_tui.load.searching import CollectionSearcher

    searcher = CollectionSearcher(RunConfig(demo=True, data_dir=data_dir, embedded_store=engine))
    times = []
    try:
        for i in range(queries):
            t0 = time.perf_counter()
            hits = asyncio.run(searcher.search(QUERIES[i % len(QUERIES)], 10))
            if reopen:
                searcher.close()
            times.append(time.perf_counter() - t0)
            assert hits
    finally:
        searcher.close()
    return times[0], times[1:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", default=["local", "edge"], choices=["local", "edge"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--runs", type=int, default=5, help="CLI runs per engine and size")
    parser.add_argument("--queries", type=int, default=9, help="queries in one process per engine and size")
    args = parser.parse_args(argv)
    print(f"{'engine':<6} {'points':>7} {'CLI start→hit s (median, min)':>30} {'first query s':>13} "
          f"{'next queries ms (median)':>24} {'reopened each query ms':>22}", flush=True)
    for n in args.sizes:
        for engine in args.engines:
            with tempfile.TemporaryDirectory() as tmp:
                data_dir = Path(tmp)
                build(engine, data_dir, n)
                cli = [cli_seconds(engine, data_dir, QUERIES[i % len(QUERIES)]) for i in range(args.runs)]
                first, rest = in_process(engine, data_dir, args.queries, reopen=False)
                _, reopened = in_process(engine, data_dir, args.queries, reopen=True)
            print(f"{engine:<6} {n:>7} {statistics.median(cli):>21.2f}, {min(cli):.2f} {first:>13.2f} "
                  f"{1000 * statistics.median(rest):>24.0f} {1000 * statistics.median(reopened):>22.0f}", flush=True)
    print(f"(synthetic points, {BATCH} per upsert; {os.cpu_count()} CPUs; other work on the machine shows in the figures)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
