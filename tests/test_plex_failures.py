"""The Plex source against a failing server: what fails a page, what is fatal, and what its messages say.

The demo server on loopback serves each failure (captive-portal HTML, answers
of the wrong shape, stalls, huge bodies, hostile error bodies); no mocks.
"""

from __future__ import annotations

import re
import socket

import pytest

from plex_loader_tui.demo import DemoLibrary, DemoServer
from plex_loader_tui.demo.hostile import hostile_title
from plex_loader_tui.pipeline.errors import FatalError
from plex_loader_tui.sources.plex import PlexPageError, PlexSettings, PlexSource, PlexUnreachableError
from plex_loader_tui.sources.plex_http import build_session

#: The second page of movies (of 20), whichever way the paging is sent.
SECOND_MOVIE_PAGE = r"X-Plex-Container-Start=20&.*type=1\b"
#: A control character or an escape sequence's introducer.
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def library() -> DemoLibrary:
    return DemoLibrary.generate(seed=11, size=80)


@pytest.fixture(scope="module")
def server(library: DemoLibrary):
    with DemoServer(library) as s:
        yield s


@pytest.fixture
def demo(server: DemoServer):
    server.reset_log()
    server.set_faults("plex")
    yield server
    server.set_faults("plex")


def make_source(server: DemoServer, **kw) -> PlexSource:
    settings = PlexSettings(server.plex_url, server.token, **{"chunk_size": 20, **kw})
    return PlexSource(settings, session=build_session(settings, backoff_factor=0.01))


def second_movie_page(source: PlexSource):
    source.connect()
    plan = source.plan()
    return plan, next(p for p in plan.pages if p.kind == "movie" and p.start == 20)


def assert_inert(message: str) -> None:
    """No body, markup-free of control characters: safe to print anywhere."""
    assert not CONTROL.search(message), repr(message)
    for body_text in ("<html", "Sign in", "pwned", "[bold red]"):
        assert body_text not in message, message


# ----------------------------------------------------- not a Plex listing
def test_a_listing_page_answered_with_html_fails_and_says_what_came_back(demo: DemoServer):
    demo.set_faults("plex", html_paths=SECOND_MOVIE_PAGE)
    with make_source(demo) as source:
        plan, page = second_movie_page(source)
        with pytest.raises(PlexPageError) as err:
            source.fetch_page(page)
        assert PlexPageError in source.retry_on and not isinstance(err.value, FatalError)
        others = [i for p in plan.pages if p != page for i in source.fetch_page(p)]
    message = str(err.value)
    assert "200" in message and "text/html" in message and re.search(r"\d+ bytes", message), message
    assert demo.plex_url in message and "not a Plex" in message
    assert_inert(message)
    assert len(others) == plan.total - page.size


def test_xml_without_a_media_container_fails_the_page(demo: DemoServer):
    demo.set_faults("plex", wrong_shape_paths=SECOND_MOVIE_PAGE)
    with make_source(demo) as source:
        _, page = second_movie_page(source)
        with pytest.raises(PlexPageError, match="no MediaContainer"):
            source.fetch_page(page)


def test_html_while_listing_the_libraries_is_a_failure_not_an_empty_server(demo: DemoServer):
    demo.set_faults("plex", html_paths=r"^/library/sections$")
    with make_source(demo) as source:
        source.connect()
        with pytest.raises(PlexPageError, match="text/html"):
            source.plan()


def test_an_html_page_at_connect_is_not_a_plex_server(demo: DemoServer):
    demo.set_faults("plex", html_paths=r"^/$")
    with make_source(demo) as source, pytest.raises(PlexUnreachableError) as err:
        source.connect()
    assert "text/html" in str(err.value) and demo.plex_url in str(err.value)
    assert_inert(str(err.value))


# ----------------------------------------------------------- stalled pages
@pytest.mark.parametrize(("fault", "says"), [("stall_paths", "no answer within 0.5 s"),
                                             ("stall_body_paths", "stalled")])
def test_a_stalled_page_is_a_page_error_tried_once_per_attempt(demo: DemoServer, fault: str, says: str):
    asked: list[str] = []

    def stalls(target: str) -> bool:  # the server asks once per request it receives
        picked = re.search(SECOND_MOVIE_PAGE, target) is not None
        asked.extend([target] if picked else [])
        return picked

    demo.set_faults("plex", **{fault: stalls}, stall_ms=20_000)
    with make_source(demo, timeout=0.5) as source:
        _, page = second_movie_page(source)
        with pytest.raises(PlexPageError) as err:
            source.fetch_page(page)
    assert not isinstance(err.value, FatalError)
    assert says in str(err.value) and "retries" not in str(err.value)
    # One request: a stall is retried by the load (page by page), not inside the request.
    assert len(asked) == 1


