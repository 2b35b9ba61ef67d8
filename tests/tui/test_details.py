"""The detail views: a failed page or item reads as text, and Enter on a search hit shows its fields.

Upstream text (a title, an overview) can hold markup or terminal controls; the
details show it literally and without control characters.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import wait_for
from textual.widgets import DataTable, Static

from plex_loader_tui.config import RunConfig
from plex_loader_tui.models import LoadItem, SourceItem
from plex_loader_tui.pipeline.errors import DeadLetter
from plex_loader_tui.ports import PageRequest
from plex_loader_tui.search import SearchHit
from plex_loader_tui.tui.app import LoaderApp
from plex_loader_tui.tui.details import HitDetailScreen
from plex_loader_tui.tui.screens import ErrorDetailScreen, SearchScreen

SIZE = (120, 36)
HOSTILE = "[bold red]Vault[/] of the \x1b[31mSeven\x1b[0m Keys"
#: What the details show of it: the markup literally, the escape sequences written out.
SHOWN = "[bold red]Vault[/] of the \\e[31mSeven\\e[0m Keys"


@pytest.fixture
def app(tmp_path: Path) -> LoaderApp:
    config = RunConfig(demo=True, config_dir=tmp_path / "c", data_dir=tmp_path / "d", qdrant_path=tmp_path / "q")
    return LoaderApp(config, autostart=False)


def _shown(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_a_failed_listing_page_reads_as_its_section_and_items(app: LoaderApp) -> None:
    page = PageRequest("1", "Movies", "movie", 200, 200)
    letter = DeadLetter("ingest", page, "PlexPageError: Plex answered (500)", "PlexPageError", 3,
                        title=page.title, at=time.time(), weight=200)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ErrorDetailScreen(letter))
        await pilot.pause()
        item = _shown(app.screen, "#error-item")
        assert 'section 1 "Movies", items 200–399' in item, item
        assert "PageRequest(" not in item and "section_key=" not in item, item


async def test_a_failed_item_reads_as_its_fields_not_a_repr(app: LoaderApp) -> None:
    source = SourceItem("srv1", "5012", "plex://movie/abc", "movie", HOSTILE, library="Movies",
                        year=1973, imdb_id="tt0070334")
    letter = DeadLetter("embed", LoadItem(source, "srv1:1", "hash", "pid-1"), "ValueError: no text", "ValueError",
                        1, title=source.title, at=time.time())
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ErrorDetailScreen(letter))
        await pilot.pause()
        item = _shown(app.screen, "#error-item")
        assert "LoadItem(" not in item and "SourceItem(" not in item, item
        assert "rating key 5012" in item and "imdb       tt0070334" in item, item
        assert SHOWN in item and "\x1b" not in item, item


async def test_enter_on_a_search_hit_shows_its_payload_as_plain_text(app: LoaderApp) -> None:
    payload = {"title": HOSTILE, "type": "movie", "year": 1998, "genres": ["Crime", "[i]Thriller[/i]"],
               "summary": "Seven keys, one vault.", "imdb_id": "tt0000001", "enrich_errors": []}
    hits = [
        SearchHit("p-1", 0.51, "The Heist at Dawn", "movie", 2011, None, {"title": "The Heist at Dawn"}),
        SearchHit("p-2", 0.26, HOSTILE, "movie", 1998, None, payload),
    ]

    async def search(query: str, limit: int) -> list[SearchHit]:
        return hits

    async with app.run_test(size=SIZE) as pilot:
        screen = SearchScreen(search, "media-items")
        app.push_screen(screen)
        await pilot.pause()
        await pilot.press(*"heist", "enter")
        await wait_for(pilot, lambda: len(screen.hits) == 2, what="the hits")
        table = screen.query_one("#search-hits", DataTable)
        table.focus()
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HitDetailScreen), what="the hit's details")
        assert app.screen.hit is hits[1]
        fields = _shown(app.screen, "#hit-fields")
        assert SHOWN in fields, fields
        assert "Crime, [i]Thriller[/i]" in fields and "Seven keys, one vault." in fields, fields
        assert "tt0000001" in fields and "0.2600" in fields and "\x1b" not in fields, fields
        await pilot.press("escape")
        assert app.screen is screen
