"""The dashboard's widgets: source header, overall progress, stage panels, error log.

Each widget renders from a frozen snapshot handed to it (``show(...)``); none
of them talks to the engine. The app polls the session a few times a second
and hands each widget fresh values, so nothing here is called per item.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, LoadingIndicator, ProgressBar, Sparkline, Static

from ..pipeline.errors import DeadLetter
from ..pipeline.metrics import PipelineSnapshot, StageSnapshot
from ..secrets import mask_in_text
from . import format as fmt

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
    "stopped": "✗ stopped",
}
#: States that mean "this stage is waiting on something" (drawn as a warning).
WAITING_STATES = frozenset({"backpressure", "paused", "pausing", "rate-limited"})


class SourceHeader(Static):
    """Two lines: the profile in use and where items come from; the collection and where it lives."""

    def show(self, source: str, target: str, collection: str, profile: str | None) -> None:
        # Short facts first on each line: a long URL or path is what gets cut.
        text = Text.assemble(
            ("profile ", "dim"),
            (profile or "(none)", "bold"),
            ("  source ", "dim"),
            (source or "–", "bold"),
            "\n",
            ("collection ", "dim"),
            (collection or "–", "bold"),
            ("  target ", "dim"),
            (target or "–", "bold"),
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
        self.query_one("#phase-text", Static).update(f"{label}… {detail}".rstrip())


class OverallPanel(Vertical):
    """Progress over the library total, ETA, counts, elapsed time and throughput."""

    def on_mount(self) -> None:
        self.border_title = "progress"

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=None, show_eta=False, id="overall-bar")
        yield Static(id="overall-stats")

    def show(self, snapshot: PipelineSnapshot, phase: str | None = None, note: str = "") -> None:
        """Render ``snapshot``; ``note`` goes in the panel's bottom border (e.g. what to do next)."""
        bar = self.query_one("#overall-bar", ProgressBar)
        if snapshot.total:
            bar.update(total=max(snapshot.total, snapshot.done), progress=snapshot.done)
        else:
            bar.update(total=None, progress=snapshot.done)
        total = fmt.count(snapshot.total) if snapshot.total is not None else "?"
        state = phase or snapshot.state
        text = Text.assemble(
            (f"{fmt.count(snapshot.done)} / {total}", "bold"),
            "  ETA ",
            (fmt.duration(snapshot.eta), "bold"),
            "  │ loaded ",
            (fmt.count(snapshot.loaded), "bold"),
            "  skipped ",
            (fmt.count(snapshot.skipped), "bold"),
            "  failed ",
            (fmt.count(snapshot.failed), "bold" if not snapshot.failed else "bold reverse"),
            "  in flight ",
            (fmt.count(snapshot.in_flight), "bold"),
            "  │ elapsed ",
            (fmt.duration(snapshot.elapsed), "bold"),
            "  ",
            (fmt.rate(snapshot.throughput), "bold"),
            "  │ ",
            (state, "bold"),
        )
        # Fixed-size boxes (see app.tcss): skip the layout pass a plain update() asks for,
        # which is what makes a 4 Hz refresh costly while embedding holds the GIL.
        self.query_one("#overall-stats", Static).update(text, layout=False)
        self.set_class(snapshot.failed > 0, "-has-failures")
        self.border_subtitle = note

    def show_failed(self, reason: str) -> None:
        """A fatal error ended the run: the bar stops, and the panel says so (with the last figures kept)."""
        bar = self.query_one("#overall-bar", ProgressBar)
        if bar.total is None:  # still "waiting for the total": nothing is coming any more
            bar.update(total=1, progress=0)
        stats = self.query_one("#overall-stats", Static)
        if not str(stats.content):
            stats.update(Text.assemble(("failed", "bold reverse"), " before any item was loaded"))
        self.set_class(True, "-has-failures")
        self.border_subtitle = f"✗ failed: {fmt.one_line(reason, 100)}"


