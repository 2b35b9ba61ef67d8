"""Waiting for an event with a time limit, without losing a cancellation.

``asyncio.wait_for(event.wait(), t)`` on Python 3.11 returns normally when the
task is cancelled in the same turn of the event loop as the event is set: the
cancellation is lost (CPython gh-86296, fixed in 3.12). The engine met it when
a drain woke a batch waiting to retry and a fatal error cancelled the worker
at once: the worker went on and released its batch a second time.
``asyncio.timeout`` delivers the cancellation.
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait until ``event`` is set (True) or ``timeout`` seconds pass (False); ``None`` waits for ever."""
    if event.is_set():
        return True
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True
