"""The collection's own shape against what its consumers need: vectors, IDF, models, indexes."""

from __future__ import annotations

from dataclasses import dataclass

from qdrant_client import models as qm

from ..sinks.qdrant_schema import (
    DENSE_VECTOR,
    PAYLOAD_INDEXES,
    SPARSE_VECTOR,
    describe_vectors,
    missing_indexes,
    recorded,
)
from .findings import Finding, FindingKind, examples


@dataclass(frozen=True, slots=True)
class Expected:
    """What this version and the configuration expect of the collection.

    ``dense_dim`` is ``None`` when the configured dense model is unknown to
    fastembed (its size cannot be told without loading it). ``indexed``: a
    Qdrant server (embedded Qdrant keeps no payload indexes).
    """

    dense_model: str
    sparse_model: str
    dense_dim: int | None
    text_version: int
    payload_format: str
    indexed: bool


def check_collection(info: qm.CollectionInfo, expected: Expected) -> list[Finding]:
    """Every way ``info`` falls short of ``expected``, one finding per line."""
    return [*_vectors(info, expected), *_record(info, expected), *_indexes(info, expected)]


def _vectors(info: qm.CollectionInfo, expected: Expected) -> list[Finding]:
    params = info.config.params
    vectors = params.vectors if isinstance(params.vectors, dict) else {}
    sparse = params.sparse_vectors or {}
    found: list[Finding] = []
    want = f"{expected.dense_dim} dims Cosine" if expected.dense_dim else "Cosine"
    dense = vectors.get(DENSE_VECTOR)
    if dense is None or dense.distance != qm.Distance.COSINE or (
        expected.dense_dim is not None and dense.size != expected.dense_dim
    ):
        found.append(Finding(FindingKind.VECTORS, (
            f"vectors: the collection has [{describe_vectors(info)}], the dense model {expected.dense_model} needs "
            f"{DENSE_VECTOR!r}: {want}: load into another --collection, or delete this one and load again"
        )))
    sp = sparse.get(SPARSE_VECTOR)
    if sp is None:
        found.append(Finding(FindingKind.VECTORS, (
            f"vectors: no sparse vector {SPARSE_VECTOR!r} (has [{describe_vectors(info)}]): hybrid search needs it; "
            "load into another --collection, or delete this one and load again"
        )))
    elif sp.modifier != qm.Modifier.IDF:
        found.append(Finding(FindingKind.SPARSE_IDF, (
            f"sparse vector {SPARSE_VECTOR!r} has no IDF modifier (mcp-plex's own loader makes it so): BM25 then "
            "scores a common word like a rare one; --repair sets it (Qdrant re-weighs in place, nothing is reloaded)"
        )))
    return found


def _record(info: qm.CollectionInfo, expected: Expected) -> list[Finding]:
    meta = recorded(info)
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


def _indexes(info: qm.CollectionInfo, expected: Expected) -> list[Finding]:
    if not expected.indexed:
        return []
    missing = missing_indexes(info)
    if not missing:
        return []
    names = [f"{i.field} ({i.kind.value})" for i in missing]
    return [Finding(FindingKind.INDEXES, (
        f"payload indexes: {len(missing)} of {len(PAYLOAD_INDEXES)} missing ({examples(names, len(names), 4, quote=False)}): "
        "mcp-plex's filters and order_by need them; --repair creates them"
    ), tuple(i.field for i in missing))]
