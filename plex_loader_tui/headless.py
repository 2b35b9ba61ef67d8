"""``--no-ui``: the same load as the dashboard, for cron, servers and CI.

On a terminal it shows a compact live table (rich); otherwise it writes one
plain line every few seconds, readable in a log file. SIGINT and SIGTERM
drain the pipeline (finish what is queued, take nothing new), write the
summary and exit 130 / 143; a second signal cancels at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from typing import TYPE_CHECKING, TextIO

from .load import LoadResult, LoadSession
from .pipeline import FatalError, PipelineSnapshot
from .secrets import redact
from .summary import build_summary, summary_lines, write_summary

if TYPE_CHECKING:
    from .config import RunConfig

log = logging.getLogger(__name__)

#: Seconds between plain progress lines when output is not a terminal.
PLAIN_INTERVAL = 5.0
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}


def run_headless(config: RunConfig, *, out: TextIO | None = None, plain_interval: float = PLAIN_INTERVAL) -> int:
    """Run one load without a dashboard; return the process exit code."""
    return asyncio.run(_run(config, out or sys.stdout, plain_interval))


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def progress_line(snap: PipelineSnapshot) -> str:
    """One plain progress line (no control characters)."""
    done = snap.done
    if snap.total:
        share = f"{done}/{snap.total} ({100 * done / snap.total:.1f}%)"
    else:
        share = f"{done}"
    queues = " ".join(f"{s.name} {s.queue_depth}/{s.queue_capacity}" for s in snap.stages)
    rates = " ".join(f"{s.name} {s.throughput:.1f}/s" for s in snap.stages)
    return (
        f"[{format_duration(snap.elapsed)}] {share} items, {snap.throughput:.1f} items/s, "
        f"ETA {format_duration(snap.eta)} | loaded {snap.loaded} skipped {snap.skipped} failed {snap.failed} "
        f"| queues {queues} | rates {rates}"
        + (f" | bottleneck {snap.bottleneck}" if snap.bottleneck else "")
    )


async def _plain_reporter(session: LoadSession, out: TextIO, interval: float) -> None:
    last_phase = None
    while True:
        snap = session.snapshot()
        if snap is None:
            phase = (session.phase, session.phase_detail)
            if phase != last_phase:
                print(f"{session.phase}: {session.phase_detail}".rstrip(": "), file=out, flush=True)
                last_phase = phase
            await asyncio.sleep(0.2)
            continue
        if last_phase != ("running", ""):
            print(f"running: {session.info.source} -> {session.info.target} [{session.info.collection}]", file=out, flush=True)
            last_phase = ("running", "")
        print(progress_line(snap), file=out, flush=True)
        await asyncio.sleep(interval)


async def _rich_reporter(session: LoadSession, out: TextIO) -> None:
    from rich.console import Console, Group
    from rich.live import Live
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out)

    def render() -> Group:
        snap = session.snapshot()
        if snap is None:
            return Group(Text(f"{session.phase}: {session.phase_detail}", style="bold"))
        total = snap.total or max(snap.done, 1)
        header = Text.assemble(
            (f"{snap.done}/{snap.total if snap.total is not None else '?'} items ", "bold"),
            f"{snap.throughput:.1f} items/s  ETA {format_duration(snap.eta)}  elapsed {format_duration(snap.elapsed)}  ",
            (f"loaded {snap.loaded}  ", "green"),
            (f"skipped {snap.skipped}  ", "cyan"),
            (f"failed {snap.failed}", "red" if snap.failed else ""),
        )
        table = Table(box=None, pad_edge=False, expand=False)
        for column in ("stage", "state", "queue", "workers", "batch", "items/s", "p95", "retries", "failed"):
            table.add_column(column, justify="right" if column not in ("stage", "state") else "left")
        for s in snap.stages:
            marker = " *" if s.name == snap.bottleneck else ""
            table.add_row(
                s.name + marker,
                s.state,
                f"{s.queue_depth}/{s.queue_capacity}",
                f"{s.busy_workers}/{s.workers}",
                str(s.batch_size),
                f"{s.throughput:.1f}",
                f"{s.latency_p95 * 1000:.0f} ms" if s.latency_p95 is not None else "-",
                str(s.retries),
                str(s.failed),
            )
        return Group(header, ProgressBar(total=total, completed=min(snap.done, total), width=60), table)

    with Live(render(), console=console, refresh_per_second=4, transient=False) as live:
        while True:
            live.update(render())
            await asyncio.sleep(0.25)


async def _run(config: RunConfig, out: TextIO, plain_interval: float) -> int:
    session = LoadSession(config)
    loop = asyncio.get_running_loop()
    received: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        if received:
            print(f"{sig.name} again: cancelling now", file=sys.stderr, flush=True)
            session.cancel()
        else:
            print(f"{sig.name}: draining (finishing queued items); send again to cancel", file=sys.stderr, flush=True)
            session.drain()
        received.append(sig)

    for sig in EXIT_SIGNAL:
        loop.add_signal_handler(sig, on_signal, sig)

    is_tty = out.isatty()
    reporter = asyncio.create_task(
        _rich_reporter(session, out) if is_tty else _plain_reporter(session, out, plain_interval)
    )
    started = time.monotonic()
    try:
        result = await session.run()
    except FatalError as exc:
        message = redact(str(exc), [config.plex_token, config.tmdb_api_key, config.qdrant_api_key])
        snap = session.snapshot()
        result = LoadResult(
            state="failed",
            duration=time.monotonic() - started,
            snapshot=snap,
            dead_letters=(),
            fatal_error=message,
            failed_waiting=0,
            total=snap.total if snap is not None else None,
        )
    finally:
        reporter.cancel()
        await asyncio.gather(reporter, return_exceptions=True)
        for sig in EXIT_SIGNAL:
            loop.remove_signal_handler(sig)

    exit_code = EXIT_SIGNAL[received[0]] if received and result.state != "failed" else result.exit_code
    summary = build_summary(
        result, session.info, session.config, exit_code=exit_code, signal=received[0].name if received else None
    )
    if config.summary_json:
        write_summary(config.summary_json, summary)
    if result.snapshot is not None and not is_tty:
        print(progress_line(result.snapshot), file=out, flush=True)
    for line in summary_lines(summary):
        print(line, file=out if result.state != "failed" else sys.stderr, flush=True)
    return exit_code
