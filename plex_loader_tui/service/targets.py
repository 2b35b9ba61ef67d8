"""Turning the rating keys Plex says changed into a plan of batched requests.

A library scan can name thousands of items in a few seconds. They arrive
here already grouped (debounced and de-duplicated by the change batcher);
this module groups them once more by library section and cuts each section's
keys into pages of at most ``keys_per_request`` keys: one Plex request per
page (``/library/metadata/{k1,k2,…}``), never one per notification.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..pipeline import DeadLetter
from ..ports import ListingPlan, PageKind, PageRequest, SectionPlan, ServerInfo


class ChangedItem(Protocol):
    """What the service needs of one change notification."""

    @property
    def rating_key(self) -> str: ...

    @property
    def section_key(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ChangesPlan:
    """The pages for the changed items of known sections, and what could not be placed.

    ``unknown_sections`` name sections the last listing did not have (a new
    library, or one the load does not take): only a reconcile can place them.
    """

    plan: ListingPlan
    unknown_sections: frozenset[str]

    @property
    def empty(self) -> bool:
        return not self.plan.pages


def plan_changes(
    changes: Iterable[ChangedItem],
    server: ServerInfo,
    sections: Mapping[str, SectionPlan],
    keys_per_request: int,
) -> ChangesPlan:
    """Group ``changes`` by section into pages of at most ``keys_per_request`` keys."""
    if keys_per_request < 1:
        raise ValueError(f"keys_per_request must be at least 1, got {keys_per_request}")
    by_section: dict[str, list[str]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for change in changes:
        marker = (change.section_key, change.rating_key)
        if marker not in seen:
            seen.add(marker)
            by_section[change.section_key].append(change.rating_key)
    pages: list[PageRequest] = []
    unknown: set[str] = set()
    for section_key, keys in by_section.items():
        section = sections.get(section_key)
        if section is None:
            unknown.add(section_key)
            continue
        kind: PageKind = "movie" if section.type == "movie" else "episode"
        for start in range(0, len(keys), keys_per_request):
            pages.append(PageRequest.for_keys(section.key, section.title, kind, keys[start : start + keys_per_request]))
    plan = ListingPlan(server=server, sections=tuple(sections[k] for k in by_section if k in sections), pages=tuple(pages))
    return ChangesPlan(plan, frozenset(unknown))


def unread_changes(dead_letters: Sequence[DeadLetter]) -> str | None:
    """Why a targeted sync counts as failed: pages of changed keys Plex did not answer.

    Such a page ends a dead letter that no store records (it is not an item),
    so without this its changes would be forgotten; failing the sync has the
    service reconcile after its retry delay instead.
    """
    pages = [d for d in dead_letters if isinstance(d.item, PageRequest)]
    if not pages:
        return None
    keys = sum(len(d.item.keys) for d in pages)
    return f"{keys} changed items could not be read from Plex ({pages[-1].error})"
