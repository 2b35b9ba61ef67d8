"""The key help screen (``?`` or F1): every key of the dashboard and what it does.

The rows are made from the bindings themselves (each one's keys, after the
operator's key map, and its tooltip), so a remapped key shows its new key and
a new binding shows up without anyone editing a list.

Why a screen of our own rather than Textual's keys panel (``HelpPanel``): that
panel lists only the focused widget's keys and the app's, docks a third of an
80-column terminal, shows each twin of a key pair as an odd row of its own, and
Escape does not close it. This screen lists every place's keys in sections,
fits any terminal (it scrolls), and closes with Escape, ``?``, F1 or ``q``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

from ..printable import printable
from .screens import SearchScreen, dialog_body, dialog_buttons
from .widgets import ErrorLog, StagePanel


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One action and the keys that trigger it (as shown to people)."""

    keys: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class KeySection:
    """The keys that work in one place (the dashboard, a focused stage panel, …)."""

    title: str
    rows: tuple[KeyRow, ...]


def key_rows(
    bindings: Sequence[BindingType], keymap: Mapping[str, str], display: Callable[[Binding], str]
) -> tuple[KeyRow, ...]:
    """One row per action of ``bindings``, in the order they are declared.

    ``keymap`` (binding id → comma-separated keys) replaces a binding's own keys,
    as Textual does when it applies the key map; ``display`` turns one key into
    what people read (``App.get_key_display``). Bindings of the same action
    (``q`` and ``ctrl+q``) share a row; the description is the first tooltip, else
    the first description.
    """
    keys_by_action: dict[str, list[str]] = {}
    description_by_action: dict[str, str] = {}
    for item in bindings:
        binding = item if isinstance(item, Binding) else Binding(*item)
        remapped = binding.id is not None and binding.id in keymap
        keys = (keymap[binding.id] if remapped and binding.id is not None else binding.key).split(",")
        shown = keys_by_action.setdefault(binding.action, [])
        for key in keys:
            key = key.strip()
            label = display(binding.with_key(key, key_display=None if remapped else binding.key_display))
            if key and label not in shown:
                shown.append(label)
        if not description_by_action.get(binding.action):
            description_by_action[binding.action] = binding.tooltip or binding.description
    return tuple(
        KeyRow(tuple(keys), description_by_action[action]) for action, keys in keys_by_action.items()
    )


def dashboard_key_sections(
    app_bindings: Sequence[BindingType], keymap: Mapping[str, str], display: Callable[[Binding], str]
) -> list[KeySection]:
    """The dashboard's keys by where they work: anywhere, on a focused stage panel, in the error log, in search."""
    # Textual's own Tab / Shift+Tab move the focus between the panels.
    focus = [b for b in Screen.BINDINGS if isinstance(b, Binding) and b.action.startswith("app.focus")]
    return [
        KeySection("Dashboard", key_rows([*app_bindings, *focus], keymap, display)),
        KeySection("Focused stage panel", key_rows(StagePanel.BINDINGS, keymap, display)),
        KeySection("Error log", key_rows(ErrorLog.BINDINGS, keymap, display)),
        KeySection("Search screen", key_rows(SearchScreen.BINDINGS, keymap, display)),
    ]


def render_sections(sections: Sequence[KeySection]) -> Text:
    """The sections as aligned text: a bold title, then ``keys  description`` rows.

    The keys may come from the operator's key map: their control characters are shown, not sent.
    """
    width = max((len(_keys(row)) for section in sections for row in section.rows), default=0)
    text = Text()
    for index, section in enumerate(sections):
        if index:
            text.append("\n\n")
        text.append(section.title, "bold")
        for row in section.rows:
            keys = _keys(row)
            text.append("\n  ")
            text.append(keys.ljust(width), "bold")
            text.append("  ")
            text.append(printable(row.description))
    return text


def _keys(row: KeyRow) -> str:
    return printable("  ".join(row.keys))


class KeyHelpScreen(ModalScreen[None]):
    """Every key, by where it works; Escape, ``?``, F1 or ``q`` closes it."""

    BINDINGS = [Binding("escape,question_mark,f1,q", "close", "Close", id="help.close")]

    def __init__(self, sections: Sequence[KeySection]) -> None:
        super().__init__(classes="dialog-screen")
        self.sections = tuple(sections)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="key-help") as box:
            box.border_title = "Keys"
            with dialog_body(focusable=True):
                yield Static(render_sections(self.sections), id="key-help-text")
            with dialog_buttons():
                yield Static("Keys can be remapped in keymap.toml (README).", classes="dialog-hint")
                yield Button("Close (esc)", id="help-close")

    def on_mount(self) -> None:
        # Focus the text's scroller so the arrow keys and PgUp/PgDn scroll it.
        self.query_one(".dialog-body").focus()

    @on(Button.Pressed, "#help-close")
    def action_close(self) -> None:
        self.dismiss(None)
