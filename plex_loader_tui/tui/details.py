"""What the detail views show: a failed unit of work, and a search hit, as plain text.

The text comes from upstream (Plex titles, TMDb overviews, error messages), so
it is handed to widgets as :class:`~rich.text.Text` (never parsed as markup),
with control characters removed and secrets masked.
"""

from __future__ import annotations

import pprint
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..models import LoadItem
from ..ports import PageRequest
from ..printable import printable
from ..search import SearchHit
from ..secrets import mask_in_text
from .plain import plain_line

#: Longest text shown for one unit of work (a stray huge value must not freeze the dialog).
MAX_DETAIL_CHARS = 4000


def clean(text: str) -> str:
    """``text`` with control characters shown (line breaks kept) and secrets masked."""
    return mask_in_text(printable(text, keep_newlines=True))


def work_text(item: Any) -> str:
    """A failed unit of work as a person reads it, never as a Python repr of our own types.

    A listing page reads ``page  section 1 "Movies", items 200–399``; an item
    lists what identifies it (title, type, library, keys, ids, enrichment errors).
    """
    if isinstance(item, PageRequest):
        rows: list[tuple[str, object]] = [("page", item.description), ("kind", item.kind)]
    elif isinstance(item, LoadItem):
        source = item.source
        rows = [
            ("title", item.title), ("type", source.type), ("library", source.library),
            ("rating key", source.rating_key), ("server", source.server_id), ("guid", source.guid),
            ("imdb", source.imdb_id), ("tmdb", source.tmdb_id), ("tvdb", source.tvdb_id),
            ("point id", item.point_id),
            ("enrichment", "; ".join(f"{e.service}: {e.message}" for e in item.enrich_errors)),
        ]
    else:  # anything else a stage may hand over: best effort
        return _cap(clean(pprint.pformat(item, width=90, compact=True)))
    return _cap(clean("\n".join(f"{name:<11}{value}" for name, value in rows if value not in (None, ""))))


def _cap(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + "\n…"


def _value_text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        text = ", ".join(_value_text(v) for v in value)
    elif isinstance(value, dict):
        text = ", ".join(f"{k}: {_value_text(v)}" for k, v in value.items())
    else:
        text = "" if value is None else str(value)
    return text or "–"


#: Payload fields shown first, in this order; the rest follow alphabetically.
_FIRST_FIELDS = ("title", "show_title", "season_number", "episode_number", "year", "type", "library",
                 "genres", "summary", "tagline", "directors", "writers", "actors", "imdb_rating",
                 "tmdb_rating", "content_rating")


def payload_fields(payload: dict[str, object]) -> Iterable[tuple[str, str]]:
    """``(field, value)`` of a hit's payload, the fields a person looks for first."""
    keys = [k for k in _FIRST_FIELDS if k in payload]
    keys += sorted(k for k in payload if k not in _FIRST_FIELDS)
    for key in keys:
        yield key, clean(_value_text(payload[key]))


def hit_text(hit: SearchHit) -> Text:
    """A hit's score, id and payload, aligned; a :class:`Text`, so no value is read as markup."""
    text = Text()
    for name, value in (("score", f"{hit.score:.4f}"), ("point id", clean(str(hit.point_id))), *payload_fields(hit.payload)):
        text.append(f"{name:<16}", style="dim")
        text.append(value)
        text.append("\n")
    text.rstrip()
    return text


class HitDetailScreen(ModalScreen[None]):
    """Everything the collection holds about one search hit (Enter on a hit opens it)."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="dialog.close")]

    def __init__(self, hit: SearchHit) -> None:
        super().__init__(classes="dialog-screen")
        self.hit = hit

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="hit-detail") as box:
            # A Text: a str border title is read as markup.
            box.border_title = plain_line(mask_in_text(self.hit.display_title) or "(untitled)")
            yield Static(hit_text(self.hit), id="hit-fields")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="hit-close")

    @on(Button.Pressed, "#hit-close")
    def action_close(self) -> None:
        self.dismiss(None)
