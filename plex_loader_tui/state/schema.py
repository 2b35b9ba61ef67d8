"""The state database's schema, and opening a file safely: integrity, WAL, migrations.

Corruption is never repaired silently: a file SQLite cannot read, or that
fails its integrity check, raises :class:`StateCorruptError` naming the file
and telling the operator to start fresh with ``--reset-state``.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from .records import RESET_HINT, StateCorruptError, StateError

logger = logging.getLogger(__name__)

#: Current schema version, stored in ``PRAGMA user_version``.
SCHEMA_VERSION = 2

_SCHEMA_V1 = """
CREATE TABLE items (
    key          TEXT PRIMARY KEY,
    point_id     TEXT NOT NULL,
    section_key  TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL CHECK (status IN ('pending', 'loaded', 'failed')),
    updated_at   INTEGER,
    source_hash  TEXT,
    content_hash TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    error_stage  TEXT,
    first_seen   REAL NOT NULL,
    loaded_at    REAL,
    updated      REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX items_section ON items (section_key);
CREATE INDEX items_status ON items (status);
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""

# Version 2: the hash of the embedded text alone, so a changed payload with the same
# text is written without embedding (NULL in older rows: those embed once more).
_SCHEMA_V2 = "ALTER TABLE items ADD COLUMN text_hash TEXT"

# Migrations from version N-1 to N, indexed by N. Version 1 is the first schema.
_MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1, 2: _SCHEMA_V2}

ITEM_COLUMNS = (
    "key, point_id, section_key, title, status, updated_at, source_hash, content_hash, "
    "attempts, last_error, error_stage, first_seen, loaded_at, updated, text_hash"
)


def connect(path: Path, *, check_integrity: bool = True, busy_timeout: float = 10.0) -> sqlite3.Connection:
    """Open (creating if missing) the state database at ``path``.

    ``busy_timeout`` is how long a write waits for another process that
    holds the file's write lock before failing with :class:`StateError`.
    Raises :class:`StateCorruptError` if the file is not a readable SQLite
    database of ours, fails SQLite's ``quick_check`` (skipped when
    ``check_integrity`` is false) or was written by a newer version.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(
            f"Cannot create the state directory {path.parent}: {exc.strerror or exc}"
        ) from exc
    if path.exists() and not path.is_file():
        raise StateCorruptError(
            f"The state database {path} is not a file; remove it or {RESET_HINT}."
        )
    if path.is_file() and path.stat().st_size == 0:
        # SQLite opens an empty file as a new database: without this line a truncated
        # state file would silently turn the next run into a full reload.
        logger.warning(
            "the state database %s is empty (0 bytes): no earlier load is known, so every item is loaded again",
            path,
        )
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so a batch is
        # exactly one transaction and nothing stays open between calls.
        conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=busy_timeout
        )
    except sqlite3.Error as exc:
        raise StateCorruptError(
            f"Cannot open the state database {path}: {exc}; check its permissions or "
            f"{RESET_HINT}."
        ) from exc
    try:
        _prepare(path, conn, check_integrity)
    except BaseException:
        conn.close()
        raise
    logger.debug("opened state database %s", path)
    return conn


def _prepare(path: Path, conn: sqlite3.Connection, check_integrity: bool) -> None:
    try:
        # The first read of the file header is where "file is not a database"
        # shows up, so do it before anything else.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if check_integrity:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise StateCorruptError(
                    f"The state database {path} is corrupt ({'; '.join(problems[:3])}); "
                    f"{RESET_HINT}."
                )
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StateError(
                f"The state database {path} could not switch to WAL mode (got {mode!r}); "
                "it needs a local file system that supports shared memory."
            )
        conn.execute("PRAGMA synchronous=NORMAL")
        if version > SCHEMA_VERSION:
            raise StateCorruptError(
                f"The state database {path} has schema version {version}, newer than this "
                f"program understands ({SCHEMA_VERSION}); upgrade plex-loader-tui or "
                f"{RESET_HINT}."
            )
        if version < SCHEMA_VERSION:
            _migrate(path, conn)
    except StateError:
        raise
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StateError(
                f"The state database {path} is locked by another process: is another load "
                "running against the same collection?"
            ) from exc
        raise StateCorruptError(
            f"The state database {path} is unreadable or corrupt ({exc}); {RESET_HINT}."
        ) from exc


def _migrate(path: Path, conn: sqlite3.Connection) -> None:
    """Create or upgrade the schema in one transaction.

    The version is read again under the write lock: two processes opening a
    new file at once must not both create the tables.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if tables:
                raise StateCorruptError(
                    f"The file {path} is an SQLite database but not a plex-loader-tui state "
                    f"database (tables: {', '.join(sorted(tables))}); {RESET_HINT}."
                )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _split_sql(_MIGRATIONS[target]):
                conn.execute(statement)
            if target == 1:
                conn.execute(
                    "INSERT INTO meta (name, value) VALUES ('created', ?)", (repr(time.time()),)
                )
            logger.info("state database %s: schema version %d", path, target)
        # PRAGMA does not take parameters; SCHEMA_VERSION is our own integer.
        conn.execute(f"PRAGMA user_version = {max(version, SCHEMA_VERSION)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def remove_database(path: Path) -> None:
    """Delete the state database at ``path`` with its WAL and shared-memory files.

    Only call it with no store open on the file. Missing files are fine.
    """
    path = Path(path)
    for suffix in ("", "-wal", "-shm", "-journal"):
        victim = path.with_name(path.name + suffix)
        try:
            victim.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StateError(f"Cannot delete {victim}: {exc.strerror or exc}") from exc
        logger.info("deleted %s", victim)


def _split_sql(script: str) -> list[str]:
    """Split a schema script into statements (``executescript`` would commit)."""
    return [statement.strip() for statement in script.split(";") if statement.strip()]
