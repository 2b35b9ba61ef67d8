"""``plex-loader-tui serve`` as a process: SIGTERM drains and exits 0, kill -9 loses nothing.

The service runs as a child process against a demo server this test owns;
its state is read from its control API (polled with a deadline) and, once it
has ended, from its state database and the embedded Qdrant folder.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.service.controls import SyncKind
from plex_loader_tui.state import state_db_path

from serve_support import TOKEN, WAIT, points, running_service, service_config

REPO_ROOT = Path(__file__).resolve().parents[1]
SIZE = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(server: DemoServer, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PLEX_TOKEN": server.token or "", "TMDB_API_KEY": server.tmdb_api_key or "",
           "PLEX_LOADER_CONTROL_TOKEN": TOKEN,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(
        [sys.executable, "-m", "plex_loader_tui", "serve", "--plex-url", server.plex_url,
         "--tmdb-base-url", server.tmdb_url, "--imdb-base-url", server.imdb_url,
         "--data-dir", str(data_dir), "--config-dir", str(data_dir / "cfg"), "--listen", f"127.0.0.1:{port}",
         "--upsert-batch-size", "4", "--embed-batch-size", "4"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _status_until(child: subprocess.Popen[bytes], port: int, condition) -> dict:
    """Poll the child's status (it is another process: polling is the only signal) until ``condition``."""
    deadline = time.monotonic() + WAIT
    while True:
        assert child.poll() is None, f"serve ended early: {child.stderr.read().decode()[-2000:]}"
        assert time.monotonic() < deadline, "timed out waiting on the service's status"
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/status",
                               headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
            status = answer.json()
            if condition(status):
                return status
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.05)


def _loaded_points(data_dir: Path) -> set[str]:
    db = state_db_path(data_dir, str((data_dir / "qdrant").resolve()), "media-items")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {row[0] for row in conn.execute("SELECT point_id FROM items WHERE status = 'loaded'")}


def _loading(status: dict) -> bool:
    snap = status.get("snapshot")
    return status["current_sync"] == "startup" and snap is not None and snap["loaded"] >= 12


@contextmanager
def _serving_mid_startup(server: DemoServer, data_dir: Path,
                         tmdb_latency_ms: int = 0) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``serve`` as a child process, once its startup sync has loaded a dozen items (killed on the way out)."""
    server.set_faults("plex", latency_ms=20)
    server.set_faults("tmdb", latency_ms=tmdb_latency_ms)
    port = _free_port()
    child = _serve(server, data_dir, port)
    try:
        _status_until(child, port, _loading)
        yield child, port
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(WAIT)


def test_sigterm_drains_and_exits_0_with_every_reported_item_in_qdrant(tmp_path) -> None:
    with DemoServer(DemoLibrary.generate(seed=51, size=SIZE)) as server, \
            _serving_mid_startup(server, tmp_path) as (child, _port):
        child.send_signal(signal.SIGTERM)
        assert child.wait(WAIT) == ExitCode.OK, child.stderr.read().decode()[-2000:]
    loaded = _loaded_points(tmp_path)
    assert len(loaded) >= 12
    assert loaded <= set(points(tmp_path / "qdrant"))  # all that the state calls loaded is in the store


def test_a_second_signal_stops_at_once_with_its_exit_code(tmp_path) -> None:
    # Slow TMDb answers keep the drain going long enough to see it (and send the second signal).
    with DemoServer(DemoLibrary.generate(seed=52, size=SIZE)) as server, \
            _serving_mid_startup(server, tmp_path, tmdb_latency_ms=1500) as (child, port):
        child.send_signal(signal.SIGTERM)
        # Sent back to back, both could be pending at once, and Linux delivers the lower number
        # (SIGINT) first: the second signal is the one sent after the first took effect.
        _status_until(child, port, lambda status: status["state"] == "draining")
        child.send_signal(signal.SIGINT)
        assert child.wait(WAIT) == ExitCode.SIGINT


async def test_kill_9_mid_sync_then_restart_recovers_without_duplicates_or_losses(tmp_path) -> None:
    with DemoServer(DemoLibrary.generate(seed=53, size=SIZE)) as server:
        with _serving_mid_startup(server, tmp_path) as (child, _port):
            child.send_signal(signal.SIGKILL)
        before = points(tmp_path / "qdrant")
        assert 12 <= len(before) < SIZE

        async with running_service(service_config(server, tmp_path)) as svc:
            startup = svc.syncs.of(SyncKind.STARTUP)[0]
            assert startup.outcome == "finished" and startup.failed == 0
            assert startup.skipped >= 12  # what was loaded before the kill is not redone
        after = points(tmp_path / "qdrant")
        keys = {str(m.rating_key) for m in server.library.movies()} | {
            str(e.rating_key) for e in server.library.episodes()}
    assert len(after) == SIZE  # no duplicate point
    assert {p["rating_key"] for p in after.values()} == keys  # nothing lost
    assert set(before) <= set(after)