def test_a_stall_while_connecting_is_fatal_and_says_what_happened_not_after_4_retries(demo: DemoServer):
    demo.set_faults("plex", stall_body_paths=r"^/$", stall_ms=20_000)
    with make_source(demo, timeout=0.5, retries=4) as source, pytest.raises(PlexUnreachableError) as err:
        source.connect()
    message = str(err.value)
    assert "stalled" in message and "0.5 s" in message and "4 retries" not in message, message
    assert demo.count("plex", "/") == 1  # the headers went out, so the request is logged


def test_a_refused_connection_counts_the_attempts_it_made():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    settings = PlexSettings(f"http://127.0.0.1:{port}", "token-123456789", retries=2)
    with PlexSource(settings, session=build_session(settings, backoff_factor=0.01)) as source:
        with pytest.raises(PlexUnreachableError) as err:
            source.connect()
    assert "3 attempts" in str(err.value) and "refused" in str(err.value).lower()


# -------------------------------------------------------- bodies in messages
def test_a_plex_400_whose_body_holds_escape_sequences_never_reaches_the_message(demo: DemoServer):
    demo.set_faults("plex", fail_paths=SECOND_MOVIE_PAGE, error_status=400, hostile=True)
    with make_source(demo) as source:
        _, page = second_movie_page(source)
        with pytest.raises(PlexPageError) as err:
            source.fetch_page(page)
    assert "400" in str(err.value) and "text/html" in str(err.value)
    assert_inert(str(err.value))

    demo.set_faults("plex", fail_paths=r"^/$", error_status=400, hostile=True)
    with make_source(demo) as source, pytest.raises(PlexUnreachableError) as fatal:
        source.connect()
    assert "400" in str(fatal.value)
    assert_inert(str(fatal.value))


def test_a_page_bigger_than_the_cap_is_refused_without_reading_it_all(demo: DemoServer):
    demo.set_faults("plex", huge_paths=SECOND_MOVIE_PAGE, huge_bytes=50 * 1024 * 1024)
    with make_source(demo, max_body_bytes=1024 * 1024) as source:
        plan, page = second_movie_page(source)
        with pytest.raises(PlexPageError, match="over the 1 MiB cap"):
            source.fetch_page(page)
        assert len(source.fetch_page(plan.pages[0])) == 20  # the cap leaves normal pages alone


def test_an_answer_announcing_more_than_the_cap_is_refused_before_reading(demo: DemoServer):
    with make_source(demo, max_body_bytes=100_000) as source:
        _, page = second_movie_page(source)  # small answers fit
    with make_source(demo, max_body_bytes=2_000) as source:  # a page of 20 announces ~20 kB
        source.connect()
        with pytest.raises(PlexPageError, match=r"a body of [\d.]+ KiB announced, over the 1.95 KiB cap"):
            source.fetch_page(page)


def test_hostile_titles_come_through_as_data(demo: DemoServer, library: DemoLibrary):
    """Raw ESC and NUL are not XML: dropped like any Plex client does; the rest (C1, CR, LF, markup) is kept."""
    demo.set_faults("plex", hostile=True)
    with make_source(demo) as source:
        plan = source.connect() and source.plan()
        items = {i.rating_key: i for p in plan.pages for i in source.fetch_page(p)}
    assert len(items) == library.size
    for movie in library.movies():
        expected = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", hostile_title(movie.title, movie.rating_key))
        assert items[str(movie.rating_key)].title == expected
    titles = " ".join(i.title for i in items.values())
    for kept in ("[/]", "[@click=app.quit]", "\x9b", "\r", "\n", "]0;pwned"):
        assert kept in titles


# ------------------------------------------------------------ sizing a library
def test_a_failure_while_sizing_is_a_retryable_error_naming_the_server(demo: DemoServer):
    demo.set_faults("plex", fail_paths=r"^/library/sections/\d+/all")
    with make_source(demo, retries=1) as source:
        source.connect()
        with pytest.raises(PlexPageError) as err:
            source.plan()
    assert PlexPageError in PlexSource.retry_on
    assert demo.plex_url in str(err.value) and "500" in str(err.value) and "2 attempts" in str(err.value)
