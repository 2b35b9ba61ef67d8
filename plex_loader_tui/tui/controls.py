"""The dashboard's run controls: pause, drain, cancel, retry, search, focus and quit."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ..load.outcome import Phase
from .outcome import EXIT_CANCELLED
from .screens import ConfirmScreen, SearchScreen
from .widgets import ErrorLog, StagePanel

if TYPE_CHECKING:
    from .app import LoaderApp

    _Base = LoaderApp
else:
    _Base = object

#: Actions that only make sense with the dashboard itself on screen.
DASHBOARD_ONLY = frozenset({"search", "edit_focused", "focus_stage", "focus_errors", "profile"})


class ControlsMixin(_Base):
    """Key actions that steer the run (mixed into :class:`~plex_loader_tui.tui.app.LoaderApp`)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # (Textual already keeps app keys away from a modal dialog; the search
        # screen is a full screen, so its dashboard-only keys are switched off here.)
        if isinstance(self.screen, SearchScreen) and action in DASHBOARD_ONLY:
            return False
        attached = self.attached_check(action)
        if attached is not None:
            return attached
        # A key that cannot act now leaves the footer (False) instead of showing dimmed
        # (None): an 80-column footer has no room for keys that do nothing.
        running = self.running
        if action in ("toggle_pause", "drain", "cancel_load"):
            return running and self.session is not None and not Phase(self.session.phase).preparing
        if action == "retry_failed":
            return not running and self.session is not None
        return True

    def action_toggle_pause(self) -> None:
        session = self.session
        if session is None or not self.running:
            return
        if self.attached:
            if session.paused:
                self.service_control(session.resume, "Resumed.", timeout=2)
            else:
                self.service_control(session.pause, "Paused: the service starts no new batch and no sync until resumed.", timeout=4)
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
        if self.attached:
            self.service_control(self.session.drain, "Draining the service: it finishes the batches in flight, then stops.", timeout=6)
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
        if self.attached:
            self.retry_on_service()
            return
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
            from ..load import CollectionSearcher

            # One searcher for the app's life: it keeps the models and, while queries come, the collection.
            if self._searcher is None:
                self._searcher = CollectionSearcher(self.config)
            search = self._searcher.search
        collection = session.info.collection if self.attached and session is not None else self.config.collection
        self.push_screen(SearchScreen(search, collection))

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