class StagePanel(Vertical, can_focus=True):
    """One stage: queue against capacity, workers, batch size, rate, latency, errors.

    Focus it (Tab, or the number keys) and use ``+``/``-`` for workers,
    ``[``/``]`` for the batch size, ``e`` for the edit dialog.
    """

    BINDINGS = [
        # One footer entry per pair: the "-" and "[" twins work but stay out of the footer.
        Binding("plus,equals_sign", "change_workers(1)", "workers", key_display="+/-", id="stage.workers-up", tooltip="Add (+) or remove (-) a worker of the focused stage"),
        Binding("minus", "change_workers(-1)", "-worker", show=False, id="stage.workers-down", tooltip="Remove a worker from the focused stage"),
        Binding("right_square_bracket", "change_batch(2)", "batch", key_display="[/]", id="stage.batch-up", tooltip="Halve ([) or double (]) the focused stage's batch size"),
        Binding("left_square_bracket", "change_batch(0.5)", "batch÷2", show=False, id="stage.batch-down", tooltip="Halve the focused stage's batch size"),
    ]

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
        self._shown: tuple[StageSnapshot, bool] | None = None

    def compose(self) -> ComposeResult:
        yield Static(STATE_LABELS["idle"], classes="stage-state")
        with Horizontal(classes="queue-row"):
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
        self.query_one(".stage-state", Static).update(STATE_LABELS["idle"], layout=False)
        self.query_one(".stage-numbers", Static).update(
            Text.assemble("workers ", (f"–/{workers}", "bold"), "  batch ", (str(batch_size), "bold")),
            layout=False,
        )

    def show_stopped(self) -> None:
        """A fatal error ended the run: a stage that had not finished says it stopped."""
        if self._shown is None or self._shown[0].state != "done":
            self.query_one(".stage-state", Static).update(STATE_LABELS["stopped"], layout=False)

    def show(self, stage: StageSnapshot, bottleneck: bool) -> None:
        # Unchanged since the last poll (an idle or finished stage): skip the redraw.
        if self._shown == (stage, bottleneck):
            return
        self._shown = (stage, bottleneck)
        label = STATE_LABELS.get(stage.state, stage.state)
        if stage.detail and stage.state in ("rate-limited", "running"):
            label = f"{label} · {stage.detail}"
        self.query_one(".stage-state", Static).update(label, layout=False)
        self.border_subtitle = "◆ bottleneck" if bottleneck else ""
        self.set_class(bottleneck, "-bottleneck")
        self.set_class(stage.state in WAITING_STATES, "-waiting")
        self.set_class(stage.state == "done", "-done")
        self.set_class(stage.errors > 0, "-errors")
        capacity = max(1, stage.queue_capacity)
        self.query_one(".queue-bar", ProgressBar).update(total=capacity, progress=min(stage.queue_depth, capacity))
        self.query_one(".queue-count", Static).update(f"{stage.queue_depth}/{stage.queue_capacity}", layout=False)
        numbers = Text.assemble(
            "workers ",
            (f"{stage.busy_workers}/{stage.workers}", "bold"),
            "  batch ",
            (str(stage.batch_size), "bold"),
            "\n",
            (fmt.rate(stage.throughput), "bold"),
            "  p95 ",
            (fmt.latency(stage.latency_p95), "bold"),
            "\nin ",
            (fmt.count(stage.items_in), "bold"),
            "  out ",
            (fmt.count(stage.items_out), "bold"),
            "\nretries ",
            (fmt.count(stage.retries), "bold"),
            "  errors ",
            (fmt.count(stage.errors), "bold"),
        )
        self.query_one(".stage-numbers", Static).update(numbers, layout=False)
        # A fresh list each time: Sparkline only redraws when ``data`` is reassigned.
        # Sparkline scales from the data's minimum; a leading 0 pins the baseline at
        # zero so a steady rate reads as steady, and an idle stage draws a flat line.
        history = list(stage.history)
        self.query_one(".stage-history", Sparkline).data = [0.0, *history] if any(history) else []


class ErrorLog(DataTable):
    """Recent failures, newest first (bounded by the engine's ``recent_failures``).

    Press Enter on a row to see the whole error.
    """

    class FailureSelected(Message):
        """A row was chosen; carries the dead letter behind it."""

        def __init__(self, letter: DeadLetter) -> None:
            super().__init__()
            self.letter = letter

    def __init__(self) -> None:
        super().__init__(id="error-log", cursor_type="row", zebra_stripes=True)
        self._letters: tuple[DeadLetter, ...] = ()
        self.border_title = "errors (newest first)"

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
            self.add_row(
                fmt.clock(letter.at),
                letter.stage,
                fmt.one_line(letter.title or "(untitled)", 60),
                fmt.one_line(mask_in_text(letter.error), 160),
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
