"""A load session around a real :class:`Pipeline` of simulated stages.

It has the control surface the dashboard drives (the one
:class:`plex_loader_tui.load.LoadSession` has) but its four stages only wait
(``asyncio.sleep``) instead of calling Plex, TMDb, fastembed and Qdrant. The
engine underneath is the real one: queues, worker pools, pause, drain, cancel
and the metrics snapshot are exactly what a real load uses. It lets the Pilot
tests steer a run whose speed they choose, without a model in the loop.
"""

from __future__ import annotations

import asyncio

from plex_loader_tui.config import RunConfig, StageConfig
from plex_loader_tui.load import LoadResult, SessionInfo
from plex_loader_tui.pipeline import (
    FatalError,
    Pipeline,
    PipelineControls,
    RetryPolicy,
    Stage,
)
from plex_loader_tui.search import SearchHit
from plex_loader_tui.stages import STAGE_NAMES as STAGES


class SimSession(PipelineControls):
    """See the module docstring. ``delay`` is the seconds each batch takes in every stage.

    ``models`` is the phase detail while the models "load"; ``title`` and
    ``error`` (formatted with the item) name a failed item and its error.
    """

    def __init__(
        self,
        config: RunConfig,
        *,
        items: int = 400,
        delay: float = 0.02,
        fail_every: int = 0,
        fatal_after: int | None = None,
        hold_models: bool = False,
        models: str = "simulated models",
        title: str = "Simulated item {}",
        error: str = "cannot embed item {}: no text",
    ) -> None:
        self.config = config
        self.info = SessionInfo(
            source="Simulated Plex at http://127.0.0.1:1 (token ****abcd)",
            target="Qdrant (embedded) /tmp/sim",
            collection=config.collection,
            profile=config.profile,
        )
        self.phase = "starting"
        self.phase_detail = ""
        self.items = items
        self.delay = delay
        self.fail_every = fail_every
        self.fatal_after = fatal_after
        self.models = models
        self.title = title
        self.error = error
        #: Set it to let "model loading" finish (it starts set unless ``hold_models``).
        self.models_ready = asyncio.Event()
        if not hold_models:
            self.models_ready.set()
        self._pipeline: Pipeline | None = None
        self._cancelled = False
        self._seen = 0

    # --------------------------------------------------------------- stages
    def _work(self, name: str):
        async def fn(batch: list[int]) -> list[int]:
            await asyncio.sleep(self.delay)
            if name == "embed":
                self._seen += len(batch)
                if self.fatal_after is not None and self._seen >= self.fatal_after:
                    raise FatalError("Qdrant rejected the API key (403) at http://127.0.0.1:6333: check QDRANT_API_KEY")
                if self.fail_every:
                    bad = [i for i in batch if i % self.fail_every == self.fail_every - 1]
                    if bad:
                        raise ValueError(self.error.format(bad[0]))
            return batch

        return fn

    def _stages(self) -> list[Stage]:
        return [
            Stage(
                name,
                self._work(name),
                workers=self.config.stage(name).workers,
                batch_size=self.config.stage(name).batch_size,
                queue_size=self.config.queue_size,
                retry=RetryPolicy(attempts=1),
                describe=self.title.format,
                linger=0.0,
            )
            for name in STAGES
        ]

    # ------------------------------------------------------------------ run
    async def run(self) -> LoadResult:
        self.phase = "loading-models"
        self.phase_detail = self.models
        await self.models_ready.wait()
        if self._cancelled:
            self.phase = "cancelled"
            return LoadResult("cancelled", 0.0, None)
        self._pipeline = Pipeline(self._stages(), range(self.items), total=self.items)
        self.phase = "running"
        self.phase_detail = ""
        try:
            result = await self._pipeline.run()
        except FatalError:
            self.phase = "failed"
            raise
        self.phase = result.state
        return LoadResult(result.state, result.duration, result.snapshot)

    # -------------------------------------------------------------- control
    # snapshot, set_workers, set_batch_size, pause, resume, drain: PipelineControls.
    def cancel(self) -> None:
        self._cancelled = True
        self.models_ready.set()
        super().cancel()

    def stage_settings(self) -> dict[str, StageConfig]:
        if self._pipeline is None:
            return {name: self.config.stage(name) for name in STAGES}
        return {
            name: StageConfig(self._pipeline.workers(name), self._pipeline.batch_size(name)) for name in STAGES
        }

    async def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        done = self._pipeline.snapshot().loaded if self._pipeline is not None else 0
        return [
            SearchHit(f"sim-{i}", 1.0 / (i + 1), f"Simulated item {i} ({query})", "movie", 2000 + i, None, {})
            for i in range(min(done, limit))
        ]

    async def release(self) -> None:
        pass

    def failed_waiting(self) -> int:
        return 0
