"""The Plex ingestion stage: plexapi against the demo server on loopback (no mocks)."""

from __future__ import annotations

import math
import socket

import pytest

from plex_loader_tui.demo import DemoLibrary, DemoServer
from plex_loader_tui.demo.library import DemoEpisode, DemoMovie
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.models import SourceItem
from plex_loader_tui.pipeline.errors import FatalError
from plex_loader_tui.sources.plex import (
    PageRequest,
    PlexAuthError,
    PlexLibraryNotFoundError,
    PlexPageError,
    PlexSettings,
    PlexSource,
    PlexUnreachableError,
)
from plex_loader_tui.sources.plex_http import build_session
from plex_loader_tui.sources.plex_xml import parse_external_ids

SIZE = 300


@pytest.fixture(scope="module")
def library() -> DemoLibrary:
    return DemoLibrary.generate(seed=11, size=SIZE)


@pytest.fixture(scope="module")
def server(library: DemoLibrary):
    with DemoServer(library) as s:
        yield s


@pytest.fixture
def demo(server: DemoServer):
    """The shared server with a clean request log and no faults."""
    server.reset_log()
    server.set_faults("plex")
    yield server
    server.set_faults("plex")


def make_source(server: DemoServer, *, fast_backoff: bool = True, **kw) -> PlexSource:
    settings = PlexSettings(server.plex_url, server.token, **kw)
    session = build_session(settings, backoff_factor=0.01) if fast_backoff else None
    return PlexSource(settings, session=session)


def load_all(source: PlexSource) -> list[SourceItem]:
    source.connect()
    plan = source.plan()
    return source.fetch_pages(list(plan.pages))


# ------------------------------------------------------------------ the listing
def test_lists_the_whole_library_and_reports_the_total(demo: DemoServer, library: DemoLibrary):
    with make_source(demo, chunk_size=64) as source:
        info = source.connect()
        plan = source.plan()
        items = source.fetch_pages(list(plan.pages))
    assert info.machine_identifier == demo.machine_identifier and info.name == demo.friendly_name
    assert info.url == demo.plex_url and info.version
    assert plan.total == SIZE == len(items)
    assert [(s.title, s.type, s.total) for s in plan.sections] == [
        ("Movies", "movie", len(library.movies())),
        ("TV Shows", "show", len(library.episodes())),
    ]
    expected = [str(m.rating_key) for m in library.movies()] + [str(e.rating_key) for e in library.episodes()]
    assert [i.rating_key for i in items] == expected
    assert {i.server_id for i in items} == {demo.machine_identifier}
    assert sum(p.weight for p in plan.pages) == plan.total
    assert str(plan.pages[1]) == "Movies items 64–127" == plan.pages[1].title


@pytest.mark.parametrize("page_size", [7, 50, 200, 1000])
def test_exact_request_count_one_request_per_page(demo: DemoServer, library: DemoLibrary, page_size: int):
    with make_source(demo, chunk_size=page_size) as source:
        items = load_all(source)
    n_movies, n_episodes, n_shows = len(library.movies()), len(library.episodes()), len(library.shows())
    pages = math.ceil(n_movies / page_size) + math.ceil(n_episodes / page_size)
    # GET /, /library/sections, one totalSize per section, the shows
    # (for their TMDb ids) and then exactly one request per page.
    expected = 2 + 2 + math.ceil(n_shows / page_size) + pages
    assert len(items) == SIZE
    assert demo.count("plex") == expected
    assert demo.count("plex", "/library/metadata") == 0, "no per-item reloads"
    statuses = {r.status for r in demo.requests}
    assert statuses == {200}


def test_fields_match_the_library(demo: DemoServer, library: DemoLibrary):
    with make_source(demo) as source:
        items = {i.rating_key: i for i in load_all(source)}
    for movie in library.movies():
        item = items[str(movie.rating_key)]
        assert isinstance(movie, DemoMovie)
        ids = movie.visible_ids
        assert (item.type, item.title, item.year, item.summary, item.tagline) == (
            "movie", movie.title, movie.year, movie.summary, movie.tagline
        )
        assert item.guid == movie.guid and item.library == "Movies"
        assert item.content_rating == movie.content_rating
        assert item.genres == movie.genres and item.directors == movie.directors and item.writers == movie.writers
        # A listing carries the top-billed cast (the full cast comes from TMDb).
        assert [(a.name, a.role) for a in item.actors] == [(c.name, c.character) for c in movie.cast[:3]]
        assert (item.imdb_id, item.tmdb_id, item.tvdb_id) == (ids.get("imdb"), ids.get("tmdb"), None)
        assert (item.added_at, item.updated_at) == (movie.added_at, movie.updated_at)
        assert item.show_title is None and item.season_number is None
    for episode in library.episodes():
        item = items[str(episode.rating_key)]
        assert isinstance(episode, DemoEpisode)
        show = library.show(episode.show_key)
        assert show is not None
        assert item.type == "episode" and item.title == episode.title and item.summary == episode.summary
        assert (item.show_title, item.show_rating_key) == (show.title, str(show.rating_key))
        assert (item.season_number, item.episode_number) == (episode.season_index, episode.index)
        ids = episode.visible_ids
        assert (item.imdb_id, item.tmdb_id, item.tvdb_id) == (ids.get("imdb"), ids.get("tmdb"), ids.get("tvdb"))
        # Every show Plex knows a TMDb id for passes it to its episodes.
        assert item.show_tmdb_id == show.visible_ids.get("tmdb")
        assert [a.name for a in item.actors] == [g.name for g in episode.guests[:3]]


