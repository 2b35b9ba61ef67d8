"""The live numbers of a real load are true while it runs, and every ending says the same.

Real parts: the demo server on loopback (with faults that are deterministic:
a listing page that fails twice then answers, one movie TMDb never answers,
one it answers the second time), plexapi over a retrying requests session,
httpx with tenacity, fastembed, embedded Qdrant. A watcher samples the
session's snapshot while the load runs and checks each sample.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from test_engine_accounting import check

from plex_loader_tui.config import StageConfig, resolve_config
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.demo.settings import demo_settings
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.headless import progress_line
from plex_loader_tui.load import LoadSession
from plex_loader_tui.pipeline import PipelineSnapshot
from plex_loader_tui.summary import build_summary, summary_lines
from plex_loader_tui.tui import format as fmt
from plex_loader_tui.tui.outcome import next_step_note, result_notice

PAGE = 10
SIZE = 80
#: Small queues and batches: when the first page's items reach the store, most of the
#: library is still to be listed (the pipeline holds far fewer than SIZE items).
STAGES = {"ingest": StageConfig(1, PAGE), "enrich": StageConfig(1, 4), "embed": StageConfig(1, 4),
          "upsert": StageConfig(1, 4)}


def failing(pattern: str, times: int | None) -> Callable[[str], bool]:
    """A demo-server path matcher: fail requests matching ``pattern`` ``times`` times (``None``: always)."""
    seen = 0
    lock = threading.Lock()

    def matcher(target: str) -> bool:
        nonlocal seen
        if re.search(pattern, target) is None:
            return False
        with lock:
            seen += 1
            return times is None or seen <= times

    return matcher


def movie_lookup(movie) -> str:
    """The TMDb path a movie is looked up at: by its TMDb id, or by its IMDb id when Plex knows only that."""
    ids = "|".join(re.escape(str(i)) for i in (movie.tmdb_id, movie.imdb_id) if i)
    return rf"^/movie/({ids})\b"


def make_config(server: DemoServer, tmp_path: Path, **overrides):
    values = {**demo_settings(server), "data_dir": str(tmp_path), "no_ui": True, "queue_size": 4, **overrides}
    config = resolve_config(values, environ={})
    for name, stage in STAGES.items():
        config = config.with_stage(name, workers=stage.workers, batch_size=stage.batch_size)
    return config


class Watcher:
    """Samples the session's snapshot while it runs; checks every sample; keeps the first ones that show trouble."""

    def __init__(self, session: LoadSession) -> None:
        self.session = session
        self.samples = 0
        self.first: dict[str, PipelineSnapshot] = {}

    def look(self) -> None:
        snap = self.session.snapshot()
        if snap is None:
            return
        check(snap)
        self.samples += 1
        ingest, enrich = snap.stage("ingest"), snap.stage("enrich")
        if not snap.state.ended:
            assert ingest.batch_size == PAGE  # the page size the operator set, not "1"
        for name, shows in (
            ("ingest retry", ingest.retries > 0),
            ("enrich retry", enrich.retries > 0),
            ("enrich error", enrich.errors > enrich.retries),
            ("failed", snap.failed > 0),
            ("error log", bool(snap.recent_failures)),
        ):
            if shows and name not in self.first:
                self.first[name] = snap

    async def watch(self, run: asyncio.Task) -> None:
        while not run.done():
            self.look()
            await asyncio.sleep(0.01)  # sampling what the dashboard would poll, not waiting for an event


@pytest.fixture
def server():
    with DemoServer(DemoLibrary.generate(seed=11, size=SIZE)) as srv:
        yield srv


async def test_retries_errors_and_failures_show_while_the_load_runs_and_every_ending_agrees(server, tmp_path):
    movies = [m for m in server.library.movies()[:PAGE] if m.tmdb_id and m.tmdb_id not in server.library.tmdb_missing]
    never, once = movies[0], movies[1]
    server.set_faults("plex", fail_paths=failing(r"X-Plex-Container-Start=10&.*type=1\b", times=2))
    never_answers = failing(movie_lookup(never), times=None)
    answers_second_time = failing(movie_lookup(once), times=1)
    server.set_faults("tmdb", fail_paths=lambda target: never_answers(target) or answers_second_time(target))

    session = LoadSession(make_config(server, tmp_path))
    watcher = Watcher(session)
    run = asyncio.create_task(session.run())
    await watcher.watch(run)
    result = await run
    watcher.look()

    # Seen while the load ran, not only after: the urllib3 retries of the listing, the
    # tenacity retries of TMDb, the item TMDb never answered for (an enrich error, then a
    # failed item and an error log entry the moment its upsert is confirmed).
    assert set(watcher.first) == {"ingest retry", "enrich retry", "enrich error", "failed", "error log"}
    for name, snap in watcher.first.items():
        assert snap.state == "running" and snap.done < snap.total, f"{name} first seen at the end"
    assert watcher.first["failed"].unlisted > 0  # most of the library was still to come
    letter = watcher.first["error log"].recent_failures[0]
    assert (letter.stage, letter.title) == ("enrich", never.title) and "tmdb" in letter.error

    snap = result.snapshot
    ingest, enrich = snap.stage("ingest"), snap.stage("enrich")
    assert ingest.retries == 2  # the page that failed twice, retried inside the Plex session
    assert enrich.retries == 4  # 3 for the movie that never answers (4 attempts), 1 for the other
    assert enrich.errors == enrich.retries + 1 and enrich.failed == 1
    assert (snap.loaded, snap.failed, snap.skipped) == (SIZE - 1, 1, 0)
    assert result.exit_code == ExitCode.FAILED_ITEMS and result.failed_waiting == 1

    # The closing notification, the final frame's hint, the headless last lines and the
    # summary JSON say the same numbers, and the notification's clock is the frame's.
    summary = build_summary(result, session.info, session.config, exit_code=result.exit_code)
    counts = summary["counts"]
    assert (counts["loaded"], counts["failed"], counts["enrich_incomplete"], counts["failed_waiting_retry"]) == (
        SIZE - 1, 1, 1, 1)
    assert summary["stages"]["ingest"]["batch_size"] == PAGE
    assert (summary["stages"]["enrich"]["retries"], summary["stages"]["enrich"]["errors"]) == (4, 5)
    notice = result_notice(result)
    assert f"loaded {SIZE - 1} · skipped 0 · failed 1 in {fmt.duration(snap.elapsed)}" in notice.message
    assert "start-up" in notice.message
    assert next_step_note(result).startswith("completed · 1 failed item waiting for a retry")
    last = progress_line(snap)
    assert f"loaded {SIZE - 1} skipped 0 failed 1 |" in last and "enrich 4/5" in last
    rate = re.search(r"items, ([\d.]+) items/s avg", last).group(1)
    assert summary_lines(summary)[0].startswith(f"finished: loaded {SIZE - 1}, skipped (unchanged) 0, failed 1 ")
    assert f"({rate} items/s, after" in summary_lines(summary)[0]


