"""A persistent SQLite cache of TMDb and IMDb responses.

Entries are keyed by request: service, method, path and the sorted query
without credentials (:func:`request_key`), so a new API key does not empty
the cache and no key is ever written to disk. Each entry keeps its HTTP
status: a 404 is cached like a hit (a negative entry), so ids TMDb does not
know are not asked for again on every run. Entries older than the TTL are
ignored (and refetched); they are pruned when the cache is opened.

All SQLite work runs on one dedicated thread with one connection, so the
event loop never blocks on disk and the connection is never shared between
threads. A cache that cannot be read is a lost cache, not a failed run: a
corrupt file is moved aside and a fresh one started, and a read or write
that fails at run time is logged and treated as a miss.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Query parameters that carry credentials and so never belong in a key.
_CREDENTIAL_PARAMS = frozenset({"api_key", "apikey", "access_token", "token"})
# SQLite builds older than 3.32 allow 999 parameters per statement.
_CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    stored_at REAL NOT NULL
) WITHOUT ROWID
"""


def request_key(
    service: str, path: str, params: Mapping[str, Any] | None = None, method: str = "GET"
) -> str:
    """The cache key of a request: ``"tmdb GET /movie/603?append_to_response=credits"``.

    Query parameters are sorted (repeated ones keep their order) and
    credentials are left out.
    """
    pairs: list[tuple[str, str]] = []
    for name in sorted(params or {}):
        if name.lower() in _CREDENTIAL_PARAMS:
            continue
        value = (params or {})[name]
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            pairs.extend((name, str(v)) for v in value)
        else:
            pairs.append((name, str(value)))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    return f"{service} {method.upper()} {path}" + (f"?{query}" if query else "")


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """A cached answer: its HTTP status (200 or 404) and decoded JSON body."""

    status: int
    data: Any


class ResponseCache:
    """Request-keyed response cache in one SQLite file, with a TTL in seconds.

    Use the ``async`` methods from the event loop; the ``*_sync`` ones are
    for scripts and tests. ``clock`` (wall-clock seconds) is injectable so
    that expiry can be tested without waiting.
    """

    def __init__(self, path: Path, ttl: float, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.ttl = float(ttl)
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enrich-cache")
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._warned = False
        # Opening happens on the cache thread too, so the connection only
        # ever lives on that one thread.
        try:
            self._executor.submit(self._open).result()
        except BaseException:
            self._executor.shutdown(wait=False)
            raise

    def __repr__(self) -> str:
        return f"ResponseCache(path={str(self.path)!r}, ttl={self.ttl!r})"

    # -- the cache thread ----------------------------------------------------------

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            aside = self.path.with_name(self.path.name + ".corrupt")
            logger.warning(
                "the response cache %s cannot be read (%s): moving it to %s and starting a new one",
                self.path,
                exc,
                aside,
            )
            self.path.replace(aside)
            for suffix in ("-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            # A lost write only means one more request next run.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            conn.execute("DELETE FROM responses WHERE stored_at < ?", (self._clock() - self.ttl,))
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def _warn(self, action: str, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("response cache %s: %s failed (%s); going on without it", self.path, action, exc)

    def _get_many(self, keys: Sequence[str]) -> dict[str, CachedResponse]:
        if self._conn is None or not keys:
            return {}
        oldest = self._clock() - self.ttl
        found: dict[str, CachedResponse] = {}
        unique = list(dict.fromkeys(keys))
        try:
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT key, status, body FROM responses WHERE key IN ({marks}) AND stored_at >= ?",
                    (*chunk, oldest),
                ).fetchall()
                for key, status, body in rows:
                    try:
                        found[key] = CachedResponse(int(status), json.loads(body))
                    except ValueError:
                        continue  # an unreadable entry is a miss; it gets overwritten
        except sqlite3.Error as exc:
            self._warn("reading", exc)
            return {}
        return found

    def _put_many(self, entries: Iterable[tuple[str, int, Any]]) -> None:
        if self._conn is None:
            return
        now = self._clock()
        rows = [(key, int(status), json.dumps(data, separators=(",", ":")), now) for key, status, data in entries]
        if not rows:
            return
        try:
            with self._conn:
                self._conn.execute("BEGIN")
                self._conn.executemany(
                    "INSERT OR REPLACE INTO responses (key, status, body, stored_at) VALUES (?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.Error as exc:
            self._warn("writing", exc)

    def _count(self) -> int:
        if self._conn is None:
            return 0
        return int(self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def _close_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- callers' side ----------------------------------------------------------------

    def get_many_sync(self, keys: Sequence[str]) -> dict[str, CachedResponse]:
        """The fresh entries among ``keys`` (missing and expired ones are left out).

        Blocks the calling thread; from the event loop use :meth:`get_many`.
        """
        return self._submit(self._get_many, list(keys))

    def put_many_sync(self, entries: Iterable[tuple[str, int, Any]]) -> None:
        """Store ``(key, status, data)`` entries, replacing older ones (blocking)."""
        self._submit(self._put_many, list(entries))

    def count(self) -> int:
        """Number of stored entries, fresh or not (blocking)."""
        return self._submit(self._count)

    def _submit(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        return self._executor.submit(fn, *args).result()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def get_many(self, keys: Sequence[str]) -> dict[str, CachedResponse]:
        """The fresh entries among ``keys``, read on the cache thread."""
        if not keys:
            return {}
        return await self._run(self._get_many, list(keys))

    async def put_many(self, entries: Iterable[tuple[str, int, Any]]) -> None:
        """Store ``(key, status, data)`` entries on the cache thread."""
        rows = list(entries)
        if rows:
            await self._run(self._put_many, rows)

    def close(self) -> None:
        """Close the database and stop the cache thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._executor.submit(self._close_conn).result()
        self._executor.shutdown(wait=True)

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop."""
        if self._closed:
            return
        await asyncio.get_running_loop().run_in_executor(None, self.close)
