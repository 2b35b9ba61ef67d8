"""Peak RSS of a whole demo load against the library's size: does memory stay flat?

Runs ``plex-loader-tui --demo --no-ui --demo-items N`` as a child process for
each size, in a fresh data folder, and reports the child's peak RSS (from
``os.wait4``'s rusage: the kernel's high-water mark of that process alone),
and its RSS sampled from ``/proc/<pid>/status`` as the load goes, against the
items loaded so far (read from the progress lines). The issue's target: the
peak at 20,000 items within +15% of the peak at 2,000.

``--separate-server`` serves the demo library from its own process (``demo-server``)
and loads it by URL, so the figure is the loader's alone: with ``--demo`` the
library (78 MB of Python objects at 20,000 items) and the demo server's request
log (one record per request, never trimmed) live in the loading process and
grow with the library by design.

    .venv/bin/python bench/bench_load_memory.py                          # 2,000 and 20,000, Qdrant Edge
    .venv/bin/python bench/bench_load_memory.py --engine local --items 2000
    .venv/bin/python bench/bench_load_memory.py --items 20000 --max-seconds 300   # stop early (SIGINT)
    .venv/bin/python bench/bench_load_memory.py --separate-server          # the loader's memory alone
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from plex_loader_tui.config.settings import default_of  # noqa: E402

PROGRESS = re.compile(r"\] (\d+)/(\d+) ")


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_load(items: int, engine: str, data_dir: Path, max_seconds: float | None, interval: float,
             separate: bool) -> dict[str, object]:
    common = ["--no-ui", "--data-dir", str(data_dir), "--embedded-store", engine, "--progress-interval", str(interval)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = None
    if separate:
        sys.path.insert(0, str(REPO / "bench"))
        from bench_load import DemoProcess

        server = DemoProcess(items, 0, int(default_of("demo_seed")))
        cmd = [sys.executable, "-m", "plex_loader_tui", *common, "--plex-url", server.plex_url,
               "--tmdb-base-url", server.tmdb_url, "--imdb-base-url", server.imdb_url]
        env.update(PLEX_TOKEN="demo-token", TMDB_API_KEY="demo-tmdb-key", PLEX_LOADER_CONFIG_DIR=str(data_dir / "config"))
    else:
        cmd = [sys.executable, "-m", "plex_loader_tui", "--demo", "--demo-items", str(items), *common]
    try:
        return _measure(cmd, env, items, engine, max_seconds)
    finally:
        if server is not None:
            server.stop()


def _measure(cmd: list[str], env: dict[str, str], items: int, engine: str, max_seconds: float | None) -> dict[str, object]:
    start = time.monotonic()
    # --no-ui prints its progress lines on stdout; errors go to stderr: read both.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    samples: list[tuple[float, int, float]] = []  # (seconds, items done, RSS MB)
    done = [0]

    def read_progress() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            match = PROGRESS.search(line)
            if match:
                done[0] = int(match.group(1))
                rss = _rss_mb(proc.pid)
                if rss is not None:
                    samples.append((time.monotonic() - start, done[0], rss))

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    stopped_early = False
    if max_seconds is not None:
        while proc.poll() is None and time.monotonic() - start < max_seconds:
            time.sleep(0.5)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            stopped_early = True
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=5)
    return {"items": items, "engine": engine, "seconds": time.monotonic() - start, "exit": proc.returncode,
            "peak_mb": usage.ru_maxrss / 1024, "samples": samples, "loaded": done[0], "stopped_early": stopped_early}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--engine", choices=["edge", "local"], default="edge")
    parser.add_argument("--max-seconds", type=float, default=None, help="interrupt each load after this long")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between progress lines (RSS samples)")
    parser.add_argument("--separate-server", action="store_true",
                        help="serve the demo library from its own process and load it by URL (the loader alone)")
    args = parser.parse_args(argv)
    results = []
    for items in args.items:
        with tempfile.TemporaryDirectory() as tmp:
            r = run_load(items, args.engine, Path(tmp), args.max_seconds, args.interval, args.separate_server)
        results.append(r)
        early = " (stopped early)" if r["stopped_early"] else ""
        where = "separate demo server" if args.separate_server else "--demo (server in process)"
        print(f"{args.engine}, {where}: {items} items: exit {r['exit']}, {r['loaded']} done in {r['seconds']:.0f} s{early}, "
              f"peak RSS {r['peak_mb']:.0f} MB", flush=True)
        samples = r["samples"]
        assert isinstance(samples, list)
        for seconds, done, rss in samples[:: max(1, len(samples) // 10)] + samples[-1:]:
            print(f"    {seconds:6.0f} s  {done:>6} items  RSS {rss:6.0f} MB", flush=True)
    if len(results) >= 2:
        base, top = results[0], results[-1]
        growth = 100 * (float(top["peak_mb"]) / float(base["peak_mb"]) - 1)  # type: ignore[arg-type]
        print(f"peak RSS at {top['items']} items vs {base['items']}: {growth:+.1f}% (target: within +15%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
