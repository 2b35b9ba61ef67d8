"""The generic staged pipeline engine.

It knows nothing about Plex, Qdrant or Textual: stages are functions of a
batch, joined by bounded queues, each with a resizable worker pool, a retry
policy and a dead-letter route.
"""

from .control import PipelineControls
from .engine import Pipeline, PipelineResult
from .errors import DeadLetter, FatalError
from .host import StageHost
from .metrics import PipelineSnapshot, PipelineState, StageSnapshot, StageState
from .report import ReportCounts, StageReport
from .retry import RetryPolicy
from .spec import MAX_BATCH_SIZE, MAX_WORKERS, ItemFailure, Stage, StageOutput, StageStatus

__all__ = [
    "MAX_BATCH_SIZE",
    "MAX_WORKERS",
    "DeadLetter",
    "FatalError",
    "ItemFailure",
    "Pipeline",
    "PipelineControls",
    "PipelineResult",
    "PipelineSnapshot",
    "PipelineState",
    "ReportCounts",
    "RetryPolicy",
    "Stage",
    "StageHost",
    "StageOutput",
    "StageReport",
    "StageSnapshot",
    "StageState",
    "StageStatus",
]
