"""The Textual dashboard: watch and steer a load while it runs.

The app hosts one :class:`~plex_loader_tui.load.LoadSession` at a time in a
Textual async worker (``exit_on_error=False``); every way a run can end is
handled in one ``Worker.StateChanged`` handler. The screen is fed by polling
``session.snapshot()`` at 4 Hz and handing each widget fresh values; the
engine never posts a message per item, so the UI stays responsive while the
embedding threads keep the CPU busy.

Exit codes (``run_dashboard``): 0 finished with no failed items, 1 finished
with failed items, 3 a fatal error stopped the load, 4 drained with items left
for the next run, 130 the load was cancelled (``c``, quitting mid-run, or
Ctrl+C), 143 SIGTERM.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ..config import RunConfig, StageConfig
from ..errors import FatalError
from ..load import CollectionSearcher
from ..load.outcome import LoadResult, Phase, SessionInfo
from ..pipeline.metrics import PipelineSnapshot, PipelineState, StageSnapshot
from ..printable import one_line, printable
from ..secrets import mask_url
from ..stages import STAGE_NAMES
from . import themes as theme_files
from .attach_mode import AttachedMixin, AttachHeader, detach_bindings
from .commands import LoaderCommands
from .controls import ControlsMixin
from .ending import EndingMixin
from .keymap import KeysMixin
from .outcome import (  # the exit codes are re-exported: tests and callers name them from here
    EXIT_CANCELLED,
    EXIT_FATAL,  # noqa: F401
    EXIT_OK,  # noqa: F401
    EXIT_TERMINATED,
)
from .profile_actions import ProfileMixin
from .screens import ErrorDetailScreen
from .session import DashboardSession, SessionFactory, default_session_factory
from .theming import ThemingMixin
from .tuning import TuningMixin
from .widgets import WIDE_FROM, DashboardFooter, ErrorLog, OverallPanel, PhaseBar, SourceHeader, StagePanel

log = logging.getLogger(__name__)

#: The key that opens the command palette.
PALETTE_KEY = "ctrl+p"
#: Seconds between two polls of the session (4 Hz).
POLL_INTERVAL = 0.25
#: How long a quit waits for a cancelled load to wind down before leaving anyway.
QUIT_GRACE_SECONDS = 15.0


class LoaderApp(
    AttachedMixin, ControlsMixin, EndingMixin, TuningMixin, ProfileMixin, ThemingMixin, KeysMixin, App[int]
):
    """The operator's cockpit for one load (and the retries and re-runs after it)."""

    TITLE = "plex-loader-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {LoaderCommands}
    COMMAND_PALETTE_BINDING = PALETTE_KEY
    #: Two rows of two stage panels below 120 columns, four in a row from there.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]
    #: Below 36 rows the panels go compact (no sparkline, the state in the border title).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-medium"), (45, "-tall")]
    # The footer's order is the order here; a narrow terminal shows it compact
    # (DashboardFooter), and keys that cannot act (pause after the run) leave it.
    BINDINGS = [
        Binding("p", "toggle_pause", "Pause", id="pause", tooltip="Pause taking new batches, or resume"),
        Binding("d", "drain", "Drain", id="drain", tooltip="Finish the batches in flight, take nothing new, stop"),
        Binding("c", "cancel_load", "Cancel", id="cancel", tooltip="Stop the load now (asks first)"),
        Binding("r", "retry_failed", "Retry", id="retry", tooltip="After the run: retry the failed items"),
        Binding("e", "edit_focused", "Tune", id="edit-stage", tooltip="Edit the focused stage's workers and batch size"),
        Binding("s", "search", "Search", id="search", tooltip="Hybrid search in the collection"),
        Binding("o", "profile", "Profile", id="profile", tooltip="View the run config; save or load a profile"),
        Binding("l", "focus_errors", "Errors", id="errors", show=False, tooltip="Focus the error log"),
        Binding("1", "focus_stage(0)", "ingest", id="focus.ingest", show=False, tooltip="Focus the ingest panel"),
        Binding("2", "focus_stage(1)", "enrich", id="focus.enrich", show=False, tooltip="Focus the enrich panel"),
        Binding("3", "focus_stage(2)", "embed", id="focus.embed", show=False, tooltip="Focus the embed panel"),
        Binding("4", "focus_stage(3)", "upsert", id="focus.upsert", show=False, tooltip="Focus the upsert panel"),
        Binding("question_mark,f1", "key_help", "Keys", id="help", tooltip="Show every key and what it does"),
        Binding("q", "quit_app", "Quit", id="quit", tooltip="Quit (asks first while a load runs)"),
        *detach_bindings(),  # q while attached to a service (attach_mode.py)
        Binding("ctrl+q", "quit_app", "Quit", id="quit-ctrl", show=False, priority=True),
        Binding("ctrl+c", "interrupt", "Interrupt", id="interrupt", show=False, priority=True,
                tooltip="Stop the load at once and leave (exit 130)"),
        # Declared here (Textual adds it otherwise) so it has an id to remap and a row in the key help.
        Binding(PALETTE_KEY, "command_palette", "palette", id="palette", show=False, priority=True,
                tooltip="Command palette: every command, and the themes"),
    ]

    def __init__(
        self,
        config: RunConfig,
        *,
        session_factory: SessionFactory | None = None,
        autostart: bool = True,
        stage_names: Sequence[str] = STAGE_NAMES,
        theme_dirs: Sequence[Path] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.stage_names: tuple[str, ...] = tuple(stage_names)
        self._session_factory = session_factory or default_session_factory
        self._autostart = autostart
        self._config_dir: Path = Path(config.config_dir)
        self._theme_dirs = list(theme_dirs) if theme_dirs is not None else theme_files.theme_dirs(self._config_dir)
        self.session: DashboardSession | None = None
        #: Answers the search screen while there is no session (made at the first search).
        self._searcher: CollectionSearcher | None = None
        self.result: LoadResult | None = None
        self.fatal_message: str | None = None
        self._load_worker: Worker[Any] | None = None
        self._exit_code_when_stopped: int | None = None
        self._restart_with: RunConfig | None = None
        self._last_phase: str | None = None
        self._shown_info: SessionInfo | None = None
        #: Stage settings the operator changed during the current run.
        self._tuned: dict[str, StageConfig] = {}
        #: ``time.perf_counter()`` of the last tuning change applied (for latency measurements).
        self.last_tune_at: float = 0.0
        self.theme_errors: tuple[str, ...] = ()
        self._sigterm_installed = False

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's notification, always as plain text with control characters shown.

        Notifications quote exceptions, paths, profile and theme names, so none
        is read as markup: ``markup`` is accepted (a widget's ``notify`` passes
        it) and ignored.
        """
        super().notify(printable(message, keep_newlines=True), title=one_line(title), severity=severity,
                       timeout=timeout, markup=False)

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static("▶ plex-loader-tui", id="app-title")
            yield SourceHeader(id="source-header")
            yield AttachHeader(id="attach-header")
        yield PhaseBar(id="phase")
        yield OverallPanel(id="overall")
        with Horizontal(id="stages"):
            for name in self.stage_names:
                yield StagePanel(name)
        yield ErrorLog()
        yield DashboardFooter()

    def on_mount(self) -> None:
        self._install_sigterm()
        self._load_themes()
        self._load_keymap()
        self.query_one(PhaseBar).display = False
        self.query_one(AttachHeader).display = False
        self._show_info_from_config(self.config)
        self.set_interval(POLL_INTERVAL, self._poll, name="poll-snapshot")
        if self._autostart:
            self.start_load()

    def _install_sigterm(self) -> None:
        """SIGTERM (``kill``, a service manager) stops the load and restores the terminal: exit 143."""
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may take signals (tests run apps elsewhere too)
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._on_sigterm)
        except (NotImplementedError, RuntimeError, ValueError):  # not on this platform / loop
            return
        self._sigterm_installed = True

    def _on_sigterm(self) -> None:
        log.warning("SIGTERM: cancelling the load and leaving the dashboard")
        self._stop_then_exit(EXIT_TERMINATED)

    def on_unmount(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        if self._sigterm_installed:
            try:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    # ------------------------------------------------------------------- run
    @property
    def running(self) -> bool:
        """True while a load worker is active."""
        return self._load_worker is not None and self._load_worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def start_load(self, config: RunConfig | None = None) -> None:
        """Start a new load session for ``config`` (default: the app's config)."""
        if self.running:
            self.notify("A load is already running.", severity="warning")
            return
        config = self.config if config is None else config
        self.result = None
        self.fatal_message = None
        try:
            session = self._session_factory(config)
        except (FatalError, ValueError) as exc:
            self._show_fatal(exc)
            return
        previous, self.session = self.session, session
        self._show_planned(config)
        self._tuned = {}
        self._shown_info = None
        self._last_phase = None
        self._load_worker = self._run_load(session, previous)
        self._poll()

    @work(exclusive=True, exit_on_error=False, group="load", name="load")
    async def _run_load(self, session: DashboardSession, previous: DashboardSession | None) -> LoadResult:
        # An embedded folder admits one client: a search since the last run must let go of it first.
        if previous is not None:
            await previous.release()
        if self._searcher is not None:
            await asyncio.to_thread(self._searcher.close)
        return await session.run()

    @on(Worker.StateChanged)
    def _load_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where every ending of a load is handled."""
        if event.worker is not self._load_worker:
            return
        state = event.state
        if state == WorkerState.SUCCESS:
            self.result = event.worker.result
            self._poll(final=True)
            result = self.result
            if result is not None and result.state == Phase.FAILED and result.fatal_error:
                self._show_fatal(FatalError(result.fatal_error))
            else:
                self._announce_result()
        elif state == WorkerState.ERROR:
            self._poll(final=True)
            self._show_fatal(event.worker.error)
        elif state == WorkerState.CANCELLED:
            self._poll(final=True)
        else:
            return
        self.refresh_bindings()
        if self._exit_code_when_stopped is not None:
            self.exit(return_code=self._exit_code_when_stopped)
        elif self._restart_with is not None:
            config, self._restart_with = self._restart_with, None
            self.start_load(config)

    def _stop_then_exit(self, code: int) -> None:
        if not self.running:
            self.exit(return_code=code)
            return
        self._exit_code_when_stopped = code
        assert self.session is not None
        self.session.cancel()
        # A load busy in a thread (models loading) may take a moment to notice.
        self.set_timer(QUIT_GRACE_SECONDS, lambda: self.exit(return_code=code))

    # ------------------------------------------------------------------ poll
    def _show_info_from_config(self, config: RunConfig) -> None:
        # Masked here too: the header must never show a credential, whatever it is handed.
        source = mask_url(config.plex_url) if config.plex_url else ("built-in demo server" if config.demo else "")
        target = mask_url(config.qdrant_url) if config.qdrant_url else config.qdrant_location
        self.show_info(source, f"Qdrant {target}", config.collection, config.profile)

    def _show_planned(self, config: RunConfig) -> None:
        for panel in self.query(StagePanel):
            planned = config.stage(panel.stage)
            panel.show_planned(planned.workers, planned.batch_size)

    def show_info(self, source: str, target: str, collection: str, profile: str | None) -> None:
        """Fill the header (secrets must already be masked by the caller)."""
        self.query_one(SourceHeader).show(source, target, collection, profile)

    def show_snapshot(self, snapshot: PipelineSnapshot, phase: str | None = None, note: str = "") -> None:
        """Render ``snapshot`` on every panel (the poll calls this; so can tests)."""
        self.query_one(OverallPanel).show(snapshot, phase, note)
        names = {stage.name: stage for stage in snapshot.stages}
        for panel in self.query(StagePanel):
            stage = names.get(panel.stage)
            if stage is not None:
                stage, next_run = self._with_next_run_settings(stage, snapshot)
                panel.show(stage, bottleneck=snapshot.bottleneck == panel.stage, note=self.next_note if next_run else "")
        self.query_one(ErrorLog).show(snapshot.recent_failures)

    @property
    def next_note(self) -> str:
        """What a stage panel's settings for the next run are called."""
        return "next sync" if self.attached else "next run"

    def _with_next_run_settings(self, stage: StageSnapshot, snapshot: PipelineSnapshot) -> tuple[StageSnapshot, bool]:
        """After a run, a stage tuned for the next run shows the values it will start with."""
        if self.attached and PipelineState(snapshot.state).ended:
            return self.next_sync_settings(stage)
        if not PipelineState(snapshot.state).ended or self.running or self.session is None:
            return stage, False
        planned, last = self.config.stage(stage.name), self.session.config.stage(stage.name)
        if (planned.workers, planned.batch_size) == (last.workers, last.batch_size):
            return stage, False
        return dataclasses.replace(stage, workers=planned.workers, batch_size=planned.batch_size), True

    def _poll(self, final: bool = False) -> None:
        if self.fatal_message is not None and not final:
            return  # the run failed: keep its last frame and the failure on screen
        try:
            self._refresh_from_session(final)
        except NoMatches:
            # The app is closing and its widgets are already gone: nothing to draw on.
            log.debug("poll after the dashboard closed; skipped")

    def _refresh_from_session(self, final: bool) -> None:
        session = self.session
        if session is None:
            return
        self.show_attached()
        phase = session.phase
        phase_bar = self.query_one(PhaseBar)
        preparing = Phase(phase).preparing and self.running
        phase_bar.display = preparing
        if preparing:
            phase_bar.show(phase, session.phase_detail)
        info = session.info
        if info is not self._shown_info:
            self._shown_info = info
            self.show_info(info.source, info.target, info.collection, info.profile)
        snapshot = session.snapshot()
        if final and snapshot is None:
            snapshot = self.result.snapshot if self.result is not None else None
        if snapshot is not None:
            shown_phase = phase if Phase(phase).ended or Phase(phase).preparing else None
            self.show_snapshot(snapshot, shown_phase, self._next_step_note())
        if phase != self._last_phase:
            self._last_phase = phase
            self.refresh_bindings()

    # --------------------------------------------------------------- errors
    def on_error_log_failure_selected(self, message: ErrorLog.FailureSelected) -> None:
        self.push_screen(ErrorDetailScreen(message.letter))

def run_dashboard(config: RunConfig) -> int:
    """Run the dashboard for ``config`` until the operator quits; return the exit code.

    Once the screen is restored, one line says how the load ended (the line a
    headless run ends on), so the terminal keeps a record of it.
    """
    app = LoaderApp(config)
    try:
        app.run()
    except KeyboardInterrupt:  # a SIGINT outside raw mode (e.g. during start-up)
        return EXIT_CANCELLED
    code = app.return_code
    code = app.outcome_code() if code is None else code
    line = app.exit_line(code)
    if line is not None:
        print(line, flush=True)
    if app.fatal_message is not None:
        print(f"{LoaderApp.TITLE}: error: {one_line(app.fatal_message)}", file=sys.stderr, flush=True)
    return code
