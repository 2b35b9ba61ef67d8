"""The durable load state: one SQLite database per Qdrant target.

The store remembers, for every source item (``SourceItem.key``), what was last
loaded into the collection and how: the point id, the Plex ``updatedAt``, a
fingerprint of the Plex-side fields (``source_hash``, computed by the caller
together with the model names and text version), a hash of what was embedded
(``content_hash``), the status (``pending`` / ``loaded`` / ``failed``), how
often it failed and why. That makes re-runs incremental (:meth:`StateStore.
unchanged_keys`), lets a killed run resume, keeps the dead letters that
``--retry-failed`` and the dashboard replay, and lists what a Plex section held
so that items removed from Plex can be deleted from the collection.

Durability: every public write is one transaction, committed before the call
returns. The database runs in WAL mode, so a process killed at any moment
(SIGKILL included) leaves the last committed state readable and consistent.
``synchronous=NORMAL`` means a *power loss* may forget the last few commits;
that is safe here because a forgotten ``loaded`` only makes the next run load
the item again under the same point id.

Corruption is never repaired silently: a file SQLite cannot read, or that
fails its integrity check, raises :class:`StateCorruptError` naming the file
and telling the operator to start fresh with ``--reset-state``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from plex_loader_tui.pipeline.errors import FatalError

logger = logging.getLogger(__name__)

Status = Literal["pending", "loaded", "failed"]

#: Current schema version, stored in ``PRAGMA user_version``.
SCHEMA_VERSION = 1

#: Longest error text kept per item; tracebacks of a bad payload can be huge and
#: the dead-letter list only needs enough to tell what went wrong.
MAX_ERROR_CHARS = 4000

# SQLite builds older than 3.32 allow 999 host parameters per statement; keep
# IN (...) lists well under that so any system sqlite works.
_IN_CHUNK = 500

_RESET_HINT = "start fresh with --reset-state (the next run then reloads everything)"


class StateError(FatalError):
    """The load state cannot be used; the run must stop."""


class StateCorruptError(StateError):
    """The state database is corrupt, unreadable or not ours."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class PendingRecord:
    """An item that is about to be loaded (recorded before it is upserted).

    Recording it first means a point that reached Qdrant just before a crash is
    still known to the state, so a later deletion pass can find it.
    """

    key: str
    point_id: str
    section_key: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class LoadedRecord:
    """An item whose point Qdrant has confirmed (``wait=True`` or read back)."""

    key: str
    point_id: str
    updated_at: int | None
    source_hash: str
    content_hash: str
    section_key: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class FailedRecord:
    """A dead letter: an item that failed for good in some stage.

    ``failed_at`` is the time of the most recent failure (seconds since the
    epoch); ``attempts`` counts failures since the item was last loaded.
    """

    key: str
    point_id: str
    section_key: str
    title: str
    stage: str
    error: str
    attempts: int
    failed_at: float


@dataclass(frozen=True, slots=True)
class ItemState:
    """Everything the store knows about one item (for inspection and tests)."""

    key: str
    point_id: str
    section_key: str
    title: str
    status: Status
    updated_at: int | None
    source_hash: str | None
    content_hash: str | None
    attempts: int
    last_error: str | None
    error_stage: str | None
    first_seen: float
    loaded_at: float | None
    updated: float


@dataclass(frozen=True, slots=True)
class StateCounts:
    """How many items the state holds per status."""

    loaded: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.loaded + self.failed + self.pending


# --------------------------------------------------------------------------- paths


def _normalise_target(target: str) -> str:
    """Return the canonical form of a Qdrant location used to key the database.

    URLs lose user info, query and fragment (they may carry an API key) and
    get a lower-case scheme and host; paths become absolute, so ``./qdrant``
    and ``/home/me/qdrant`` are the same target.
    """
    target = target.strip()
    if "://" in target:
        parts = urlsplit(target)
        host = (parts.hostname or "").lower()
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))
    if target == ":memory:":
        return target
    return str(Path(target).expanduser().resolve())


def _slug(text: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].strip("-")


