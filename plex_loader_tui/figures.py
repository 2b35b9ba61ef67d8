"""How every front end writes the figures whose unit could differ: declared once, here.

The engine measures batch latencies in seconds; the dashboard, the headless
table and lines, and the summary JSON all show them in :data:`LATENCY_UNIT`.
Rates are written with :data:`RATE_DECIMALS` decimals, and the summary JSON
stores them rounded the same way, so a line and the JSON never differ by a
rounding.
"""

from __future__ import annotations

#: The one unit of batch latencies (p50/p95) on screen and in the summary.
LATENCY_UNIT = "ms"
#: Decimals of an items/s rate in the headless lines and the summary JSON.
RATE_DECIMALS = 1


def rate_value(per_second: float) -> float:
    """A rate as the headless lines write it (``f"{rate:.{RATE_DECIMALS}f}"`` shows the same)."""
    return round(per_second, RATE_DECIMALS)


def latency_value(seconds: float | None) -> int | None:
    """A latency in :data:`LATENCY_UNIT`, rounded (``None`` before any batch)."""
    return None if seconds is None else round(seconds * 1000)


def latency(seconds: float | None, missing: str = "–") -> str:
    """``0.134`` → ``'134 ms'``, ``2.5`` → ``'2,500 ms'``; ``missing`` before any batch."""
    value = latency_value(seconds)
    return missing if value is None else f"{value:,} {LATENCY_UNIT}"
