"""An older Edge shard's in-RAM payload indexes, before and after the sink rebuilds them on disk.

Shards written before the payload indexes moved to disk keep them in RAM
(their ``memory`` unset) whatever config opens them. ``EdgeSink.ensure_collection``
now rebuilds such indexes on disk, once. For each size, in fresh child
processes (so RSS is the store's):

* **make**: N synthetic points (``bench_embedded_store.point``) written through
  the sink, then every payload index recreated as an older version made it;
* **before**: open the shard, run filtered hybrid queries: RSS, query time;
* **rebuild**: open it for a load (``ensure_collection``): seconds the rebuild takes;
* **after**: the same as *before*, on the rebuilt shard.

    .venv/bin/python bench/bench_index_migration.py --sizes 20000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_embedded_store import BATCH, _rss_mb, make_sink, point, query_vectors

REPO = Path(__file__).resolve().parents[1]


def phase_make(path: Path, n: int) -> dict[str, float]:
    import qdrant_edge as qe

    from plex_loader_tui.sinks.qdrant_schema import PAYLOAD_INDEXES, IndexKind

    # As the first Edge versions made them: text with params but no memory setting, the rest bare types.
    in_ram = {IndexKind.TEXT: lambda: qe.TextIndexParams(tokenizer=qe.TokenizerType.Word, lowercase=True),
              IndexKind.KEYWORD: lambda: qe.PayloadSchemaType.Keyword,
              IndexKind.INTEGER: lambda: qe.PayloadSchemaType.Integer}
    sink = make_sink("edge", path)
    sink.connect()
    sink.ensure_collection()
    for lo in range(0, n, BATCH):
        sink.upsert([point(i) for i in range(lo, min(lo + BATCH, n))])
    for index in PAYLOAD_INDEXES:
        sink.shard.update(qe.UpdateOperation.create_field_index(index.field, in_ram[index.kind]()))
    in_ram_count = sum(getattr(i.params, "memory", None) is None for i in sink.shard.info().payload_schema.values())
    sink.close()
    return {"indexes_in_ram": in_ram_count}


def phase_query(path: Path, n: int, queries: int) -> dict[str, float]:
    from plex_loader_tui.models import SearchFilters

    sink = make_sink("edge", path)
    sink.connect()
    opened, opened_anon = _rss_mb()
    rng = random.Random(7)
    times = []
    for _ in range(queries):
        q = query_vectors(rng)
        t = time.perf_counter()
        hits = sink.hybrid_query(q, 10, SearchFilters(type="movie", year=1950 + rng.randrange(75)))
        times.append(1000 * (time.perf_counter() - t))
        assert hits and all(h.payload["type"] == "movie" for h in hits)
    after, after_anon = _rss_mb()
    in_ram = sum(getattr(i.params, "memory", None) is None for i in sink.shard.info().payload_schema.values())
    sink.close()
    times.sort()
    return {"rss_after_open_mb": opened, "anon_after_open_mb": opened_anon, "rss_after_queries_mb": after,
            "anon_after_queries_mb": after_anon, "query_median_ms": times[len(times) // 2], "indexes_in_ram": in_ram}


def phase_rebuild(path: Path) -> dict[str, float]:
    sink = make_sink("edge", path)
    sink.connect()
    t0 = time.perf_counter()
    sink.ensure_collection()
    seconds = time.perf_counter() - t0
    peak, anon = _rss_mb()
    sink.close()
    return {"rebuild_s": seconds, "rss_after_rebuild_mb": peak, "anon_after_rebuild_mb": anon}


def _child(*args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "bench")])}
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        phase, path, n = argv[1], Path(argv[2]), int(argv[3])
        result = {"make": lambda: phase_make(path, n), "query": lambda: phase_query(path, n, int(argv[4])),
                  "rebuild": lambda: phase_rebuild(path)}[phase]()
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000])
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--dir", type=Path, default=None, help="where the shards go (default: a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"edge-{n}"
            made = _child("make", str(path), str(n))
            before = _child("query", str(path), str(n), str(args.queries))
            rebuilt = _child("rebuild", str(path), str(n))
            after = _child("query", str(path), str(n), str(args.queries))
            print(json.dumps({"points": n, "made": made, "before": before, "rebuild": rebuilt, "after": after}))
            print(f"{n:>7} points: indexes in RAM {before['indexes_in_ram']} -> {after['indexes_in_ram']}; "
                  f"RSS after open {before['rss_after_open_mb']:.0f} -> {after['rss_after_open_mb']:.0f} MB "
                  f"(anon {before['anon_after_open_mb']:.0f} -> {after['anon_after_open_mb']:.0f}); "
                  f"after queries {before['rss_after_queries_mb']:.0f} -> {after['rss_after_queries_mb']:.0f} MB; "
                  f"filtered query median {before['query_median_ms']:.1f} -> {after['query_median_ms']:.1f} ms; "
                  f"rebuild {rebuilt['rebuild_s']:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
