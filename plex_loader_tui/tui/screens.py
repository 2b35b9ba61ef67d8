"""Modal dialogs and the search screen.

Every dialog is a ``ModalScreen[Result]`` that returns what the operator
decided through ``dismiss``; the app acts on the result. Dialogs never touch
the load session themselves, so a dialog can be tested (and screenshotted)
without one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.validation import Integer
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from ..pipeline import MAX_BATCH_SIZE, MAX_WORKERS
from ..pipeline.errors import DeadLetter
from ..search import SearchHit
from ..secrets import mask_in_text
from . import format as fmt
from .details import HitDetailScreen, clean, work_text
from .plain import plain, plain_line, plain_value

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ layout
# Every dialog is a box whose body scrolls and whose buttons are docked at its
# bottom: on a small terminal the body gives way and the buttons stay in reach.
def dialog_body(focusable: bool = False) -> VerticalScroll:
    """The scrolling part of a dialog (focusable when it is only text to read)."""
    return VerticalScroll(classes="dialog-body", can_focus=focusable)


def dialog_buttons() -> Horizontal:
    """The dialog's button row, docked at the bottom of the box (app.tcss)."""
    return Horizontal(classes="dialog-buttons")


# --------------------------------------------------------------- stage edit
@dataclass(frozen=True, slots=True)
class StageEdit:
    """New settings for one stage, already validated."""

    stage: str
    workers: int
    batch_size: int


class StageEditScreen(ModalScreen[StageEdit | None]):
    """Edit a stage's worker count and batch size; invalid values are refused here."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, stage: str, workers: int, batch_size: int) -> None:
        super().__init__(classes="dialog-screen")
        self.stage = stage
        self._workers = workers
        self._batch_size = batch_size

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="stage-edit") as box:
            box.border_title = f"Tune stage: {self.stage}"
            with dialog_body():
                yield Label(f"Workers (1–{MAX_WORKERS})")
                yield Input(
                    str(self._workers),
                    type="integer",
                    id="edit-workers",
                    validators=[Integer(1, MAX_WORKERS, failure_description=f"workers must be a whole number from 1 to {MAX_WORKERS}")],
                    valid_empty=False,
                )
                yield Label(f"Batch size (1–{MAX_BATCH_SIZE})")
                yield Input(
                    str(self._batch_size),
                    type="integer",
                    id="edit-batch",
                    validators=[
                        Integer(1, MAX_BATCH_SIZE, failure_description=f"batch size must be a whole number from 1 to {MAX_BATCH_SIZE}")
                    ],
                    valid_empty=False,
                )
                yield Static("", id="edit-error", classes="dialog-error", markup=False)
            with dialog_buttons():
                yield Button("Apply", variant="primary", id="edit-apply")
                yield Button("Cancel", id="edit-cancel")

    def _problem(self, input_id: str, what: str) -> str | None:
        widget = self.query_one(input_id, Input)
        result = widget.validate(widget.value)
        if widget.value.strip() == "":
            return f"{what} is empty"
        if result is not None and not result.is_valid:
            return "; ".join(result.failure_descriptions) or f"{what} is not valid"
        return None

    def _apply(self) -> None:
        problems = [p for p in (self._problem("#edit-workers", "workers"), self._problem("#edit-batch", "batch size")) if p]
        if problems:
            message = "Not applied: " + "; ".join(problems)
            self.query_one("#edit-error", Static).update(message)
            self.notify(message, severity="error", title="Invalid value")
            return
        self.dismiss(
            StageEdit(
                self.stage,
                int(self.query_one("#edit-workers", Input).value),
                int(self.query_one("#edit-batch", Input).value),
            )
        )

    @on(Button.Pressed, "#edit-apply")
    @on(Input.Submitted)
    def _on_apply(self) -> None:
        self._apply()

    @on(Button.Pressed, "#edit-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


# ----------------------------------------------------------------- confirm
class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; ``y``/``n``/Escape answer it from the keyboard."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n,escape", "answer(False)", "No", id="dialog.no"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(classes="dialog-screen")
        self.question = question
        self._yes = yes
        self._no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm"):
            with dialog_body():
                yield Static(plain(self.question), id="confirm-question")
            with dialog_buttons():
                yield Button(f"{self._yes} (y)", variant="error", id="confirm-yes")
                yield Button(f"{self._no} (n)", id="confirm-no")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")


# ------------------------------------------------------------ error detail
class ErrorDetailScreen(ModalScreen[None]):
    """Everything known about one failed item."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="dialog.close")]

    def __init__(self, letter: DeadLetter) -> None:
        super().__init__(classes="dialog-screen")
        self.letter = letter

    def compose(self) -> ComposeResult:
        letter = self.letter
        item = work_text(letter.item)
        with VerticalScroll(classes="dialog wide", id="error-detail") as box:
            box.border_title = Text.assemble("Failed in ", plain_line(letter.stage))
            with dialog_body(focusable=True):
                yield Static(
                    Text.assemble(
                        ("item     ", "dim"), plain_line(letter.title or "(untitled)", style="bold"), "\n",
                        ("stage    ", "dim"), plain_line(letter.stage), "\n",
                        ("when     ", "dim"), fmt.clock(letter.at), "\n",
                        ("attempts ", "dim"), str(letter.attempts), "\n",
                        ("type     ", "dim"), plain_line(letter.error_type), "\n",
                    ),
                    id="error-summary",
                )
                yield Label("Error", classes="section")
                yield Static(plain(clean(letter.error)), id="error-text")
                yield Label("Item", classes="section")
                yield Static(plain(item), id="error-item")
            with dialog_buttons():
                yield Button("Close", id="detail-close")

    @on(Button.Pressed, "#detail-close")
    def action_close(self) -> None:
        self.dismiss(None)


