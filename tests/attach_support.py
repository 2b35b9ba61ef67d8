"""A real ``plex-loader-tui serve --demo`` in a subprocess on loopback, for the attach and web tests.

Started with its own data and config folders and a known control token; every
wait is on a condition read from the service (``/healthz``, ``/api/v1/status``),
bounded by a deadline that only stops a hang.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
TOKEN = "attach-test-token-0123456789abcdef"
#: Generous: a service loads its models (seconds) on a machine other tests keep busy.
START_LIMIT = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(REPO)}
    env.update(extra)
    return env


class ServeProcess:
    """One ``serve --demo`` process; :meth:`start` again after :meth:`stop` restarts it on the same port and data."""

    def __init__(self, root: Path, *, items: int = 60, latency_ms: int = 0, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.items = items
        self.latency_ms = latency_ms
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = root / "serve.log"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "plex_loader_tui", "serve", "--demo", "--demo-items", str(self.items),
                "--demo-latency-ms", str(self.latency_ms), "--data-dir", str(self.data_dir),
                "--config-dir", str(self.config_dir), "--listen", f"127.0.0.1:{self.port}",
                "--log-file", str(self.root / "service-log.txt")]

    def start(self) -> ServeProcess:
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                         env=child_env(PLEX_LOADER_CONTROL_TOKEN=TOKEN), cwd=self.root)
        self.until(lambda s: s["state"] != "starting", what="the service to start")
        return self

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5.0)

    def status(self) -> dict:
        answer = self.get("/api/v1/status")
        answer.raise_for_status()
        return answer.json()

    def until(self, check: Callable[[dict], bool], limit: float = START_LIMIT, what: str = "") -> dict:
        """Poll the status until ``check`` holds; fail (with the service's log) after ``limit`` seconds."""
        deadline = time.monotonic() + limit
        last: dict | str = "no answer"
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode} waiting for {what}:\n{self.log.read_text()[-3000:]}")
            try:
                status = self.status()
            except httpx.HTTPError as exc:
                last = repr(exc)
            else:
                if check(status):
                    return status
                last = status["state"]
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; last: {last}\n{self.log.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, limit: float = 60.0) -> int:
        """Signal the service and wait for it to exit; return its exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(limit)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def wait_exit(self, limit: float = 60.0) -> int:
        assert self.proc is not None
        return self.proc.wait(limit)
