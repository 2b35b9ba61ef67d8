"""Benchmark of ``plex-loader-tui serve``: latency, idle cost, memory under churn, Plex requests.

Runs ``serve`` as a child process against a demo server this script owns (every
service answering after ``--latency-ms``), then measures, reading the child's
control API and ``/proc/<pid>``:

* notification → searchable: touch one item, time until a targeted sync has
  loaded it (the upsert is confirmed: it is searchable), ``--rounds`` times;
* CPU seconds per minute while idle-watching (``utime + stime`` over ``--idle`` s);
* RSS after 100 notifications and after 10,000 more;
* Plex requests per 1,000 changed items (``/library/metadata`` in the request log).

    PYTHONPATH=. python bench/bench_serve.py [--items 1000] [--latency-ms 20] [--rounds 20] [--idle 30]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from plex_loader_tui.demo.faults import SERVICES
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer

TOKEN = "bench-control-token-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Child:
    def __init__(self, server: DemoServer, data: Path, port: int) -> None:
        env = {**os.environ, "PLEX_TOKEN": server.token or "", "TMDB_API_KEY": server.tmdb_api_key or "",
               "PLEX_LOADER_CONTROL_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "plex_loader_tui", "serve", "--plex-url", server.plex_url,
             "--tmdb-base-url", server.tmdb_url, "--imdb-base-url", server.imdb_url, "--data-dir", str(data),
             "--config-dir", str(data / "cfg"), "--listen", f"127.0.0.1:{port}", "--log-level", "WARNING"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"})

    def status(self) -> dict:
        return self.http.get("/api/v1/status", timeout=10).json()

    def until(self, condition, timeout: float = 900, every: float = 0.01) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("serve ended early")
            try:
                status = self.status()
                if condition(status):
                    return status
            except httpx.TransportError:
                pass
            time.sleep(every)
        raise SystemExit("timed out")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(120)


def changes_loaded(status: dict) -> int:
    return sum(i["count"] for i in status["totals"]["items"] if (i["stage"], i["outcome"]) == ("upsert", "out"))


def settled(events: int, loaded: int):
    def check(status: dict) -> bool:
        return (status["watch"]["events_received"] >= events and status["watch"]["pending_changes"] == 0
                and status["current_sync"] is None and changes_loaded(status) >= loaded)
    return check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle watching to measure")
    args = parser.parse_args()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp, DemoServer(DemoLibrary.generate(seed=9, size=args.items)) as server:
        for service in SERVICES:
            server.set_faults(service, latency_ms=args.latency_ms)
        keys = [m.rating_key for m in server.library.movies()] + [e.rating_key for e in server.library.episodes()]
        child = Child(server, Path(tmp), free_port())
        try:
            started = time.monotonic()
            status = child.until(lambda s: s["last_sync"] is not None and s["state"] == "watching"
                                 and s["watch"]["connected"], every=0.2)
            startup = time.monotonic() - started
            time.sleep(2)  # let the startup's last work (logs, GC) settle before measuring idle

            cpu0 = child.cpu_seconds()
            t0 = time.monotonic()
            time.sleep(args.idle)
            idle_cpu_per_min = (child.cpu_seconds() - cpu0) / (time.monotonic() - t0) * 60

            latencies = []
            for _ in range(args.rounds):
                status = child.status()
                events, loaded = status["watch"]["events_received"], changes_loaded(status)
                server.touch_items([rng.choice(keys)])
                touched = time.monotonic()
                child.until(settled(events + 1, loaded + 1))
                latencies.append(time.monotonic() - touched)

            status = child.status()
            events, loaded = status["watch"]["events_received"], changes_loaded(status)
            server.touch_items(keys[:100])
            status = child.until(settled(events + 100, loaded + 100), every=0.2)
            rss_100 = child.rss_mb()

            events, loaded = status["watch"]["events_received"], changes_loaded(status)
            server.reset_log()
            server.touch_items(keys[:1000])
            status = child.until(settled(events + 1000, loaded + 1000), every=0.2)
            requests_per_1000 = server.count("plex", "/library/metadata") * 1000 / min(1000, len(keys))

            events, loaded = status["watch"]["events_received"], changes_loaded(status)
            churn = 9_000
            for start in range(0, churn, len(keys[:1000])):
                server.touch_items(keys[: min(1000, churn - start)])
            child.until(settled(events + churn, loaded + 1), every=0.2)
            rss_10k = child.rss_mb()
            code = child.stop()
        finally:
            if child.proc.poll() is None:
                child.proc.kill()
    q = statistics.quantiles(latencies, n=20)
    print(json.dumps({
        "items": args.items, "latency_ms_per_request": args.latency_ms, "startup_sync_s": round(startup, 1),
        "notification_to_searchable_s": {"p50": round(statistics.median(latencies), 3), "p95": round(q[18], 3),
                                         "rounds": len(latencies)},
        "idle_cpu_seconds_per_minute": round(idle_cpu_per_min, 4),
        "rss_mb_after_100_events": round(rss_100, 1), "rss_mb_after_10000_more_events": round(rss_10k, 1),
        "plex_requests_per_1000_changed_items": requests_per_1000, "exit_code_on_sigterm": code,
    }, indent=2))


if __name__ == "__main__":
    main()
