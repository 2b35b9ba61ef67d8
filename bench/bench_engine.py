"""Engine benchmark: stage overlap and per-item overhead.

    .venv/bin/python bench/bench_engine.py [--items 1000] [--overhead-items 500000]

1. Overlap: four stages, each with a fixed simulated latency per batch.
   End-to-end time is compared with the sum of the stage times (what a
   sequential loop would take) and with the slowest stage alone (the limit).
   Targets: within 10% of the slowest stage; at least 3x faster than sequential.
2. Overhead: items/s through four no-op stages at batch size 100 (target >= 50,000).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from plex_loader_tui.pipeline import Pipeline, Stage

# Fairly balanced stages: sequential/pipelined can never beat sum/max (here 100/30 = 3.33),
# so wildly unbalanced latencies would make the 3x target impossible by arithmetic alone.
LATENCIES = {"ingest": 0.020, "enrich": 0.025, "embed": 0.030, "upsert": 0.025}  # seconds per batch
BATCH = 10


def _sleeper(seconds: float):
    async def work(batch: list[int]) -> list[int]:
        await asyncio.sleep(seconds)
        return batch

    return work


async def _timed(stages: list[Stage], items: int) -> float:
    pipeline = Pipeline(stages, range(items), total=items)
    started = time.perf_counter()
    result = await pipeline.run()
    assert result.snapshot.loaded == items
    return time.perf_counter() - started


async def overlap(items: int) -> None:
    batches = items // BATCH
    stage_times = {}
    for name, latency in LATENCIES.items():  # each stage alone
        stage_times[name] = await _timed([Stage(name, _sleeper(latency), batch_size=BATCH)], items)
    sequential = sum(stage_times.values())
    slowest_name = max(stage_times, key=stage_times.get)
    slowest = stage_times[slowest_name]
    stages = [Stage(name, _sleeper(latency), batch_size=BATCH) for name, latency in LATENCIES.items()]
    end_to_end = await _timed(stages, items)
    print(f"overlap: {items} items in {batches} batches of {BATCH}, one worker per stage")
    for name, t in stage_times.items():
        print(f"  {name:<7} alone  {t:6.2f} s  ({LATENCIES[name] * 1000:.0f} ms/batch)")
    print(f"  sequential (sum of stages) {sequential:6.2f} s")
    print(f"  slowest stage alone ({slowest_name}) {slowest:6.2f} s")
    print(f"  pipeline end to end        {end_to_end:6.2f} s")
    print(f"  end-to-end / slowest  = {end_to_end / slowest:.3f}  (target <= 1.10)")
    print(f"  sequential / end-to-end = {sequential / end_to_end:.2f}x  (target >= 3)")


async def overhead(items: int) -> None:
    async def noop(batch: list[int]) -> list[int]:
        return batch

    best = 0.0
    for _ in range(3):
        stages = [Stage(f"s{i}", noop, batch_size=100, queue_size=1000) for i in range(4)]
        elapsed = await _timed(stages, items)
        best = max(best, items / elapsed)
    print(f"overhead: 4 no-op stages, batch 100, {items} items: {best:,.0f} items/s (best of 3; target >= 50,000)")

    def sync_noop(batch: list[int]) -> list[int]:
        return batch

    stages = [Stage(f"t{i}", sync_noop, batch_size=100, queue_size=1000) for i in range(4)]
    elapsed = await _timed(stages, items)
    print(f"overhead: same with thread-pool (sync) stages: {items / elapsed:,.0f} items/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--overhead-items", type=int, default=500_000)
    args = parser.parse_args()
    asyncio.run(overlap(args.items))
    asyncio.run(overhead(args.overhead_items))


if __name__ == "__main__":
    main()
