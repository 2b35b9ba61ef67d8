"""The collection's own shape against what its consumers need: vectors, IDF, models, indexes."""

from __future__ import annotations

from dataclasses import dataclass

from ..sinks.qdrant_schema import DENSE_VECTOR, PAYLOAD_INDEXES, SPARSE_VECTOR, missing_indexes
from ..sinks.shape import COSINE, IDF, CollectionShape
from .findings import Finding, FindingKind, examples


@dataclass(frozen=True, slots=True)
class Expected:
    """What this version and the configuration expect of the collection.

    ``dense_dim`` is ``None`` when the configured dense model is unknown to
    fastembed (its size cannot be told without loading it). ``indexed``: the
    store keeps payload indexes (a server and Qdrant Edge; not qdrant-client's local mode).
    """

    dense_model: str
    sparse_model: str
    dense_dim: int | None
    text_version: int
    payload_format: str
    indexed: bool


def check_collection(shape: CollectionShape, expected: Expected) -> list[Finding]:
    """Every way ``shape`` falls short of ``expected``, one finding per line."""
    return [*_vectors(shape, expected), *_record(shape, expected), *_indexes(shape, expected)]


def _vectors(shape: CollectionShape, expected: Expected) -> list[Finding]:
    found: list[Finding] = []
    want = f"{expected.dense_dim} dims Cosine" if expected.dense_dim else "Cosine"
    dense = shape.dense.get(DENSE_VECTOR)
    if dense is None or dense.distance != COSINE or (
        expected.dense_dim is not None and dense.size != expected.dense_dim
    ):
        found.append(Finding(FindingKind.VECTORS, (
            f"vectors: the collection has [{shape.describe_vectors()}], the dense model {expected.dense_model} needs "
            f"{DENSE_VECTOR!r}: {want}: load into another --collection, or delete this one and load again"
        )))
    if SPARSE_VECTOR not in shape.sparse:
        found.append(Finding(FindingKind.VECTORS, (
            f"vectors: no sparse vector {SPARSE_VECTOR!r} (has [{shape.describe_vectors()}]): hybrid search needs it; "
            "load into another --collection, or delete this one and load again"
        )))
    elif shape.sparse[SPARSE_VECTOR] != IDF:
        found.append(Finding(FindingKind.SPARSE_IDF, (
            f"sparse vector {SPARSE_VECTOR!r} has no IDF modifier (mcp-plex's own loader makes it so): BM25 then "
            "scores a common word like a rare one; --repair sets it (Qdrant re-weighs in place, nothing is reloaded)"
        )))
    return found


def _record(shape: CollectionShape, expected: Expected) -> list[Finding]:
    meta = shape.metadata
    if "dense_model" not in meta and "sparse_model" not in meta:
        return [Finding(FindingKind.NO_RECORD, (
            "the collection records no models (made by another loader or an older version): --repair records "
            f"the configured ones ({expected.dense_model} + {expected.sparse_model}) if they are what filled it"
        ))]
    found: list[Finding] = []
    for key, flag, env, ours in (
        ("dense_model", "--dense-model", "DENSE_MODEL", expected.dense_model),
        ("sparse_model", "--sparse-model", "SPARSE_MODEL", expected.sparse_model),
    ):
        theirs = meta.get(key)
        if theirs is not None and theirs != ours:
            found.append(Finding(FindingKind.MODELS, (
                f"models: the collection was filled with {key.replace('_', ' ')} {theirs!r}, the configured one is "
                f"{ours!r}: query it with {theirs!r} ({flag} here, {env} for mcp-plex), or load into another --collection"
            )))
    version, layout = meta.get("text_version"), meta.get("payload_format")
    if (version, layout) != (expected.text_version, expected.payload_format):
        found.append(Finding(FindingKind.TEXT_VERSION, (
            f"its points were built by text version {version} with payload {layout}, this version writes "
            f"{expected.text_version} with {expected.payload_format}: run a load to rebuild them"
        )))
    return found


def _indexes(shape: CollectionShape, expected: Expected) -> list[Finding]:
    if not expected.indexed:
        return []
    missing = missing_indexes(shape)
    if not missing:
        return []
    names = [f"{i.field} ({i.kind.value})" for i in missing]
    return [Finding(FindingKind.INDEXES, (
        f"payload indexes: {len(missing)} of {len(PAYLOAD_INDEXES)} missing ({examples(names, len(names), 4, quote=False)}): "
        "mcp-plex's filters and order_by need them; --repair creates them"
    ), tuple(i.field for i in missing))]
