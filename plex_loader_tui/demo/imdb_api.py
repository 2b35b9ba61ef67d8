"""IMDb for the demo server, shaped like the imdbapi.dev API, under ``/imdb``.

``/titles/{tt}`` and ``/titles:batchGet?titleIds=…`` (at most
:data:`IMDB_MAX_BATCH` ids), with imdbapi.dev's JSON and error bodies.
"""

from __future__ import annotations

from collections.abc import Iterable

from .fake_ids import image_path, person_id
from .items import DemoEpisode, DemoMovie, DemoShow
from .library import DemoLibrary
from .replies import Reply, imdb_error, json_reply

#: imdbapi.dev's ``titles:batchGet`` accepts at most this many ids.
IMDB_MAX_BATCH = 5


class ImdbRoutes:
    """imdbapi.dev-shaped JSON for the demo library."""

    def __init__(self, library: DemoLibrary) -> None:
        self.lib = library

    def route(self, path: str, query: dict[str, list[str]]) -> Reply:
        """Answer a GET of ``path`` (relative to ``/imdb``); errors are raised as imdbapi.dev's."""
        if path == "/titles:batchGet":
            ids = [i for v in query.get("titleIds", []) for i in v.split(",") if i]
            if not ids:
                raise imdb_error(400, 3, "titleIds: at least one title id is required")
            if len(ids) > IMDB_MAX_BATCH:
                raise imdb_error(400, 3, f"titleIds: at most {IMDB_MAX_BATCH} title ids are allowed, got {len(ids)}")
            titles = [self.title(item) for i in ids if (item := self.lib.imdb_title(i)) is not None]
            return json_reply(200, {"titles": titles})
        if path.startswith("/titles/"):
            item = self.lib.imdb_title(path[len("/titles/") :])
            if item is None:
                raise imdb_error(404, 5, "Not Found")
            return json_reply(200, self.title(item))
        raise imdb_error(404, 5, "Not Found")

    def title(self, item: DemoMovie | DemoShow | DemoEpisode) -> dict[str, object]:
        def people(names: Iterable[str], profession: str) -> list[dict[str, object]]:
            return [
                {"id": f"nm{person_id(n):07d}", "displayName": n, "primaryProfessions": [profession]} for n in names
            ]

        if isinstance(item, DemoMovie):
            kind, directors, writers, stars = "movie", item.directors, item.writers, [c.name for c in item.cast[:3]]
        elif isinstance(item, DemoShow):
            kind, directors, writers, stars = "tvSeries", (), item.creators, [c.name for c in item.cast[:3]]
        else:
            kind, directors, writers, stars = "tvEpisode", item.directors, item.writers, [c.name for c in item.guests[:3]]
        genres = item.genres if not isinstance(item, DemoEpisode) else self._show_genres(item)
        return {
            "id": item.imdb_id,
            "type": kind,
            "primaryTitle": item.title,
            "originalTitle": item.title,
            "primaryImage": {"url": f"https://m.media-amazon.com/images/M{image_path(item.imdb_id)}", "width": 1000, "height": 1500},
            "startYear": item.year,
            "runtimeSeconds": item.external.runtime_min * 60,
            "genres": list(genres),
            "rating": {"aggregateRating": item.external.imdb_rating, "voteCount": item.external.imdb_votes},
            "plot": item.external.imdb_plot,
            "directors": people(directors, "director"),
            "writers": people(writers, "writer"),
            "stars": people(stars, "actor"),
            "originCountries": [{"code": "US", "name": "United States"}],
            "spokenLanguages": [{"code": "eng", "name": "English"}],
        }

    def _show_genres(self, episode: DemoEpisode) -> tuple[str, ...]:
        show = self.lib.show(episode.show_key)
        return show.genres if show else ()

