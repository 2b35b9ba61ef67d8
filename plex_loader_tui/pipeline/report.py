"""What a stage's own code reports as it happens: the retries and errors it handled itself.

The engine counts the retries of its own :class:`~plex_loader_tui.pipeline.retry.RetryPolicy`
and the batches that fail. A stage function often retries below that, out of
the engine's sight: an HTTP client that tries a request again, a service whose
answer is missing and the item goes on without it. Such code gets a plain
callback (``report.retry``, ``report.error``) from whoever builds the stage,
and the stage's counters show it at once.

A report is thread-safe: stage functions run in worker threads, and HTTP
libraries call their retry hooks from there.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReportCounts:
    """A stage's retries and errors so far, and the last error's text."""

    retries: int = 0
    errors: int = 0
    last_error: str | None = None


class StageReport:
    """The retry and error counters of one stage (see the module docstring).

    Every retry is also an error (an attempt failed); an error without a
    retry is a failure the stage handled (an item that goes on without some
    data, a batch that was split or dead-lettered).
    """

    __slots__ = ("_lock", "_retries", "_errors", "_last_error")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._retries = 0
        self._errors = 0
        self._last_error: str | None = None

    def retry(self, error: str) -> None:
        """An attempt failed with ``error`` and will be tried again."""
        with self._lock:
            self._retries += 1
            self._errors += 1
            self._last_error = error

    def error(self, error: str, n: int = 1) -> None:
        """``n`` failures (``error`` describes the latest) that no retry of this stage will redo."""
        if n <= 0:
            return
        with self._lock:
            self._errors += n
            self._last_error = error

    def counts(self) -> ReportCounts:
        with self._lock:
            return ReportCounts(self._retries, self._errors, self._last_error)
