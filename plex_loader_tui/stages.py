"""The four stages of a load, named once.

Everything that lists the stages (the settings table, the load's wiring, the
dashboard's panels, the summary) iterates :data:`STAGE_NAMES`.
"""

from __future__ import annotations

from enum import StrEnum


class StageName(StrEnum):
    """A stage of the load, in pipeline order."""

    INGEST = "ingest"
    ENRICH = "enrich"
    EMBED = "embed"
    UPSERT = "upsert"


#: The stage names in pipeline order (plain strings: the engine knows no enums of ours).
STAGE_NAMES: tuple[str, ...] = tuple(stage.value for stage in StageName)
