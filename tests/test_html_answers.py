"""A fatal message never pastes a raw HTML body: it says what came back (status, type, size).

Where Plex, TMDb or Qdrant was expected, a proxy's error page or a router's
login page can answer. A real loopback HTTP server plays that part here, and
Plex (plexapi), TMDb (httpx) and Qdrant (qdrant-client) are pointed at it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from plex_loader_tui.answers import describe_answer, quotable
from plex_loader_tui.enrich import Enricher, EnrichSettings, TmdbAuthError
from plex_loader_tui.models import SourceItem
from plex_loader_tui.sinks.qdrant import QdrantSettings, QdrantSink
from plex_loader_tui.sinks.qdrant_errors import QdrantUnavailableError
from plex_loader_tui.sources.plex import PlexPageError, PlexSource, PlexUnreachableError
from plex_loader_tui.sources.plex_http import PlexSettings

pytestmark = pytest.mark.timeout(120)

PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title><style>body{font:14px sans-serif}</style>"
    "</head><body><h1>Bad Gateway</h1><p>The proxy server received an invalid response from an upstream "
    "server.</p>" + "<!-- padding -->" * 200 + "</body></html>\n"
).encode()


class Page:
    """What the loopback server answers: one status and body for every request."""

    def __init__(self) -> None:
        self.status = 502
        self.content_type = "text/html; charset=utf-8"
        self.body = PAGE
        #: Answer ``/`` as a Plex server would (so a connect works) and the rest with the page.
        self.plex_root = False


@pytest.fixture
def page_server() -> Iterator[tuple[str, Page]]:
    page = Page()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            if page.plex_root and self.path.split("?")[0] == "/":
                root = b'<MediaContainer friendlyName="Home" machineIdentifier="m1" version="1.40.0"/>'
                self.send_response(200)
                self.send_header("Content-Type", "text/xml;charset=utf-8")
                self.send_header("Content-Length", str(len(root)))
                self.end_headers()
                self.wfile.write(root)
                return
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            self.wfile.write(page.body)

        do_POST = do_PUT = do_GET  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", page
    finally:
        server.shutdown()
        server.server_close()


def _assert_described(message: str, status: int) -> None:
    assert "<" not in message and "Bad Gateway</" not in message and "padding" not in message, message
    assert f"HTTP {status} (text/html, {len(PAGE):,} bytes)" in message, message


# ----------------------------------------------------------------- the describer
def test_an_answer_is_described_and_only_a_short_plain_message_is_quoted() -> None:
    assert describe_answer(502, "text/html; charset=utf-8", PAGE) == f"HTTP 502 (text/html, {len(PAGE):,} bytes)"
    assert describe_answer(400, "application/json", b'{"status": {"error": "Wrong input: bad vector"}}') == (
        "HTTP 400 (application/json, 48 bytes): Wrong input: bad vector")
    assert describe_answer(401, "application/json", b'{"status_message": "Invalid API key"}').endswith(
        ": Invalid API key")
    assert describe_answer(503, None, b"") == "HTTP 503 (no content type, 0 bytes)"
    assert quotable("text/plain", "x" * 500) is None  # long: described, not quoted
    assert quotable("text/plain", "<html>hi</html>") is None
    # Quoted with its control characters shown, never obeyed (plex_loader_tui.printable).
    assert quotable("text/plain", "gone \x1b[31mfishing\x1b[0m\x07") == "gone \\e[31mfishing\\e[0m\\x07"


# ------------------------------------------------------------------------- Plex
@pytest.mark.parametrize("status", [502, 403, 200])
def test_plex_behind_a_proxy_page_is_fatal_with_what_came_back(page_server, status: int) -> None:
    url, page = page_server
    page.status = status
    source = PlexSource(PlexSettings(url=url, token="tok-123456", retries=1))
    with pytest.raises(PlexUnreachableError) as caught:
        source.connect()
    message = str(caught.value)
    assert message.startswith(f"The server at {url} did not answer like a Plex server (/: HTTP {status} "), message
    _assert_described(message, status)


def test_a_plex_page_answered_with_html_fails_that_page_with_what_came_back(page_server) -> None:
    from plex_loader_tui.ports import PageRequest

    url, page = page_server
    page.status, page.plex_root = 500, True
    source = PlexSource(PlexSettings(url=url, token="tok-123456", retries=0))
    source.connect()
    with pytest.raises(PlexPageError) as caught:
        source.fetch_page(PageRequest("1", "Movies", "movie", 0, 5))
    _assert_described(str(caught.value), 500)


def test_the_cli_fatal_line_names_the_answer_not_its_body(page_server, tmp_path: Path) -> None:
    url, page = page_server
    page.status = 403
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLEX_", "TMDB_", "QDRANT_", "LOG_LEVEL"))}
    proc = subprocess.run(
        [sys.executable, "-m", "plex_loader_tui", "--no-ui", "--plex-url", url, "--data-dir", str(tmp_path / "d"),
         "--summary-json", str(tmp_path / "s.json")],
        capture_output=True, text=True, env={**env, "PLEX_TOKEN": "tok-123456"}, timeout=90,
        stdin=subprocess.DEVNULL, cwd=tmp_path,
    )
    assert proc.returncode == 3, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("plex-loader-tui: error: The server at "), line
    _assert_described(line, 403)
    assert "<" not in (tmp_path / "s.json").read_text()


# ------------------------------------------------------------------------- TMDb
async def test_a_tmdb_key_refused_by_an_html_page_is_described(page_server) -> None:
    url, page = page_server
    page.status = 401
    settings = EnrichSettings(tmdb_api_key="k" * 32, tmdb_base_url=url, imdb_base_url=url, attempts=1,
                              backoff_initial=0.0, backoff_max=0.01)
    item = SourceItem("s", "1", "plex://movie/1", "movie", "Heist", tmdb_id="603")
    async with Enricher(settings) as enricher:
        with pytest.raises(TmdbAuthError) as caught:
            await enricher.enrich([item])
    message = str(caught.value)
    assert "TMDb refused the API key" in message
    _assert_described(message, 401)


# ----------------------------------------------------------------------- Qdrant
def test_a_qdrant_url_answering_with_an_html_page_is_described(page_server) -> None:
    url, page = page_server
    sink = QdrantSink(QdrantSettings(url=url), 8, "dense", "sparse")
    with pytest.raises(QdrantUnavailableError) as caught:
        sink.connect()
    message = str(caught.value)
    assert message.startswith(f"Cannot reach Qdrant at {url}: Qdrant answered "), message
    _assert_described(message, 502)
