"""Error types shared by the whole program (outside the engine).

The engine's own kinds (:class:`~plex_loader_tui.pipeline.errors.FatalError`
and its dead letters) live in :mod:`plex_loader_tui.pipeline.errors`; this
module holds what the rest of the program adds on top.
"""

from __future__ import annotations

from .pipeline.errors import FatalError

__all__ = ["ConfigError", "FatalError"]


class ConfigError(FatalError):
    """A setting is invalid; raised before any work starts (exit code 2)."""
