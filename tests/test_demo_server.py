"""The demo server: a deterministic library served as Plex, TMDb and IMDb over loopback HTTP.

Every test talks to a real server on 127.0.0.1 with a real HTTP client
(requests with ``trust_env=False``, or plexapi itself).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests

from plex_loader_tui.demo import DemoLibrary, DemoServer, FaultSettings
from plex_loader_tui.demo.library import DemoEpisode, DemoMovie

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def library() -> DemoLibrary:
    return DemoLibrary.generate(seed=7, size=120)


@pytest.fixture(scope="module")
def server(library: DemoLibrary):
    with DemoServer(library) as s:
        yield s


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False
    yield session
    session.close()


@pytest.fixture
def fresh(server: DemoServer):
    """The shared server with a clean request log and no faults."""
    server.reset_log()
    for service in ("plex", "tmdb", "imdb"):
        server.set_faults(service)
    yield server
    for service in ("plex", "tmdb", "imdb"):
        server.set_faults(service)


TMDB_KEY = {"api_key": "demo-tmdb-key"}
PLEX_TOKEN = {"X-Plex-Token": "demo-token"}


# --------------------------------------------------------------------- library
def test_library_is_deterministic_for_seed_and_size():
    a, b = DemoLibrary.generate(seed=3, size=80), DemoLibrary.generate(seed=3, size=80)
    assert a.movies() == b.movies() and a.episodes() == b.episodes() and a.shows() == b.shows()
    c = DemoLibrary.generate(seed=4, size=80)
    assert [m.title for m in c.movies()] != [m.title for m in a.movies()]


@pytest.mark.parametrize("size", [0, 1, 19, 120, 1000])
def test_library_has_exactly_size_playable_items(size: int):
    lib = DemoLibrary.generate(seed=1, size=size)
    assert lib.size == size == len(lib.movies()) + len(lib.episodes())
    if size >= 100:
        assert 0.55 <= len(lib.movies()) / size <= 0.65


def test_library_covers_the_awkward_cases(library: DemoLibrary):
    movies = library.movies()
    guids = [m.guid for m in movies]
    assert any(g.startswith("com.plexapp.agents.imdb://tt") and g.endswith("?lang=en") for g in guids)
    assert any(g.startswith("com.plexapp.agents.themoviedb://") for g in guids)
    assert any(g.startswith("plex://movie/") and m.guids for g, m in zip(guids, movies))
    assert any(not m.visible_ids for m in movies), "some items have no external ids at all"
    assert any(m.summary == "" for m in movies), "some items have no summary"
    assert library.tmdb_missing and library.imdb_missing
    text = " ".join(m.title + m.summary for m in movies) + " ".join(s.title for s in library.shows())
    for ch in ("&", "<", ">", '"', "'", "é", "ü", "日本"):
        assert ch in text, ch
    summaries = [i.summary for i in (*movies, *library.episodes()) if i.summary]
    assert len(set(summaries)) == len(summaries), "every summary tells a different story"
    assert all("\n\n" in s for s in summaries), "summaries have several paragraphs"
    assert len({m.title for m in movies}) == len(movies)


def test_touch_and_remove_change_the_library():
    lib = DemoLibrary.generate(seed=2, size=40)
    movie = lib.movies()[0]
    episode = lib.episodes()[0]
    lib.touch([movie.rating_key], summary="A new summary.")
    changed = lib.get(movie.rating_key)
    assert isinstance(changed, DemoMovie)
    assert changed.summary == "A new summary." and changed.updated_at > movie.updated_at
    lib.touch([episode.rating_key])
    assert lib.get(episode.rating_key).summary != episode.summary  # type: ignore[union-attr]
    lib.remove([movie.rating_key, episode.rating_key])
    assert lib.get(movie.rating_key) is None and lib.size == 38
    show = lib.shows()[0]
    lib.remove([show.rating_key])
    assert not lib.episodes_of(show.rating_key) and lib.show(show.rating_key) is None
    with pytest.raises(KeyError):
        lib.touch([999_999])


# ------------------------------------------------------------------------ TMDb
def test_tmdb_movie_with_credits_and_external_ids(fresh: DemoServer, http, library: DemoLibrary):
    movie = next(m for m in library.movies() if m.tmdb_id not in library.tmdb_missing and m.summary)
    r = http.get(
        f"{fresh.tmdb_url}/movie/{movie.tmdb_id}",
        params={**TMDB_KEY, "append_to_response": "credits,external_ids"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == int(movie.tmdb_id) and body["title"] == movie.title
    assert body["imdb_id"] == movie.imdb_id and body["external_ids"]["imdb_id"] == movie.imdb_id
    assert body["overview"] and body["release_date"] == movie.released
    assert all(set(g) == {"id", "name"} for g in body["genres"])
    assert [g["name"] for g in body["genres"]] == list(movie.genres)
    cast = body["credits"]["cast"]
    assert [(c["name"], c["character"], c["order"]) for c in cast] == [
        (c.name, c.character, i) for i, c in enumerate(movie.cast)
    ]
    jobs = {(c["name"], c["job"], c["department"]) for c in body["credits"]["crew"]}
    assert {(d, "Director", "Directing") for d in movie.directors} <= jobs
    for key in ("tagline", "runtime", "vote_average", "vote_count", "poster_path", "production_companies"):
        assert key in body
    # Without append_to_response the extra keys are absent, as on TMDb.
    plain = http.get(f"{fresh.tmdb_url}/movie/{movie.tmdb_id}", params=TMDB_KEY).json()
    assert "credits" not in plain and "external_ids" not in plain


def test_tmdb_auth_by_query_or_bearer_and_real_error_bodies(fresh: DemoServer, http, library: DemoLibrary):
    movie = library.movies()[0]
    url = f"{fresh.tmdb_url}/movie/{movie.tmdb_id}"
    assert http.get(url, headers={"Authorization": "Bearer demo-tmdb-key"}).status_code == 200
    for params in ({}, {"api_key": "wrong"}):
        r = http.get(url, params=params)
        assert r.status_code == 401
        assert r.json() == {
            "success": False,
            "status_code": 7,
            "status_message": "Invalid API key: You must be granted a valid key.",
        }
    missing = sorted(library.tmdb_missing)[0]
    r = http.get(f"{fresh.tmdb_url}/movie/{missing}", params=TMDB_KEY)
    assert r.status_code == 404 and r.json()["status_code"] == 34 and r.json()["success"] is False
    # The request log never keeps the key in clear text.
    assert all("demo-tmdb-key" not in json.dumps(rec.query) for rec in fresh.requests)


def test_tmdb_episodes_singly_and_appended_to_the_show(fresh: DemoServer, http, library: DemoLibrary):
    show = next(s for s in library.shows() if s.guids and s.tmdb_id not in library.tmdb_missing)
    episodes = library.episodes_of(show.rating_key)
    one = episodes[0]
    r = http.get(f"{fresh.tmdb_url}/tv/{show.tmdb_id}/season/{one.season_index}/episode/{one.index}", params=TMDB_KEY)
    body = r.json()
    assert r.status_code == 200 and body["name"] == one.title and body["id"] == int(one.tmdb_id)
    assert (body["season_number"], body["episode_number"]) == (one.season_index, one.index)
    assert {c["name"] for c in body["guest_stars"]} == {g.name for g in one.guests}
    assert {"overview", "air_date", "crew", "vote_average"} <= set(body)

    keys = [f"season/{e.season_index}/episode/{e.index}" for e in episodes] + ["season/9/episode/99"]
    r = http.get(f"{fresh.tmdb_url}/tv/{show.tmdb_id}", params={**TMDB_KEY, "append_to_response": ",".join(keys[:20])})
    body = r.json()
    assert body["name"] == show.title and body["number_of_episodes"] == len(episodes)
    for e in episodes[:20]:
        assert body[f"season/{e.season_index}/episode/{e.index}"]["name"] == e.title
    assert "season/9/episode/99" not in body, "an appended episode that does not exist is left out"

    too_many = ",".join(f"season/1/episode/{i}" for i in range(1, 22))
    r = http.get(f"{fresh.tmdb_url}/tv/{show.tmdb_id}", params={**TMDB_KEY, "append_to_response": too_many})
    assert r.status_code == 400 and r.json()["success"] is False


def test_tmdb_rate_limit_answers_429_with_retry_after(fresh: DemoServer, http, library: DemoLibrary):
    fresh.set_faults("tmdb", rate_limit=3)
    url = f"{fresh.tmdb_url}/movie/{library.movies()[0].tmdb_id}"
    statuses = [http.get(url, params=TMDB_KEY) for _ in range(6)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, "a burst above the limit is refused"
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].json()["status_code"] == 25
    assert fresh.count("tmdb", "/movie") == 6


# ------------------------------------------------------------------------ IMDb
def test_imdb_title_and_batch_get(fresh: DemoServer, http, library: DemoLibrary):
    movie = next(m for m in library.movies() if m.imdb_id not in library.imdb_missing)
    body = http.get(f"{fresh.imdb_url}/titles/{movie.imdb_id}").json()
    assert body["id"] == movie.imdb_id and body["type"] == "movie" and body["primaryTitle"] == movie.title
    assert body["plot"] and set(body["rating"]) == {"aggregateRating", "voteCount"}
    assert body["genres"] == list(movie.genres) and body["startYear"] == movie.year
    assert [d["displayName"] for d in body["directors"]] == list(movie.directors)

    episode = library.episodes()[0]
    ids = [m.imdb_id for m in library.movies()[:3]] + [episode.imdb_id, "tt0000001"]
    r = http.get(f"{fresh.imdb_url}/titles:batchGet", params=[("titleIds", i) for i in ids])
    titles = r.json()["titles"]
    known = [i for i in ids if library.imdb_title(i) is not None]
    assert [t["id"] for t in titles] == known, "unknown ids are left out"
    assert next(t for t in titles if t["id"] == episode.imdb_id)["type"] == "tvEpisode"

    r = http.get(f"{fresh.imdb_url}/titles:batchGet", params=[("titleIds", m.imdb_id) for m in library.movies()[:6]])
    assert r.status_code == 400
    missing = sorted(library.imdb_missing)[0]
    assert http.get(f"{fresh.imdb_url}/titles/{missing}").status_code == 404
    assert fresh.count("imdb", "/titles:batchGet") == 2 and fresh.count("imdb", "/imdb/titles/") == 2


# ------------------------------------------------------------------------ Plex
def test_plex_requires_the_token_as_header_or_query(fresh: DemoServer, http):
    assert http.get(f"{fresh.plex_url}/library/sections").status_code == 401
    assert http.get(f"{fresh.plex_url}/library/sections", headers={"X-Plex-Token": "nope"}).status_code == 401
    assert http.get(f"{fresh.plex_url}/library/sections", headers=PLEX_TOKEN).status_code == 200
    assert http.get(f"{fresh.plex_url}/library/sections", params=PLEX_TOKEN).status_code == 200
    identity = ElementTree.fromstring(http.get(f"{fresh.plex_url}/identity").content)
    assert identity.get("machineIdentifier") == fresh.machine_identifier


def test_plex_section_listing_pages_by_header_or_query(fresh: DemoServer, http, library: DemoLibrary):
    url = f"{fresh.plex_url}/library/sections/1/all"
    by_header = http.get(
        url,
        params={"type": 1, "includeGuids": 1},
        headers={**PLEX_TOKEN, "X-Plex-Container-Start": "10", "X-Plex-Container-Size": "5"},
    )
    by_query = http.get(
        url,
        params={"type": 1, "includeGuids": 1, "X-Plex-Container-Start": 10, "X-Plex-Container-Size": 5},
        headers=PLEX_TOKEN,
    )
    assert by_header.content == by_query.content
    assert by_header.headers["Content-Type"] == "text/xml;charset=utf-8"
    root = ElementTree.fromstring(by_header.content)
    assert (root.get("size"), root.get("totalSize"), root.get("offset")) == ("5", str(len(library.movies())), "10")
    keys = [el.get("ratingKey") for el in root]
    assert keys == [str(m.rating_key) for m in library.movies()[10:15]]
    total_only = ElementTree.fromstring(
        http.get(url, params={"X-Plex-Container-Size": 0, "X-Plex-Container-Start": 0}, headers=PLEX_TOKEN).content
    )
    assert total_only.get("totalSize") == str(len(library.movies())) and len(total_only) == 0
    eps = ElementTree.fromstring(
        http.get(f"{fresh.plex_url}/library/sections/2/all", params={"type": 4}, headers=PLEX_TOKEN).content
    )
    assert eps.get("totalSize") == str(len(library.episodes()))
    assert {el.get("type") for el in eps} == {"episode"} and not list(eps.iter("Guid")), "no Guid without includeGuids"


def test_plex_xml_round_trips_special_characters(fresh: DemoServer, http, library: DemoLibrary):
    special = [m for m in library.movies() if any(c in m.title for c in "&<>\"'日")]
    assert len(special) >= 4
    keys = ",".join(str(m.rating_key) for m in special)
    root = ElementTree.fromstring(http.get(f"{fresh.plex_url}/library/metadata/{keys}", headers=PLEX_TOKEN).content)
    by_key = {el.get("ratingKey"): el for el in root}
    for m in special:
        el = by_key[str(m.rating_key)]
        # Like Plex, an empty summary is left out rather than sent as "".
        assert el.get("title") == m.title and (el.get("summary") or "") == m.summary
        assert [r.get("tag") for r in el.iter("Role")] == [c.name for c in m.cast], "detail has the full cast"


def test_plexapi_browses_the_demo_server(fresh: DemoServer, library: DemoLibrary):
    from plexapi.server import PlexServer

    session = requests.Session()
    session.trust_env = False
    plex = PlexServer(fresh.plex_url, fresh.token, session=session)
    assert plex.machineIdentifier == fresh.machine_identifier and plex.friendlyName
    movies, shows = plex.library.sections()
    assert (movies.type, movies.title, shows.type, shows.title) == ("movie", "Movies", "show", "TV Shows")
    assert movies.totalSize == len(library.movies())
    page = movies.search(container_start=0, container_size=25, maxresults=25)
    assert [m.title for m in page] == [m.title for m in library.movies()[:25]]
    show = shows.search(maxresults=1)[0]
    demo_show = library.shows()[0]
    assert show.title == demo_show.title
    assert [s.index for s in show.seasons()] == [s.index for s in library.seasons_of(demo_show.rating_key)]
    episodes = show.episodes()
    assert [e.title for e in episodes] == [e.title for e in library.episodes_of(demo_show.rating_key)]
    assert all(e.grandparentTitle == demo_show.title for e in episodes)
    fetched = plex.fetchItems([library.movies()[0].rating_key, library.episodes()[0].rating_key])
    assert [type(i).__name__ for i in fetched] == ["Movie", "Episode"]


# ---------------------------------------------------------------------- faults
def test_fault_knobs_error_rate_malformed_and_fail_paths(fresh: DemoServer, http, library: DemoLibrary):
    fresh.set_faults("plex", error_rate=1.0)
    assert http.get(f"{fresh.plex_url}/library/sections", headers=PLEX_TOKEN).status_code == 500
    fresh.set_faults("plex", malformed_rate=1.0)
    r = http.get(f"{fresh.plex_url}/library/sections", headers=PLEX_TOKEN)
    assert r.status_code == 200
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(r.content)
    fresh.set_faults("imdb", malformed_rate=1.0)
    with pytest.raises(json.JSONDecodeError):
        http.get(f"{fresh.imdb_url}/titles/{library.movies()[0].imdb_id}").json()
    fresh.set_faults("tmdb", fail_paths=r"^/tv/")
    movie, show = library.movies()[0], library.shows()[0]
    assert http.get(f"{fresh.tmdb_url}/movie/{movie.tmdb_id}", params=TMDB_KEY).status_code == 200
    failing = http.get(f"{fresh.tmdb_url}/tv/{show.tmdb_id}", params=TMDB_KEY)
    assert failing.status_code == 503 and failing.json()["success"] is False
    # A page picked by its paging headers, whichever way the client sends them.
    fresh.set_faults("plex", malformed_paths=r"X-Plex-Container-Start=5\b")
    url = f"{fresh.plex_url}/library/sections/1/all"
    ok = http.get(url, headers={**PLEX_TOKEN, "X-Plex-Container-Start": "0", "X-Plex-Container-Size": "5"})
    bad = http.get(url, headers={**PLEX_TOKEN, "X-Plex-Container-Start": "5", "X-Plex-Container-Size": "5"})
    ElementTree.fromstring(ok.content)
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(bad.content)
    with pytest.raises(ValueError):
        FaultSettings(error_rate=2.0)
    with pytest.raises(ValueError):
        fresh.set_faults("ftp", latency_ms=1)  # type: ignore[arg-type]


def test_request_log_counts_by_service_and_prefix(fresh: DemoServer, http, library: DemoLibrary):
    http.get(f"{fresh.plex_url}/identity")
    http.get(f"{fresh.tmdb_url}/movie/{library.movies()[0].tmdb_id}", params=TMDB_KEY)
    http.get(f"{fresh.imdb_url}/titles/{library.movies()[0].imdb_id}")
    assert fresh.count() == 3
    assert fresh.count("tmdb") == fresh.count("tmdb", "/movie/") == fresh.count("tmdb", "/tmdb/3/movie") == 1
    assert fresh.count("plex", "/identity") == 1 and fresh.count("imdb", "/tv") == 0
    rec = fresh.requests[1]
    assert (rec.service, rec.method, rec.path, rec.status) == ("tmdb", "GET", f"/movie/{library.movies()[0].tmdb_id}", 200)
    fresh.reset_log()
    assert fresh.count() == 0 and fresh.requests == []


def test_many_concurrent_keep_alive_connections(fresh: DemoServer, library: DemoLibrary):
    def client(n: int) -> list[int]:
        with requests.Session() as s:
            s.trust_env = False
            codes = []
            for i in range(10):
                m = library.movies()[(n + i) % len(library.movies())]
                codes.append(s.get(f"{fresh.tmdb_url}/movie/{m.tmdb_id}", params=TMDB_KEY).status_code)
                codes.append(s.get(f"{fresh.plex_url}/library/metadata/{m.rating_key}", headers=PLEX_TOKEN).status_code)
            return codes

    with ThreadPoolExecutor(64) as pool:
        results = [c for codes in pool.map(client, range(64)) for c in codes]
    expected = [404 if library.movies()[(n + i) % len(library.movies())].tmdb_id in library.tmdb_missing else 200
                for n in range(64) for i in range(10)]
    assert results.count(200) == expected.count(200) + 640 and len(results) == 1280
    assert fresh.count() == 1280


def test_server_without_credentials_and_repr_masks_them(library: DemoLibrary, http):
    with DemoServer(library, token=None, tmdb_api_key=None) as open_server:
        assert http.get(f"{open_server.plex_url}/library/sections").status_code == 200
        assert http.get(f"{open_server.tmdb_url}/movie/{library.movies()[0].tmdb_id}").status_code == 200
    with DemoServer(library, token="secret-plex-token-xyz") as s:
        assert "secret-plex-token-xyz" not in repr(s)
    with pytest.raises(RuntimeError):
        _ = s.url  # stopped


def test_the_demo_server_command_serves_until_sigint():
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "plex_loader_tui", "demo-server", "--port", "0", "--items", "30", "--seed", "5",
         "--log-level", "WARNING"],
        stdout=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        assert lines[0].startswith("Demo server: 30 items")
        plex_url = lines[1].split()[1]
        assert lines[2].split()[1] == plex_url + "/tmdb/3" and lines[3].split()[1] == plex_url + "/imdb"
        with requests.Session() as s:
            s.trust_env = False
            root = ElementTree.fromstring(
                s.get(f"{plex_url}/library/sections/1/all", headers=PLEX_TOKEN, params={"X-Plex-Container-Size": 0}).content
            )
        assert root.get("totalSize") == "18"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_episode_records_match_their_show(library: DemoLibrary):
    for e in library.episodes():
        assert isinstance(e, DemoEpisode)
        show = library.show(e.show_key)
        assert show is not None and library.season(e.season_key).show_key == show.rating_key  # type: ignore[union-attr]


def test_faults_from_the_constructor_apply_per_service(library: DemoLibrary, http):
    faults = {"imdb": FaultSettings(error_rate=1.0)}
    with DemoServer(library, faults=faults) as s:
        assert http.get(f"{s.imdb_url}/titles/{library.movies()[0].imdb_id}").status_code == 503
        assert http.get(f"{s.plex_url}/identity").status_code == 200
        assert s.faults("imdb").error_rate == 1.0 and s.faults("plex").error_rate == 0.0


def test_the_request_log_keeps_recent_records_and_exact_counts(monkeypatch):
    # A --demo load serves from the loader's process: the log must not grow with every request.
    from plex_loader_tui.demo import request_log

    monkeypatch.setattr(request_log, "KEPT_RECORDS", 5)
    log = request_log.RequestLog()
    for i in range(12):
        log.add(request_log.RequestRecord("tmdb" if i % 2 else "plex", "GET", f"/movie/{i}", {}, 200, float(i)))
    assert [r.at for r in log.snapshot()] == [7.0, 8.0, 9.0, 10.0, 11.0]
    assert log.count(None, None) == 12 and log.count("tmdb", "/movie") == 6 and log.count("plex", "/movie/1") == 1
