"""The real command in a real pseudo-terminal: exit codes, no traceback, terminal restored.

These start ``python -m plex_loader_tui`` (dashboard mode) on a pty against
the demo server on loopback, read what it draws, press keys, and check how it
leaves the terminal.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer

ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>78]|\x1b\][^\x07]*\x07")
#: The dashboard leaves the alternate screen and shows the cursor again on exit.
LEAVE_ALT_SCREEN = "\x1b[?1049l"
SHOW_CURSOR = "\x1b[?25h"


class Terminal:
    """A child process on a pty of a fixed size, with its output collected."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, size: tuple[int, int] = (120, 36)) -> None:
        master, slave = pty.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True, close_fds=True
        )
        os.close(slave)
        self.master = master
        self.raw = b""

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the pty
                chunk = b""
            self.raw += chunk

    def expect(self, needle: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if time.monotonic() > deadline or self.proc.poll() is not None and needle not in self.text:
                if self.proc.poll() is not None:
                    self._read(0.2)
                    if needle in self.text:
                        return
                raise AssertionError(f"{needle!r} never appeared; last output:\n{self.text[-3000:]}")
            self._read(0.2)

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                os.killpg(self.proc.pid, signal.SIGKILL)
                raise AssertionError(f"the app did not exit; last output:\n{self.text[-3000:]}")
            self._read(0.1)
        self._read(0.1)
        os.close(self.master)
        return self.proc.returncode


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    server = DemoServer(DemoLibrary.generate(seed=7, size=60), token="demo-token-7f3a9c21")
    server.start()
    yield server
    server.stop()


def _command(tmp_path: Path, demo: DemoServer, token: str) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="36", PLEX_TOKEN=token, TMDB_API_KEY=demo.tmdb_api_key or "")
    env.pop("NO_COLOR", None)
    argv = [
        sys.executable, "-m", "plex_loader_tui",
        "--plex-url", demo.plex_url,
        "--tmdb-base-url", demo.tmdb_url,
        "--imdb-base-url", demo.imdb_url,
        "--data-dir", str(tmp_path / "data"),
        "--config-dir", str(tmp_path / "config"),
        "--log-file", str(tmp_path / "run.log"),
        "--enrichment-workers", "1",
        "--enrichment-batch-size", "1",
    ]
    return argv, env


def _assert_clean_exit(term: Terminal) -> None:
    tail = term.raw.decode("utf-8", "replace")
    assert "Traceback" not in term.text
    assert LEAVE_ALT_SCREEN in tail and SHOW_CURSOR in tail[tail.rindex(LEAVE_ALT_SCREEN) - 200 :]


def _closing_lines(term: Terminal) -> list[str]:
    """What the command printed once it had left the dashboard's screen."""
    raw = term.raw.decode("utf-8", "replace")
    tail = raw[raw.rindex(LEAVE_ALT_SCREEN) + len(LEAVE_ALT_SCREEN) :]
    return [line.strip() for line in ANSI.sub("", tail).splitlines() if line.strip()]


#: The line a run ends on (headless's first summary line), e.g.
#: ``finished: loaded 60, skipped (unchanged) 0, failed 0 of 60 items in 9.3 s (6.4 items/s); deleted 0``.
OUTCOME_LINE = re.compile(
    r"^(?P<state>finished|drained|cancelled|failed): loaded (?P<loaded>\d+), skipped \(unchanged\) \d+, "
    r"failed \d+( of \d+)? items in [\d.]+ s \([\d.]+ items/s(, after [\d.]+ s start-up)?\); deleted \d+$"
)


def test_a_fatal_error_is_shown_then_q_exits_3_cleanly(tmp_path: Path, demo: DemoServer):
    secret = "wrong-token-0123456789"
    argv, env = _command(tmp_path, demo, secret)
    term = Terminal(argv, env, tmp_path)
    term.expect("The load stopped")
    assert secret not in term.text
    term.send("q")
    assert term.wait() == 3
    _assert_clean_exit(term)
    assert secret not in (tmp_path / "run.log").read_text()
    # The terminal keeps how it ended: the outcome line, then the error as headless says it.
    closing = _closing_lines(term)
    assert len(closing) == 2, closing
    assert OUTCOME_LINE.match(closing[0])["state"] == "failed"
    assert closing[1].startswith("plex-loader-tui: error: ") and secret not in closing[1]


def test_quitting_after_the_load_prints_how_it_ended(tmp_path: Path, demo: DemoServer):
    argv, env = _command(tmp_path, demo, demo.token)
    term = Terminal(argv, env, tmp_path, size=(80, 24))
    term.expect("press s to search")  # the hint once the run has ended
    term.send("q")
    assert term.wait() == 0
    _assert_clean_exit(term)
    closing = _closing_lines(term)
    assert len(closing) == 1, closing
    outcome = OUTCOME_LINE.match(closing[0])
    assert outcome is not None, closing[0]
    assert outcome["state"] == "finished" and outcome["loaded"] == "60"


def test_ctrl_c_during_a_load_exits_130_cleanly(tmp_path: Path, demo: DemoServer):
    demo.set_faults("tmdb", latency_ms=300)  # keep the load running while we press Ctrl+C
    try:
        argv, env = _command(tmp_path, demo, demo.token)
        term = Terminal(argv, env, tmp_path)
        term.expect("│ running")  # the progress line once the pipeline runs
        term.send("\x03")
        assert term.wait() == 130
        _assert_clean_exit(term)
        closing = _closing_lines(term)
        assert len(closing) == 1 and OUTCOME_LINE.match(closing[0])["state"] == "cancelled", closing
    finally:
        demo.set_faults("tmdb", latency_ms=0)


def test_sigterm_during_a_load_exits_143_cleanly(tmp_path: Path, demo: DemoServer):
    demo.set_faults("tmdb", latency_ms=300)
    try:
        argv, env = _command(tmp_path, demo, demo.token)
        term = Terminal(argv, env, tmp_path)
        term.expect("│ running")
        term.proc.send_signal(signal.SIGTERM)
        assert term.wait() == 143
        _assert_clean_exit(term)
    finally:
        demo.set_faults("tmdb", latency_ms=0)
