"""The Qdrant sink against real embedded Qdrant (and real loopback HTTP for server errors)."""

from __future__ import annotations

import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from qdrant_client import models as qm

from embed_support import bundled_models, catalogue
from plex_loader_tui.embed.stage import Embedder
from plex_loader_tui.pipeline.errors import FatalError
from plex_loader_tui.sinks.qdrant import QdrantSettings, QdrantSink
from plex_loader_tui.sinks.qdrant_errors import (
    TRANSIENT_ERRORS,
    CollectionMismatchError,
    CollectionMissingError,
    QdrantAuthError,
    QdrantUnavailableError,
)

DENSE, SPARSE = "BAAI/bge-small-en-v1.5", "Qdrant/bm25"
API_KEY = "qdrant-secret-key-1234"


@pytest.fixture(scope="module")
def points():
    return Embedder(bundled_models()).embed(catalogue()[:20])


@pytest.fixture
def sink(tmp_path):
    s = QdrantSink(QdrantSettings(path=tmp_path / "qdrant"), 384, DENSE, SPARSE)
    s.connect()
    yield s
    s.close()


def test_ensure_collection_creates_named_dense_and_idf_sparse_vectors(sink):
    assert sink.ensure_collection() is True
    assert sink.ensure_collection() is False  # exists and fits: left alone
    params = sink.client.get_collection("media-items").config.params
    assert params.vectors["dense"].size == 384
    assert params.vectors["dense"].distance == qm.Distance.COSINE
    assert params.sparse_vectors["sparse"].modifier == qm.Modifier.IDF


def test_upsert_confirms_points_and_twice_keeps_the_count(sink, points):
    sink.ensure_collection()
    assert sink.upsert(points) == points
    assert sink.count() == len(points)
    assert sink.upsert(points[:5]) == points[:5]
    assert sink.upsert([]) == []
    assert sink.count() == len(points)
    record = sink.retrieve([points[0].point_id], with_vectors=True)[0]
    assert record.payload == points[0].payload
    assert len(record.vector["dense"]) == 384
    assert list(record.vector["sparse"].indices) == sorted(points[0].sparse.indices)


def _journal_mode(folder) -> str:
    import sqlite3

    (db,) = folder.glob("collection/*/storage.sqlite")
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]


def test_local_storage_uses_wal_unless_durable_writes_are_asked_for(tmp_path, points):
    with QdrantSink(QdrantSettings(path=tmp_path / "fast"), 384, DENSE, SPARSE) as fast:
        fast.ensure_collection()
        fast.upsert(points[:2])
    assert _journal_mode(tmp_path / "fast") == "wal"
    with QdrantSink(QdrantSettings(path=tmp_path / "safe", durable_local_writes=True), 384, DENSE, SPARSE) as safe:
        safe.ensure_collection()
        safe.upsert(points[:2])
    assert _journal_mode(tmp_path / "safe") == "delete"


def test_points_survive_reopening_the_local_store(tmp_path, points):
    settings = QdrantSettings(path=tmp_path / "q")
    with QdrantSink(settings, 384, DENSE, SPARSE) as first:
        first.ensure_collection()
        first.upsert(points)
    with QdrantSink(settings, 384, DENSE, SPARSE) as second:
        assert second.ensure_collection() is False
        assert second.count() == len(points)


def test_delete_removes_only_the_named_points(sink, points):
    sink.ensure_collection()
    sink.upsert(points)
    sink.delete([p.point_id for p in points[:3]] + ["00000000-0000-0000-0000-000000000000"])
    assert sink.count() == len(points) - 3
    assert sink.retrieve([points[0].point_id]) == []


