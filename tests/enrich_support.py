"""Helpers the enrichment tests share: fast settings for a demo server, picks from its library."""

from __future__ import annotations

import threading

from plex_loader_tui.demo.library import DemoEpisode, DemoLibrary, DemoMovie
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.enrich import EnrichSettings

TMDB_KEY = "demo-tmdb-key-0123456789"


def settings_for(server: DemoServer, **overrides: object) -> EnrichSettings:
    """Fast test settings: tiny backoff, rates that do not get in the way."""
    base: dict[str, object] = dict(
        tmdb_api_key=TMDB_KEY,
        tmdb_base_url=server.tmdb_url,
        imdb_base_url=server.imdb_url,
        tmdb_rate=1000.0,
        imdb_rate=1000.0,
        timeout=5.0,
        attempts=4,
        backoff_initial=0.01,
        backoff_max=0.05,
    )
    base.update(overrides)
    return EnrichSettings(**base)  # type: ignore[arg-type]


def modern_movies(library: DemoLibrary) -> list[DemoMovie]:
    """Movies with both ids visible that TMDb and IMDb both know."""
    return [
        m
        for m in library.movies()
        if m.guids and m.tmdb_id not in library.tmdb_missing and m.imdb_id not in library.imdb_missing
    ]


def episodes_of_show(library: DemoLibrary, show_key: int) -> list[DemoEpisode]:
    return [e for e in library.episodes() if e.show_key == show_key]


def show_with(library: DemoLibrary, *, modern: bool, min_episodes: int) -> int:
    for show in library.shows():
        if bool(show.guids) != modern or show.tmdb_id in library.tmdb_missing:
            continue
        if len(episodes_of_show(library, show.rating_key)) >= min_episodes:
            return show.rating_key
    raise AssertionError("the demo library has no such show")


class FirstN:
    """A demo ``fail_paths`` matcher that matches the first ``n`` requests, then none."""

    def __init__(self, n: int) -> None:
        self.left = n
        self.lock = threading.Lock()

    def __call__(self, target: str) -> bool:
        with self.lock:
            if self.left > 0:
                self.left -= 1
                return True
            return False
