"""Deterministic snapshots for the dashboard's snapshot tests.

Built by hand from the engine's own frozen dataclasses, so a screenshot
depends on nothing but these numbers.
"""

from __future__ import annotations

import calendar

from plex_loader_tui.pipeline.errors import DeadLetter
from plex_loader_tui.pipeline.metrics import PipelineSnapshot, StageSnapshot

#: 2026-11-23 20:41:07 UTC: error-log times render from this (tests pin TZ=UTC).
BASE_TIME = float(calendar.timegm((2026, 11, 23, 20, 41, 7, 0, 0, 0)))


def _history(peak: float, n: int = 60) -> tuple[float, ...]:
    # A ramp, then a steady rate with a small deterministic wobble.
    return tuple(min(peak, peak * (i + 1) / 12) + ((i * 7) % 5) * peak / 25 for i in range(n))


def failures() -> tuple[DeadLetter, ...]:
    """Three failures, newest first (as the engine keeps them)."""
    return (
        DeadLetter(
            stage="upsert",
            item={"rating_key": "5012", "title": "The Long Goodbye"},
            error="ResponseHandlingException: timed out writing 16 points to media-items",
            error_type="ResponseHandlingException",
            attempts=3,
            title="The Long Goodbye (1973)",
            at=BASE_TIME,
        ),
        DeadLetter(
            stage="enrich",
            item={"rating_key": "4410", "title": "Night Shift — S01E03 — Doubles"},
            error="HTTPStatusError: TMDb answered 500 for /tv/9112/season/1/episode/3 after 4 attempts",
            error_type="HTTPStatusError",
            attempts=4,
            title="Night Shift — S01E03 — Doubles",
            at=BASE_TIME - 12,
        ),
        DeadLetter(
            stage="embed",
            item={"rating_key": "3307", "title": "Untitled"},
            error="ValueError: nothing to embed: item has no title, summary or overview",
            error_type="ValueError",
            attempts=1,
            title="Untitled (2001)",
            at=BASE_TIME - 47,
        ),
    )


def mid_load_snapshot() -> PipelineSnapshot:
    """A load 40% through, embedding the bottleneck, enrichment rate limited."""
    stages = (
        StageSnapshot(
            name="ingest", state="backpressure", items_in=1400, items_out=1400, skipped=0, failed=0,
            retries=0, errors=0, queue_depth=0, queue_capacity=256, busy_workers=2, workers=2,
            batch_size=200, throughput=41.5, latency_p50=0.08, latency_p95=0.21, last_error=None,
            history=_history(45.0),
        ),
        StageSnapshot(
            name="enrich", state="rate-limited", items_in=1302, items_out=1180, skipped=96, failed=1,
            retries=7, errors=8, queue_depth=98, queue_capacity=256, busy_workers=6, workers=6,
            batch_size=20, throughput=38.2, latency_p50=0.42, latency_p95=1.35,
            last_error="HTTPStatusError: TMDb answered 500", history=_history(40.0), detail="tmdb 40/s",
        ),
        StageSnapshot(
            name="embed", state="running", items_in=1140, items_out=1100, skipped=0, failed=1,
            retries=0, errors=1, queue_depth=240, queue_capacity=256, busy_workers=2, workers=2,
            batch_size=16, throughput=36.9, latency_p50=0.39, latency_p95=0.47, last_error=None,
            history=_history(37.0),
        ),
        StageSnapshot(
            name="upsert", state="starved", items_in=1100, items_out=1083, skipped=0, failed=1,
            retries=2, errors=3, queue_depth=1, queue_capacity=256, busy_workers=0, workers=1,
            batch_size=64, throughput=36.4, latency_p50=0.05, latency_p95=0.09, last_error=None,
            history=_history(37.0),
        ),
    )
    return PipelineSnapshot(
        state="running", elapsed=31.4, total=3000, loaded=1083, skipped=96, failed=3, in_flight=380,
        throughput=37.6, eta=48.1, bottleneck="embed", stages=stages, recent_failures=failures(),
    )


def finished_snapshot() -> PipelineSnapshot:
    """The same load, finished with three failures."""
    mid = mid_load_snapshot()
    stages = tuple(
        StageSnapshot(
            name=s.name, state="done", items_in=s.items_in, items_out=s.items_out, skipped=s.skipped,
            failed=s.failed, retries=s.retries, errors=s.errors, queue_depth=0, queue_capacity=256,
            busy_workers=0, workers=s.workers, batch_size=s.batch_size, throughput=0.0,
            latency_p50=s.latency_p50, latency_p95=s.latency_p95, last_error=s.last_error, history=s.history,
        )
        for s in mid.stages
    )
    return PipelineSnapshot(
        state="finished", elapsed=81.9, total=3000, loaded=2901, skipped=96, failed=3, in_flight=0,
        throughput=0.0, eta=None, bottleneck=None, stages=stages, recent_failures=mid.recent_failures,
    )


def search_hits():
    """Ten hits as the hybrid search returns them."""
    from plex_loader_tui.search import SearchHit

    rows = [
        ("movie", "The Heist at Dawn", 2011, None, {}),
        ("movie", "Vault of the Seven Keys", 1998, None, {}),
        ("episode", "The Long Con", 2019, "Night Shift", {"season_number": 2, "episode_number": 5}),
        ("movie", "Crimson Safe", 2004, None, {}),
        ("episode", "Inside Job", 2021, "Harbor Lights", {"season_number": 1, "episode_number": 8}),
        ("movie", "Getaway Driver", 1987, None, {}),
        ("movie", "Silent Alarm", 2016, None, {}),
        ("episode", "Paper Trail", 2018, "Night Shift", {"season_number": 1, "episode_number": 2}),
        ("movie", "Twelve Locks", 1993, None, {}),
        ("movie", "The Quiet Crew", 2009, None, {}),
    ]
    return [
        SearchHit(
            point_id=f"00000000-0000-5000-8000-{i:012d}",
            score=round(0.5 / (i + 1) + 0.01, 4),
            title=title,
            type=kind,
            year=year,
            show_title=show,
            payload=payload,
        )
        for i, (kind, title, year, show, payload) in enumerate(rows)
    ]
