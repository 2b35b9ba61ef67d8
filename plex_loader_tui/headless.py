"""``--no-ui``: the same load as the dashboard, for cron, servers and CI.

On a terminal it shows a compact live table (rich); otherwise it writes one
plain line every ``--progress-interval`` seconds to stdout, readable in a
log file (no colours, no carriage returns). Logs go to stderr (warnings only,
unless ``--log-level`` is given) and to ``--log-file``. SIGINT and SIGTERM
drain the pipeline (finish the batches in flight, take nothing new), write the
summary and exit 130 / 143; a second signal cancels at once. A fatal error
prints one ``plex-loader-tui: error: …`` line on stderr and exits 3.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from .errors import FatalError
from .exit_codes import ExitCode
from .figures import RATE_DECIMALS, latency
from .load import LoadResult, LoadSession
from .pipeline import PipelineSnapshot, PipelineState
from .printable import one_line, printable
from .secrets import redact
from .summary import build_summary, summary_lines, write_summary

if TYPE_CHECKING:
    from rich.console import RenderableType

    from .config import RunConfig

log = logging.getLogger(__name__)

EXIT_SIGNAL = {signal.SIGINT: ExitCode.SIGINT, signal.SIGTERM: ExitCode.SIGTERM}
PROG = "plex-loader-tui"


@dataclass(slots=True)
class _Signals:
    """The stop signals received so far (the first decides the exit code)."""

    received: list[signal.Signals] = field(default_factory=list)

    @property
    def draining(self) -> bool:
        return bool(self.received)


def run_headless(config: RunConfig, *, out: TextIO | None = None, plain_interval: float | None = None) -> int:
    """Run one load without a dashboard; return the process exit code.

    ``out`` receives the progress display (default stdout; a live table if it
    is a terminal, plain lines otherwise). ``plain_interval`` overrides
    ``config.progress_interval``, the seconds between plain lines.
    """
    interval = config.progress_interval if plain_interval is None else plain_interval
    return asyncio.run(_run(config, out or sys.stdout, interval))


def format_duration(seconds: float | None) -> str:
    """``1h02m03s`` / ``2m03s``; ``--`` when unknown."""
    if seconds is None:
        return "--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def progress_line(snap: PipelineSnapshot, *, draining: bool = False) -> str:
    """One plain progress line (no control characters).

    Every figure is in items (queues included); rates are over the last
    seconds while the run moves and the run's average ("avg") once it ended.
    """
    done = snap.done
    if snap.total:
        share = f"{done}/{snap.total} ({100 * done / snap.total:.1f}%)"
    else:
        share = f"{done}"
    ended = PipelineState(snap.state).ended
    per_s = "items/s avg" if ended else "items/s"
    queues = " ".join(f"{s.name} {s.queue_depth}/{s.queue_capacity}" for s in snap.stages)
    rates = " ".join(f"{s.name} {s.throughput:.{RATE_DECIMALS}f}/s" for s in snap.stages)
    trouble = " ".join(f"{s.name} {s.retries}/{s.errors}" for s in snap.stages)
    return (
        ("draining " if draining else "")
        + f"[{format_duration(snap.elapsed)}] {share} items, {snap.throughput:.{RATE_DECIMALS}f} {per_s}, "
        f"ETA {format_duration(snap.eta)} | loaded {snap.loaded} skipped {snap.skipped} failed {snap.failed} "
        f"| in flight {snap.in_flight} queued {snap.queued} | queues {queues} | rates{' avg' if ended else ''} {rates} "
        f"| retries/errors {trouble}"
        + (f" | bottleneck {snap.bottleneck}" if snap.bottleneck else "")
        + (f" | {snap.state}" if ended else "")
    )


async def _plain_reporter(session: LoadSession, out: TextIO, interval: float, signals: _Signals) -> None:
    last_phase = None
    while True:
        snap = session.snapshot()
        if snap is None:
            phase = (session.phase, session.phase_detail)
            if phase != last_phase and session.phase != "starting":
                line = f"{session.phase}: {printable(session.phase_detail)}".rstrip(": ")
                print(f"{_stamp()} {line}", file=out, flush=True)
                last_phase = phase
            await asyncio.sleep(0.2)
            continue
        if last_phase != ("running", ""):
            info = session.info
            where = f"{printable(info.source)} -> {printable(info.target)} [{printable(info.collection)}]"
            print(f"{_stamp()} running: {where}", file=out, flush=True)
            last_phase = ("running", "")
        print(f"{_stamp()} {progress_line(snap, draining=signals.draining)}", file=out, flush=True)
        await asyncio.sleep(interval)


def _stamp() -> str:
    # Same clock format as the log lines, so a log file of both reads in order.
    return time.strftime("%Y-%m-%d %H:%M:%S")


def render_live(session: LoadSession, snap: PipelineSnapshot | None, *, draining: bool = False) -> RenderableType:
    """The live display on a terminal: a status line, a progress bar and one row per stage."""
    from rich.console import Group
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    if snap is None:
        detail = f": {printable(session.phase_detail)}" if session.phase_detail else ""
        return Text.assemble((session.phase, "bold"), detail)
    title = Text.assemble(
        ("draining: " if draining else "", "bold yellow"),
        (printable(session.info.source), "bold"), " -> ", printable(session.info.target),
        f" [{printable(session.info.collection)}]",
        overflow="ellipsis", no_wrap=True,
    )
    total = snap.total or max(snap.done, 1)
    share = f"{100 * snap.done / snap.total:.0f}%" if snap.total else ""
    progress = Table.grid(padding=(0, 1))
    progress.add_row(
        ProgressBar(total=total, completed=min(snap.done, total), width=40),
        Text.assemble(
            (f"{snap.done}/{snap.total if snap.total is not None else '?'}", "bold"), f" {share}",
            f"  {snap.throughput:.1f} items/s{' avg' if PipelineState(snap.state).ended else ''}  ETA {format_duration(snap.eta)}"
            f"  {format_duration(snap.elapsed)}",
        ),
    )
    counts = Text.assemble(
        ("loaded ", "green"), str(snap.loaded), ("  skipped ", "cyan"), str(snap.skipped),
        ("  failed ", "red" if snap.failed else ""), str(snap.failed),
        "  in flight ", str(snap.in_flight), "  queued ", str(snap.queued),
        (f"  bottleneck: {snap.bottleneck}" if snap.bottleneck else "", "yellow"),
    )
    table = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0), header_style="bold")
    for column in ("stage", "state", "queue", "workers", "batch", "items/s", "p95", "retries", "failed", "errors"):
        table.add_column(column, justify="left" if column in ("stage", "state") else "right", no_wrap=True)
    for s in snap.stages:
        table.add_row(
            Text(s.name, style="bold yellow" if s.name == snap.bottleneck else ""),
            s.state,
            f"{s.queue_depth}/{s.queue_capacity}",
            f"{s.busy_workers}/{s.workers}",
            str(s.batch_size),
            f"{s.throughput:.1f}",
            latency(s.latency_p95, missing="-"),
            str(s.retries),
            Text(str(s.failed), style="red" if s.failed else ""),
            str(s.errors),
        )
    return Group(title, progress, counts, table)


async def _rich_reporter(session: LoadSession, out: TextIO, signals: _Signals) -> None:
    from rich.console import Console
    from rich.live import Live

    console = Console(file=out)
    with Live(render_live(session, session.snapshot()), console=console, refresh_per_second=4,
              transient=False, redirect_stdout=True, redirect_stderr=True) as live:
        # Console log handlers captured sys.stderr when they were made; point them at
        # Live's proxy so a warning prints above the display instead of through it.
        moved = _retarget_console_handlers(sys.stderr)
        try:
            while True:
                live.update(render_live(session, session.snapshot(), draining=signals.draining))
                await asyncio.sleep(0.25)
        finally:
            # Show the final figures, not the last quarter-second refresh.
            live.update(render_live(session, session.snapshot(), draining=signals.draining), refresh=True)
            _retarget_console_handlers(None, moved)


def _retarget_console_handlers(
    stream: TextIO | None, moved: dict[logging.StreamHandler, TextIO] | None = None
) -> dict[logging.StreamHandler, TextIO]:
    """Point the root's terminal log handlers at ``stream``; or put ``moved`` back."""
    if moved is not None:
        for handler, original in moved.items():
            handler.setStream(original)
        return {}
    swapped: dict[logging.StreamHandler, TextIO] = {}
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler and handler.stream in (sys.__stderr__, sys.__stdout__):
            swapped[handler] = handler.setStream(stream)
    return swapped


