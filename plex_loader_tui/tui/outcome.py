"""What the dashboard says once a run has ended: the notification and the next-step hint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..config import RunConfig
from ..exit_codes import ExitCode
from ..load.outcome import LoadResult, Phase, SessionInfo
from ..pipeline.metrics import PipelineSnapshot
from ..summary import build_summary, outcome_line, pacing_entries, pacing_note
from . import format as fmt

EXIT_OK = ExitCode.OK
EXIT_FAILED_ITEMS = ExitCode.FAILED_ITEMS
EXIT_FATAL = ExitCode.FATAL
EXIT_DRAINED = ExitCode.DRAINED
#: Cancelling the load from the dashboard reports the same code as Ctrl+C.
EXIT_CANCELLED = ExitCode.SIGINT
EXIT_TERMINATED = ExitCode.SIGTERM


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification: its text, title and severity."""

    message: str
    title: str
    severity: Literal["information", "warning", "error"] = "information"


def ending(result: LoadResult) -> str:
    """How the run ended, in a few words: completed, drained with N left, cancelled, failed."""
    state = result.state
    if state == Phase.FINISHED:
        return "completed"
    if state in (Phase.DRAINED, Phase.CANCELLED):
        left = result.left
        return f"{state}: {left:,} {_items(left)} left for the next run" if left else str(state)
    return str(state)


def next_step_note(result: LoadResult) -> str:
    """The final frame's hint under the progress panel: how the run ended and what to do now."""
    snapshot = result.snapshot
    failed = snapshot.failed if snapshot is not None else 0
    # The state store's count covers earlier runs too; the snapshot's, this run.
    waiting = result.waiting_for_retry
    if waiting > failed:
        step = f"{failed:,} failed, {waiting:,} in all waiting for a retry: press r"
    elif waiting:
        step = f"{waiting:,} failed {_items(waiting)} waiting for a retry: press r"
    else:
        step = "press s to search the collection, q to quit"
    return f"{ending(result)} · {step}"


def result_notice(result: LoadResult) -> Notice:
    """The notification that closes a run: the final frame's figures, and its clock."""
    snapshot, state = result.snapshot, result.state
    if snapshot is None:
        return Notice(f"Load {state} before any item was processed.", f"Load {state}")
    failed = snapshot.failed
    # The run's time as the frame shows it; the start-up before it, said apart.
    startup = f" (after {result.startup:.1f} s start-up)" if result.startup else ""
    message = (
        f"loaded {snapshot.loaded:,} · skipped {snapshot.skipped:,} · failed {failed:,} "
        f"in {fmt.duration(snapshot.elapsed)}{startup}"
    )
    if state in (Phase.DRAINED, Phase.CANCELLED) and result.left:
        message += f"\n{result.left:,} {_items(result.left)} left for the next run."
    paced = pacing_note(pacing_entries(result), snapshot.elapsed)
    if paced is not None:
        message += f"\n{paced}."
    if failed:
        message += "\nPress r to retry the failed items."
    return Notice(message, f"Load {state}", "warning" if failed or result.left else "information")


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


def _items(n: int) -> str:
    return "item" if n == 1 else "items"
