"""What a failed SQLite call means for the operator: a caller bug, a corrupt file, a lock, the disk."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .records import RESET_HINT, StateCorruptError, StateError


def sqlite_failure(path: Path, exc: sqlite3.DatabaseError) -> Exception:
    """The exception to raise instead of ``exc``, with a message that says what to do about ``path``."""
    message = str(exc)
    if isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError)):
        # A record the schema refuses is a caller bug, not a broken file.
        return ValueError(f"Invalid record for the state database {path}: {message}")
    if "malformed" in message or "not a database" in message:
        return StateCorruptError(f"The state database {path} is corrupt ({message}); {RESET_HINT}.")
    if "locked" in message or "busy" in message:
        return StateError(
            f"The state database {path} is locked by another process: is another "
            "load running against the same collection?"
        )
    if isinstance(exc, sqlite3.OperationalError):
        return StateError(
            f"Cannot use the state database {path}: {message} (check free disk space and permissions)."
        )
    return StateCorruptError(f"The state database {path} failed ({message}); {RESET_HINT}.")
