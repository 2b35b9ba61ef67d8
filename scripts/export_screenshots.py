"""Export the README screenshots (``screenshots/*.svg``) from a seeded demo run.

Starts the built-in demo server (seed 7, 300 items) and runs real loads into a
temporary embedded Qdrant with the dashboard driven by Textual's Pilot. A
healthy first load (nothing injected: embedding is the bottleneck) gives the
README's hero shot, the dashboard mid-load. A second load, with one Plex
listing page set to fail so the error log has something to show, gives the
tuning dialog, the profile modal, the error log (and the failed page's
details), the search screen, and the dashboard in the light theme.

    .venv/bin/python scripts/export_screenshots.py [--out screenshots]

Nothing is drawn by hand; numbers differ a little from run to run (timing).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE = (120, 36)
QUERY = "a heist that goes wrong"


def _isolate(home: Path) -> None:
    """Keep plexapi, platformdirs and the model hub away from the user's real setup."""
    (home / "plexapi.ini").write_text("[plexapi]\nautoreload = false\n")
    os.environ["PLEXAPI_CONFIG_PATH"] = str(home / "plexapi.ini")
    os.environ["PLEXAPI_PLEXAPI_AUTORELOAD"] = "false"
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        os.environ[var] = str(home / var.lower())
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.pop("NO_COLOR", None)


async def _until(pilot, condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"export_screenshots: timed out waiting for {what}")
        await pilot.pause(0.1)


async def _a_third_loaded(pilot, app, what: str) -> None:
    """Wait until a third of the library is done, then focus the embed panel (key 3)."""
    await _until(
        pilot,
        lambda: app.session is not None
        and (s := app.session.snapshot()) is not None
        and s.total
        and s.done >= 0.35 * s.total,
        timeout=300,
        what=what,
    )
    await pilot.press("3")
    await pilot.pause(0.3)


async def export(out: Path, home: Path) -> list[Path]:
    from textual.widgets import Input

    from plex_loader_tui.config import ProfileStore, resolve_config
    from plex_loader_tui.demo.library import DemoLibrary
    from plex_loader_tui.demo.server import DemoServer
    from plex_loader_tui.tui.app import LoaderApp
    from plex_loader_tui.tui.screens import ErrorDetailScreen, SearchScreen

    saved: list[Path] = []
    demo = DemoServer(DemoLibrary.generate(seed=7, size=300), token="demo-token-7f3a9c21", tmdb_api_key="demo-tmdb-5e1d")
    demo.start()
    try:
        # Resolved the way the command line does it, so the profile modal shows real origins.
        store = ProfileStore(home / "config")
        store.save(
            "nightly",
            {"ingest_workers": 2, "ingest_batch_size": 50, "enrich_workers": 4, "enrich_batch_size": 10,
             "embed_workers": 2, "embed_batch_size": 16, "plex_token_env": "PLEX_TOKEN"},
        )
        store.save("small-box", {"embed_workers": 1, "enrich_workers": 2})
        environ = {
            "PLEX_TOKEN": demo.token or "",
            "TMDB_API_KEY": demo.tmdb_api_key or "",
            "TMDB_BASE_URL": demo.tmdb_url,
            "IMDB_BASE_URL": demo.imdb_url,
        }
        flags = {
            "plex_url": demo.plex_url,
            "profile": "nightly",
            "config_dir": str(home / "config"),
            "data_dir": str(home / "data"),
            "_flag_names": {"plex_url": "--plex-url", "profile": "--profile", "config_dir": "--config-dir", "data_dir": "--data-dir"},
        }
        hero = resolve_config({**flags, "data_dir": str(home / "data-hero")}, environ, store)
        app = LoaderApp(hero)

        async with app.run_test(size=SIZE) as pilot:
            await _a_third_loaded(pilot, app, "the healthy load to get a third of the way")
            path = out / "dashboard-mid-load.svg"
            app.save_screenshot(filename=path.name, path=str(out))
            saved.append(path)
            app.exit()

        # The second load: a slower TMDb keeps it running through the dialogs, and the third
        # page of the movie listing fails for the error log.
        demo.set_faults("tmdb", latency_ms=40)
        demo.set_faults("plex", fail_paths=r"X-Plex-Container-Start=100&.*type=1\b")
        config = resolve_config(flags, environ, store)
        app = LoaderApp(config)

        def shot(name: str) -> None:
            path = out / f"{name}.svg"
            app.save_screenshot(filename=path.name, path=str(out))
            saved.append(path)
            print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

        def no_blink() -> None:
            for widget in app.screen.query(Input):
                widget.cursor_blink = False

        async with app.run_test(size=SIZE) as pilot:
            await _a_third_loaded(pilot, app, "the load to get a third of the way")

            await pilot.press("e")
            batch = app.screen.query_one("#edit-batch", Input)
            batch.value = "0"
            batch.focus()
            await pilot.press("enter")  # refused: the dialog says why and stays open
            app.clear_notifications()
            no_blink()
            await pilot.pause()
            shot("tuning-dialog")
            await pilot.press("escape")

            await pilot.press("o")
            no_blink()
            await pilot.pause()
            shot("profile-modal")
            await pilot.press("escape")

            demo.set_faults("tmdb", latency_ms=0)
            demo.set_faults("plex", fail_paths=r"X-Plex-Container-Start=100&.*type=1\b")
            await _until(pilot, lambda: app.result is not None, timeout=600, what="the load to finish")
            app.clear_notifications()
            await pilot.press("l")
            await pilot.pause(0.3)
            shot("error-log")
            await pilot.press("enter")
            await pilot.pause()
            if isinstance(app.screen, ErrorDetailScreen):
                shot("error-detail")
                await pilot.press("escape")

            await pilot.press("s")
            screen = app.screen
            assert isinstance(screen, SearchScreen)
            screen.query_one("#search-query", Input).value = QUERY
            await pilot.press("enter")
            await _until(pilot, lambda: bool(screen.hits) or "failed" in str(screen.query_one("#search-status").render()), timeout=120, what="search hits")
            screen.query_one("#search-hits").focus()
            no_blink()
            await pilot.pause()
            shot("search-screen")
            await pilot.press("escape")

            app.theme = "plex-day"
            app.query_one("#stage-embed").focus()
            await pilot.pause(0.3)
            shot("dashboard-light")
            await pilot.press("q")
    finally:
        demo.stop()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="folder for the SVGs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="plex-loader-shots-") as tmp:
        home = Path(tmp)
        _isolate(home)
        sys.path.insert(0, str(ROOT))
        asyncio.run(export(args.out.resolve(), home))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
