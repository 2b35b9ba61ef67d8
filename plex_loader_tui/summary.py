"""The end-of-run summary: one dict for ``--summary-json`` and a few lines for people."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config.settings import SETTINGS_BY_NAME
from .figures import RATE_DECIMALS, latency_value, rate_value
from .secrets import redact

if TYPE_CHECKING:
    from .config import RunConfig
    from .load import LoadResult, SessionInfo
    from .pipeline.errors import DeadLetter

#: 2: latencies in ms, ``run_s``/``startup_s``, ``items_per_s`` over the run, items
#: loaded without some enrichment counted failed (not loaded), ingest figures in items.
SUMMARY_VERSION = 2
MAX_FAILURES_LISTED = 1000
#: A service whose rate limit held lookups back for this share of the run is named in the closing lines.
PACED_NOTE_SHARE = 0.5


def build_summary(
    result: LoadResult, info: SessionInfo, config: RunConfig, *, exit_code: int, signal: str | None = None
) -> dict[str, Any]:
    """Everything a script needs to know about a finished run (secrets masked).

    Every figure comes from the run's final snapshot, as on the dashboard's
    final frame and the headless last line: they cannot disagree.
    """
    secrets = [config.plex_token, config.tmdb_api_key, config.qdrant_api_key]
    snap = result.snapshot
    stages: dict[str, Any] = {}
    loaded = skipped = failed = seen = 0
    run_s = 0.0
    if snap is not None:
        loaded, skipped, failed = snap.loaded, snap.skipped, snap.failed
        run_s = snap.elapsed
        for stage in snap.stages:
            stages[stage.name] = {
                "items_in": stage.items_in,
                "items_out": stage.items_out,
                "skipped": stage.skipped,
                "failed": stage.failed,
                "retries": stage.retries,
                "errors": stage.errors,
                "workers": stage.workers,
                "batch_size": stage.batch_size,
                "latency_p50_ms": latency_value(stage.latency_p50),
                "latency_p95_ms": latency_value(stage.latency_p95),
                "last_error": redact(stage.last_error, secrets) if stage.last_error else None,
            }
        ingest = snap.stages[0]
        seen = ingest.items_out + ingest.skipped
    # Items the run never got to (a drain or cancel stops the listing): the next run loads them.
    remaining = max(0, result.total - (loaded + skipped + failed)) if result.total is not None else None
    failures = [
        {
            "stage": letter.stage,
            "title": letter.title,
            "error": redact(letter.error, secrets),
            "error_type": letter.error_type,
            "attempts": letter.attempts,
            "items": letter.weight,
        }
        for letter in result.dead_letters[:MAX_FAILURES_LISTED]
    ]
    return {
        "version": SUMMARY_VERSION,
        "state": result.state,
        "exit_code": exit_code,
        "signal": signal,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "duration_s": round(result.duration, 3),
        "run_s": round(run_s, 3),
        "startup_s": round(result.startup, 3) if result.startup is not None else None,
        # The run's average, the final frame's own figure (start-up not included).
        "items_per_s": rate_value(snap.throughput) if snap is not None else 0.0,
        "source": info.source,
        "target": info.target,
        "collection": info.collection,
        "profile": info.profile,
        "counts": {
            "total": result.total,
            "seen": seen,
            "loaded": loaded,
            "skipped_unchanged": skipped,
            "failed": failed,
            "deleted": result.deleted,
            "deletions_held_back": result.deletions_held_back,
            "enrich_incomplete": result.enrich_incomplete,
            "unfinished": result.unfinished,
            "failed_waiting_retry": result.waiting_for_retry,
            "remaining": remaining,
            "embeddings_computed": result.content.embedded,
            "payload_only_updates": result.content.payload_only,
            "content_unchanged": result.content.unchanged,
        },
        "embedding": _embedding(result),
        "pacing": pacing_entries(result),
        "stages": stages,
        "failures": failures,
        "failure_groups": failure_groups(result.dead_letters, secrets),
        "failures_omitted": max(0, len(result.dead_letters) - MAX_FAILURES_LISTED) + result.dead_letters_omitted,
        "fatal_error": redact(result.fatal_error, secrets) if result.fatal_error else None,
        "config": config.masked(),
    }


def pacing_entries(result: LoadResult) -> list[dict[str, Any]]:
    """The summary's ``pacing``: how long each enrichment service's rate limit held the run back."""
    return [
        {"service": p.service, "setting": p.setting, "rate": p.rate, "requests": p.requests,
         "paced_s": round(p.paced_s, 3)}
        for p in result.pacing
    ]


def pacing_note(pacing: Sequence[dict[str, Any]], run_s: float) -> str | None:
    """One sentence naming the service whose rate limit set the run's pace, if one did."""
    # Services wait side by side; the one that held lookups back longest set the pace.
    paced = max(pacing, key=lambda p: p["paced_s"], default=None)
    if paced is None or run_s <= 0 or paced["paced_s"] < PACED_NOTE_SHARE * run_s:
        return None
    flag = SETTINGS_BY_NAME[paced["setting"]].flags[0]
    return (
        f"{paced['service']}'s rate limit ({paced['rate']:g} requests/s) held enrichment back for "
        f"{paced['paced_s']:.0f} of {run_s:.0f} s: the load went at its pace "
        f"({flag} raises it if the service allows more)"
    )