def state_db_path(data_dir: Path, target: str, collection: str) -> Path:
    """Return the state database path for one Qdrant target and collection.

    ``target`` is the Qdrant location: a local path (embedded mode) or a
    server URL. The file lives in ``data_dir / "state"`` and is named by a
    readable slug (host or folder name, then collection) plus a short hash of
    the normalised target and collection, so different targets never share a
    file and the same target always finds its own. No secret in a URL
    (user info, query) reaches the file name.
    """
    normalised = _normalise_target(target)
    if "://" in normalised:
        where = urlsplit(normalised).hostname or "server"
    else:
        where = Path(normalised).name or "qdrant"
    digest = hashlib.sha256(f"{normalised}\0{collection}".encode()).hexdigest()[:12]
    slug = "-".join(part for part in (_slug(where, 32), _slug(collection, 40)) if part)
    return Path(data_dir) / "state" / f"{slug or 'state'}-{digest}.sqlite3"


# --------------------------------------------------------------------------- schema

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

# Migrations from version N-1 to N, indexed by N. Version 1 is the first schema.
_MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1}

_ITEM_COLUMNS = (
    "key, point_id, section_key, title, status, updated_at, source_hash, content_hash, "
    "attempts, last_error, error_stage, first_seen, loaded_at, updated"
)


