"""``--no-ui`` end to end: the real command in a subprocess, against the demo server on loopback.

Each test starts ``python -m plex_loader_tui --no-ui`` and checks what a cron
job or CI script sees: the exit code, the plain progress lines, the summary
JSON, the embedded Qdrant folder the child leaves behind, and that no secret
shows up anywhere. Synchronisation is by reading the child's output (a
progress line showing loaded items), never by sleeping.
"""

from __future__ import annotations

import json
import os
import pty
import queue
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pty_support import ANSI, read_until_exit

from plex_loader_tui.config import DEMO_COLLECTION, SETTINGS_BY_NAME
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer

pytestmark = pytest.mark.timeout(240)

#: Upper bound for any single wait on the child, so a hang fails instead of blocking the suite.
WAIT_LIMIT = 180.0
PLEX_TOKEN = "plexTOKEN-s3cr3t-0a1b2c3d4e"
TMDB_KEY = "tmdbKEY-s3cr3t-9f8e7d6c5b"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
REAL_COLLECTION = SETTINGS_BY_NAME["collection"].default
PROGRESS = re.compile(r"\| loaded (\d+) skipped (\d+) failed (\d+) \|")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLEX_LOADER_", "LOG_LEVEL"))}
    for var in ("PLEX_URL", "PLEX_TOKEN", "TMDB_API_KEY", "QDRANT_URL", "QDRANT_API_KEY"):
        env.pop(var, None)
    env.update(extra)
    return env


