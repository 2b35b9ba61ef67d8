"""Reading an embedded store after a load, whichever engine wrote it (Qdrant Edge or local mode).

Tests check what a load left in its folder; the folder's format says which engine reads it
(opening an Edge folder with qdrant-client would turn it into a mixed folder).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from plex_loader_tui.sinks.store_format import EDGE_FOLDER, StoreFormat, detect_format


class EmbeddedStore:
    """Read-only views of the collections in an embedded folder; use it as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.format = detect_format(self.path)
        self._client: Any = None
        self._shards: dict[str, qe.EdgeShard] = {}

    def __enter__(self) -> EmbeddedStore:
        if self.format is StoreFormat.LOCAL:
            from qdrant_client import QdrantClient

            self._client = QdrantClient(path=str(self.path))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        for shard in self._shards.values():
            shard.close()

    def _shard_path(self, collection: str) -> Path:
        return self.path / EDGE_FOLDER / collection / "shard"

    def _shard(self, collection: str) -> qe.EdgeShard:
        if collection not in self._shards:
            self._shards[collection] = qe.EdgeShard.load(str(self._shard_path(collection)))
        return self._shards[collection]

    def exists(self, collection: str) -> bool:
        if self._client is not None:
            return self._client.collection_exists(collection)
        return (self._shard_path(collection) / "edge_config.json").is_file()

    def payloads(self, collection: str = "media-items") -> dict[str, dict[str, Any]]:
        """point id -> payload, every point of ``collection`` (empty when it does not exist)."""
        if not self.exists(collection):
            return {}
        out: dict[str, dict[str, Any]] = {}
        offset = None
        while True:
            if self._client is not None:
                batch, offset = self._client.scroll(collection, limit=256, offset=offset, with_payload=True)
            else:
                batch, offset = self._shard(collection).scroll(qe.ScrollRequest(offset=offset, limit=256, with_payload=True))
            out.update((str(p.id), dict(p.payload or {})) for p in batch)
            if offset is None:
                return out

    def count(self, collection: str = "media-items") -> int:
        if self._client is not None:
            return self._client.count(collection, exact=True).count
        return self._shard(collection).count(qe.CountRequest(exact=True))

    def found(self, ids: set[str], collection: str = "media-items") -> set[str]:
        """Which of ``ids`` are in ``collection``."""
        if not ids:
            return set()
        if self._client is not None:
            return {str(p.id) for p in self._client.retrieve(collection, ids=sorted(ids))}
        return {str(p.id) for p in self._shard(collection).retrieve(sorted(ids), False, False)}

    def vectors(self, point_id: str, collection: str = "media-items") -> tuple[list[float], list[int]]:
        """(dense vector, sparse indices) of one point."""
        if self._client is not None:
            record = self._client.retrieve(collection, [point_id], with_vectors=True)[0]
        else:
            record = self._shard(collection).retrieve([point_id], False, True)[0]
        return list(record.vector["dense"]), list(record.vector["sparse"].indices)

    def sparse_modifier(self, collection: str = "media-items") -> str | None:
        """``"idf"`` when the sparse vector has the IDF modifier."""
        if self._client is not None:
            modifier = self._client.get_collection(collection).config.params.sparse_vectors["sparse"].modifier
            return getattr(modifier, "value", modifier)
        config = json.loads((self._shard_path(collection) / "edge_config.json").read_text())
        return config["sparse_vectors"]["sparse"].get("modifier")


def edge_shard(path: Path, collection: str = "media-items") -> qe.EdgeShard:
    """The Edge shard of ``collection`` under the embedded folder ``path``, opened to change it behind a load's back."""
    return qe.EdgeShard.load(str(Path(path) / EDGE_FOLDER / collection / "shard"))
