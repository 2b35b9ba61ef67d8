"""The JSON shapes of the control API, both ways.

``*_to_json`` turns the typed shapes of :mod:`.controls` (and the engine's
:class:`~plex_loader_tui.pipeline.PipelineSnapshot`) into JSON-ready dicts;
``*_from_json`` rebuilds them, so that a dashboard attached over HTTP renders
the very snapshot the service holds: ``status_from_json(status_to_json(s)) == s``.

Every document carries ``"version": WIRE_VERSION``; a reader refuses another
major version rather than misread it. Upstream text (titles, errors) travels
as sent (JSON escaping makes it safe to carry; a reader prints it safely).
Nothing secret is in these shapes: :class:`~plex_loader_tui.load.SessionInfo`
holds masked text only.

What does not survive the trip: a dead letter's ``item`` is the engine's
in-process object (a ``LoadItem``, a listing page); it travels as a small
mapping of the facts that identify it (:func:`item_facts`) and comes back as
that mapping. A search hit's ``payload`` travels without its embedded ``text``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from ..config import StageConfig
from ..load.outcome import SessionInfo
from ..models import LoadItem
from ..pipeline import DeadLetter, PipelineSnapshot, PipelineState, StageSnapshot, StageState
from ..ports import PageRequest
from ..search import SearchHit
from .controls import (
    Failure,
    FailurePage,
    ServiceState,
    ServiceStatus,
    ServiceTotals,
    SyncKind,
    SyncRecord,
    WatchStatus,
)

#: The schema version of every document the API sends.
WIRE_VERSION = 1

JSON = dict[str, Any]
_T = TypeVar("_T")


class WireError(ValueError):
    """A document that is not one of ours (wrong version, missing or mistyped field)."""


# --------------------------------------------------------------------------
# Helpers: flat dataclasses
# --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A field's value as JSON: enums by value, tuples as lists, nested dataclasses as dicts."""
    if isinstance(value, (ServiceState, SyncKind, PipelineState, StageState)):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    return value


