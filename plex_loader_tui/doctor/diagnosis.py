"""One ``doctor`` pass: connect, check the collection's shape, then its drift from the load state."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..config import RunConfig
from ..errors import FatalError
from ..state.paths import state_path_of
from .collection import Expected, check_collection
from .drift import PAGE_SIZE, Drift, find_drift
from .findings import Finding, FindingKind, examples

log = logging.getLogger(__name__)


@dataclass
class Diagnosis:
    """Everything one pass found, and the figures ``doctor`` closes with."""

    collection: str
    location: str
    findings: list[Finding] = field(default_factory=list)
    points: int | None = None
    drift: Drift | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.findings


def expected_of(config: RunConfig) -> Expected:
    """What this version and ``config`` expect of the collection (no model is loaded)."""
    from ..embed.models import known_dense_dim
    from ..embed.payload import PAYLOAD_FORMAT
    from ..embed.text import TEXT_VERSION

    return Expected(
        dense_model=config.dense_model, sparse_model=config.sparse_model,
        dense_dim=known_dense_dim(config.dense_model), text_version=TEXT_VERSION,
        payload_format=PAYLOAD_FORMAT, indexed=True,  # the sink says whether it keeps indexes
    )


def open_target(config: RunConfig, expected: Expected):  # type: ignore[no-untyped-def]
    """A connected sink on ``config``'s collection; a :class:`FatalError` when it cannot connect.

    Either engine's sink (qdrant-client's or Qdrant Edge's): ``doctor`` uses
    only what both offer (``shape``, ``scroll_page``, ``count``, ``delete``, the repairs).

    An embedded folder that does not exist is "cannot connect", not a new empty store.
    """
    from ..load.wiring import make_target_sink

    path = config.effective_qdrant_path
    if not config.qdrant_url and (path is None or not Path(path).is_dir()):
        raise FatalError(f"no embedded Qdrant folder at {path}: check --qdrant-path (or give --qdrant-url)")
    sink = make_target_sink(config, expected.dense_dim or 0, expected.dense_model, expected.sparse_model)
    sink.connect()
    return sink


def diagnose(config: RunConfig, page_size: int = PAGE_SIZE) -> Diagnosis:
    """Check ``config``'s collection and its drift from the load state; raise :class:`FatalError` if unreachable."""
    from ..state import StateStore

    expected = expected_of(config)
    sink = open_target(config, expected)
    diagnosis = Diagnosis(config.collection, sink.location)
    try:
        if not sink.collection_exists():
            diagnosis.findings.append(Finding(FindingKind.NO_COLLECTION, (
                f"collection {config.collection!r} does not exist in {sink.location}: run a load to create it"
            )))
            return diagnosis
        shape = sink.shape()
        diagnosis.points = shape.points
        expected = dataclasses.replace(expected, indexed=sink.keeps_indexes)
        diagnosis.findings.extend(check_collection(shape, expected))
        if not expected.indexed:
            diagnosis.notes.append("qdrant-client's local mode keeps no payload indexes (a Qdrant server and "
                                   "Qdrant Edge get them at creation)")
        state_path = state_path_of(config)
        if not state_path.is_file():
            diagnosis.notes.append(f"no load state at {state_path} (loaded with another --data-dir?): drift not checked")
            return diagnosis
        models: tuple[str, str] | None = (config.dense_model, config.sparse_model)
        if any(f.kind is FindingKind.MODELS for f in diagnosis.findings):
            # Which models made the stored hashes is then in doubt: compare presence only.
            models = None
            diagnosis.notes.append("payloads not compared with the load state: the models are in question (see above)")
        with StateStore.open(state_path) as store:
            claims = store.claims()
        drift = find_drift(sink, claims, models, page_size)
        diagnosis.drift = drift
        diagnosis.findings.extend(drift_findings(drift))
        return diagnosis
    finally:
        sink.close()


def drift_findings(drift: Drift) -> list[Finding]:
    """One line per kind of drift, naming a few of the items."""
    found: list[Finding] = []
    if drift.missing:
        n = len(drift.missing)
        found.append(Finding(FindingKind.MISSING_POINTS, (
            f"drift: {n} item(s) the load state calls loaded have no point in the collection "
            f"({examples([c.title for c in drift.missing], n)}): --repair reloads them"
        ), tuple(c.key for c in drift.missing)))
    if drift.changed:
        n = len(drift.changed)
        found.append(Finding(FindingKind.CHANGED_POINTS, (
            f"drift: {n} point(s) hold another payload than the load state recorded (changed by hand, or by "
            f"another writer) ({examples([c.title for c in drift.changed], n)}): --repair reloads them"
        ), tuple(c.key for c in drift.changed)))
    if drift.orphans:
        n = len(drift.orphans)
        found.append(Finding(FindingKind.ORPHANS, (
            f"drift: {n} point(s) no item of the load state maps to ({examples(drift.orphans, n)}): "
            "--repair deletes them"
        ), tuple(drift.orphans)))
    return found
