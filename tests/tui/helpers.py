"""Waiting helpers for Pilot tests: poll a condition between app ticks, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from plex_loader_tui.config import StageConfig

def small_stages() -> dict[str, StageConfig]:
    """Few workers and small batches: a 60-item demo load whose stages still overlap."""
    return {
        "ingest": StageConfig(1, 20),
        "enrich": StageConfig(2, 4),
        "embed": StageConfig(1, 8),
        "upsert": StageConfig(1, 16),
    }


def paths_under(tmp_path: Path) -> dict[str, Path]:
    """``config_dir``, ``data_dir`` and ``qdrant_path`` of a run, all under ``tmp_path``."""
    return {"config_dir": tmp_path / "config", "data_dir": tmp_path / "data", "qdrant_path": tmp_path / "qdrant"}


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Let the app run until ``condition()`` holds; fail with ``what`` after ``timeout`` seconds.

    The deadline only bounds a hang: nothing here asserts on how fast it was.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)


class Settled:
    """True once no worker was busy and nothing moved over ``looks`` looks in a row.

    A worker that was already waiting on its queue when the pause came may take
    the last batch its upstream hands over, so "idle once" is not yet "stopped".
    """

    def __init__(self, session, looks: int = 5) -> None:
        self.session = session
        self.looks = looks
        self.previous: tuple[int, ...] | None = None
        self.streak = 0

    def __call__(self) -> bool:
        snap = self.session.snapshot()
        moved = tuple(s.items_in for s in snap.stages)
        idle = all(s.busy_workers == 0 for s in snap.stages)
        self.streak = self.streak + 1 if idle and moved == self.previous else 0
        self.previous = moved
        return self.streak >= self.looks
