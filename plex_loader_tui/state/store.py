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

Opening a file (integrity check, WAL, migrations) is :mod:`.schema`'s job,
the records are in :mod:`.records`, the file's location in :mod:`.paths`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .records import (
    FailedRecord,
    ItemState,
    LoadedRecord,
    PendingRecord,
    PointClaim,
    StateCounts,
    StateError,
)
from .schema import ITEM_COLUMNS, connect, remove_database
from .sqlite_errors import sqlite_failure

__all__ = ["StateStore"]

logger = logging.getLogger(__name__)

#: Longest error text kept per item; tracebacks of a bad payload can be huge and
#: the dead-letter list only needs enough to tell what went wrong.
MAX_ERROR_CHARS = 4000

# SQLite builds older than 3.32 allow 999 host parameters per statement; keep
# IN (...) lists well under that so any system sqlite works.
_IN_CHUNK = 500


def _chunks(seq: Sequence[str], size: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


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
    def open(cls, path: Path, *, check_integrity: bool = True, busy_timeout: float = 10.0) -> StateStore:
        """Open (creating if missing) the state database at ``path``; see :func:`.schema.connect`."""
        path = Path(path)
        return cls(path, connect(path, check_integrity=check_integrity, busy_timeout=busy_timeout))

    @staticmethod
    def reset(path: Path) -> None:
        """Delete the state database at ``path`` with its WAL and shared-memory files.

        Only call it with no store open on the file. Missing files are fine.
        """
        remove_database(path)

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
        return sqlite_failure(self._path, exc)

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

    def stored_hashes(self, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
        """``key -> (text_hash, content_hash)`` of the loaded items among ``keys`` that have both."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, tuple[str, str]] = {}
        with self._read() as conn:
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT key, text_hash, content_hash FROM items "
                    f"WHERE status = 'loaded' AND text_hash IS NOT NULL AND key IN ({marks})",
                    chunk,
                )
                for key, text, content in rows:
                    if text and content:
                        found[key] = (text, content)
        return found

    def get(self, key: str) -> ItemState | None:
        """Return what the store knows about ``key``, or ``None``."""
        with self._read() as conn:
            sql = f"SELECT {ITEM_COLUMNS} FROM items WHERE key = ?"
            row = conn.execute(sql, (key,)).fetchone()
        return ItemState(*row) if row else None

    def failed_items(
        self, section_key: str | None = None, *, limit: int | None = None, offset: int = 0
    ) -> list[FailedRecord]:
        """Return the dead letters (optionally of one section, one page of them), most recent first."""
        sql = (
            "SELECT key, point_id, section_key, title, COALESCE(error_stage, ''), "
            "COALESCE(last_error, ''), attempts, updated FROM items WHERE status = 'failed'"
        )
        params: tuple[str, ...] = ()
        if section_key is not None:
            sql += " AND section_key = ?"
            params = (section_key,)
        sql += " ORDER BY updated DESC, key"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params = (*params, limit, offset)  # type: ignore[assignment]
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

    def claims(self) -> list[PointClaim]:
        """Every item with its point id, status and content hash (one row per item, no errors)."""
        with self._read() as conn:
            sql = "SELECT key, point_id, title, status, content_hash FROM items"
            return [PointClaim(*row) for row in conn.execute(sql)]

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
                r.text_hash or None,
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
                "  source_hash, content_hash, text_hash, attempts, first_seen, loaded_at, updated) "
                "VALUES (?, ?, ?, ?, 'loaded', ?, ?, ?, ?, 0, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                "  point_id = excluded.point_id, section_key = excluded.section_key, "
                "  title = excluded.title, status = 'loaded', updated_at = excluded.updated_at, "
                "  source_hash = excluded.source_hash, content_hash = excluded.content_hash, "
                "  text_hash = excluded.text_hash, "
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


