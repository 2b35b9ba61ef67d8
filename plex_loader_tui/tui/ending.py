"""How a run's end shows on the dashboard: the closing notification, the fatal frame, the exit code.

Mixed into :class:`~plex_loader_tui.tui.app.LoaderApp`; the figures and words
come from :mod:`.outcome`, shared with the line left in the terminal.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..errors import FatalError
from ..load.outcome import Phase
from ..secrets import mask_in_text, redact
from .outcome import EXIT_CANCELLED, EXIT_FATAL, EXIT_OK, exit_line, next_step_note, result_notice, unfinished_result
from .screens import FatalErrorScreen
from .widgets import OverallPanel, PhaseBar, StagePanel

if TYPE_CHECKING:
    from .app import LoaderApp

    _Base = LoaderApp
else:
    _Base = object

log = logging.getLogger(__name__)


class EndingMixin(_Base):
    """The end of a run on screen (mixed into :class:`~plex_loader_tui.tui.app.LoaderApp`)."""

    def _next_step_note(self) -> str:
        """A hint under the progress panel once a run has ended."""
        if self.running or self.result is None:
            return ""
        return next_step_note(self.result)

    def _announce_result(self) -> None:
        assert self.result is not None
        notice = result_notice(self.result)
        self.notify(notice.message, title=notice.title, severity=notice.severity, timeout=10)

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
        # What "Back to dashboard" shows: the run failed (the polls stop drawing over it).
        for overall in self.query(OverallPanel):
            overall.show_failed(message)
        for panel in self.query(StagePanel):
            panel.show_stopped()
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

    def exit_line(self, exit_code: int) -> str | None:
        """The closing line for the terminal: how the last load ended (None if none started)."""
        session = self.session
        if session is None:
            return None
        result = self.result or unfinished_result(session.snapshot(), self.fatal_message)
        return exit_line(result, session.info, session.config, exit_code)
