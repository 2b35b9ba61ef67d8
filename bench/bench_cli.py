"""Benchmark: how quickly the command line answers, and what resolving a config costs.

The command line imports its runners lazily, so `--help`, `profiles ...` and
configuration errors do not pay for Textual, fastembed, qdrant-client or
plexapi. This script measures that (wall time of real subprocesses, median of
several runs, against the import time of those libraries alone) and the cost
of one `resolve_config` with a profile in process.

    .venv/bin/python bench/bench_cli.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def wall(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, int]:
    times = []
    code = 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, env=env, cwd=REPO)
        times.append(time.perf_counter() - start)
        code = proc.returncode
    return statistics.median(times), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from plex_loader_tui.cli import build_parser
    from plex_loader_tui.config import ProfileStore, resolve_config

    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PLEX_", "TMDB_", "QDRANT_"))}
        env.update(PLEX_LOADER_CONFIG_DIR=f"{tmp}/config", PLEX_LOADER_DATA_DIR=f"{tmp}/data")
        store = ProfileStore(Path(tmp) / "config")
        store.save("bench", {"plex_url": "http://plex.lan:32400", "enrich_workers": 12, "embed_batch_size": 32,
                             "libraries": ("Movies", "TV Shows"), "plex_token_env": "PLEX_TOKEN"})

        py = [sys.executable]
        cases = [
            ("python -c pass (interpreter floor)", py + ["-c", "pass"]),
            ("plex-loader-tui --help", py + ["-m", "plex_loader_tui", "--help"]),
            ("plex-loader-tui profiles list", py + ["-m", "plex_loader_tui", "profiles", "list"]),
            ("config error (--embed-workers 0), exit 2", py + ["-m", "plex_loader_tui", "--demo", "--embed-workers", "0"]),
            ("import textual+fastembed+qdrant_client+plexapi",
             py + ["-c", "import textual.app, fastembed, qdrant_client, plexapi.server"]),
        ]
        print(f"{'case':<50} {'median s':>9}  exit")
        for label, cmd in cases:
            seconds, code = wall(cmd, env, args.runs)
            print(f"{label:<50} {seconds:>9.3f}  {code}")

        argv = ["--profile", "bench", "--embed-workers", "3", "--collection", "films"]
        ns = build_parser().parse_args(argv)
        n = 2000
        start = time.perf_counter()
        for _ in range(n):
            resolve_config(ns, env | {"PLEX_TOKEN": "x" * 20, "ENRICH_WORKERS": "6"}, store)
        per = (time.perf_counter() - start) / n
        print(f"\nresolve_config with a profile file, env and flags: {per * 1e6:.0f} us per call ({1 / per:,.0f}/s)")


if __name__ == "__main__":
    main()