def _chunks(seq: Sequence[str], size: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


# --------------------------------------------------------------------------- store


class StateStore:
    """The load state of one target collection, in one SQLite file.

    Open it with :meth:`StateStore.open`. Every method is synchronous, quick
    and takes a whole batch in one transaction, so it may be called straight
    from the event loop thread. The connection is shared under a lock, so the
    store may also be used from worker threads (one call at a time).
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        # Use StateStore.open(); this only wires an already checked connection.
        self._path = path
        self._conn = conn
        self._lock = threading.RLock()
        self._closed = False

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    def open(
        cls, path: Path, *, check_integrity: bool = True, busy_timeout: float = 10.0
    ) -> StateStore:
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
                f"The state database {path} is not a file; remove it or {_RESET_HINT}."
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
                f"{_RESET_HINT}."
            ) from exc
        try:
            cls._prepare(path, conn, check_integrity)
        except BaseException:
            conn.close()
            raise
        logger.debug("opened state database %s", path)
        return cls(path, conn)

    @staticmethod
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
                        f"{_RESET_HINT}."
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
                    f"{_RESET_HINT}."
                )
            if version < SCHEMA_VERSION:
                StateStore._migrate(path, conn)
        except StateError:
            raise
        except sqlite3.DatabaseError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StateError(
                    f"The state database {path} is locked by another process: is another load "
                    "running against the same collection?"
                ) from exc
            raise StateCorruptError(
                f"The state database {path} is unreadable or corrupt ({exc}); {_RESET_HINT}."
            ) from exc

    @staticmethod
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
                        f"database (tables: {', '.join(sorted(tables))}); {_RESET_HINT}."
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

    @staticmethod
    def reset(path: Path) -> None:
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

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def close(self) -> None:
        """Close the database (idempotent). Closing checkpoints the WAL."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"StateStore({str(self._path)!r}{', closed' if self._closed else ''})"

    # ----------------------------------------------------------------- plumbing

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._check_open()
            try:
                yield self._conn
            except sqlite3.DatabaseError as exc:
                raise self._wrap(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, committed on exit (rolled back on any error)."""
        with self._lock:
            self._check_open()
            conn = self._conn
            try:
                # IMMEDIATE takes the write lock up front, so a second process on
                # the same file waits (busy timeout) instead of failing mid-batch.
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    # SQLite may already have rolled back (e.g. disk full); a second
                    # ROLLBACK would then raise and hide the real error.
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                raise self._wrap(exc) from exc

    def _check_open(self) -> None:
        if self._closed:
            raise StateError(f"The state database {self._path} is closed.")

    def _wrap(self, exc: sqlite3.DatabaseError) -> Exception:
        message = str(exc)
        if isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError)):
            # A record the schema refuses is a caller bug, not a broken file.
            return ValueError(f"Invalid record for the state database {self._path}: {message}")
        if "malformed" in message or "not a database" in message:
            return StateCorruptError(
                f"The state database {self._path} is corrupt ({message}); {_RESET_HINT}."
            )
        if "locked" in message or "busy" in message:
            return StateError(
                f"The state database {self._path} is locked by another process: is another "
                "load running against the same collection?"
            )
        if isinstance(exc, sqlite3.OperationalError):
            return StateError(
                f"Cannot use the state database {self._path}: {message} (check free disk space "
                "and permissions)."
            )
        return StateCorruptError(
            f"The state database {self._path} failed ({message}); {_RESET_HINT}."
        )

    # ----------------------------------------------------------------- queries

    def unchanged_keys(self, items: Iterable[tuple[str, int | None, str]]) -> set[str]:
        """Return the keys whose item is loaded with the same ``updated_at`` and hash.

        ``items`` holds ``(key, updated_at, source_hash)`` for a batch of
        source items; anything pending, failed, unknown or different is left
        out (and so gets loaded).
        """
        wanted = {key: (updated_at, source_hash) for key, updated_at, source_hash in items}
        if not wanted:
            return set()
        unchanged: set[str] = set()
        with self._read() as conn:
            for chunk in _chunks(list(wanted)):
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT key, updated_at, source_hash FROM items "
                    f"WHERE status = 'loaded' AND key IN ({marks})",
                    chunk,
                )
                for key, updated_at, source_hash in rows:
                    if wanted[key] == (updated_at, source_hash):
                        unchanged.add(key)
        return unchanged

    def get(self, key: str) -> ItemState | None:
        """Return what the store knows about ``key``, or ``None``."""
        with self._read() as conn:
            sql = f"SELECT {_ITEM_COLUMNS} FROM items WHERE key = ?"
            row = conn.execute(sql, (key,)).fetchone()
        return ItemState(*row) if row else None

    def failed_items(self, section_key: str | None = None) -> list[FailedRecord]:
        """Return the dead letters (optionally of one section), most recent first."""
        sql = (
            "SELECT key, point_id, section_key, title, COALESCE(error_stage, ''), "
            "COALESCE(last_error, ''), attempts, updated FROM items WHERE status = 'failed'"
        )
        params: tuple[str, ...] = ()
        if section_key is not None:
            sql += " AND section_key = ?"
            params = (section_key,)
        sql += " ORDER BY updated DESC, key"
        with self._read() as conn:
            return [FailedRecord(*row) for row in conn.execute(sql, params)]

    def failed_count(self) -> int:
        """How many dead letters are waiting."""
        with self._read() as conn:
            return conn.execute("SELECT COUNT(*) FROM items WHERE status = 'failed'").fetchone()[0]

    def keys_in_section(self, section_key: str) -> dict[str, str]:
        """Return ``{key: point_id}`` for every item of a Plex section, any status.

        Pending and failed items are included: their point may have reached
        Qdrant before the run stopped, so a deletion pass must consider them.
        """
        with self._read() as conn:
            return dict(
                conn.execute(
                    "SELECT key, point_id FROM items WHERE section_key = ?", (section_key,)
                )
            )

    def counts(self) -> StateCounts:
        """Return how many items are loaded, failed and pending."""
        with self._read() as conn:
            by_status = dict(conn.execute("SELECT status, COUNT(*) FROM items GROUP BY status"))
        return StateCounts(
            loaded=by_status.get("loaded", 0),
            failed=by_status.get("failed", 0),
            pending=by_status.get("pending", 0),
        )

    def get_meta(self, name: str) -> str | None:
        """Return a free-form setting stored with the state (e.g. the last full run)."""
        with self._read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str) -> None:
        """Store a free-form setting with the state (committed at once)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    # ----------------------------------------------------------------- writes

    def mark_pending(self, records: Iterable[PendingRecord]) -> None:
        """Record items that are about to be loaded, in one transaction.

        New items become ``pending``; a loaded item becomes ``pending`` (its
        stored version is being replaced). A failed item stays ``failed`` with
        its error until it loads or fails again, so a retry run that is
        killed does not lose the dead letter.
        """
        now = time.time()
        rows = [(r.key, r.point_id, r.section_key, r.title, now, now) for r in records]
        if not rows:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO items "
                "  (key, point_id, section_key, title, status, first_seen, updated) "
                "VALUES (?, ?, ?, ?, 'pending', ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                "  point_id = excluded.point_id, section_key = excluded.section_key, "
                "  title = excluded.title, updated = excluded.updated, "
                "  status = CASE WHEN status = 'failed' THEN 'failed' ELSE 'pending' END",
                rows,
            )

    def mark_loaded(
        self,
        records: Iterable[LoadedRecord],
        failures: Iterable[tuple[str, str, str, str, str, str]] = (),
    ) -> None:
        """Record items whose points Qdrant has confirmed, in one transaction.

        Call it only after the upsert is confirmed: ``loaded`` must mean "in
        the collection". It clears any dead letter (error, stage, attempts).
        ``failures`` (as for :meth:`mark_failed_many`) are recorded in the same
        transaction: items that are in the collection but still need work
        (e.g. enrichment that failed) must never be left looking complete.
        """
        now = time.time()
        rows = [
            (
                r.key,
                r.point_id,
                r.section_key,
                r.title,
                r.updated_at,
                r.source_hash,
                r.content_hash,
                now,
                now,
                now,
            )
            for r in records
        ]
        failed_rows = _failed_rows(failures)
        if not rows and not failed_rows:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO items (key, point_id, section_key, title, status, updated_at, "
                "  source_hash, content_hash, attempts, first_seen, loaded_at, updated) "
                "VALUES (?, ?, ?, ?, 'loaded', ?, ?, ?, 0, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                "  point_id = excluded.point_id, section_key = excluded.section_key, "
                "  title = excluded.title, status = 'loaded', updated_at = excluded.updated_at, "
                "  source_hash = excluded.source_hash, content_hash = excluded.content_hash, "
                "  attempts = 0, last_error = NULL, error_stage = NULL, "
                "  loaded_at = excluded.loaded_at, updated = excluded.updated",
                rows,
            )
            if failed_rows:
                conn.executemany(_FAILED_SQL, failed_rows)

    def mark_failed(
        self,
        key: str,
        point_id: str,
        title: str,
        stage: str,
        error: str,
        section_key: str = "",
    ) -> None:
        """Record that an item failed for good in ``stage`` (attempts += 1).

        ``error`` is stored as given (cut to :data:`MAX_ERROR_CHARS`): redact
        secrets before passing it.
        """
        self.mark_failed_many([(key, point_id, title, stage, error, section_key)])

    def mark_failed_many(self, failures: Iterable[tuple[str, str, str, str, str, str]]) -> None:
        """Record several failures in one transaction.

        Each tuple is ``(key, point_id, title, stage, error, section_key)``, as
        the arguments of :meth:`mark_failed`.
        """
        rows = _failed_rows(failures)
        if not rows:
            return
        with self._write() as conn:
            conn.executemany(_FAILED_SQL, rows)

    def points_in_use(self, point_ids: Iterable[str], excluding: Iterable[str]) -> set[str]:
        """Which of ``point_ids`` some item outside ``excluding`` (keys) still maps to.

        Point ids are shared on purpose (the same ``plex://`` guid in two
        libraries or on two servers is one point); deleting one item must not
        delete a point another item still needs.
        """
        wanted = list(dict.fromkeys(point_ids))
        if not wanted:
            return set()
        skip = set(excluding)
        in_use: set[str] = set()
        with self._read() as conn:
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                for key, point_id in conn.execute(
                    f"SELECT key, point_id FROM items WHERE point_id IN ({marks})", chunk
                ):
                    if key not in skip:
                        in_use.add(point_id)
        return in_use

    def delete(self, keys: Iterable[str]) -> int:
        """Forget items (after their points were deleted); return how many were known."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return 0
        deleted = 0
        with self._write() as conn:
            for chunk in _chunks(unique):
                marks = ",".join("?" * len(chunk))
                deleted += conn.execute(f"DELETE FROM items WHERE key IN ({marks})", chunk).rowcount
        return deleted


_FAILED_SQL = (
    "INSERT INTO items (key, point_id, section_key, title, status, attempts, "
    "  last_error, error_stage, first_seen, updated) "
    "VALUES (?, ?, ?, ?, 'failed', 1, ?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET "
    "  point_id = excluded.point_id, status = 'failed', attempts = attempts + 1, "
    "  last_error = excluded.last_error, error_stage = excluded.error_stage, "
    "  updated = excluded.updated, "
    # A failure report may come from a stage that no longer knows the
    # title or section; keep what we had rather than blanking it.
    "  title = CASE WHEN excluded.title = '' THEN title ELSE excluded.title END, "
    "  section_key = CASE WHEN excluded.section_key = '' THEN section_key "
    "    ELSE excluded.section_key END"
)


def _failed_rows(failures: Iterable[tuple[str, str, str, str, str, str]]) -> list[tuple]:
    now = time.time()
    return [
        (key, point_id, section_key, title, error[:MAX_ERROR_CHARS], stage, now, now)
        for key, point_id, title, stage, error, section_key in failures
    ]


def _split_sql(script: str) -> list[str]:
    """Split a schema script into statements (``executescript`` would commit)."""
    return [statement.strip() for statement in script.split(";") if statement.strip()]
