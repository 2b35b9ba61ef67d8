"""Where the load state of one Qdrant target and collection lives on disk."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from ..config import RunConfig


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


def target_location(url: str | None, path: Path | str | None) -> str:
    """The Qdrant location a state database is named after: the URL, else the folder."""
    return url or str(Path(path).resolve() if path is not None else "")


def state_path_of(config: RunConfig) -> Path:
    """The state database of ``config``'s Qdrant target and collection."""
    where = target_location(config.qdrant_url, config.effective_qdrant_path)
    return state_db_path(Path(config.data_dir), where, config.collection)