class Child:
    """``python -m plex_loader_tui`` with stdout read line by line and stderr kept whole."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "plex_loader_tui", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd,  # bytes: text mode would turn a stray \r into a newline
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(
            target=lambda: self._stderr.append(self.proc.stderr.read().decode("utf-8", "replace")), daemon=True
        ).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line.decode("utf-8", "replace"))
        self._queue.put(None)

    def wait_line(self, pattern: re.Pattern[str], accept=lambda m: True) -> re.Match[str]:
        """Block until a stdout line matches ``pattern`` (and ``accept``); fail on EOF."""
        deadline = time.monotonic() + WAIT_LIMIT
        while True:
            line = self._queue.get(timeout=max(0.1, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(f"child ended before a line matched {pattern.pattern!r}:\n{self.stdout}")
            self.lines.append(line)
            match = pattern.search(line)
            if match and accept(match):
                return match

    def finish(self) -> int:
        code = self.proc.wait(timeout=WAIT_LIMIT)
        while (line := self._queue.get(timeout=WAIT_LIMIT)) is not None:
            self.lines.append(line)
        deadline = time.monotonic() + 10
        while not self._stderr and time.monotonic() < deadline:
            time.sleep(0.01)  # the stderr reader finishes right after the pipe closes
        return code

    @property
    def stdout(self) -> str:
        return "".join(self.lines)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    child = Child(args, env, cwd)
    code = child.finish()
    return code, child.stdout, child.stderr


def _summary(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _assert_plain(text: str) -> None:
    assert "\x1b" not in text and "\r" not in text, text
    assert not CONTROL.search(text.replace("\n", "")), text


def _state_point_ids(data_dir: Path) -> dict[str, set[str]]:
    """Point ids by status, read straight from the state database the child wrote."""
    (db,) = (data_dir / "state").glob("*.sqlite3")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT status, point_id FROM items").fetchall()
    out: dict[str, set[str]] = {}
    for status, point_id in rows:
        out.setdefault(status, set()).add(point_id)
    return out


def _qdrant_points(data_dir: Path, ids: set[str], collection: str = REAL_COLLECTION) -> tuple[int, set[str]]:
    """(points in ``collection``, which of ``ids`` it holds), opened after the child exited."""
    from store_support import EmbeddedStore

    with EmbeddedStore(data_dir / "qdrant") as store:
        return store.count(collection), store.found(ids, collection)


@pytest.fixture
def server() -> Iterator[DemoServer]:
    """A demo Plex/TMDb/IMDb server with our own (secret) credentials, in this process."""
    with DemoServer(DemoLibrary.generate(seed=11, size=150), token=PLEX_TOKEN, tmdb_api_key=TMDB_KEY) as srv:
        yield srv


def _server_args(srv: DemoServer) -> list[str]:
    return ["--plex-url", srv.plex_url, "--tmdb-base-url", srv.tmdb_url, "--imdb-base-url", srv.imdb_url]


def test_demo_load_then_rerun_skips_everything(tmp_path: Path) -> None:
    data = tmp_path / "data"
    summary = tmp_path / "summary.json"
    log_file = tmp_path / "run.log"
    args = ["--no-ui", "--demo", "--demo-items", "60", "--data-dir", str(data),
            "--summary-json", str(summary), "--log-file", str(log_file), "--progress-interval", "1"]

    code, out, err = _run(args, _env(), tmp_path)
    assert code == 0, err
    first = _summary(summary)
    counts = first["counts"]
    assert (counts["total"], counts["seen"], counts["loaded"]) == (60, 60, 60)
    assert (counts["skipped_unchanged"], counts["failed"], counts["unfinished"], counts["remaining"]) == (0, 0, 0, 0)
    assert (first["state"], first["exit_code"], first["signal"], first["fatal_error"]) == ("finished", 0, None, None)
    assert set(first["stages"]) == {"ingest", "enrich", "embed", "upsert"}
    assert first["stages"]["upsert"]["items_out"] == 60
    # Plain output: phase lines, progress lines, the summary line; nothing a log file would choke on.
    _assert_plain(out)
    progress = [line for line in out.splitlines() if PROGRESS.search(line)]
    assert progress and all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[\d+m\d\ds\] ", p) for p in progress), out
    assert "finished: loaded 60, skipped (unchanged) 0, failed 0 of 60 items" in out
    # INFO logs go to the log file, not between the progress lines.
    assert " INFO " not in err and " INFO " not in out
    assert "Plex plan: 60 items" in log_file.read_text(encoding="utf-8")
    count, _ = _qdrant_points(data, set(), DEMO_COLLECTION)
    assert count == 60

    code, out, err = _run(args, _env(), tmp_path)
    assert code == 0, err
    counts = _summary(summary)["counts"]
    assert (counts["seen"], counts["skipped_unchanged"], counts["loaded"], counts["failed"]) == (60, 60, 0, 0)
    _assert_plain(out)
    assert "skipped (unchanged) 60" in out


@pytest.mark.parametrize(("sig", "exit_code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_drains_and_keeps_everything_reported_loaded(
    tmp_path: Path, server: DemoServer, sig: signal.Signals, exit_code: int
) -> None:
    data = tmp_path / "data"
    summary = tmp_path / "summary.json"
    log_file = tmp_path / "run.log"
    # Small pages and queues: the drain has little to finish, so the run stops mid-load.
    args = ["--no-ui", *_server_args(server), "--data-dir", str(data), "--summary-json", str(summary),
            "--log-file", str(log_file), "--log-level", "DEBUG", "--progress-interval", "0.2",
            "--plex-chunk-size", "5", "--queue-size", "5", "--enrichment-workers", "2"]
    child = Child(args, _env(PLEX_TOKEN=PLEX_TOKEN, TMDB_API_KEY=TMDB_KEY), tmp_path)
    child.wait_line(PROGRESS, accept=lambda m: int(m.group(1)) > 0)
    child.proc.send_signal(sig)
    code = child.finish()

    assert code == exit_code, child.stderr[-2000:]
    result = _summary(summary)
    assert (result["state"], result["exit_code"], result["signal"]) == ("drained", exit_code, sig.name)
    loaded = result["counts"]["loaded"]
    assert 0 < loaded < 150, result["counts"]
    assert f"{sig.name}: draining" in child.stderr
    _assert_plain(child.stdout)
    assert any(line.startswith(f"drained: loaded {loaded},") for line in child.lines), child.stdout
    assert result["counts"]["remaining"] == 150 - loaded
    assert f"stopped early by {sig.name}: {150 - loaded} items not loaded yet" in child.stdout

    # Nothing reported done is missing: the state's loaded items are all in the collection,
    # the collection holds nothing else, and nothing was left half-written.
    state = _state_point_ids(data)
    assert len(state.get("loaded", ())) == loaded
    assert not state.get("pending")
    count, found = _qdrant_points(data, state["loaded"])
    assert found == state["loaded"]
    assert count == loaded

    # --log-level given: logs reach the console too, still masked.
    assert " DEBUG " in child.stderr
    for text in (child.stdout, child.stderr, summary.read_text(), log_file.read_text()):
        assert PLEX_TOKEN not in text and TMDB_KEY not in text
    assert result["config"]["plex_token"] == "****" + PLEX_TOKEN[-4:]
    assert result["config"]["tmdb_api_key"] == "****" + TMDB_KEY[-4:]


def test_second_signal_cancels_and_still_loses_nothing_reported_loaded(tmp_path: Path) -> None:
    data = tmp_path / "data"
    summary = tmp_path / "summary.json"
    args = ["--no-ui", "--demo", "--demo-items", "150", "--data-dir", str(data), "--summary-json", str(summary),
            "--progress-interval", "0.2"]
    child = Child(args, _env(), tmp_path)
    child.wait_line(PROGRESS, accept=lambda m: int(m.group(1)) > 0)
    child.proc.send_signal(signal.SIGTERM)
    # Two signals sent back to back can merge into one; wait until the first one shows.
    child.wait_line(re.compile(r"^\S+ \S+ draining \["))
    child.proc.send_signal(signal.SIGTERM)
    code = child.finish()

    assert code == 143, child.stderr[-2000:]
    assert "SIGTERM again: cancelling now" in child.stderr
    result = _summary(summary)
    assert (result["state"], result["signal"]) == ("cancelled", "SIGTERM")
    assert result["counts"]["remaining"] > 0
    # Cancelled mid-batch: an interrupted upsert may stay "pending" (the next run redoes it),
    # but everything the state calls loaded is in the collection.
    state = _state_point_ids(data)
    assert len(state.get("loaded", ())) == result["counts"]["loaded"] > 0
    count, found = _qdrant_points(data, state["loaded"], DEMO_COLLECTION)
    assert found == state["loaded"]
    assert count >= len(found)
    _assert_plain(child.stdout)


def test_the_summary_says_when_a_services_rate_limit_set_the_pace(tmp_path: Path, server: DemoServer) -> None:
    """A fast machine's load can go at IMDb's pace: the summary counts what held it back, and says so."""
    summary = tmp_path / "summary.json"
    args = ["--no-ui", *_server_args(server), "--data-dir", str(tmp_path / "data"), "--summary-json", str(summary),
            "--imdb-rate", "5"]
    code, out, err = _run(args, _env(PLEX_TOKEN=PLEX_TOKEN, TMDB_API_KEY=TMDB_KEY), tmp_path)
    assert code == 0, err
    result = _summary(summary)
    pacing = {p["service"]: p for p in result["pacing"]}
    assert set(pacing) == {"TMDb", "IMDb"}
    imdb = pacing["IMDb"]
    assert (imdb["setting"], imdb["rate"]) == ("imdb_rate", 5.0)
    assert pacing["TMDb"]["rate"] == SETTINGS_BY_NAME["tmdb_rate"].default
    # Every request took a token, and the bucket (burst 1 at 5/s) paced all but the first:
    # 150 items (most with an IMDb id), 5 ids a request, all asked for at once (no queue fills at 150).
    assert imdb["requests"] == server.count("imdb", None) > 20
    assert (imdb["requests"] - 2) / 5 <= imdb["paced_s"] <= result["run_s"]
    # One line at most, for the service that held lookups back longest (they wait side by side).
    assert imdb["paced_s"] > pacing["TMDb"]["paced_s"]
    note = "IMDb's rate limit (5 requests/s) held enrichment back for"
    assert (note in out) == (imdb["paced_s"] >= 0.5 * result["run_s"]), out
    assert "--imdb-rate raises it" in out or note not in out
    assert "TMDb's rate limit" not in out


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("case", ["wrong-token", "unreachable"])
def test_fatal_error_exits_3_with_one_line(tmp_path: Path, server: DemoServer, case: str) -> None:
    wrong = "wrongTOKEN-zz-4455667788"
    url = server.plex_url if case == "wrong-token" else f"http://127.0.0.1:{_closed_port()}"
    summary = tmp_path / "summary.json"
    log_file = tmp_path / "run.log"
    code, out, err = _run(
        ["--no-ui", "--plex-url", url, "--tmdb-base-url", server.tmdb_url, "--data-dir", str(tmp_path / "data"),
         "--summary-json", str(summary), "--log-file", str(log_file)],
        _env(PLEX_TOKEN=wrong, TMDB_API_KEY=TMDB_KEY), tmp_path,
    )
    assert code == 3, err
    lines = err.strip().splitlines()
    expected = "rejected the token (401)" if case == "wrong-token" else "Cannot reach the Plex server"
    assert len(lines) == 1 and lines[0].startswith("plex-loader-tui: error: ") and expected in lines[0], err
    assert "Traceback" not in out + err
    _assert_plain(out)
    result = _summary(summary)
    assert (result["state"], result["exit_code"]) == ("failed", 3)
    assert expected in result["fatal_error"]
    for text in (out, err, summary.read_text(), log_file.read_text()):
        assert wrong not in text and TMDB_KEY not in text and PLEX_TOKEN not in text


def test_terminal_shows_the_live_table(tmp_path: Path) -> None:
    """On a pseudo-terminal the run draws the rich display and still exits 0."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "plex_loader_tui", "--no-ui", "--demo", "--demo-items", "30",
         "--data-dir", str(tmp_path / "data")],
        stdin=slave, stdout=slave, stderr=slave, env=_env(TERM="xterm-256color", COLUMNS="110", LINES="30"),
        cwd=tmp_path, start_new_session=True, close_fds=True,
    )
    os.close(slave)
    code, raw = read_until_exit(master, proc, WAIT_LIMIT)
    text = ANSI.sub("", raw.decode("utf-8", "replace"))
    assert code == 0, text[-3000:]
    assert re.search(r"stage\s+state\s+queue\s+workers\s+batch\s+items/s\s+p95\s+retries\s+failed", text), text[-3000:]
    assert re.search(r"upsert\s+done", text), text[-3000:]  # the final refresh shows the finished stages
    assert "30/30 100%" in text
    assert "finished: loaded 30, skipped (unchanged) 0, failed 0 of 30 items" in text


