"""The demo server's request log: one :class:`RequestRecord` per answered request.

Tests assert exact request counts against it, by service and path prefix. The
counts stay exact for ever; the records kept for inspection are the most recent
:data:`KEPT_RECORDS`, so a long ``--demo`` load, whose server runs in the
loader's own process, does not grow with every request it answers.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass

from .faults import Service


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the demo server answered.

    ``path`` is relative to the service (``/movie/603`` for TMDb,
    ``/titles:batchGet`` for IMDb, ``/library/sections/1/all`` for Plex);
    ``query`` maps each parameter to its values, credentials masked.
    """

    service: Service
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    at: float


#: Records kept for inspection (far more than any test's server answers).
KEPT_RECORDS = 10_000


class RequestLog:
    """The records of the requests a server answered, oldest first, and exact counts (thread-safe)."""

    def __init__(self) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=KEPT_RECORDS)
        self._counts: Counter[tuple[Service, str]] = Counter()
        self._lock = threading.Lock()

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)
            self._counts[record.service, record.path] += 1

    def snapshot(self) -> list[RequestRecord]:
        """A copy of the records kept (the most recent :data:`KEPT_RECORDS`)."""
        with self._lock:
            return list(self._records)

    def count(self, service: Service | None, prefix: str | None) -> int:
        """Requests of ``service`` (any if ``None``) whose path starts with ``prefix``: every one answered."""
        with self._lock:
            return sum(
                n
                for (svc, path), n in self._counts.items()
                if (service is None or svc == service) and (prefix is None or path.startswith(prefix))
            )

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._counts.clear()
