"""What the dashboard says once a run has ended: the notification and the next-step hint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..config import RunConfig
from ..exit_codes import ExitCode
from ..load.outcome import LoadResult, Phase, SessionInfo
from ..pipeline.metrics import PipelineSnapshot
from ..summary import build_summary, outcome_line

EXIT_OK = ExitCode.OK
EXIT_FAILED_ITEMS = ExitCode.FAILED_ITEMS
EXIT_FATAL = ExitCode.FATAL
#: Cancelling the load from the dashboard reports the same code as Ctrl+C.
EXIT_CANCELLED = ExitCode.SIGINT
EXIT_TERMINATED = ExitCode.SIGTERM


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification: its text, title and severity."""

    message: str
    title: str
    severity: Literal["information", "warning", "error"] = "information"


def next_step_note(result: LoadResult) -> str:
    """The hint under the progress panel: what the operator can do now."""
    snapshot = result.snapshot
    # The state store's count covers earlier runs too; the snapshot's, this run.
    waiting = result.failed_waiting or (snapshot.failed if snapshot is not None else 0)
    if waiting:
        noun = "item" if waiting == 1 else "items"
        return f"{waiting:,} failed {noun} waiting for a retry: press r"
    return "press s to search the collection, q to quit"


def result_notice(result: LoadResult) -> Notice:
    """The notification that closes a run."""
    snapshot, state = result.snapshot, result.state
    if snapshot is None:
        return Notice(f"Load {state} before any item was processed.", f"Load {state}")
    failed = snapshot.failed
    message = (
        f"loaded {snapshot.loaded:,} · skipped {snapshot.skipped:,} · failed {failed:,} "
        f"in {result.duration:.1f} s"
    )
    if failed:
        message += "\nPress r to retry the failed items."
    return Notice(message, f"Load {state}", "warning" if failed else "information")


def unfinished_result(snapshot: PipelineSnapshot | None, fatal_error: str | None) -> LoadResult:
    """How a load ended that never handed back its own result (a fatal error, or a quit that cut it short)."""
    return LoadResult(
        state=Phase.FAILED if fatal_error else Phase.CANCELLED,
        duration=snapshot.elapsed if snapshot is not None else 0.0,
        snapshot=snapshot,
        fatal_error=fatal_error,
        total=snapshot.total if snapshot is not None else None,
    )


def exit_line(result: LoadResult, info: SessionInfo, config: RunConfig, exit_code: int) -> str:
    """What the terminal shows once the dashboard has closed: headless's closing line, same figures."""
    return outcome_line(build_summary(result, info, config, exit_code=exit_code))