def test_headless_console_logging_keeps_warnings_only(tmp_path: Path) -> None:
    """The console gets warnings (minus urllib3's retry chatter); the log file gets everything at INFO."""
    import io
    import logging

    from plex_loader_tui.cli import _remove_handlers, configure_logging

    root = logging.getLogger()
    previous_level = root.level
    stream = io.StringIO()
    log_file = tmp_path / "run.log"
    handlers = configure_logging("INFO", log_file, [PLEX_TOKEN], stream=stream, console_level="WARNING")
    try:
        logging.getLogger("plex_loader_tui.test").info("plan: 60 items")
        logging.getLogger("plex_loader_tui.test").warning("slow page with token %s", PLEX_TOKEN)
        logging.getLogger("urllib3.connectionpool").warning("Retrying (total=3) after connection broken")
        logging.getLogger("urllib3.connectionpool").error("pool is full")
    finally:
        _remove_handlers(handlers)
        root.setLevel(previous_level)
    console, written = stream.getvalue(), log_file.read_text(encoding="utf-8")
    assert "plan: 60 items" not in console and "plan: 60 items" in written
    assert "slow page with token ****" in console and "slow page with token ****" in written
    assert "Retrying" not in console and "Retrying" in written
    assert "pool is full" in console
    assert PLEX_TOKEN not in console + written


def test_unwritable_summary_path_stops_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Finding out after the load that the summary cannot be written would lose it: exit 2 first."""
    from plex_loader_tui.main import main

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    data = tmp_path / "data"
    for target, problem in ((blocker / "summary.json", "cannot write"), (tmp_path, "is a folder")):
        code = main(["--no-ui", "--demo", "--data-dir", str(data), "--summary-json", str(target)], _env())
        err = capsys.readouterr().err
        assert code == 2, err
        assert err.startswith("plex-loader-tui: error: --summary-json: ") and problem in err, err
        assert len(err.strip().splitlines()) == 1
    assert not data.exists()  # no state, no Qdrant folder: nothing started
