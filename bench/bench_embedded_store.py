"""Qdrant Edge against qdrant-client local mode, the store alone (no embedding).

For each engine and size, fresh child processes (so RSS is the store's, not
an earlier run's):

* **write**: a new collection, N points upserted in batches of 64 through the
  project's sink; points/s and RSS after writing;
* **open**: a new process opens the written collection: seconds to open and
  RSS after opening (local mode reads every point into RAM here);
* **query**: in that process, hybrid queries (dense + sparse, RRF) through
  the sink: median and p95 ms, and RSS after them;
* **kill -9** (``--durability``): a child upserts and prints each batch the
  sink confirmed; it is killed with SIGKILL mid-run; the store is reopened
  and every confirmed point must be there.

Synthetic points have the real shapes: 384-dim unit dense vectors (the
bundled BAAI/bge-small-en-v1.5), ~100 nonzero sparse terms drawn from a
50,000-term vocabulary, and a realistic ~2 KB payload. They are generated
batch by batch, so the bench process never holds them all.

    .venv/bin/python bench/bench_embedded_store.py                      # 2k and 20k, both engines
    .venv/bin/python bench/bench_embedded_store.py --sizes 2000 20000 100000 --durability
    .venv/bin/python bench/bench_embedded_store.py --engines edge --sizes 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from plex_loader_tui.models import EmbeddedPoint, QueryVectors, SparseVector  # noqa: E402

DIM = 384
SPARSE_TERMS = 100
VOCABULARY = 50_000
BATCH = 64
COLLECTION = "bench"
WORDS = ["spy", "heist", "love", "war", "storm", "ship", "harbor", "night", "kingdom", "river", "signal", "orchestra"]


def _rss_mb() -> tuple[float, float]:
    """(RSS, anonymous RSS) of this process in MB, from /proc.

    The difference is file-backed: Edge maps its segment files, and those
    pages count in RSS while touched but are page cache the kernel reclaims.
    """
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["RssAnon"].split()[0]) / 1024


def _unit(rng: random.Random) -> tuple[float, ...]:
    v = [rng.gauss(0, 1) for _ in range(DIM)]
    norm = sum(x * x for x in v) ** 0.5
    return tuple(x / norm for x in v)


def query_vectors(rng: random.Random) -> QueryVectors:
    """A random hybrid query: a unit dense vector and 8 sparse terms of the vocabulary."""
    terms = sorted(rng.sample(range(VOCABULARY), 8))
    return QueryVectors(dense=_unit(rng), sparse=SparseVector(tuple(terms), tuple(1.0 for _ in terms)))


def point(i: int) -> EmbeddedPoint:
    """Point ``i``: the same for the same ``i`` (seeded by it), so a reopened store can be checked."""
    rng = random.Random(i)
    terms = sorted(rng.sample(range(VOCABULARY), SPARSE_TERMS))
    text = " ".join(rng.choice(WORDS) for _ in range(300))
    payload: dict[str, object] = {
        "rating_key": str(i), "guid": f"plex://movie/{i:x}", "type": "movie", "title": f"Movie {i}",
        "year": 1950 + i % 75, "show_title": None, "season_number": None, "episode_number": None,
        "summary": text[:400], "tagline": "", "genres": ["Drama", "Thriller"], "directors": ["A B"],
        "writers": ["C D"], "actors": ["E F", "G H", "I J"], "imdb_id": f"tt{i:07d}", "tmdb_id": str(i),
        "tvdb_id": None, "imdb_rating": 7.1, "tmdb_rating": 6.9, "content_rating": "PG",
        "added_at": 1_600_000_000, "updated_at": 1_700_000_000, "text": text,
    }
    return EmbeddedPoint(
        point_id=f"00000000-0000-4000-8000-{i:012x}", item_key=f"bench:{i}", text=text, payload=payload,
        dense=_unit(rng), sparse=SparseVector(indices=tuple(terms), values=tuple(rng.uniform(0.5, 2.0) for _ in terms)),
    )


def batches(start: int, stop: int) -> Iterator[list[EmbeddedPoint]]:
    for lo in range(start, stop, BATCH):
        yield [point(i) for i in range(lo, min(lo + BATCH, stop))]


def import_sink(engine: str) -> None:
    """Import the engine's sink module (timed apart from opening: qdrant-client alone takes ~1 s)."""
    if engine == "edge":
        import plex_loader_tui.sinks.qdrant_edge  # noqa: F401
    else:
        import plex_loader_tui.sinks.qdrant  # noqa: F401


def make_sink(engine: str, path: Path):
    if engine == "edge":
        from plex_loader_tui.sinks.qdrant_edge import EdgeSink

        return EdgeSink(path, COLLECTION, DIM, "bench-dense", "bench-sparse")
    from plex_loader_tui.sinks.qdrant import QdrantSettings, QdrantSink

    return QdrantSink(QdrantSettings(path=path, collection=COLLECTION), DIM, "bench-dense", "bench-sparse")


# -- child phases (each in a fresh process) --------------------------------------


def phase_write(engine: str, path: Path, n: int) -> dict[str, float]:
    sink = make_sink(engine, path)
    sink.connect()
    sink.ensure_collection()
    gen = 0.0
    write = 0.0
    for lo in range(0, n, BATCH):
        t0 = time.perf_counter()
        batch = [point(i) for i in range(lo, min(lo + BATCH, n))]
        t1 = time.perf_counter()
        sink.upsert(batch)
        gen, write = gen + t1 - t0, write + time.perf_counter() - t1
    rss, anon = _rss_mb()
    t0 = time.perf_counter()
    sink.close()
    close_s = time.perf_counter() - t0
    return {"points_per_s": n / write, "rss_after_write_mb": rss, "anon_after_write_mb": anon, "close_s": close_s}


