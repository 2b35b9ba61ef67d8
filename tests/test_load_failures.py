"""Whole loads against a failing Plex: nothing lost in silence, nothing deleted on thin evidence.

Real parts as in test_load.py (demo server on loopback, the bundled models,
embedded Qdrant); the demo server's fault modes play the failing server.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from plex_loader_tui.config import resolve_config
from plex_loader_tui.demo import DemoLibrary, DemoServer
from plex_loader_tui.demo.settings import demo_settings
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.load import LoadSession
from plex_loader_tui.load.outcome import LoadResult, SessionInfo
from plex_loader_tui.pipeline import FatalError
from plex_loader_tui.summary import build_summary
from store_support import EmbeddedStore

REPO = Path(__file__).resolve().parents[1]
#: Listing pages only (the plan's sizing asks with includeCollections, the shows with type=2).
PAGES = r"includeGuids=1&type=[14]\b"


def page_of(start: int, type_id: int) -> str:
    return rf"X-Plex-Container-Start={start}&.*includeGuids=1&type={type_id}\b"


def demo(size: int, seed: int = 5) -> DemoServer:
    return DemoServer(DemoLibrary.generate(seed=seed, size=size))


def make_config(server: DemoServer, data_dir: Path, **overrides):
    return resolve_config({**demo_settings(server), "data_dir": str(data_dir), "no_ui": True, **overrides}, environ={})


async def load(config) -> tuple[LoadSession, LoadResult]:
    session = LoadSession(config)
    return session, await session.run()


def rating_keys(data_dir: Path) -> set[str]:
    """The rating keys of the points in the collection."""
    with EmbeddedStore(data_dir / "qdrant") as store:
        return {str(p["rating_key"]) for p in store.payloads().values()}


# ------------------------------------------------------------ not a listing
async def test_a_page_answered_with_html_is_a_failed_page_and_its_section_deletes_nothing(tmp_path) -> None:
    with demo(size=60, seed=5) as srv:
        config = make_config(srv, tmp_path, ingest_batch_size=20)
        _, first = await load(config)
        assert first.exit_code == ExitCode.OK and len(rating_keys(tmp_path)) == 60

        gone = {str(m.rating_key) for m in srv.library.movies()[-2:]}
        srv.library.remove([int(k) for k in gone])
        srv.set_faults("plex", html_paths=page_of(20, 1))  # a captive portal answers one page
        _, result = await load(config)
        on_the_page = min(20, len(srv.library.movies()) - 20)

    assert result.state == "finished" and result.exit_code == ExitCode.FAILED_ITEMS
    assert result.snapshot.failed == on_the_page and result.deleted == 0
    [letter] = result.dead_letters
    assert letter.title == f"Movies items 20–{19 + on_the_page}" and letter.attempts == 3
    assert "text/html" in letter.error and "not a Plex answer" in letter.error and "<html" not in letter.error
    assert gone <= rating_keys(tmp_path)  # the section was not used for deletions


async def test_a_listing_that_is_all_html_never_finishes_with_exit_0(tmp_path) -> None:
    with demo(size=40, seed=5) as srv:
        srv.set_faults("plex", html_paths=PAGES)
        _, result = await load(make_config(srv, tmp_path, ingest_batch_size=20))
    assert result.snapshot.loaded == 0 and result.snapshot.failed == result.total == 40
    assert result.exit_code == ExitCode.FAILED_ITEMS


# --------------------------------------------------------- short totalSize
async def test_an_under_reported_total_size_deletes_nothing_unless_allowed(tmp_path, caplog) -> None:
    with demo(size=74, seed=5) as srv:
        movies = len(srv.library.movies())
        config = make_config(srv, tmp_path, ingest_batch_size=20)
        _, first = await load(config)
        assert first.snapshot.loaded == 74 and len(rating_keys(tmp_path)) == 74

        # The server says the movie section holds 20 (it holds 44); the listing itself succeeds.
        srv.set_faults("plex", short_total=20, short_total_paths=r"^/library/sections/1/all")
        with caplog.at_level(logging.WARNING, logger="plex_loader_tui.state.ledger"):
            _, held = await load(config)
        assert held.total == 74 - (movies - 20) and held.snapshot.failed == 0
        assert held.deleted == 0 and held.deletions_held_back == movies - 20
        assert len(rating_keys(tmp_path)) == 74  # every point is still there
        warning = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
        assert f"lacks {movies - 20} of the {movies} items" in warning and "--allow-mass-delete" in warning
        summary = build_summary(held, SessionInfo("plex", "qdrant", "media-items"), config, exit_code=held.exit_code)
        assert summary["counts"]["deletions_held_back"] == movies - 20 and summary["counts"]["deleted"] == 0

        _, allowed = await load(make_config(srv, tmp_path, ingest_batch_size=20, allow_mass_delete=True))
    assert allowed.deleted == movies - 20 and allowed.deletions_held_back == 0
    assert len(rating_keys(tmp_path)) == 74 - (movies - 20)


# ------------------------------------------------------------ stalled pages
async def test_stalled_pages_are_retried_then_dead_lettered_and_the_run_goes_on(tmp_path) -> None:
    with demo(size=40, seed=5) as srv:
        # One page goes silent before its headers, another after them; both for longer than the timeout.
        srv.set_faults("plex", stall_paths=page_of(10, 1), stall_body_paths=page_of(0, 4), stall_ms=60_000)
        _, result = await load(make_config(srv, tmp_path, ingest_batch_size=10, plex_timeout=1.0))
    assert result.state == "finished" and result.exit_code == ExitCode.FAILED_ITEMS
    letters = {letter.title: letter for letter in result.dead_letters}
    assert set(letters) == {"Movies items 10–19", "TV Shows items 0–9"}
    assert "no answer within 1 s" in letters["Movies items 10–19"].error
    assert "stalled" in letters["TV Shows items 0–9"].error
    assert all(letter.attempts == 3 and "retries" not in letter.error for letter in letters.values())
    assert result.snapshot.loaded == 40 - 20 == len(rating_keys(tmp_path))


# -------------------------------------------------------- sizing the libraries
async def test_one_malformed_answer_while_sizing_is_retried(tmp_path) -> None:
    sizing = re.compile(r"^/library/sections/1/all\?X-Plex-Container-Size=0")
    answered: list[str] = []

    def first_time_only(target: str) -> bool:
        if not sizing.search(target):
            return False
        answered.append(target)
        return len(answered) == 1

    with demo(size=40, seed=5) as srv:
        srv.set_faults("plex", malformed_paths=first_time_only)
        _, result = await load(make_config(srv, tmp_path))
    assert len(answered) == 2 and result.exit_code == ExitCode.OK
    assert result.snapshot.loaded == result.total == 40


@pytest.mark.parametrize(
    ("faults", "says"),
    [
        ({"fail_paths": r"^/library/sections/1/all\?X-Plex-Container-Size=0", "error_status": 400}, "HTTP 400 (text/html"),
        ({"html_paths": r"^/library/sections$"}, "text/html"),
    ],
)
async def test_an_answer_that_keeps_failing_while_sizing_is_fatal_after_3_attempts(tmp_path, faults, says) -> None:
    with demo(size=40, seed=5) as srv:
        srv.set_faults("plex", **faults)
        with pytest.raises(FatalError) as err:
            await load(make_config(srv, tmp_path))
        path = "/library/sections/1/all" if "fail_paths" in faults else "/library/sections"
        asked = [r for r in srv.requests if r.path == path]
        url = srv.plex_url
    message = str(err.value)
    assert message.startswith("Could not list the libraries (3 attempts)") and url in message
    assert says in message and "<html" not in message
    assert len(asked) == 3


# ------------------------------------------------------- upstream bodies, headless
def _headless(server: DemoServer, tmp_path: Path, name: str) -> tuple[int, str, str, dict, str]:
    """``plex-loader-tui --no-ui`` against ``server``: exit code, stdout, stderr, summary, log file."""
    summary, log_file = tmp_path / f"{name}.json", tmp_path / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLEX_", "TMDB_", "QDRANT_", "LOG_LEVEL"))}
    env.update(PLEX_TOKEN=server.token or "", TMDB_API_KEY=server.tmdb_api_key or "", NO_PROXY="127.0.0.1",
               PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-m", "plex_loader_tui", "--no-ui", "--plex-url", server.plex_url,
         "--tmdb-base-url", server.tmdb_url, "--imdb-base-url", server.imdb_url, "--plex-chunk-size", "10",
         "--data-dir", str(tmp_path / "data"), "--summary-json", str(summary), "--log-file", str(log_file)],
        capture_output=True, env=env, cwd=tmp_path, timeout=240, check=False,
    )
    out, err = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    return proc.returncode, out, err, json.loads(summary.read_text()), log_file.read_text(encoding="utf-8")


def _assert_no_upstream_body(*texts: str) -> None:
    for text in texts:
        assert "\x1b" not in text and "\x07" not in text, text
        for body in ("pwned", "<html", "Sign in", "[bold red]"):
            assert body not in text, text


def test_upstream_bodies_never_reach_the_terminal_the_log_or_the_summary(tmp_path) -> None:
    with demo(size=30) as srv:
        # One page is a 400 whose body holds escape sequences, another a captive portal's page.
        srv.set_faults("plex", fail_paths=page_of(0, 1), error_status=400, hostile=True, html_paths=page_of(10, 1))
        code, out, err, summary, log_text = _headless(srv, tmp_path, "pages")
        assert code == ExitCode.FAILED_ITEMS, err
        errors = " ".join(f["error"] for f in summary["failures"])
        assert "HTTP 400 (text/html" in errors and "HTTP 200 (text/html" in errors
        _assert_no_upstream_body(out, err, log_text, json.dumps(summary, ensure_ascii=False))

        # The same 400 on the first request: fatal, one line that says status, type and size.
        srv.set_faults("plex", fail_paths=r"^/$", error_status=400, hostile=True)
        code, out, err, summary, log_text = _headless(srv, tmp_path, "connect")
    assert code == ExitCode.FATAL
    [line] = err.strip().splitlines()
    assert line.startswith("plex-loader-tui: error: The server at") and "HTTP 400 (text/html" in line
    _assert_no_upstream_body(out, err, log_text, json.dumps(summary, ensure_ascii=False))
