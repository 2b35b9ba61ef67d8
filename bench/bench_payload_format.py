"""Payload bytes per point and load items/s: the superset payload vs native-only vs mcp-plex-only.

One run, the same demo library, the same machine, three loads through the
real load path (``main --demo --no-ui``) into fresh embedded collections.
For the two narrower layouts the embed stage's payload builder is swapped
for one that keeps only :data:`NATIVE_KEYS` / :data:`MCP_PLEX_KEYS` of the
superset (this is a measurement, not a product path). Bytes are the JSON
payload size of every stored point (compact separators, UTF-8).

    PYTHONPATH=. python bench/bench_payload_format.py [--items 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import loaded_payloads  # noqa: E402

import plex_loader_tui.embed.stage as stage
from plex_loader_tui.config import resolve_config
from plex_loader_tui.embed.payload import MCP_PLEX_KEYS, NATIVE_KEYS, build_payload
from plex_loader_tui.main import main

LAYOUTS = {"superset": None, "native": NATIVE_KEYS, "mcp-plex": MCP_PLEX_KEYS}


def _load(layout: str, items: int, root: Path) -> tuple[float, float, int]:
    keys = LAYOUTS[layout]
    stage.build_payload = build_payload if keys is None else (
        lambda item, text: {k: v for k, v in build_payload(item, text).items() if k in keys})
    args = ["--demo", "--no-ui", "--demo-items", str(items), "--collection", "bench",
            "--qdrant-path", str(root / layout), "--data-dir", str(root / f"{layout}-data"), "--log-level", "ERROR"]
    started = time.perf_counter()
    assert main(args, {}) == 0
    seconds = time.perf_counter() - started
    config = resolve_config({"qdrant_path": root / layout, "data_dir": root / f"{layout}-data", "collection": "bench"},
                            {}, None, command="doctor")  # a reader: no Plex settings needed
    sizes = [len(json.dumps(p, separators=(",", ":"), ensure_ascii=False).encode()) for p in loaded_payloads(config)]
    return sum(sizes) / len(sizes), items / seconds, len(sizes)


def main_bench() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _load("native", 20, Path(tmp) / "warm")  # models and caches warm before timing
        results = {name: _load(name, args.items, Path(tmp)) for name in LAYOUTS}
    base_bytes, base_rate, _ = results["native"]
    print(f"{'layout':<10} {'bytes/point':>12} {'vs native':>10} {'items/s':>9} {'vs native':>10}")
    for name, (size, rate, n) in results.items():
        print(f"{name:<10} {size:>12.0f} {size / base_bytes:>9.2f}x {rate:>9.1f} {rate / base_rate:>9.2f}x  ({n} points)")


if __name__ == "__main__":
    main_bench()
