"""The last run against a collection, kept with its load state (for ``status``)."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields

from .store import StateStore

logger = logging.getLogger(__name__)

#: The state's meta row that holds the last run.
LAST_RUN_META = "last_run"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """How one load or retry ended: when, how, and its counts (items).

    ``state`` is finished | drained | cancelled | failed; ``exit_code`` the
    process status it gave; ``error`` the fatal error's line (secrets already
    masked), if any. Times are seconds since the epoch.
    """

    command: str
    started_at: float
    ended_at: float
    state: str
    exit_code: int
    loaded: int = 0
    skipped: int = 0
    failed: int = 0
    deleted: int = 0
    total: int | None = None
    error: str | None = None


def record_run(store: StateStore, run: RunRecord) -> None:
    """Remember ``run`` as the collection's last run (committed at once)."""
    store.set_meta(LAST_RUN_META, json.dumps(asdict(run), sort_keys=True))


def last_run(store: StateStore) -> RunRecord | None:
    """The last run recorded, or ``None`` (never loaded, or written by an older version)."""
    raw = store.get_meta(LAST_RUN_META)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        known = {f.name for f in fields(RunRecord)}
        return RunRecord(**{k: v for k, v in data.items() if k in known})
    except (ValueError, TypeError) as exc:
        logger.warning("the last run recorded in %s is unreadable (%s)", store.path, exc)
        return None
