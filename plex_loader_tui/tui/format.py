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


#: Counts up to this are shown exactly by :func:`short_count`; above it, in thousands or millions.
EXACT_UP_TO = 99_999
#: The most characters :func:`short_count` ever returns (``'99,999'``, ``'123.4k'``).
SHORT_COUNT_WIDTH = 6


def short_count(n: int) -> str:
    """A count in at most :data:`SHORT_COUNT_WIDTH` characters, for fields of a fixed width.

    Exact up to 99,999 (``'12,345'``); then one decimal of a unit: ``'123.4k'``,
    ``'1.2M'``, ``'12.3G'``. A panel sized for six characters never cuts a count.
    """
    if n <= EXACT_UP_TO:
        return f"{n:,}"
    value = n / 1000
    for unit in ("k", "M", "G"):
        if round(value, 1) < 1000:  # 999,960 is "1.0M", not "1000.0k"
            return f"{value:.1f}{unit}"
        value /= 1000
    return f"{value:.1f}T"


def clock(timestamp: float) -> str:
    """A wall-clock time (local) as ``HH:MM:SS``; ``0`` → ``'--:--:--'``."""
    if not timestamp:
        return "--:--:--"
    return time.strftime("%H:%M:%S", time.localtime(timestamp))