async def _run(config: RunConfig, out: TextIO, plain_interval: float) -> int:
    session = LoadSession(config)
    loop = asyncio.get_running_loop()
    signals = _Signals()

    def on_signal(sig: signal.Signals) -> None:
        if signals.received:
            print(f"{sig.name} again: cancelling now", file=sys.stderr, flush=True)
            session.cancel()
        else:
            print(f"{sig.name}: draining (finishing the batches in flight); send again to cancel", file=sys.stderr, flush=True)
            session.drain()
        signals.received.append(sig)

    for sig in EXIT_SIGNAL:
        loop.add_signal_handler(sig, on_signal, sig)

    is_tty = out.isatty()
    reporter = asyncio.create_task(
        _rich_reporter(session, out, signals) if is_tty else _plain_reporter(session, out, plain_interval, signals)
    )
    # Let the reporter start first: on a terminal it must own the console (and
    # re-point the log handlers) before the session logs its first line.
    await asyncio.sleep(0)
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
            failed_waiting=session.failed_waiting(),
            total=snap.total if snap is not None else None,
            startup=session.startup_seconds,
        )
    finally:
        reporter.cancel()
        await asyncio.gather(reporter, return_exceptions=True)
        for sig in EXIT_SIGNAL:
            loop.remove_signal_handler(sig)

    first_signal = signals.received[0] if signals.received else None
    exit_code = EXIT_SIGNAL[first_signal] if first_signal is not None and result.state != "failed" else result.exit_code
    summary = build_summary(
        result, session.info, session.config, exit_code=exit_code,
        signal=first_signal.name if first_signal is not None else None,
    )
    summary_error = None
    if config.summary_json:
        try:
            write_summary(config.summary_json, summary)
        except OSError as exc:  # checked at the start, so the disk filled up or the folder went away
            summary_error = f"cannot write the summary to {config.summary_json}: {exc.strerror or exc}"
    if result.snapshot is not None and not is_tty:
        print(f"{_stamp()} {progress_line(result.snapshot)}", file=out, flush=True)
    if result.state == "failed":
        # One line a person (or cron mail) can act on; the figures are in the summary.
        if result.snapshot is not None:
            for line in summary_lines({**summary, "fatal_error": None}):
                print(printable(line), file=out, flush=True)
        print(f"{PROG}: error: {one_line(summary['fatal_error'])}", file=sys.stderr, flush=True)
        return exit_code
    for line in summary_lines(summary):
        print(printable(line), file=out, flush=True)
    if summary_error is not None:
        print(f"{PROG}: error: {one_line(summary_error)}", file=sys.stderr, flush=True)
        return exit_code or ExitCode.FATAL
    if config.summary_json:
        print(f"summary written to {config.summary_json}", file=out, flush=True)
    return exit_code
