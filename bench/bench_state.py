"""State store benchmark: is the SQLite load state ever the bottleneck?

    .venv/bin/python bench/bench_state.py [--items 20000] [--batch 200] [--json out.json]

Simulates what the pipeline asks of the store, batch by batch, on a real file
in a temporary directory:

1. first load: ``unchanged_keys`` (finds nothing), ``mark_pending`` before the
   upsert, ``mark_loaded`` after it — three committed transactions per batch;
2. unchanged re-run: ``unchanged_keys`` only (everything is skipped);
3. 1% changed re-run: ``unchanged_keys`` then pending/loaded for the changed;
4. whole-library reads: reopen (with ``quick_check``), ``counts``,
   ``keys_in_section``, ``failed_items`` with 1% dead letters.

Prints items/s and per-batch latency percentiles for each phase. The embedding
stage manages a few hundred items/s on 2 cores, so the store should be orders of
magnitude faster than that.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plex_loader_tui.state import LoadedRecord, PendingRecord, StateStore  # noqa: E402


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _item(i: int, version: int) -> tuple[str, int, str]:
    key = f"0123456789abcdef:{100000 + i}"
    return key, 1_700_000_000 + version, _hash(f"{key}|v{version}")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _phase(name: str, items: int, batches: list[float], total: float) -> dict[str, float]:
    result = {
        "items": items,
        "seconds": round(total, 4),
        "items_per_s": round(items / total) if total else 0,
        "batch_ms_p50": round(statistics.median(batches) * 1000, 3),
        "batch_ms_p99": round(_percentile(batches, 0.99) * 1000, 3),
        "batch_ms_max": round(max(batches) * 1000, 3),
    }
    print(
        f"{name:<22} {items:>7} items  {total:7.3f} s  {result['items_per_s']:>9,} items/s  "
        f"batch p50 {result['batch_ms_p50']:.2f} ms  p99 {result['batch_ms_p99']:.2f} ms  "
        f"max {result['batch_ms_max']:.2f} ms"
    )
    return result


def _run_batches(
    store: StateStore, n: int, batch: int, version_of: Callable[[int], int]
) -> tuple[list[float], int]:
    """One pass over the library as the pipeline would make it; returns batch times."""
    times: list[float] = []
    written = 0
    for start in range(0, n, batch):
        ids = range(start, min(n, start + batch))
        items = [_item(i, version_of(i)) for i in ids]
        section = str(1 + start % 2)
        began = time.perf_counter()
        skip = store.unchanged_keys(items)
        todo = [item for item in items if item[0] not in skip]
        if todo:
            store.mark_pending(
                [PendingRecord(k, "pid-" + k, section, f"Title {k}") for k, _, _ in todo]
            )
            store.mark_loaded(
                [
                    LoadedRecord(k, "pid-" + k, u, h, _hash(h), section, f"Title {k}")
                    for k, u, h in todo
                ]
            )
        times.append(time.perf_counter() - began)
        written += len(todo)
    return times, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    n, batch = args.items, args.batch
    results: dict[str, object] = {"items": n, "batch": batch}

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        with StateStore.open(path) as store:
            began = time.perf_counter()
            times, written = _run_batches(store, n, batch, lambda i: 0)
            assert written == n
            results["first_load"] = _phase("first load", n, times, time.perf_counter() - began)

            began = time.perf_counter()
            times, written = _run_batches(store, n, batch, lambda i: 0)
            assert written == 0
            results["unchanged_rerun"] = _phase(
                "unchanged re-run", n, times, time.perf_counter() - began
            )

            began = time.perf_counter()
            times, written = _run_batches(store, n, batch, lambda i: 1 if i % 100 == 0 else 0)
            assert written == len(range(0, n, 100))
            results["one_percent_changed"] = _phase(
                "1% changed re-run", n, times, time.perf_counter() - began
            )

            for i in range(0, n, 100):
                key = _item(i, 0)[0]
                store.mark_failed(key, "pid-" + key, f"Title {key}", "enrich", "TMDb 503")

        began = time.perf_counter()
        store = StateStore.open(path)
        opened = time.perf_counter() - began
        reads: dict[str, float] = {"open_with_quick_check": opened}
        for name, call in (
            ("counts", store.counts),
            ("keys_in_section", lambda: store.keys_in_section("1")),
            ("failed_items", store.failed_items),
        ):
            began = time.perf_counter()
            call()
            reads[name] = time.perf_counter() - began
        counts = store.counts()
        store.close()
        size = path.stat().st_size
    results["reads_ms"] = {name: round(s * 1000, 2) for name, s in reads.items()}
    results["db_bytes"] = size
    print(
        "whole-library reads:   "
        + "  ".join(f"{name} {s * 1000:.1f} ms" for name, s in reads.items())
    )
    print(f"database: {size / 1e6:.1f} MB for {counts.total} items ({counts})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
