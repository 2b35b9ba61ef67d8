"""Every incomplete item's reason reaches the summary, and both front ends count the same dead letters.

Real loads against the demo server (its fault modes play the failing
service), the bundled models and embedded Qdrant, as in test_load_failures.py.
"""

from __future__ import annotations

from pathlib import Path

from plex_loader_tui.config import resolve_config
from plex_loader_tui.demo import DemoLibrary, DemoServer
from plex_loader_tui.demo.settings import demo_settings
from plex_loader_tui.load import LoadSession
from plex_loader_tui.load.outcome import LoadResult
from plex_loader_tui.summary import build_summary, summary_lines
from plex_loader_tui.tui.outcome import next_step_note

#: Listing pages of movies (type 1) only: the plan's sizing requests do not match.
MOVIE_PAGES = r"includeGuids=1&type=1\b"


def make_config(server: DemoServer, data_dir: Path, **overrides):
    return resolve_config({**demo_settings(server), "data_dir": str(data_dir), "no_ui": True, **overrides}, environ={})


async def load(config) -> tuple[LoadSession, LoadResult]:
    session = LoadSession(config)
    return session, await session.run()


async def test_a_total_tmdb_outage_names_its_reason_in_the_summary(tmp_path: Path) -> None:
    with DemoServer(DemoLibrary.generate(seed=3, size=40)) as server:
        server.set_faults("tmdb", error_rate=1.0, error_status=503)
        config = make_config(server, tmp_path)
        session, result = await load(config)
    summary = build_summary(result, session.info, config, exit_code=int(result.exit_code))
    assert summary["failures"], "every item TMDb could not enrich is listed"
    assert summary["stages"]["enrich"]["last_error"]
    groups = summary["failure_groups"]
    tmdb = [g for g in groups if g["service"] == "tmdb"]
    assert tmdb and tmdb[0]["stage"] == "enrich" and tmdb[0]["reason"] == "answered 503"
    assert tmdb[0]["items"] == summary["counts"]["enrich_incomplete"] > 0
    assert any(line.startswith("why: tmdb: answered 503") for line in summary_lines(summary))


async def test_a_failed_listing_page_counts_the_same_in_the_summary_and_the_dashboard(tmp_path: Path) -> None:
    with DemoServer(DemoLibrary.generate(seed=5, size=60)) as server:
        server.set_faults("plex", html_paths=MOVIE_PAGES)  # every movie page: a captive portal
        config = make_config(server, tmp_path, ingest_batch_size=20)
        session, result = await load(config)
    failed = result.snapshot.failed
    assert failed > 0
    summary = build_summary(result, session.info, config, exit_code=int(result.exit_code))
    # A failed page records no item in the state, yet its items wait for retry-failed all the same.
    assert summary["counts"]["failed_waiting_retry"] == failed
    assert f"{failed} failed items wait for `plex-loader-tui retry-failed`" in "\n".join(summary_lines(summary))
    assert f"{failed:,} failed items waiting for a retry" in next_step_note(result)
    assert [g["stage"] for g in summary["failure_groups"]] == ["ingest"]