def phase_query(engine: str, path: Path, n: int, queries: int) -> dict[str, float]:
    t0 = time.perf_counter()
    import_sink(engine)
    import_s = time.perf_counter() - t0
    before, _ = _rss_mb()
    t0 = time.perf_counter()
    sink = make_sink(engine, path)
    sink.connect()
    assert sink.collection_exists()
    open_s = time.perf_counter() - t0
    opened, opened_anon = _rss_mb()
    rng = random.Random(99)
    times = []
    for _ in range(queries):
        q = query_vectors(rng)
        t = time.perf_counter()
        hits = sink.hybrid_query(q, 10)
        times.append(1000 * (time.perf_counter() - t))
        assert len(hits) == 10 and hits[0].payload.get("title")
    count = sink.count()
    after, after_anon = _rss_mb()
    sink.close()
    times.sort()
    return {
        "import_s": import_s, "open_s": open_s, "rss_before_open_mb": before, "rss_after_open_mb": opened,
        "anon_after_open_mb": opened_anon, "rss_after_queries_mb": after, "anon_after_queries_mb": after_anon,
        "query_median_ms": times[len(times) // 2], "query_p95_ms": times[int(len(times) * 0.95)],
        "count_ok": float(count == n),
    }


def phase_kill(engine: str, path: Path, n: int) -> None:
    """Upsert forever-ish, printing the last index each confirmed batch reached (the parent kills us)."""
    sink = make_sink(engine, path)
    sink.connect()
    sink.ensure_collection()
    for batch in batches(0, n):
        sink.upsert(batch)
        print(int(batch[-1].point_id.rsplit("-", 1)[1], 16) + 1, flush=True)
    sink.close()


def phase_check(engine: str, path: Path, confirmed: int) -> dict[str, float]:
    sink = make_sink(engine, path)
    sink.connect()
    found = 0
    for lo in range(0, confirmed, 512):
        ids = [f"00000000-0000-4000-8000-{i:012x}" for i in range(lo, min(lo + 512, confirmed))]
        found += len(sink.retrieve(ids))
    count = sink.count()
    sink.close()
    return {"confirmed": confirmed, "found": found, "count": count}


# -- the parent ----------------------------------------------------------------


def _child(*args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def durability(engine: str, tmp: Path, after: int = 3000) -> dict[str, float]:
    """Kill -9 a writer once it confirmed at least ``after`` points; every confirmed point must be back."""
    path = tmp / f"{engine}-kill"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, __file__, "--child", "kill", engine, str(path), "1000000"],
                            stdout=subprocess.PIPE, text=True, env=env)
    confirmed = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        confirmed = int(line)
        if confirmed >= after:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    # Lines the child printed before it died were confirmed too: read what is left.
    for line in proc.stdout:
        confirmed = max(confirmed, int(line))
    return _child("check", engine, str(path), str(confirmed))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        phase, engine, path, n = argv[1], argv[2], Path(argv[3]), int(argv[4])
        if phase == "kill":
            phase_kill(engine, path, n)
            return 0
        result = {"write": lambda: phase_write(engine, path, n),
                  "query": lambda: phase_query(engine, path, n, int(argv[5])),
                  "check": lambda: phase_check(engine, path, n)}[phase]()
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", default=["local", "edge"], choices=["local", "edge"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--durability", action="store_true", help="also kill -9 a writer and check what it confirmed")
    parser.add_argument("--dir", type=Path, default=None, help="where the stores go (default: a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp_name:
        tmp = Path(tmp_name)
        print(f"{'engine':<6} {'points':>7} {'write pt/s':>10} {'RSS write (anon)':>16} {'import s':>8} {'open s':>7} "
              f"{'RSS open (anon)':>15} {'q med ms':>8} {'q p95 ms':>8} {'RSS q (anon)':>12} {'disk MB':>7}", flush=True)
        for n in args.sizes:
            for engine in args.engines:
                path = tmp / f"{engine}-{n}"
                w = _child("write", engine, str(path), str(n))
                q = _child("query", engine, str(path), str(n), str(args.queries))
                # Blocks in use: Edge preallocates its WAL and mmap files as sparse files.
                disk = sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file()) / 2**20
                print(f"{engine:<6} {n:>7} {w['points_per_s']:>10.0f} "
                      f"{w['rss_after_write_mb']:>9.0f} ({w['anon_after_write_mb']:>4.0f}) {q['import_s']:>8.2f} "
                      f"{q['open_s']:>7.2f} {q['rss_after_open_mb']:>8.0f} ({q['anon_after_open_mb']:>4.0f}) "
                      f"{q['query_median_ms']:>8.1f} {q['query_p95_ms']:>8.1f} "
                      f"{q['rss_after_queries_mb']:>5.0f} ({q['anon_after_queries_mb']:>4.0f}) {disk:>7.0f}"
                      + ("" if q["count_ok"] else "  COUNT MISMATCH"), flush=True)
        if args.durability:
            for engine in args.engines:
                d = durability(engine, tmp)
                verdict = "all there" if d["found"] == d["confirmed"] else "LOST POINTS"
                print(f"kill -9 {engine}: {d['confirmed']:.0f} points confirmed before SIGKILL, "
                      f"{d['found']:.0f} of them found after reopening ({d['count']:.0f} in the store): {verdict}",
                      flush=True)
    print(f"(RSS in MB after the step, each step in a fresh process, (anon) = anonymous memory, the rest is "
          f"mapped files; baseline = python + the sink's imports; machine: {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
