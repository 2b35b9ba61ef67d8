"""The dashboard's widgets: source header, overall progress, stage panels, error log.

Each widget renders from a frozen snapshot handed to it (``show(...)``); none
of them talks to the engine. The app polls the session a few times a second
and hands each widget fresh values, so nothing here is called per item.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, LoadingIndicator, ProgressBar, Sparkline, Static

from ..pipeline.errors import DeadLetter
from ..pipeline.metrics import PipelineSnapshot, PipelineState, StageSnapshot
from ..secrets import mask_in_text
from . import fit
from . import format as fmt
from .plain import plain_line, plain_value

log = logging.getLogger(__name__)

#: Marker and label for each stage state worth the operator's attention.
STATE_LABELS: dict[str, str] = {
    "idle": "○ idle",
    "running": "● running",
    "starved": "◌ starved",
    "backpressure": "⧖ backpressure",
    "paused": "‖ paused",
    "pausing": "‖ pausing…",
    "rate-limited": "⚠ rate limited",
    "done": "✓ done",
    # Once a run ended otherwise, every stage says how.
    "drained": "■ drained",
    "cancelled": "✕ cancelled",
    "failed": "✕ failed",
    "stopped": "✗ stopped",
}
#: States that mean "this stage is waiting on something" (drawn as a warning).
WAITING_STATES = frozenset({"backpressure", "paused", "pausing", "rate-limited"})
#: From this many columns the stage panels stand four in a row and the footer is spaced out.
WIDE_FROM = 120


class SourceHeader(Static):
    """Two lines: the profile in use and where items come from; the collection and where it lives."""

    def show(self, source: str, target: str, collection: str, profile: str | None) -> None:
        # Short facts first on each line: a long URL or path is what gets cut.
        # Each value as written, on one line: a URL or path may hold anything.
        text = Text.assemble(
            ("profile ", "dim"),
            plain_value(profile or "(none)", style="bold"),
            ("  source ", "dim"),
            plain_value(source or "–", style="bold"),
            "\n",
            ("collection ", "dim"),
            plain_value(collection or "–", style="bold"),
            ("  target ", "dim"),
            plain_value(target or "–", style="bold"),
        )
        self.update(text)


class PhaseBar(Horizontal):
    """The model-loading indicator: a spinner plus what the session is doing."""

    def compose(self) -> ComposeResult:
        yield LoadingIndicator(id="phase-spinner")
        yield Static(id="phase-text")

    def show(self, phase: str, detail: str) -> None:
        label = {
            "starting": "Starting",
            "connecting": "Connecting to the source and target",
            "loading-models": "Loading embedding models",
        }.get(phase, phase)
        # The detail names what is loading (a model, a URL): the operator's text, shown as typed.
        self.query_one("#phase-text", Static).update(Text.assemble(f"{label}… ", plain_value(detail)))


class OverallPanel(Vertical):
    """Progress over the library total, ETA and state; counts, elapsed time and throughput.

    The first line is the bar with where the run is (``#overall-stats``); under
    it the figures, in groups that share a line while it is wide enough and wrap
    between groups when it is not (:func:`fit.flow`), so a narrow terminal gets
    two lines instead of a cut one.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._groups: list[list[Text]] = []

    def on_mount(self) -> None:
        self.border_title = "progress"

    def compose(self) -> ComposeResult:
        with Horizontal(id="overall-top"):
            yield ProgressBar(total=None, show_eta=False, id="overall-bar")
            yield Static(id="overall-stats")
        yield Static(id="overall-figures")

    def show(self, snapshot: PipelineSnapshot, phase: str | None = None, note: str = "") -> None:
        """Render ``snapshot``; ``note`` goes in the panel's bottom border (e.g. what to do next)."""
        bar = self.query_one("#overall-bar", ProgressBar)
        if snapshot.total:
            bar.update(total=max(snapshot.total, snapshot.done), progress=snapshot.done)
        else:
            bar.update(total=None, progress=snapshot.done)
        total = fmt.count(snapshot.total) if snapshot.total is not None else "?"
        state = phase or snapshot.state
        where = Text.assemble(
            (f"{fmt.count(snapshot.done)} / {total}", "bold"),
            "  ETA ",
            (fmt.duration(snapshot.eta), "bold"),
            fit.GROUP_SEPARATOR,
            (state, "bold"),
        )
        _update_sized_box(self.query_one("#overall-stats", Static), where)
        self._groups = [
            [
                fit.field("loaded", fmt.count(snapshot.loaded)),
                fit.field("skipped", fmt.count(snapshot.skipped)),
                Text.assemble(
                    "failed ", (fmt.count(snapshot.failed), "bold" if not snapshot.failed else "bold reverse")
                ),
                fit.field("in flight", fmt.count(snapshot.in_flight)),
            ],
            [
                fit.field("elapsed", fmt.duration(snapshot.elapsed)),
                # After the run the rate is its average, and says so.
                Text(fmt.rate(snapshot.throughput) + (" avg" if PipelineState(snapshot.state).ended else ""), "bold"),
            ],
        ]
        self._render_figures()
        self.set_class(snapshot.failed > 0, "-has-failures")
        self.border_subtitle = plain_line(note)

    def on_resize(self) -> None:
        self._render_figures()

    def _render_figures(self) -> None:
        width = self.content_size.width
        if not self._groups or width <= 0:
            return
        lines = fit.flow(self._groups, width)
        _update_fixed_box(self.query_one("#overall-figures", Static), fit.join_lines(lines), len(lines))

    def show_failed(self, reason: str) -> None:
        """A fatal error ended the run: the bar stops, and the panel says so (with the last figures kept)."""
        bar = self.query_one("#overall-bar", ProgressBar)
        if bar.total is None:  # still "waiting for the total": nothing is coming any more
            bar.update(total=1, progress=0)
        stats = self.query_one("#overall-stats", Static)
        if not str(stats.content):
            stats.update(Text.assemble(("failed", "bold reverse"), " before any item was loaded"))
        self.set_class(True, "-has-failures")
        self.border_subtitle = Text.assemble("✗ failed: ", plain_line(reason, 100))


class StagePanel(Vertical, can_focus=True):
    """One stage: state, queue against capacity, workers, batch size, rate, latency, counts.

    Focus it (Tab, or the number keys) and use ``+``/``-`` for workers,
    ``[``/``]`` for the batch size, ``e`` for the edit dialog. The figures are
    fixed-width cells laid out in as many columns as the panel is wide (see
    :func:`fit.columns`); on a short terminal the stylesheet hides the state
    row and the state rides in the border title instead.
    """

    # Not in the footer: a narrow terminal keeps its footer for the app's own keys
    # (the key help, ``?``, lists these with the rest).
    BINDINGS = [
        Binding("plus,equals_sign", "change_workers(1)", "Add a worker", show=False, id="stage.workers-up",
                tooltip="Add a worker to the focused stage"),
        Binding("minus", "change_workers(-1)", "Remove a worker", show=False, id="stage.workers-down",
                tooltip="Remove a worker from the focused stage"),
        Binding("right_square_bracket", "change_batch(2)", "Double the batch", show=False, id="stage.batch-up",
                tooltip="Double the focused stage's batch size"),
        Binding("left_square_bracket", "change_batch(0.5)", "Halve the batch", show=False, id="stage.batch-down",
                tooltip="Halve the focused stage's batch size"),
    ]

    #: Cell width of one figure: the longest label, a space, and a value of up to seven
    #: characters ("64/64", "10,000", "123.4k", "1,234/s", "470 ms").
    CELL_WIDTH = len("workers") + 1 + 7

    class TuneRequested(Message):
        """The operator asked to change this stage's workers or batch size by a step."""

        def __init__(self, stage: str, workers_delta: int = 0, batch_factor: float = 1.0) -> None:
            super().__init__()
            self.stage = stage
            self.workers_delta = workers_delta
            self.batch_factor = batch_factor

    def __init__(self, stage: str) -> None:
        super().__init__(id=f"stage-{stage}", classes="stage-panel")
        self.stage = stage
        self.border_title = stage
        self._shown: tuple[StageSnapshot, bool, str] | None = None
        self._cells: list[Text] = []
        self._state_label = STATE_LABELS["idle"]
        self._state_detail = ""
        self._bottleneck = False
        self._note = ""

    def compose(self) -> ComposeResult:
        yield Static(STATE_LABELS["idle"], classes="stage-state")
        # Every queue counts items (ingest's listing pages count by the items on them).
        with Horizontal(classes="queue-row").with_tooltip("items waiting / queue capacity, in items"):
            yield Static("queue", classes="queue-label")
            yield ProgressBar(total=1, show_eta=False, show_percentage=False, classes="queue-bar")
            yield Static("0/0", classes="queue-count")
        yield Static(classes="stage-numbers")
        yield Sparkline([], classes="stage-history")

    def action_change_workers(self, delta: int) -> None:
        self.post_message(self.TuneRequested(self.stage, workers_delta=delta))

    def action_change_batch(self, factor: float) -> None:
        self.post_message(self.TuneRequested(self.stage, batch_factor=factor))

    def show_planned(self, workers: int, batch_size: int) -> None:
        """Before the pipeline exists: the settings the stage will start with."""
        self._shown = None
        self._show_state(STATE_LABELS["idle"], "", bottleneck=False)
        self._cells = [fit.field("workers", f"–/{workers}"), fit.field("batch", fmt.count(batch_size))]
        self._render_numbers()

    def show_stopped(self) -> None:
        """A fatal error ended the run: a stage that had not finished says it stopped."""
        if self._shown is None or self._shown[0].state != "done":
            self._show_state(STATE_LABELS["stopped"], "", bottleneck=False)

    def show(self, stage: StageSnapshot, bottleneck: bool, note: str = "") -> None:
        """Render ``stage``; ``note`` goes in the bottom border when it is not the bottleneck."""
        # Unchanged since the last poll (an idle or finished stage): skip the redraw.
        if self._shown == (stage, bottleneck, note):
            return
        self._shown = (stage, bottleneck, note)
        label = STATE_LABELS.get(stage.state, stage.state)
        detail = stage.detail if stage.detail and stage.state in ("rate-limited", "running") else ""
        self._note = note
        self._show_state(label, detail, bottleneck)
        self.set_class(stage.state in WAITING_STATES, "-waiting")
        self.set_class(stage.state == "done", "-done")
        self.set_class(stage.errors > 0, "-errors")
        capacity = max(1, stage.queue_capacity)
        self.query_one(".queue-bar", ProgressBar).update(total=capacity, progress=min(stage.queue_depth, capacity))
        self._show_queue(stage.queue_depth, stage.queue_capacity)
        self._cells = [
            fit.field("workers", f"{stage.busy_workers}/{stage.workers}"),
            fit.field("batch", fmt.count(stage.batch_size)),
            fit.field("rate", fmt.rate(stage.throughput)),
            fit.field("p95", fmt.latency(stage.latency_p95)),
            fit.field("in", fmt.short_count(stage.items_in)),
            fit.field("out", fmt.short_count(stage.items_out)),
            fit.field("retries", fmt.short_count(stage.retries)),
            fit.field("errors", fmt.short_count(stage.errors)),
        ]
        self._render_numbers()
        # A fresh list each time: Sparkline only redraws when ``data`` is reassigned.
        # Sparkline scales from the data's minimum; a leading 0 pins the baseline at
        # zero so a steady rate reads as steady, and an idle stage draws a flat line.
        history = list(stage.history)
        self.query_one(".stage-history", Sparkline).data = [0.0, *history] if any(history) else []

    def on_resize(self) -> None:
        # The width decides the columns of figures; the height, whether the state has a row.
        self._render_numbers()
        self._render_title()

    def _show_state(self, label: str, detail: str, bottleneck: bool) -> None:
        self._state_label = label
        self._state_detail = detail
        self._bottleneck = bottleneck
        state = Text.assemble(label, " · ", plain_line(detail)) if detail else Text(label)
        self.query_one(".stage-state", Static).update(state, layout=False)
        self.border_subtitle = Text("◆ bottleneck") if bottleneck else plain_line(self._note)
        self.set_class(bottleneck, "-bottleneck")
        self._render_title()

    def _render_title(self) -> None:
        # A short terminal hides the state row (app.tcss) and has no bottom border: the
        # state and the bottleneck marker then ride in the title.
        if self.query_one(".stage-state", Static).display:
            self.border_title = self.stage
        else:
            marker = "◆ " if self._bottleneck else ""
            # A Text, not a str: a str title would be read as markup.
            title = Text.assemble((f"{marker}{self.stage}", "bold"), " ", self._state_label)
            # The detail ("tmdb 40/s") only if it fits whole: corners and "─ " take six columns.
            detail = plain_line(self._state_detail)
            if detail and title.cell_len + 3 + detail.cell_len <= self.outer_size.width - 6:
                title.append_text(Text.assemble(" · ", detail))
            self.border_title = title

    def _show_queue(self, depth: int, capacity: int) -> None:
        count = self.query_one(".queue-count", Static)
        text = f"{fmt.short_count(depth)}/{fmt.short_count(capacity)}"
        # Sized for a full queue, so the count keeps its place (and is never cut) as it moves.
        full = f"{fmt.short_count(capacity)}/{fmt.short_count(capacity)}"
        width = max(len(full), len(text)) + 1  # + the left padding
        if count.styles.width is None or count.styles.width.value != width:
            count.styles.width = width
            count.update(text)
        else:
            count.update(text, layout=False)

    def _render_numbers(self) -> None:
        width = self.content_size.width
        if not self._cells or width <= 0:
            return
        lines = fit.columns(self._cells, width, self.CELL_WIDTH)
        _update_fixed_box(self.query_one(".stage-numbers", Static), fit.join_lines(lines), len(lines))


def _update_sized_box(widget: Static, content: Text) -> None:
    """Show one line of ``content`` in ``widget``, exactly as wide as the line.

    As :func:`_update_fixed_box`: a layout pass only when the width changes.
    """
    width = content.cell_len
    if widget.styles.width is None or widget.styles.width.value != width:
        widget.styles.width = width
        widget.update(content)
    else:
        widget.update(content, layout=False)


def _update_fixed_box(widget: Static, content: Text, height: int) -> None:
    """Show ``content`` in ``widget``, giving it ``height`` lines.

    A box whose height is unchanged skips the layout pass a plain ``update()``
    asks for: that pass is what makes a 4 Hz refresh costly while embedding
    holds the GIL, and the height changes only when the terminal is resized or
    a figure outgrows its line.
    """
    if widget.styles.height is None or widget.styles.height.value != height:
        widget.styles.height = height
        widget.update(content)
    else:
        widget.update(content, layout=False)


class ErrorLog(DataTable):
    """Recent failures, newest first (bounded by the engine's ``recent_failures``).

    Press Enter on a row to see the whole error.
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Details", id="errors.details", show=False,
                tooltip="Show everything about the selected failure"),
    ]

    class FailureSelected(Message):
        """A row was chosen; carries the dead letter behind it."""

        def __init__(self, letter: DeadLetter) -> None:
            super().__init__()
            self.letter = letter

    def __init__(self) -> None:
        super().__init__(id="error-log", cursor_type="row", zebra_stripes=True)
        self._letters: tuple[DeadLetter, ...] = ()
        self.border_title = "errors (newest first)"

    def on_resize(self) -> None:
        # On a short terminal two failures say more than one failure under a header row.
        self.show_header = self.content_size.height > 2

    def on_mount(self) -> None:
        self.add_column("time", key="time", width=8)
        self.add_column("stage", key="stage", width=7)
        self.add_column("item", key="item", width=34)
        self.add_column("error", key="error")

    @property
    def letters(self) -> tuple[DeadLetter, ...]:
        return self._letters

    def show(self, letters: Sequence[DeadLetter]) -> None:
        letters = tuple(letters)
        # Rebuild only when something new arrived: the newest letter is a new object.
        if len(letters) == len(self._letters) and (not letters or letters[0] is self._letters[0]):
            return
        cursor = self.cursor_row
        self._letters = letters
        self.clear()
        for index, letter in enumerate(letters):
            # Text cells: DataTable reads a str cell as markup, and titles and errors come from upstream.
            self.add_row(
                Text(fmt.clock(letter.at)),
                plain_line(letter.stage),
                plain_line(letter.title or "(untitled)", 60),
                plain_line(mask_in_text(letter.error), 160),
                key=str(index),
            )
        self.border_subtitle = f"{len(letters)} shown" if letters else ""
        if letters:
            self.move_cursor(row=min(cursor, len(letters) - 1))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        index = int(event.row_key.value) if event.row_key.value is not None else -1
        if 0 <= index < len(self._letters):
            self.post_message(self.FailureSelected(self._letters[index]))


class DashboardFooter(Footer):
    """Textual's footer, compact below :data:`WIDE_FROM` columns: 80 columns still hold ``? Keys`` and ``q Quit``."""

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < WIDE_FROM
