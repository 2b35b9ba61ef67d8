"""Attach: key press → change visible in /api/v1/status (p50/p95), and a serve's CPU cost of one attached client.

    PYTHONPATH=. python bench/bench_attach.py [--presses 40] [--window 30]

Starts a real ``serve --demo`` on loopback (tests/attach_support.py). Latency: the
attached dashboard (Pilot, in this process) gets ``+``/``-`` on the enrich panel; the
clock runs from the key press until a plain HTTP poll of ``/api/v1/status`` shows the
new worker count. CPU: utime+stime of the serve process from ``/proc/<pid>/stat`` over
``--window`` seconds idle (watching), without and with one attached client at 4 Hz,
given as CPU seconds per minute.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from attach_support import TOKEN, ServeProcess  # noqa: E402

from plex_loader_tui.config import RunConfig  # noqa: E402
from plex_loader_tui.remote.client import ControlClient  # noqa: E402
from plex_loader_tui.tui.attach_run import attached_app  # noqa: E402
from plex_loader_tui.tui.attached import Link  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def measure(service: ServeProcess, presses: int, window: float, root: Path) -> None:
    pid = service.proc.pid
    before = cpu_seconds(pid)
    await asyncio.sleep(window)
    idle = (cpu_seconds(pid) - before) * 60 / window

    config = RunConfig(demo=True, config_dir=root / "c", data_dir=root / "d")
    app = attached_app(config, ControlClient(service.url, TOKEN))
    latencies: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        while app.session is None or app.session.link is not Link.CONNECTED:
            await pilot.pause(0.05)
        await pilot.press("2")
        for i in range(presses):
            want = service.status()["stage_settings"]["enrich"]["workers"] + (1 if i % 2 == 0 else -1)
            started = time.perf_counter()
            await pilot.press("+" if i % 2 == 0 else "minus")
            while service.status()["stage_settings"]["enrich"]["workers"] != want:
                if time.perf_counter() - started > 10:
                    raise SystemExit(f"press {i}: never visible; focused {app.focused}, "
                                     f"notes {[n.message for n in app._notifications]}")
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - started)
        before = cpu_seconds(pid)
        await pilot.pause(window)
        attached = (cpu_seconds(pid) - before) * 60 / window
        await pilot.press("q")
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    print(f"key press -> visible in /api/v1/status: n={len(ms)} p50 {statistics.median(ms):.1f} ms, "
          f"p95 {p95:.1f} ms, max {ms[-1]:.1f} ms")
    print(f"serve CPU while watching: {idle:.2f} CPU-s/min without a client, {attached:.2f} CPU-s/min "
          f"with one attached client at 4 Hz (+{attached - idle:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--window", type=float, default=30.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-attach-"))
    service = ServeProcess(root / "svc").start()
    try:
        service.until(lambda s: s["state"] == "watching", what="the startup sync")
        asyncio.run(measure(service, args.presses, args.window, root))
    finally:
        service.stop()


if __name__ == "__main__":
    main()
