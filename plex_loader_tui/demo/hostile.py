"""Hostile text for the demo server's ``hostile`` fault: data that looks like markup or terminal control.

Titles, summaries and tags are typed by people and agents, and error bodies
come from whatever proxy answered. With ``hostile`` set, a service's answers
carry the strings below: Rich/Textual markup that would style or act
(``[bold red]``, ``[@click=app.quit]``, ``[link=…]``, a bare ``[/]`` that
crashes a markup parser), escape sequences that retitle a terminal or clear
it, NUL, the C1 control CSI (``\\x9b``), and carriage returns and line feeds
that forge a line of our own. A client must keep them as data: store them
as sent, show them inert.

Which string an item gets is fixed by its rating key (or, in JSON, by its
text), so a test can compute what it will see.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import Any

from .items import Credit, DemoEpisode, DemoItem, DemoMovie, DemoShow

#: One hostile fragment per kind of trouble; titles get one each, in turn.
HOSTILE_TEXTS: tuple[str, ...] = (
    "[/]",
    "[bold red]x[/]",
    "[@click=app.quit]",
    "[link=http://x]y[/link]",
    "\x1b]0;pwned\x07",
    "\x1b[2J",
    "nul\x00byte",
    "csi\x9b31m",
    "carriage\rreturn",
    "line\nfeed",
)
#: All of them at once, plus a line that pretends to be ours: summaries and error bodies.
HOSTILE_LINE = (
    "[bold red]x[/] [@click=app.quit] [link=http://x]y[/link] \x1b]0;pwned\x07\x1b[2J \x00 \x9b31m [/]"
    "\r\nplex-loader-tui: error: this line came from upstream"
)

#: JSON keys whose text is a name or title (one fragment appended) or a body (the whole line prepended).
_NAME_KEYS = frozenset(
    {"title", "original_title", "name", "original_name", "tagline", "character",
     "primaryTitle", "originalTitle", "displayName"}
)
_BODY_KEYS = frozenset({"overview", "plot", "status_message", "message"})


def hostile_text(key: int) -> str:
    """The fragment the item with rating key ``key`` carries."""
    return HOSTILE_TEXTS[key % len(HOSTILE_TEXTS)]


def hostile_title(title: str, key: int) -> str:
    """``title`` as the hostile fault serves it for the item with rating key ``key``."""
    return f"{title} {hostile_text(key)}"


def hostile_item(item: DemoItem) -> DemoItem:
    """``item`` with hostile text in its title, summary, tagline and tags (seasons unchanged)."""
    k = item.rating_key
    if isinstance(item, (DemoMovie, DemoShow)):
        return replace(
            item,
            title=hostile_title(item.title, k),
            summary=f"{HOSTILE_LINE} {item.summary}",
            tagline=f"{item.tagline} {hostile_text(k + 1)}",
            genres=(*item.genres, hostile_text(k + 2)),
            cast=(*item.cast, Credit(hostile_text(k + 3), hostile_text(k + 4))),
        )
    if isinstance(item, DemoEpisode):
        return replace(
            item,
            title=hostile_title(item.title, k),
            summary=f"{HOSTILE_LINE} {item.summary}",
            directors=(*item.directors, hostile_text(k + 2)),
            guests=(*item.guests, Credit(hostile_text(k + 3), hostile_text(k + 4))),
        )
    return item


def hostile_json(value: Any, key: str | None = None) -> Any:
    """A TMDb or IMDb JSON answer with hostile text in its titles, names, overviews and genres."""
    if isinstance(value, dict):
        return {k: hostile_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [hostile_json(v, key) for v in value]
        if key == "genres" and all(isinstance(v, str) for v in value):
            items.append(HOSTILE_TEXTS[0])
        return items
    if isinstance(value, str) and value:
        if key in _NAME_KEYS:
            return f"{value} {HOSTILE_TEXTS[zlib.crc32(value.encode()) % len(HOSTILE_TEXTS)]}"
        if key in _BODY_KEYS:
            return f"{HOSTILE_LINE} {value}"
    return value