def test_upserts_from_many_threads_share_one_local_client(sink, points):
    sink.ensure_collection()
    batches = [points[i : i + 2] for i in range(0, len(points), 2)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        confirmed = [p for chunk in pool.map(sink.upsert, batches) for p in chunk]
    assert len(confirmed) == len(points)
    assert sink.count() == len(points)


def test_mismatched_collection_is_an_error_and_is_not_touched(tmp_path, points):
    settings = QdrantSettings(path=tmp_path / "q", collection="films")
    with QdrantSink(settings, 384, DENSE, SPARSE) as original:
        original.ensure_collection()
        original.upsert(points[:4])
    with QdrantSink(settings, 768, "BAAI/bge-base-en-v1.5", SPARSE) as other:
        with pytest.raises(CollectionMismatchError) as err:
            other.ensure_collection()
        message = str(err.value)
        assert "'films'" in message and "384" in message and "768" in message
        assert "--collection" in message and "delete" in message
        assert isinstance(err.value, FatalError)
        assert other.count() == 4  # never overwritten


def test_same_size_but_different_model_is_a_mismatch(tmp_path):
    settings = QdrantSettings(path=tmp_path / "q")
    with QdrantSink(settings, 384, DENSE, SPARSE) as original:
        original.ensure_collection()
    with QdrantSink(settings, 384, "sentence-transformers/all-MiniLM-L6-v2", SPARSE) as other:
        with pytest.raises(CollectionMismatchError, match="all-MiniLM-L6-v2"):
            other.ensure_collection()


def test_collection_without_idf_sparse_is_a_mismatch(sink):
    sink.client.create_collection(
        "media-items",
        vectors_config={"dense": qm.VectorParams(size=384, distance=qm.Distance.COSINE)},
        sparse_vectors_config={"sparse": qm.SparseVectorParams()},
    )
    with pytest.raises(CollectionMismatchError, match="IDF"):
        sink.ensure_collection()


def test_a_local_folder_in_use_is_a_clear_fatal_error(sink):
    second = QdrantSink(sink.settings, 384, DENSE, SPARSE)
    with pytest.raises(QdrantUnavailableError, match="in use by another process"):
        second.connect()


@pytest.mark.timeout(60)
def test_unreachable_url_is_fatal_names_the_url_and_masks_the_key():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    sink = QdrantSink(QdrantSettings(url=url, api_key=API_KEY, timeout=5), 384, DENSE, SPARSE)
    with pytest.raises(QdrantUnavailableError) as err:
        sink.connect()
    assert url in str(err.value)
    assert API_KEY not in str(err.value) and "****1234" in str(err.value)


def test_settings_repr_masks_the_api_key():
    text = repr(QdrantSink(QdrantSettings(url="http://q:6333", api_key=API_KEY), 384, DENSE, SPARSE))
    assert API_KEY not in text and "****1234" in text


class _FakeQdrant(BaseHTTPRequestHandler):
    """A loopback HTTP server answering like Qdrant with a chosen status per method."""

    statuses: dict[str, int] = {}

    def _reply(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status = self.statuses.get(method, 200)
        body = {"result": {"collections": []}, "status": "ok", "time": 0.0}
        if status != 200:
            body = {"status": {"error": f"forced {status}"}, "time": 0.0}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self._reply("GET")

    def do_PUT(self):  # noqa: N802
        self._reply("PUT")

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def fake_qdrant():
    handler = type("Handler", (_FakeQdrant,), {"statuses": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler.statuses
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def test_rejected_api_key_is_fatal_and_masked(fake_qdrant, no_proxy):
    server, statuses = fake_qdrant
    statuses["GET"] = 403
    url = f"http://127.0.0.1:{server.server_port}"
    sink = QdrantSink(QdrantSettings(url=url, api_key=API_KEY), 384, DENSE, SPARSE)
    with pytest.raises(QdrantAuthError) as err:
        sink.connect()
    assert "403" in str(err.value) and url in str(err.value)
    assert API_KEY not in str(err.value)


def test_server_errors_during_upsert_are_transient_and_404_is_fatal(fake_qdrant, no_proxy, points):
    server, statuses = fake_qdrant
    sink = QdrantSink(QdrantSettings(url=f"http://127.0.0.1:{server.server_port}"), 384, DENSE, SPARSE)
    sink.connect()
    try:
        statuses["PUT"] = 503
        with pytest.raises(TRANSIENT_ERRORS):
            sink.upsert(points[:2])
        statuses["PUT"] = 404
        with pytest.raises(CollectionMissingError, match="media-items"):
            sink.upsert(points[:2])
    finally:
        sink.close()
