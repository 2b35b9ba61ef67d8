"""Measure embedding throughput of the bundled models to choose the stage defaults.

Runs the real :class:`~plex_loader_tui.embed.stage.Embedder` (bundled int8
bge-small + BM25) over realistic ~100-word media texts, for every combination
of batch size, ONNX intra-op threads and concurrent worker threads (each worker
calls ``embed`` on its own batches, all sharing one set of models, as the
pipeline's worker pool does). Prints docs/s per combination (median of interleaved repeats), the best one and
the peak RSS of the process (run one combination alone to see its own peak).

    .venv/bin/python bench/bench_embed.py                # full matrix, 320 docs x 3 repeats
    .venv/bin/python bench/bench_embed.py --docs 200 --batch-sizes 16 32 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plex_loader_tui.embed.models import ModelSettings, load_models  # noqa: E402
from plex_loader_tui.embed.stage import Embedder  # noqa: E402
from plex_loader_tui.embed.text import build_text  # noqa: E402
from plex_loader_tui.models import EnrichedItem, ImdbInfo, Person, SourceItem, TmdbInfo  # noqa: E402

_WORDS = (
    "detective city night murder secret family war love journey island storm ship "
    "village king queen betrayal revenge heist bank robbery escape prison friendship "
    "robot future planet alien invasion galaxy scientist experiment virus outbreak "
    "school teacher student summer dream music band concert dancer ocean desert "
    "mountain winter wolf dragon magic kingdom sword prophecy orphan brother sister "
    "mother father wedding divorce lawyer trial courtroom spy agent mission border "
    "smuggler cartel journalist scandal election president hacker network conspiracy "
    "ghost haunted house curse ritual forest cabin survivor zombie apocalypse road"
).split()
_GLUE = "a the of in and to with who must while after before when their his her".split()
_GENRES = "Drama Comedy Thriller Horror Action Adventure Romance Documentary Animation Crime".split()
_NAMES = "Ada Ben Cleo Dev Eli Fay Gus Hana Ivo Jun Kai Lea Max Noor Oli Pia Raf Sol Tey Uma".split()


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(_WORDS) if i % 2 == 0 else rng.choice(_GLUE) for i in range(n)]
    return " ".join(words).capitalize() + "."


def make_items(n: int, seed: int = 7) -> list[EnrichedItem]:
    """Deterministic movies whose built text is about 100 words."""
    rng = random.Random(seed)
    items = []
    for i in range(n):
        summary = " ".join(_sentence(rng, rng.randint(10, 16)) for _ in range(3))
        overview = " ".join(_sentence(rng, rng.randint(10, 14)) for _ in range(2))
        src = SourceItem(
            server_id="bench",
            rating_key=str(i),
            guid=f"plex://movie/{i:08x}",
            type="movie",
            title=" ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 3))).title(),
            year=1950 + rng.randint(0, 74),
            summary=summary,
            genres=tuple(rng.sample(_GENRES, 2)),
            directors=(rng.choice(_NAMES) + " " + rng.choice(_NAMES) + "son",),
            actors=tuple(Person(f"{rng.choice(_NAMES)} {rng.choice(_NAMES)}") for _ in range(6)),
        )
        items.append(
            EnrichedItem(
                source=src,
                tmdb=TmdbInfo(tmdb_id=str(i), overview=overview, tagline=_sentence(rng, 6)),
                imdb=ImdbInfo(imdb_id=f"tt{i:07d}", plot=_sentence(rng, 12), rating=6.5),
            )
        )
    return items


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_combo(embedder: Embedder, items: list[EnrichedItem], batch: int, workers: int) -> tuple[float, float]:
    """Return (docs per wall second, CPU milliseconds per doc) for one pass over ``items``.

    CPU time per doc is the steadier figure on a shared machine: other
    processes stretch the wall clock but not our own CPU time (it still shows
    padding waste and thread spinning).
    """
    batches = [items[i : i + batch] for i in range(0, len(items), batch)]
    cpu0 = _cpu_seconds()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = sum(len(points) for points in pool.map(embedder.embed, batches))
    elapsed = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu0
    assert done == len(items)
    return done / elapsed, 1000.0 * cpu / done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=320, help="documents per combination")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--onnx-threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3, help="runs per combination (median kept)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    items = make_items(args.docs)
    words = sum(len(build_text(it).split()) for it in items) / len(items)
    print(f"{len(items)} docs, {words:.0f} words each on average; {args.repeats} interleaved repeats")
    embedders = {}
    for threads in args.onnx_threads:
        t0 = time.perf_counter()
        embedders[threads] = Embedder(load_models(ModelSettings(onnx_threads=threads)))
        embedders[threads].embed(items[:16])  # warm-up: the first run allocates ONNX buffers
        print(f"onnx_threads={threads}: models loaded in {time.perf_counter() - t0:.2f}s")
    combos = [(t, w, b) for t in args.onnx_threads for w in args.workers for b in args.batch_sizes]
    rates: dict[tuple[int, int, int], list[float]] = {c: [] for c in combos}
    cpu_ms: dict[tuple[int, int, int], list[float]] = {c: [] for c in combos}
    for rep in range(args.repeats):
        # Each repeat walks the combinations in a rotated order, so a noisy
        # neighbour or a warming CPU does not always hit the same combination.
        shift = rep * len(combos) // max(args.repeats, 1)
        for threads, workers, batch in combos[shift:] + combos[:shift]:
            rate, ms = run_combo(embedders[threads], items, batch, workers)
            rates[(threads, workers, batch)].append(rate)
            cpu_ms[(threads, workers, batch)].append(ms)
            print(f"  rep {rep + 1} threads={threads} workers={workers} batch={batch:>3}: {rate:7.1f} docs/s"
                  f"  {ms:6.1f} CPU ms/doc  (load {os.getloadavg()[0]:.1f})", flush=True)
    results = []
    print("\nonnx_threads workers batch  median docs/s  (min-max)   median CPU ms/doc")
    for (threads, workers, batch), values in rates.items():
        row = {"onnx_threads": threads, "workers": workers, "batch": batch,
               "docs_per_s": statistics.median(values), "min": min(values), "max": max(values),
               "cpu_ms_per_doc": statistics.median(cpu_ms[(threads, workers, batch)])}
        results.append(row)
        print(f"{threads:>12} {workers:>7} {batch:>5}  {row['docs_per_s']:13.1f}  ({row['min']:.1f}-{row['max']:.1f})"
              f"  {row['cpu_ms_per_doc']:17.1f}")
    best = max(results, key=lambda r: r["docs_per_s"])
    print(f"best: onnx_threads={best['onnx_threads']} workers={best['workers']} batch={best['batch']}"
          f" -> {best['docs_per_s']:.1f} docs/s (median); peak RSS of this process {peak_rss_mb():.0f} MB")
    lean = min(results, key=lambda r: r["cpu_ms_per_doc"])
    print(f"least CPU per doc: onnx_threads={lean['onnx_threads']} workers={lean['workers']} batch={lean['batch']}"
          f" -> {lean['cpu_ms_per_doc']:.1f} ms/doc, i.e. at most {1000 * (os.cpu_count() or 1) / lean['cpu_ms_per_doc']:.0f}"
          f" docs/s on {os.cpu_count()} idle cores (trust this one when the load average is high)")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "best": best, "least_cpu": lean, "peak_rss_mb": peak_rss_mb()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
