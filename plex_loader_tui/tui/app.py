"""The Textual dashboard: watch and steer a load while it runs.

The app hosts one :class:`~plex_loader_tui.load.LoadSession` at a time in a
Textual async worker (``exit_on_error=False``); every way a run can end is
handled in one ``Worker.StateChanged`` handler. The screen is fed by polling
``session.snapshot()`` at 4 Hz and handing each widget fresh values; the
engine never posts a message per item, so the UI stays responsive while the
embedding threads keep the CPU busy.

Exit codes (``run_dashboard``): 0 finished (or drained) with no failed items,
1 finished with failed items, 3 a fatal error stopped the load, 130 the load
was cancelled (``c``, quitting mid-run, or Ctrl+C), 143 SIGTERM.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import threading
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from ..config import RunConfig, StageConfig
from ..errors import ConfigError, FatalError
from ..exit_codes import ExitCode
from ..load.outcome import LoadResult, Phase, SessionInfo
from ..pipeline.metrics import PipelineSnapshot
from ..secrets import mask_in_text, mask_url, redact
from ..stages import STAGE_NAMES
from . import themes as theme_files
from .commands import LoaderCommands
from .screens import (
    ConfirmScreen,
    ErrorDetailScreen,
    FatalErrorScreen,
    ProfileRequest,
    ProfileScreen,
    SearchScreen,
    StageEdit,
    StageEditScreen,
)
from .session import DashboardSession, SessionFactory, default_session_factory
from .widgets import ErrorLog, OverallPanel, PhaseBar, SourceHeader, StagePanel

log = logging.getLogger(__name__)

#: Seconds between two polls of the session (4 Hz).
POLL_INTERVAL = 0.25
#: File (under the config directory) with user key bindings: ``binding id = "keys"``.
KEYMAP_FILE_NAME = "keymap.toml"
#: How long a quit waits for a cancelled load to wind down before leaving anyway.
QUIT_GRACE_SECONDS = 15.0

#: Actions that only make sense with the dashboard itself on screen.
_DASHBOARD_ONLY = frozenset({"search", "edit_focused", "focus_stage", "focus_errors", "profile"})

EXIT_OK = ExitCode.OK
EXIT_FAILED_ITEMS = ExitCode.FAILED_ITEMS
EXIT_FATAL = ExitCode.FATAL
#: Cancelling the load from the dashboard reports the same code as Ctrl+C.
EXIT_CANCELLED = ExitCode.SIGINT
EXIT_TERMINATED = ExitCode.SIGTERM


class LoaderApp(App[int]):
    """The operator's cockpit for one load (and the retries and re-runs after it)."""

    TITLE = "plex-loader-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {LoaderCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    #: Set once the starting theme is chosen; theme changes after that are saved.
    _theme_settled = False

    BINDINGS = [
        Binding("p", "toggle_pause", "Pause", id="pause", tooltip="Pause taking new batches, or resume"),
        Binding("d", "drain", "Drain", id="drain", tooltip="Finish the batches in flight, take nothing new, stop"),
        Binding("c", "cancel_load", "Cancel", id="cancel", tooltip="Stop the load now (asks first)"),
        Binding("r", "retry_failed", "Retry", id="retry", tooltip="After the run: retry the failed items"),
        Binding("e", "edit_focused", "Tune", id="edit-stage", tooltip="Edit the focused stage's workers and batch size"),
        Binding("s", "search", "Search", id="search", tooltip="Hybrid search in the collection"),
        Binding("o", "profile", "Profile", id="profile", tooltip="View the run config; save or load a profile"),
        Binding("l", "focus_errors", "Errors", id="errors", show=False, tooltip="Focus the error log"),
        Binding("1", "focus_stage(0)", "ingest", id="focus.ingest", show=False),
        Binding("2", "focus_stage(1)", "enrich", id="focus.enrich", show=False),
        Binding("3", "focus_stage(2)", "embed", id="focus.embed", show=False),
        Binding("4", "focus_stage(3)", "upsert", id="focus.upsert", show=False),
        Binding("q", "quit_app", "Quit", id="quit", tooltip="Quit (asks first while a load runs)"),
        Binding("ctrl+q", "quit_app", "Quit", id="quit-ctrl", show=False, priority=True),
        Binding("ctrl+c", "interrupt", "Interrupt", id="interrupt", show=False, priority=True),
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

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static("▶ plex-loader-tui", id="app-title")
            yield SourceHeader(id="source-header")
        yield PhaseBar(id="phase")
        yield OverallPanel(id="overall")
        with Horizontal(id="stages"):
            for name in self.stage_names:
                yield StagePanel(name)
        yield ErrorLog()
        yield Footer()

    def on_mount(self) -> None:
        self._install_sigterm()
        self._load_themes()
        self._load_keymap()
        self.query_one(PhaseBar).display = False
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
        if self._sigterm_installed:
            try:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    # ---------------------------------------------------------------- themes
    def _load_themes(self) -> None:
        loaded = theme_files.load_theme_files(self._theme_dirs)
        for theme in loaded.themes:
            self.register_theme(theme)
        self.theme_errors = loaded.errors
        if loaded.errors:
            # One notification for every bad file: a typo must not hide behind another.
            self.notify(
                "\n".join(loaded.errors),
                title=f"{len(loaded.errors)} theme file(s) skipped",
                severity="warning",
                timeout=12,
            )
        available = self.available_themes
        # The bundled themes live outside the package (the top-level themes/ folder):
        # an install without them still gets a working dashboard, in Textual's own theme.
        default = theme_files.DEFAULT_THEME
        if default not in available:
            log.warning("default theme %r not found in %s; using %s", default,
                        ", ".join(map(str, self._theme_dirs)), theme_files.FALLBACK_THEME)
            default = theme_files.FALLBACK_THEME
        wanted = self.config.theme or theme_files.load_state(self._config_dir).theme
        if wanted and wanted not in available:
            log.warning("theme %r is not available", wanted)
            self.notify(
                f"No theme named {wanted!r}; using {default}. "
                "Ctrl+P → 'Change theme' lists the ones there are.",
                severity="warning",
            )
            wanted = None
        self.theme = wanted or default
        # From now on a theme change is the operator's choice, worth remembering; the
        # fallback above is not (it would overwrite a remembered theme on a broken install).
        self._theme_settled = True

    def watch_theme(self, theme: str) -> None:
        if self._theme_settled:
            theme_files.save_state(self._config_dir, theme_files.DashboardState(theme=theme))

    def _load_keymap(self) -> None:
        """Apply ``<config_dir>/keymap.toml`` (``binding-id = "keys"``); problems are reported, not fatal."""
        if self._config_dir is None:
            return
        path = self._config_dir / KEYMAP_FILE_NAME
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            self.notify(f"{path}: {exc}", title="Key map not loaded", severity="warning")
            return
        table = data.get("keymap", data)
        if not isinstance(table, dict):
            self.notify(f"{path}: 'keymap' must be a table of binding-id = \"keys\"",
                        title="Key map not loaded", severity="warning")
            return
        keymap = {k: v.strip() for k, v in table.items() if isinstance(v, str) and v.strip()}
        skipped = sorted(set(table) - set(keymap))
        if skipped:
            self.notify(f"{path}: ignored {', '.join(skipped)}: every entry must be binding-id = \"keys\"",
                        title="Key map", severity="warning")
        try:
            self.set_keymap(keymap)
        except Exception as exc:  # noqa: BLE001 - a user file must never stop the dashboard
            log.warning("key map %s not applied: %s", path, exc)
            self.notify(f"{path}: {exc}", title="Key map not loaded", severity="warning")

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
        self.session = session
        self._show_planned(config)
        self._tuned = {}
        self._shown_info = None
        self._last_phase = None
        self._load_worker = self._run_load(session)
        self._poll()

    @work(exclusive=True, exit_on_error=False, group="load", name="load")
    async def _run_load(self, session: DashboardSession) -> LoadResult:
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

    def _next_step_note(self) -> str:
        """A hint under the progress panel once a run has ended."""
        if self.running or self.result is None:
            return ""
        snapshot = self.result.snapshot
        # The state store's count covers earlier runs too; the snapshot's, this run.
        waiting = self.result.failed_waiting or (snapshot.failed if snapshot is not None else 0)
        if waiting:
            noun = "item" if waiting == 1 else "items"
            return f"{waiting:,} failed {noun} waiting for a retry: press r"
        return "press s to search the collection, q to quit"

    def _announce_result(self) -> None:
        result = self.result
        assert result is not None
        snapshot, state = result.snapshot, result.state
        if snapshot is None:
            self.notify(f"Load {state} before any item was processed.", title=f"Load {state}")
            return
        failed = snapshot.failed
        message = (
            f"loaded {snapshot.loaded:,} · skipped {snapshot.skipped:,} · failed {failed:,} "
            f"in {result.duration:.1f} s"
        )
        if failed:
            message += "\nPress r to retry the failed items."
        self.notify(message, title=f"Load {state}", severity="warning" if failed else "information", timeout=10)

    def _secrets(self) -> list[str | None]:
        config = self.session.config if self.session is not None else self.config
        return list(config.secret_values())

    def _show_fatal(self, error: BaseException | None) -> None:
        if isinstance(error, FatalError):
            message = str(error) or type(error).__name__
            title = "The load stopped"
        else:
            # Not one of ours: a bug. Say so plainly; the log has the traceback.
            log.error("the load failed unexpectedly", exc_info=error)
            message = f"Unexpected error {type(error).__name__}: {error}"
            title = "The load failed"
        message = mask_in_text(redact(message, self._secrets()))
        self.fatal_message = message
        for bar in self.query(PhaseBar):
            bar.display = False
        self.push_screen(FatalErrorScreen(message, title), self._fatal_answered)

    def _fatal_answered(self, quit_app: bool | None) -> None:
        if quit_app:
            self.exit(return_code=EXIT_FATAL)

    def outcome_code(self) -> int:
        """The exit code that describes how the last load ended."""
        if self.fatal_message is not None:
            return EXIT_FATAL
        result = self.result
        if result is None:
            return EXIT_CANCELLED if self.session is not None and self.session.phase == Phase.CANCELLED else EXIT_OK
        if result.state == Phase.CANCELLED:
            return EXIT_CANCELLED
        # The session's own rule (failed items, or items loaded without their
        # TMDb/IMDb data) so the dashboard and --no-ui agree.
        return result.exit_code

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
                panel.show(stage, bottleneck=snapshot.bottleneck == panel.stage)
        self.query_one(ErrorLog).show(snapshot.recent_failures)

    def _poll(self, final: bool = False) -> None:
        try:
            self._refresh_from_session(final)
        except NoMatches:
            # The app is closing and its widgets are already gone: nothing to draw on.
            log.debug("poll after the dashboard closed; skipped")

    def _refresh_from_session(self, final: bool) -> None:
        session = self.session
        if session is None:
            return
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

    # --------------------------------------------------------------- actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # (Textual already keeps app keys away from a modal dialog; the search
        # screen is a full screen, so its dashboard-only keys are switched off here.)
        if isinstance(self.screen, SearchScreen) and action in _DASHBOARD_ONLY:
            return False
        running = self.running
        if action in ("toggle_pause", "drain", "cancel_load"):
            return True if running and self.session is not None and not Phase(self.session.phase).preparing else None
        if action == "retry_failed":
            return True if (not running and self.session is not None) else None
        return True

    def action_toggle_pause(self) -> None:
        session = self.session
        if session is None or not self.running:
            return
        if session.paused:
            session.resume()
            self.notify("Resumed.", timeout=2)
        else:
            session.pause()
            self.notify("Paused: batches in flight finish, no new ones start. Press p to resume.", timeout=4)
        self._poll()

    def action_drain(self) -> None:
        if self.session is None or not self.running:
            return
        self.session.drain()
        self.notify("Draining: finishing the batches in flight; queued items are left for the next run.", timeout=4)
        self._poll()

    def action_cancel_load(self) -> None:
        if self.session is None or not self.running:
            return

        def answered(yes: bool | None) -> None:
            if yes and self.session is not None and self.running:
                self.session.cancel()
                self.notify("Cancelling: unfinished items will load on the next run.", timeout=4)
                self._poll()

        self.push_screen(
            ConfirmScreen("Cancel the load now?\nItems in flight are dropped; the next run picks them up.", yes="Cancel load", no="Keep loading"),
            answered,
        )

    def action_retry_failed(self) -> None:
        if self.running:
            self.notify("Wait for the load to end (or drain it) before retrying failed items.", severity="warning")
            return
        config = dataclasses.replace(self.config, retry_failed=True)
        self.notify("Retrying the failed items.", timeout=3)
        self.start_load(config)

    def action_search(self) -> None:
        session = self.session
        if session is not None:
            search = session.search
        else:
            from functools import partial

            from ..load import search_collection

            search = partial(search_collection, self.config)
        self.push_screen(SearchScreen(search, self.config.collection))

    def action_focus_errors(self) -> None:
        self.query_one(ErrorLog).focus()

    def action_focus_stage(self, index: int) -> None:
        panels = list(self.query(StagePanel))
        if 0 <= index < len(panels):
            panels[index].focus()

    def action_quit_app(self) -> None:
        if not self.running:
            self.exit(return_code=self.outcome_code())
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._stop_then_exit(EXIT_CANCELLED)

        self.push_screen(ConfirmScreen("A load is running. Cancel it and quit?", yes="Cancel and quit", no="Stay"), answered)

    async def action_quit(self) -> None:
        self.action_quit_app()

    def action_interrupt(self) -> None:
        """Ctrl+C: stop the load at once and leave with 130 (no question asked)."""
        self._stop_then_exit(EXIT_CANCELLED)

    # ---------------------------------------------------------------- tuning
    def _current_settings(self, stage: str) -> tuple[int, int]:
        if self.session is not None:
            current = self.session.stage_settings()[stage]
        else:
            current = self.config.stage(stage)
        return current.workers, current.batch_size

    def tune_stage(self, stage: str, workers_delta: int = 0, batch_factor: float = 1.0) -> None:
        """Step a stage's workers by ``workers_delta`` and/or scale its batch size."""
        workers, batch = self._current_settings(stage)
        new_workers = workers + workers_delta
        new_batch = batch
        if batch_factor != 1.0:
            new_batch = max(1, round(batch * batch_factor))
            if new_batch == batch and batch_factor > 1:
                new_batch = batch + 1
        self._apply_stage(StageEdit(stage, new_workers, new_batch))

    def _apply_stage(self, edit: StageEdit | None) -> None:
        if edit is None:
            return
        workers, batch = self._current_settings(edit.stage)
        snapshot = self.session.snapshot() if self.running and self.session is not None else None
        # Only a pipeline that still moves items can take a change; otherwise it is for the next run.
        live = snapshot is not None and snapshot.state in ("running", "paused", "draining")
        try:
            if live:
                assert self.session is not None
                configured = self.config.stage(edit.stage)
                tuned = self._tuned.get(edit.stage, StageConfig(configured.workers, configured.batch_size))
                if edit.workers != workers:
                    self.session.set_workers(edit.stage, edit.workers)
                    tuned = StageConfig(edit.workers, tuned.batch_size)
                if edit.batch_size != batch:
                    self.session.set_batch_size(edit.stage, edit.batch_size)
                    # The engine's ingest batch counts listing pages; the setting a
                    # profile keeps for ingest is the Plex page size, so it is not recorded.
                    if edit.stage != "ingest":
                        tuned = StageConfig(tuned.workers, edit.batch_size)
                self._tuned[edit.stage] = tuned
            else:
                # No pipeline to change: the values apply to the next run.
                self.config = self.config.with_stage(edit.stage, workers=edit.workers, batch_size=edit.batch_size)
        except (ValueError, FatalError) as exc:
            self.notify(str(exc), title="Not applied", severity="error")
            return
        self.last_tune_at = time.perf_counter()
        if not live:
            self.notify(f"{edit.stage}: {edit.workers} workers, batch {edit.batch_size} (applies to the next run)", timeout=3)
        self._poll()

    def on_stage_panel_tune_requested(self, message: StagePanel.TuneRequested) -> None:
        self.tune_stage(message.stage, message.workers_delta, message.batch_factor)

    def edit_stage(self, stage: str) -> None:
        """Open the edit dialog for ``stage``."""
        workers, batch = self._current_settings(stage)
        self.push_screen(StageEditScreen(stage, workers, batch), self._apply_stage)

    def action_edit_focused(self) -> None:
        focused = self.focused
        if isinstance(focused, StagePanel):
            self.edit_stage(focused.stage)
        else:
            self.notify("Focus a stage first (Tab, or keys 1–4), then press e.", severity="warning", timeout=3)

    # --------------------------------------------------------------- errors
    def on_error_log_failure_selected(self, message: ErrorLog.FailureSelected) -> None:
        self.push_screen(ErrorDetailScreen(message.letter))

    # -------------------------------------------------------------- profile
    def _live_config(self) -> RunConfig:
        """The app's config plus every stage change the operator applied to the current run.

        Built from the dashboard's own record rather than read back from the
        engine: the engine's ingest "batch" counts listing pages, while the
        config's ingest batch size is the Plex page size, and only the latter
        belongs in a profile.
        """
        from .profiles import live_config

        if self.session is not None and self.running and self._tuned:
            return live_config(self.config, self._tuned)
        return self.config

    def profile_rows(self) -> list[tuple[str, str, str]]:
        """(setting, value, where it came from) for the profile dialog; secrets masked."""
        config = self._live_config()
        # Stage settings first: they are what an operator tunes and saves most.
        rows: list[tuple[str, str, str]] = []
        for stage, values in config.masked()["stages"].items():
            for field_name in ("workers", "batch_size"):
                name = f"{stage}_{field_name}"
                rows.append((f"stages.{stage}.{field_name}", str(values[field_name]), config.origin(name, "default")))
        for key, value in config.masked().items():
            if key == "stages":
                continue
            shown = "–" if value in (None, "", []) else (", ".join(map(str, value)) if isinstance(value, list) else str(value))
            rows.append((key, shown, config.origins.get(key, "default")))
        return rows

    def action_profile(self) -> None:
        from .profiles import list_profiles

        can_load = not self.running or (self.session is not None and Phase(self.session.phase).preparing)
        screen = ProfileScreen(
            self.config.profile,
            self.profile_rows(),
            list_profiles(Path(self.config.config_dir)),
            can_load=can_load,
        )
        self.push_screen(screen, self._profile_answered)

    def _profile_answered(self, request: ProfileRequest | None) -> None:
        if request is None:
            return
        from .profiles import config_with_profile, save_profile

        if request.action == "save":
            try:
                path = save_profile(self._live_config(), request.name)
            except (ConfigError, ValueError, OSError) as exc:
                self.notify(str(exc), title="Profile not saved", severity="error")
                return
            self.notify(f"Saved profile {request.name!r} to {path}", title="Profile saved", timeout=5)
            return
        try:
            config = config_with_profile(self.config, request.name)
        except (ConfigError, ValueError, OSError) as exc:
            self.notify(str(exc), title="Profile not loaded", severity="error")
            return
        self.config = config
        self._show_info_from_config(config)
        if self.running:
            # Still preparing: stop this session and start again with the profile.
            self._restart_with = config
            assert self.session is not None
            self.session.cancel()
            self.notify(f"Restarting with profile {request.name!r}…", timeout=4)
        else:
            self.notify(f"Loaded profile {request.name!r}; starting the load.", timeout=4)
            self.start_load(config)


def run_dashboard(config: RunConfig) -> int:
    """Run the dashboard for ``config`` until the operator quits; return the exit code."""
    app = LoaderApp(config)
    try:
        app.run()
    except KeyboardInterrupt:  # a SIGINT outside raw mode (e.g. during start-up)
        return EXIT_CANCELLED
    code = app.return_code
    return app.outcome_code() if code is None else code
