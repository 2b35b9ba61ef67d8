"""Fixtures for the dashboard tests: a temporary config, pinned time zone, app builders."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from plex_loader_tui.config import RunConfig, StageConfig  # noqa: E402
from plex_loader_tui.tui.app import LoaderApp  # noqa: E402
from sim_session import SimSession  # noqa: E402


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch: pytest.MonkeyPatch):
    """Error-log times are local clock times: pin the zone so screenshots match anywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    time.tzset()


@pytest.fixture(autouse=True)
def no_animation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    import textual.constants

    monkeypatch.setattr(textual.constants, "TEXTUAL_ANIMATIONS", "none", raising=False)


@pytest.fixture
def run_config(tmp_path: Path) -> RunConfig:
    """A demo config whose every path is under ``tmp_path`` (enrich starts at 2 workers)."""
    stages = {
        "ingest": StageConfig(1, 16),
        "enrich": StageConfig(2, 8),
        "embed": StageConfig(2, 8),
        "upsert": StageConfig(1, 16),
    }
    return RunConfig(
        demo=True,
        demo_items=60,
        config_dir=tmp_path / "config",
        data_dir=tmp_path / "data",
        qdrant_path=tmp_path / "qdrant",
        stages=stages,
        queue_size=64,
    )


@pytest.fixture
def sim_app(run_config: RunConfig) -> Callable[..., LoaderApp]:
    """Build a dashboard hosting :class:`SimSession` runs; ``app.sessions`` lists them."""

    def build(config: RunConfig | None = None, **session_kwargs) -> LoaderApp:
        sessions: list[SimSession] = []

        def factory(cfg: RunConfig) -> SimSession:
            session = SimSession(cfg, **session_kwargs)
            sessions.append(session)
            return session

        app = LoaderApp(config or run_config, session_factory=factory)
        app.sessions = sessions  # type: ignore[attr-defined]
        return app

    return build
