"""The load's bookkeeping against the state store.

:class:`LoadLedger` is everything a load decides or records about items, in
one place: which listed items to skip as unchanged (before any enrichment),
which ones are pending, loaded or failed, which library sections were listed
completely, and — after a complete listing — which items left the library and
so lose their points. The stage functions of a load call it; it holds no
per-item data on the side: what it needs travels on each
:class:`~plex_loader_tui.models.LoadItem`.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..embed.text import point_id
from ..models import LoadItem, SourceItem, StoredHashes
from ..pipeline.errors import DeadLetter
from ..ports import ListingPlan, PageRequest, Sink
from ..secrets import redact
from ..stages import StageName
from .fingerprint import source_fingerprint
from .records import LoadedRecord, PendingRecord
from .store import StateStore

log = logging.getLogger(__name__)

#: The stage name the ledger records for items loaded without some enrichment.
ENRICH_STAGE = StageName.ENRICH.value
#: ... and for items the store did not confirm.
UPSERT_STAGE = StageName.UPSERT.value


@dataclass(frozen=True, slots=True)
class LoadFailure:
    """An item an upsert batch leaves failed (recorded as a dead letter with the batch).

    ``stage`` is where it failed; ``kind`` a short name of what went wrong.
    """

    item: LoadItem
    stage: str
    kind: str
    error: str


@dataclass
class ListingProgress:
    """Which items each section listed, and whether every page of it arrived.

    Deletions are only safe after a complete, successful listing of a section:
    one failed page means we cannot tell "gone" from "not seen".
    """

    pages_expected: dict[str, int] = field(default_factory=dict)
    pages_done: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failed_sections: set[str] = field(default_factory=set)
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def complete_sections(self) -> list[str]:
        return [
            section
            for section, expected in self.pages_expected.items()
            if section not in self.failed_sections and self.pages_done.get(section, 0) == expected
        ]


@dataclass(frozen=True, slots=True)
class MassDeleteGuard:
    """How many of a section's items may vanish in one listing before deleting needs a yes.

    A listing can be complete and still wrong: a server that under-reports
    ``totalSize`` pages fewer items, and every item it leaves out would look
    gone. Deleting needs positive evidence, so a section that lost more than
    ``max(floor, min(cap, fraction × known))`` items deletes nothing and the
    run says so, unless ``allowed`` (``--allow-mass-delete``).
    The floor lets a small library lose a handful of titles without asking.
    """

    allowed: bool = False
    fraction: float = 0.10
    cap: int = 50
    floor: int = 5

    def limit(self, known: int) -> float:
        """The most items a section of ``known`` items may lose without asking."""
        return max(self.floor, min(self.cap, self.fraction * known))

    def holds_back(self, gone: int, known: int) -> bool:
        return not self.allowed and gone > self.limit(known)


@dataclass(frozen=True, slots=True)
class Deletions:
    """What the deletion pass did: items forgotten, and items held back by the guard."""

    deleted: int = 0
    held_back: int = 0
    held_sections: tuple[str, ...] = ()


class LoadLedger:
    """Skip decisions, pending → loaded / failed records, listing completeness and deletions.

    ``model_names`` and ``text_version`` go into every source fingerprint, so
    changing the models or the text function reloads everything. ``full``
    loads every listed item; ``retry_failed`` only the dead letters (and items
    never recorded). ``secrets`` are masked in every error text it stores.
    The ingest stage calls :meth:`admit` from several threads at once.
    """

    def __init__(
        self,
        store: StateStore,
        *,
        server_id: str,
        model_names: str,
        text_version: int,
        full: bool = False,
        retry_failed: bool = False,
        secrets: Sequence[str | None] = (),
        mass_delete: MassDeleteGuard = MassDeleteGuard(),
    ) -> None:
        self.store = store
        self.server_id = server_id
        self.model_names = model_names
        self.text_version = text_version
        self.full = full
        self.retry_failed = retry_failed
        self._secrets = tuple(secrets)
        self.mass_delete = mass_delete
        self.listing = ListingProgress()
        # Ingest workers run in threads; the listing record is what they share.
        self._lock = threading.Lock()
        self._failed_keys: set[str] | None = None
        self._asked: dict[str, set[str]] = defaultdict(set)  # section -> item keys a targeted plan asked for
        self.enrich_incomplete = 0

    def section_id(self, section_key: str) -> str:
        """A section's identity in the state: servers number their sections alike,
        and several servers may load into one collection."""
        return f"{self.server_id}:{section_key}"

    # ----------------------------------------------------------------- listing
    def expect(self, plan: ListingPlan) -> None:
        """Note how many pages each section's listing has (for completeness)."""
        for page in plan.pages:
            section = self.section_id(page.section_key)
            self.listing.pages_expected[section] = self.listing.pages_expected.get(section, 0) + 1
            self._asked[section].update(f"{self.server_id}:{key}" for key in page.keys)

    def admit(self, page: PageRequest, items: Sequence[SourceItem]) -> tuple[list[LoadItem], int]:
        """Record what a listing page held; return the items to load and how many were skipped."""
        section = self.section_id(page.section_key)
        with self._lock:
            self.listing.pages_done[section] += 1
            # Fewer items than keys asked for is news (the rest were deleted), not a shifted listing.
            if len(items) != page.size and not page.keys:
                # The library changed mid-listing: offsets shifted, so an item may
                # have slipped past us. Deleting on this listing could drop it.
                self.listing.failed_sections.add(section)
            self.listing.seen[section].update(item.key for item in items)
        if not items:
            return [], 0
        fingerprints = {item.key: source_fingerprint(item, self.model_names, self.text_version) for item in items}
        wanted = list(items)
        if not self.full:
            unchanged = self.store.unchanged_keys((i.key, i.updated_at, fingerprints[i.key]) for i in items)
            wanted = [item for item in items if item.key not in unchanged]
            if self.retry_failed:
                # Replay the dead letters, plus anything never recorded (a page that failed).
                failed = self._dead_letter_keys()
                wanted = [item for item in wanted if item.key in failed or self.store.get(item.key) is None]
        # What each stored point was made from: an item whose text comes out the
        # same after enrichment is not embedded again (a --full load re-embeds all).
        stored = {} if self.full else self.store.stored_hashes(item.key for item in wanted)
        admitted = [
            LoadItem(item, section, fingerprints[item.key], point_id(item),
                     stored=StoredHashes(*stored[item.key]) if item.key in stored else None)
            for item in wanted
        ]
        return admitted, len(items) - len(wanted)

    def _dead_letter_keys(self) -> set[str]:
        with self._lock:
            if self._failed_keys is None:
                self._failed_keys = {record.key for record in self.store.failed_items()}
            return self._failed_keys

    # ---------------------------------------------------------------- records
    def mark_pending(self, items: Iterable[LoadItem]) -> None:
        """Before the upsert: a point that reaches the store just before a crash stays known."""
        self.store.mark_pending(
            [PendingRecord(key=i.key, point_id=i.point_id, section_key=i.section, title=i.title) for i in items]
        )

    def mark_loaded(self, items: Sequence[LoadItem], unconfirmed: Sequence[LoadItem] = ()) -> list[LoadFailure]:
        """After the upsert: record ``items`` (confirmed by the store) loaded, in one transaction.

        Items whose TMDb/IMDb data is missing after retries are in the
        collection (searchable with what we have) but stay dead letters, so
        ``retry-failed`` and the next run enrich them again; ``unconfirmed``
        items (sent, but the store did not confirm them) are dead letters too.
        Returns both kinds, recorded in the same transaction: the load counts
        them failed as they happen.
        """
        records = []
        failures: list[LoadFailure] = []
        for item in items:
            content_hash = item.point.content_hash if item.point is not None else ""
            text_hash = item.point.text_hash if item.point is not None else ""
            records.append(
                LoadedRecord(
                    key=item.key,
                    point_id=item.point_id,
                    updated_at=item.updated_at,
                    source_hash=item.source_hash,
                    content_hash=content_hash,
                    section_key=item.section,
                    title=item.title,
                    text_hash=text_hash,
                )
            )
            if item.enrich_errors:
                detail = "; ".join(f"{e.service}: {e.message}" for e in item.enrich_errors)
                error = self._clean(f"loaded without some TMDb/IMDb data: {detail}")
                failures.append(LoadFailure(item, ENRICH_STAGE, "EnrichIncomplete", error))
        for item in unconfirmed:
            failures.append(LoadFailure(item, UPSERT_STAGE, "Unconfirmed", "the store did not confirm the point"))
        self.store.mark_loaded(
            records,
            failures=[(f.item.key, f.item.point_id, f.item.title, f.stage, f.error, f.item.section) for f in failures],
        )
        with self._lock:
            self.enrich_incomplete += sum(f.stage == ENRICH_STAGE for f in failures)
        return failures

    def mark_failed(self, letter: DeadLetter) -> None:
        """Record a dead letter: a failed listing page blocks its section's deletions."""
        item = letter.item
        if isinstance(item, PageRequest):
            with self._lock:
                self.listing.failed_sections.add(self.section_id(item.section_key))
            return
        if isinstance(item, LoadItem):
            self.store.mark_failed(
                item.key, item.point_id, item.title, letter.stage, self._clean(letter.error), item.section
            )
            return
        log.warning("dead letter of an unknown kind in %s: %s", letter.stage, letter.title)

    def failed_count(self) -> int:
        """Dead letters waiting in the state for a retry."""
        return self.store.failed_count()

    # ---------------------------------------------------------------- deletions
    def delete_gone(self, sink: Sink) -> Deletions:
        """Delete points of items no longer in the library, for sections listed completely.

        A point that another item still maps to (the same ``plex://`` guid in
        another library or on another server) is kept; only the item is forgotten.
        A section that lost more items than :class:`MassDeleteGuard` allows keeps
        them all, with a warning.
        """
        deleted, held_back, held_sections = 0, 0, []
        for section in self.listing.complete_sections():
            known = self.store.keys_in_section(section)
            seen = self.listing.seen.get(section, set())
            gone = {key: pid for key, pid in known.items() if key not in seen}
            if not gone:
                continue
            if self.mass_delete.holds_back(len(gone), len(known)):
                log.warning(
                    "section %s: the listing lacks %d of the %d items loaded before; deleting nothing "
                    "(more than %d at once needs --allow-mass-delete: check the library first)",
                    section, len(gone), len(known), int(self.mass_delete.limit(len(known))),
                )
                held_back += len(gone)
                held_sections.append(section)
                continue
            deleted += self._forget(section, gone, sink)
        return Deletions(deleted, held_back, tuple(held_sections))

    def delete_missing(self, sink: Sink) -> Deletions:
        """After a targeted plan: forget the asked-for items the server no longer has.

        Only sections whose every page arrived count: a page that failed cannot
        tell "deleted" from "not fetched". No mass-delete guard: each key was
        named by the server's own notification and then confirmed missing.
        """
        deleted = 0
        for section in self.listing.complete_sections():
            asked = self._asked.get(section, set()) - self.listing.seen.get(section, set())
            if not asked:
                continue
            known = self.store.keys_in_section(section)
            gone = {key: pid for key, pid in known.items() if key in asked}
            if gone:
                deleted += self._forget(section, gone, sink)
        return Deletions(deleted)

    def _forget(self, section: str, gone: dict[str, str], sink: Sink) -> int:
        """Delete the points of ``gone`` (item key -> point id) no other item maps to; forget the items."""
        shared = self.store.points_in_use(gone.values(), excluding=gone.keys())
        points = sorted({pid for pid in gone.values() if pid not in shared})
        log.info("section %s: %d items left the library; deleting %d points", section, len(gone), len(points))
        if points:
            sink.delete(points)
        self.store.delete(list(gone))
        return len(gone)

    def _clean(self, text: str) -> str:
        return redact(text, self._secrets)
