"""Text from outside as the dashboard shows it: plain, never markup, never terminal control.

Titles, summaries, error messages, search queries, config values and file
paths come from people, agents, proxies and captive portals. Textual reads a
``str`` handed to a widget (``Static.update``, a ``DataTable`` cell, a border
title, a notification) as markup: ``[/]`` crashes the app, ``[bold red]``
styles and ``[@click=app.quit]`` acts. And an escape sequence inside a
:class:`~rich.text.Text` reaches the terminal as it is. So every such string
goes through :func:`plain`, :func:`plain_value` or :func:`plain_line`, which
return a :class:`~rich.text.Text` (never parsed) with every control character
written out (``\\e``, ``\\x07``) by :func:`~plex_loader_tui.printable.printable`.
"""

from __future__ import annotations

from rich.style import StyleType
from rich.text import Text

from ..printable import one_line, printable

#: What ends a line that :func:`plain_line` had to cut.
ELLIPSIS = "…"


def plain(text: object, style: StyleType = "") -> Text:
    """``text`` as plain :class:`Text`: line breaks kept, every other control character shown."""
    return Text(printable(text, keep_newlines=True), style=style)


def plain_value(text: object, style: StyleType = "") -> Text:
    """A value (a path, a URL, a name) exactly as written, on one line: a line break shows as ``\\n``."""
    return Text(printable(text), style=style)


def plain_line(text: object, width: int | None = None, style: StyleType = "") -> Text:
    """Prose (a title, an error) on one line: whitespace runs become one space, controls shown.

    Cut to ``width`` characters with an ellipsis. For table cells, borders and
    status lines, where an upstream line break must not start a line of its own.
    """
    flat = one_line(text)
    if width is not None and len(flat) > width:
        flat = flat[: max(0, width - len(ELLIPSIS))] + ELLIPSIS
    return Text(flat, style=style)
