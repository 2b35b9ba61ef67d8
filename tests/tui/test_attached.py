"""The dashboard attached to a real ``serve --demo`` on loopback (``attach``): every check reads the service.

One service serves the module's tests; the drain and restart tests start their own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import wait_for
from textual.widgets import Static

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attach_support import TOKEN, ServeProcess, child_env, free_port  # noqa: E402

from plex_loader_tui.config import RunConfig  # noqa: E402
from plex_loader_tui.remote.client import ControlClient  # noqa: E402
from plex_loader_tui.tui.app import LoaderApp  # noqa: E402
from plex_loader_tui.tui.attach_mode import AttachHeader  # noqa: E402
from plex_loader_tui.tui.attach_run import attached_app  # noqa: E402
from plex_loader_tui.tui.attached import AttachedSession, Link  # noqa: E402
from plex_loader_tui.tui.screens import FatalErrorScreen, SearchScreen  # noqa: E402
from plex_loader_tui.tui.widgets import ErrorLog, StagePanel  # noqa: E402

SIZE = (120, 36)
#: Bounds a hang only (a sync on a busy machine takes seconds); nothing asserts how fast.
LIMIT = 120.0


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    serve = ServeProcess(tmp_path_factory.mktemp("attach-service"))
    serve.start()
    serve.until(lambda s: s["state"] == "watching", what="the startup sync to end")
    yield serve
    serve.stop()


def _app(service: ServeProcess, tmp_path: Path, token: str = TOKEN) -> LoaderApp:
    config = RunConfig(demo=True, config_dir=tmp_path / "config", data_dir=tmp_path / "data")
    return attached_app(config, ControlClient(service.url, token))


def _text(app: LoaderApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def _session(app: LoaderApp) -> AttachedSession:
    assert isinstance(app.session, AttachedSession)
    return app.session


async def test_the_panels_show_the_services_sync_and_the_header_says_attached(service, tmp_path):
    app = _app(service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "60 / 60" in _text(app, "#overall-stats"), LIMIT, "the service's figures")
        ingest = app.query_one("#stage-ingest", StagePanel)
        assert "in 60" in str(ingest.query_one(".stage-numbers", Static).render())
        await wait_for(pilot, lambda: "watching Plex" in _text(app, "#attach-header"), LIMIT, "the header")
        header = _text(app, "#attach-header")
        assert f"attached {service.url}" in header and "up " in header
        assert app.query_one(AttachHeader).display
        assert app.screen.active_bindings["q"].binding.action == "detach"
        await pilot.press("q")  # no question asked: the service is not ours to stop
    # Leaving the dashboard leaves the service running.
    assert app.return_code == 0
    assert service.status()["state"] == "watching"


async def test_plus_reaches_the_services_engine_settings(service, tmp_path):
    before = service.status()["stage_settings"]["enrich"]["workers"]
    app = _app(service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _session(app).link is Link.CONNECTED, LIMIT, "the event stream")
        # Quick presses each step from the service's last answer, not from an event made before it.
        await pilot.press("2", "+", "+", "minus")
        status = service.until(lambda s: s["stage_settings"]["enrich"]["workers"] == before + 1, 30, "+ + - to arrive")
        assert status["stage_settings"]["enrich"]["batch_size"] > 0
        # A value the engine refuses comes back in the API's words.
        app.tune_stage("enrich", workers_delta=10_000)
        await pilot.pause()
        refusals = [n.message for n in app._notifications if n.title == "Not applied"]
        assert refusals and "workers" in refusals[-1]
        assert service.status()["stage_settings"]["enrich"]["workers"] == before + 1
        await wait_for(pilot, lambda: "next sync" in str(app.query_one("#stage-enrich", StagePanel).border_subtitle),
                       LIMIT, "the panel to show the next sync's settings")


async def test_pause_and_resume_go_to_the_service(service, tmp_path):
    app = _app(service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _session(app).link is Link.CONNECTED, LIMIT, "the event stream")
        await pilot.press("p")
        service.until(lambda s: s["state"] == "paused", 30, "pause")
        await wait_for(pilot, lambda: "paused" in _text(app, "#attach-header"), LIMIT, "the header to say paused")
        await pilot.press("p")
        service.until(lambda s: s["state"] == "watching", 30, "resume")
        # Resuming what is not paused: the API's 409, shown as it said it.
        app.service_control(_session(app).resume, "Resumed.")
        await pilot.pause()
        assert any("not paused" in n.message for n in app._notifications)


async def test_retry_failed_asks_the_service_and_the_error_log_lists_its_dead_letters(service, tmp_path):
    syncs = service.status()["totals"]["syncs"].get("retry-failed", 0)
    app = _app(service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _session(app).link is Link.CONNECTED, LIMIT, "the event stream")
        assert app.query_one(ErrorLog).letters == ()  # the demo loads cleanly: no dead letter
        await pilot.press("r")
        service.until(lambda s: s["totals"]["syncs"].get("retry-failed", 0) == syncs + 1, LIMIT, "the retry sync")


async def test_search_asks_the_service(service, tmp_path):
    app = _app(service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: _session(app).link is Link.CONNECTED, LIMIT, "the event stream")
        await pilot.press("s")
        assert isinstance(app.screen, SearchScreen)
        screen = app.screen
        await pilot.press(*"a detective story", "enter")
        await wait_for(pilot, lambda: len(screen.hits) > 0, LIMIT, "the hits")
        assert all(hit.title for hit in screen.hits)
        assert "hit" in str(screen.query_one("#search-status", Static).render())


async def test_a_refused_token_is_the_fatal_screen(service, tmp_path):
    app = _app(service, tmp_path, token="not-the-token-0123456789")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, FatalErrorScreen), LIMIT, "the fatal screen")
        await pilot.pause()
        message = str(app.screen.query_one("#fatal-message", Static).render())
        assert "refused the control token" in message and "not-the-token" not in message
        await pilot.press("q")
    assert app.return_code == 3


@pytest.mark.parametrize("case", ["refused token", "unreachable"])
def test_attach_command_says_one_line_and_exits_3(service, tmp_path, case):
    url = service.url if case == "refused token" else f"http://127.0.0.1:{free_port()}"
    token = "wrong-token-0123456789abc" if case == "refused token" else TOKEN
    done = subprocess.run([sys.executable, "-m", "plex_loader_tui", "attach", url, "--config-dir",
                           str(tmp_path / "config")], env=child_env(PLEX_LOADER_CONTROL_TOKEN=token),
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0], done.stderr
    assert ("refused the control token" if case == "refused token" else "cannot reach") in lines[0]
    assert token not in done.stderr + done.stdout


async def test_the_service_restarting_shows_reconnecting_and_comes_back(tmp_path):
    service = ServeProcess(tmp_path / "svc").start()
    try:
        first = service.until(lambda s: s["state"] == "watching", what="the startup sync")
        app = _app(service, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            session = _session(app)
            await wait_for(pilot, lambda: session.link is Link.CONNECTED, LIMIT, "the event stream")
            assert service.stop() == 0
            await wait_for(pilot, lambda: "reconnecting…" in _text(app, "#attach-header"), LIMIT, "reconnecting…")
            service.start()
            await wait_for(pilot, lambda: session.link is Link.CONNECTED and session.status is not None
                           and session.status.started_at != first["started_at"], LIMIT, "the new service")
            await wait_for(pilot, lambda: "reconnecting" not in _text(app, "#attach-header"), LIMIT, "the header")
            assert app.running  # still attached: nothing ended
    finally:
        service.stop()


async def test_drain_stops_the_service_and_the_dashboard_stays(tmp_path):
    service = ServeProcess(tmp_path / "svc").start()
    try:
        service.until(lambda s: s["state"] == "watching", what="the startup sync")
        app = _app(service, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            session = _session(app)
            await wait_for(pilot, lambda: session.link is Link.CONNECTED, LIMIT, "the event stream")
            await pilot.press("d")
            assert service.wait_exit(LIMIT) == 0
            await wait_for(pilot, lambda: session.link is Link.STOPPED and not app.running, LIMIT, "the end")
            assert "stopped" in _text(app, "#attach-header")
            await pilot.press("q")
        assert app.return_code == 0
    finally:
        service.stop()


def _cli(service: ServeProcess, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plex_loader_tui", *argv, "--demo", "--data-dir",
                           str(service.data_dir), "--config-dir", str(service.config_dir)],
                          env=child_env(PLEX_LOADER_CONTROL_TOKEN=TOKEN), capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_search_on_a_collection_a_service_holds_goes_through_the_service(service):
    done = _cli(service, "search", "a detective story", "--limit", "3")
    assert done.returncode == 0, done.stderr
    assert "searching through it" in done.stderr and service.url in done.stderr
    assert len(done.stdout.strip().splitlines()) == 4  # the header and three hits


def test_a_headless_load_on_a_collection_a_service_holds_says_so(service):
    done = _cli(service, "--no-ui")
    assert done.returncode == 3, done.stderr
    assert "holds collection" in done.stderr and "attach" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
