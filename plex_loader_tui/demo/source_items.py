"""What Plex ingestion makes of demo items, for feeding later stages directly.

Tests and benches of enrichment start from :class:`~plex_loader_tui.models.SourceItem`
without running ingestion; these build the same items ingestion would, with
only the external ids the demo Plex server shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import SourceItem

if TYPE_CHECKING:
    from .library import DemoEpisode, DemoLibrary, DemoMovie

SERVER_ID = "demo"


def movie_source_item(movie: DemoMovie) -> SourceItem:
    """The item ingestion makes of ``movie``."""
    ids = movie.visible_ids
    return SourceItem(
        server_id=SERVER_ID,
        rating_key=str(movie.rating_key),
        guid=movie.guid,
        type="movie",
        title=movie.title,
        year=movie.year,
        imdb_id=ids.get("imdb"),
        tmdb_id=ids.get("tmdb"),
    )


def episode_source_item(library: DemoLibrary, episode: DemoEpisode) -> SourceItem:
    """The item ingestion makes of ``episode`` (with its show's title and TMDb id)."""
    ids = episode.visible_ids
    show = library.show(episode.show_key)
    if show is None:
        raise KeyError(f"episode {episode.rating_key} names a show the library does not have")
    return SourceItem(
        server_id=SERVER_ID,
        rating_key=str(episode.rating_key),
        guid=episode.guid,
        type="episode",
        title=episode.title,
        imdb_id=ids.get("imdb"),
        tmdb_id=episode.tmdb_id if episode.guids else None,
        show_title=show.title,
        show_rating_key=str(show.rating_key),
        show_tmdb_id=show.visible_ids.get("tmdb"),
        season_number=episode.season_index,
        episode_number=episode.index,
    )
