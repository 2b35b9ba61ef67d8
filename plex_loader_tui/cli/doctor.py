"""``plex-loader-tui doctor [--repair]``: one line per finding, and what to do about it."""

from __future__ import annotations

import sys
from collections.abc import Callable

from plex_loader_tui.config import RunConfig
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.printable import one_line

PROG = "doctor"


def run_doctor(config: RunConfig, *, repair: bool, run_load: Callable[[RunConfig], int]) -> int:
    """Diagnose ``config``'s collection (and repair it on request); return the exit code.

    0: healthy; 1 (:attr:`ExitCode.FINDINGS`): findings left; a connection
    failure raises a :class:`FatalError` (exit 3) before any line.
    """
    from plex_loader_tui.doctor import diagnose
    from plex_loader_tui.doctor import repair as run_repair
    from plex_loader_tui.state.service import running_service

    out = sys.stdout
    diagnosis = diagnose(config)
    _print(diagnosis)
    if diagnosis.healthy or not repair:
        return ExitCode.OK if diagnosis.healthy else ExitCode.FINDINGS
    service = running_service(config)
    if service is not None:
        print(f"not repairing: a service (pid {service.pid}, {one_line(service.listen)}) runs on this collection; "
              "stop it first", file=out, flush=True)
        return ExitCode.FINDINGS
    if not any(f.repairable for f in diagnosis.findings):
        print("nothing here --repair can fix: see each line for what to do", file=out, flush=True)
        return ExitCode.FINDINGS
    print("repairing…", file=out, flush=True)
    done = run_repair(config, diagnosis, run_load)
    for line in done.fixed:
        print(f"repaired: {line}", file=out)
    if done.deleted:
        print(f"repaired: deleted {done.deleted} orphan point(s)", file=out)
    if done.reloaded:
        print(f"repaired: reloaded {done.reloaded} drifted item(s) (retry-failed load, exit {done.load_exit})", file=out)
    print("checking again…", file=out, flush=True)
    after = diagnose(config)
    _print(after)
    return ExitCode.OK if after.healthy else ExitCode.FINDINGS


def _print(diagnosis) -> None:  # type: ignore[no-untyped-def]
    out = sys.stdout
    for finding in diagnosis.findings:
        print(one_line(finding.line), file=out)
    for note in diagnosis.notes:
        print(f"note: {one_line(note)}", file=out)
    size = f"{diagnosis.points} points" if diagnosis.points is not None else "no points"
    drift = diagnosis.drift
    paged = f", paged {drift.points} points in {drift.pages} pages ({drift.seconds:.2f} s)" if drift else ""
    verdict = "healthy" if diagnosis.healthy else f"{len(diagnosis.findings)} finding(s)"
    print(f"{verdict}: collection {diagnosis.collection!r} at {diagnosis.location}, {size}{paged}", file=out, flush=True)