def test_unicode_and_xml_special_characters_survive(demo: DemoServer, library: DemoLibrary):
    with make_source(demo) as source:
        items = {i.rating_key: i for i in load_all(source)}
    special = [m for m in (*library.movies(), *library.episodes()) if any(c in m.title for c in "&<>\"'日é")]
    assert len(special) >= 5
    for m in special:
        assert items[str(m.rating_key)].title == m.title
    show_titles = {i.show_title for i in items.values() if i.type == "episode"}
    assert "Tom & Jerry's <Big> Night Shift" in show_titles
    assert any("\n\n" in i.summary for i in items.values()), "paragraph breaks survive XML attributes"
    assert any("ü" in a.name or "é" in a.name for i in items.values() for a in i.actors)


def test_legacy_guids_and_items_without_ids(demo: DemoServer, library: DemoLibrary):
    with make_source(demo) as source:
        items = {i.rating_key: i for i in load_all(source)}
    legacy_imdb = [m for m in library.movies() if m.guid.startswith("com.plexapp.agents.imdb://")]
    legacy_tmdb = [m for m in library.movies() if m.guid.startswith("com.plexapp.agents.themoviedb://")]
    no_ids = [m for m in library.movies() if not m.visible_ids]
    assert legacy_imdb and legacy_tmdb and no_ids
    for m in legacy_imdb:
        assert items[str(m.rating_key)].imdb_id == m.imdb_id and items[str(m.rating_key)].tmdb_id is None
    for m in legacy_tmdb:
        assert items[str(m.rating_key)].tmdb_id == m.tmdb_id and items[str(m.rating_key)].imdb_id is None
    for m in no_ids:
        item = items[str(m.rating_key)]
        assert (item.imdb_id, item.tmdb_id, item.tvdb_id) == (None, None, None) and item.title == m.title
    legacy_eps = [e for e in library.episodes() if e.guid.startswith("com.plexapp.agents.themoviedb://")]
    assert legacy_eps
    for e in legacy_eps:
        show = library.show(e.show_key)
        assert show is not None
        assert items[str(e.rating_key)].show_tmdb_id == show.tmdb_id and items[str(e.rating_key)].tmdb_id is None


@pytest.mark.parametrize(
    ("guid", "children", "expected"),
    [
        ("plex://movie/5d77", ["imdb://tt0137523", "tmdb://550", "tvdb://123"], ("tt0137523", "550", "123", None)),
        ("com.plexapp.agents.imdb://tt0137523?lang=en", [], ("tt0137523", None, None, None)),
        ("com.plexapp.agents.themoviedb://550?lang=en", [], (None, "550", None, None)),
        ("com.plexapp.agents.thetvdb://81189?lang=en", [], (None, None, "81189", None)),
        ("com.plexapp.agents.themoviedb://1399/1/3?lang=en", [], (None, None, None, "1399")),
        ("com.plexapp.agents.thetvdb://81189/1/3?lang=en", [], (None, None, None, None)),
        ("com.plexapp.agents.none://abc?lang=xn", [], (None, None, None, None)),
        ("local://42", ["imdb://not-an-id", "tmdb://x1"], (None, None, None, None)),
        ("", [], (None, None, None, None)),
    ],
)
def test_parse_external_ids(guid, children, expected):
    ids = parse_external_ids(guid, children)
    assert (ids.imdb, ids.tmdb, ids.tvdb, ids.show_tmdb) == expected


# --------------------------------------------------------------------- choosing
def test_libraries_pick_sections_by_name(demo: DemoServer, library: DemoLibrary):
    with make_source(demo, libraries=("movies",)) as source:
        source.connect()
        plan = source.plan()
    assert [s.title for s in plan.sections] == ["Movies"] and plan.total == len(library.movies())
    assert {p.kind for p in plan.pages} == {"movie"}
    with make_source(demo, libraries=("Cartoons",)) as source:
        source.connect()
        with pytest.raises(PlexLibraryNotFoundError) as err:
            source.plan()
    message = str(err.value)
    assert "'Cartoons'" in message and "'Movies'" in message and "'TV Shows'" in message
    assert isinstance(err.value, FatalError)


# ------------------------------------------------------------------------ errors
def test_refused_token_is_fatal_names_the_url_and_hides_the_token(server: DemoServer):
    token = "wrong-token-abcdef123456"
    source = PlexSource(PlexSettings(server.plex_url, token))
    with pytest.raises(PlexAuthError) as err:
        source.connect()
    message = str(err.value)
    assert server.plex_url in message and "401" in message and "token" in message
    assert token not in message and "****3456" in message
    assert token not in repr(source) and token not in repr(source.settings)


