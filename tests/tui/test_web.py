"""``plex-loader-tui web`` in a real browser: headless Chromium opens the page, sees the panels, presses a key.

Skips when no Chromium is installed (``apt-get install chromium``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attach_support import REPO, TOKEN, ServeProcess, child_env, free_port  # noqa: E402
from cdp_support import Browser, find_chromium  # noqa: E402

CHROMIUM = find_chromium()
LIMIT = 120.0
#: The README shows this picture of the browser view; the test makes it.
SCREENSHOT = REPO / "screenshots" / "web-attached.png"


def _wait(check, what: str, limit: float = LIMIT, pump=None) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pump() if pump else time.sleep(0.05)


def _web(service: ServeProcess, port: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "plex_loader_tui", "web", service.url, "--listen", f"127.0.0.1:{port}",
         "--config-dir", str(service.config_dir), *extra],
        env=child_env(PLEX_LOADER_CONTROL_TOKEN=TOKEN), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def test_web_refuses_a_non_loopback_address_without_the_flag(tmp_path):
    done = subprocess.run([sys.executable, "-m", "plex_loader_tui", "web", "--listen", "0.0.0.0:8766",
                           "--config-dir", str(tmp_path)], env=child_env(PLEX_LOADER_CONTROL_TOKEN=TOKEN),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "--allow-non-loopback" in done.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium) to open the page")
def test_the_web_dashboard_renders_in_chromium_and_a_key_reaches_the_service(tmp_path):
    service = ServeProcess(tmp_path / "svc").start()
    web = None
    browser = None
    try:
        service.until(lambda s: s["state"] == "watching", what="the startup sync")
        port = free_port()
        web = _web(service, port)
        page = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert web.poll() is None, web.stdout.read()
            try:
                return httpx.get(page, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(up, "the web server")
        html = httpx.get(page, timeout=5).text
        assert TOKEN not in html
        browser = Browser(CHROMIUM)
        browser.call("Page.navigate", url=page)
        # The panels are drawn when the terminal has been sent their titles and the attached header.
        _wait(lambda: all(w in browser.received_text() for w in ("ingest", "upsert", "attached", "watching Plex")),
              "the panels in the page", pump=lambda: browser.pump(0.2))
        browser.pump(1.0)  # let the terminal paint the frames it has before the picture
        browser.screenshot(SCREENSHOT)
        assert SCREENSHOT.stat().st_size > 10_000
        assert TOKEN not in browser.received_text()
        browser.call("Runtime.evaluate", expression="document.querySelector('.xterm-helper-textarea').focus()")
        browser.type_key("p")
        service.until(lambda s: s["state"] == "paused", 60, "the key press to pause the service")
        # The child's command line (ps shows it to every user) holds no token.
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        assert "attach" in ps and TOKEN not in ps
    finally:
        if browser is not None:
            browser.close()
        if web is not None:
            web.terminate()
            web.wait(30)
        service.stop()