class FatalErrorScreen(ModalScreen[bool]):
    """The load stopped on an error nothing can retry. Returns True to quit."""

    BINDINGS = [
        Binding("q", "answer(True)", "Quit", id="dialog.quit"),
        Binding("escape", "answer(False)", "Back to dashboard", id="dialog.back"),
    ]

    def __init__(self, message: str, title: str = "The load stopped") -> None:
        super().__init__(classes="dialog-screen")
        self.message = message
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog fatal", id="fatal") as box:
            box.border_title = plain_line(self.title_text)
            with dialog_body():
                yield Static(plain(clean(self.message)), id="fatal-message")
            with dialog_buttons():
                yield Button("Quit (q)", variant="error", id="fatal-quit")
                yield Button("Back to dashboard (esc)", id="fatal-back")

    def action_answer(self, quit_app: bool) -> None:
        self.dismiss(quit_app)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "fatal-quit")


# ----------------------------------------------------------------- profile
@dataclass(frozen=True, slots=True)
class ProfileRequest:
    """What the operator asked for in the profile dialog."""

    action: Literal["save", "load"]
    name: str


class ProfileScreen(ModalScreen[ProfileRequest | None]):
    """The effective run config (secrets masked), save-as-profile and load-profile."""

    BINDINGS = [Binding("escape", "close", "Close", id="dialog.close")]

    def __init__(
        self,
        current: str | None,
        rows: Sequence[tuple[str, str, str]],
        saved: Sequence[str],
        can_load: bool,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.current = current
        self.rows = list(rows)
        self.saved = list(saved)
        self.can_load = can_load

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="profile") as box:
            box.border_title = Text.assemble("Run profile: ", plain_value(self.current or "(none)"))
            with dialog_body():
                table: DataTable[str] = DataTable(id="profile-config", cursor_type="row", zebra_stripes=True)
                table.border_title = "effective settings (live values; secrets masked)"
                yield table
                yield Label("Save the current settings (including live-tuned stages) as:")
                with Horizontal(classes="profile-row"):
                    yield Input(self.current or "", placeholder="profile name", id="profile-name",
                                restrict=r"[A-Za-z0-9_.-]*", max_length=64)
                    yield Button("Save", variant="primary", id="profile-save")
                hint = "Load a saved profile and restart:" if self.can_load else "Load a saved profile (after the run ends):"
                yield Label(hint)
                with Horizontal(classes="profile-row"):
                    yield Select(
                        [(plain_value(name), name) for name in self.saved],
                        prompt="saved profiles" if self.saved else "no saved profiles",
                        id="profile-select",
                        disabled=not self.saved,
                    )
                    yield Button("Load", id="profile-load", disabled=not (self.can_load and self.saved))
                yield Static("", id="profile-error", classes="dialog-error", markup=False)
            with dialog_buttons():
                yield Button("Close", id="profile-close")

    def on_mount(self) -> None:
        table = self.query_one("#profile-config", DataTable)
        table.add_columns("setting", "value", "from")
        # Text cells: DataTable reads a str cell as markup, and a path, URL or name may hold anything.
        for key, value, origin in self.rows:
            table.add_row(plain_value(key), plain_value(value), plain_value(origin))

    def _error(self, message: str) -> None:
        self.query_one("#profile-error", Static).update(message)
        self.notify(message, severity="error")

    @on(Button.Pressed, "#profile-save")
    @on(Input.Submitted, "#profile-name")
    def _save(self) -> None:
        name = self.query_one("#profile-name", Input).value.strip()
        if not name:
            self._error("Give the profile a name first.")
            return
        self.dismiss(ProfileRequest("save", name))

    @on(Button.Pressed, "#profile-load")
    def _load(self) -> None:
        value = self.query_one("#profile-select", Select).value
        if not isinstance(value, str):
            self._error("Choose a saved profile to load.")
            return
        self.dismiss(ProfileRequest("load", value))

    @on(Button.Pressed, "#profile-close")
    def action_close(self) -> None:
        self.dismiss(None)