async def test_a_drained_load_exits_with_its_own_code_and_says_how_many_items_remain(server, tmp_path):
    server.set_faults("plex", latency_ms=30)  # a load slow enough to drain in the middle
    session = LoadSession(make_config(server, tmp_path))
    watcher = Watcher(session)
    run = asyncio.create_task(session.run())
    while not run.done():
        watcher.look()
        snap = session.snapshot()
        if snap is not None and snap.loaded > 0:
            session.drain()
            break
        await asyncio.sleep(0.01)
    await watcher.watch(run)
    result = await run
    watcher.look()
    snap = result.snapshot
    assert result.state == "drained" and 0 < snap.loaded < SIZE
    left = SIZE - snap.done
    assert result.left == left == snap.released + snap.unlisted > 0
    assert result.exit_code == ExitCode.DRAINED != ExitCode.OK
    assert [s.state for s in snap.stages] == ["drained"] * 4
    assert next_step_note(result).startswith(f"drained: {left} items left for the next run")
    assert f"{left} items left for the next run" in result_notice(result).message


async def test_a_drain_asked_before_any_item_flowed_leaves_the_whole_library_and_says_so(server, tmp_path):
    session = LoadSession(make_config(server, tmp_path))
    session.drain()  # while it is still connecting and loading the models
    result = await session.run()
    assert (result.state, result.snapshot, result.left) == ("drained", None, SIZE)
    assert result.exit_code == ExitCode.DRAINED  # not 0, "everything loaded"


def test_headless_last_line_and_summary_json_agree_on_a_load_with_failures(server, tmp_path):
    """The real command: the final progress line, the summary line and the JSON say the same."""
    never = next(m for m in server.library.movies() if m.tmdb_id and m.tmdb_id not in server.library.tmdb_missing)
    server.set_faults("tmdb", fail_paths=movie_lookup(never))
    summary = tmp_path / "summary.json"
    args = [sys.executable, "-m", "plex_loader_tui", "--no-ui", "--plex-url", server.plex_url,
            "--tmdb-base-url", server.tmdb_url, "--imdb-base-url", server.imdb_url, "--data-dir", str(tmp_path / "data"),
            "--summary-json", str(summary), "--plex-chunk-size", str(PAGE), "--progress-interval", "0.5"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEX_LOADER_")}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parent.parent), PLEX_TOKEN=server.token,
               TMDB_API_KEY=server.tmdb_api_key)
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == ExitCode.FAILED_ITEMS, done.stderr[-2000:]
    data = json.loads(summary.read_text())
    counts, enrich = data["counts"], data["stages"]["enrich"]
    lines = done.stdout.splitlines()
    final = next(line for line in reversed(lines) if "items/s avg" in line)
    assert f"loaded {counts['loaded']} skipped {counts['skipped_unchanged']} failed {counts['failed']} |" in final
    assert (counts["loaded"], counts["failed"], counts["enrich_incomplete"]) == (SIZE - 1, 1, 1)
    assert f"enrich {enrich['retries']}/{enrich['errors']}" in final and enrich["errors"] >= 1
    assert f"{data['items_per_s']:.1f} items/s avg" in final
    assert data["stages"]["ingest"]["batch_size"] == PAGE
    assert "latency_p95_ms" in enrich and "latency_p95_s" not in enrich
    assert any(line.startswith(f"finished: loaded {SIZE - 1}, skipped (unchanged) 0, failed 1 of {SIZE} items")
               and f"({data['items_per_s']:.1f} items/s, after {data['startup_s']:.1f} s start-up)" in line
               for line in lines), done.stdout


async def test_the_closing_notification_names_the_service_whose_rate_limit_set_the_pace(server, tmp_path):
    session = LoadSession(make_config(server, tmp_path, imdb_rate=4.0))
    result = await session.run()
    assert result.state == "finished"
    imdb = next(p for p in result.pacing if p.service == "IMDb")
    assert imdb.requests == server.count("imdb", None) > 10
    # The bucket (burst 1 at 4/s) paced every request but the first; never longer than the run.
    assert (imdb.requests - 2) / 4 <= imdb.paced_s <= result.snapshot.elapsed
    summary = build_summary(result, session.info, session.config, exit_code=result.exit_code)
    note = "IMDb's rate limit (4 requests/s) held enrichment back for"
    paced = imdb.paced_s >= 0.5 * result.snapshot.elapsed
    assert (note in result_notice(result).message) == paced == any(line.startswith(note) for line in summary_lines(summary))
