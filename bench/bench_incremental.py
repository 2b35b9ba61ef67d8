"""Incremental re-run benchmark: full load vs unchanged re-run vs 1% changed.

    .venv/bin/python bench/bench_incremental.py [--items 2000] [--changed-percent 1] [--latency-ms 0]
        [--json out.json]

A :class:`~plex_loader_tui.demo.server.DemoServer` runs in this process (so
the benchmark can ``touch`` items of its library between runs) and three
loads go through :class:`~plex_loader_tui.load.LoadSession` with the shipped
defaults into one embedded Qdrant and one state database:

1. the full load into a fresh data dir;
2. an incremental re-run with nothing changed (everything should be
   "skipped (unchanged)": no TMDb/IMDb request, no embedding, no upsert);
3. a re-run after ``library.touch`` changed ``--changed-percent`` of the
   items (new summary, bumped ``updatedAt``): exactly those are re-loaded;
4. a re-run after only ``updatedAt`` moved on another ``--changed-percent``
   (``touch(revise=False)``, a Plex metadata refresh that found nothing new):
   those are enriched again and their payload written, but **no embedding
   is computed** (their text is the stored one).

Each time includes everything a user waits for (connecting, loading the
models, listing, the pipeline, the deletion pass). Prints the times, the
loaded/skipped counts, the TMDb/IMDb requests each run made, and the ratio
full / unchanged (target >= 20), and the embeddings each run computed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("PLEXAPI_PLEXAPI_AUTORELOAD", "false")

from plex_loader_tui.config import resolve_config  # noqa: E402
from plex_loader_tui.demo.library import DemoLibrary  # noqa: E402
from plex_loader_tui.demo.server import DemoServer  # noqa: E402
from plex_loader_tui.demo.settings import demo_settings  # noqa: E402
from plex_loader_tui.load import LoadSession  # noqa: E402

TARGET_FULL_VS_UNCHANGED = 20.0


@dataclass(frozen=True, slots=True)
class Run:
    label: str
    seconds: float
    loaded: int
    skipped: int
    failed: int
    tmdb_requests: int
    imdb_requests: int
    plex_requests: int
    embeddings: int
    payload_only: int


def load_once(label: str, server: DemoServer, data_dir: Path) -> Run:
    config = resolve_config(
        {**demo_settings(server), "data_dir": str(data_dir)},
        {"PLEX_LOADER_CONFIG_DIR": str(data_dir / "config")},
    )
    before = {s: server.count(s) for s in ("plex", "tmdb", "imdb")}
    start = time.perf_counter()
    result = asyncio.run(LoadSession(config).run())
    seconds = time.perf_counter() - start
    snap = result.snapshot
    if result.state != "finished" or snap is None:
        raise SystemExit(f"{label}: the load did not finish: {result}")
    after = {s: server.count(s) for s in ("plex", "tmdb", "imdb")}
    return Run(
        label=label, seconds=seconds, loaded=snap.loaded, skipped=snap.skipped, failed=snap.failed,
        tmdb_requests=after["tmdb"] - before["tmdb"], imdb_requests=after["imdb"] - before["imdb"],
        plex_requests=after["plex"] - before["plex"],
        embeddings=result.content.embedded, payload_only=result.content.payload_only,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--changed-percent", type=float, default=1.0)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="demo server latency per request")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    library = DemoLibrary.generate(seed=args.seed, size=args.items)
    server = DemoServer(library)
    server.start()
    if args.latency_ms:
        for service in ("plex", "tmdb", "imdb"):
            server.set_faults(service, latency_ms=args.latency_ms)
    runs: list[Run] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
            data_dir = Path(tmp) / "data"
            print(f"{args.items} demo items, demo server in-process at {args.latency_ms:g} ms/request; "
                  f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
            for label in ("full load", "unchanged re-run"):
                runs.append(load_once(label, server, data_dir))
                print(f"  {runs[-1]}", flush=True)
            keys = sorted([m.rating_key for m in library.movies()] + [e.rating_key for e in library.episodes()])
            step = max(1, round(100 / args.changed_percent))
            touched = keys[::step]
            library.touch(touched)
            runs.append(load_once(f"{len(touched)} changed ({args.changed_percent:g}%)", server, data_dir))
            print(f"  {runs[-1]}", flush=True)
            refreshed = keys[step // 2 :: step]
            library.touch(refreshed, revise=False)
            runs.append(load_once(f"{len(refreshed)} updatedAt only", server, data_dir))
            print(f"  {runs[-1]}", flush=True)
    finally:
        server.stop()

    print(f"\n{'run':<22} {'seconds':>8} {'loaded':>7} {'skipped':>8} {'failed':>7} {'TMDb req':>9} "
          f"{'IMDb req':>9} {'Plex req':>9} {'embedded':>9} {'payload-only':>13}")
    for r in runs:
        print(f"{r.label:<22} {r.seconds:>8.2f} {r.loaded:>7} {r.skipped:>8} {r.failed:>7} {r.tmdb_requests:>9} "
              f"{r.imdb_requests:>9} {r.plex_requests:>9} {r.embeddings:>9} {r.payload_only:>13}")
    full, unchanged, changed, refresh = runs
    ratio = full.seconds / unchanged.seconds
    print(f"\nfull / unchanged = {ratio:.1f}x  (target >= {TARGET_FULL_VS_UNCHANGED:g}x); "
          f"full / {changed.label} = {full.seconds / changed.seconds:.1f}x")
    print(f"load average now {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"runs": [asdict(r) for r in runs], "full_over_unchanged": ratio,
                                         "items": args.items, "touched": len(touched),
                                         "updated_at_only": len(refreshed)}, indent=2))
    ok = (
        ratio >= TARGET_FULL_VS_UNCHANGED
        and unchanged.loaded == 0
        and changed.loaded == len(touched)
        and refresh.loaded == refresh.payload_only == len(refreshed) and refresh.embeddings == 0
        and full.failed == unchanged.failed == changed.failed == refresh.failed == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
