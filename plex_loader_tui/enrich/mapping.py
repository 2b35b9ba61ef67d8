"""TMDb and IMDb JSON to :class:`TmdbInfo` / :class:`ImdbInfo`.

The parsers are forgiving: a field that is missing or of the wrong type is
left empty rather than failing the item, because one odd record in a large
catalogue should not cost an item its other metadata.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from plex_loader_tui.models import ImdbInfo, Person, TmdbInfo

#: Crew jobs that count as writing credits (TMDb files them under department "Writing").
WRITER_JOBS = frozenset({"writer", "screenplay", "teleplay", "story", "novel", "author", "characters"})


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _opt_text(value: Any) -> str | None:
    text = _text(value)
    return text or None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))


def _genres(value: Any) -> tuple[str, ...]:
    """TMDb genres are ``[{id, name}]``; IMDb ones plain strings."""
    if not isinstance(value, list):
        return ()
    return _unique(_text(g.get("name")) if isinstance(g, Mapping) else _text(g) for g in value)


def _cast(entries: Iterable[Mapping[str, Any]], limit: int) -> tuple[Person, ...]:
    ordered = sorted(
        enumerate(entries),
        # TMDb's ``order`` is billing order; keep the list order where it is missing.
        key=lambda pair: (_int(pair[1].get("order")) if _int(pair[1].get("order")) is not None else 10**6, pair[0]),
    )
    people: list[Person] = []
    seen: set[str] = set()
    for _, entry in ordered:
        name = _text(entry.get("name"))
        if not name or name in seen:
            continue
        seen.add(name)
        people.append(Person(name=name, role=_opt_text(entry.get("character"))))
        if len(people) >= limit:
            break
    return tuple(people)


def _crew(entries: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    directors: list[str] = []
    writers: list[str] = []
    for entry in entries:
        name = _text(entry.get("name"))
        job = _text(entry.get("job")).lower()
        if job == "director":
            directors.append(name)
        elif job in WRITER_JOBS or _text(entry.get("department")).lower() == "writing":
            writers.append(name)
    return _unique(directors), _unique(writers)


def tmdb_imdb_id(data: Mapping[str, Any]) -> str | None:
    """The IMDb id a TMDb record knows (``imdb_id`` or ``external_ids.imdb_id``)."""
    external = data.get("external_ids")
    candidates = [data.get("imdb_id")]
    if isinstance(external, Mapping):
        candidates.append(external.get("imdb_id"))
    for value in candidates:
        text = _text(value)
        if text.startswith("tt"):
            return text
    return None


def tmdb_movie_info(data: Mapping[str, Any], *, cast_limit: int = 10) -> TmdbInfo:
    """A TMDb ``/movie/{id}?append_to_response=credits,external_ids`` body."""
    credits = data.get("credits") if isinstance(data.get("credits"), Mapping) else {}
    directors, writers = _crew(_dicts(credits.get("crew")))
    return TmdbInfo(
        tmdb_id=str(data.get("id", "")),
        overview=_text(data.get("overview")),
        tagline=_text(data.get("tagline")),
        genres=_genres(data.get("genres")),
        release_date=_opt_text(data.get("release_date")),
        runtime=_int(data.get("runtime")) or None,
        vote_average=_float(data.get("vote_average")),
        cast=_cast(_dicts(credits.get("cast")), cast_limit),
        directors=directors,
        writers=writers,
    )


def tmdb_episode_info(
    episode: Mapping[str, Any] | None,
    show: Mapping[str, Any] | None,
    *,
    tmdb_id: str,
    cast_limit: int = 10,
) -> TmdbInfo:
    """An episode (``/tv/{id}/season/{s}/episode/{e}``) in the context of its show (``/tv/{id}``).

    The episode gives overview, air date, runtime, rating, guest stars and
    crew; the show gives genres and tagline, and its overview stands in when
    the episode has none. Either may be missing.
    """
    episode = episode or {}
    show = show or {}
    show_credits = show.get("credits") if isinstance(show.get("credits"), Mapping) else {}
    directors, writers = _crew(_dicts(episode.get("crew")))
    # The show's regular cast first (they are in every episode), then guests.
    regulars = _cast(_dicts(show_credits.get("cast")), cast_limit)
    guests = _cast(_dicts(episode.get("guest_stars")), cast_limit)
    named = {p.name: p for p in reversed((*regulars, *guests))}  # first mention wins
    cast = tuple(named[name] for name in dict.fromkeys(p.name for p in (*regulars, *guests)))[:cast_limit]
    run_times = show.get("episode_run_time")
    show_runtime = _int(run_times[0]) if isinstance(run_times, list) and run_times else None
    return TmdbInfo(
        tmdb_id=str(episode.get("id") or tmdb_id),
        overview=_text(episode.get("overview")) or _text(show.get("overview")),
        tagline=_text(show.get("tagline")),
        genres=_genres(show.get("genres")),
        release_date=_opt_text(episode.get("air_date")),
        runtime=_int(episode.get("runtime")) or show_runtime or None,
        vote_average=_float(episode.get("vote_average")),
        cast=cast,
        directors=directors,
        writers=writers,
    )


def imdb_title_info(data: Mapping[str, Any]) -> ImdbInfo:
    """An imdbapi.dev title (``/titles/{tt}`` or one entry of ``titles:batchGet``)."""
    rating = data.get("rating") if isinstance(data.get("rating"), Mapping) else {}
    return ImdbInfo(
        imdb_id=_text(data.get("id")),
        plot=_text(data.get("plot")),
        rating=_float(rating.get("aggregateRating")),
        vote_count=_int(rating.get("voteCount")),
        genres=_genres(data.get("genres")),
    )
