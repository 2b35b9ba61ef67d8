"""Peak RSS of a whole demo load against the library's size: does memory stay flat?

Runs ``plex-loader-tui --demo --no-ui --demo-items N`` as a child process for
each size, in a fresh data folder, and reports the child's peak RSS (from
``os.wait4``'s rusage: the kernel's high-water mark of that process alone),
and its RSS sampled from ``/proc/<pid>/status`` as the load goes, against the
items loaded so far (read from the progress lines). The issue's target: the
peak at 20,000 items within +15% of the peak at 2,000.

The RSS samples split into anonymous memory (the process's own: Python
objects, the models, Edge's in-RAM indexes) and file-backed pages (Edge's
memory-mapped segment and WAL files: page cache that counts in RSS while
mapped, which the kernel reclaims when memory is short). ``--limit-ratio R``
runs every size after the first inside a memory cgroup limited to R times the
first size's peak RSS (cgroup v1 or v2; needs root): a load that completes
there needs no more memory than that, whatever its unconstrained RSS shows.

``--separate-server`` serves the demo library from its own process (``demo-server``)
and loads it by URL, so the figure is the loader's alone: with ``--demo`` the
library (78 MB of Python objects at 20,000 items) and the demo server's request
log (one record per request, never trimmed) live in the loading process and
grow with the library by design.

    .venv/bin/python bench/bench_load_memory.py                          # 2,000 and 20,000, Qdrant Edge
    .venv/bin/python bench/bench_load_memory.py --engine local --items 2000
    .venv/bin/python bench/bench_load_memory.py --items 20000 --max-seconds 300   # stop early (SIGINT)
    .venv/bin/python bench/bench_load_memory.py --separate-server          # the loader's memory alone
    .venv/bin/python bench/bench_load_memory.py --separate-server --limit-ratio 1.15   # 20,000 within 1.15 x
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


def _rss_mb(pid: int) -> tuple[float, float, float] | None:
    """(RSS, anonymous, file-backed) MB of ``pid``, from /proc."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    try:
        return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "RssAnon", "RssFile"))  # type: ignore[return-value]
    except KeyError:
        return None


class MemoryCgroup:
    """A memory cgroup with a limit, for one child process (v2 if mounted so, else v1's memory controller)."""

    def __init__(self, limit_mb: float) -> None:
        name = f"plex-loader-bench-{os.getpid()}"
        v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
        root = Path("/sys/fs/cgroup") if v2 else Path("/sys/fs/cgroup/memory")
        self.path = root / name
        self.path.mkdir()  # PermissionError without root: the caller says so
        self._files = ("memory.max", "memory.peak", "memory.events") if v2 else (
            "memory.limit_in_bytes", "memory.max_usage_in_bytes", "memory.failcnt")
        (self.path / self._files[0]).write_text(str(int(limit_mb * 2**20)))
        self.limit_mb = limit_mb

    def enter(self) -> None:
        """Move the calling process in (run in the child before exec)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def report(self) -> str:
        def read(name: str) -> str:
            try:
                return (self.path / name).read_text().strip().replace("\n", ", ")
            except OSError:
                return "?"
        peak = read(self._files[1])
        peak_mb = f"{int(peak) / 2**20:.0f} MB" if peak.isdigit() else peak
        return f"cgroup limit {self.limit_mb:.0f} MB, cgroup peak {peak_mb} (page cache included), {self._files[2]}: {read(self._files[2])}"

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass


def run_load(items: int, engine: str, data_dir: Path, max_seconds: float | None, interval: float,
             separate: bool, cgroup: MemoryCgroup | None = None) -> dict[str, object]:
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
        return _measure(cmd, env, items, engine, max_seconds, cgroup)
    finally:
        if server is not None:
            server.stop()


def _measure(cmd: list[str], env: dict[str, str], items: int, engine: str, max_seconds: float | None,
             cgroup: MemoryCgroup | None) -> dict[str, object]:
    start = time.monotonic()
    # --no-ui prints its progress lines on stdout; errors go to stderr: read both.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=cgroup.enter if cgroup else None)
    samples: list[tuple[float, int, float, float, float]] = []  # (seconds, items done, RSS, anon, file MB)
    done = [0]

    def read_progress() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            match = PROGRESS.search(line)
            if match:
                done[0] = int(match.group(1))
                rss = _rss_mb(proc.pid)
                if rss is not None:
                    samples.append((time.monotonic() - start, done[0], *rss))

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
            "peak_mb": usage.ru_maxrss / 1024, "samples": samples, "loaded": done[0], "stopped_early": stopped_early,
            "peak_anon_mb": max((s[3] for s in samples), default=0.0), "cgroup": cgroup.report() if cgroup else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--engine", choices=["edge", "local"], default="edge")
    parser.add_argument("--max-seconds", type=float, default=None, help="interrupt each load after this long")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between progress lines (RSS samples)")
    parser.add_argument("--separate-server", action="store_true",
                        help="serve the demo library from its own process and load it by URL (the loader alone)")
    parser.add_argument("--limit-ratio", type=float, default=None,
                        help="run every size after the first in a memory cgroup limited to this times the first's peak")
    args = parser.parse_args(argv)
    results: list[dict] = []
    for items in args.items:
        cgroup = None
        if args.limit_ratio and results:
            cgroup = MemoryCgroup(args.limit_ratio * float(results[0]["peak_mb"]))
        try:
            with tempfile.TemporaryDirectory() as tmp:
                r = run_load(items, args.engine, Path(tmp), args.max_seconds, args.interval, args.separate_server, cgroup)
        finally:
            if cgroup is not None:
                cgroup.remove()
        results.append(r)
        early = " (stopped early)" if r["stopped_early"] else ""
        where = "separate demo server" if args.separate_server else "--demo (server in process)"
        print(f"{args.engine}, {where}: {items} items: exit {r['exit']}, {r['loaded']} done in {r['seconds']:.0f} s{early}, "
              f"peak RSS {r['peak_mb']:.0f} MB, peak anonymous (sampled) {r['peak_anon_mb']:.0f} MB", flush=True)
        if r["cgroup"]:
            print(f"    {r['cgroup']}", flush=True)
        samples = r["samples"]
        for seconds, done, rss, anon, file in samples[:: max(1, len(samples) // 10)] + samples[-1:]:
            print(f"    {seconds:6.0f} s  {done:>6} items  RSS {rss:6.0f} MB  anon {anon:6.0f}  file {file:6.0f}", flush=True)
    if len(results) >= 2:
        base, top = results[0], results[-1]
        growth = 100 * (float(top["peak_mb"]) / float(base["peak_mb"]) - 1)
        anon = 100 * (float(top["peak_anon_mb"]) / float(base["peak_anon_mb"]) - 1)
        print(f"at {top['items']} items vs {base['items']}: peak RSS {growth:+.1f}%, peak anonymous {anon:+.1f}% "
              "(target: within +15%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
