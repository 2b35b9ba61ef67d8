"""How the Qdrant sink sorts failures: fatal for the run, worth a retry, or about the data.

A failure that no retry and no smaller batch can fix (a refused key, an
unreachable server, a full disk) stops the run with one line; a timeout or a
5xx is retried; anything else is about the batch, which the engine splits to
find the point at fault.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from ..pipeline.errors import FatalError


class QdrantUnavailableError(FatalError):
    """Qdrant cannot be reached (server down, wrong URL, local folder in use)."""


class QdrantAuthError(FatalError):
    """The Qdrant server refused the API key."""


class CollectionMismatchError(FatalError):
    """The target collection exists with vectors the chosen models cannot use."""


class CollectionMissingError(FatalError):
    """The collection disappeared while the load was writing to it."""


class QdrantStorageError(FatalError):
    """Qdrant cannot write at all (disk full, read-only): every batch would fail the same way."""


class QdrantRejectedError(Exception):
    """Qdrant (or a proxy in front of it) refused a request (a 4xx): a data error, not retried."""


class QdrantTransientError(Exception):
    """A Qdrant call failed in a way a retry may fix (timeout, 5xx, 429, reset)."""


#: Exception types the engine's retry policy should treat as transient for this stage.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (QdrantTransientError,)

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})

_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}
# SQLite's primary result codes for a storage that refuses writes: FULL, READONLY, IOERR.
_STORAGE_SQLITE_CODES = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR}
# What a Qdrant server says in a 500 when its disk is full (the OS text of ENOSPC, or its own check);
# Qdrant Edge raises a plain Exception carrying the same Rust io::Error texts.
_STORAGE_TEXTS = ("no space left on device", "os error 28", "disk is full", "not enough disk space")
_READONLY_TEXTS = ("read-only file system", "os error 30")


def storage_failure(exc: BaseException) -> str | None:
    """What stops every write, when ``exc`` says so (``"no space left"``, ``"read-only"``), else None.

    qdrant-client's local mode writes through SQLite (``database or disk is
    full``) and the file system (``OSError``); a Qdrant server reports its own
    disk in the text of a 500, and Qdrant Edge in the text of its exception.
    """
    for cause in _chain(exc):
        if isinstance(cause, OSError) and cause.errno in _STORAGE_ERRNOS:
            return "read-only" if cause.errno == errno.EROFS else "no space left"
        if isinstance(cause, sqlite3.Error):
            code = getattr(cause, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _STORAGE_SQLITE_CODES:
                return "read-only" if code & 0xFF == sqlite3.SQLITE_READONLY else "no space left"
        text = str(cause).lower()
        if any(t in text for t in _READONLY_TEXTS):
            return "read-only"
        if any(t in text for t in _STORAGE_TEXTS):
            return "no space left"
    return None


def free_space(path: Path | None) -> str:
    """``"12.3 MiB free"`` on the file system holding ``path`` (or its nearest existing parent)."""
    if path is None:
        return "free space unknown"
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return "free space unknown"
    return f"{free / 2**20:.1f} MiB free"


def grpc_code(exc: BaseException) -> str | None:
    """The gRPC status name of ``exc`` (``"UNAVAILABLE"``), or None when it is no gRPC error."""
    code = getattr(exc, "code", None)
    if callable(code):
        try:
            value = code()
        except Exception:  # not a grpc error after all
            return None
        return getattr(value, "name", None)
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen
