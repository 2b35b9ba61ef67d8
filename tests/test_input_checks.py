"""Input checked before any work: names, the places a run writes, URLs, an empty state file.

Each bad input is one line on stderr and exit 2, before the load connects to
anything: the Plex URL here points at a loopback port nobody listens on, so a
check that came after connecting would end as "unreachable" (exit 3) instead.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.main import main
from plex_loader_tui.state import StateStore

TOKEN = "plexTOKEN-fragment-9f8e7d6c5b"


@pytest.fixture
def dead_plex_url() -> str:
    """A loopback URL with nothing listening (connecting to it fails at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "PLEX_LOADER_CONFIG_DIR": str(tmp_path / "config"),
        "PLEX_LOADER_DATA_DIR": str(tmp_path / "data"),
        "PLEX_TOKEN": TOKEN,
    }


def run(argv: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv, env)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code: int, out: str, err: str, start: str) -> None:
    assert code == ExitCode.USAGE, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"plex-loader-tui: error: {start}"), err


def test_a_collection_name_longer_than_qdrant_allows_is_one_line(env, dead_plex_url, capsys):
    code, out, err = run(["--no-ui", "--plex-url", dead_plex_url, "--collection", "c" * 10_000], env, capsys)
    assert_one_line(code, out, err, "--collection: is 10000 characters long; a name has at most 255")
    assert "c" * 300 not in err


def test_a_qdrant_path_that_is_a_file_fails_before_connecting(env, dead_plex_url, tmp_path, capsys):
    a_file = tmp_path / "qdrant.txt"
    a_file.write_text("not a folder")
    code, out, err = run(["--no-ui", "--plex-url", dead_plex_url, "--qdrant-path", str(a_file)], env, capsys)
    assert_one_line(code, out, err, f"--qdrant-path: {a_file} is a file, not a folder")


def test_a_data_dir_that_cannot_be_created_fails_before_connecting(env, dead_plex_url, tmp_path, capsys):
    a_file = tmp_path / "plain-file"
    a_file.write_text("")
    data_dir = a_file / "data"
    code, out, err = run(["--no-ui", "--plex-url", dead_plex_url, "--data-dir", str(data_dir)], env, capsys)
    assert_one_line(code, out, err, f"--data-dir: cannot write {data_dir}: {a_file} is a file, not a folder")


def test_a_summary_path_that_is_a_folder_fails_before_connecting(env, dead_plex_url, tmp_path, capsys):
    code, out, err = run(["--no-ui", "--plex-url", dead_plex_url, "--summary-json", str(tmp_path)], env, capsys)
    assert_one_line(code, out, err, f"--summary-json: {tmp_path} is a folder, not a file")


@pytest.mark.parametrize(
    "url",
    [
        f"http://127.0.0.1:32400/#X-Plex-Token={TOKEN}",
        f"http://127.0.0.1:32400/library#{TOKEN}",
        f"http://127.0.0.1:32400/?X-Plex-Token={TOKEN}",
        f"http://plex:{TOKEN}@127.0.0.1:32400/",
    ],
)
def test_urls_with_fragments_or_credentials_are_refused_without_echoing(env, url, capsys):
    code, out, err = run(["--no-ui", "--plex-url", url], {k: v for k, v in env.items() if k != "PLEX_TOKEN"}, capsys)
    assert code == ExitCode.USAGE, err
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert err.startswith("plex-loader-tui: error: --plex-url: ")
    assert TOKEN not in err and TOKEN[-4:] not in err


def test_a_fragment_is_refused_on_every_url_setting(env, capsys):
    code, _, err = run(["--demo", "--no-ui", "--tmdb-base-url", f"https://api.example/3#{TOKEN}"], env, capsys)
    assert code == ExitCode.USAGE and "--tmdb-base-url: has a fragment" in err and TOKEN not in err


def test_an_empty_state_file_is_said_in_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="plex_loader_tui.state"):
        with StateStore.open(path) as store:
            assert store.counts().total == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"the state database {path} is empty (0 bytes): no earlier load is known, so every item is loaded again"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="plex_loader_tui.state"), StateStore.open(path):
        pass  # now it holds our schema: nothing to say
    assert not caplog.records
