"""A circuit breaker for a service that asked us to come back much later.

A 429 whose ``Retry-After`` is longer than the enricher is willing to wait
(``EnrichSettings.max_retry_after``) does not put the stage to sleep: it
opens the service's :class:`Circuit`. While it is open, that service's
lookups fail at once with "rate-limited, retry later" and send nothing; the
items go on without its data and are kept for ``retry-failed``. Once the
``Retry-After`` time has passed the circuit closes by itself and the next
lookup asks again (a new long ``Retry-After`` opens it again).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServicePause:
    """An open circuit, for the dashboard and the summary.

    ``retry_after`` is what the service asked for (seconds), ``resumes_in``
    what is left of it now.
    """

    service: str
    retry_after: float
    resumes_in: float

    @property
    def note(self) -> str:
        """``"tmdb paused: Retry-After 1h"``."""
        return f"{self.service} paused: Retry-After {short_duration(self.retry_after)}"


def retry_later_reason(retry_after: float) -> str:
    """The reason recorded on the items a pause leaves without data (the same for all of them)."""
    return f"rate-limited, retry later (Retry-After {retry_after:.0f} s)"


def short_duration(seconds: float) -> str:
    """``3600`` → ``"1h"``, ``5400`` → ``"1h30m"``, ``150`` → ``"2m30s"``, ``45`` → ``"45s"``."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    text = "".join(f"{n}{unit}" for n, unit in parts if n)
    return text or "0s"


class Circuit:
    """Open from a long ``Retry-After`` until that time has passed; used from one event loop."""

    def __init__(self, service: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self._clock = clock
        self._until = 0.0
        self._retry_after = 0.0

    def open(self, retry_after: float) -> bool:
        """Stay open ``retry_after`` seconds from now; True if it was closed before."""
        was_open = self.is_open
        now = self._clock()
        if now + retry_after > self._until:
            self._until = now + retry_after
            self._retry_after = retry_after
        return not was_open

    @property
    def is_open(self) -> bool:
        return self._clock() < self._until

    @property
    def retry_after(self) -> float:
        """The ``Retry-After`` that opened it (seconds)."""
        return self._retry_after

    @property
    def reason(self) -> str:
        return retry_later_reason(self._retry_after)

    def pause(self) -> ServicePause | None:
        """The pause while open, else None."""
        left = self._until - self._clock()
        if left <= 0:
            return None
        return ServicePause(self.service, self._retry_after, left)