def test_token_revoked_mid_run_is_fatal(library: DemoLibrary):
    with DemoServer(library, token="first-token-000") as s:
        source = make_source(s, chunk_size=100)
        source.connect()
        plan = source.plan()
        s.token = "rotated-token-111"
        with pytest.raises(PlexAuthError):
            source.fetch_page(plan.pages[0])


def test_unreachable_server_is_fatal_with_the_url():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    url = f"http://127.0.0.1:{port}"
    source = PlexSource(PlexSettings(url, "token-123456789", retries=1))
    with pytest.raises(PlexUnreachableError) as err:
        source.connect()
    assert url in str(err.value) and "token-123456789" not in str(err.value)


def test_timeouts_after_retries(library: DemoLibrary):
    with DemoServer(library) as s:
        s.set_faults("plex", latency_ms=400)
        source = make_source(s, timeout=0.1, retries=1)
        with pytest.raises(PlexUnreachableError) as err:
            source.connect()
        assert s.plex_url in str(err.value) and "timed out" in str(err.value)


def test_5xx_bursts_are_survived_by_retries(demo: DemoServer, library: DemoLibrary):
    demo.set_faults("plex", error_rate=0.3)
    with make_source(demo, chunk_size=25, retries=8) as source:
        items = load_all(source)
    assert len(items) == SIZE
    statuses = [r.status for r in demo.requests]
    assert statuses.count(500) > 0, "the server did fail some requests"
    assert statuses.count(200) == 2 + 2 + math.ceil(len(library.shows()) / 25) + math.ceil(
        len(library.movies()) / 25
    ) + math.ceil(len(library.episodes()) / 25)


def test_rate_limit_429_is_retried_after_the_wait(demo: DemoServer):
    demo.set_faults("plex", rate_limit=8)
    with make_source(demo, chunk_size=30, libraries=("Movies",)) as source:
        items = load_all(source)
    assert len(items) == len(demo.library.movies())
    statuses = [r.status for r in demo.requests]
    assert 429 in statuses and statuses.count(200) == 2 + 1 + math.ceil(len(items) / 30)


def test_a_malformed_page_fails_alone(demo: DemoServer, library: DemoLibrary):
    demo.set_faults("plex", malformed_paths=r"X-Plex-Container-Start=50&.*type=1\b")
    with make_source(demo, chunk_size=50) as source:
        source.connect()
        plan = source.plan()
        bad = next(p for p in plan.pages if p.kind == "movie" and p.start == 50)
        with pytest.raises(PlexPageError) as err:
            source.fetch_page(bad)
        assert PlexPageError in PlexSource.retry_on and not isinstance(err.value, FatalError)
        good = [item for p in plan.pages if p != bad for item in source.fetch_page(p)]
    assert len(good) == SIZE - bad.size
    assert str(library.movies()[50].rating_key) not in {i.rating_key for i in good}
    assert "Movies items 50–99" == str(bad)


def test_items_deleted_after_plan_shorten_the_last_page(library: DemoLibrary):
    lib = DemoLibrary.generate(seed=11, size=60)
    with DemoServer(lib) as s, make_source(s, chunk_size=20, libraries=("Movies",)) as source:
        source.connect()
        plan = source.plan()
        lib.remove([m.rating_key for m in lib.movies()[:3]])
        items = source.fetch_pages(list(plan.pages))
    assert len(items) == 33
    assert s.count("plex", "/library/metadata") == 0


def test_settings_validate_and_page_request_is_plain_data():
    for bad in (
        dict(url="ftp://plex:32400", token=None),
        dict(url="not a url", token=None),
        dict(url="http://plex:32400", token=None, chunk_size=0),
        dict(url="http://plex:32400", token=None, timeout=0),
        dict(url="http://plex:32400", token=None, retries=-1),
    ):
        with pytest.raises(ConfigError):
            PlexSettings(**bad)  # type: ignore[arg-type]
    page = PageRequest("1", "Movies", "movie", 200, 200)
    assert page == PageRequest("1", "Movies", "movie", 200, 200) and hash(page) and page.weight == 200
    assert str(page) == "Movies items 200–399"


def test_touched_items_come_back_changed(library: DemoLibrary):
    lib = DemoLibrary.generate(seed=11, size=40)
    with DemoServer(lib) as s, make_source(s, chunk_size=40) as source:
        source.connect()
        plan = source.plan()
        before = {i.rating_key: i for i in source.fetch_pages(list(plan.pages))}
        movie, episode = lib.movies()[5], lib.episodes()[2]
        lib.touch([movie.rating_key, episode.rating_key], summary="Rewritten & <new>.")
        after = {i.rating_key: i for i in source.fetch_pages(list(plan.pages))}
    for key in (str(movie.rating_key), str(episode.rating_key)):
        assert after[key].summary == "Rewritten & <new>."
        assert after[key].updated_at > before[key].updated_at  # type: ignore[operator]
    unchanged = set(before) - {str(movie.rating_key), str(episode.rating_key)}
    assert all(after[k] == before[k] for k in unchanged)
