"""The built-in demo server: Plex, TMDb and IMDb on loopback with a synthetic library.

``plex-loader-tui --demo`` and the tests use it so the whole pipeline runs on a
fresh machine with nothing else installed. :class:`DemoLibrary` makes the
deterministic library; :class:`DemoServer` serves it over real HTTP.
"""

from __future__ import annotations

from .library import DemoEpisode, DemoLibrary, DemoMovie, DemoSeason, DemoShow
from .server import DemoServer, FaultSettings, RequestRecord

__all__ = [
    "DemoEpisode",
    "DemoLibrary",
    "DemoMovie",
    "DemoSeason",
    "DemoServer",
    "DemoShow",
    "FaultSettings",
    "RequestRecord",
]
