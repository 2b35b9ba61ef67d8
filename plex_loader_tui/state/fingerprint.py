"""Fingerprints that decide whether an item must be loaded again.

The skip decision is made *before* enrichment (that is the point: no TMDb or
IMDb request, no embedding, no upsert for an unchanged item), so it can only
use what Plex said about the item. The fingerprint therefore covers every
Plex-side field, the model names and the version of the text-building
function: changing the models or :func:`plex_loader_tui.embed.text.build_text`
invalidates every fingerprint and the next run reloads everything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from ..models import SourceItem


def source_fingerprint(item: SourceItem, model_names: str, text_version: int) -> str:
    """A stable hash of the item's Plex data, the models and the text version."""
    fields = dataclasses.asdict(item)
    blob = json.dumps([fields, model_names, text_version], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
