"""The process exit codes: declared once, here, with what each one means.

Every front end (headless, dashboard, the other commands) returns one of
these; the ``--help`` epilog and the README's table are written from
:data:`EXIT_CODE_TABLE`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """How a run ended, as a process exit status."""

    OK = 0
    FAILED_ITEMS = 1
    #: ``doctor`` found problems: the same status as FAILED_ITEMS (an alias, not a new code).
    FINDINGS = 1
    USAGE = 2
    FATAL = 3
    DRAINED = 4
    SIGINT = 130
    SIGTERM = 143

    @property
    def meaning(self) -> str:
        """One line for ``--help`` and the README."""
        return _MEANINGS[self]


_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "everything loaded (or skipped as unchanged)",
    ExitCode.FAILED_ITEMS: "finished, but some items failed (they are kept for `retry-failed`); "
                           "`doctor`: it found problems",
    ExitCode.USAGE: "usage or configuration error (nothing was done)",
    ExitCode.FATAL: "fatal error during the run (credentials refused, server unreachable, ...); "
                    "`doctor`/`status`: cannot connect",
    ExitCode.DRAINED: "drained on request before the end: items were left for the next run",
    ExitCode.SIGINT: "interrupted (SIGINT / Ctrl+C)",
    ExitCode.SIGTERM: "terminated (SIGTERM)",
}

#: ``(code, meaning)`` rows, in order, for help texts and docs.
EXIT_CODE_TABLE: tuple[tuple[int, str], ...] = tuple((int(code), code.meaning) for code in ExitCode)
