"""The demo server's fault modes for failing services: each is served as documented, seeded and per service.

A real server on loopback and a real HTTP client (requests, no proxies) throughout.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests

from plex_loader_tui.demo import DemoLibrary, DemoServer
from plex_loader_tui.demo.hostile import HOSTILE_LINE, HOSTILE_TEXTS, hostile_title

REPO = Path(__file__).resolve().parents[1]
TMDB_KEY = {"api_key": "demo-tmdb-key"}
PLEX_TOKEN = {"X-Plex-Token": "demo-token"}
SERVICES = ("plex", "tmdb", "imdb")


@pytest.fixture(scope="module")
def library() -> DemoLibrary:
    return DemoLibrary.generate(seed=7, size=60)


@pytest.fixture(scope="module")
def server(library: DemoLibrary):
    with DemoServer(library) as s:
        yield s


@pytest.fixture
def demo(server: DemoServer):
    """The shared server with a clean request log and no faults."""
    server.reset_log()
    for service in SERVICES:
        server.set_faults(service)
    yield server
    for service in SERVICES:
        server.set_faults(service)


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False
    yield session
    session.close()


def movie_page(http: requests.Session, demo: DemoServer, start: int = 0, size: int = 10, **kw) -> requests.Response:
    headers = {**PLEX_TOKEN, "X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(size)}
    return http.get(f"{demo.plex_url}/library/sections/1/all", params={"type": 1, "includeGuids": 1},
                    headers=headers, **kw)


def tmdb_movie(http: requests.Session, demo: DemoServer, library: DemoLibrary, **kw) -> requests.Response:
    movie = next(m for m in library.movies() if m.tmdb_id and m.tmdb_id not in library.tmdb_missing)
    return http.get(f"{demo.tmdb_url}/movie/{movie.tmdb_id}", params=TMDB_KEY, **kw)


def imdb_title(http: requests.Session, demo: DemoServer, library: DemoLibrary, **kw) -> requests.Response:
    movie = next(m for m in library.movies() if m.imdb_id not in library.imdb_missing)
    return http.get(f"{demo.imdb_url}/titles/{movie.imdb_id}", **kw)


# ------------------------------------------------------------ captive portal
def test_html_answers_a_listing_page_with_a_captive_portal_page(demo: DemoServer, http):
    demo.set_faults("plex", html_paths=r"X-Plex-Container-Start=10&.*type=1\b")
    good, portal = movie_page(http, demo, 0), movie_page(http, demo, 10)
    assert ElementTree.fromstring(good.content).tag == "MediaContainer"
    assert portal.status_code == 200 and portal.headers["Content-Type"].startswith("text/html")
    # Well-formed: an XML parser takes it without complaint, which is what makes it dangerous.
    assert ElementTree.fromstring(portal.content).tag == "html"
    assert b"Sign in" in portal.content
    demo.set_faults("tmdb", html_rate=1.0)
    assert tmdb_movie(http, demo, demo.library).headers["Content-Type"].startswith("text/html")


# ------------------------------------------------------------- wrong shape
def test_wrong_shape_answers_parse_but_lack_the_expected_fields(demo: DemoServer, http, library: DemoLibrary):
    for service in SERVICES:
        demo.set_faults(service, wrong_shape_rate=1.0)
    plex = movie_page(http, demo)
    assert plex.status_code == 200 and ElementTree.fromstring(plex.content).tag == "Response"
    tmdb = tmdb_movie(http, demo, library)
    assert tmdb.status_code == 200 and not {"id", "title", "overview"} & tmdb.json().keys()
    imdb = imdb_title(http, demo, library)
    assert imdb.status_code == 200 and not {"id", "primaryTitle", "rating"} & imdb.json().keys()
    batch = http.get(f"{demo.imdb_url}/titles:batchGet", params={"titleIds": library.movies()[0].imdb_id})
    assert batch.status_code == 200 and "titles" not in batch.json()


# --------------------------------------------------------------- huge body
@pytest.mark.parametrize("service", ["tmdb", "imdb"])
def test_huge_bodies_are_streamed_chunked_without_a_length(demo: DemoServer, http, library: DemoLibrary, service):
    demo.set_faults(service, huge_rate=1.0, huge_bytes=100_000)
    ask = tmdb_movie if service == "tmdb" else imdb_title
    small = ask(http, demo, library)
    assert small.status_code == 200 and "Content-Length" not in small.headers
    assert small.headers["Transfer-Encoding"] == "chunked"
    assert len(small.content) == 100_000 and set(json.loads(small.content)["overview"]) == {"x"}

    size = 24 * 1024 * 1024
    demo.set_faults(service, huge_rate=1.0, huge_bytes=size)
    tracemalloc.start()
    try:
        with ask(http, demo, library, stream=True) as response:
            received = sum(len(chunk) for chunk in response.iter_content(256 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size
    # Server and client share this process: neither side held the body.
    assert peak < size // 8, f"peak {peak} bytes while serving {size}"


def test_the_default_huge_body_is_200_mb_and_a_client_may_hang_up_early(demo: DemoServer, http, library):
    demo.set_faults("tmdb", huge_rate=1.0)
    assert demo.faults("tmdb").huge_bytes == 200 * 1024 * 1024
    with tmdb_movie(http, demo, library, stream=True) as response:
        first = next(response.iter_content(1024 * 1024))
    assert first.startswith(b'{"overview":"')
    demo.set_faults("tmdb")
    assert tmdb_movie(http, demo, library).json()["id"]  # the server still serves


# --------------------------------------------------------- long Retry-After
def test_throttle_answers_429_with_a_long_retry_after_in_each_services_shape(demo, http, library):
    for service in SERVICES:
        demo.set_faults(service, throttle_rate=1.0)
    tmdb, imdb, plex = tmdb_movie(http, demo, library), imdb_title(http, demo, library), movie_page(http, demo)
    assert [r.status_code for r in (tmdb, imdb, plex)] == [429, 429, 429]
    assert {r.headers["Retry-After"] for r in (tmdb, imdb, plex)} == {"3600"}
    assert tmdb.json()["status_code"] == 25 and imdb.json()["code"] == 8
    demo.set_faults("imdb", throttle_paths=r"^/titles/", retry_after=120)
    assert imdb_title(http, demo, library).headers["Retry-After"] == "120"
    assert tmdb_movie(http, demo, library).status_code == 429  # tmdb keeps its own faults


# ------------------------------------------------------------------ stalls
def test_a_stall_before_the_headers_times_out_a_client_and_a_short_one_only_delays(demo: DemoServer, http):
    demo.set_faults("plex", stall_paths=r"X-Plex-Container-Start=10\b", stall_ms=20_000)
    with pytest.raises(requests.ReadTimeout):
        movie_page(http, demo, 10, timeout=0.3)
    assert movie_page(http, demo, 0, timeout=5).status_code == 200  # other pages answer
    demo.set_faults("plex", stall_paths=r"X-Plex-Container-Start=10\b", stall_ms=50)
    assert ElementTree.fromstring(movie_page(http, demo, 10, timeout=10).content).tag == "MediaContainer"


def test_a_stall_after_the_headers_leaves_the_body_waiting(demo: DemoServer, http):
    demo.set_faults("plex", stall_body_paths=r"X-Plex-Container-Start=10\b", stall_ms=20_000)
    with movie_page(http, demo, 10, timeout=0.3, stream=True) as response:
        assert response.status_code == 200 and int(response.headers["Content-Length"]) > 0
        with pytest.raises(requests.ConnectionError, match="timed out"):
            response.content  # noqa: B018 - reading the body is the point
    demo.set_faults("plex", stall_body_rate=1.0, stall_ms=50)
    assert ElementTree.fromstring(movie_page(http, demo, 10, timeout=10).content).tag == "MediaContainer"


# -------------------------------------------------------- short totalSize
def test_short_total_under_reports_one_sections_size_but_serves_every_item(demo, http, library):
    demo.set_faults("plex", short_total=10, short_total_paths=r"^/library/sections/1/all")
    root = ElementTree.fromstring(movie_page(http, demo, 0, 50).content)
    assert root.get("totalSize") == "10"
    assert int(root.get("size")) == len(root) == min(50, len(library.movies())) > 10
    shows = ElementTree.fromstring(
        http.get(f"{demo.plex_url}/library/sections/2/all", params={"type": 4, "X-Plex-Container-Size": 0},
                 headers=PLEX_TOKEN).content
    )
    assert shows.get("totalSize") == str(len(library.episodes()))


# ------------------------------------------------------------ hostile text
def test_hostile_puts_markup_and_escape_sequences_into_every_services_text(demo, http, library):
    for service in SERVICES:
        demo.set_faults(service, hostile=True)
    raw = movie_page(http, demo, 0, 10).content
    for fragment in ("[/]", "[bold red]x[/]", "[@click=app.quit]", "\x1b]0;pwned\x07", "\x1b[2J", "\x9b"):
        assert fragment.encode() in raw
    assert b"\x00" in raw and b"&#13;" in raw and b"&#10;" in raw  # CR and LF escaped as XML needs
    # Raw ESC and NUL make the XML invalid, as from a server that does not filter: a client drops them.
    root = ElementTree.fromstring(re.sub(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", b"", raw))
    titles = {el.get("ratingKey"): el.get("title") for el in root}
    for m in library.movies()[:10]:
        assert titles[str(m.rating_key)] == re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "",
                                                   hostile_title(m.title, m.rating_key))
    tmdb = tmdb_movie(http, demo, library).json()
    assert tmdb["overview"].startswith(HOSTILE_LINE) and any(t in tmdb["title"] for t in HOSTILE_TEXTS)
    imdb = imdb_title(http, demo, library).json()
    assert imdb["plot"].startswith(HOSTILE_LINE) and HOSTILE_TEXTS[0] in imdb["genres"]

    demo.set_faults("plex")  # the library itself is untouched
    assert b"pwned" not in movie_page(http, demo, 0, 10).content


def test_a_plex_400_whose_body_holds_escape_sequences(demo: DemoServer, http):
    demo.set_faults("plex", fail_paths=r"type=1\b", error_status=400, hostile=True)
    bad = movie_page(http, demo)
    assert bad.status_code == 400 and bad.headers["Content-Type"].startswith("text/html")
    assert b"\x1b]0;pwned\x07" in bad.content and b"\x1b[2J" in bad.content
    demo.set_faults("tmdb", error_rate=1.0, error_status=502)
    assert tmdb_movie(http, demo, demo.library).status_code == 502


# ------------------------------------------------------------ determinism
def test_rates_are_seeded_the_same_seed_picks_the_same_requests(library: DemoLibrary, http):
    def statuses(seed: int) -> list[int]:
        with DemoServer(library, seed=seed) as s:
            s.set_faults("plex", html_rate=0.3, throttle_rate=0.2)
            return [
                429 if (r := http.get(f"{s.plex_url}/identity")).status_code == 429
                else (1 if r.headers["Content-Type"].startswith("text/html") else 0)
                for _ in range(40)
            ]

    first = statuses(3)
    assert first == statuses(3) and {0, 1, 429} <= set(first) and first != statuses(4)


def test_unknown_or_bad_knobs_are_refused(demo: DemoServer):
    with pytest.raises(TypeError):
        demo.set_faults("plex", stall_seconds=3)
    for bad in ({"html_rate": 1.5}, {"error_status": 200}, {"stall_ms": -1}, {"short_total": -1}):
        with pytest.raises(ValueError):
            demo.set_faults("plex", **bad)


# ----------------------------------------------------------------- the CLI
def test_the_demo_server_command_serves_the_new_faults_as_flags():
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "plex_loader_tui", "demo-server", "--port", "0", "--items", "30", "--seed", "5",
         "--short-total", "7", "--hostile", "--throttle-rate", "0", "--retry-after", "90", "--huge-mb", "1",
         "--log-level", "WARNING"],
        stdout=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        plex_url = [proc.stdout.readline() for _ in range(4)][1].split()[1]
        with requests.Session() as s:
            s.trust_env = False
            answer = s.get(f"{plex_url}/library/sections/1/all", headers=PLEX_TOKEN,
                           params={"X-Plex-Container-Size": 5, "type": 1})
        assert b'totalSize="7"' in answer.content and b"\x1b]0;pwned\x07" in answer.content
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["--html-rate", "1.5"], "--html-rate: must be between 0 and 1, got 1.5"),
        (["--stall-body-rate", "-1"], "--stall-body-rate: must be between 0 and 1, got -1"),
        (["--error-status", "200"], "--error-status: must be an HTTP error status (400..599), got 200"),
        (["--short-total", "-3"], "--short-total: must be at least 0, got -3"),
        (["--stall-ms", "-1"], "--stall-ms: must be at least 0, got -1"),
    ],
)
def test_bad_fault_flags_exit_2_with_one_line(argv, start, tmp_path, capsys):
    from plex_loader_tui.main import main

    code = main(["demo-server", *argv], {"PLEX_LOADER_CONFIG_DIR": str(tmp_path), "PLEX_LOADER_DATA_DIR": str(tmp_path)})
    err = capsys.readouterr().err
    assert code == 2 and err == f"plex-loader-tui: error: {start}\n"
