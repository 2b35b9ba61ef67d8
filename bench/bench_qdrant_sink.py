"""Measure the Qdrant sink's upsert rate in embedded local mode.

Shows what serialising the one shared local-mode client costs: points/s for
upsert batch sizes with 1 and 2 worker threads (with the sink's lock, two
workers can only take turns). Vectors are random unit vectors of the real
shape (384 dense + ~60-term BM25 sparse) and payloads are realistic, so no
embedding is needed and the figure is the sink's alone.

    .venv/bin/python bench/bench_qdrant_sink.py              # 2,000 points, WAL (the default)
    .venv/bin/python bench/bench_qdrant_sink.py --durable    # qdrant-client's own fsync per point
    .venv/bin/python bench/bench_qdrant_sink.py --points 5000 --batch-sizes 32 128
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plex_loader_tui.models import EmbeddedPoint, SparseVector  # noqa: E402
from plex_loader_tui.sinks.qdrant import QdrantSettings, QdrantSink  # noqa: E402


def make_points(n: int, seed: int = 3) -> list[EmbeddedPoint]:
    rng = random.Random(seed)
    points = []
    for i in range(n):
        dense = [rng.gauss(0, 1) for _ in range(384)]
        norm = sum(v * v for v in dense) ** 0.5
        terms = sorted(rng.sample(range(1, 2**31), 60))
        text = " ".join(rng.choice(["spy", "heist", "love", "war", "storm", "ship"]) for _ in range(100))
        payload: dict[str, object] = {
            "rating_key": str(i), "guid": f"plex://movie/{i:x}", "type": "movie", "title": f"Movie {i}",
            "year": 1980 + i % 40, "show_title": None, "season_number": None, "episode_number": None,
            "summary": text[:400], "tagline": "", "genres": ["Drama", "Thriller"], "directors": ["A B"],
            "writers": ["C D"], "actors": ["E F", "G H", "I J"], "imdb_id": f"tt{i:07d}", "tmdb_id": str(i),
            "tvdb_id": None, "imdb_rating": 7.1, "tmdb_rating": 6.9, "content_rating": "PG",
            "added_at": 1_600_000_000, "updated_at": 1_700_000_000, "text": text,
        }
        points.append(
            EmbeddedPoint(
                point_id=f"00000000-0000-4000-8000-{i:012x}", item_key=f"bench:{i}", text=text, payload=payload,
                dense=tuple(v / norm for v in dense),
                sparse=SparseVector(indices=tuple(terms), values=tuple(rng.uniform(0.5, 2.0) for _ in terms)),
            )
        )
    return points


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--durable", action="store_true",
                        help="keep qdrant-client's fsync-per-point SQLite writes (durable_local_writes=True)")
    args = parser.parse_args(argv)
    points = make_points(args.points)
    print(f"{len(points)} points, embedded local mode, {'durable (fsync per point)' if args.durable else 'WAL'} writes")
    print("workers batch  points/s  CPU ms/pt  (load avg)   fresh collection each run")
    for workers in args.workers:
        for batch in args.batch_sizes:
            with tempfile.TemporaryDirectory() as tmp:
                sink = QdrantSink(QdrantSettings(path=Path(tmp), durable_local_writes=args.durable), 384, "bench-dense", "bench-sparse")
                sink.connect()
                sink.ensure_collection()
                batches = [points[i : i + batch] for i in range(0, len(points), batch)]
                cpu0 = _cpu_seconds()
                start = time.perf_counter()
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    done = sum(len(b) for b in pool.map(sink.upsert, batches))
                elapsed = time.perf_counter() - start
                cpu_ms = 1000 * (_cpu_seconds() - cpu0) / len(points)
                assert done == sink.count() == len(points)
                sink.close()
            print(f"{workers:>7} {batch:>5}  {done / elapsed:8.0f}  {cpu_ms:9.2f}   ({os.getloadavg()[0]:.1f})", flush=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
