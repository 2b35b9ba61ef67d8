"""Small, pure formatting helpers for numbers the dashboard shows."""

from __future__ import annotations

import logging
import time

from .. import figures

log = logging.getLogger(__name__)


def duration(seconds: float | None) -> str:
    """``75.2`` → ``'1:15'``, ``3725`` → ``'1:02:05'``, ``None`` → ``'–'``."""
    if seconds is None:
        return "–"
    total = int(round(max(0.0, seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def rate(items_per_second: float) -> str:
    """Items per second with a precision that suits the size."""
    if items_per_second >= 100:
        return f"{items_per_second:,.0f}/s"
    if items_per_second >= 10:
        return f"{items_per_second:.1f}/s"
    return f"{items_per_second:.2f}/s"


def latency(seconds: float | None) -> str:
    """Batch latency in the one unit every front end uses; ``None`` (no batch yet) → ``'–'``."""
    return figures.latency(seconds)


def count(n: int) -> str:
    """A count with thousands separators."""
    return f"{n:,}"


def clock(timestamp: float) -> str:
    """A wall-clock time (local) as ``HH:MM:SS``; ``0`` → ``'--:--:--'``."""
    if not timestamp:
        return "--:--:--"
    return time.strftime("%H:%M:%S", time.localtime(timestamp))


def one_line(text: str, width: int = 200) -> str:
    """Collapse whitespace so a multi-line error fits a table cell."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
