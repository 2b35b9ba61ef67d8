"""No terminal, no dashboard: started from a pipe, a file or cron, a load runs headless.

The real command in a subprocess with stdin from /dev/null and its output in a
file (as ``plex-loader-tui --demo > out 2>&1 < /dev/null``), and on a pty whose
stdin is /dev/null: each must run headless, say so in one line, and exit. On
the code before this, the dashboard started, wrote escape codes into the file
and waited for keys for ever (the timeout below turns that into a failure).
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pty_support import ANSI, read_until_exit

pytestmark = pytest.mark.timeout(400)

#: Bounds a run that never ends (the dashboard waiting for keys); not a speed check.
RUN_LIMIT = 180.0
HEADLESS = re.compile(r"^plex-loader-tui: (.+) not (a terminal|terminals): running headless \(as with --no-ui\)$",
                      re.MULTILINE)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PLEX_", "TMDB_", "QDRANT_", "LOG_LEVEL"))}


def _run_into_file(args: list[str], tmp_path: Path) -> tuple[int, str]:
    """Run with stdin /dev/null and stdout + stderr into one file; return (exit code, the file)."""
    out = tmp_path / "out"
    with open(out, "wb") as sink:
        proc = subprocess.run([sys.executable, "-m", "plex_loader_tui", *args], stdin=subprocess.DEVNULL,
                              stdout=sink, stderr=subprocess.STDOUT, env=_env(), cwd=tmp_path,
                              timeout=RUN_LIMIT)
    return proc.returncode, out.read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize("command", [[], ["retry-failed"]], ids=["load", "retry-failed"])
def test_output_in_a_file_runs_headless_and_exits(tmp_path: Path, command: list[str]) -> None:
    args = [*command, "--demo", "--demo-items", "20", "--data-dir", str(tmp_path / "data")]
    code, text = _run_into_file(args, tmp_path)
    assert code == 0, text[-3000:]
    assert "\x1b" not in text and "\r" not in text, text[-3000:]
    lines = [m.group(0) for m in HEADLESS.finditer(text)]
    assert lines == ["plex-loader-tui: stdin, stdout and stderr are not terminals: running headless (as with --no-ui)"], text
    assert re.search(r"^finished: loaded \d+, skipped \(unchanged\) \d+, failed 0 of 20 items", text, re.MULTILINE), text


def test_no_ui_given_says_nothing_about_terminals(tmp_path: Path) -> None:
    code, text = _run_into_file(["--no-ui", "--demo", "--demo-items", "5", "--data-dir", str(tmp_path / "d")],
                                tmp_path)
    assert code == 0, text[-3000:]
    assert not HEADLESS.search(text) and "terminal" not in text, text


def test_a_terminal_without_stdin_shows_the_headless_live_table(tmp_path: Path) -> None:
    """stdout on a terminal but stdin from /dev/null: no keys to read, so no dashboard."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "plex_loader_tui", "--demo", "--demo-items", "20", "--data-dir", str(tmp_path / "d")],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
        env={**_env(), "TERM": "xterm-256color", "COLUMNS": "110", "LINES": "30"},
        cwd=tmp_path, start_new_session=True, close_fds=True,
    )
    os.close(slave)
    code, raw = read_until_exit(master, proc, RUN_LIMIT)
    text = ANSI.sub("", raw.decode("utf-8", "replace"))
    assert code == 0, text[-3000:]
    assert "plex-loader-tui: stdin is not a terminal: running headless (as with --no-ui)" in text, text[-3000:]
    assert "\x1b[?1049h" not in raw.decode("utf-8", "replace")  # the dashboard's alternate screen never opened
    assert "finished: loaded 20, skipped (unchanged) 0, failed 0 of 20 items" in text
