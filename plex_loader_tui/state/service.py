"""The marker a running ``serve`` service leaves beside the load state it owns.

The service writes ``<state file>.service.json`` when it starts listening
(:func:`write_service_marker`) and removes it when it stops
(:func:`remove_service_marker`); ``status`` reads it with
:func:`running_service`, which believes it only while the process it names
is alive (a killed service leaves a stale file behind).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .paths import state_path_of

if TYPE_CHECKING:
    from ..config import RunConfig

logger = logging.getLogger(__name__)

MARKER_SUFFIX = ".service.json"


@dataclass(frozen=True, slots=True)
class ServiceMarker:
    """Who serves a collection: process id, where it listens (no secret), since when (epoch s)."""

    pid: int
    listen: str
    started_at: float


def marker_path(state_path: Path) -> Path:
    """The marker file of the load state at ``state_path``."""
    return state_path.with_name(state_path.name + MARKER_SUFFIX)


def write_service_marker(state_path: Path, marker: ServiceMarker) -> Path:
    """Write the marker atomically (a reader never sees half a file); return its path."""
    path = marker_path(state_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(marker)), encoding="utf-8")
    tmp.replace(path)
    return path


def remove_service_marker(state_path: Path) -> None:
    """Remove the marker (missing is fine)."""
    marker_path(state_path).unlink(missing_ok=True)


def read_service_marker(state_path: Path) -> ServiceMarker | None:
    """The marker as written, alive or not; ``None`` when absent or unreadable."""
    path = marker_path(state_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ServiceMarker(pid=int(data["pid"]), listen=str(data["listen"]), started_at=float(data["started_at"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("ignoring the unreadable service marker %s (%s)", path, exc)
        return None


def pid_alive(pid: int) -> bool:
    """True when a process with ``pid`` exists (signal 0 checks without sending anything)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def running_service(config: RunConfig) -> ServiceMarker | None:
    """The service running on ``config``'s collection, or ``None`` (no marker, or its process is gone)."""
    marker = read_service_marker(state_path_of(config))
    return marker if marker is not None and pid_alive(marker.pid) else None
