"""``plex-loader-tui status [--json]``: the collection's size, last run, dead letters and service."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from typing import Any

from plex_loader_tui.config import RunConfig
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.printable import one_line


def collect_status(config: RunConfig) -> dict[str, Any]:
    """What ``status`` reports, as one JSON-ready dict (the ``--json`` output)."""
    from plex_loader_tui.sinks.qdrant_errors import QdrantUnavailableError
    from plex_loader_tui.state import StateStore
    from plex_loader_tui.state.paths import state_path_of
    from plex_loader_tui.state.runs import last_run
    from plex_loader_tui.state.service import running_service

    service = running_service(config)
    points: int | None = None
    exists: bool | None = None
    note: str | None = None
    folder = config.effective_qdrant_path
    try:
        from plex_loader_tui.doctor.diagnosis import expected_of, open_target

        if not config.qdrant_url and (folder is None or not folder.is_dir()):
            raise FileNotFoundError(folder)  # nothing was ever loaded there
        sink = open_target(config, expected_of(config))
    except FileNotFoundError:
        exists = False
    except QdrantUnavailableError:
        if service is None:
            raise
        # An embedded folder admits one process: the running service holds it.
        note = "the embedded Qdrant folder is held by the running service"
    else:
        try:
            exists = sink.collection_exists()
            points = sink.count() if exists else None
        finally:
            sink.close()
    state_path = state_path_of(config)
    run, dead = None, 0
    if state_path.is_file():
        with StateStore.open(state_path, check_integrity=False) as store:
            run = last_run(store)
            dead = store.failed_count()
    return {
        "collection": config.collection,
        "location": config.qdrant_location,
        "exists": exists,
        "points": points,
        "note": note,
        "state": str(state_path),
        "last_run": dataclasses.asdict(run) if run is not None else None,
        "dead_letters": dead,
        "service": dataclasses.asdict(service) if service is not None else None,
    }


def run_status(config: RunConfig, *, as_json: bool) -> int:
    """Print the status of ``config``'s collection; exit 0 (3 when Qdrant cannot be reached)."""
    status = collect_status(config)
    out = sys.stdout
    if as_json:
        print(json.dumps(status, sort_keys=True), file=out, flush=True)
        return ExitCode.OK
    for line in status_lines(status):
        print(one_line(line), file=out)
    out.flush()
    return ExitCode.OK


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def status_lines(status: dict[str, Any]) -> list[str]:
    """The human form of :func:`collect_status`'s dict, one fact per line."""
    where = f"collection {status['collection']!r} at {status['location']}"
    if status["note"]:
        size = f"{where}: size unknown ({status['note']})"
    elif not status["exists"]:
        size = f"{where}: does not exist (run a load)"
    else:
        size = f"{where}: {status['points']} points"
    lines = [size]
    run = status["last_run"]
    if run is None:
        lines.append("last run: none recorded")
    else:
        took = run["ended_at"] - run["started_at"]
        total = f" of {run['total']}" if run["total"] is not None else ""
        lines.append(
            f"last run: {run['command']} {run['state']} at {_when(run['ended_at'])} after {took:.1f} s, exit "
            f"{run['exit_code']}: loaded {run['loaded']}, skipped {run['skipped']}, failed {run['failed']}{total}, "
            f"deleted {run['deleted']}" + (f"; error: {run['error']}" if run["error"] else "")
        )
    dead = status["dead_letters"]
    lines.append(f"dead letters: {dead} waiting for retry-failed" if dead else "dead letters: none")
    service = status["service"]
    lines.append(
        f"service: running (pid {service['pid']}, listening on {service['listen']}, since {_when(service['started_at'])})"
        if service else "service: none running"
    )
    return lines
