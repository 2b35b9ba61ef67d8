"""Command palette entries for everything the dashboard can do."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .app import LoaderApp


class LoaderCommands(Provider):
    """Pause, drain, cancel, retry, search, profile, and per-stage tuning."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: LoaderApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Pause / resume the load", "Stop taking new batches, or carry on", app.action_toggle_pause),
            ("Drain the load", "Finish the batches in flight, take nothing new, then stop", app.action_drain),
            ("Cancel the load", "Stop now (asks first); unfinished items load next run", app.action_cancel_load),
            ("Retry failed items", "After the run: start a new run over the dead letters", app.action_retry_failed),
            ("Search the collection", "Run a hybrid query and see the hits", app.action_search),
            ("Run profile", "View the effective settings, save or load a profile", app.action_profile),
            ("Show the error log", "Focus the list of failed items", app.action_focus_errors),
        ]
        for stage in app.stage_names:
            commands.append(
                (f"Tune stage: {stage}", f"Edit {stage} workers and batch size", partial(app.edit_stage, stage))
            )
            commands.append((f"Add a worker: {stage}", f"One more {stage} worker", partial(app.tune_stage, stage, 1, 1.0)))
            commands.append(
                (f"Remove a worker: {stage}", f"One {stage} worker fewer", partial(app.tune_stage, stage, -1, 1.0))
            )
        commands.append(("Quit", "Leave the dashboard (asks first while a load runs)", app.action_quit_app))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