# ------------------------------------------------------------------ search
SearchFn = Callable[[str, int], Awaitable[Sequence[SearchHit]]]


class SearchScreen(Screen[None]):
    """Run a hybrid query against the collection and list the hits; Enter on a hit shows it all."""

    BINDINGS = [
        Binding("escape", "back", "Dashboard", id="search.back", tooltip="Back to the dashboard"),
        Binding("ctrl+l", "focus_query", "Query", id="search.focus-query", tooltip="Put the cursor in the query"),
    ]

    def __init__(self, search: SearchFn | None, collection: str, limit: int = 10) -> None:
        super().__init__(id="search-screen")
        self._search = search
        self.collection = collection
        self.limit = limit
        self.hits: list[SearchHit] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box") as box:
            box.border_title = Text.assemble("Search ", plain_value(self.collection))
            yield Input(placeholder="what are you looking for? (Enter to search)", id="search-query")
            yield Static("Hybrid search: dense (semantic) + sparse (keywords).", id="search-status", markup=False)
            table: DataTable[str] = DataTable(id="search-hits", cursor_type="row", zebra_stripes=True)
            yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search-hits", DataTable).add_columns("#", "score", "type", "title")
        self.query_one("#search-query", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_focus_query(self) -> None:
        self.query_one("#search-query", Input).focus()

    @on(Input.Submitted, "#search-query")
    def _submitted(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if not query:
            self._status("Type a query first.")
            return
        if self._search is None:
            self._status("Nothing to search yet: no load session.")
            return
        self._status(f"Searching for {query!r}…")
        self.run_search(query)

    def _status(self, message: str) -> None:
        # Plain text: the message quotes the query and the search's errors.
        self.query_one("#search-status", Static).update(plain_line(message))

    @work(exclusive=True, exit_on_error=False, group="search")
    async def run_search(self, query: str) -> tuple[str, Sequence[SearchHit]]:
        assert self._search is not None
        return query, await self._search(query, self.limit)

    def show_hits(self, query: str, hits: Sequence[SearchHit]) -> None:
        """Fill the table (public so screenshots and tests can show given hits)."""
        self.hits = list(hits)
        table = self.query_one("#search-hits", DataTable)
        table.clear()
        # Text cells: DataTable reads a str cell as markup, and titles come from upstream.
        for rank, hit in enumerate(hits, start=1):
            table.add_row(Text(str(rank)), Text(f"{hit.score:.3f}"), plain_line(hit.type), plain_line(hit.display_title))
        noun = "hit" if len(hits) == 1 else "hits"
        self._status(f"{len(hits)} {noun} for {query!r}")

    @on(DataTable.RowSelected, "#search-hits")
    def _hit_chosen(self, event: DataTable.RowSelected) -> None:
        """Enter on a hit: everything its point holds, in a dialog."""
        event.stop()
        if 0 <= event.cursor_row < len(self.hits):
            self.app.push_screen(HitDetailScreen(self.hits[event.cursor_row]))

    @on(Worker.StateChanged)
    def _search_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "search":
            return
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            query, hits = event.worker.result
            self.show_hits(query, hits)
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            log.warning("search failed: %s", error)
            self._status(mask_in_text(f"Search failed: {type(error).__name__}: {error}"))
