"""What the dashboard does differently while attached to a service (``attach``, ``web``).

The screens are the same; a few keys change meaning, because the load is the
service's and outlives the dashboard:

* ``q`` detaches (the service keeps running) and asks nothing; there is no
  ``c`` (a service is stopped with ``d``, which drains it, or by its manager);
* ``r`` asks the service to retry its dead letters, while it runs;
* tuning always goes to the service (which applies it to the running sync and
  to every later one), never to a local "next run";
* ``o`` (profiles) is left out: a profile is the service's own start-up config.

:class:`AttachHeader` says so at the top: the service's URL, its state and
uptime, or "reconnecting…".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Static

from ..errors import FatalError
from ..pipeline.metrics import StageSnapshot
from ..service.controls import ServiceState
from ..stages import StageName
from . import format as fmt
from .attached import AttachedSession, AttachView, Link
from .outcome import EXIT_OK
from .plain import plain_value

if TYPE_CHECKING:
    from .app import LoaderApp

    _Base = LoaderApp
else:
    _Base = object

#: The app's actions an attached dashboard does not offer.
HIDDEN_WHEN_ATTACHED = frozenset({"quit_app", "cancel_load", "profile"})
#: The actions only an attached dashboard offers.
ONLY_WHEN_ATTACHED = frozenset({"detach"})

#: How each service state reads in the header.
STATE_MARKS: dict[ServiceState, str] = {
    ServiceState.STARTING: "◌ starting",
    ServiceState.LOADING: "● syncing",
    ServiceState.WATCHING: "○ watching Plex",
    ServiceState.PAUSED: "‖ paused",
    ServiceState.DRAINING: "■ draining",
    ServiceState.STOPPED: "✗ stopped",
}


def detach_bindings() -> list[Binding]:
    """``q`` (and Ctrl+Q): leave the dashboard, the service keeps running (only while attached)."""
    tooltip = "Attached to a service: detach, leave the dashboard; the service keeps running"
    return [
        Binding("q", "detach", "Detach", id="detach", tooltip=tooltip),
        Binding("ctrl+q", "detach", "Detach", id="detach-ctrl", show=False, priority=True, tooltip=tooltip),
    ]


class AttachHeader(Static):
    """Two lines at the top right: attached to which service; its state and uptime, or reconnecting."""

    def show(self, view: AttachView) -> None:
        first = Text.assemble(("⇄ attached ", "bold"), plain_value(view.url))
        if view.link is Link.RECONNECTING:
            second = Text.assemble(("⟳ reconnecting…", "bold reverse"), f" attempt {view.attempt}")
        elif view.link is Link.CONNECTING:
            second = Text("connecting…")
        elif view.link is Link.STOPPED:
            second = Text("✗ the service stopped (drained)", "bold")
        elif view.link is Link.DETACHED:
            second = Text("detached")
        else:
            mark = STATE_MARKS.get(view.state, str(view.state)) if view.state is not None else "?"
            second = Text.assemble((mark, "bold"), "  up ", (fmt.duration(view.uptime), "bold"))
        self.update(Text.assemble(first, "\n", second))


class AttachedMixin(_Base):
    """The attached mode's keys and header (mixed into :class:`~plex_loader_tui.tui.app.LoaderApp`)."""

    @property
    def attached(self) -> bool:
        """True while the dashboard hosts a service (not a load of its own)."""
        return isinstance(self.session, AttachedSession)

    def attached_check(self, action: str) -> bool | None:
        """``check_action``'s answer for ``action`` in the current mode; None: the usual rules decide."""
        if not self.attached:
            return False if action in ONLY_WHEN_ATTACHED else None
        if action in HIDDEN_WHEN_ATTACHED:
            return False
        if action == "retry_failed":
            return self.running
        return None

    def help_bindings(self, bindings: list[BindingType]) -> list[BindingType]:
        """The bindings the key help lists: all of them, less those an attached dashboard does not offer."""
        if not self.attached:
            return bindings
        return [b for b in bindings if not (isinstance(b, Binding) and b.action in HIDDEN_WHEN_ATTACHED)]

    def show_attached(self) -> None:
        """Refresh the header's attached facts (called by each poll)."""
        header = self.query_one(AttachHeader)
        session = self.session
        header.display = isinstance(session, AttachedSession)
        if isinstance(session, AttachedSession):
            header.show(session.view())

    def next_sync_settings(self, stage: StageSnapshot) -> tuple[StageSnapshot, bool]:
        """Between the service's syncs: the stage as the next sync starts it (True when tuned since)."""
        assert self.session is not None
        planned = self.session.stage_settings().get(stage.name)
        if planned is None:
            return stage, False
        # The engine's ingest batch counts listing pages; the setting is the Plex page size: compare workers only.
        batch = stage.batch_size if stage.name == StageName.INGEST else planned.batch_size
        if (planned.workers, batch) == (stage.workers, stage.batch_size):
            return stage, False
        return dataclasses.replace(stage, workers=planned.workers, batch_size=batch), True

    def action_detach(self) -> None:
        """Leave the dashboard; the service keeps running (exit 0)."""
        self._stop_then_exit(EXIT_OK)

    def service_control(self, call: Callable[[], None], done: str, timeout: float = 3) -> bool:
        """Run a control; a refusal (the API's words) or a lost service is a notification, not a crash."""
        try:
            call()
        except (ValueError, FatalError) as exc:
            self.notify(str(exc), title="Not applied", severity="error")
            return False
        self.notify(done, timeout=timeout)
        self._poll()
        return True

    def retry_on_service(self) -> None:
        session = self.session
        assert isinstance(session, AttachedSession)
        self.service_control(session.retry_failed, "The service retries its failed items when its current sync ends.")