def _embedding(result: LoadResult) -> dict[str, Any] | None:
    """Which build of the dense model ran where, and why (``None`` if the models never loaded)."""
    models = result.models
    if models is None:
        return None
    return {
        "dense_model": models.dense_model,
        "dense_build": models.dense_build,
        "build_reason": models.build_reason,
        "device": models.device,
    }


def failure_groups(letters: Sequence[DeadLetter], secrets: Sequence[str | None] = ()) -> list[dict[str, Any]]:
    """Why items failed, most first: one row per stage, service and reason, with its item count.

    An item loaded without some enrichment counts once per service that failed
    it, under that service's short reason (``tmdb``, ``body over 2 MB``); other
    failures group by stage and error type.
    """
    counts: Counter[tuple[str, str | None, str]] = Counter()
    for letter in letters:
        errors = getattr(letter.item, "enrich_errors", ())
        if errors:
            for error in errors:
                counts[(letter.stage, error.service, error.reason or error.message)] += letter.weight
        else:
            counts[(letter.stage, None, letter.error_type or letter.error)] += letter.weight
    return [
        {"stage": stage, "service": service, "reason": redact(reason, secrets), "items": items}
        for (stage, service, reason), items in counts.most_common()
    ]


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """Write atomically, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def outcome_line(summary: dict[str, Any]) -> str:
    """The one line that says how a run ended: state, counts, time and rate.

    The first line of :func:`summary_lines`, and what the dashboard prints to
    the terminal once it has closed, so both front ends end on the same words.
    """
    counts = summary["counts"]
    total = counts["total"]
    of_total = f" of {total}" if total is not None else ""
    startup = summary.get("startup_s")
    # The rate is the run's average (the final progress line's); start-up is said apart.
    after = f", after {startup:.1f} s start-up" if startup else ""
    return (
        f"{summary['state']}: loaded {counts['loaded']}, skipped (unchanged) {counts['skipped_unchanged']}, "
        f"failed {counts['failed']}{of_total} items in {summary['run_s']:.1f} s "
        f"({summary['items_per_s']:.{RATE_DECIMALS}f} items/s{after}); deleted {counts['deleted']}"
    )


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """A short human summary for the end of a headless run."""
    counts = summary["counts"]
    lines = [outcome_line(summary)]
    if counts.get("remaining") and summary["state"] in ("drained", "cancelled"):
        stopped_by = f" by {summary['signal']}" if summary.get("signal") else ""
        lines.append(
            f"stopped early{stopped_by}: {counts['remaining']} items not loaded yet; the next run picks them up"
        )
    embedding = summary.get("embedding")
    if embedding is not None:
        lines.append(
            f"embeddings computed {counts['embeddings_computed']}, payload-only updates "
            f"{counts['payload_only_updates']}, unchanged {counts['content_unchanged']}; "
            f"dense model {embedding['dense_build']} on {embedding['device']}"
        )
    paced = pacing_note(summary.get("pacing", ()), summary["run_s"])
    if paced is not None:
        lines.append(paced)
    if counts.get("deletions_held_back"):
        lines.append(
            f"kept {counts['deletions_held_back']} items a listing lacked: so many gone at once looks like a bad "
            "listing (see the log; --allow-mass-delete deletes them)"
        )
    if counts["enrich_incomplete"]:
        lines.append(
            f"{counts['enrich_incomplete']} of the failed items are in the collection without some TMDb/IMDb "
            "data (the next run tries their enrichment again)"
        )
    if summary["failure_groups"]:
        lines.append("why: " + "; ".join(
            f"{g['service'] or g['stage']}: {g['reason']} ({g['items']})" for g in summary["failure_groups"][:5]
        ))
    if summary["failures"]:
        lines.append(
            f"{counts['failed_waiting_retry']} failed items wait for `plex-loader-tui retry-failed`; first ones:"
        )
        for failure in summary["failures"][:10]:
            lines.append(f"  [{failure['stage']}] {failure['title']}: {failure['error']}")
    if summary["fatal_error"]:
        lines.append(f"fatal: {summary['fatal_error']}")
    return lines
