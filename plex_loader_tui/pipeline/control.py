"""The control surface front ends drive, for objects that host a pipeline.

A load session builds its :class:`Pipeline` only after connecting and loading
models; until then the controls are harmless no-ops (or refuse, for tuning).
"""

from __future__ import annotations

from .engine import Pipeline
from .metrics import PipelineSnapshot


class PipelineControls:
    """Delegates pause/resume/drain/cancel, tuning and metrics to ``self._pipeline``."""

    _pipeline: Pipeline | None = None

    @property
    def pipeline(self) -> Pipeline | None:
        return self._pipeline

    def snapshot(self) -> PipelineSnapshot | None:
        """The engine's metrics now, or ``None`` before the pipeline exists."""
        return self._pipeline.snapshot() if self._pipeline is not None else None

    def set_workers(self, stage: str, n: int) -> None:
        if self._pipeline is None:
            raise ValueError("the load has not started yet")
        self._pipeline.set_workers(stage, n)

    def set_batch_size(self, stage: str, n: int) -> None:
        if self._pipeline is None:
            raise ValueError("the load has not started yet")
        self._pipeline.set_batch_size(stage, n)

    @property
    def paused(self) -> bool:
        return self._pipeline is not None and self._pipeline.paused

    def pause(self) -> None:
        if self._pipeline is not None:
            self._pipeline.pause()

    def resume(self) -> None:
        if self._pipeline is not None:
            self._pipeline.resume()

    def drain(self) -> None:
        """Finish the batches in flight, take nothing new, stop."""
        if self._pipeline is not None:
            self._pipeline.drain()

    def cancel(self) -> None:
        """Stop now; queued and in-flight items are reported unfinished."""
        if self._pipeline is not None:
            self._pipeline.cancel()
