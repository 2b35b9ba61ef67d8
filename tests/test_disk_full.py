"""A Qdrant that cannot write is fatal for the run, not a data error per point.

The embedded store runs on a real, deliberately tiny tmpfs (mounting one
needs root, which this project's CI machine has); a Qdrant server's full disk
is a loopback HTTP server answering 500 the way Qdrant does.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from embed_support import bundled_models, catalogue
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.embed.stage import Embedder
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.sinks.qdrant import QdrantSettings, QdrantSink
from plex_loader_tui.sinks.qdrant_errors import QdrantStorageError
from plex_loader_tui.sinks.edge_errors import EDGE_HEADROOM
from plex_loader_tui.sinks.qdrant_edge import EdgeSink

DENSE, SPARSE = "BAAI/bge-small-en-v1.5", "Qdrant/bm25"
REPO = Path(__file__).resolve().parents[1]


def _tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 640 KiB tmpfs: room for a local-mode collection and a few dozen points."""
    yield from _tmpfs(tmp_path / "tiny", "640k")


#: The file a test fills an Edge disk with, and deletes when it "frees some space".
BALLAST = "ballast"
#: What the edge disk keeps free above Edge's headroom once a shard is made: ~270 points at ~7.5 KiB.
MARGIN = 2 * 2**20


