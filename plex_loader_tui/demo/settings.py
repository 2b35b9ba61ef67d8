"""The connection settings that point a load at a running demo server."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import DemoServer


def demo_settings(server: DemoServer) -> dict[str, str]:
    """``plex_url``, ``plex_token``, ``tmdb_api_key``, ``tmdb_base_url`` and ``imdb_base_url`` of ``server``.

    The keys are the settings' names, so the result fits ``RunConfig(**...)``,
    ``resolve_config({...})`` and :class:`~plex_loader_tui.load.Endpoints` alike.
    """
    return {
        "plex_url": server.plex_url,
        "plex_token": server.token,
        "tmdb_api_key": server.tmdb_api_key,
        "tmdb_base_url": server.tmdb_url,
        "imdb_base_url": server.imdb_url,
    }