def _fields(obj: Any) -> JSON:
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def _build(cls: type[_T], data: Any, **converted: Any) -> _T:
    """``cls`` from the dict ``data``: its fields (extra keys, such as derived figures, are ignored)."""
    if not isinstance(data, Mapping):
        raise WireError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in converted:
            kwargs[f.name] = converted[f.name]
        elif f.name in data:
            kwargs[f.name] = data[f.name]
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise WireError(f"{cls.__name__}: missing field {f.name!r}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise WireError(f"{cls.__name__}: {exc}") from None


def _enum(cls: type[_T], value: Any) -> _T:
    try:
        return cls(value)  # type: ignore[call-arg]
    except ValueError:
        raise WireError(f"{cls.__name__}: unknown value {value!r}") from None


def _optional(convert: Any, value: Any) -> Any:
    return None if value is None else convert(value)


def _check_version(data: Any) -> None:
    if not isinstance(data, Mapping) or data.get("version") != WIRE_VERSION:
        version = data.get("version") if isinstance(data, Mapping) else None
        raise WireError(f"expected a version {WIRE_VERSION} document, got version {version!r}")


# --------------------------------------------------------------------------
# The engine's snapshot
# --------------------------------------------------------------------------


def item_facts(item: Any) -> Any:
    """What identifies a dead letter's unit of work, as JSON (never a repr of our objects)."""
    if item is None or isinstance(item, (str, int, float, bool)):
        return item
    if isinstance(item, Mapping):
        return {str(k): item_facts(v) for k, v in item.items()}
    if isinstance(item, PageRequest):
        return {"page": item.description, "kind": str(item.kind)}
    if isinstance(item, LoadItem):
        source = item.source
        facts = {
            "title": item.title, "type": str(source.type), "library": source.library,
            "rating_key": source.rating_key, "guid": source.guid, "point_id": item.point_id,
            "enrichment": "; ".join(f"{e.service}: {e.message}" for e in item.enrich_errors),
        }
        return {k: v for k, v in facts.items() if v not in (None, "")}
    return {"kind": type(item).__name__}


def dead_letter_to_json(letter: DeadLetter) -> JSON:
    out = _fields(letter)
    out["item"] = item_facts(letter.item)
    return out


def dead_letter_from_json(data: Any) -> DeadLetter:
    return _build(DeadLetter, data)


def stage_snapshot_to_json(stage: StageSnapshot) -> JSON:
    return _fields(stage)


def stage_snapshot_from_json(data: Any) -> StageSnapshot:
    history = data.get("history") if isinstance(data, Mapping) else None
    if not isinstance(history, list):
        raise WireError("StageSnapshot: 'history' must be a list")
    return _build(StageSnapshot, data, state=_enum(StageState, data.get("state")),
                  history=tuple(float(v) for v in history))


def snapshot_to_json(snapshot: PipelineSnapshot) -> JSON:
    out = {f.name: _plain(getattr(snapshot, f.name)) for f in dataclasses.fields(snapshot)
           if f.name not in ("stages", "recent_failures")}
    out["stages"] = [stage_snapshot_to_json(s) for s in snapshot.stages]
    out["recent_failures"] = [dead_letter_to_json(d) for d in snapshot.recent_failures]
    out["done"] = snapshot.done  # derived, for readers that are not this package
    out["left"] = snapshot.left
    return out


def snapshot_from_json(data: Any) -> PipelineSnapshot:
    if not isinstance(data, Mapping):
        raise WireError("PipelineSnapshot: expected an object")
    stages, failures = data.get("stages"), data.get("recent_failures")
    if not isinstance(stages, list) or not isinstance(failures, list):
        raise WireError("PipelineSnapshot: 'stages' and 'recent_failures' must be lists")
    return _build(
        PipelineSnapshot, data,
        state=_enum(PipelineState, data.get("state")),
        stages=tuple(stage_snapshot_from_json(s) for s in stages),
        recent_failures=tuple(dead_letter_from_json(d) for d in failures),
    )


# --------------------------------------------------------------------------
# The service's status
# --------------------------------------------------------------------------


def _sync_record_from_json(data: Any) -> SyncRecord:
    return _build(SyncRecord, data, kind=_enum(SyncKind, data.get("kind") if isinstance(data, Mapping) else None))


def _sync_record_to_json(record: SyncRecord) -> JSON:
    return {**_fields(record), "duration": record.duration}


def totals_to_json(totals: ServiceTotals) -> JSON:
    return {
        # A JSON object cannot have a pair as its key: one entry per (stage, outcome).
        "items": [{"stage": s, "outcome": o, "count": n} for (s, o), n in sorted(totals.items.items())],
        "retries": dict(totals.retries),
        "errors": dict(totals.errors),
        "rate_limited": dict(totals.rate_limited),
        "paced_seconds": dict(totals.paced_seconds),
        "syncs": dict(totals.syncs),
        "deleted": totals.deleted,
    }


def totals_from_json(data: Any) -> ServiceTotals:
    if not isinstance(data, Mapping) or not isinstance(data.get("items"), list):
        raise WireError("ServiceTotals: expected an object with an 'items' list")
    try:
        items = {(str(e["stage"]), str(e["outcome"])): int(e["count"]) for e in data["items"]}
    except (KeyError, TypeError, ValueError):
        raise WireError("ServiceTotals: each item needs 'stage', 'outcome' and 'count'") from None
    return _build(ServiceTotals, data, items=items)


def status_to_json(status: ServiceStatus) -> JSON:
    """``GET /api/v1/status`` (and each ``/api/v1/events`` message)."""
    return {
        "version": WIRE_VERSION,
        "state": status.state.value,
        "started_at": status.started_at,
        "now": status.now,
        "uptime": status.uptime,
        "info": _fields(status.info),
        "snapshot": _optional(snapshot_to_json, status.snapshot),
        "stage_settings": {name: _fields(cfg) for name, cfg in status.stage_settings.items()},
        "watch": _fields(status.watch),
        "totals": totals_to_json(status.totals),
        "failed_waiting": status.failed_waiting,
        "last_sync": _optional(_sync_record_to_json, status.last_sync),
        "last_success": _optional(_sync_record_to_json, status.last_success),
        "next_sync_at": status.next_sync_at,
        "current_sync": _optional(lambda k: k.value, status.current_sync),
    }


def status_from_json(data: Any) -> ServiceStatus:
    """The :class:`ServiceStatus` a ``status_to_json`` document describes; raises :class:`WireError`."""
    _check_version(data)
    settings = data.get("stage_settings")
    if not isinstance(settings, Mapping):
        raise WireError("ServiceStatus: 'stage_settings' must be an object")
    return _build(
        ServiceStatus, data,
        state=_enum(ServiceState, data.get("state")),
        info=_build(SessionInfo, data.get("info")),
        snapshot=_optional(snapshot_from_json, data.get("snapshot")),
        stage_settings={str(name): _build(StageConfig, cfg) for name, cfg in settings.items()},
        watch=_build(WatchStatus, data.get("watch")),
        totals=totals_from_json(data.get("totals")),
        last_sync=_optional(_sync_record_from_json, data.get("last_sync")),
        last_success=_optional(_sync_record_from_json, data.get("last_success")),
        current_sync=_optional(lambda k: _enum(SyncKind, k), data.get("current_sync")),
    )


# --------------------------------------------------------------------------
# Failures, search hits, stage settings
# --------------------------------------------------------------------------


def failures_to_json(page: FailurePage, *, limit: int, offset: int) -> JSON:
    """``GET /api/v1/failures``: one page of dead letters and where it sits in the whole."""
    return {
        "version": WIRE_VERSION,
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "items": [_fields(f) for f in page.items],
    }


def failures_from_json(data: Any) -> FailurePage:
    _check_version(data)
    items = data.get("items")
    if not isinstance(items, list):
        raise WireError("FailurePage: 'items' must be a list")
    return FailurePage(total=int(data.get("total", 0)), items=tuple(_build(Failure, f) for f in items))


def hit_to_json(hit: SearchHit) -> JSON:
    out = {f.name: _plain(getattr(hit, f.name)) for f in dataclasses.fields(hit) if f.name != "payload"}
    out["display_title"] = hit.display_title
    out["payload"] = {k: v for k, v in hit.payload.items() if k != "text"}
    return out


def hits_to_json(query: str, hits: Sequence[SearchHit]) -> JSON:
    """``GET /api/v1/search``: the hits, best first."""
    return {"version": WIRE_VERSION, "query": query, "hits": [hit_to_json(h) for h in hits]}


def hits_from_json(data: Any) -> list[SearchHit]:
    _check_version(data)
    hits = data.get("hits")
    if not isinstance(hits, list):
        raise WireError("search: 'hits' must be a list")
    return [_build(SearchHit, h, payload=dict(h.get("payload") or {})) for h in hits]


def stage_config_to_json(stage: str, config: StageConfig) -> JSON:
    """``PUT /api/v1/stages/{stage}``: the stage's settings after the change."""
    return {"version": WIRE_VERSION, "stage": stage, **_fields(config)}


def stage_config_from_json(data: Any) -> StageConfig:
    """The :class:`StageConfig` a ``stage_config_to_json`` document describes."""
    _check_version(data)
    return _build(StageConfig, data)
