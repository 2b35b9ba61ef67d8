"""Live tuning of a stage's workers and batch size, from keys and the edit dialog.

A change reaches the engine at once while the pipeline still moves items;
otherwise it becomes the config of the next run (and says so).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..config import StageConfig
from ..errors import FatalError
from ..stages import StageName
from .screens import StageEdit, StageEditScreen
from .widgets import StagePanel

if TYPE_CHECKING:
    from .app import LoaderApp

    _Base = LoaderApp
else:
    _Base = object


class TuningMixin(_Base):
    """The dashboard's stage tuning (mixed into :class:`~plex_loader_tui.tui.app.LoaderApp`)."""

    def _current_settings(self, stage: str) -> tuple[int, int]:
        """The running stage's settings; between runs, those the next run starts with."""
        if self.session is not None and self.running:
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
        # Attached: the service applies a change to its running sync and to every later one.
        live = self.attached or (snapshot is not None and snapshot.state.moving)
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
                    if edit.stage != StageName.INGEST:
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
