"""The demo server's request log: one :class:`RequestRecord` per answered request.

Tests assert exact request counts against it, by service and path prefix.
"""

from __future__ import annotations

import threading
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


class RequestLog:
    """The records of the requests a server answered, oldest first (thread-safe)."""

    def __init__(self) -> None:
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[RequestRecord]:
        """A copy of the log."""
        with self._lock:
            return list(self._records)

    def count(self, service: Service | None, prefix: str | None) -> int:
        """Records of ``service`` (any if ``None``) whose path starts with ``prefix``."""
        with self._lock:
            return sum(
                1
                for r in self._records
                if (service is None or r.service == service) and (prefix is None or r.path.startswith(prefix))
            )

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