def _leave_free(mount_point: Path, free: int) -> None:
    ballast = shutil.disk_usage(mount_point).free - free
    with open(mount_point / BALLAST, "wb") as f:
        f.truncate(0)
        for _ in range(ballast // 2**20):
            f.write(b"\0" * 2**20)  # written, not sparse: tmpfs counts what is written
        f.write(b"\0" * (ballast % 2**20))


@pytest.fixture
def edge_disk(tmp_path: Path) -> Iterator[Path]:
    """A 768 MiB tmpfs filled so that a new shard leaves a little more than Edge's headroom free.

    What a new shard takes there is measured by making one (qdrant-edge-py 0.9.0: ~52 MiB, the first
    pages of its preallocated files). The ballast is what a test deletes to "free some space" before
    it reopens the shard: on tmpfs an open fills the shard's holes (``sinks/disk_room.py``), ~330 MiB.
    tmpfs takes RAM only for what is written.
    """
    for mount_point in _tmpfs(tmp_path / "edge-disk", "768m"):
        before = shutil.disk_usage(mount_point).free
        with EdgeSink(mount_point / "probe", "media-items", 384, DENSE, SPARSE) as probe:
            probe.ensure_collection()
        shard_cost = before - shutil.disk_usage(mount_point).free
        shutil.rmtree(mount_point / "probe")
        _leave_free(mount_point, shard_cost + EDGE_HEADROOM + MARGIN)
        yield mount_point


@pytest.fixture(scope="module")
def points():
    return Embedder(bundled_models()).embed(catalogue()[:20])


def test_a_full_disk_under_embedded_qdrant_is_a_storage_error_naming_path_and_free_space(tiny_disk, points):
    path = tiny_disk / "qdrant"
    sink = QdrantSink(QdrantSettings(path=path), 384, DENSE, SPARSE)
    sink.connect()
    sink.ensure_collection()
    try:
        with pytest.raises(QdrantStorageError) as err:
            for _ in range(1000):  # 20 new points a round: the disk fills long before
                sink.upsert([dataclasses.replace(p, point_id=str(uuid.uuid4())) for p in points])
        message = str(err.value)
        assert str(path) in message and "no space left" in message and "MiB free" in message
    finally:
        sink.close()


def test_a_disk_filling_under_qdrant_edge_is_a_storage_error_not_a_sigbus(edge_disk, points):
    # Edge writes through mmap'd sparse files: without the headroom check the disk filling
    # kills the process with SIGBUS. This runs in the test process: a crash fails the run.
    path = edge_disk / "qdrant"
    sink = EdgeSink(path, "media-items", 384, DENSE, SPARSE)
    sink.connect()
    sink.ensure_collection()
    written = 0
    try:
        with pytest.raises(QdrantStorageError) as err:
            for _ in range(1000):  # 20 new points a round: a few rounds fill the margin
                sink.upsert([dataclasses.replace(p, point_id=str(uuid.uuid4())) for p in points])
                written += len(points)
        message = str(err.value)
        assert str(path) in message and "no space left" in message and "MiB free" in message
        assert "\n" not in message
    finally:
        sink.close()
    assert written > 0
    # Opening the shard on this full tmpfs would fill its holes: one line, not a SIGBUS.
    with pytest.raises(QdrantStorageError) as refused:
        EdgeSink(path, "media-items", 384, DENSE, SPARSE).connect()
    assert "tmpfs" in str(refused.value) and str(path) in str(refused.value) and "\n" not in str(refused.value)
    (edge_disk / BALLAST).unlink()  # the operator frees some space
    with EdgeSink(path, "media-items", 384, DENSE, SPARSE) as again:
        assert again.count() == written


class _FullQdrant(BaseHTTPRequestHandler):
    """Answers like a Qdrant server whose disk is full: reads work, writes get 500."""

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self._send(200, {"result": {"collections": []}, "status": "ok", "time": 0.0})

    def do_PUT(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        error = "Service internal error: No space left on device: WAL buffer size exceeds available disk space"
        self._send(500, {"status": {"error": error}, "time": 0.0})

    def log_message(self, *args):
        pass


def test_a_qdrant_server_with_a_full_disk_stops_the_run_instead_of_being_retried(points, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FullQdrant)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sink = QdrantSink(QdrantSettings(url=f"http://127.0.0.1:{server.server_port}"), 384, DENSE, SPARSE)
    try:
        sink.connect()
        with pytest.raises(QdrantStorageError, match="no space left on the server's disk"):
            sink.upsert(points[:2])
    finally:
        sink.close()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("engine", ["local", "edge"])
def test_a_load_onto_a_full_disk_exits_3_in_one_line_and_loses_nothing_reported_loaded(engine, tmp_path, request):
    disk = request.getfixturevalue("tiny_disk" if engine == "local" else "edge_disk")
    qdrant_path = disk / "qdrant"
    with DemoServer(DemoLibrary.generate(seed=5, size=300)) as demo:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PLEX_", "TMDB_", "QDRANT_"))}
        env.update(NO_PROXY="127.0.0.1,localhost", PLEX_LOADER_CONFIG_DIR=str(tmp_path / "config"))
        proc = subprocess.run(
            [sys.executable, "-m", "plex_loader_tui", "--no-ui", "--plex-url", demo.plex_url,
             "--plex-token", demo.token, "--tmdb-api-key", demo.tmdb_api_key, "--tmdb-base-url", demo.tmdb_url,
             "--imdb-base-url", demo.imdb_url, "--data-dir", str(tmp_path / "data"),
             "--qdrant-path", str(qdrant_path), "--embedded-store", engine],
            capture_output=True, text=True, env=env, cwd=REPO, timeout=600, check=False,
        )
    assert proc.returncode == ExitCode.FATAL, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and str(qdrant_path) in errors[0] and "MiB free" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr

    (state_db,) = (tmp_path / "data" / "state").glob("*.sqlite3")
    with sqlite3.connect(state_db) as conn:
        loaded = {row[0] for row in conn.execute("SELECT point_id FROM items WHERE status = 'loaded'")}
        failed = conn.execute("SELECT COUNT(*) FROM items WHERE status = 'failed'").fetchone()[0]
    assert loaded, "some batches fit before the disk filled"
    assert failed == 0, "a full disk is not the items' fault: no dead letters"
    if engine == "edge":
        (disk / BALLAST).unlink()  # free some space: opening the shard on tmpfs fills its holes
        with EdgeSink(qdrant_path, "media-items", 384, DENSE, SPARSE) as sink:
            stored = {str(r.id) for r in sink.retrieve(sorted(loaded))}
    else:
        client = QdrantClient(path=str(qdrant_path))
        try:
            stored = {str(r.id) for r in client.retrieve("media-items", ids=sorted(loaded))}
        finally:
            client.close()
    assert stored == loaded
