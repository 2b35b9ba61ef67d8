"""Text from outside made safe to print: control characters shown, never obeyed.

Titles, summaries, error bodies and config values come from people, agents,
proxies and captive portals. Written raw to a terminal, an escape sequence in
one of them can retitle the window, clear the screen or forge a line that
looks like ours; in a log file it hides or rewrites what came before. Every
place that prints or logs such text passes it through :func:`printable`.
Payloads stored in Qdrant keep the exact original text.
"""

from __future__ import annotations

import re

# C0 controls except tab, DEL, and C1 controls (U+0080-U+009F: CSI is U+009B).
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_CONTROLS_BUT_NEWLINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\x1b": "\\e"}


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character written out (``\\e``, ``\\x07``, ``\\n``).

    ``keep_newlines`` keeps line feeds for text that is meant to span lines (a
    traceback in the log file); everything else is one line, so no upstream
    text can start a line of its own.
    """
    pattern = _CONTROLS_BUT_NEWLINE if keep_newlines else _CONTROLS
    return pattern.sub(_shown, str(text))


def one_line(text: object) -> str:
    """``text`` on one line: whitespace runs (newlines included) become one space, controls shown."""
    return printable(" ".join(str(text).split()))
